//! Several replicas on one Redis: with a shared `--secret-key`, each accepts the forms and live
//! updates of the others, and a restart keeps open pages working.

use crate::support::html::attrs;
use crate::support::{Rq, TestApp, TestRedis};

const SECRET: &str = "a-shared-secret-for-the-replicas";

fn token(app: &TestApp) -> String {
    attrs(
        &app.html("/0/view/queues"),
        "meta[name=csrf-token]",
        "content",
    )[0]
    .clone()
}

fn requeue_with(app: &TestApp, token: &str, id: &str) -> u16 {
    app.post(
        &format!("/0/job/{id}/requeue"),
        &[("Sec-Fetch-Site", "same-origin"), ("X-CSRF-Token", token)],
    )
    .status
}

fn replica(redis: &TestRedis, secret: Option<&str>) -> TestApp {
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.secret_key = secret.map(|k| rqdash::config::Secret(k.to_string()));
    TestApp::spawn(s)
}

#[test]
fn replicas_sharing_a_secret_accept_each_others_forms_and_survive_restarts() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let a = replica(&redis, Some(SECRET));
    let b = replica(&redis, Some(SECRET));
    let from_a = token(&a);
    assert_eq!(from_a, token(&b));
    assert_eq!(requeue_with(&b, &from_a, "job-failed-1"), 200);
    // A rolling restart: the page A rendered still works against the new process.
    drop(a);
    let a2 = replica(&redis, Some(SECRET));
    assert_eq!(requeue_with(&a2, &from_a, "job-failed-2"), 200);
}

#[test]
fn without_a_shared_secret_each_replica_refuses_the_others_forms() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let a = replica(&redis, None);
    let b = replica(&redis, None);
    let from_a = token(&a);
    assert_ne!(from_a, token(&b));
    let r = b.post(
        "/0/job/job-failed-1/requeue",
        &[("Sec-Fetch-Site", "same-origin"), ("X-CSRF-Token", &from_a)],
    );
    assert_eq!(r.status, 403);
    assert!(r.text().contains("stale or wrong"));
    // A different secret is no better.
    let c = replica(&redis, Some("another-secret-of-enough-length"));
    assert_eq!(
        requeue_with(&c, &token(&replica(&redis, Some(SECRET))), "job-failed-1"),
        403
    );
}
