//! Queues, their counts and health, and workers, answered in a fixed number of pipelined round
//! trips whatever the size of the data (jobs are read in [`super::jobs`]). Nothing here writes.

use chrono::Utc;
use redis::{Pipeline, Value};

use super::resp::{float_of, hash_of, int_of, items_of, text_of, texts_of};
use super::{RepoError, Repository};
use crate::rq::model::{
    Overview, QueueCounts, QueueHealth, RedisInfo, Registry, SchedulerLock, Worker,
};

/// How often RQ's workers run registry maintenance (`maintenance_interval`, 10 minutes).
pub const MAINTENANCE_INTERVAL_SECS: f64 = 600.0;

impl Repository {
    /// Returns the names of all queues in `rq:queues` and of all workers, sorted, whether
    async fn queue_and_worker_names(
        &self,
    ) -> Result<(Vec<String>, Vec<String>, bool, RedisInfo), RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("SMEMBERS")
            .arg(self.keys.queues())
            .cmd("SMEMBERS")
            .arg(self.keys.workers())
            .cmd("EXISTS")
            .arg(self.keys.suspended())
            .cmd("INFO");
        let mut r = self.run(&p).await?.into_iter();
        let queue_keys = texts_of(r.next().unwrap_or(Value::Nil));
        let worker_keys = texts_of(r.next().unwrap_or(Value::Nil));
        let suspended = int_of(&r.next().unwrap_or(Value::Nil)) > 0;
        let info = RedisInfo::parse(&r.next().and_then(text_of).unwrap_or_default());
        let mut queues: Vec<String> = queue_keys
            .iter()
            .filter_map(|k| self.keys.queue_name_from_key(k).map(str::to_string))
            .collect();
        queues.sort();
        queues.dedup();
        let mut workers: Vec<String> = worker_keys
            .iter()
            .filter_map(|k| self.keys.worker_name_from_key(k).map(str::to_string))
            .collect();
        workers.sort();
        workers.dedup();
        Ok((queues, workers, suspended, info))
    }

    fn push_worker_reads(&self, p: &mut Pipeline, names: &[String]) {
        for w in names {
            p.cmd("HGETALL")
                .arg(self.keys.worker(w))
                .cmd("SMEMBERS")
                .arg(self.keys.worker_executions(w));
        }
    }

    /// The workers read, and the members of `rq:workers` whose hash is gone.
    fn take_workers(
        names: &[String],
        r: &mut impl Iterator<Item = Value>,
    ) -> (Vec<Worker>, Vec<String>) {
        let mut workers = Vec::new();
        let mut dead = Vec::new();
        for w in names {
            let h = hash_of(r.next().unwrap_or(Value::Nil));
            let execs = texts_of(r.next().unwrap_or(Value::Nil));
            // A member whose hash is gone is a dead worker RQ has not cleaned yet: not listed,
            // as `Worker.all()` does, but remembered for the health rules.
            if h.is_empty() {
                dead.push(w.clone());
            } else {
                workers.push(Worker::from_hash(w, &h, &execs));
            }
        }
        workers.sort_by(|a, b| {
            (&a.state, a.queues.join(","), &a.name).cmp(&(&b.state, b.queues.join(","), &b.name))
        });
        (workers, dead)
    }

    /// Adds the reads of a queue's counts to a pipeline, in [`Registry::ALL`] order.
    fn push_counts(&self, p: &mut Pipeline, queue: &str) {
        p.cmd("LLEN").arg(self.keys.queue(queue));
        for r in &Registry::ALL[1..] {
            p.cmd("ZCARD").arg(self.keys.registry(*r, queue));
        }
    }

    /// Reads the overview: counts of every queue and registry, the age of each queue's head, the
    /// workers and the suspension flag, in three round trips whatever the number of queues.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn overview(&self) -> Result<Overview, RepoError> {
        let (queues, worker_names, suspended, redis_info) = self.queue_and_worker_names().await?;
        let mut p = redis::pipe();
        p.ignore_errors();
        let now = Utc::now().timestamp_micros() as f64 / 1e6;
        for q in &queues {
            self.push_counts(&mut p, q);
            p.cmd("LINDEX").arg(self.keys.queue(q)).arg(0);
            p.cmd("GET").arg(self.keys.scheduler_lock(q));
            p.cmd("ZCOUNT")
                .arg(self.keys.registry(Registry::Scheduled, q))
                .arg("-inf")
                .arg(now);
            // Past their deadline (from 0, as RQ's own cleanup counts: -1 never expires).
            p.cmd("ZCOUNT")
                .arg(self.keys.registry(Registry::Started, q))
                .arg(0)
                .arg(format!("({now}"));
        }
        self.push_worker_reads(&mut p, &worker_names);
        let mut r = self.run(&p).await?.into_iter();
        let mut counts = Vec::with_capacity(queues.len());
        let mut heads = Vec::new();
        let mut has_ready = false;
        for q in &queues {
            let mut c = QueueCounts {
                name: q.clone(),
                ..QueueCounts::default()
            };
            for reg in Registry::ALL {
                c.set(reg, int_of(&r.next().unwrap_or(Value::Nil)));
            }
            has_ready |= c.ready > 0;
            heads.push(text_of(r.next().unwrap_or(Value::Nil)));
            c.scheduler = text_of(r.next().unwrap_or(Value::Nil)).map(|holder| SchedulerLock {
                holder,
                ..SchedulerLock::default()
            });
            c.overdue_scheduled = int_of(&r.next().unwrap_or(Value::Nil));
            c.abandoned = int_of(&r.next().unwrap_or(Value::Nil));
            counts.push(c);
        }
        let (workers, dead_workers) = Self::take_workers(&worker_names, &mut r);

        let mut p = redis::pipe();
        p.ignore_errors();
        let head_ids: Vec<(usize, String)> = heads
            .into_iter()
            .enumerate()
            .filter_map(|(i, h)| h.map(|h| (i, h)))
            .collect();
        for (_, id) in &head_ids {
            p.cmd("HGET").arg(self.keys.job(id)).arg("enqueued_at");
        }
        let mut holders: Vec<String> = counts
            .iter()
            .filter_map(|c| c.scheduler.as_ref().map(|s| s.holder.clone()))
            .collect();
        holders.sort();
        holders.dedup();
        for h in &holders {
            p.cmd("HMGET")
                .arg(self.keys.scheduler(h))
                .arg("hostname")
                .arg("pid");
        }
        let mut r = self.run(&p).await?.into_iter();
        for (i, _) in &head_ids {
            counts[*i].oldest_enqueued_at = text_of(r.next().unwrap_or(Value::Nil))
                .and_then(|s| crate::rq::model::parse_timestamp(&s));
        }
        let mut known = std::collections::HashMap::new();
        for h in holders {
            let mut f = items_of(r.next().unwrap_or(Value::Nil)).into_iter();
            let hostname = f.next().and_then(text_of);
            let pid = f.next().and_then(text_of).and_then(|p| p.parse().ok());
            known.insert(h, (hostname, pid));
        }
        for c in &mut counts {
            if let Some(s) = c.scheduler.as_mut() {
                if let Some((hostname, pid)) = known.get(&s.holder) {
                    s.hostname = hostname.clone();
                    s.pid = *pid;
                }
            }
        }
        Ok(Overview {
            dead_workers,
            queues: counts,
            workers,
            suspended,
            has_ready,
            fetched_at: Utc::now(),
            redis: redis_info,
        })
    }

    /// Reads the counts of one queue in one round trip (for the registry tabs of a list page).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn queue_counts(&self, queue: &str) -> Result<QueueCounts, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors();
        self.push_counts(&mut p, queue);
        p.cmd("GET").arg(self.keys.scheduler_lock(queue));
        p.cmd("ZCOUNT")
            .arg(self.keys.registry(Registry::Scheduled, queue))
            .arg("-inf")
            .arg(Utc::now().timestamp_micros() as f64 / 1e6);
        let mut r = self.run(&p).await?.into_iter();
        let mut c = QueueCounts {
            name: queue.to_string(),
            ..QueueCounts::default()
        };
        for reg in Registry::ALL {
            c.set(reg, int_of(&r.next().unwrap_or(Value::Nil)));
        }
        let holder = text_of(r.next().unwrap_or(Value::Nil));
        c.overdue_scheduled = int_of(&r.next().unwrap_or(Value::Nil));
        if let Some(holder) = holder {
            let mut p = redis::pipe();
            p.cmd("HMGET")
                .arg(self.keys.scheduler(&holder))
                .arg("hostname")
                .arg("pid");
            let mut f =
                items_of(self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil)).into_iter();
            c.scheduler = Some(SchedulerLock {
                holder,
                hostname: f.next().and_then(text_of),
                pid: f.next().and_then(text_of).and_then(|p| p.parse().ok()),
            });
        }
        Ok(c)
    }

    /// What RQ's maintenance has not dealt with yet in a queue: stuck intermediate jobs, expired
    /// registry entries, abandoned started jobs. Two round trips.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn queue_health(&self, queue: &str) -> Result<QueueHealth, RepoError> {
        let now = Utc::now().timestamp_micros() as f64 / 1e6;
        let checked = [
            Registry::Started,
            Registry::Finished,
            Registry::Failed,
            Registry::Canceled,
        ];
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("LLEN")
            .arg(self.keys.intermediate(queue))
            .cmd("LRANGE")
            .arg(self.keys.intermediate(queue))
            .arg(0)
            .arg(99);
        // RQ's workers clean registries every 10 minutes: only what expired before that is late.
        // Like RQ's cleanup, scores from 0 up: a negative score means "never expires".
        let cutoff = now - MAINTENANCE_INTERVAL_SECS;
        for r in checked {
            p.cmd("ZCOUNT")
                .arg(self.keys.registry(r, queue))
                .arg(0)
                .arg(format!("({cutoff}"));
        }
        let mut r = self.run(&p).await?.into_iter();
        let intermediate = int_of(&r.next().unwrap_or(Value::Nil));
        let ids = texts_of(r.next().unwrap_or(Value::Nil));
        let expired = checked
            .iter()
            .map(|reg| (*reg, int_of(&r.next().unwrap_or(Value::Nil))))
            .collect();
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in &ids {
            p.cmd("GET")
                .arg(self.keys.intermediate_first_seen(queue, id));
        }
        let stuck = self
            .run(&p)
            .await?
            .into_iter()
            .filter_map(float_of)
            .filter(|seen| now - seen > 60.0)
            .count() as u64;
        Ok(QueueHealth {
            intermediate,
            intermediate_stuck: stuck,
            expired,
        })
    }

    /// Whether a queue exists for RQ: listed in `rq:queues`, or holding jobs in its list or any
    /// registry.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn queue_exists(&self, queue: &str) -> Result<bool, RepoError> {
        let mut p = redis::pipe();
        p.cmd("SISMEMBER")
            .arg(self.keys.queues())
            .arg(self.keys.queue(queue));
        let registered = int_of(self.run(&p).await?.first().unwrap_or(&Value::Nil)) > 0;
        if registered {
            return Ok(true);
        }
        let c = self.queue_counts(queue).await?;
        Ok(Registry::ALL.iter().any(|r| c.count(*r) > 0))
    }

    /// Whether a worker is registered (its hash exists).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn worker_exists(&self, worker: &str) -> Result<bool, RepoError> {
        let mut p = redis::pipe();
        p.cmd("EXISTS").arg(self.keys.worker(worker));
        let v = self.run(&p).await?;
        Ok(v.first().map(int_of).unwrap_or(0) > 0)
    }
}
