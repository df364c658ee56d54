//! The rules that need memory across rounds, or reads of their own beyond the snapshot:
//!
//! - `worker_not_taking_jobs`: a live worker that is not busy has finished or failed no job for
//!   `stalled_secs` while jobs waited on its queues all along (from what the snapshot already
//!   reads);
//! - `maintenance_behind`: registry entries that expired more than RQ's 10-minute cleanup
//!   interval ago are still there;
//! - `intermediate_stuck`: jobs left in a queue's intermediate list for over a minute (a worker
//!   died between taking a job and starting it).
//!
//! The last two read each queue's maintenance state ([`Repository::queue_health`], two round
//! trips), at most [`QUEUES_PER_ROUND`] queues per round, in turn: with many queues a problem
//! shows within a few rounds, and the extra cost per round stays bounded.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

use crate::health::{Problem, Severity, Thresholds};
use crate::rq::model::{QueueHealth, Registry};
use crate::rq::{Repository, Snapshot};

/// Queues whose maintenance state is read per round.
pub const QUEUES_PER_ROUND: usize = 50;

#[derive(Debug, Default)]
struct State {
    /// Per worker: jobs done (finished + failed), and since when it has taken none while jobs
    /// waited on its queues.
    workers: HashMap<String, (i64, DateTime<Utc>)>,
    /// Per queue: the maintenance state last read.
    health: HashMap<String, QueueHealth>,
    /// Where the next round of maintenance reads starts.
    cursor: usize,
    /// Problems of the workers, as of the last round.
    stalled: Vec<Problem>,
}

/// What the stall rules remember, per instance.
#[derive(Debug, Default)]
pub struct StallWatch {
    inner: Mutex<HashMap<usize, State>>,
}

impl StallWatch {
    /// One round for instance `n`: updates the workers' progress and reads the maintenance
    /// state of the next queues.
    pub async fn observe(
        &self,
        n: usize,
        repo: &Repository,
        snap: &Snapshot,
        th: &Thresholds,
        now: DateTime<Utc>,
    ) {
        let o = &snap.overview;
        let queued: HashMap<&str, u64> = o
            .queues
            .iter()
            .map(|q| (q.name.as_str(), q.queued))
            .collect();
        let names: Vec<String> = o.queues.iter().map(|q| q.name.clone()).collect();
        let batch: Vec<String> = {
            let Ok(mut g) = self.inner.lock() else { return };
            let st = g.entry(n).or_default();
            let mut stalled = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for w in o.workers.iter().filter(|w| !w.is_stale(now)) {
                seen.insert(w.name.clone());
                let done = w.successful_job_count + w.failed_job_count;
                let waiting: u64 = w.queues.iter().filter_map(|q| queued.get(q.as_str())).sum();
                let e = st.workers.entry(w.name.clone()).or_insert((done, now));
                // The clock runs while the worker takes nothing and jobs wait for it.
                if e.0 != done || w.state == "busy" || waiting == 0 {
                    *e = (done, now);
                    continue;
                }
                let stalled_for = (now - e.1).num_seconds();
                if stalled_for >= th.stalled_secs {
                    stalled.push(Problem::for_worker(
                        "worker_not_taking_jobs",
                        Severity::Warning,
                        format!(
                            "worker {} is {} and has taken none of the jobs waiting on its queues for {} ({} waiting now){}",
                            w.name,
                            w.state,
                            crate::views::format::human_secs(stalled_for),
                            waiting,
                            if o.suspended { "; workers are suspended: `rq resume` starts them again" } else { "" }
                        ),
                        &w.name,
                    ).with_text(crate::health::text(
                        if o.suspended {
                            "problem.not_taking_jobs_suspended"
                        } else {
                            "problem.not_taking_jobs"
                        },
                        &[
                            ("worker", crate::health::plain(&w.name)),
                            ("state", crate::health::Arg::Word("wstate", w.state.clone())),
                            ("for", crate::health::Arg::Secs(stalled_for)),
                            ("n", crate::health::plain(waiting)),
                        ],
                    )));
                }
            }
            st.workers.retain(|k, _| seen.contains(k));
            st.stalled = stalled;
            st.health.retain(|q, _| queued.contains_key(q.as_str()));
            if names.is_empty() {
                Vec::new()
            } else {
                let start = st.cursor % names.len();
                st.cursor = start + QUEUES_PER_ROUND;
                names
                    .iter()
                    .cycle()
                    .skip(start)
                    .take(QUEUES_PER_ROUND.min(names.len()))
                    .cloned()
                    .collect()
            }
        };
        let mut read = Vec::with_capacity(batch.len());
        for q in batch {
            match repo.queue_health(&q).await {
                Ok(h) => read.push((q, h)),
                Err(_) => return,
            }
        }
        if let Ok(mut g) = self.inner.lock() {
            g.entry(n).or_default().health.extend(read);
        }
    }

    /// The problems of instance `n` as of its last round.
    pub fn problems(&self, n: usize) -> Vec<Problem> {
        let Ok(g) = self.inner.lock() else {
            return Vec::new();
        };
        let Some(st) = g.get(&n) else {
            return Vec::new();
        };
        let mut out = st.stalled.clone();
        for (q, h) in &st.health {
            // Started entries past their deadline are the `abandoned_jobs` rule's.
            let late: Vec<&(Registry, u64)> = h
                .expired
                .iter()
                .filter(|(r, c)| *r != Registry::Started && *c > 0)
                .collect();
            if !late.is_empty() {
                let which: Vec<String> = late
                    .iter()
                    .map(|(r, c)| format!("{c} {}", r.as_str()))
                    .collect();
                out.push(Problem::for_queue(
                    "maintenance_behind",
                    Severity::Warning,
                    format!(
                        "“{q}” has registry entries that expired over 10 minutes ago and are still there ({}): RQ's maintenance, which workers run every 10 minutes, is falling behind or no worker runs it",
                        which.join(", ")
                    ),
                    q,
                ).with_text(crate::health::text(
                    "problem.maintenance_behind",
                    &[
                        ("queue", crate::health::plain(q)),
                        ("which", crate::health::plain(which.join(", "))),
                    ],
                )));
            }
            if h.intermediate_stuck > 0 {
                out.push(Problem::for_queue(
                    "intermediate_stuck",
                    Severity::Warning,
                    format!(
                        "{} of “{q}” {} in RQ's intermediate list for over a minute: a worker took {} and stopped before starting {}; RQ's maintenance puts {} back",
                        if h.intermediate_stuck == 1 { "1 job".to_string() } else { format!("{} jobs", h.intermediate_stuck) },
                        if h.intermediate_stuck == 1 { "is stuck" } else { "are stuck" },
                        if h.intermediate_stuck == 1 { "it" } else { "them" },
                        if h.intermediate_stuck == 1 { "it" } else { "them" },
                        if h.intermediate_stuck == 1 { "it" } else { "them" },
                    ),
                    q,
                ).with_text(crate::health::text(
                    if h.intermediate_stuck == 1 {
                        "problem.intermediate_one"
                    } else {
                        "problem.intermediate_other"
                    },
                    &[
                        ("queue", crate::health::plain(q)),
                        ("n", crate::health::plain(h.intermediate_stuck)),
                    ],
                )));
            }
        }
        out
    }
}
