//! Alerts to webhooks, with problems planted by real RQ: each problem is heard once when it
//! starts and once when it is resolved, by one replica, across restarts; a webhook that hangs or
//! fails slows nothing and holds up no other; a burst of a new exception is reported while the
//! queue's usual failures are not.

use serde_json::Value;
use std::time::Duration;

use crate::support::webhook::{Mode, Receiver};
use crate::support::{wait_for, Rq, TestApp, TestRedis};

fn settings(redis: &TestRedis, hooks: &[&Receiver]) -> rqdash::config::Settings {
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.alert_webhooks = hooks.iter().map(|h| h.url.clone()).collect();
    s.alert_interval = Duration::from_secs(1);
    s.snapshot_ttl = Duration::ZERO;
    s.public_url = Some("https://rq.example.com/dash".into());
    s
}

fn problems(app: &TestApp) -> Vec<Value> {
    app.json("/0/data/health.json")["problems"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn each_problem_is_heard_once_then_resolved_whatever_the_replicas_and_restarts() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    rq.enqueue(&redis.url(), "nobody-listens", 2);
    // A healthy queue beside it: served by a live worker.
    let _healthy = rq.idle_worker(&redis.url(), "served", "healthy-w");
    rq.enqueue(&redis.url(), "served", 1);
    let good = Receiver::start(Mode::Ok);
    let hang = Receiver::start(Mode::Hang);
    let failing = Receiver::start(Mode::Fail);
    let a = TestApp::spawn(settings(&redis, &[&hang, &failing, &good]));
    let started = wait_for(Duration::from_secs(30), "the started notice", || {
        let n = good.notices("started", "queue_without_worker", Some("nobody-listens"));
        (!n.is_empty()).then_some(n)
    });
    let n = &started[0];
    for f in [
        "status", "rule", "severity", "message", "queue", "worker", "job", "since", "link", "text",
    ] {
        assert!(n.get(f).is_some(), "{f} missing in {n}");
    }
    assert_eq!(n["severity"], "critical");
    assert_eq!(n["link"], "https://rq.example.com/dash/0/view/health");
    let text = n["text"].as_str().unwrap();
    assert!(
        text.contains("nobody-listens") && text.contains("no live worker"),
        "{text}"
    );
    // The webhook that hangs holds up neither the others nor the pages; the one that fails is
    // tried again.
    assert_eq!(
        hang.notices("started", "queue_without_worker", Some("nobody-listens"))
            .len(),
        1
    );
    assert!(a.get("/0/view/queues").status == 200);
    wait_for(
        Duration::from_secs(30),
        "a retry of the failing webhook",
        || {
            (failing
                .notices("started", "queue_without_worker", Some("nobody-listens"))
                .len()
                >= 2)
                .then_some(())
        },
    );
    // A second replica on the same Redis, and a restart of the first: nothing is repeated.
    let b = TestApp::spawn(settings(&redis, &[&good]));
    drop(a);
    let a2 = TestApp::spawn(settings(&redis, &[&good]));
    for _ in 0..4 {
        let _ = problems(&b);
        std::thread::sleep(Duration::from_secs(1));
    }
    assert_eq!(
        good.notices("started", "queue_without_worker", Some("nobody-listens"))
            .len(),
        1,
        "{:?}",
        good.bodies()
    );
    // The healthy queue was never announced.
    assert!(
        !good.bodies().iter().any(|n| n["queue"] == "served"),
        "{:?}",
        good.bodies()
    );
    // Fixed: a worker for the queue. The resolution is heard once.
    let _late = rq.idle_worker(&redis.url(), "nobody-listens", "late-worker");
    let resolved = wait_for(Duration::from_secs(60), "the resolved notice", || {
        let n = good.notices("resolved", "queue_without_worker", Some("nobody-listens"));
        (!n.is_empty()).then_some(n)
    });
    assert!(resolved[0]["resolved_at"].is_string(), "{}", resolved[0]);
    assert!(resolved[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("[rqdash resolved]"));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        good.notices("resolved", "queue_without_worker", Some("nobody-listens"))
            .len(),
        1
    );
    // The dashboard's own keys only.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("rqdash:*")
        .query(&mut redis.conn())
        .unwrap();
    for k in &keys {
        assert!(
            k == "rqdash:rq:lease:alerts"
                || k == "rqdash:rq:alerts:open"
                || crate::support::is_history_key(k),
            "unexpected key {k}"
        );
    }
    drop(a2);
    drop(b);
}

#[test]
fn a_burst_of_a_new_exception_is_reported_and_usual_failures_are_not() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    // "steady" fails with its usual exception before the dashboard starts; "bursty" has only
    // succeeded so far.
    rq.enqueue_call(&redis.url(), "steady", "fail", &["usual trouble 1"], 3);
    rq.enqueue(&redis.url(), "bursty", 2);
    rq.burst(&redis.url(), &["steady", "bursty"]);
    // A queue nobody serves, so the first round of rules is heard by the webhook.
    rq.enqueue(&redis.url(), "nobody-listens", 1);
    let hook = Receiver::start(Mode::Ok);
    let mut s = settings(&redis, &[&hook]);
    // The window must outlast a burst worker failing the six jobs one after another on a
    // loaded machine (each in a forked horse): the burst shows from its fifth failure until the
    // window has passed since its first, and it is looked for only once the worker is done.
    s.thresholds.burst_window_secs = 30;
    // A burst is remembered in memory: a new process resolves it only after a warm-up.
    s.alert_warm_up = Duration::ZERO;
    let app = TestApp::spawn(s);
    wait_for(Duration::from_secs(30), "the first round of rules", || {
        (!hook
            .notices("started", "queue_without_worker", Some("nobody-listens"))
            .is_empty())
        .then_some(())
    });
    // Now "bursty" fails six times with an exception it never had; "steady" again with its own.
    let ids = rq.enqueue_call(&redis.url(), "bursty", "charge", &["cust-1", "9"], 6);
    rq.enqueue_call(&redis.url(), "steady", "fail", &["usual trouble 2"], 6);
    rq.burst(&redis.url(), &["steady", "bursty"]);
    // All six: a round may have read the first five before the sixth failed.
    let ps = wait_for(Duration::from_secs(30), "the burst of all six", || {
        let ps = problems(&app);
        ps.iter()
            .any(|p| {
                p["rule"] == "failure_burst"
                    && p["queue"] == "bursty"
                    && p["message"].as_str().is_some_and(|m| m.contains("6 jobs"))
            })
            .then_some(ps)
    });
    let p = ps
        .iter()
        .find(|p| p["rule"] == "failure_burst")
        .unwrap()
        .clone();
    assert!(
        p["message"].as_str().unwrap().contains("TimeoutError"),
        "{p}"
    );
    assert!(p["message"].as_str().unwrap().contains("6 jobs"), "{p}");
    assert!(ids.iter().any(|i| p["job"] == i.as_str()), "{p}");
    assert!(
        !ps.iter()
            .any(|p| p["rule"] == "failure_burst" && p["queue"] == "steady"),
        "{ps:?}"
    );
    // On the health page with a link to the job.
    let page = app.get("/0/view/health").text();
    assert!(page.contains(p["job"].as_str().unwrap()), "{page}");
    // Heard by the webhook, and resolved once the window has passed.
    wait_for(Duration::from_secs(60), "the burst's notices", || {
        (hook
            .notices("started", "failure_burst", Some("bursty"))
            .len()
            == 1
            && hook
                .notices("resolved", "failure_burst", Some("bursty"))
                .len()
                == 1)
            .then_some(())
    });
}

#[test]
fn alert_rules_come_from_a_toml_file_and_bad_ones_are_refused_with_a_reason() {
    let dir = crate::support::process::TempDir::new("alert-rules");
    let good = dir.path().join("rules.toml");
    std::fs::write(
        &good,
        r#"
oldest_queued_secs = 120
disable = ["redis_evicting"]
burst_min = 3

[queues.emails]
oldest_queued_secs = 30
disable = ["queue_without_worker"]

[[silence]]
rule = "worker_heartbeat_stopped"
worker = "old-box"
until = "2099-01-01T00:00:00Z"
"#,
    )
    .unwrap();
    let parse = |args: &[&str]| {
        let mut all = vec!["rqdash"];
        all.extend_from_slice(args);
        let cli = <rqdash::config::Cli as clap::Parser>::try_parse_from(all).unwrap();
        rqdash::config::Settings::from_cli(cli)
    };
    let s = parse(&["--alert-rules", good.to_str().unwrap()]).unwrap();
    let th = &s.thresholds;
    assert_eq!(th.oldest_queued_secs, 120);
    assert_eq!(th.oldest_queued_by_queue["emails"], 30);
    assert_eq!(th.burst_min, 3);
    assert_eq!(th.disabled, vec!["redis_evicting".to_string()]);
    assert_eq!(th.silences.len(), 1);
    // A flag given as well wins over the file.
    let s = parse(&[
        "--alert-rules",
        good.to_str().unwrap(),
        "--alert-oldest-queued",
        "45",
    ])
    .unwrap();
    assert_eq!(s.thresholds.oldest_queued_secs, 45);
    for (text, says) in [
        ("oldest_queued_secs = \"ten\"", "oldest_queued_secs"),
        ("disable = [\"no_such_rule\"]", "unknown rule"),
        ("olderst_queued_secs = 5", "unknown field"),
        (
            "[[silence]]\nrule = \"failure_rate\"\nuntil = \"tomorrow\"",
            "RFC 3339",
        ),
        ("memory_ratio = 7", "memory_ratio"),
        ("burst_window_secs = 9999999999999999", "at most a week"),
    ] {
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, text).unwrap();
        let e = parse(&["--alert-rules", bad.to_str().unwrap()]).unwrap_err();
        assert!(
            e.contains(says) && e.contains("--alert-rules"),
            "{text}: {e}"
        );
    }
    let e = parse(&["--alert-rules", "/no/such/rules.toml"]).unwrap_err();
    assert!(e.contains("cannot read --alert-rules"), "{e}");
    let e = parse(&["--alert-webhook", "hooks.slack.com/x"]).unwrap_err();
    assert!(e.contains("http:// or https://"), "{e}");
}
