//! "What's wrong now": rules that read the signs RQ leaves in Redis and say them plainly, each
//! with the queue, worker or job it concerns, a severity, and since when it has been seen.
//!
//! Rules run on what the shared snapshot already read (counts, workers, scheduler locks, started
//! entries past their deadline, Redis's INFO) plus the shared cron state and RQ 3.0's rate limits:
//! no read of their own, so their cost does not grow with the number of viewers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::rq::model::cron::CronJobState;
use crate::rq::repository::cron::CronOverview;
use crate::rq::repository::rate_limits::RateLimitState;
use crate::rq::Snapshot;

mod thresholds;
mod tracker;
pub use thresholds::{Silence, Thresholds};
pub use tracker::{Badge, Tracker};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Needs a look.
    Warning,
    /// Work is being lost or stuck.
    Critical,
}

impl Severity {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One thing that is wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// The rule that found it (stable name, for silences and alerting).
    pub rule: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// What is wrong, in a sentence.
    pub message: String,
    /// The queue it concerns.
    pub queue: Option<String>,
    /// The worker it concerns.
    pub worker: Option<String>,
    /// The job it concerns.
    pub job: Option<String>,
    /// Since when this dashboard has seen it.
    pub since: Option<DateTime<Utc>>,
    /// What else tells it apart from problems of the same rule (a cron scheduler, a cron job, a
    /// rate limit), for its key; not shown.
    #[serde(skip)]
    pub subject: Option<String>,
    /// The message as a catalogue key and its values, to show it in the viewer's language
    /// ([`Problem::shown`]); `message` stays English for JSON, logs and webhooks.
    #[serde(skip)]
    pub text: Option<Text>,
}

/// A problem's message for people: a catalogue key (`problem.…`) and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    /// The catalogue key.
    pub key: &'static str,
    /// The values of its placeholders.
    pub args: Vec<(&'static str, Arg)>,
}

/// A value in a problem's message.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Shown as it is (names, counts).
    Plain(String),
    /// A duration in seconds, shown in the viewer's language.
    Secs(i64),
    /// A word of a closed set ([`crate::i18n::word`]: a worker state, a status…).
    Word(&'static str, String),
}

/// The translatable form of a message: catalogue key `key` with `args`.
pub fn text(key: &'static str, args: &[(&'static str, Arg)]) -> Option<Text> {
    Some(Text {
        key,
        args: args.to_vec(),
    })
}

/// A value shown as it is.
pub fn plain(v: impl ToString) -> Arg {
    Arg::Plain(v.to_string())
}

impl Problem {
    fn new(rule: &'static str, severity: Severity, message: String) -> Problem {
        Problem {
            rule,
            severity,
            message,
            queue: None,
            worker: None,
            job: None,
            since: None,
            subject: None,
            text: None,
        }
    }

    /// Sets the message's translatable form (whose English must be the message, word for
    /// word: checked in debug builds).
    pub fn with_text(mut self, t: Option<Text>) -> Problem {
        self.text = t;
        debug_assert_eq!(
            crate::i18n::sync_scope(crate::i18n::Lang::EN, || self.shown()),
            self.message,
            "en.toml differs from the message of {}",
            self.rule
        );
        self
    }

    /// The message in the current language (the English `message` when it has no catalogue form).
    pub fn shown(&self) -> String {
        let Some(t) = &self.text else {
            return self.message.clone();
        };
        let values: Vec<(&str, String)> = t
            .args
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Arg::Plain(s) => s.clone(),
                    Arg::Secs(n) => crate::views::format::human_secs(*n),
                    Arg::Word(kind, w) => crate::i18n::word(kind, w).into_owned(),
                };
                (*k, v)
            })
            .collect();
        let refs: Vec<(&str, &dyn std::fmt::Display)> = values
            .iter()
            .map(|(k, v)| (*k, v as &dyn std::fmt::Display))
            .collect();
        crate::i18n::tf(t.key, &refs)
    }

    fn subject(mut self, s: &str) -> Problem {
        self.subject = Some(s.to_string());
        self
    }

    /// A problem of one worker.
    pub fn for_worker(rule: &'static str, severity: Severity, message: String, w: &str) -> Problem {
        let mut p = Problem::new(rule, severity, message);
        p.worker = Some(w.to_string());
        p
    }

    /// A problem of one queue.
    pub fn for_queue(rule: &'static str, severity: Severity, message: String, q: &str) -> Problem {
        Problem::new(rule, severity, message).queue(q)
    }

    fn queue(mut self, q: &str) -> Problem {
        self.queue = Some(q.to_string());
        self
    }

    /// What identifies it across polls: the rule and what it concerns.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.rule,
            self.queue.as_deref().unwrap_or(""),
            self.worker.as_deref().unwrap_or(""),
            self.job.as_deref().unwrap_or(""),
            self.subject.as_deref().unwrap_or("")
        )
    }
}

/// Every rule's name, for `--alert-disable`.
pub const RULES: [&str; 17] = [
    "queue_without_worker",
    "worker_heartbeat_stopped",
    "scheduled_without_scheduler",
    "oldest_queued",
    "abandoned_jobs",
    "redis_eviction_policy",
    "redis_memory_near_max",
    "redis_evicting",
    "redis_not_ready",
    "cron_scheduler_stale",
    "cron_missed_runs",
    "leaked_rate_limit_slots",
    "failure_rate",
    "failure_burst",
    "worker_not_taking_jobs",
    "maintenance_behind",
    "intermediate_stuck",
];

/// Drops the problems turned off or silenced, and puts the worst first.
pub fn finish(out: &mut Vec<Problem>, th: &Thresholds, now: DateTime<Utc>) {
    out.retain(|p| !th.silenced(p, now));
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.key().cmp(&b.key())));
}

/// "1 job" / "3 jobs".
fn jobs(n: u64) -> String {
    if n == 1 {
        "1 job".into()
    } else {
        format!("{n} jobs")
    }
}

/// Every problem the rules find in `snap` (and the cron and rate-limit state, when read).
pub fn evaluate(
    snap: &Snapshot,
    cron: Option<&CronOverview>,
    rate_limits: &[RateLimitState],
    th: &Thresholds,
    now: DateTime<Utc>,
) -> Vec<Problem> {
    // Messages are English whoever asks (JSON, webhooks and logs read them); pages show
    // `Problem::shown`.
    crate::i18n::sync_scope(crate::i18n::Lang::EN, || {
        let found = evaluate_en(snap, cron, rate_limits, th, now);
        // The catalogue's English is the message itself, word for word.
        for p in &found {
            debug_assert_eq!(p.shown(), p.message, "en.toml differs for {}", p.rule);
        }
        found
    })
}

fn evaluate_en(
    snap: &Snapshot,
    cron: Option<&CronOverview>,
    rate_limits: &[RateLimitState],
    th: &Thresholds,
    now: DateTime<Utc>,
) -> Vec<Problem> {
    let o = &snap.overview;
    let mut out = Vec::new();
    let live: Vec<_> = o.workers.iter().filter(|w| !w.is_stale(now)).collect();
    for q in &o.queues {
        if q.queued > 0 && !live.iter().any(|w| w.queues.iter().any(|wq| wq == &q.name)) {
            out.push(
                Problem::new(
                    "queue_without_worker",
                    Severity::Critical,
                    format!(
                        "{} waiting in “{}” and no live worker listens to it",
                        jobs(q.queued),
                        q.name
                    ),
                )
                .with_text(text(
                    if q.queued == 1 {
                        "problem.no_worker_one"
                    } else {
                        "problem.no_worker_other"
                    },
                    &[("n", plain(q.queued)), ("queue", plain(&q.name))],
                ))
                .queue(&q.name),
            );
        }
        if q.overdue_scheduled > 0 && q.scheduler.is_none() {
            out.push(
                Problem::new(
                    "scheduled_without_scheduler",
                    Severity::Critical,
                    format!(
                        "{} scheduled on “{}” {} due, but no scheduler holds the queue's lock (start a worker with --with-scheduler)",
                        jobs(q.overdue_scheduled),
                        q.name,
                        if q.overdue_scheduled == 1 { "is" } else { "are" }
                    ),
                )
                .with_text(text(
                    if q.overdue_scheduled == 1 {
                        "problem.no_scheduler_one"
                    } else {
                        "problem.no_scheduler_other"
                    },
                    &[("n", plain(q.overdue_scheduled)), ("queue", plain(&q.name))],
                ))
                .queue(&q.name),
            );
        }
        let limit = th
            .oldest_queued_by_queue
            .get(&q.name)
            .copied()
            .unwrap_or(th.oldest_queued_secs);
        if let Some(t) = q.oldest_enqueued_at {
            let age = (now - t).num_seconds();
            if q.queued > 0 && age > limit {
                out.push(
                    Problem::new(
                        "oldest_queued",
                        Severity::Warning,
                        format!(
                            "the oldest job in “{}” has waited {} (more than {})",
                            q.name,
                            crate::views::format::human_secs(age),
                            crate::views::format::human_secs(limit)
                        ),
                    )
                    .with_text(text(
                        "problem.oldest_queued",
                        &[
                            ("queue", plain(&q.name)),
                            ("age", Arg::Secs(age)),
                            ("limit", Arg::Secs(limit)),
                        ],
                    ))
                    .queue(&q.name),
                );
            }
        }
        if q.abandoned > 0 {
            out.push(
                Problem::new(
                    "abandoned_jobs",
                    Severity::Warning,
                    format!(
                        "{} of “{}” still marked started past {} deadline: {} worker is gone, or {} ran past {} timeout",
                        jobs(q.abandoned),
                        q.name,
                        if q.abandoned == 1 { "its" } else { "their" },
                        if q.abandoned == 1 { "its" } else { "their" },
                        if q.abandoned == 1 { "it" } else { "they" },
                        if q.abandoned == 1 { "its" } else { "their" },
                    ),
                )
                .with_text(text(
                    if q.abandoned == 1 {
                        "problem.abandoned_one"
                    } else {
                        "problem.abandoned_other"
                    },
                    &[("n", plain(q.abandoned)), ("queue", plain(&q.name))],
                ))
                .queue(&q.name),
            );
        }
    }
    for w in &o.workers {
        if w.is_stale(now) {
            // No `job`: once the worker's key expires it is the same problem without one.
            out.push(
                Problem::for_worker(
                    "worker_heartbeat_stopped",
                    Severity::Warning,
                    format!(
                        "worker {} has not sent a heartbeat within RQ's worker TTL: its process is probably gone{}",
                        w.name,
                        w.current_job
                            .as_deref()
                            .map(|j| format!(" (it was running job {j})"))
                            .unwrap_or_default()
                    ),
                    &w.name,
                )
                .with_text(match w.current_job.as_deref() {
                    Some(j) => text(
                        "problem.worker_stale_job",
                        &[("worker", plain(&w.name)), ("job", plain(j))],
                    ),
                    None => text("problem.worker_stale", &[("worker", plain(&w.name))]),
                }),
            );
        }
    }
    for name in &o.dead_workers {
        out.push(
            Problem::for_worker(
                "worker_heartbeat_stopped",
                Severity::Warning,
                format!(
                    "worker {name} stopped without signing off: its heartbeat stopped and its key expired, but RQ still lists it (its maintenance removes it); a job it ran shows as abandoned once its deadline passes"
                ),
                name,
            )
            .with_text(text("problem.worker_dead", &[("worker", plain(name))])),
        );
    }
    let r = &o.redis;
    if !r.maxmemory_policy.is_empty() && r.maxmemory_policy != "noeviction" {
        out.push(Problem::new(
            "redis_eviction_policy",
            Severity::Critical,
            format!(
                "Redis's maxmemory-policy is {}: under memory pressure Redis deletes keys, and RQ loses jobs; RQ needs noeviction",
                r.maxmemory_policy
            ),
        )
        .with_text(text(
            "problem.eviction_policy",
            &[("policy", plain(&r.maxmemory_policy))],
        )));
    }
    if r.maxmemory > 0 && r.used_memory as f64 > r.maxmemory as f64 * th.memory_ratio {
        out.push(
            Problem::new(
                "redis_memory_near_max",
                Severity::Warning,
                format!(
                    "Redis uses {} of its maxmemory {} ({:.0}%)",
                    r.memory,
                    r.max_memory,
                    r.used_memory as f64 * 100.0 / r.maxmemory as f64
                ),
            )
            .with_text(text(
                "problem.memory_near_max",
                &[
                    ("used", plain(&r.memory)),
                    ("max", plain(&r.max_memory)),
                    (
                        "pct",
                        plain(format!(
                            "{:.0}",
                            r.used_memory as f64 * 100.0 / r.maxmemory as f64
                        )),
                    ),
                ],
            )),
        );
    }
    if r.evicted_keys > 0 {
        out.push(
            Problem::new(
                "redis_evicting",
                Severity::Critical,
                format!("Redis has evicted {} keys since it started", r.evicted_keys),
            )
            .with_text(text("problem.evicting", &[("n", plain(r.evicted_keys))])),
        );
    }
    if r.loading || r.role == "slave" {
        out.push(
            Problem::new(
                "redis_not_ready",
                Severity::Critical,
                if r.loading {
                    "Redis is still loading its data set".into()
                } else {
                    "this Redis is a replica: RQ's workers should use the master".into()
                },
            )
            .with_text(text(
                if r.loading {
                    "problem.loading"
                } else {
                    "problem.replica"
                },
                &[],
            )),
        );
    }
    if let Some(c) = cron {
        for s in &c.schedulers {
            if !s.alive(now) {
                out.push(
                    Problem::new(
                        "cron_scheduler_stale",
                        Severity::Warning,
                        format!(
                            "cron scheduler {} has sent no heartbeat for over {} s",
                            s.name,
                            crate::rq::model::cron::STALE_AFTER_SECS
                        ),
                    )
                    .with_text(text(
                        "problem.cron_scheduler_stale",
                        &[
                            ("scheduler", plain(&s.name)),
                            ("secs", plain(crate::rq::model::cron::STALE_AFTER_SECS)),
                        ],
                    ))
                    .subject(&s.name),
                );
            }
        }
        for j in &c.jobs {
            if let Some(p) = cron_job_problem(j) {
                out.push(p);
            }
        }
    }
    for l in rate_limits {
        if !l.leaked.is_empty() {
            out.push(
                Problem::new(
                    "leaked_rate_limit_slots",
                    Severity::Warning,
                    format!(
                        "rate limit “{}” has {} held by jobs no longer queued or started",
                        l.key,
                        if l.leaked.len() == 1 {
                            "1 slot".to_string()
                        } else {
                            format!("{} slots", l.leaked.len())
                        }
                    ),
                )
                .with_text(text(
                    if l.leaked.len() == 1 {
                        "problem.leaked_one"
                    } else {
                        "problem.leaked_other"
                    },
                    &[("key", plain(&l.key)), ("n", plain(l.leaked.len()))],
                ))
                .subject(&l.key),
            );
        }
    }
    finish(&mut out, th, now);
    out
}

fn cron_job_problem(j: &CronJobState) -> Option<Problem> {
    if j.job.scheduler.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if j.missed > 0 {
        parts.push(format!(
            "missed {} {}",
            j.missed,
            if j.missed == 1 { "run" } else { "runs" }
        ));
    }
    if let Some(late) = j.late_secs {
        parts.push(format!(
            "its next run is {} late",
            crate::views::format::human_secs(late)
        ));
    }
    (!parts.is_empty()).then(|| {
        Problem::new(
            "cron_missed_runs",
            Severity::Warning,
            format!("cron job “{}” {}", j.job.name, parts.join(" and ")),
        )
        .queue(&j.job.queue_name)
        .subject(&j.job.name)
    })
}

#[cfg(test)]
mod tests;
