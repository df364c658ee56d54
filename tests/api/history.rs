//! The history and the timing statistics in Redis: exact totals from the workers' own counters
//! on every replica, across restarts of the replicas and of Redis (from its append-only file);
//! runtime and wait percentiles against the truth; only the dashboard's own keys written, within
//! their documented size; memory (and the page saying so) when Redis refuses the writes.

use std::time::Duration;

use crate::support::html::{attrs, count, text};
use crate::support::{wait_for, Rq, TestApp, TestRedis};

fn settings(redis: &TestRedis) -> rqdash::config::Settings {
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.history_interval = Duration::from_secs(1);
    s.poll_interval = Duration::from_secs(1);
    s.snapshot_ttl = Duration::from_millis(500);
    s
}

/// (finished, failed) over the last hour, of a queue or all.
fn totals(app: &TestApp, queue: Option<&str>) -> (u64, u64) {
    let q = queue.map(|q| format!("&queue={q}")).unwrap_or_default();
    let v = app.json(&format!("/0/data/history.json?range=1h{q}"));
    assert_eq!(v["storage"], "redis", "{v}");
    (
        v["totals"]["finished"].as_u64().unwrap(),
        v["totals"]["failed"].as_u64().unwrap(),
    )
}

fn wait_totals(apps: &[&TestApp], queue: Option<&str>, want: (u64, u64), what: &str) {
    for (i, app) in apps.iter().enumerate() {
        let mut last = (0, 0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // A restarted replica is a new lease holder: it waits up to 10 s for the old lease.
            wait_for(Duration::from_secs(60), what, || {
                last = totals(app, queue);
                (last == want).then_some(())
            })
        }));
        if r.is_err() {
            panic!("replica {i}: {what}: wanted {want:?}, last saw {last:?}");
        }
    }
}

fn exact_totals(version: &'static str) {
    let mut redis = TestRedis::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let url = redis.url();
    let rq = Rq::new(version);
    // Work done before the history began is not counted.
    rq.enqueue(&url, "early", 3);
    rq.burst(&url, &["early"]);
    let a = TestApp::spawn(settings(&redis));
    let b = TestApp::spawn(settings(&redis));
    redis.wait_history_started();

    // A burst worker, born and gone between two rounds: 12 finish and 4 fail on q1, and 5 on
    // q2 keep no finished entry at all (result_ttl=0), so registry growth would miss them.
    rq.enqueue(&url, "q1", 12);
    rq.enqueue_call(&url, "q1", "fail", &["boom"], 4);
    rq.enqueue_with(&url, "q2", "add", &["1", "2"], 5, &["--result-ttl", "0"]);
    rq.burst(&url, &["q1", "q2"]);
    wait_totals(
        &[&a, &b],
        None,
        (17, 4),
        "17 finished and 4 failed on both replicas",
    );
    // Per queue: q1's failures are its own.
    assert_eq!(totals(&a, Some("q1")).1, 4);
    let finished_entries: u64 = redis::cmd("ZCARD")
        .arg("rq:finished:q2")
        .query(&mut redis.conn())
        .unwrap();
    assert_eq!(finished_entries, 0, "q2's jobs left no registry entry");

    // Both replicas restart: nothing is lost and nothing counted twice.
    drop(a);
    drop(b);
    let a = TestApp::spawn(settings(&redis));
    let b = TestApp::spawn(settings(&redis));
    wait_totals(
        &[&a, &b],
        None,
        (17, 4),
        "the same totals after the replicas restart",
    );
    rq.enqueue(&url, "q1", 3);
    rq.burst(&url, &["q1"]);
    wait_totals(&[&a, &b], None, (20, 4), "3 more after the restart");

    // Redis restarts from its append-only file: still exact, and counting goes on.
    redis.restart();
    wait_totals(
        &[&a, &b],
        None,
        (20, 4),
        "the totals after Redis reloads its AOF",
    );
    rq.enqueue(&url, "q1", 2);
    rq.burst(&url, &["q1"]);
    wait_totals(&[&a, &b], None, (22, 4), "2 more after Redis restarted");
    let m = a.get("/metrics").text();
    assert!(
        m.contains("rqdash_jobs_finished_total{queue=\"q1\"}"),
        "{m}"
    );
}

per_rq_version!(
    exact_totals_on_every_replica_across_restarts,
    super::exact_totals
);

/// (failed, retried) over the last hour, of a queue or all, from `history.json`.
fn failed_and_retried(app: &TestApp, queue: Option<&str>) -> (u64, u64) {
    let q = queue.map(|q| format!("&queue={q}")).unwrap_or_default();
    let v = app.json(&format!("/0/data/history.json?range=1h{q}"));
    (
        v["totals"]["failed"].as_u64().unwrap(),
        v["totals"]["retried"].as_u64().unwrap(),
    )
}

fn retried_attempts_apart(version: &'static str) {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new(version);
    // The minute before, as an older rqdash wrote it (no `retried` field): the charts have a
    // closed minute before the one running, so they draw a line.
    let prev = chrono::Utc::now().timestamp().div_euclid(60) - 1;
    let _: () = redis::cmd("HSET")
        .arg(format!("rqdash:rq:hist:m:{}", prev.div_euclid(60)))
        .arg("")
        .arg(format!("{},0,0,0,0,0;", prev.rem_euclid(60)))
        .query(&mut redis.conn())
        .unwrap();
    let app = TestApp::spawn(settings(&redis));
    redis.wait_history_started();

    // Two jobs fail three times each (Retry(max=2): two attempts retried, then failed for
    // good), three fail once without a retry: 9 failed attempts, 5 jobs failed for good.
    let retrying = rq.enqueue_with(&url, "r", "fail", &["again"], 2, &["--retry", "2"]);
    rq.enqueue_call(&url, "r", "fail", &["boom"], 3);
    rq.burst(&url, &["r"]);
    let in_registry: u64 = redis::cmd("ZCARD")
        .arg("rq:failed:r")
        .query(&mut redis.conn())
        .unwrap();
    assert_eq!(in_registry, 5, "RQ {version}: jobs failed for good");
    for queue in [None, Some("r")] {
        let mut last = (0, 0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_for(
                Duration::from_secs(30),
                "9 failed attempts, 4 retried",
                || {
                    last = failed_and_retried(&app, queue);
                    (last == (9, 4)).then_some(())
                },
            )
        }));
        if r.is_err() {
            panic!("RQ {version}, queue {queue:?}: wanted (9, 4), last saw {last:?}");
        }
    }
    // The failed chart says 5, as the failed column does, and the 4 retried attempts beside.
    let doc = app.html("/0/view/queues");
    assert_eq!(
        text(&doc, "tr[data-queue=\"r\"] td[data-registry=\"failed\"]"),
        in_registry.to_string()
    );
    let failed = "figure[data-chart=\"failed\"]";
    // Two lines on the overview (whose total has the minute before); the queue's own chart
    // collects its first minute still, with the same figures.
    assert!(count(&doc, &format!("{failed} polyline.retried")) >= 1);
    for doc in [doc, app.html("/0/view/jobs/r/failed/8/asc/1")] {
        assert_eq!(
            text(&doc, &format!("{failed} figcaption strong")),
            "5 in 24h"
        );
        assert_eq!(text(&doc, &format!("{failed} .aside")), "+ 4 retried");
        assert!(!attrs(&doc, failed, "title")[0].is_empty());
    }

    // The job page of a job whose retries are used up says so (never "up to 0 retries").
    let job = app.html(&format!("/0/view/job/{}", retrying[0]));
    let retries = text(&job, "td[data-field=\"retries\"]");
    assert!(
        retries == "none left" || retries == "attempt 3 of 3",
        "RQ {version}: {retries:?}"
    );

    // The minute still running is drawn apart, dashed, and the range links say so.
    let doc = wait_for(
        Duration::from_secs(10),
        "the open minute drawn apart",
        || {
            let doc = app.html("/0/view/queues");
            (count(&doc, "#charts svg polyline.open") >= 4).then_some(doc)
        },
    );
    assert_eq!(text(&doc, "#chart-open"), "dashed: this minute so far");
}

per_rq_version!(
    failed_attempts_rq_retried_are_told_from_jobs_failed_for_good,
    super::retried_attempts_apart
);

#[test]
fn runtime_and_wait_percentiles_are_within_tolerance_of_the_truth() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    let app = TestApp::spawn(settings(&redis));
    redis.wait_history_started();
    let short = rq.enqueue_call(&url, "timing", "sleep", &["0.3"], 6);
    let long = rq.enqueue_call(&url, "timing", "sleep", &["1.2"], 4);
    rq.enqueue_call(&url, "timing", "fail", &["x"], 2);
    rq.burst(&url, &["timing"]);
    let row = wait_for(Duration::from_secs(30), "12 jobs in the statistics", || {
        let v = app.json("/0/data/stats.json?queue=timing&window=1h");
        v["functions"]
            .as_array()
            .and_then(|f| {
                f.iter()
                    .find(|r| r["func_name"] == "rqdash_jobs.sleep" && r["count"] == 10)
                    .cloned()
            })
            .filter(|_| {
                v["functions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["func_name"] == "rqdash_jobs.fail" && r["failed"] == 2)
            })
    });
    // The truth, from the job hashes RQ wrote.
    let mut c = redis.conn();
    let mut secs = |id: &str, from: &str, to: &str| -> f64 {
        let (a, b): (String, String) = redis::cmd("HMGET")
            .arg(format!("rq:job:{id}"))
            .arg(from)
            .arg(to)
            .query(&mut c)
            .unwrap();
        let p = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
        (p(&b) - p(&a)).num_microseconds().unwrap() as f64 / 1e6
    };
    let mut runtimes: Vec<f64> = short
        .iter()
        .chain(&long)
        .map(|id| secs(id, "started_at", "ended_at"))
        .collect();
    let mut waits: Vec<f64> = short
        .iter()
        .chain(&long)
        .map(|id| secs(id, "enqueued_at", "started_at"))
        .collect();
    runtimes.sort_by(f64::total_cmp);
    waits.sort_by(f64::total_cmp);
    // Nearest rank, as the dashboard computes it.
    let rank = |v: &[f64], q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    let close = |name: &str, got: f64, truth: f64| {
        assert!(
            (got - truth).abs() <= truth * 0.05 + 0.002,
            "{name}: {got} against {truth} ({row})"
        );
    };
    close(
        "runtime p50",
        row["runtime_p50_s"].as_f64().unwrap(),
        rank(&runtimes, 0.5),
    );
    close(
        "runtime p95",
        row["runtime_p95_s"].as_f64().unwrap(),
        rank(&runtimes, 0.95),
    );
    close(
        "runtime p99",
        row["runtime_p99_s"].as_f64().unwrap(),
        rank(&runtimes, 0.99),
    );
    close(
        "wait p50",
        row["wait_p50_s"].as_f64().unwrap(),
        rank(&waits, 0.5),
    );
    close(
        "wait p95",
        row["wait_p95_s"].as_f64().unwrap(),
        rank(&waits, 0.95),
    );
    // And the sleeps themselves, within RQ's own overhead.
    let p50 = row["runtime_p50_s"].as_f64().unwrap();
    assert!((0.285..0.45).contains(&p50), "p50 {p50}");
    let p95 = row["runtime_p95_s"].as_f64().unwrap();
    assert!((1.14..1.4).contains(&p95), "p95 {p95}");

    // The functions table on the queue page and the overview, and the metrics.
    let page = app.html("/0/view/jobs/timing/failed/8/asc/1");
    let rows = crate::support::html::texts(&page, "#functions-table tbody tr th");
    assert!(rows.iter().any(|r| r == "rqdash_jobs.sleep"), "{rows:?}");
    let glance = crate::support::html::texts(&page, "#functions-glance");
    assert!(
        glance[0].contains("Slowest: rqdash_jobs.sleep")
            && glance[0].contains("Most failing: rqdash_jobs.fail"),
        "{glance:?}"
    );
    let frag = app.html("/0/fragments/functions?window=1h&sort=runtime_p95&dir=desc");
    let first = crate::support::html::texts(&frag, "#functions-table tbody tr th");
    assert_eq!(first[0], "rqdash_jobs.sleep", "slowest first: {first:?}");
    let m = app.get("/metrics").text();
    assert!(
        m.contains(
            "rq_job_runtime_seconds{queue=\"timing\",func=\"rqdash_jobs.sleep\",quantile=\"0.5\"}"
        ),
        "{m}"
    );
    assert!(
        !m.contains("rq_job_runtime_seconds_count"),
        "no sliding _count"
    );
    assert_eq!(app.get("/0/data/stats.json?window=2y").status, 400);
}

/// Write commands, with the argument position of their first key.
const WRITES: [&str; 16] = [
    "set",
    "setex",
    "del",
    "unlink",
    "hset",
    "hsetnx",
    "hdel",
    "hincrby",
    "hincrbyfloat",
    "expire",
    "pexpire",
    "zadd",
    "zrem",
    "sadd",
    "srem",
    "rpush",
];

#[test]
fn the_history_writes_only_its_own_keys_within_their_size_and_falls_back_when_refused() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.enqueue(&url, "a", 5);
    rq.enqueue_call(&url, "b", "fail", &["x"], 3);
    // A second connection records every command the dashboard sends (no RQ process runs
    // while it listens).
    let mut mon = std::process::Command::new("redis-cli")
        .args(["-u", &url, "monitor"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("redis-cli (apt-get install redis-tools)");
    std::thread::sleep(Duration::from_millis(300));
    let app = TestApp::spawn(settings(&redis));
    redis.wait_history_started();
    for p in [
        "/",
        "/0/view/jobs/a/queued/8/asc/1",
        "/0/data/history.json",
        "/0/data/stats.json",
        "/metrics",
    ] {
        app.get(p);
    }
    std::thread::sleep(Duration::from_secs(3));
    let _ = mon.kill();
    let out = mon.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut writes = 0;
    for line in text.lines() {
        // 1700000000.123456 [0 127.0.0.1:5555] "hset" "key" ...  ([0 lua] inside scripts)
        let Some(rest) = line.split_once("] ").map(|(_, r)| r) else {
            continue;
        };
        let words: Vec<&str> = rest.split("\" \"").map(|w| w.trim_matches('"')).collect();
        let cmd = words[0].to_lowercase();
        if WRITES.contains(&cmd.as_str()) {
            writes += 1;
            assert!(
                words[1].starts_with("rqdash:"),
                "a write outside rqdash: keys: {line}"
            );
        }
        if cmd == "eval" || cmd == "evalsha" {
            let n: usize = words[2].parse().unwrap();
            for k in &words[3..3 + n] {
                assert!(
                    k.starts_with("rqdash:"),
                    "a script on a key not the dashboard's: {line}"
                );
            }
        }
    }
    assert!(
        writes > 10,
        "the monitor saw the history's writes ({writes})"
    );

    // Sizes: every key under the prefix, with a lifetime, within the documented bounds.
    let mut c = redis.conn();
    let keys: Vec<String> = redis::cmd("KEYS").arg("rqdash:*").query(&mut c).unwrap();
    assert!(
        keys.iter().any(|k| k.starts_with("rqdash:rq:hist:m:")),
        "{keys:?}"
    );
    let mut hist_bytes = 0;
    for k in &keys {
        let ttl: i64 = redis::cmd("TTL").arg(k).query(&mut c).unwrap();
        assert!(ttl > 0, "{k} has no lifetime ({ttl})");
        let bytes: u64 = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(k)
            .query(&mut c)
            .unwrap();
        if k.contains(":hist:") {
            hist_bytes += bytes;
        }
    }
    // Two queues and the total, one hour and one day each: far under 300 KB a queue.
    assert!(hist_bytes < 3 * 300 * 1024, "{hist_bytes} bytes");
    drop(app);

    // A user that may only read: the history stays in memory and the page says so.
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("reader")
        .arg("on")
        .arg(">secret")
        .arg("~*")
        .arg("&*")
        .arg("+@read")
        .arg("+@connection")
        .arg("+info")
        .arg("-@write")
        .arg("-@scripting")
        .query(&mut c)
        .unwrap();
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/0")
        .to_string();
    let mut s =
        rqdash::config::Settings::for_url(&format!("redis://reader:secret@127.0.0.1:{port}/0"));
    s.history_interval = Duration::from_secs(1);
    let ro = TestApp::spawn(s);
    wait_for(Duration::from_secs(30), "the fallback to memory", || {
        let v = ro.json("/0/data/history.json");
        (v["storage"] == "memory").then_some(())
    });
    let page = ro.html("/0/view/queues");
    let warn = crate::support::html::texts(&page, "#history-memory");
    assert!(warn[0].contains("memory only"), "{warn:?}");
    assert!(
        warn[0].contains("NOPERM") || warn[0].contains("permission"),
        "{warn:?}"
    );
}

#[test]
fn the_statistics_read_every_entry_once_when_many_share_one_second() {
    let redis = TestRedis::start();
    let url = redis.url();
    let app = TestApp::spawn(settings(&redis));
    redis.wait_history_started();
    // 1,800 failures recorded through RQ's API in a few pipelines: most share their second
    // (and so their score), far more than one read takes.
    Rq::new("2.12.0").make_jobs(&url, "ties", 1800, "t-", true);
    let mut c = redis.conn();
    let scores: Vec<f64> = redis::cmd("ZRANGE")
        .arg("rq:failed:ties")
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .query::<Vec<(String, f64)>>(&mut c)
        .unwrap()
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let mut per_second = std::collections::BTreeMap::new();
    for s in &scores {
        *per_second.entry(*s as i64).or_insert(0) += 1;
    }
    assert!(
        per_second.values().any(|n| *n > 600),
        "the fixture put over 600 entries on one score: {per_second:?}"
    );
    let total = wait_for(Duration::from_secs(60), "1,800 failures counted", || {
        let v = app.json("/0/data/stats.json?queue=ties&window=1h");
        let n = v["functions"]
            .as_array()
            .map(|f| {
                f.iter()
                    .map(|r| r["failed"].as_u64().unwrap_or(0))
                    .sum::<u64>()
            })
            .unwrap_or(0);
        (n >= 1800).then_some(n)
    });
    std::thread::sleep(Duration::from_secs(3));
    let v = app.json("/0/data/stats.json?queue=ties&window=1h");
    let again: u64 = v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!((total, again), (1800, 1800), "each entry once: {v}");
    // No worker ran them: the throughput counts none.
    assert_eq!(totals(&app, Some("ties")), (0, 0));
}
