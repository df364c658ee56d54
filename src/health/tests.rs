//! The rules on hand-made snapshots.

use super::*;
use crate::rq::model::{Overview, QueueCounts, RedisInfo, Worker};

fn snap(queues: Vec<QueueCounts>, workers: Vec<Worker>, redis: RedisInfo) -> Snapshot {
    Snapshot::new(
        Overview {
            queues,
            workers,
            dead_workers: vec![],
            suspended: false,
            has_ready: false,
            fetched_at: Utc::now(),
            redis,
        },
        Default::default(),
    )
}

#[test]
fn each_rule_says_what_is_wrong_and_a_healthy_queue_says_nothing() {
    let now = Utc::now();
    let mut w = Worker::from_hash("w1", &Default::default(), &[]);
    w.queues = vec!["served".into()];
    w.last_heartbeat = Some(now);
    let queues = vec![
        QueueCounts {
            name: "served".into(),
            queued: 2,
            oldest_enqueued_at: Some(now),
            ..QueueCounts::default()
        },
        QueueCounts {
            name: "orphan".into(),
            queued: 1,
            overdue_scheduled: 3,
            oldest_enqueued_at: Some(now - chrono::Duration::seconds(3600)),
            ..QueueCounts::default()
        },
    ];
    let redis = RedisInfo {
        maxmemory_policy: "allkeys-lru".into(),
        ..RedisInfo::default()
    };
    let found = evaluate(
        &snap(queues, vec![w], redis),
        None,
        &[],
        &Thresholds::default(),
        now,
    );
    let rules: Vec<(&str, Option<&str>)> =
        found.iter().map(|p| (p.rule, p.queue.as_deref())).collect();
    assert!(
        rules.contains(&("queue_without_worker", Some("orphan"))),
        "{rules:?}"
    );
    assert!(rules.contains(&("scheduled_without_scheduler", Some("orphan"))));
    assert!(rules.contains(&("oldest_queued", Some("orphan"))));
    assert!(rules.contains(&("redis_eviction_policy", None)));
    assert!(
        !rules.iter().any(|(_, q)| *q == Some("served")),
        "{rules:?}"
    );
    // Silenced rules stay silent.
    let th = Thresholds {
        disabled: vec!["redis_eviction_policy".into()],
        ..Thresholds::default()
    };
    let redis = RedisInfo {
        maxmemory_policy: "allkeys-lru".into(),
        ..RedisInfo::default()
    };
    assert!(evaluate(&snap(vec![], vec![], redis), None, &[], &th, now).is_empty());
}

#[test]
fn problems_of_one_rule_about_different_things_have_different_keys() {
    let a = Problem::new("cron_scheduler_stale", Severity::Warning, "a".into()).subject("s1");
    let b = Problem::new("cron_scheduler_stale", Severity::Warning, "b".into()).subject("s2");
    assert_ne!(a.key(), b.key());
    // The message (with its counts) is not part of the key.
    let c = Problem::new("cron_scheduler_stale", Severity::Warning, "c".into()).subject("s1");
    assert_eq!(a.key(), c.key());
}

#[test]
fn a_problem_keeps_the_time_it_was_first_seen() {
    let t = Tracker::default();
    let t0 = Utc::now();
    let mut a = vec![Problem::new("r", Severity::Warning, "x".into())];
    t.stamp(0, &mut a, t0);
    let mut b = a.clone();
    t.stamp(0, &mut b, t0 + chrono::Duration::seconds(60));
    assert_eq!(b[0].since, Some(t0));
    // Gone, then back: a new start.
    t.stamp(0, &mut [], t0);
    let t2 = t0 + chrono::Duration::seconds(120);
    t.stamp(0, &mut b, t2);
    assert_eq!(b[0].since, Some(t2));
}
