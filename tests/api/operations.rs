//! What operators expect around the dashboard: Prometheus metrics, access control, history,
//! failure groups, several instances.

use crate::support::html::{attrs, count, text, texts};
use crate::support::http::basic;
use crate::support::{http, Rq, Seeded, TestApp, TestRedis};
use rqdash::config::{Credentials, Settings};
use std::time::Duration;

fn metric(body: &str, line_prefix: &str) -> Option<f64> {
    body.lines()
        .find(|l| l.starts_with(line_prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_use_rq_exporter_names_and_cost_redis_nothing_extra() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    rq.seed(&redis.url());
    let _idle = rq.idle_worker(&redis.url(), "idle-q", "idle-worker");
    let mut c = redis.conn();
    redis.wait_field("rq:worker:idle-worker", "state", "idle");
    // The history's rounds read Redis on their own schedule: one at start, the next a minute
    // later.
    let mut s = Settings::for_url(&redis.url());
    s.history_interval = Duration::from_secs(60);
    let app = TestApp::spawn(s);
    redis.wait_history_started();
    std::thread::sleep(Duration::from_millis(300));
    app.json("/0/data/queues.json");
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    let r = app.get("/metrics");
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let body = r.text();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut c)
        .unwrap();
    assert!(
        !info
            .lines()
            .any(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_config")),
        "a scrape right after a page view reads nothing from Redis: {info}"
    );
    for family in [
        "# TYPE rq_workers gauge",
        "# TYPE rq_workers_success_total counter",
        "# TYPE rq_workers_failed_total counter",
        "# TYPE rq_workers_working_time_total counter",
        "# TYPE rq_jobs gauge",
        "# TYPE rq_queue_latency_seconds gauge",
        "# TYPE rq_workers_suspended gauge",
    ] {
        assert!(body.contains(family), "missing {family}:\n{body}");
    }
    assert_eq!(
        metric(&body, "rq_jobs{queue=\"default\",status=\"failed\"}"),
        Some(2.0)
    );
    assert_eq!(
        metric(&body, "rq_jobs{queue=\"default\",status=\"finished\"}"),
        Some(4.0)
    );
    assert_eq!(
        metric(&body, "rq_jobs{queue=\"a/b:c ünï\",status=\"queued\"}"),
        Some(2.0)
    );
    assert_eq!(
        metric(
            &body,
            "rq_workers{name=\"idle-worker\",state=\"idle\",queues=\"idle-q\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &body,
            "rq_workers_success_total{name=\"idle-worker\",queues=\"idle-q\"}"
        ),
        Some(0.0)
    );
    assert!(metric(&body, "rq_queue_latency_seconds{queue=\"default\"}").unwrap() >= 0.0);
    assert_eq!(metric(&body, "rq_workers_suspended"), Some(0.0));
    assert_eq!(metric(&body, "rqdash_redis_up"), Some(1.0));
}

fn with_auth(url: &str) -> Settings {
    let mut s = Settings::for_url(url);
    s.auth = Some(Credentials {
        username: "ops".into(),
        password: "s3cret".into(),
    });
    s.readonly_auth = Some(Credentials {
        username: "viewer".into(),
        password: "look".into(),
    });
    s
}

#[test]
fn a_read_only_credential_sees_pages_but_cannot_act() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let app = TestApp::spawn(with_auth(&redis.url()));
    let get = |path: &str, auth: &str| {
        http::request(
            "GET",
            &format!("{}{path}", app.address),
            &[("Authorization", auth)],
            None,
        )
    };
    let post = |path: &str, auth: &str| app.post(path, &[("Authorization", auth)]);
    let viewer = basic("viewer", "look");
    let ops = basic("ops", "s3cret");
    assert_eq!(
        get("/0/view/job/job-failed-1", &basic("viewer", "wrong")).status,
        401
    );
    let page = get("/0/view/job/job-failed-1", &viewer);
    assert_eq!(page.status, 200);
    let doc = scraper::Html::parse_document(&page.text());
    assert_eq!(count(&doc, "#job-actions"), 0, "no buttons for the viewer");
    let r = post("/0/job/job-failed-1/requeue", &viewer);
    assert_eq!(r.status, 403);
    assert!(r.text().contains("read-only credential"));
    // The overview rendered for the viewer has no buttons; the operator's has them.
    let v = scraper::Html::parse_document(&get("/0/view/queues", &viewer).text());
    let o = scraper::Html::parse_document(&get("/0/view/queues", &ops).text());
    assert_eq!(count(&v, "#overview-actions"), 0);
    assert_eq!(count(&o, "#overview-actions"), 1);
    assert_eq!(post("/0/job/job-failed-1/requeue", &ops).status, 200);
}

#[test]
fn a_trusted_proxy_header_names_the_user_and_probes_can_stay_open() {
    let redis = TestRedis::start();
    let mut s = Settings::for_url(&redis.url());
    s.auth_header = Some("X-Forwarded-User".into());
    s.trust_proxy = true;
    s.public_probes = true;
    let app = TestApp::spawn(s);
    assert_eq!(
        app.get("/0/data/queues.json").status,
        403,
        "no header: refused"
    );
    let r = http::request(
        "GET",
        &format!("{}/0/data/queues.json", app.address),
        &[("X-Forwarded-User", "alice")],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/healthz").status, 200, "public probes");
    assert_eq!(app.get("/metrics").status, 200, "public probes");
}

#[test]
fn the_password_can_come_from_a_file() {
    let redis = TestRedis::start();
    let file = redis.dir().join("pw");
    std::fs::write(&file, "from-file\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rqdash"))
        .args(["--username", "ops", "--password-file"])
        .arg(&file)
        .args(["--healthcheck", "-p", "1"])
        .output()
        .unwrap();
    // Nothing listens on port 1: the settings were valid (no exit 2), the check failed (exit 1).
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli = <rqdash::config::Cli as clap::Parser>::parse_from([
        "rqdash",
        "--username",
        "ops",
        "--password-file",
        file.to_str().unwrap(),
    ]);
    let s = Settings::from_cli(cli).unwrap();
    assert_eq!(s.auth.unwrap().password, "from-file");
}

#[test]
fn failures_are_grouped_by_exception_and_a_group_can_be_requeued() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    rq.seed(&redis.url());
    for msg in [
        "timeout after 5 s on 10.0.0.7",
        "timeout after 31 s on 10.0.0.9",
        "timeout after 2 s on 10.0.0.1",
    ] {
        let mut c = std::process::Command::new(
            env!("CARGO_MANIFEST_DIR").to_string() + "/.venv/rq-2.12.0/bin/python",
        );
        c.arg(env!("CARGO_MANIFEST_DIR").to_string() + "/tests/py/rqfixture.py")
            .args([
                "enqueue",
                "--url",
                &redis.url(),
                "--queue",
                "default",
                "--func",
                "fail",
                "--args",
                msg,
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR").to_string() + "/tests/py");
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        assert!(c.output().unwrap().status.success());
    }
    rq.burst(&redis.url(), &["default"]);
    let app = TestApp::for_redis(&redis.url());
    let doc = app.html("/0/view/failures/default");
    let fps = attrs(
        &doc,
        "#failure-groups tr[data-fingerprint]",
        "data-fingerprint",
    );
    assert!(
        fps.contains(&"ValueError: timeout after # s on #.#.#.#".to_string()),
        "{fps:?}"
    );
    let counts = texts(&doc, "#failure-groups td.count");
    assert!(counts.contains(&"3".to_string()), "{counts:?}");
    assert_eq!(fps.len(), 3, "three different problems: {fps:?}");
    // The failed list links here.
    assert_eq!(
        attrs(
            &app.html("/0/view/jobs/default/failed/8/asc/1"),
            "#group-link",
            "href"
        ),
        vec!["/0/view/failures/default"]
    );
    // Requeue that group: exactly its three jobs leave the failed registry.
    let key = rqdash::rq::failure_groups::key_of("ValueError: timeout after # s on #.#.#.#");
    let v = app.act(&format!("/0/failures/default/{key}/requeue"));
    assert_eq!(v["count"], 3);
    let left = app.json("/0/data/jobs/default/failed/50/asc/1.json");
    assert_eq!(left["total_items"], 2, "the two seeded failures remain");
}

#[test]
fn the_overview_shows_history_charts_redis_info_and_all_instances() {
    let a = Seeded::new("2.12.0");
    let b = TestRedis::start();
    Rq::new("1.16.2").enqueue(&b.url(), "other", 1);
    let mut s = Settings::for_url(&a.redis.url());
    s.redis.extend(Settings::for_url(&b.url()).redis);
    s.poll_interval = Duration::from_millis(1000);
    s.snapshot_ttl = Duration::from_millis(900);
    let app = TestApp::spawn(s);
    // The sampler records a point every poll interval; the charts show its latest values.
    crate::support::wait_for(Duration::from_secs(10), "a history point", || {
        let doc = app.html("/0/view/queues");
        let latest = texts(&doc, ".charts figcaption strong");
        (count(&doc, ".charts figure.chartbox") == 4
            && latest.get(2).map(String::as_str) == Some("4"))
        .then_some(())
    });
    let doc = app.html("/0/view/queues");
    assert!(
        text(&doc, "#redis-info").starts_with("Redis 7"),
        "{}",
        text(&doc, "#redis-info")
    );
    assert!(
        text(&doc, "footer").contains("· Redis 7"),
        "{}",
        text(&doc, "footer")
    );
    assert_eq!(
        count(
            &app.html("/0/view/jobs/default/queued/8/asc/1"),
            ".charts figure.chartbox"
        ),
        4
    );
    let all = app.html("/all");
    assert_eq!(count(&all, "section.instance-block"), 2);
    assert_eq!(
        count(
            &all,
            "section[data-instance=\"1\"] tr[data-queue=\"other\"]"
        ),
        1
    );
    assert_eq!(
        count(
            &all,
            "section[data-instance=\"0\"] tr[data-queue=\"default\"]"
        ),
        1
    );
}
