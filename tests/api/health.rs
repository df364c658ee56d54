//! "What's wrong now": health rules on data written by real RQ, each problem planted for real,
//! with a healthy queue beside them that must stay quiet.

use serde_json::Value;
use std::time::Duration;

use crate::support::html::{attrs, count};
use crate::support::{wait_for, Rq, TestApp, TestRedis};

fn problems(app: &TestApp) -> Vec<Value> {
    app.json("/0/data/health.json")["problems"]
        .as_array()
        .unwrap()
        .clone()
}

/// Sets Redis's `maxmemory-policy`.
fn set_eviction(redis: &TestRedis, policy: &str) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg(policy)
        .query(&mut redis.conn())
        .unwrap();
}

fn has(ps: &[Value], rule: &str, queue: Option<&str>) -> bool {
    ps.iter().any(|p| {
        p["rule"] == rule
            && match queue {
                Some(q) => p["queue"] == q,
                None => true,
            }
    })
}

#[test]
fn planted_problems_are_reported_and_a_healthy_queue_is_not() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    // A worker with the scheduler serves "sched"; "no-scheduler" has an overdue scheduled job.
    let worker = rq.scheduler_worker(&redis.url(), &["sched"], "healthy-w");
    let orphan = worker.ready()["orphan_queue"].as_str().unwrap().to_string();
    // Jobs in a queue nobody listens to, and in the served one.
    rq.enqueue(&redis.url(), "nobody-listens", 2);
    // A cron scheduler that stopped sending heartbeats.
    rq.stale_cron(&redis.url(), 600);
    // A Redis that evicts keys under memory pressure.
    set_eviction(&redis, "allkeys-lru");
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.thresholds.oldest_queued_secs = 1;
    s.snapshot_ttl = Duration::ZERO;
    let app = TestApp::spawn(s);
    let ps = wait_for(Duration::from_secs(20), "the oldest-queued rule", || {
        let ps = problems(&app);
        has(&ps, "oldest_queued", Some("nobody-listens")).then_some(ps)
    });
    assert!(
        has(&ps, "queue_without_worker", Some("nobody-listens")),
        "{ps:?}"
    );
    assert!(
        has(&ps, "scheduled_without_scheduler", Some(&orphan)),
        "{ps:?}"
    );
    assert!(has(&ps, "cron_scheduler_stale", None), "{ps:?}");
    assert!(has(&ps, "redis_eviction_policy", None), "{ps:?}");
    // The healthy queue says nothing.
    assert!(!ps.iter().any(|p| p["queue"] == "sched"), "{ps:?}");
    for p in &ps {
        for f in [
            "rule", "severity", "message", "queue", "worker", "job", "since",
        ] {
            assert!(p.get(f).is_some(), "{f} missing in {p}");
        }
        assert!(p["since"].is_string(), "{p}");
    }
    // On screen: the overview's panel, the health page; and for Prometheus.
    let panel = app.get("/0/fragments/problems").text();
    assert!(
        panel.contains("nobody listens") || panel.contains("no live worker"),
        "{panel}"
    );
    // Badges on the rows concerned, none on the healthy queue.
    let overview = app.html("/0/view/queues");
    assert_eq!(
        count(
            &overview,
            "tr[data-queue=\"nobody-listens\"] .problem-badge.critical"
        ),
        1
    );
    assert_eq!(
        count(&overview, "tr[data-queue=\"sched\"] .problem-badge"),
        0
    );
    let page = app.html("/0/view/health");
    let rules = attrs(&page, "#problems tr[data-rule]", "data-rule");
    assert_eq!(rules.len(), ps.len());
    let metrics = app.get("/metrics").text();
    assert!(metrics.contains(
        "rqdash_problems{rule=\"queue_without_worker\",queue=\"nobody-listens\",severity=\"critical\"} 1"
    ), "{metrics}");

    // Fixed: the policy back to noeviction, a worker for the queue; the problems go away.
    set_eviction(&redis, "noeviction");
    let _w = rq.idle_worker(&redis.url(), "nobody-listens", "late-worker");
    wait_for(Duration::from_secs(30), "the fixed problems to go", || {
        let ps = problems(&app);
        (!has(&ps, "redis_eviction_policy", None)
            && !has(&ps, "queue_without_worker", Some("nobody-listens")))
        .then_some(())
    });
}

#[test]
fn silenced_rules_stay_silent_and_all_well_says_so() {
    let redis = TestRedis::start();
    set_eviction(&redis, "allkeys-lru");
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.thresholds.disabled = vec!["redis_eviction_policy".into()];
    let app = TestApp::spawn(s);
    assert!(problems(&app).is_empty());
    let page = app.html("/0/view/health");
    assert_eq!(count(&page, "#all-well"), 1);
    // The overview's panel is empty when all is well.
    assert_eq!(
        count(
            &scraper::Html::parse_fragment(&app.get("/0/fragments/problems").text()),
            "#problems-panel .banner"
        ),
        0
    );
    // And the flag is validated.
    let cli = <rqdash::config::Cli as clap::Parser>::try_parse_from([
        "rqdash",
        "--alert-disable",
        "nonsense",
    ])
    .unwrap();
    assert!(rqdash::config::Settings::from_cli(cli)
        .unwrap_err()
        .contains("unknown rule"));
}

#[test]
fn in_chromium_the_panel_and_the_badges_show_what_is_wrong() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    rq.enqueue(&redis.url(), "nobody-listens", 3);
    let _w = rq.idle_worker(&redis.url(), "served", "healthy-w");
    rq.enqueue(&redis.url(), "served", 1);
    set_eviction(&redis, "allkeys-lru");
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.poll_interval = Duration::from_millis(1000);
    s.snapshot_ttl = Duration::from_millis(900);
    s.alert_interval = Duration::from_secs(1);
    let app = TestApp::spawn(s);
    let browser = crate::support::browser::Browser::start();
    browser.goto(&format!("{}/0/view/queues", app.address));
    let panel = wait_for(Duration::from_secs(20), "the problems panel", || {
        browser.text("#problems-panel .banner")
    });
    assert!(panel.contains("2 problems"), "{panel}");
    assert!(panel.contains("no live worker listens"), "{panel}");
    assert!(panel.contains("maxmemory-policy"), "{panel}");
    // The badge comes with the next refresh of the list after the rules ran.
    let badge = wait_for(Duration::from_secs(20), "the queue's badge", || {
        browser.text("tr[data-queue=\"nobody-listens\"] .problem-badge")
    });
    assert_eq!(badge, "⚠ 1");
    assert_eq!(
        browser.eval(
            "return document.querySelectorAll('tr[data-queue=\"served\"] .problem-badge').length"
        ),
        0
    );
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    browser.screenshot(&dir.join("health-panel.png"));
    // The panel is replaced every poll: find and follow its link in one step.
    browser.eval("document.querySelector('#problems-panel a').click(); return null;");
    wait_for(Duration::from_secs(10), "the health page", || {
        browser.text("#problems tr[data-rule=\"queue_without_worker\"]")
    });
    browser.screenshot(&dir.join("health-page.png"));
}

#[test]
fn maintenance_behind_stuck_jobs_and_a_worker_taking_no_jobs_are_reported() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    // Left by RQ's own registry and intermediate-queue code, 30 minutes in the past.
    rq.maintenance_lag(&redis.url(), 1800);
    // A live worker, suspended with RQ's own `suspend`, while jobs arrive on its queue.
    let _w = rq.idle_worker(&redis.url(), "paused", "paused-w");
    rq.enqueue(&redis.url(), "healthy", 1);
    let _h = rq.idle_worker(&redis.url(), "healthy", "healthy-w");
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.snapshot_ttl = Duration::ZERO;
    s.alert_interval = Duration::from_secs(1);
    s.thresholds.stalled_secs = 2;
    let app = TestApp::spawn(s);
    // The dashboard sees the worker before the jobs arrive.
    wait_for(Duration::from_secs(20), "the worker", || {
        let w = app.json("/0/data/workers.json");
        (w["workers"].as_array().unwrap().len() == 2).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    rq.act(&redis.url(), &["--action", "suspend"]);
    // A worker blocked waiting for a job takes the first one before it sees the suspension.
    rq.enqueue(&redis.url(), "paused", 1);
    wait_for(
        Duration::from_secs(30),
        "the worker to be suspended",
        || {
            let w = app.json("/0/data/workers.json");
            w["workers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["name"] == "paused-w" && w["state"] == "suspended")
                .then_some(())
        },
    );
    rq.enqueue(&redis.url(), "paused", 2);
    let ps = wait_for(Duration::from_secs(30), "the three rules", || {
        let ps = problems(&app);
        (has(&ps, "maintenance_behind", Some("lagging"))
            && has(&ps, "intermediate_stuck", Some("lagging"))
            && ps
                .iter()
                .any(|p| p["rule"] == "worker_not_taking_jobs" && p["worker"] == "paused-w"))
        .then_some(ps)
    });
    let stalled = ps
        .iter()
        .find(|p| p["rule"] == "worker_not_taking_jobs")
        .unwrap();
    let m = stalled["message"].as_str().unwrap();
    assert!(
        m.contains("suspended") && m.contains("2 waiting now") && m.contains("rq resume"),
        "{m}"
    );
    let behind = ps
        .iter()
        .find(|p| p["rule"] == "maintenance_behind")
        .unwrap();
    let m = behind["message"].as_str().unwrap();
    assert!(m.contains("2 finished") && m.contains("1 failed"), "{m}");
    // The healthy queue and its worker say nothing.
    assert!(
        !ps.iter()
            .any(|p| p["queue"] == "healthy" || p["worker"] == "healthy-w"),
        "{ps:?}"
    );
    // The worker's badge on the workers page.
    let doc = app.html("/0/view/workers");
    assert_eq!(
        count(&doc, "tr[data-worker=\"paused-w\"] .problem-badge"),
        1
    );
}

/// A worker killed mid-job (SIGKILL, the work horse too): it is reported gone (its heartbeat
/// older than RQ's limit for a busy worker, or its key expired while RQ still lists it), then its
/// job abandoned once the job's deadline in the started registry (its timeout + 60 s) passed.
/// Takes about two minutes of RQ's own time limits.
#[test]
fn a_worker_killed_mid_job_is_reported_gone_and_its_job_abandoned() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let w = rq.busy_worker_with_timeout(&redis.url(), "doomed", "doomed-job", 60);
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.snapshot_ttl = Duration::ZERO;
    s.alert_interval = Duration::from_secs(1);
    let app = TestApp::spawn(s);
    wait_for(Duration::from_secs(30), "the job to start", || {
        let r = app.get("/0/data/job/doomed-job.json");
        (r.status == 200 && r.json()["status"] == "started").then_some(())
    });
    for p in w.processes() {
        let _ = std::process::Command::new("kill")
            .args(["-9", &p.pid.to_string()])
            .status();
    }
    let gone = wait_for(Duration::from_secs(115), "the stopped heartbeat", || {
        problems(&app)
            .into_iter()
            .find(|p| p["rule"] == "worker_heartbeat_stopped" && p["worker"] == "busy-worker")
    });
    let m = gone["message"].as_str().unwrap();
    assert!(m.contains("busy-worker") && m.contains("heartbeat"), "{m}");
    wait_for(Duration::from_secs(60), "the abandoned job", || {
        has(&problems(&app), "abandoned_jobs", Some("doomed")).then_some(())
    });
}
