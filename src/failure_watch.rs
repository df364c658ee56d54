//! The two failure rules: a queue failing well above its recent baseline (`failure_rate`), and a
//! burst of one exception not seen before (`failure_burst`).
//!
//! - `failure_rate` reads only the count history ([`crate::history`]): failures in the last
//!   [`RATE_WINDOW_MINUTES`] against the rate of the [`BASELINE_MINUTES`] before them. It waits
//!   until the history covers [`MIN_BASELINE_MINUTES`] of baseline, so a restart does not take a
//!   queue's usual failures for a surge.
//! - `failure_burst` reads, when a queue's failed registry grew since the last evaluation, the
//!   newest entries (its growth and [`SLACK`], at most [`READ_PER_QUEUE`], one bounded chunk
//!   like a search's; at most [`READS_PER_ROUND`] queues a round) and the
//!   exception of each, fingerprinted as the failure groups are. The first look at a queue learns
//!   what it already fails with (at most [`BASELINE_QUEUES_PER_ROUND`] queues per round); after
//!   that, an exception not known before that shows up `burst_min` times within
//!   `burst_window_secs` is a burst until the window has passed, then it is known.
//!
//! Memory: per queue at most [`MAX_KNOWN`] known fingerprints and the new ones of the window,
//! each with at most [`MAX_IDS`] job ids.

use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::health::{Problem, Severity, Thresholds};
use crate::history::History;
use crate::rq::decode::last_line;
use crate::rq::failure_groups::fingerprint;
use crate::rq::model::Registry;
use crate::rq::repository::search::ScoreRange;
use crate::rq::search::Needs;
use crate::rq::{Repository, Snapshot};

/// The recent window of `failure_rate`, in minutes.
pub const RATE_WINDOW_MINUTES: i64 = 5;
/// Its baseline: the minutes before the window.
pub const BASELINE_MINUTES: i64 = 60;
/// The least baseline the history must cover.
pub const MIN_BASELINE_MINUTES: i64 = 30;
/// The most new failures read per queue and evaluation.
pub const READ_PER_QUEUE: u64 = 100;
/// The most queues learnt per evaluation.
pub const BASELINE_QUEUES_PER_ROUND: usize = 50;
/// The most queues whose new failures are read per evaluation (the others wait their turn).
pub const READS_PER_ROUND: usize = 100;
/// The most known fingerprints kept per queue.
pub const MAX_KNOWN: usize = 500;
/// The most job ids kept per new exception.
pub const MAX_IDS: usize = 1000;
/// Entries read beyond a registry's growth, so that entries of equal score (RQ scores by the
/// second) are not missed; ids already counted are counted once.
pub const SLACK: u64 = 20;

/// The `failure_rate` problems of the history at `now`.
pub fn rate_problems(history: &History, th: &Thresholds, now: DateTime<Utc>) -> Vec<Problem> {
    let minute = now.timestamp().div_euclid(60);
    let mut out = Vec::new();
    for (q, recent, base, covered) in
        history.failure_windows(minute, RATE_WINDOW_MINUTES, BASELINE_MINUTES)
    {
        if covered < MIN_BASELINE_MINUTES || recent < th.failure_rate_min {
            continue;
        }
        let usual = base as f64 * RATE_WINDOW_MINUTES as f64 / covered as f64;
        if recent as f64 <= th.failure_rate_factor * usual.max(1.0) {
            continue;
        }
        out.push(
            Problem::for_queue(
                "failure_rate",
                Severity::Warning,
                format!(
                    "“{q}” failed {recent} jobs in the last {RATE_WINDOW_MINUTES} minutes; over the hour before it failed about {usual:.1} per {RATE_WINDOW_MINUTES} minutes"
                ),
                &q,
            )
            .with_text(crate::health::text(
                "problem.failure_rate",
                &[
                    ("queue", crate::health::plain(&q)),
                    ("recent", crate::health::plain(recent)),
                    ("minutes", crate::health::plain(RATE_WINDOW_MINUTES)),
                    ("usual", crate::health::plain(format!("{usual:.1}"))),
                ],
            )),
        );
    }
    out
}

#[derive(Debug, Default)]
struct QueueFailures {
    /// The failed registry's size at the last look.
    count: u64,
    /// Fingerprints known, with when last seen.
    known: HashMap<String, DateTime<Utc>>,
    /// New fingerprints.
    fresh: HashMap<String, Fresh>,
}

/// An exception new to its queue.
#[derive(Debug)]
struct Fresh {
    /// When it was first seen.
    first: DateTime<Utc>,
    /// The jobs that failed with it (at most [`MAX_IDS`]).
    ids: HashSet<String>,
    /// Its last line, as seen first.
    line: String,
    /// The first job seen with it.
    job: String,
}

/// What the failure-burst rule has learnt, per instance and queue.
#[derive(Debug, Default)]
pub struct Bursts {
    queues: Mutex<HashMap<(usize, String), QueueFailures>>,
}

impl Bursts {
    /// Looks at the failures of instance `n` that are new since the last call.
    pub async fn observe(
        &self,
        n: usize,
        repo: &Repository,
        snap: &Snapshot,
        th: &Thresholds,
        now: DateTime<Utc>,
    ) {
        // What to read, decided under the lock, read without it.
        let mut reads = Vec::new();
        {
            let Ok(mut g) = self.queues.lock() else {
                return;
            };
            let mut learning = 0;
            for q in &snap.overview.queues {
                match g.get_mut(&(n, q.name.clone())) {
                    Some(f) => {
                        let grew = q.failed.saturating_sub(f.count);
                        if grew == 0 {
                            // Shrunk (cleanup, requeue) or the same: the new size is the base.
                            f.count = q.failed;
                        } else if reads.len() < READS_PER_ROUND {
                            // Counted as read once the read succeeds; a queue left for a later
                            // round keeps its growth.
                            reads.push((q.name.clone(), (grew + SLACK).min(READ_PER_QUEUE), false));
                        }
                    }
                    None if learning < BASELINE_QUEUES_PER_ROUND => {
                        learning += 1;
                        g.insert(
                            (n, q.name.clone()),
                            QueueFailures {
                                count: q.failed,
                                ..QueueFailures::default()
                            },
                        );
                        if q.failed > 0 && reads.len() < READS_PER_ROUND {
                            reads.push((q.name.clone(), q.failed.min(READ_PER_QUEUE), true));
                        }
                    }
                    None => {}
                }
            }
            let names: std::collections::HashSet<&str> = snap
                .overview
                .queues
                .iter()
                .map(|q| q.name.as_str())
                .collect();
            g.retain(|(i, q), _| *i != n || names.contains(q.as_str()));
        }
        let needs = Needs {
            exc: true,
            ..Needs::default()
        };
        // Problems go to every viewer and to the alert webhooks: redacted for all of them.
        let blind = repo.blind();
        for (queue, count, learn) in reads {
            let Ok(chunk) = repo
                .scan_chunk(
                    &queue,
                    Registry::Failed,
                    ScoreRange::up_to(f64::INFINITY),
                    0,
                    count,
                    needs,
                )
                .await
            else {
                // Redis is not answering: the queues not read keep their growth for later.
                break;
            };
            let found = chunk.candidates;
            let Ok(mut g) = self.queues.lock() else {
                return;
            };
            let Some(f) = g.get_mut(&(n, queue.clone())) else {
                continue;
            };
            if let Some(q) = snap.overview.queues.iter().find(|q| q.name == queue) {
                f.count = q.failed;
            }
            let redactor = blind.hides(Some(&queue));
            for c in found {
                let Some(tb) = c.traceback.as_deref() else {
                    continue;
                };
                let tb = redactor.map_or(std::borrow::Cow::Borrowed(tb), |r| r.text(tb));
                let line = last_line(&tb);
                let fp = fingerprint(line);
                if learn || f.known.contains_key(&fp) {
                    f.known.insert(fp, now);
                    continue;
                }
                let e = f.fresh.entry(fp).or_insert_with(|| Fresh {
                    first: now,
                    ids: HashSet::new(),
                    line: line.to_string(),
                    job: c.id.clone(),
                });
                if e.ids.len() < MAX_IDS {
                    e.ids.insert(c.id);
                }
            }
        }
        // New exceptions past the window become known; the known list stays bounded.
        let window =
            chrono::Duration::try_seconds(th.burst_window_secs).unwrap_or(chrono::Duration::MAX);
        let Ok(mut g) = self.queues.lock() else {
            return;
        };
        for ((i, _), f) in g.iter_mut() {
            if *i != n {
                continue;
            }
            let old: Vec<String> = f
                .fresh
                .iter()
                .filter(|(_, v)| now - v.first > window)
                .map(|(k, _)| k.clone())
                .collect();
            for k in old {
                f.fresh.remove(&k);
                f.known.insert(k, now);
            }
            if f.known.len() > MAX_KNOWN {
                let mut by_age: Vec<(String, DateTime<Utc>)> =
                    f.known.iter().map(|(k, t)| (k.clone(), *t)).collect();
                by_age.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
                f.known = by_age.into_iter().take(MAX_KNOWN).collect();
            }
        }
    }

    /// The `failure_burst` problems of instance `n`.
    pub fn problems(&self, n: usize, th: &Thresholds) -> Vec<Problem> {
        let Ok(g) = self.queues.lock() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for ((i, q), f) in g.iter() {
            if *i != n {
                continue;
            }
            for Fresh {
                first,
                ids,
                line,
                job,
            } in f.fresh.values()
            {
                let count = ids.len() as u64;
                if count < th.burst_min {
                    continue;
                }
                let mut p = Problem::for_queue(
                    "failure_burst",
                    Severity::Warning,
                    format!(
                        "a new exception in “{q}”: {count} jobs failed with “{line}” since {}",
                        first.format("%H:%M:%S UTC")
                    ),
                    q,
                )
                .with_text(crate::health::text(
                    "problem.failure_burst",
                    &[
                        ("queue", crate::health::plain(q)),
                        ("n", crate::health::plain(count)),
                        ("line", crate::health::plain(line)),
                        ("since", crate::health::plain(first.format("%H:%M:%S UTC"))),
                    ],
                ));
                p.job = Some(job.clone());
                out.push(p);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Sample;

    /// Records `failed` failures of queue `q` at `at`.
    fn add(h: &History, at: DateTime<Utc>, failed: u64) {
        let s = Sample {
            failed,
            ..Sample::default()
        };
        h.with_store(|st| st.add(at.timestamp(), &[("q".to_string(), s)]));
    }

    #[test]
    fn a_surge_over_the_baseline_is_a_problem_and_the_usual_rate_is_not() {
        let t0 = DateTime::from_timestamp(1_800_000_020 / 60 * 60, 0).unwrap();
        let h = History::new(false, String::new());
        let th = Thresholds::default();
        // An hour of 2 failures a minute.
        for m in 0..60 {
            add(&h, t0 + chrono::Duration::minutes(m), 2);
        }
        let now = t0 + chrono::Duration::minutes(59);
        assert!(rate_problems(&h, &th, now).is_empty());
        // Then 20 a minute for five minutes: 100 against about 10.
        for m in 60..65 {
            add(&h, t0 + chrono::Duration::minutes(m), 20);
        }
        let now = t0 + chrono::Duration::minutes(64);
        let p = rate_problems(&h, &th, now);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].queue.as_deref(), Some("q"));
        assert!(p[0].message.contains("failed 100 jobs"), "{}", p[0].message);
    }

    #[test]
    fn no_baseline_no_verdict() {
        let t0 = DateTime::from_timestamp(1_800_000_020 / 60 * 60, 0).unwrap();
        let h = History::new(false, String::new());
        for m in 0..10 {
            add(&h, t0 + chrono::Duration::minutes(m), 50);
        }
        let now = t0 + chrono::Duration::minutes(9);
        assert!(rate_problems(&h, &Thresholds::default(), now).is_empty());
    }
}
