//! Bad input and a missing Redis get a clear answer with the right status.

use crate::support::html::text;
use crate::support::{Seeded, TestApp, TestRedis};

#[test]
fn an_unknown_job_is_a_404_in_json_and_html() {
    let env = Seeded::new("2.12.0");
    let r = env.app.get("/0/data/job/nope.json");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["status"], "error");
    assert!(r.json()["message"].as_str().unwrap().contains("nope"));
    let r = env.app.get("/0/view/job/nope");
    assert_eq!(r.status, 404);
    let doc = scraper::Html::parse_document(&r.text());
    assert!(text(&doc, "#error-message").contains("no job with id “nope”"));
}

#[test]
fn bad_list_parameters_are_400_with_a_message() {
    let env = Seeded::new("2.12.0");
    for (path, needle) in [
        (
            "/0/data/jobs/default/bogus/8/asc/1.json",
            "unknown registry",
        ),
        (
            "/0/data/jobs/default/failed/8/sideways/1.json",
            "invalid order",
        ),
        (
            "/0/data/jobs/default/failed/0/asc/1.json",
            "invalid page size",
        ),
        (
            "/0/data/jobs/default/failed/501/asc/1.json",
            "invalid page size",
        ),
        (
            "/0/data/jobs/default/failed/x/asc/1.json",
            "invalid page size",
        ),
        ("/0/data/jobs/default/failed/8/asc/0.json", "invalid page"),
        ("/0/data/jobs/default/failed/8/asc/-1.json", "invalid page"),
    ] {
        let r = env.app.get(path);
        assert_eq!(r.status, 400, "{path}");
        assert!(
            r.json()["message"].as_str().unwrap().contains(needle),
            "{path}: {}",
            r.text()
        );
        let html_path = path.replace("/data/", "/view/").replace(".json", "");
        let r = env.app.get(&html_path);
        assert_eq!(r.status, 400, "{html_path}");
        assert!(r.text().contains(needle), "{html_path}");
    }
}

#[test]
fn an_unknown_instance_is_a_404() {
    let env = Seeded::new("2.12.0");
    for path in [
        "/1/data/queues.json",
        "/7/view/queues",
        "/abc/view/workers",
        "/1/view/job/x",
    ] {
        assert_eq!(env.app.get(path).status, 404, "{path}");
    }
    assert!(env.app.get("/1/data/queues.json").json()["message"]
        .as_str()
        .unwrap()
        .contains("no Redis instance #1"));
}

#[test]
fn redis_down_gives_503_with_a_reason_and_health_says_so() {
    let mut redis = TestRedis::start();
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.snapshot_ttl = std::time::Duration::ZERO;
    let app = TestApp::spawn(s);
    assert_eq!(app.get("/healthz").status, 200);
    assert_eq!(app.get("/0/data/queues.json").status, 200);
    redis.stop();
    let r = app.get("/healthz");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("redis"));
    let r = app.get("/0/data/queues.json");
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("cannot reach redis"));
    let r = app.get("/0/view/queues");
    assert_eq!(r.status, 503);
    let doc = scraper::Html::parse_document(&r.text());
    assert!(text(&doc, "#error-message").contains("cannot reach redis"));
    let r = app.get("/0/fragments/overview");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("role=\"alert\""));
}

#[test]
fn a_redis_that_was_never_up_is_reported_not_hung() {
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::for_redis(&format!("redis://127.0.0.1:{port}/0"));
    assert_eq!(app.get("/healthz").status, 503);
    assert_eq!(app.get("/0/view/queues").status, 503);
}

#[test]
fn an_unknown_path_is_a_plain_404() {
    let env = Seeded::new("2.12.0");
    assert_eq!(env.app.get("/nope/nope/nope/nope").status, 404);
    assert_eq!(env.app.get("/static/nope.js").status, 404);
    assert_eq!(env.app.get("/static/app.css").status, 200);
}

#[test]
fn several_instances_each_show_their_own_redis_and_a_password_is_masked() {
    let a = Seeded::new("2.12.0");
    let b = TestRedis::start_with(&["--requirepass", "s3cret"]);
    crate::support::Rq::new("2.12.0").enqueue(&b.url(), "only-in-b", 3);
    let mut settings = rqdash::config::Settings::for_url(&a.redis.url());
    let extra = rqdash::config::Settings::for_url(&b.url());
    settings.redis.extend(extra.redis);
    let app = TestApp::spawn(settings);
    let names = |n: usize| -> Vec<String> {
        app.json(&format!("/{n}/data/queues.json"))["queues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(names(0).contains(&"default".to_string()));
    assert_eq!(names(1), vec!["only-in-b"]);
    let body = app.get("/1/view/queues").text();
    assert!(!body.contains("s3cret"), "the password never shows");
    let doc = scraper::Html::parse_document(&body);
    assert_eq!(crate::support::html::count(&doc, ".instances li a"), 2);
    assert!(text(&doc, ".instances summary").contains("***"));
}
