//! Actions are refused when they should be, with a clear status and message.

use crate::support::{Rq, Seeded, TestApp, TestRedis};

fn status_of(env: &Seeded, id: &str) -> String {
    env.app.json(&format!("/0/data/job/{id}.json"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn cross_site_posts_are_refused() {
    let env = Seeded::new("2.12.0");
    let host = env.app.address.trim_start_matches("http://").to_string();
    for headers in [
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Sec-Fetch-Site", "same-site")],
        vec![("Origin", "http://evil.example")],
        vec![("X-CSRF-Token", "not-the-token")],
    ] {
        let r = env.app.post("/0/job/job-failed-1/requeue", &headers);
        assert_eq!(r.status, 403, "{headers:?}: {}", r.text());
        assert_eq!(
            status_of(&env, "job-failed-1"),
            "failed",
            "{headers:?}: nothing changed"
        );
    }
    // The dashboard's own pages: same-origin.
    let origin = format!("http://{host}");
    let r = env.app.post(
        "/0/job/job-failed-1/requeue",
        &[("Sec-Fetch-Site", "same-origin"), ("Origin", &origin)],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(status_of(&env, "job-failed-1"), "queued");
    let r = env
        .app
        .post("/0/job/job-failed-2/requeue", &[("Origin", &origin)]);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn get_never_acts() {
    let env = Seeded::new("2.12.0");
    for path in [
        "/0/job/job-failed-1/requeue",
        "/0/job/job-failed-1/delete",
        "/0/suspend",
        "/0/queue/default/failed/empty",
    ] {
        let r = env.app.get(path);
        assert_eq!(r.status, 404, "GET {path}: {}", r.text());
    }
    assert_eq!(status_of(&env, "job-failed-1"), "failed");
}

/// rq-dashboard's `GET /requeue/<queue>`: scripts written for it and this dashboard's own origin
/// may use it; a link, an image or a prefetch from another site may not.
#[test]
fn requeue_by_get_serves_scripts_and_this_origin_never_another_site() {
    let env = Seeded::new("2.12.0");
    let get = |path: &str, headers: &[(&str, &str)]| {
        crate::support::http::request("GET", &format!("{}{path}", env.app.address), headers, None)
    };
    let host = env.app.address.trim_start_matches("http://").to_string();
    let origin = format!("http://{host}");
    let elsewhere = [
        vec![
            ("Sec-Fetch-Site", "cross-site"),
            ("Sec-Fetch-Dest", "image"),
        ],
        vec![
            ("Sec-Fetch-Site", "same-site"),
            ("Sec-Fetch-Mode", "navigate"),
        ],
        vec![("Origin", "http://evil.example")],
        vec![("Referer", "http://evil.example/page.html")],
        vec![("Sec-Purpose", "prefetch")],
    ];
    for headers in &elsewhere {
        let r = get("/requeue/default", headers);
        assert_eq!(r.status, 403, "{headers:?}: {}", r.text());
        assert_eq!(r.json()["error"], "forbidden", "{headers:?}");
        assert_eq!(status_of(&env, "job-failed-1"), "failed", "{headers:?}");
    }
    // A script, as with rq-dashboard: no browser headers, no token.
    let r = get("/requeue/default", &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "OK");
    assert_eq!(status_of(&env, "job-failed-1"), "queued");
    assert_eq!(status_of(&env, "job-failed-2"), "queued");
    // An unknown queue: 404 with a machine code, as rq-dashboard's newest answers.
    let r = get("/requeue/no-such-queue", &[]);
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json()["error"], "queue_not_found");
    // The dashboard's own origin (a URL typed into the address bar says `none`).
    let self_referer = format!("{origin}/0/view/queues");
    for headers in [
        vec![
            ("Sec-Fetch-Site", "same-origin"),
            ("Referer", self_referer.as_str()),
        ],
        vec![("Sec-Fetch-Site", "none")],
        vec![("Referer", self_referer.as_str())],
    ] {
        let r = get("/requeue/default", &headers);
        assert_eq!(r.status, 200, "{headers:?}: {}", r.text());
    }
    // The audit trail has the two requeues that ran and the five refusals.
    let audit = env.app.json("/0/data/audit.json");
    let text = audit.to_string();
    assert!(text.contains("evil.example"), "{text}");
}

#[test]
fn read_only_refuses_every_action_on_the_server() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.read_only = true;
    let app = TestApp::spawn(s);
    for path in [
        "/0/job/job-failed-1/requeue",
        "/0/job/job-queued-1/cancel",
        "/0/job/job-finished-1/delete",
        "/requeue/default",
        "/0/queue/default/queued/empty",
        "/0/suspend",
        "/0/jobs/requeue?ids=job-failed-1",
    ] {
        let r = app.post(path, &[]);
        assert_eq!(r.status, 403, "{path}");
        if path == "/requeue/default" {
            let r = app.get(path);
            assert_eq!((r.status, &r.json()["status"]), (403, &"DISABLED".into()));
        }
        assert_eq!(r.json()["status"], "DISABLED", "{path}");
        assert!(r.json()["message"]
            .as_str()
            .unwrap()
            .contains("--read-only"));
    }
    // And no buttons are offered.
    let doc = app.html("/0/view/job/job-failed-1");
    assert_eq!(crate::support::html::count(&doc, "#job-actions"), 0);
    assert_eq!(
        app.json("/0/data/job/job-failed-1.json")["status"],
        "failed"
    );
}

#[test]
fn disable_delete_refuses_destructive_actions_only() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.disable_delete = true;
    let app = TestApp::spawn(s);
    for path in [
        "/0/job/job-finished-1/delete",
        "/0/queue/default/queued/empty",
        "/0/queue/default/failed/empty",
        "/0/queue/default/compact",
        "/0/jobs/delete?ids=job-finished-1",
    ] {
        let r = app.post(path, &[]);
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(r.json()["status"], "DISABLED");
    }
    app.act("/0/job/job-failed-1/requeue");
    assert_eq!(
        app.json("/0/data/job/job-finished-1.json")["status"],
        "finished"
    );
    let doc = app.html("/0/view/job/job-finished-1");
    assert!(
        !crate::support::html::texts(&doc, "#job-actions button").contains(&"Delete".to_string())
    );
}

#[test]
fn unknown_jobs_queues_and_wrong_states_get_clear_answers() {
    let env = Seeded::new("2.12.0");
    let r = env.app.post("/0/job/nope/requeue", &[]);
    assert_eq!(r.status, 404);
    assert!(r.json()["message"].as_str().unwrap().contains("nope"));
    let r = env.app.post("/requeue/no-such-queue", &[]);
    assert_eq!(r.status, 404);
    let r = env.app.post("/0/queue/no-such-queue/queued/empty", &[]);
    assert_eq!(r.status, 404);
    let r = env.app.post("/0/job/job-finished-1/requeue", &[]);
    assert_eq!(r.status, 409);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("only failed jobs"));
    let r = env.app.post("/0/job/job-finished-1/cancel", &[]);
    assert_eq!(r.status, 409);
    let r = env.app.post("/0/job/job-queued-1/stop", &[]);
    assert_eq!(r.status, 409);
    let r = env.app.post("/0/queue/default/started/empty", &[]);
    assert_eq!(r.status, 400);
    let r = env.app.post("/0/queue/default/remove", &[]);
    assert_eq!(r.status, 409, "a queue with jobs is not removed");
    let r = env.app.post("/0/worker/nobody/shutdown", &[]);
    assert_eq!(r.status, 404);
    let r = env.app.post("/3/job/job-failed-1/requeue", &[]);
    assert_eq!(r.status, 404);
}

#[test]
fn an_action_on_instance_1_never_touches_instance_0() {
    let a = TestRedis::start();
    let b = TestRedis::start();
    let rq = Rq::new("2.12.0");
    rq.seed(&a.url());
    rq.seed(&b.url());
    let mut s = rqdash::config::Settings::for_url(&a.url());
    s.redis
        .extend(rqdash::config::Settings::for_url(&b.url()).redis);
    let app = TestApp::spawn(s);
    app.act("/1/job/job-failed-1/delete");
    app.act("/1/queue/default/queued/empty");
    assert_eq!(app.get("/1/data/job/job-failed-1.json").status, 404);
    assert_eq!(
        app.json("/0/data/job/job-failed-1.json")["status"],
        "failed"
    );
    let q0 = app.json("/0/data/queues.json");
    let q1 = app.json("/1/data/queues.json");
    let count = |v: &serde_json::Value| {
        v["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["name"] == "default")
            .unwrap()["count"]
            .clone()
    };
    assert_eq!(count(&q0), 2);
    assert_eq!(count(&q1), 0);
}

#[test]
fn selected_rows_are_acted_on_with_exact_counts() {
    let env = Seeded::new("2.12.0");
    let v = env
        .app
        .act("/0/jobs/requeue?ids=job-failed-1&ids=job-failed-2&ids=job-finished-1&ids=ghost");
    assert_eq!(v["count"], 2);
    assert_eq!(v["skipped"], 1);
    assert_eq!(v["missing"], 1);
    assert_eq!(status_of(&env, "job-failed-2"), "queued");
}

#[test]
fn stop_and_worker_commands_reach_a_real_worker() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let _busy = rq.busy_worker(&redis.url(), "busy", "job-busy");
    redis.wait_field("rq:job:job-busy", "status", "started");
    let app = TestApp::for_redis(&redis.url());
    app.act("/0/job/job-busy/stop");
    // RQ's worker kills the horse: the job ends stopped, in the failed registry.
    crate::support::wait_for(
        std::time::Duration::from_secs(30),
        "the job to stop",
        || {
            let s = app.json("/0/data/job/job-busy.json")["status"]
                .as_str()?
                .to_string();
            (s == "stopped").then_some(())
        },
    );
    let failed = app.json("/0/data/jobs/busy/failed/8/asc/1.json");
    assert_eq!(failed["jobs"][0]["id"], "job-busy");
    // Then a warm shutdown: the worker leaves.
    app.act("/0/worker/busy-worker/shutdown");
    crate::support::wait_for(
        std::time::Duration::from_secs(30),
        "the worker to leave",
        || {
            (app.json("/0/data/workers.json")["workers"]
                .as_array()?
                .is_empty())
            .then_some(())
        },
    );
}
