//! Bulk actions over 100k jobs while two real RQ workers consume the same queue: every job is
//! accounted for exactly once afterwards.

use crate::support::{wait_for, Rq, TestApp, TestRedis};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

const N: usize = 100_000;

fn run_task(app: &TestApp, path: &str) -> Value {
    let r = app.post(path, &[]);
    assert_eq!(
        r.status,
        202,
        "a big bulk action runs in the background: {}",
        r.text()
    );
    let v = r.json();
    assert_eq!(v["status"], "OK");
    let total = v["total"].as_u64().unwrap();
    assert!(total > 0 && total <= N as u64, "total {total}");
    let id = v["task"].as_u64().unwrap();
    wait_for(Duration::from_secs(300), "the task to end", || {
        let t = app.json(&format!("/0/data/tasks/{id}.json"));
        (t["state"] != "running").then_some(t)
    })
}

/// Where each id of `prefix` sits: counts per place (queue, intermediate, and each registry).
fn places(redis: &TestRedis, queue: &str, prefix: &str) -> HashMap<String, Vec<&'static str>> {
    let mut c = redis.conn();
    let mut at: HashMap<String, Vec<&'static str>> = HashMap::new();
    let list = |c: &mut redis::Connection, k: &str| -> Vec<String> {
        redis::cmd("LRANGE").arg(k).arg(0).arg(-1).query(c).unwrap()
    };
    let zset = |c: &mut redis::Connection, k: &str| -> Vec<String> {
        redis::cmd("ZRANGE").arg(k).arg(0).arg(-1).query(c).unwrap()
    };
    for id in list(&mut c, &format!("rq:queue:{queue}")) {
        at.entry(id).or_default().push("queue");
    }
    for (name, reg) in [
        ("finished", "finished"),
        ("failed", "failed"),
        ("started", "wip"),
    ] {
        for m in zset(&mut c, &format!("rq:{reg}:{queue}")) {
            let id = m.split(':').next().unwrap().to_string();
            at.entry(id).or_default().push(name);
        }
    }
    // A job moved to the intermediate list and already in the started registry is one job in
    // transit; alone, it is still waiting to run.
    for id in list(&mut c, &format!("rq:queue:{queue}:intermediate")) {
        let e = at.entry(id).or_default();
        if !e.contains(&"started") {
            e.push("intermediate");
        }
    }
    at.retain(|id, _| id.starts_with(prefix));
    at
}

#[test]
fn requeue_and_empty_of_100k_jobs_beside_two_workers_account_for_every_job() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let app = TestApp::for_redis(&redis.url());

    // Requeue: 100k failed jobs (recorded by RQ's own API), two workers on the same queue.
    rq.make_jobs(&redis.url(), "bulk", N, "f-", true);
    let w1 = rq.idle_worker(&redis.url(), "bulk", "bulk-w1");
    let w2 = rq.idle_worker(&redis.url(), "bulk", "bulk-w2");
    let t = run_task(&app, "/requeue/bulk");
    assert_eq!(t["state"], "finished", "{t}");
    assert_eq!(t["done"], N as u64, "{t}");
    assert_eq!(t["kept"], 0, "{t}");
    std::thread::sleep(Duration::from_secs(1));
    drop((w1, w2));
    let at = places(&redis, "bulk", "f-");
    assert_eq!(at.len(), N, "every requeued job is somewhere");
    let doubled: Vec<_> = at.iter().filter(|(_, p)| p.len() != 1).take(5).collect();
    assert!(
        doubled.is_empty(),
        "jobs in more than one place: {doubled:?}"
    );
    let ran = at.values().filter(|p| p[0] == "finished").count();
    eprintln!("requeue: {ran} of {N} already run by the two workers");
    assert!(ran > 0, "the workers took requeued jobs meanwhile");
    assert!(
        at.values().all(|p| p[0] != "failed"),
        "nothing is still failed"
    );

    // Empty: 100k queued jobs, two workers consuming.
    rq.make_jobs(&redis.url(), "bulkq", N, "q-", false);
    let w3 = rq.idle_worker(&redis.url(), "bulkq", "bulk-w3");
    let w4 = rq.idle_worker(&redis.url(), "bulkq", "bulk-w4");
    std::thread::sleep(Duration::from_millis(500));
    let t = run_task(&app, "/0/queue/bulkq/queued/empty");
    assert_eq!(t["state"], "finished", "{t}");
    std::thread::sleep(Duration::from_secs(1));
    drop((w3, w4));
    let deleted = t["done"].as_u64().unwrap() as usize;
    let at = places(&redis, "bulkq", "q-");
    let mut c = redis.conn();
    // Each job was either deleted by the empty (hash gone, nowhere) or taken by a worker.
    let mut exists = 0;
    for i in (0..N).step_by(1) {
        let id = format!("q-{i}");
        let has_hash: bool = redis::cmd("EXISTS")
            .arg(format!("rq:job:{id}"))
            .query(&mut c)
            .unwrap();
        match (has_hash, at.get(&id)) {
            (false, None) => {}
            (true, Some(p)) if p.len() == 1 && p[0] != "queue" => exists += 1,
            other => panic!("job {id} is not accounted for exactly once: {other:?}"),
        }
    }
    assert_eq!(deleted + exists, N, "deleted {deleted} + run {exists}");
    assert!(deleted > N / 2, "the empty deleted most: {deleted}");
}

#[test]
fn a_stopped_bulk_task_keeps_exact_counts_and_finishes_when_run_again() {
    const M: usize = 60_000;
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    rq.make_jobs(&redis.url(), "cq", M, "c-", true);
    let app = TestApp::for_redis(&redis.url());
    let mut c = redis.conn();

    // Start, and stop it at once.
    let r = app.post("/0/requeue/cq", &[]);
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["task"].as_u64().unwrap();
    app.act(&format!("/0/tasks/{id}/cancel"));
    let t = wait_for(Duration::from_secs(120), "the task to end", || {
        let t = app.json(&format!("/0/data/tasks/{id}.json"));
        (t["state"] != "running").then_some(t)
    });
    eprintln!("stopped task: {t}");
    let done = t["done"].as_u64().unwrap();
    let queued: u64 = redis::cmd("LLEN").arg("rq:queue:cq").query(&mut c).unwrap();
    let failed: u64 = redis::cmd("ZCARD")
        .arg("rq:failed:cq")
        .query(&mut c)
        .unwrap();
    assert_eq!(queued, done, "the count it reports is what it did");
    assert_eq!(queued + failed, M as u64, "nothing lost or doubled");

    // Run it again: it finishes the rest and nothing is requeued twice.
    let second = app.bulk("/0/requeue/cq")["done"].as_u64().unwrap();
    assert_eq!(done + second, M as u64);
    redis.assert_queued_once("cq", M);
}
