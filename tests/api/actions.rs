//! Operator actions leave Redis exactly as RQ's own API would, and real workers carry on.
//!
//! Each case seeds real RQ data once, clones it into two fresh Redis servers, does the action
//! through RQ's Python API on one and through rqdash on the other, and compares every key.

use crate::support::snapshot::{clone_into, diff, snapshot};
use crate::support::{seg, Rq, TestApp, TestRedis};

struct Case {
    name: &'static str,
    rq: Vec<&'static str>,
    ours: String,
    /// Keys to delete in both copies first (e.g. to leave a ghost id for compact).
    del_first: &'static [&'static str],
    /// Hash fields to delete in both copies first: (key, field).
    hdel_first: &'static [(&'static str, &'static str)],
}

fn case(name: &'static str, rq: &[&'static str], ours: String) -> Case {
    Case {
        name,
        rq: rq.to_vec(),
        ours,
        del_first: &[],
        hdel_first: &[],
    }
}

fn cases() -> Vec<Case> {
    let odd = "a/b:c ünï";
    let mut compact = case(
        "compact a queue holding a ghost id",
        &["--action", "compact", "--queue", odd],
        format!("/0/queue/{}/compact", seg(odd)),
    );
    compact.del_first = &["rq:job:job-odd-1"];
    // A hash without `group_id` (written by RQ 1.x, or by another client): RQ 2.x/3.0 write an
    // empty one when they requeue it.
    let mut no_group = case(
        "requeue a job whose hash lacks group_id",
        &["--action", "requeue", "--id", "job-failed-1"],
        "/0/job/job-failed-1/requeue".into(),
    );
    no_group.hdel_first = &[("rq:job:job-failed-1", "group_id")];
    vec![
        no_group,
        case(
            "requeue",
            &["--action", "requeue", "--id", "job-failed-1"],
            "/0/job/job-failed-1/requeue".into(),
        ),
        case(
            "requeue at front",
            &["--action", "requeue", "--id", "job-failed-2", "--at-front"],
            "/0/job/job-failed-2/requeue?at_front=1".into(),
        ),
        case(
            "cancel a queued job",
            &["--action", "cancel", "--id", "job-queued-1"],
            "/0/job/job-queued-1/cancel".into(),
        ),
        case(
            "cancel a scheduled job",
            &["--action", "cancel", "--id", "job-scheduled"],
            "/0/job/job-scheduled/cancel".into(),
        ),
        case(
            "cancel a deferred job",
            &["--action", "cancel", "--id", "job-deferred"],
            "/0/job/job-deferred/cancel".into(),
        ),
        case(
            "delete a finished job",
            &["--action", "delete", "--id", "job-finished-1"],
            "/0/job/job-finished-1/delete".into(),
        ),
        case(
            "delete a failed job",
            &["--action", "delete", "--id", "job-failed-2"],
            "/0/job/job-failed-2/delete".into(),
        ),
        case(
            "delete a queued job with a dependent",
            &["--action", "delete", "--id", "job-queued-1"],
            "/0/job/job-queued-1/delete".into(),
        ),
        case(
            "delete a canceled job",
            &["--action", "delete", "--id", "job-to-cancel"],
            "/0/job/job-to-cancel/delete".into(),
        ),
        case(
            "enqueue a scheduled job now",
            &["--action", "enqueue-now", "--id", "job-scheduled"],
            "/0/job/job-scheduled/enqueue".into(),
        ),
        case(
            "empty a queue",
            &["--action", "empty", "--queue", "default"],
            "/0/queue/default/queued/empty".into(),
        ),
        case(
            "requeue all failed jobs",
            &["--action", "requeue-all", "--queue", "default"],
            "/0/requeue/default".into(),
        ),
        case(
            "purge the finished registry",
            &[
                "--action",
                "purge",
                "--queue",
                "default",
                "--registry",
                "finished",
            ],
            "/0/queue/default/finished/empty".into(),
        ),
        case(
            "purge the failed registry",
            &[
                "--action",
                "purge",
                "--queue",
                "default",
                "--registry",
                "failed",
            ],
            "/0/queue/default/failed/empty".into(),
        ),
        case(
            "purge the canceled registry",
            &[
                "--action",
                "purge",
                "--queue",
                "default",
                "--registry",
                "canceled",
            ],
            "/0/queue/default/canceled/empty".into(),
        ),
        case(
            "suspend workers",
            &["--action", "suspend"],
            "/0/suspend".into(),
        ),
        case(
            "remove an empty queue",
            &["--action", "remove-queue", "--queue", "empty-queue"],
            "/0/queue/empty-queue/remove".into(),
        ),
        compact,
    ]
}

pub fn actions_match_rq(version: &'static str) {
    let rq = Rq::new(version);
    let base = TestRedis::start();
    rq.seed(&base.url());
    compare(&rq, &base, cases());
}

/// Does each case through RQ and through rqdash on two clones of `base`, and compares every key.
fn compare(rq: &Rq, base: &TestRedis, cases: Vec<Case>) {
    let version = rq.version;
    let before = snapshot(base);
    let mut failures = Vec::new();
    for c in cases {
        let by_rq = TestRedis::start();
        let by_us = TestRedis::start();
        clone_into(base, &by_rq);
        clone_into(base, &by_us);
        for k in c.del_first {
            for r in [&by_rq, &by_us] {
                let _: () = redis::cmd("DEL").arg(*k).query(&mut r.conn()).unwrap();
            }
        }
        for (k, f) in c.hdel_first {
            for r in [&by_rq, &by_us] {
                let _: () = redis::cmd("HDEL")
                    .arg(*k)
                    .arg(*f)
                    .query(&mut r.conn())
                    .unwrap();
            }
        }
        rq.act(&by_rq.url(), &c.rq);
        let app = TestApp::for_redis(&by_us.url());
        app.act(&c.ours);
        let mut after_rq = snapshot(&by_rq);
        if !version.starts_with('3') {
            // rqdash deletes the results of a deleted job, as RQ 3 does; RQ 1.x/2.x leave them.
            let orphans: Vec<String> = after_rq
                .keys()
                .filter_map(|k| k.strip_prefix("rq:results:"))
                .filter(|id| {
                    let job = format!("rq:job:{id}");
                    before.contains_key(&job) && !after_rq.contains_key(&job)
                })
                .map(|id| format!("rq:results:{id}"))
                .collect();
            for k in orphans {
                after_rq.remove(&k);
            }
        }
        // The comparison means something only if RQ's action changed the data.
        assert!(
            !diff(&before, &after_rq).is_empty(),
            "RQ {version}, {}: RQ changed nothing",
            c.name
        );
        // The dashboard's own keys (bulk task records, the history, `rqdash:…`) are not RQ's:
        // set them aside, after checking they are only that.
        let mut after_us = snapshot(&by_us);
        let own: Vec<String> = after_us
            .keys()
            .filter(|k| k.starts_with("rqdash:"))
            .cloned()
            .collect();
        for k in own {
            assert!(
                k.starts_with("rqdash:rq:task:")
                    || k == "rqdash:rq:audit"
                    || crate::support::is_history_key(&k),
                "RQ {version}, {}: unexpected dashboard key {k}",
                c.name
            );
            after_us.remove(&k);
        }
        let d = diff(&after_rq, &after_us);
        if !d.is_empty() {
            failures.push(format!("RQ {version}, {}:\n  {}", c.name, d.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "rqdash left Redis unlike RQ:\n{}",
        failures.join("\n")
    );
}

per_rq_version!(
    actions_leave_redis_as_rq_does,
    crate::actions::actions_match_rq
);

/// RQ 3.0 rate limits: cancel and delete free a slot holder's slot (and RQ's acquire loop
/// promotes the oldest waiting job), a waiting job just stops waiting; requeue and enqueue-now
/// of a rate-limited job go through the limit (waiting when it is full, pushed when free),
/// exactly as RQ 3.0's own API and scheduler do.
#[test]
fn rate_limited_actions_leave_redis_as_rq_3_does() {
    let rq = Rq::new("3.0.0");
    let base = TestRedis::start();
    rq.rate_limits(&base.url());
    let st = rq.rate_limited_failed(&base.url());
    assert_eq!(st["rl-flaky-1"], "failed", "{st}");
    assert_eq!(st["rl-flaky-2"], "queued", "{st}");
    assert_eq!(st["rl-sched-1"], "scheduled", "{st}");
    let cases = vec![
        case(
            "cancel a job holding a slot (the oldest waiting job takes it)",
            &["--action", "cancel", "--id", "rl-api-1"],
            "/0/job/rl-api-1/cancel".into(),
        ),
        case(
            "cancel a job waiting for a slot",
            &["--action", "cancel", "--id", "rl-api-4"],
            "/0/job/rl-api-4/cancel".into(),
        ),
        case(
            "delete a job holding a slot",
            &["--action", "delete", "--id", "rl-api-2"],
            "/0/job/rl-api-2/delete".into(),
        ),
        case(
            "delete a job waiting for a slot",
            &["--action", "delete", "--id", "rl-api-5"],
            "/0/job/rl-api-5/delete".into(),
        ),
        case(
            "requeue a failed job whose limit is full (it waits)",
            &["--action", "requeue", "--id", "rl-flaky-1"],
            "/0/job/rl-flaky-1/requeue".into(),
        ),
        case(
            "requeue a failed job whose limit is free (it is queued)",
            &["--action", "requeue", "--id", "rl-solo-1"],
            "/0/job/rl-solo-1/requeue".into(),
        ),
        case(
            "enqueue a scheduled rate-limited job now",
            &["--action", "enqueue-now", "--id", "rl-sched-1"],
            "/0/job/rl-sched-1/enqueue".into(),
        ),
    ];
    compare(&rq, &base, cases);
}

pub fn workers_carry_on(version: &'static str) {
    // Arrange
    let rq = Rq::new(version);
    let redis = TestRedis::start();
    rq.seed(&redis.url());
    let app = TestApp::for_redis(&redis.url());

    // Act: requeue a failed job and enqueue the scheduled one now, then let a real worker run.
    app.act("/0/job/job-failed-1/requeue");
    app.act("/0/job/job-scheduled/enqueue");
    rq.burst(&redis.url(), &["default"]);

    // Assert: RQ ran both.
    let oracle = rq.oracle(&redis.url());
    let failed = &oracle["jobs"]["job-failed-1"];
    assert_eq!(
        failed["status"], "failed",
        "RQ {version}: the requeued job ran (and failed again)"
    );
    let j = app.json("/0/data/job/job-failed-1.json");
    assert_eq!(
        j["results"].as_array().unwrap().len(),
        2,
        "RQ {version}: two failures recorded"
    );
    assert_eq!(
        oracle["jobs"]["job-scheduled"]["status"], "finished",
        "RQ {version}"
    );
    assert_eq!(
        oracle["jobs"]["job-scheduled"]["result"], "2",
        "RQ {version}"
    );
    assert_eq!(oracle["queues"]["default"]["queued"], 0, "RQ {version}");
}

per_rq_version!(
    real_workers_run_requeued_jobs,
    crate::actions::workers_carry_on
);
