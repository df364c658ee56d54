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
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .query(&mut redis.conn())
        .unwrap();
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
    let page = app.html("/0/view/health");
    let rules = attrs(&page, "#problems tr[data-rule]", "data-rule");
    assert_eq!(rules.len(), ps.len());
    let metrics = app.get("/metrics").text();
    assert!(metrics.contains(
        "rqdash_problems{rule=\"queue_without_worker\",queue=\"nobody-listens\",severity=\"critical\"} 1"
    ), "{metrics}");

    // Fixed: the policy back to noeviction, a worker for the queue; the problems go away.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("noeviction")
        .query(&mut redis.conn())
        .unwrap();
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
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .query(&mut redis.conn())
        .unwrap();
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
