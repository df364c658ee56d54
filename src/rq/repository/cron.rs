//! RQ's cron state (2.4+): schedulers, their cron jobs and each cron job's runs, in four
//! pipelined round trips, each bounded whatever the history's size.

use chrono::Utc;
use redis::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::resp::{bytes_of, hash_of, int_of, items_of, members_with_scores, text_of};
use super::{RepoError, Repository};
use crate::redact::Sight;
use crate::rq::decode;
use crate::rq::model::cron::{CronJob, CronJobState, CronRun, CronScheduler, LegacyScheduledJob};
use crate::rq::model::{from_epoch_secs, JobStatus};

/// The most schedulers and cron jobs read.
pub const MAX_ENTRIES: u64 = 1_000;
/// The most cron-job runs read in one go (spread over the cron jobs).
const MAX_RUNS_READ: usize = 2_000;
/// The most `rq-scheduler` jobs listed.
const LEGACY_SHOWN: u64 = 100;

/// Everything the cron page shows.
#[derive(Debug, Clone, Default)]
pub struct CronOverview {
    /// Schedulers, newest heartbeat first.
    pub schedulers: Vec<CronScheduler>,
    /// Every cron job known from a scheduler or from `rq:cron_jobs`, by name.
    pub jobs: Vec<CronJobState>,
    /// Jobs of the separate `rq-scheduler` library, soonest first (the first 100).
    pub legacy: Vec<LegacyScheduledJob>,
    /// How many jobs `rq-scheduler` holds in all.
    pub legacy_total: u64,
}

impl CronOverview {
    /// The cron state as `sight` sees it: the cron jobs' functions and arguments, and the
    /// `rq-scheduler` jobs' descriptions, redacted by their queue (a copy only when something
    /// may be hidden from it).
    pub fn seen_by(self: Arc<Self>, sight: &Sight) -> Arc<CronOverview> {
        if sight.hides(None).is_none() {
            return self;
        }
        let mut c = (*self).clone();
        let jobs = c
            .jobs
            .iter_mut()
            .map(|j| &mut j.job)
            .chain(c.schedulers.iter_mut().flat_map(|s| s.jobs.iter_mut()));
        for j in jobs {
            if let Some(r) = sight.hides(Some(&j.queue_name)) {
                r.cron_job(j);
            }
        }
        for l in &mut c.legacy {
            if let (Some(r), Some(d)) = (sight.hides(l.queue.as_deref()), &mut l.description) {
                r.text_in(d);
            }
        }
        Arc::new(c)
    }
}

impl Repository {
    /// Reads the cron schedulers, their cron jobs and the newest `runs` runs of each.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn cron(&self, runs: usize) -> Result<CronOverview, RepoError> {
        let now = Utc::now();
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("ZREVRANGE")
            .arg(self.keys.cron_schedulers())
            .arg(0)
            .arg(MAX_ENTRIES - 1)
            .arg("WITHSCORES")
            .cmd("ZREVRANGE")
            .arg(self.keys.cron_jobs())
            .arg(0)
            .arg(MAX_ENTRIES - 1)
            .arg("WITHSCORES")
            .cmd("ZCARD")
            .arg(self.keys.rq_scheduler_jobs())
            .cmd("ZRANGE")
            .arg(self.keys.rq_scheduler_jobs())
            .arg(0)
            .arg(LEGACY_SHOWN - 1)
            .arg("WITHSCORES");
        let mut r = self.run(&p).await?.into_iter();
        let registered = members_with_scores(r.next().unwrap_or(Value::Nil));
        let recorded = members_with_scores(r.next().unwrap_or(Value::Nil));
        let legacy_total = int_of(&r.next().unwrap_or(Value::Nil));
        let legacy_ids = members_with_scores(r.next().unwrap_or(Value::Nil));

        let mut p = redis::pipe();
        p.ignore_errors();
        for (name, _) in &registered {
            p.cmd("HGETALL").arg(self.keys.cron_scheduler(name));
        }
        let hashes = self.run(&p).await?;
        let schedulers: Vec<CronScheduler> = registered
            .iter()
            .zip(hashes)
            .map(|((name, score), h)| {
                CronScheduler::from_hash(name, score.and_then(from_epoch_secs), &hash_of(h))
            })
            .collect();

        // Every cron job by name: the live scheduler's description wins over a stale one's.
        let mut jobs: BTreeMap<String, (CronJob, bool)> = BTreeMap::new();
        for s in &schedulers {
            let alive = s.alive(now);
            for j in &s.jobs {
                let keep = jobs.get(&j.name).is_some_and(|(_, a)| *a && !alive);
                if !keep {
                    jobs.insert(j.name.clone(), (j.clone(), alive));
                }
            }
        }
        let last: BTreeMap<String, Option<f64>> = recorded.into_iter().collect();
        for name in last.keys() {
            jobs.entry(name.clone()).or_insert_with(|| {
                (
                    CronJob {
                        name: name.clone(),
                        ..CronJob::default()
                    },
                    false,
                )
            });
        }

        // At most about 2,000 runs read in all, however many cron jobs there are.
        let runs = (MAX_RUNS_READ / jobs.len().max(1)).clamp(5, runs.max(1));
        let mut p = redis::pipe();
        p.ignore_errors();
        for name in jobs.keys() {
            let key = self.keys.cron_job_runs(name);
            p.cmd("ZCARD").arg(&key);
            p.cmd("ZREVRANGE")
                .arg(&key)
                .arg(0)
                .arg(runs.max(1) - 1)
                .arg("WITHSCORES");
        }
        let mut r = self.run(&p).await?.into_iter();
        let mut states = Vec::with_capacity(jobs.len());
        for (name, (job, alive)) in jobs {
            let run_count = int_of(&r.next().unwrap_or(Value::Nil));
            let runs = members_with_scores(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .map(|(id, score)| CronRun {
                    id,
                    enqueued_at: score.and_then(from_epoch_secs),
                    status: None,
                })
                .collect();
            states.push(CronJobState {
                last_recorded: last.get(&name).copied().flatten().and_then(from_epoch_secs),
                job,
                scheduler_alive: alive,
                run_count,
                runs,
                missed: 0,
                late_secs: None,
                utc_offset_secs: None,
            });
        }

        let mut p = redis::pipe();
        p.ignore_errors();
        for s in &states {
            for run in &s.runs {
                p.cmd("HGET").arg(self.keys.job(&run.id)).arg("status");
            }
        }
        for (id, _) in &legacy_ids {
            p.cmd("HMGET")
                .arg(self.keys.job(id))
                .arg("description")
                .arg("origin")
                .arg("meta")
                .arg("created_at");
        }
        let mut r = self.run(&p).await?.into_iter();
        for s in &mut states {
            for run in &mut s.runs {
                run.status = text_of(r.next().unwrap_or(Value::Nil)).map(|t| JobStatus::parse(&t));
            }
        }
        let legacy = legacy_ids
            .into_iter()
            .map(|(id, score)| {
                let mut f = items_of(r.next().unwrap_or(Value::Nil)).into_iter();
                let description = f.next().and_then(text_of);
                let queue = f.next().and_then(text_of);
                let meta = f.next().and_then(bytes_of);
                let exists = f.next().and_then(text_of).is_some();
                let job = LegacyScheduledJob {
                    id,
                    next_run: score.and_then(from_epoch_secs),
                    description,
                    queue,
                    exists,
                    ..LegacyScheduledJob::default()
                };
                match meta {
                    Some(m) => job.with_meta(&decode::payload(&m, self.json_first).to_json()),
                    None => job,
                }
            })
            .collect();
        let jobs = states.into_iter().map(|s| s.assess(now)).collect();
        Ok(CronOverview {
            schedulers,
            jobs,
            legacy,
            legacy_total,
        })
    }
}
