//! Bulk actions under live RQ workers, a producer and RQ's own maintenance, for every RQ
//! version: invariants, never timings. Each job touched is in exactly one place afterwards, each
//! run is counted once (by the job itself, in `rqtest:runs`), and nothing that arrived after the
//! click is touched.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;

use crate::support::{wait_for, Rq, TestApp, TestRedis};

fn ids_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect()
}

/// Starts a bulk action that must run in the background; returns its task id.
fn start_task(app: &TestApp, path: &str) -> u64 {
    let r = app.post(path, &[]);
    assert_eq!(r.status, 202, "POST {path}: {}", r.text());
    r.json()["task"].as_u64().unwrap()
}

fn wait_task(app: &TestApp, id: u64) -> Value {
    wait_for(Duration::from_secs(300), "the task to end", || {
        let t = app.json(&format!("/0/data/tasks/{id}.json"));
        (t["state"] != "running" && t["state"] != "interrupted").then_some(t)
    })
}

/// A field of a task's record in Redis (its cursor and counts are written by its chunks).
fn task_field(c: &mut redis::Connection, id: u64, field: &str) -> Option<String> {
    redis::cmd("HGET")
        .arg(format!("rqdash:rq:task:{id}"))
        .arg(field)
        .query(c)
        .unwrap()
}

/// The runs each job counted itself (`rqtest:runs`).
fn runs(c: &mut redis::Connection) -> HashMap<String, u64> {
    redis::cmd("HGETALL").arg("rqtest:runs").query(c).unwrap()
}

fn list(c: &mut redis::Connection, key: &str) -> Vec<String> {
    redis::cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query(c)
        .unwrap()
}

fn zset(c: &mut redis::Connection, key: &str) -> HashSet<String> {
    let v: Vec<String> = redis::cmd("ZRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query(c)
        .unwrap();
    v.into_iter().collect()
}

/// Which of `ids` still have a job hash.
fn existing(c: &mut redis::Connection, ids: &[String]) -> HashSet<String> {
    let mut p = redis::pipe();
    for id in ids {
        p.cmd("EXISTS").arg(format!("rq:job:{id}"));
    }
    let e: Vec<bool> = p.query(c).unwrap();
    ids.iter()
        .zip(e)
        .filter(|(_, e)| *e)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Asks RQ workers to stop after their current job (RQ's `shutdown` command, sent by the
/// dashboard) and waits until they are gone, so every job they took has settled.
fn warm_stop(app: &TestApp, redis: &TestRedis, names: &[&str]) {
    for n in names {
        app.act(&format!("/0/worker/{n}/shutdown"));
    }
    let mut c = redis.conn();
    wait_for(Duration::from_secs(60), "the workers to leave", || {
        let left: Vec<String> = redis::cmd("SMEMBERS")
            .arg("rq:workers")
            .query(&mut c)
            .unwrap();
        left.is_empty().then_some(())
    });
}

const TWICE: usize = 20_000;

/// Requeue-all of 20,000 failed jobs (`failure_ttl=3600`, beside one with RQ's default ttl)
/// while two workers run them and they fail again: every job runs once per click. A job that
/// failed again after being requeued re-enters the registry below the walk's bound, and must
/// not be requeued a second time.
pub fn requeue_all_runs_each_job_once(version: &'static str) {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new(version);
    let made = rq.counted_failed(&url, "twice", TWICE, "t-", &["--default-one"]);
    let ids = ids_of(&made["ids"]);
    assert_eq!(ids.len(), TWICE + 1);
    let app = TestApp::for_redis(&url);
    let _w1 = rq.idle_worker(&url, "twice", "twice-w1");
    let _w2 = rq.idle_worker(&url, "twice", "twice-w2");
    let mut c = redis.conn();
    let id = start_task(&app, "/0/requeue/twice");
    let t = wait_task(&app, id);
    let ran_during = runs(&mut c).len();
    eprintln!("RQ {version}: {t}; {ran_during} jobs ran while the task walked");
    assert_eq!(t["state"], "finished", "{t}");
    assert_eq!(t["done"], (TWICE + 1) as u64, "each job requeued once: {t}");
    assert!(
        ran_during > 0,
        "the workers ran requeued jobs while the task walked"
    );
    warm_stop(&app, &redis, &["twice-w1", "twice-w2"]);
    let runs = runs(&mut c);
    // Where each job is: the queue (as often as it is there), the failed registry, or held by a
    // worker that stopped right after taking it (RQ's intermediate list or started registry).
    let mut places: HashMap<String, Vec<&str>> = HashMap::new();
    for q in list(&mut c, "rq:queue:twice") {
        places.entry(q).or_default().push("queued");
    }
    for f in zset(&mut c, "rq:failed:twice") {
        places.entry(f).or_default().push("failed");
    }
    for i in list(&mut c, "rq:queue:twice:intermediate") {
        places.entry(i).or_default().push("taken");
    }
    for w in zset(&mut c, "rq:wip:twice") {
        let id = w.split(':').next().unwrap_or_default().to_string();
        let p = places.entry(id).or_default();
        if !p.contains(&"taken") {
            p.push("taken");
        }
    }
    let mut wrong = Vec::new();
    for id in &ids {
        let n = runs.get(id).copied().unwrap_or(0);
        let at = places.get(id).cloned().unwrap_or_default();
        let ok = matches!(
            (n, at.as_slice()),
            (0, ["queued" | "taken"]) | (1, ["failed" | "taken"])
        );
        if !ok {
            wrong.push(format!("{id}: ran {n} times, at {at:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "RQ {version}: {} jobs not run once or waiting in exactly one place, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
}

per_rq_version!(
    requeue_all_runs_each_failed_job_once_while_workers_fail_them_again,
    crate::concurrency::requeue_all_runs_each_job_once
);

const QUEUED: usize = 30_000;

/// The producer's jobs enqueued after the click: those after the queue's last id at the click
/// (the task's plan records it), up to what the producer counted.
fn produced_after(c: &mut redis::Connection, tail: &str, prefix: &str) -> Vec<String> {
    let first = tail
        .strip_prefix(prefix)
        .map(|n| n.parse::<u64>().unwrap() + 1)
        .unwrap_or(0);
    let upto: u64 = redis::cmd("GET").arg("rqtest:produced").query(c).unwrap();
    (first..upto).map(|i| format!("{prefix}{i}")).collect()
}

/// The jobs queued at the click (`base` plus the producer's jobs up to the plan's `tail`) and
/// the producer's jobs enqueued after it.
fn around_the_click(
    c: &mut redis::Connection,
    tail: &str,
    base: impl Iterator<Item = String>,
) -> (Vec<String>, Vec<String>) {
    let later = produced_after(c, tail, "p-");
    let produced_before = tail
        .strip_prefix("p-")
        .map(|n| n.parse::<u64>().unwrap() + 1)
        .unwrap_or(0);
    let mut before: Vec<String> = base.collect();
    before.extend((0..produced_before).map(|i| format!("p-{i}")));
    (before, later)
}

/// Asserts that every job enqueued after the click still exists.
fn assert_spared(c: &mut redis::Connection, later: &[String], version: &str) {
    let alive = existing(c, later);
    let gone: Vec<&String> = later.iter().filter(|i| !alive.contains(*i)).collect();
    assert!(
        gone.is_empty(),
        "RQ {version}: {} of {} jobs enqueued after the click were deleted, e.g. {:?}",
        gone.len(),
        later.len(),
        &gone[..gone.len().min(5)]
    );
}

/// Empty of a 30,000-job queue while a producer enqueues and two workers drain: no job
/// enqueued after the click is deleted, every job queued at the click is deleted or run, and
/// the count deleted is exact.
pub fn empty_spares_later_jobs(version: &'static str) {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new(version);
    rq.make_jobs(&url, "drain", QUEUED, "e-", false);
    let mut c = redis.conn();
    let _producer = rq.producer(&url, "drain", "p-");
    wait_for(Duration::from_secs(30), "the producer to start", || {
        let n: Option<u64> = redis::cmd("GET")
            .arg("rqtest:produced")
            .query(&mut c)
            .unwrap();
        (n.unwrap_or(0) > 20).then_some(())
    });
    let app = TestApp::for_redis(&url);
    let w1 = rq.idle_worker(&url, "drain", "drain-w1");
    let w2 = rq.idle_worker(&url, "drain", "drain-w2");
    let id = start_task(&app, "/0/queue/drain/queued/empty");
    let tail = task_field(&mut c, id, "tail").expect("the plan keeps the last id at the click");
    let t = wait_task(&app, id);
    assert_eq!(t["state"], "finished", "{t}");
    // Let the producer and the workers go on a little after the end, then stop them.
    std::thread::sleep(Duration::from_millis(300));
    drop(_producer);
    drop((w1, w2));
    let (before, later) = around_the_click(&mut c, &tail, (0..QUEUED).map(|i| format!("e-{i}")));
    assert_spared(&mut c, &later, version);
    // Everything queued at the click left the queue: deleted (exactly `done` of them) or run.
    let first_later = later.first().cloned();
    let alive = existing(&mut c, &before);
    let queued: HashSet<String> = list(&mut c, "rq:queue:drain").into_iter().collect();
    let still: Vec<&String> = before.iter().filter(|i| queued.contains(*i)).collect();
    assert!(
        still.is_empty(),
        "RQ {version}: jobs queued at the click are still queued: {:?}",
        &still[..still.len().min(5)]
    );
    let deleted = before.len() - alive.len();
    assert_eq!(
        t["done"].as_u64().unwrap() as usize,
        deleted,
        "RQ {version}: the count deleted is exact (later: {first_later:?})"
    );
    assert!(deleted > QUEUED / 2, "the empty deleted most: {deleted}");
}

per_rq_version!(
    empty_never_deletes_a_job_enqueued_after_the_click,
    crate::concurrency::empty_spares_later_jobs
);

/// Deleting a search's matches while they are requeued and picked up by workers: the jobs no
/// longer in the failed registry are left alone, every running job's hash stays whole and its
/// worker's result lands. And a search of the started registry cannot delete at all.
pub fn delete_of_matches_spares_moved_jobs(version: &'static str) {
    const M: usize = 150;
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new(version);
    let made = rq.counted_failed(&url, "found", M, "m-", &["--sleep", "0.05"]);
    let ids = ids_of(&made["ids"]);
    let app = TestApp::for_redis(&url);
    let query = "queue=found&registry=failed";
    let s = wait_for(Duration::from_secs(30), "the search", || {
        let s = app.json(&format!("/0/data/search.json?{query}"));
        (s["complete"] == true).then_some(s)
    });
    assert_eq!(s["total"], M as u64);
    let _w1 = rq.idle_worker(&url, "found", "found-w1");
    let _w2 = rq.idle_worker(&url, "found", "found-w2");
    // The matches are requeued (by RQ's own API) and the workers start on them.
    rq.act(&url, &["--action", "requeue-all", "--queue", "found"]);
    let mut c = redis.conn();
    wait_for(Duration::from_secs(30), "a match to run", || {
        (!runs(&mut c).is_empty()).then_some(())
    });
    let v = app.act(&format!("/0/search/delete?{query}&expect={M}"));
    assert_eq!(v["count"], 0, "RQ {version}: no match is still failed: {v}");
    assert_eq!(v["kept"], M as u64, "{v}");
    wait_for(Duration::from_secs(120), "every match to run", || {
        (runs(&mut c).len() == M).then_some(())
    });
    warm_stop(&app, &redis, &["found-w1", "found-w2"]);
    let rq_view = rq.search_jobs(&url, &ids);
    for id in &ids {
        let j = &rq_view[id];
        assert_eq!(j["status"], "finished", "RQ {version}: {id}: {j}");
        assert!(
            j["results"].as_u64().unwrap_or(0) >= 1,
            "RQ {version}: {id}'s result landed: {j}"
        );
    }
    assert!(runs(&mut c).values().all(|n| *n == 1));
    // A running job is stopped, not deleted: the started registry's matches refuse delete.
    let r = app.post("/0/search/delete?queue=found&registry=started", &[]);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json()["message"].as_str().unwrap().contains("stop"));
}

per_rq_version!(
    delete_of_search_matches_leaves_jobs_that_moved_alone,
    crate::concurrency::delete_of_matches_spares_moved_jobs
);

/// A requeue-all walking the failed registry while RQ's own maintenance removes expired
/// entries behind it: no failed job is left behind.
pub fn walk_survives_maintenance(version: &'static str) {
    const VALID: usize = 20_000;
    const GHOSTS: usize = 1_000;
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new(version);
    rq.counted_failed(
        &url,
        "kept",
        VALID,
        "k-",
        &["--ghosts", &GHOSTS.to_string()],
    );
    // The ghosts' entries expire a second after they were made.
    std::thread::sleep(Duration::from_millis(1500));
    let _maintainer = rq.maintainer(&url, "kept");
    let app = TestApp::for_redis(&url);
    let mut c = redis.conn();
    let id = start_task(&app, "/0/requeue/kept");
    // Once the walk is past the ghosts (kept: their jobs are gone), RQ's maintenance runs.
    wait_for(Duration::from_secs(60), "the walk past the ghosts", || {
        let kept: u64 = task_field(&mut c, id, "n_kept")
            .and_then(|k| k.parse().ok())
            .unwrap_or(0);
        (kept >= GHOSTS as u64).then_some(())
    });
    let _: () = redis::cmd("SET")
        .arg("rqtest:maintain")
        .arg(1)
        .query(&mut c)
        .unwrap();
    wait_for(Duration::from_secs(30), "RQ's maintenance", || {
        let n: Option<u64> = redis::cmd("GET")
            .arg("rqtest:maintained")
            .query(&mut c)
            .unwrap();
        n.filter(|n| *n > 0).map(|_| ())
    });
    let done_then: u64 = task_field(&mut c, id, "n_done")
        .and_then(|k| k.parse().ok())
        .unwrap_or(0);
    assert!(
        done_then < VALID as u64,
        "RQ {version}: maintenance ran while the walk went on ({done_then} done)"
    );
    let t = wait_task(&app, id);
    assert_eq!(t["state"], "finished", "{t}");
    let left = zset(&mut c, "rq:failed:kept");
    assert!(
        left.is_empty(),
        "RQ {version}: {} failed jobs left behind, e.g. {:?}",
        left.len(),
        left.iter().take(5).collect::<Vec<_>>()
    );
    assert_eq!(t["done"], VALID as u64, "{t}");
    redis.assert_queued_once("kept", VALID);
}

per_rq_version!(
    a_requeue_all_walk_leaves_no_failed_job_behind_while_rq_cleans_the_registry,
    crate::concurrency::walk_survives_maintenance
);

/// A replica killed mid-Empty while a producer enqueues and a worker drains; its task is
/// resumed on the other replicas by two clicks at once: one run continues (the other click is
/// refused), nothing enqueued after the click (so nothing after the crash) is deleted, and the
/// count deleted is exact (no chunk ran twice).
pub fn resumed_empty_continues_once(version: &'static str) {
    const JOBS: usize = 60_000;
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new(version);
    rq.make_jobs(&url, "crash", JOBS, "e-", false);
    let mut c = redis.conn();
    let producer = rq.producer(&url, "crash", "p-");
    wait_for(Duration::from_secs(30), "the producer to start", || {
        let n: Option<u64> = redis::cmd("GET")
            .arg("rqtest:produced")
            .query(&mut c)
            .unwrap();
        (n.unwrap_or(0) > 20).then_some(())
    });
    let worker = rq.idle_worker(&url, "crash", "crash-w1");
    let a = TestApp::for_redis(&url);
    let b = TestApp::for_redis(&url);
    let d = TestApp::for_redis(&url);
    let id = start_task(&a, "/0/queue/crash/queued/empty");
    let tail = task_field(&mut c, id, "tail").expect("the plan keeps the last id at the click");
    wait_for(Duration::from_secs(30), "the first chunks", || {
        task_field(&mut c, id, "n_done").map(|_| ())
    });
    // Replica A dies mid-task.
    drop(a);
    assert_eq!(
        task_field(&mut c, id, "tail_done"),
        None,
        "RQ {version}: the Empty ended before its replica died"
    );
    let t = wait_for(
        Duration::from_secs(90),
        "the task to show as interrupted",
        || {
            let t = b.json(&format!("/0/data/tasks/{id}.json"));
            (t["state"] == "interrupted").then_some(t)
        },
    );
    assert_eq!(t["resumable"], true, "{t}");
    // Two resume clicks at once, on two replicas.
    let path = format!("/0/tasks/{id}/resume");
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let h: Vec<_> = [&b, &d]
            .into_iter()
            .map(|app| {
                let path = &path;
                s.spawn(move || {
                    let r = app.post(path, &[]);
                    (r.status, r.json())
                })
            })
            .collect();
        h.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    statuses.sort_unstable();
    assert!(
        statuses[0] != 409 && statuses[1] == 409,
        "RQ {version}: one resume runs, the other is refused: {answers:?}"
    );
    let (_, won) = answers.iter().find(|(s, _)| *s != 409).unwrap();
    let new = won["task"].as_u64().unwrap();
    let end = wait_task(&b, new);
    assert_eq!(end["state"], "finished", "{end}");
    assert_eq!(end["resumed_from"], id, "{end}");
    let old = b.json(&format!("/0/data/tasks/{id}.json"));
    assert_eq!(old["state"], "resumed", "{old}");
    assert_eq!(old["resumed_by"], new, "{old}");
    assert_eq!(old["resumable"], false, "{old}");
    std::thread::sleep(Duration::from_millis(300));
    drop(producer);
    drop(worker);
    let (before, later) = around_the_click(&mut c, &tail, (0..JOBS).map(|i| format!("e-{i}")));
    assert_spared(&mut c, &later, version);
    let deleted = before.len() - existing(&mut c, &before).len();
    assert_eq!(
        end["done"].as_u64().unwrap() as usize,
        deleted,
        "RQ {version}: the two runs together deleted each job once, and counted it once"
    );
    let queued: HashSet<String> = list(&mut c, "rq:queue:crash").into_iter().collect();
    assert!(
        before.iter().all(|i| !queued.contains(i)),
        "the Empty finished"
    );
}

per_rq_version!(
    an_empty_resumed_after_its_replica_died_continues_once_and_spares_later_jobs,
    crate::concurrency::resumed_empty_continues_once
);

/// A scheduled job already due while RQ's scheduler holds its queue's lock may be enqueued by
/// that scheduler at any moment (it reads due jobs, then acts, without WATCH): enqueue-now and
/// cancel are refused with a sentence, and Redis is left as it was. Once no scheduler holds the
/// lock, both work.
pub fn due_job_is_left_to_the_scheduler(version: &'static str) {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new(version);
    let due = &rq.enqueue_with(&url, "due", "add", &["1", "2"], 1, &["--schedule-in", "-5"])[0];
    let later = &rq.enqueue_with(
        &url,
        "due",
        "add",
        &["3", "4"],
        1,
        &["--schedule-in", "3600"],
    )[0];
    let lock = rq.scheduler_lock(&url, "due");
    let mut c = redis.conn();
    wait_for(Duration::from_secs(10), "the scheduler's lock", || {
        let n: u64 = redis::cmd("EXISTS")
            .arg("rq:scheduler-lock:due")
            .query(&mut c)
            .unwrap();
        (n == 1).then_some(())
    });
    let app = TestApp::for_redis(&url);
    for verb in ["enqueue", "cancel"] {
        let r = app.post(&format!("/0/job/{due}/{verb}"), &[]);
        assert_eq!(r.status, 409, "RQ {version}: {verb}: {}", r.text());
        let m = r.json()["message"].as_str().unwrap().to_string();
        assert!(m.contains("scheduler"), "{m}");
    }
    assert!(zset(&mut c, "rq:scheduled:due").contains(due.as_str()));
    assert_eq!(list(&mut c, "rq:queue:due"), Vec::<String>::new());
    // A job not yet due is the dashboard's to move.
    app.act(&format!("/0/job/{later}/enqueue"));
    drop(lock);
    app.act(&format!("/0/job/{due}/cancel"));
    assert_eq!(list(&mut c, "rq:queue:due"), vec![later.clone()]);
    assert!(zset(&mut c, "rq:canceled:due").contains(due.as_str()));
}

per_rq_version!(
    a_due_job_is_left_to_the_scheduler_that_holds_its_queue,
    crate::concurrency::due_job_is_left_to_the_scheduler
);

/// Clean removes ghost ids, but RQ schedules a job by adding it to the scheduled registry a
/// moment before its hash is saved: a ghost there is removed only if it is still one seconds
/// later. The job RQ scheduled meanwhile stays, a true ghost goes.
#[test]
fn clean_spares_a_job_rq_is_scheduling() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    let gone = &rq.enqueue_with(
        &url,
        "sch",
        "add",
        &["1", "2"],
        1,
        &["--schedule-in", "3600"],
    )[0];
    let mut c = redis.conn();
    let _: () = redis::cmd("DEL")
        .arg(format!("rq:job:{gone}"))
        .query(&mut c)
        .unwrap();
    // RQ's schedule in its window: the registry entry is written, the hash not yet.
    let _: () = redis::cmd("ZADD")
        .arg("rq:scheduled:sch")
        .arg(4_000_000_000u64)
        .arg("late-1")
        .query(&mut c)
        .unwrap();
    let app = TestApp::for_redis(&url);
    let answer = std::thread::scope(|s| {
        let h = s.spawn(|| app.act("/0/queue/sch/clean"));
        // The first look noted both; now RQ's EXEC lands for late-1.
        wait_for(Duration::from_secs(30), "the first look", || {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg("rqdash:rq:task:*:ghosts")
                .query(&mut c)
                .unwrap();
            let k = keys.first()?;
            let n: u64 = redis::cmd("SCARD").arg(k).query(&mut c).unwrap();
            (n == 2).then_some(())
        });
        rq.enqueue_with(
            &url,
            "sch",
            "add",
            &["5", "6"],
            1,
            &["--job-id", "late-1", "--schedule-in", "3600"],
        );
        h.join().unwrap()
    });
    assert_eq!(answer["count"], 1, "{answer}");
    let left = zset(&mut c, "rq:scheduled:sch");
    assert!(left.contains("late-1"), "{left:?}");
    assert!(!left.contains(gone.as_str()), "{left:?}");
}

/// A stop asked for a task whose record is gone from Redis (expired, or never written by a
/// Redis that refused it) writes a record that still expires.
#[test]
fn a_stop_request_never_leaves_a_record_without_a_ttl() {
    let redis = TestRedis::start();
    let url = redis.url();
    Rq::new("2.12.0").make_jobs(&url, "ttl", 10, "t-", true);
    let app = TestApp::for_redis(&url);
    let id = app.act("/0/requeue/ttl")["task"].as_u64().unwrap();
    let mut c = redis.conn();
    let key = format!("rqdash:rq:task:{id}");
    let _: () = redis::cmd("DEL").arg(&key).query(&mut c).unwrap();
    app.act(&format!("/0/tasks/{id}/cancel"));
    let ttl: i64 = redis::cmd("TTL").arg(&key).query(&mut c).unwrap();
    assert!(ttl > 0, "the record expires: TTL {ttl}");
}

/// `--disable-delete` covers resuming too: a replica started with it refuses to resume (or
/// take over) an Empty another replica runs, and Redis is left to that replica.
#[test]
fn a_replica_with_delete_disabled_refuses_to_resume_an_empty() {
    let redis = TestRedis::start();
    let url = redis.url();
    Rq::new("2.12.0").make_jobs(&url, "nodel", 20_000, "n-", false);
    let a = TestApp::for_redis(&url);
    let mut s = rqdash::config::Settings::for_url(&url);
    s.disable_delete = true;
    let b = TestApp::spawn(s);
    let id = start_task(&a, "/0/queue/nodel/queued/empty");
    let r = b.post(&format!("/0/tasks/{id}/resume"), &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["status"], "DISABLED");
    let t = wait_task(&a, id);
    assert_eq!(t["state"], "finished", "A's run was not disturbed: {t}");
    assert_eq!(t["resumed_by"], Value::Null);
}
