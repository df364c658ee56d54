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

fn failed_count(app: &TestApp, queue: &str) -> u64 {
    app.json("/0/data/queues.json")["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == queue)
        .map_or(0, |q| q["failed_job_registry_count"].as_u64().unwrap())
}

#[test]
fn a_bulk_task_started_on_one_replica_is_followed_and_stopped_on_another() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").make_jobs(&redis.url(), "big", 150_000, "b-", true);
    let a = replica(&redis, Some(SECRET));
    let b = replica(&redis, Some(SECRET));
    let r = a.post("/0/requeue/big", &[]);
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["task"].as_u64().unwrap();
    // B shows its progress ...
    let seen = crate::support::wait_for(
        std::time::Duration::from_secs(30),
        "B to see progress",
        || {
            let t = b.json(&format!("/0/data/tasks/{id}.json"));
            (t["done"].as_u64().unwrap_or(0) > 0).then_some(t)
        },
    );
    assert_eq!(seen["state"], "running");
    assert_eq!(seen["total"], 150_000);
    // ... and stops it.
    let r = b.post(&format!("/0/tasks/{id}/cancel"), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let end = crate::support::wait_for(
        std::time::Duration::from_secs(30),
        "the task to stop",
        || {
            let t = a.json(&format!("/0/data/tasks/{id}.json"));
            (t["state"] != "running").then_some(t)
        },
    );
    assert_eq!(end["state"], "cancelled", "{end}");
    let done = end["done"].as_u64().unwrap();
    assert!(done < 150_000, "it stopped before the end: {end}");
    // Both agree (B reads the final record A saves as the task ends), and what was done is
    // exactly what left the failed registry.
    let on_b = crate::support::wait_for(
        std::time::Duration::from_secs(10),
        "B to read the final record",
        || {
            let t = b.json(&format!("/0/data/tasks/{id}.json"));
            (t["state"] == "cancelled").then_some(t)
        },
    );
    assert_eq!(on_b["done"], done);
    assert_eq!(failed_count(&b, "big"), 150_000 - done);
}

#[test]
fn a_task_whose_replica_died_shows_as_interrupted_and_resumes_elsewhere() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").make_jobs(&redis.url(), "big", 150_000, "c-", true);
    let a = replica(&redis, Some(SECRET));
    let b = replica(&redis, Some(SECRET));
    let id = a.post("/0/requeue/big", &[]).json()["task"]
        .as_u64()
        .unwrap();
    crate::support::wait_for(std::time::Duration::from_secs(30), "progress", || {
        (b.json(&format!("/0/data/tasks/{id}.json"))["done"]
            .as_u64()
            .unwrap_or(0)
            > 0)
        .then_some(())
    });
    // Replica A goes away mid-task.
    drop(a);
    let t = crate::support::wait_for(
        std::time::Duration::from_secs(60),
        "the task to show as interrupted",
        || {
            let t = b.json(&format!("/0/data/tasks/{id}.json"));
            assert_ne!(
                t["state"], "finished",
                "it finished before A went away: {t}"
            );
            (t["state"] == "interrupted").then_some(t)
        },
    );
    assert_eq!(t["resumable"], true, "{t}");
    let page = b.html(&format!("/0/tasks/{id}"));
    assert_eq!(crate::support::html::count(&page, "#task-interrupted"), 1);
    // B resumes it; the rest is done, nothing twice.
    let r = b.post(&format!("/0/tasks/{id}/resume"), &[]);
    assert!(
        r.status == 200 || r.status == 202,
        "{} {}",
        r.status,
        r.text()
    );
    crate::support::wait_for(std::time::Duration::from_secs(120), "the rest", || {
        (failed_count(&b, "big") == 0).then_some(())
    });
    redis.assert_queued_once("big", 150_000);
}
