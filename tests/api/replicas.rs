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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Clicks the first action button of the job page, confirms, and waits for the new status.
fn requeue_on_page(browser: &crate::support::browser::Browser, id: &str) {
    browser.click("#job-actions form.act:first-of-type button");
    crate::support::wait_for(
        std::time::Duration::from_secs(10),
        "the confirmation",
        || browser.dialog_text(),
    );
    browser.accept_dialog();
    crate::support::wait_for(
        std::time::Duration::from_secs(15),
        &format!("{id} to show as queued"),
        || (browser.text("#job-status").as_deref() == Some("queued")).then_some(()),
    );
}

#[test]
fn behind_a_round_robin_nginx_actions_tasks_and_a_rolling_restart_keep_working() {
    use crate::support::browser::Browser;
    use crate::support::nginx::Nginx;
    use std::time::Duration;

    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.make_jobs(&url, "r", 5, "r-", true);
    rq.make_jobs(&url, "big", 150_000, "big-", true);
    let (pa, pb) = (free_port(), free_port());
    let settings = || {
        let mut s = rqdash::config::Settings::for_url(&url);
        s.secret_key = Some(rqdash::config::Secret(SECRET.to_string()));
        s.poll_interval = Duration::from_millis(1000);
        s
    };
    let mut a = Some(TestApp::spawn_on(settings(), pa));
    let mut b = Some(TestApp::spawn_on(settings(), pb));
    // Round robin over both, each request to the next replica; one that refuses connections
    // (restarting) is skipped.
    let nginx = Nginx::start_with(
        &format!(
            " log_format up '$request_method $uri $status $upstream_addr';\n \
             upstream dash {{ server 127.0.0.1:{pa} max_fails=0; server 127.0.0.1:{pb} max_fails=0; }}"
        ),
        "  access_log {dir}/access.log up;\n  location / { proxy_pass http://dash; proxy_next_upstream error timeout; }",
    );
    let browser = Browser::start();

    // Every action succeeds whichever replica rendered the page and whichever answers.
    for i in 0..4 {
        let id = format!("r-{i}");
        browser.goto(&format!("{}/0/view/job/{id}", nginx.address));
        assert_eq!(browser.text("#job-status").as_deref(), Some("failed"));
        requeue_on_page(&browser, &id);
    }

    // A bulk task started through one replica is followed and stopped through the others.
    browser.goto(&format!("{}/0/view/jobs/big/failed/8/asc/1", nginx.address));
    browser.click("form.act[action$=\"/requeue/big\"] button");
    crate::support::wait_for(Duration::from_secs(10), "the confirmation", || {
        browser.dialog_text()
    });
    browser.accept_dialog();
    crate::support::wait_for(Duration::from_secs(20), "the task page", || {
        let done = browser.eval(
            "const c = document.querySelector('#task-counts strong'); return c ? Number(c.textContent) : -1;",
        );
        (done.as_i64().unwrap_or(-1) > 0).then_some(())
    });
    browser.click("#task form button.danger");
    crate::support::wait_for(Duration::from_secs(10), "the stop confirmation", || {
        browser.dialog_text()
    });
    browser.accept_dialog();
    let state = crate::support::wait_for(Duration::from_secs(30), "the task to stop", || {
        let s = browser.eval("return document.querySelector('#task').dataset.state;");
        (s != "running").then_some(s)
    });
    assert_eq!(state, "cancelled");
    browser.screenshot(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target/screenshots/replicas-task-stopped.png"),
    );

    // A rolling restart, one replica then the other, under an open page.
    browser.goto(&format!("{}/0/view/job/r-4", nginx.address));
    browser.eval("window.__open = 1; return null;");
    drop(a.take());
    a = Some(TestApp::spawn_on(settings(), pa));
    std::thread::sleep(Duration::from_secs(2));
    drop(b.take());
    b = Some(TestApp::spawn_on(settings(), pb));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        browser.eval("return window.__open || 0;"),
        1,
        "the page was not reloaded"
    );
    requeue_on_page(&browser, "r-4");

    // Both replicas answered actions.
    let log = nginx.file("access.log");
    let posts: Vec<&str> = log.lines().filter(|l| l.starts_with("POST ")).collect();
    for p in [pa, pb] {
        assert!(
            posts
                .iter()
                .any(|l| l.ends_with(&format!(" 127.0.0.1:{p}")) && l.contains(" 200 ")),
            "no action answered by the replica on {p}: {posts:#?}"
        );
    }
    for l in &posts {
        let status = l.split(' ').nth(2).unwrap_or("");
        assert!(status == "200" || status == "202", "a refused action: {l}");
    }
    drop((a, b));
}
