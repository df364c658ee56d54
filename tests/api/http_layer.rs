//! The shared HTTP layer: HEAD on every GET route, every refusal and outage with its own status
//! and title, and bulk task ids that never repeat.

use crate::support::html::text;
use crate::support::{Rq, Seeded, TestApp, TestRedis};

const BROWSER: (&str, &str) = ("Accept", "text/html,application/xhtml+xml");

#[test]
fn every_get_route_answers_head_like_get() {
    let env = Seeded::new("2.12.0");
    for path in [
        "/",
        "/0",
        "/0/view/queues",
        "/0/fragments/overview",
        "/0/data/queues.json",
        "/0/view/workers",
        "/0/fragments/workers",
        "/0/data/workers.json",
        "/0/view/jobs/default/failed/8/asc/1",
        "/0/fragments/jobs/default/failed/8/asc/1",
        "/0/data/jobs/default/failed/8/asc/1.json",
        "/0/view/job/job-failed-1",
        "/0/data/job/job-failed-1.json",
        "/0/view/failures/default",
        "/0/view/job/nope",
        "/all",
        "/healthz",
        "/metrics",
        "/static/app.css",
        "/favicon.ico",
    ] {
        let get = env.app.get(path);
        let head = env.app.head(path);
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert_ne!(head.status, 405, "HEAD {path}");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "HEAD {path}"
        );
        assert!(head.body.is_empty(), "HEAD {path} sent a body");
    }
    // A redirect is a redirect either way.
    assert_eq!(env.app.head("/0/jump?job_id=job-failed-1").status, 303);
}

fn page_title(r: &crate::support::http::Response) -> String {
    let doc = scraper::Html::parse_document(&r.text());
    text(&doc, "title")
}

#[test]
fn refusals_and_conflicts_keep_their_own_status_and_title() {
    let env = Seeded::new("2.12.0");
    // 403: cross-site.
    let r = env.app.post(
        "/0/job/job-failed-1/requeue",
        &[("Sec-Fetch-Site", "cross-site"), BROWSER],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(page_title(&r).starts_with("Refused"), "{}", page_title(&r));
    let r = env.app.post(
        "/0/job/job-failed-1/requeue",
        &[("Sec-Fetch-Site", "cross-site")],
    );
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (403, Some("forbidden"))
    );
    // 409: a queued job cannot be requeued.
    let r = env.app.post("/0/job/job-queued-1/requeue", &[BROWSER]);
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        page_title(&r).starts_with("Not possible now"),
        "{}",
        page_title(&r)
    );
    let r = env.app.post("/0/job/job-queued-1/requeue", &[]);
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["error"], "conflict");
    assert_eq!(r.json()["title"], "Not possible now");
    // htmx gets the sentence in an alert banner, with the same status.
    let r = env
        .app
        .post("/0/job/job-queued-1/requeue", &[("HX-Request", "true")]);
    assert_eq!(r.status, 409);
    let doc = scraper::Html::parse_document(&r.text());
    assert!(text(&doc, "p.banner.error[role=alert]").contains("only failed jobs"));
}

#[test]
fn a_disabled_action_is_403_action_disabled() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.disable_delete = true;
    let app = TestApp::spawn(s);
    let r = app.post("/0/job/job-finished-1/delete", &[BROWSER]);
    assert_eq!(r.status, 403);
    assert!(
        page_title(&r).starts_with("Action disabled"),
        "{}",
        page_title(&r)
    );
    let r = app.post("/0/job/job-finished-1/delete", &[]);
    assert_eq!(r.json()["status"], "DISABLED");
}

#[test]
fn actions_and_bulk_tasks_cut_off_by_redis_answer_503_not_500() {
    let mut redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.redis_timeout = std::time::Duration::from_millis(500);
    s.snapshot_ttl = std::time::Duration::ZERO;
    let app = TestApp::spawn(s);
    assert_eq!(app.get("/0/data/queues.json").status, 200);
    redis.stop();
    for path in [
        "/0/requeue/default",
        "/0/requeue-all",
        "/0/job/job-failed-1/requeue",
        "/0/queue/default/failed/empty",
        "/0/jobs/requeue?ids=job-failed-1",
        "/0/suspend",
    ] {
        let r = app.post(path, &[]);
        assert!(
            r.status == 503 || r.status == 504,
            "{path}: {} {}",
            r.status,
            r.text()
        );
        assert!(
            r.json()["error"]
                .as_str()
                .is_some_and(|t| t == "redis_unavailable" || t == "redis_timeout"),
            "{path}: {}",
            r.text()
        );
        let r = app.post(path, &[BROWSER]);
        assert!(r.status == 503 || r.status == 504, "{path}");
        assert!(
            page_title(&r).starts_with("Redis"),
            "{path}: {}",
            page_title(&r)
        );
    }
}

#[test]
fn bulk_task_ids_never_repeat_across_restarts() {
    let env = Seeded::new("2.12.0");
    let first = env.app.post("/0/queue/default/clean", &[]);
    assert_eq!(first.status, 200, "{}", first.text());
    let id = first.json()["task"].as_u64().unwrap();
    // A second dashboard on the same Redis, as after a restart.
    let other = TestApp::for_redis(&env.redis.url());
    let second = other.post("/0/queue/default/clean", &[]);
    let id2 = second.json()["task"].as_u64().unwrap();
    assert_ne!(id, id2);
    // The old progress link still shows the old task (its record is shared), never the new one.
    let old = other.json(&format!("/0/data/tasks/{id}.json"));
    assert_eq!(old["id"].as_u64(), Some(id));
    assert_eq!(
        other.json(&format!("/0/data/tasks/{id2}.json"))["id"].as_u64(),
        Some(id2)
    );
}
