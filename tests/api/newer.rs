//! What RQ 2.x and 3.0 keep in Redis, on screen: scheduler locks, cron, groups, executions,
//! rate limits, retries and repeats; each compared with what RQ's own Python API reports, on data
//! written by real RQ (`tests/py/rqfixture_newer.py`).

use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::html::{attrs, count, text, texts};
use crate::support::{wait_for, Rq, TestApp, TestRedis};

fn names(v: &Value, field: &str) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|x| x[field].as_str().unwrap_or_default().to_string())
        .collect()
}

fn cron_matches_rq(version: &'static str) {
    let redis = TestRedis::start();
    let rq = Rq::new(version);
    let stale = rq.stale_cron(&redis.url(), 600);
    let live = rq.cron(&redis.url());
    let app = TestApp::for_redis(&redis.url());
    let ours = app.json("/0/data/cron.json");
    let oracle = rq.cron_oracle(&redis.url());

    // Every scheduler RQ lists, alive exactly when RQ says so.
    let registry = oracle["registry"].as_array().unwrap();
    assert_eq!(
        names(&ours["schedulers"], "name"),
        names(&oracle["registry"], "name"),
        "RQ {version}: {ours}"
    );
    for r in registry {
        let s = ours["schedulers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == r["name"])
            .unwrap();
        assert_eq!(s["alive"], r["alive"], "RQ {version}: {s} vs {r}");
    }
    let live_name = live.ready()["name"].as_str().unwrap();
    let mine = ours["schedulers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == live_name)
        .unwrap();
    let theirs = oracle["schedulers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == live_name)
        .unwrap();
    for f in ["hostname", "config_file"] {
        assert_eq!(mine[f], theirs[f], "RQ {version}: {f}");
    }
    assert_eq!(
        mine["pid"].as_i64(),
        theirs["pid"].as_i64(),
        "RQ {version}: pid"
    );
    assert_eq!(mine["alive"], true);
    // The crashed scheduler (registry entry without its hash) is stale and says why.
    let crashed = stale["crashed"]["name"].as_str().unwrap();
    let c = ours["schedulers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == crashed)
        .unwrap();
    assert_eq!(c["alive"], false);
    assert!(c["problem"].as_str().unwrap().contains("expired"), "{c}");

    // Cron jobs as RQ describes them; the dashboard read first, so its runs are a prefix of
    // RQ's (the interval job keeps running).
    for theirs in oracle["cron_jobs"].as_array().unwrap() {
        let name = theirs["name"].as_str().unwrap();
        let mine = ours["cron_jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["name"] == name)
            .unwrap_or_else(|| panic!("RQ {version}: cron job {name} missing in {ours}"));
        for f in ["func_name", "queue_name", "cron"] {
            assert_eq!(mine[f], theirs[f], "RQ {version}: {name}.{f}");
        }
        assert_eq!(
            mine["interval"].as_f64(),
            theirs["interval"].as_f64(),
            "RQ {version}: {name}.interval"
        );
        if theirs["scheduler"].is_string() && theirs["scheduler"] == live_name {
            assert_eq!(mine["scheduler"], live_name, "RQ {version}: {name}");
            assert_eq!(mine["scheduler_alive"], true);
        }
        let their_runs: Vec<&str> = theirs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["job_id"].as_str().unwrap())
            .collect();
        for r in mine["runs"].as_array().unwrap() {
            let id = r["id"].as_str().unwrap();
            assert!(their_runs.contains(&id), "RQ {version}: run {id} of {name}");
            let st = &theirs["runs"].as_array().unwrap()
                [their_runs.iter().position(|x| *x == id).unwrap()];
            if st["status"].is_string() {
                assert!(r["status"].is_string(), "RQ {version}: {r}");
            }
        }
    }
    let interval = live.ready()["interval_job"]["name"].as_str().unwrap();
    let tick = ours["cron_jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == interval)
        .unwrap();
    assert!(tick["run_count"].as_u64().unwrap() >= 1);
    assert_eq!(tick["missed_runs"], 0, "RQ {version}: {tick}");
    assert!(tick["late_seconds"].is_null(), "RQ {version}: {tick}");
    // The cron-string job: its next run as RQ computed it fits UTC (this host's zone too).
    let cron_name = live.ready()["cron_job"]["name"].as_str().unwrap();
    let cj = ours["cron_jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == cron_name)
        .unwrap();
    assert_eq!(cj["utc_offset_seconds"], 0, "RQ {version}: {cj}");
    assert_eq!(cj["missed_runs"], 0, "RQ {version}: {cj}");

    // The page says it, and a spawned job links back to its cron job (RQ 2.12+ records names).
    let doc = app.html("/0/view/cron");
    assert!(text(&doc, "#cron-tz").contains("UTC"));
    assert_eq!(
        count(&doc, "#cron-schedulers tbody tr[data-scheduler]"),
        registry.len()
    );
    assert!(count(&doc, "#cron-schedulers tr.stale") >= 1);
    let run = tick["runs"][0]["id"].as_str().unwrap();
    let job = app.html(&format!("/0/view/job/{}", crate::support::seg(run)));
    assert_eq!(text(&job, "td[data-field=\"cron job\"]"), interval);
}

#[test]
fn cron_matches_rq_2_12() {
    cron_matches_rq("2.12.0")
}

#[test]
fn cron_matches_rq_3_0() {
    cron_matches_rq("3.0.0")
}

#[test]
fn broken_cron_data_is_a_sentence_not_an_error() {
    let redis = TestRedis::start();
    let mut c = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = redis::pipe()
        .cmd("ZADD")
        .arg("rq:cron_schedulers")
        .arg(1.0)
        .arg("bad:1:x")
        .cmd("HSET")
        .arg("rq:cron_scheduler:bad:1:x")
        .arg("cron_jobs")
        .arg("{not json")
        .cmd("ZADD")
        .arg("rq:cron_jobs")
        .arg(2.0)
        .arg("<script>alert(1)</script>")
        .cmd("SET")
        .arg("rq:cron_job:<script>alert(1)</script>:jobs")
        .arg("not a sorted set")
        .query(&mut c)
        .unwrap();
    let app = TestApp::for_redis(&redis.url());
    let v = app.json("/0/data/cron.json");
    assert!(v["schedulers"][0]["problem"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    assert_eq!(v["schedulers"][0]["alive"], false);
    let r = app.get("/0/view/cron");
    assert_eq!(r.status, 200);
    assert!(!r.text().contains("<script>alert(1)</script>"));
    // Shown as text, the name it has.
    let doc = scraper::Html::parse_document(&r.text());
    assert!(
        text(&doc, "#cron-jobs tr[data-cron-job] td.name").starts_with("<script>alert(1)</script>")
    );
}

fn scheduler_locks_match(version: &'static str) {
    let redis = TestRedis::start();
    let rq = Rq::new(version);
    let worker = rq.scheduler_worker(&redis.url(), &["sched"], "sched-w");
    let orphan = worker.ready()["orphan_queue"].as_str().unwrap().to_string();
    let app = TestApp::for_redis(&redis.url());
    let oracle = rq.scheduler_oracle(&redis.url(), &["sched", &orphan]);
    let q = app.json("/0/data/queues.json");
    let find = |name: &str| -> Value {
        q["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no queue {name} in {q}"))
    };
    let holder = &oracle["queues"]["sched"]["lock_holder"];
    assert!(holder.is_string(), "RQ {version}: {oracle}");
    assert_eq!(find("sched")["scheduler"], *holder, "RQ {version}");
    // `scheduler_pid` is RQ's `Queue.scheduler_pid`: the scheduler hash's pid on 2.10+, the
    // lock's value itself on 1.x (where the lock holds the pid).
    let pid = &oracle["queues"]["sched"]["scheduler_pid"];
    assert!(pid.is_u64(), "RQ {version}: {oracle}");
    assert_eq!(find("sched")["scheduler_pid"], *pid, "RQ {version}");
    assert_eq!(find(&orphan)["scheduler_pid"], Value::Null);
    assert_eq!(find("sched")["overdue_scheduled"], 0);
    assert_eq!(find(&orphan)["scheduler"], Value::Null);
    let overdue = oracle["queues"][orphan.as_str()]["scheduled"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["overdue"] == true)
        .count() as u64;
    assert!(overdue >= 1);
    assert_eq!(find(&orphan)["overdue_scheduled"].as_u64(), Some(overdue));
    // The overview and the queue page say who schedules, and warn where nobody does.
    let doc = app.html("/0/view/queues");
    let row = format!("tr[data-queue=\"{orphan}\"] [data-stranded]");
    assert_eq!(
        attrs(&doc, &row, "data-stranded"),
        vec![overdue.to_string()]
    );
    // A short name in the cell, the whole one on hover.
    let holder = holder.as_str().unwrap();
    let sched = text(&doc, "tr[data-queue=\"sched\"] td.scheduler code");
    let short: String = holder.chars().take(8).collect();
    assert!(
        sched.starts_with(&short) && sched.chars().count() <= 9,
        "{sched}"
    );
    let title = attrs(
        &doc,
        "tr[data-queue=\"sched\"] td.scheduler [title]",
        "title",
    );
    assert!(title[0].contains(holder), "{title:?}");
    let page = app.html("/0/view/jobs/sched/scheduled/8/asc/1");
    assert!(text(&page, "#queue-scheduler").starts_with("Scheduler: "));
    let page = app.html(&format!("/0/view/jobs/{orphan}/scheduled/8/asc/1"));
    assert!(text(&page, "#queue-scheduler").contains("overdue"));
    drop(worker);
}

per_rq_version!(scheduler_locks_match_rq, super::scheduler_locks_match);

fn statuses_of(oracle_group: &Value) -> Value {
    // RQ's roll-up calls jobs whose hash is gone "missing"; the dashboard says "expired".
    let mut m = serde_json::Map::new();
    for (k, v) in oracle_group["counts"].as_object().unwrap() {
        let k = if k == "missing" {
            "expired"
        } else {
            k.as_str()
        };
        m.insert(k.to_string(), v.clone());
    }
    Value::Object(m)
}

fn groups_match_rq_and_act_like_rq(version: &'static str) {
    let redis = TestRedis::start();
    let rq = Rq::new(version);
    let made = rq.groups(&redis.url());
    let app = TestApp::for_redis(&redis.url());
    let ours = app.json("/0/data/groups.json");
    let oracle = rq.groups_oracle(&redis.url());
    let theirs = oracle["groups"].as_object().unwrap();
    assert_eq!(
        names(&ours["groups"], "name"),
        theirs.keys().cloned().collect::<BTreeSet<_>>(),
        "RQ {version}"
    );
    for g in ours["groups"].as_array().unwrap() {
        let t = &theirs[g["name"].as_str().unwrap()];
        assert_eq!(g["statuses"], statuses_of(t), "RQ {version}: {g} vs {t}");
        // The set's size: RQ lists expired ids too until its maintenance removes them.
        assert_eq!(
            g["count"].as_u64().unwrap(),
            t["job_ids"].as_array().unwrap().len() as u64,
            "RQ {version}: {g} vs {t}"
        );
    }
    let doc = app.html("/0/view/groups");
    assert_eq!(count(&doc, "#groups tr[data-group]"), theirs.len());
    // A job page links to its group.
    let mixed = &theirs["group-mixed"];
    let some_job = mixed["job_ids"][0].as_str().unwrap();
    let job = app.html(&format!("/0/view/job/{some_job}"));
    assert_eq!(text(&job, "td[data-field=\"group\"]"), "group-mixed");

    // Requeue the mixed group's failed jobs, cancel the pending group's, delete another.
    let r = app.act("/0/groups/group-mixed/requeue");
    assert_eq!(r["count"], 2, "RQ {version}: {r}");
    let r = app.act("/0/groups/group-pending/cancel");
    assert_eq!(r["count"], 2, "RQ {version}: {r}");
    let r = app.act("/0/groups/group-two-queues/delete");
    assert_eq!(r["count"], 2, "RQ {version}: {r}");
    let after = rq.groups_oracle(&redis.url());
    let counts = |g: &str| after["groups"][g]["counts"].clone();
    assert_eq!(counts("group-mixed")["queued"], 2, "RQ {version}: {after}");
    assert_eq!(
        counts("group-pending")["canceled"],
        2,
        "RQ {version}: {after}"
    );
    assert!(
        after["groups"]["group-two-queues"].is_null(),
        "RQ {version}: {after}"
    );
    let ours = app.json("/0/data/groups.json");
    assert!(!names(&ours["groups"], "name").contains("group-two-queues"));
    // A real worker carries on with the requeued jobs.
    let queue = made["queues"][0].as_str().unwrap();
    rq.burst(&redis.url(), &[queue]);
    let done = rq.groups_oracle(&redis.url());
    let c = &done["groups"]["group-mixed"]["counts"];
    assert_eq!(c["queued"], Value::Null, "RQ {version}: {done}");
    assert_eq!(
        c["finished"].as_u64().unwrap_or(0) + c["failed"].as_u64().unwrap_or(0),
        4,
        "RQ {version}: {done}"
    );
}

/// 1,500 groups made by RQ's Group API: every one reachable by paging, newest first, none
/// twice, with `total` and `truncated` as search gives them.
#[test]
fn groups_past_a_thousand_are_paged_not_dropped() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let made = rq.many_groups(&redis.url(), 0, 1_500);
    assert_eq!(made["groups"], 1_500, "{made}");
    let app = TestApp::for_redis(&redis.url());
    let expected: Vec<String> = (0..1_500).rev().map(|i| format!("many-{i:05}")).collect();

    // groups.json: 1,000 a page by default, then the other 500.
    let first = app.json("/0/data/groups.json");
    let head = |v: &Value| {
        serde_json::json!([
            v["total"],
            v["truncated"],
            v["pages"],
            v["per_page"],
            v["page"]
        ])
    };
    assert_eq!(head(&first), serde_json::json!([1_500, false, 2, 1_000, 1]));
    let second = app.json("/0/data/groups.json?page=2");
    let mut listed: Vec<String> = Vec::new();
    for page in [&first, &second] {
        for g in page["groups"].as_array().unwrap() {
            listed.push(g["name"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(listed, expected, "every group once, newest first");
    let small = app.json("/0/data/groups.json?page=3&per_page=7");
    assert_eq!(names(&small["groups"], "name").len(), 7);
    assert_eq!(small["groups"][0]["name"], expected[14]);
    assert_eq!(small["groups"][0]["statuses"]["queued"], 1);
    assert_eq!(app.get("/0/data/groups.json?per_page=0").status, 400);
    assert_eq!(app.get("/0/data/groups.json?page=abc").status, 400);

    // The page: 100 a page, a pager, the range, and no cap to confess.
    let doc = app.html("/0/view/groups");
    assert_eq!(count(&doc, "#groups tr[data-group]"), 100);
    assert!(
        text(&doc, "#range").contains("1,500"),
        "{}",
        text(&doc, "#range")
    );
    assert_eq!(count(&doc, "#groups-capped"), 0);
    let last = app.html("/0/view/groups?page=15");
    let rows = attrs(&last, "#groups tr[data-group]", "data-group");
    assert_eq!(rows, expected[1_400..].to_vec());
    assert!(texts(&last, "nav.pager a").contains(&"15".to_string()));
    // A group past the first 1,000 has its own page.
    let oldest = app.html("/0/view/groups/many-00000");
    assert_eq!(count(&oldest, "#job-list tr[data-job-id]"), 1);

    // Past the cap of 10,000 names, both say what is left out.
    rq.many_groups(&redis.url(), 1_500, 8_501);
    let capped = app.json("/0/data/groups.json?per_page=10");
    assert_eq!(
        serde_json::json!([
            capped["total"],
            capped["listed"],
            capped["truncated"],
            capped["pages"]
        ]),
        serde_json::json!([10_001, 10_000, true, 1_000])
    );
    let doc = app.html("/0/view/groups");
    let note = text(&doc, "#groups-capped");
    assert!(note.contains("10,000") && note.contains("10,001"), "{note}");
}

#[test]
fn groups_match_rq_and_act_like_rq_2_12() {
    groups_match_rq_and_act_like_rq("2.12.0")
}

#[test]
fn groups_match_rq_and_act_like_rq_3_0() {
    groups_match_rq_and_act_like_rq("3.0.0")
}

#[test]
fn rate_limits_match_rq_3_0() {
    let redis = TestRedis::start();
    let rq = Rq::new("3.0.0");
    rq.rate_limits(&redis.url());
    let app = TestApp::for_redis(&redis.url());
    let ours = app.json("/0/data/rate_limits.json");
    let oracle = rq.rate_limits_oracle(&redis.url());
    let theirs = oracle["rate_limits"].as_object().unwrap();
    assert_eq!(
        names(&ours["rate_limits"], "key"),
        theirs.keys().cloned().collect::<BTreeSet<_>>()
    );
    for l in ours["rate_limits"].as_array().unwrap() {
        let t = &theirs[l["key"].as_str().unwrap()];
        for f in ["concurrency", "in_use", "waiting"] {
            assert_eq!(l[f].as_u64(), t[f].as_u64(), "{f}: {l} vs {t}");
        }
        assert_eq!(
            l["leaked"].as_u64().unwrap() as usize,
            t["leaked"].as_array().unwrap().len(),
            "{l} vs {t}"
        );
        assert!(l["oldest_waiting_age_s"].is_number() == (t["waiting"].as_u64() > Some(0)));
    }
    let doc = app.html("/0/view/rate-limits");
    assert_eq!(
        texts(&doc, "tr[data-rate-limit=\"leaky\"] td.leaked a").len(),
        1
    );
    let waiting = app.html("/0/view/rate-limits/api");
    let waiters: BTreeSet<String> = attrs(&waiting, "#job-list tr[data-job-id]", "data-job-id")
        .into_iter()
        .collect();
    let want: BTreeSet<String> = theirs["api"]["waiters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(waiters, want);
    // A waiting job's page names its limit.
    let one = want.iter().next().unwrap();
    let job = app.html(&format!("/0/view/job/{one}"));
    assert!(text(&job, "td[data-field=\"rate limit\"]").starts_with("api"));
}

fn retries_and_repeats_show(version: &'static str) {
    let redis = TestRedis::start();
    let rq = Rq::new(version);
    let made = rq.retries(&redis.url());
    let app = TestApp::for_redis(&redis.url());
    let field = |id: &str, name: &str| {
        text(
            &app.html(&format!("/0/view/job/{id}")),
            &format!("td[data-field=\"{name}\"]"),
        )
    };
    let jobs = &made["jobs"];
    // Retried after an exception: retries left, and when the next attempt runs.
    let left = jobs["retry-failing"]["retries_left"].as_i64().unwrap();
    let f = field("retry-failing", "retries");
    assert!(
        f.contains(&format!("{left} more retries")),
        "RQ {version}: {f}"
    );
    // RQ's 60 s interval may have passed by now on a loaded machine: then it is due.
    assert!(
        f.contains("next in ") || f.contains("next just now"),
        "RQ {version}: {f}"
    );
    // A returned Retry: the attempt number RQ recorded.
    let n = jobs["retry-returned"]["number_of_retries"]
        .as_i64()
        .unwrap();
    let f = field("retry-returned", "retries");
    assert!(
        f.starts_with(&format!("attempt {}", n + 1)),
        "RQ {version}: {f}"
    );
    // A repeat: runs so far, repeats left, next run.
    if made["repeat_supported"] == true {
        let left = jobs["repeat-once"]["repeats_left"].as_i64().unwrap();
        let f = field("repeat-once", "repeats");
        assert!(
            f.starts_with(&format!("run 1, {left} repeats left")),
            "RQ {version}: {f}"
        );
    }
    // The scheduled list marks what is a retry and what a repeat.
    let doc = app.html("/0/view/jobs/retries/scheduled/50/asc/1");
    let mark = |id: &str| text(&doc, &format!("tr[data-job-id=\"{id}\"] .rerun"));
    assert_eq!(mark("retry-failing"), "retry");
    assert_eq!(mark("retry-returned"), "retry");
    if made["repeat_supported"] == true {
        assert_eq!(mark("repeat-once"), "repeat");
    }
}

#[test]
fn retries_and_repeats_show_2_12() {
    retries_and_repeats_show("2.12.0")
}

#[test]
fn retries_and_repeats_show_3_0() {
    retries_and_repeats_show("3.0.0")
}

fn executions_show_and_stop(version: &'static str) {
    let redis = TestRedis::start();
    let rq = Rq::new(version);
    let _busy = rq.busy_worker(&redis.url(), "busy", "job-busy");
    let oracle = rq.executions(&redis.url(), "job-busy");
    let exec = oracle["executions"][0].clone();
    let app = TestApp::for_redis(&redis.url());
    let doc = app.html("/0/view/job/job-busy");
    let id = exec["id"].as_str().unwrap();
    assert_eq!(
        attrs(&doc, "#job-executions tr[data-execution]", "data-execution"),
        vec![id.to_string()],
        "RQ {version}: {oracle}"
    );
    if let Some(w) = exec["worker_name"].as_str() {
        assert!(text(&doc, "#job-executions tr[data-execution] td:nth-child(2)").contains(w));
    }
    // The started list names the execution and shows the heartbeat.
    let started = app.html("/0/view/jobs/busy/started/8/asc/1");
    assert_eq!(
        text(&started, "tr[data-job-id=\"job-busy\"] .execution"),
        id,
        "RQ {version}"
    );
    // Stop that execution: the worker stops the job, which ends as stopped.
    app.act(&format!("/0/job/job-busy/executions/{id}/stop"));
    wait_for(Duration::from_secs(30), "the job to be stopped", || {
        let v = app.json("/0/data/job/job-busy.json");
        (v["status"] == "stopped" || v["status"] == "failed").then_some(())
    });
}

#[test]
fn executions_show_and_stop_2_12() {
    executions_show_and_stop("2.12.0")
}

#[test]
fn executions_show_and_stop_3_0() {
    executions_show_and_stop("3.0.0")
}

#[test]
fn rq_scheduler_jobs_are_listed_with_their_schedule() {
    let redis = TestRedis::start();
    let made = Rq::new("2.12.0").legacy_scheduler(&redis.url());
    let app = TestApp::for_redis(&redis.url());
    let ours = app.json("/0/data/cron.json");
    let theirs = made["jobs"].as_array().unwrap();
    assert_eq!(
        ours["rq_scheduler_total"].as_u64(),
        Some(theirs.len() as u64)
    );
    let mine = ours["rq_scheduler_jobs"].as_array().unwrap();
    // Soonest first, as rq-scheduler orders them, with the schedule its meta holds.
    assert_eq!(
        names(&ours["rq_scheduler_jobs"], "id"),
        names(&made["jobs"], "id")
    );
    for (m, t) in mine.iter().zip(theirs) {
        assert_eq!(m["id"], t["id"]);
        for f in ["queue_name", "cron", "repeat"] {
            assert_eq!(m[f], t[f], "{f}: {m} vs {t}");
        }
        assert_eq!(m["interval"].as_f64(), t["interval"].as_f64(), "{m} vs {t}");
    }
    let doc = app.html("/0/view/cron");
    assert_eq!(
        count(&doc, "#rq-scheduler-jobs tr[data-job-id]"),
        theirs.len()
    );
    assert!(text(
        &doc,
        "#rq-scheduler-jobs tr[data-job-id=\"legacy-interval\"]"
    )
    .contains("every 1 min, 5 more times"));
}

fn maintenance_lag_is_reported(version: &'static str) {
    let redis = TestRedis::start();
    let rq = Rq::new(version);
    let lag = rq.maintenance_lag(&redis.url(), 1800);
    let app = TestApp::for_redis(&redis.url());
    let doc = app.html("/0/view/jobs/lagging/queued/8/asc/1");
    let items = texts(&doc, "#queue-maintenance li");
    let stuck = lag["intermediate_stuck"].as_array().unwrap().len();
    assert_eq!(stuck, 1);
    assert!(
        items
            .iter()
            .any(|i| i.starts_with("1 job in the intermediate list")),
        "RQ {version}: {items:?}"
    );
    for (registry, n) in lag["expired"].as_object().unwrap() {
        let want = format!("{} {registry} entries expired", n.as_u64().unwrap());
        assert!(
            items.iter().any(|i| i.starts_with(&want)),
            "RQ {version}: {want} in {items:?}"
        );
    }
    // A healthy queue beside it says nothing.
    rq.enqueue(&redis.url(), "healthy", 1);
    let doc = app.html("/0/view/jobs/healthy/queued/8/asc/1");
    assert_eq!(count(&doc, "#queue-maintenance"), 0);
}

#[test]
fn maintenance_lag_is_reported_2_12() {
    maintenance_lag_is_reported("2.12.0")
}

#[test]
fn maintenance_lag_is_reported_3_0() {
    maintenance_lag_is_reported("3.0.0")
}

#[test]
fn workers_show_their_host_and_a_pending_warm_shutdown() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let _busy = rq.busy_worker(&redis.url(), "busy", "job-busy");
    let _idle = rq.idle_worker(&redis.url(), "other", "idle-1");
    let app = TestApp::for_redis(&redis.url());
    let busy = wait_for(Duration::from_secs(30), "both workers, one busy", || {
        let w = app.json("/0/data/workers.json");
        let names = names(&w["workers"], "name");
        let one_busy = w["workers"]
            .as_array()
            .is_some_and(|ws| ws.iter().any(|x| x["state"] == "busy"));
        (names.len() == 2 && names.contains("idle-1") && one_busy).then_some(w)
    });
    let host = busy["workers"][0]["hostname"].as_str().unwrap().to_string();
    let doc = app.html("/0/view/workers");
    assert_eq!(
        attrs(&doc, "#worker-hosts .host", "data-host"),
        vec![host.clone()]
    );
    assert!(text(&doc, "#worker-hosts").contains(&format!("{host} (2 workers)")));
    // Ask the busy one to shut down: it finishes its job first, and the page says it is waiting.
    let name = busy["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["state"] == "busy")
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string();
    app.act(&format!("/0/worker/{name}/shutdown"));
    wait_for(
        Duration::from_secs(30),
        "the shutdown request to show",
        || {
            let doc = app.html("/0/view/workers");
            let row = format!("tr[data-worker=\"{name}\"] .shutting-down");
            (count(&doc, &row) == 1).then_some(())
        },
    );
}
