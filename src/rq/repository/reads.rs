//! Every question a page asks, answered in a fixed number of pipelined round trips whatever the
//! size of the data. Nothing here writes.

use chrono::Utc;
use redis::{Pipeline, Value};

use super::resp::{
    bytes_of, float_of, hash_of, int_of, is_wrongtype, items_of, members_with_scores,
    stream_entries, text_of, texts_of,
};
use super::{JobPage, PageRequest, RepoError, Repository};
use crate::rq::model::{
    from_epoch_secs, Execution, JobDetail, JobStatus, JobSummary, Overview, QueueCounts,
    QueueHealth, RedisInfo, Registry, RelatedJob, ResultEntry, SchedulerLock, Worker,
    SUMMARY_FIELDS,
};

/// How many results-stream entries the job page reads at most (RQ trims to about 10).
const MAX_RESULTS: usize = 100;
/// How often RQ's workers run registry maintenance (`maintenance_interval`, 10 minutes).
pub const MAINTENANCE_INTERVAL_SECS: f64 = 600.0;
/// How many executions of one job the job page reads at most.
const MAX_EXECUTIONS: usize = 100;

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

    fn take_workers(names: &[String], r: &mut impl Iterator<Item = Value>) -> Vec<Worker> {
        let mut workers = Vec::new();
        for w in names {
            let h = hash_of(r.next().unwrap_or(Value::Nil));
            let execs = texts_of(r.next().unwrap_or(Value::Nil));
            // A member whose hash is gone is a dead worker RQ has not cleaned yet: skip it as
            // `Worker.all()` does.
            if !h.is_empty() {
                workers.push(Worker::from_hash(w, &h, &execs));
            }
        }
        workers.sort_by(|a, b| {
            (&a.state, a.queues.join(","), &a.name).cmp(&(&b.state, b.queues.join(","), &b.name))
        });
        workers
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
            counts.push(c);
        }
        let workers = Self::take_workers(&worker_names, &mut r);

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

    /// Reads the newest `limit` failed jobs of a queue with their latest traceback, for grouping:
    /// the registry size and (id, score, traceback) newest first. Two round trips.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn failures(
        &self,
        queue: &str,
        limit: u64,
    ) -> Result<(u64, Vec<(String, f64, Option<String>)>), RepoError> {
        let key = self.keys.registry(Registry::Failed, queue);
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("ZCARD")
            .arg(&key)
            .cmd("ZREVRANGE")
            .arg(&key)
            .arg(0)
            .arg(limit.max(1) - 1)
            .arg("WITHSCORES");
        let mut r = self.run(&p).await?.into_iter();
        let total = int_of(&r.next().unwrap_or(Value::Nil));
        let entries: Vec<(String, f64)> = members_with_scores(r.next().unwrap_or(Value::Nil))
            .into_iter()
            .map(|(id, score)| (id, score.unwrap_or(0.0)))
            .collect();
        let mut p = redis::pipe();
        p.ignore_errors();
        for (id, _) in &entries {
            self.push_latest_result(&mut p, id);
            p.cmd("HGET").arg(self.keys.job(id)).arg("exc_info");
        }
        let mut r = self.run(&p).await?.into_iter();
        let mut out = Vec::with_capacity(entries.len());
        for (id, score) in entries {
            let latest = stream_entries(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .next()
                .and_then(|(_, f)| {
                    f.get("exc_string")
                        .and_then(|b| crate::rq::decode::exc_string(b))
                });
            let hash = bytes_of(r.next().unwrap_or(Value::Nil))
                .and_then(|b| crate::rq::decode::exc_info_field(&b));
            out.push((id, score, latest.or(hash)));
        }
        Ok((total, out))
    }

    /// Adds the read of job `id`'s latest results-stream entry to a pipeline.
    fn push_latest_result(&self, p: &mut Pipeline, id: &str) {
        p.cmd("XREVRANGE")
            .arg(self.keys.results(id))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1);
    }

    /// Reads the list rows of `ids` (with their registry scores) in one round trip.
    pub(super) async fn job_rows(
        &self,
        ids: &[String],
        scores: &[Option<f64>],
        with_results: bool,
    ) -> Result<Vec<JobSummary>, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in ids {
            let key = self.keys.job(id);
            p.cmd("HMGET").arg(&key).arg(&SUMMARY_FIELDS[..]);
            p.cmd("HEXISTS").arg(&key).arg("data");
            if with_results {
                self.push_latest_result(&mut p, id);
            }
        }
        let mut r = self.run(&p).await?.into_iter();
        let mut rows = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let values: Vec<Option<Vec<u8>>> = items_of(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .map(bytes_of)
                .collect();
            let exists = int_of(&r.next().unwrap_or(Value::Nil)) > 0;
            let latest = if with_results {
                stream_entries(r.next().unwrap_or(Value::Nil))
                    .into_iter()
                    .next()
                    .map(|(sid, f)| ResultEntry::from_stream(&sid, &f, self.json_first))
            } else {
                None
            };
            rows.push(JobSummary::from_fields(
                id.clone(),
                exists,
                values,
                latest.as_ref(),
                scores.get(i).copied().flatten(),
            ));
        }
        Ok(rows)
    }

    /// Whether execution `execution` of job `id` is live, and the worker it names (RQ 2.11+).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn execution_worker(
        &self,
        id: &str,
        execution: &str,
    ) -> Result<Option<Option<String>>, RepoError> {
        let key = self.keys.execution(id, execution);
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("EXISTS")
            .arg(&key)
            .cmd("HGET")
            .arg(&key)
            .arg("worker_name");
        let mut r = self.run(&p).await?.into_iter();
        if int_of(&r.next().unwrap_or(Value::Nil)) == 0 {
            return Ok(None);
        }
        Ok(Some(text_of(r.next().unwrap_or(Value::Nil))))
    }

    /// Reads the list rows of `ids` (with their latest result), in one round trip.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn job_summaries(&self, ids: &[String]) -> Result<Vec<JobSummary>, RepoError> {
        self.job_rows(ids, &[], true).await
    }

    /// Reads one page of a queue or registry: `[offset, offset + limit)` in the requested order,
    /// in two round trips whatever the registry's size.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn list_jobs(
        &self,
        queue: &str,
        registry: Registry,
        page: PageRequest,
    ) -> Result<JobPage, RepoError> {
        let key = self.keys.registry(registry, queue);
        let (start, stop) = (page.offset, page.offset + page.limit.max(1) - 1);
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("SISMEMBER")
            .arg(self.keys.queues())
            .arg(self.keys.queue(queue));
        if registry == Registry::Queued {
            p.cmd("LLEN").arg(&key);
            if page.descending {
                // Counting from the tail: the newest entry is index -1.
                p.cmd("LRANGE")
                    .arg(&key)
                    .arg(-(stop as i64) - 1)
                    .arg(-(start as i64) - 1);
            } else {
                p.cmd("LRANGE").arg(&key).arg(start).arg(stop);
            }
        } else {
            p.cmd("ZCARD").arg(&key);
            p.cmd(if page.descending {
                "ZREVRANGE"
            } else {
                "ZRANGE"
            })
            .arg(&key)
            .arg(start)
            .arg(stop)
            .arg("WITHSCORES");
        }
        let mut r = self.run(&p).await?.into_iter();
        let queue_registered = int_of(&r.next().unwrap_or(Value::Nil)) > 0;
        let total_v = r.next().unwrap_or(Value::Nil);
        if is_wrongtype(&total_v) {
            let want = if registry == Registry::Queued {
                "a list"
            } else {
                "a sorted set"
            };
            return Ok(JobPage {
                problem: Some(format!(
                    "the key {key} is not {want}, as RQ writes it: another program wrote something else there, so there is nothing to list"
                )),
                total: 0,
                queue_registered,
                jobs: Vec::new(),
            });
        }
        if let Value::ServerError(e) = &total_v {
            return Err(RepoError::Redis(self.label.clone(), format!("{e:?}")));
        }
        let total = int_of(&total_v);
        let range = r.next().unwrap_or(Value::Nil);
        let mut executions = Vec::new();
        let (ids, scores): (Vec<String>, Vec<Option<f64>>) = if registry == Registry::Queued {
            let mut ids = texts_of(range);
            if page.descending {
                ids.reverse();
            }
            let n = ids.len();
            (ids, vec![None; n])
        } else {
            let mut ids = Vec::new();
            let mut scores = Vec::new();
            for (member, score) in members_with_scores(range) {
                let (id, exec) = match member.split_once(':') {
                    // RQ 2+ stores `job_id:execution_id` here (and splits it as RQ does).
                    Some((id, exec)) if registry == Registry::Started => {
                        (id.to_string(), Some(exec.to_string()))
                    }
                    _ => (member, None),
                };
                ids.push(id);
                scores.push(score);
                executions.push(exec);
            }
            (ids, scores)
        };
        let with_results = matches!(registry, Registry::Failed | Registry::Started);
        let mut jobs = self.job_rows(&ids, &scores, with_results).await?;
        for (job, exec) in jobs.iter_mut().zip(executions) {
            job.execution = exec;
        }
        Ok(JobPage {
            problem: None,
            total,
            queue_registered,
            jobs,
        })
    }

    /// Reads everything about one job, in two round trips; `None` when it does not exist.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn job(&self, id: &str) -> Result<Option<JobDetail>, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("HGETALL")
            .arg(self.keys.job(id))
            .cmd("TTL")
            .arg(self.keys.job(id))
            .cmd("XREVRANGE")
            .arg(self.keys.results(id))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(MAX_RESULTS)
            .cmd("SMEMBERS")
            .arg(self.keys.dependencies(id))
            .cmd("SMEMBERS")
            .arg(self.keys.dependents(id))
            .cmd("ZRANGE")
            .arg(self.keys.executions(id))
            .arg(0)
            .arg(MAX_EXECUTIONS - 1)
            .arg("WITHSCORES")
            .cmd("ZRANGE")
            .arg(self.keys.cron_jobs())
            .arg(0)
            .arg(crate::rq::repository::cron::MAX_ENTRIES - 1);
        let mut r = self.run(&p).await?.into_iter();
        let hash_v = r.next().unwrap_or(Value::Nil);
        if is_wrongtype(&hash_v) {
            return Err(RepoError::WrongType(
                format!("the key {}", self.keys.job(id)),
                "value of another type".into(),
            ));
        }
        if let Value::ServerError(e) = &hash_v {
            return Err(RepoError::Redis(self.label.clone(), format!("{e:?}")));
        }
        let h = hash_of(hash_v);
        if !h.contains_key("data") {
            return Ok(None);
        }
        let mut job = JobDetail::from_hash(id, &h, self.json_first);
        job.key_ttl = match r.next() {
            Some(Value::Int(t)) => t,
            _ => -1,
        };
        job.results = stream_entries(r.next().unwrap_or(Value::Nil))
            .into_iter()
            .map(|(sid, f)| ResultEntry::from_stream(&sid, &f, self.json_first))
            .collect();
        let mut deps = texts_of(r.next().unwrap_or(Value::Nil));
        if let Some(list) = h
            .get("dependency_ids")
            .and_then(|b| serde_json::from_slice::<Vec<String>>(b).ok())
        {
            deps.extend(list);
        }
        // RQ 1.x's Python API returned `rq:job:<id>`; the stored values are plain ids, but be lenient.
        let job_prefix = self.keys.job("");
        let mut deps: Vec<String> = deps
            .into_iter()
            .map(|d| d.strip_prefix(&job_prefix).map(str::to_string).unwrap_or(d))
            .collect();
        deps.sort();
        deps.dedup();
        let mut dependents = texts_of(r.next().unwrap_or(Value::Nil));
        dependents.sort();
        let executions = members_with_scores(r.next().unwrap_or(Value::Nil));
        let cron_names = texts_of(r.next().unwrap_or(Value::Nil));

        let mut p = redis::pipe();
        p.ignore_errors();
        for d in deps.iter().chain(dependents.iter()) {
            p.cmd("HGET").arg(self.keys.job(d)).arg("status");
            p.cmd("HEXISTS").arg(self.keys.job(d)).arg("data");
        }
        for (exec, _) in &executions {
            p.cmd("HGETALL").arg(self.keys.execution(id, exec));
        }
        if let Some(origin) = &job.origin {
            p.cmd("ZSCORE")
                .arg(self.keys.registry(Registry::Scheduled, origin))
                .arg(id);
        }
        for name in &cron_names {
            p.cmd("ZSCORE").arg(self.keys.cron_job_runs(name)).arg(id);
        }
        let mut r = self.run(&p).await?.into_iter();
        let mut related = |ids: Vec<String>| -> Vec<RelatedJob> {
            ids.into_iter()
                .map(|id| {
                    let status = text_of(r.next().unwrap_or(Value::Nil));
                    let exists = int_of(&r.next().unwrap_or(Value::Nil)) > 0;
                    RelatedJob {
                        id,
                        status: if exists {
                            Some(JobStatus::parse(status.as_deref().unwrap_or("")))
                        } else {
                            None
                        },
                    }
                })
                .collect()
        };
        job.dependencies = related(deps);
        job.dependents = related(dependents);
        job.executions = executions
            .into_iter()
            .map(|(exec, score)| {
                let h = hash_of(r.next().unwrap_or(Value::Nil));
                Execution::from_hash(&exec, &h, score.and_then(from_epoch_secs))
            })
            .collect();
        if job.origin.is_some() {
            job.scheduled_for = float_of(r.next().unwrap_or(Value::Nil)).and_then(from_epoch_secs);
        }
        job.cron_job = cron_names
            .into_iter()
            .zip(r)
            .find(|(_, v)| float_of(v.clone()).is_some())
            .map(|(name, _)| name);
        Ok(Some(job))
    }

    /// Returns the size and the highest score of a registry (the bounds of a bulk run: entries
    /// added later, e.g. jobs that fail again after a requeue, are left alone).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn registry_bounds(
        &self,
        queue: &str,
        registry: Registry,
    ) -> Result<(u64, f64), RepoError> {
        let key = self.keys.registry(registry, queue);
        let mut p = redis::pipe();
        p.cmd("ZCARD").arg(&key);
        p.cmd("ZRANGE").arg(&key).arg(-1).arg(-1).arg("WITHSCORES");
        let mut r = self.run(&p).await?.into_iter();
        let card = int_of(&r.next().unwrap_or(Value::Nil));
        let last = items_of(r.next().unwrap_or(Value::Nil));
        let max = last
            .into_iter()
            .nth(1)
            .and_then(text_of)
            .and_then(|s| match s.as_str() {
                "inf" | "+inf" => Some(f64::INFINITY),
                s => s.parse().ok(),
            })
            .unwrap_or(f64::INFINITY);
        Ok((card, max))
    }

    /// One bounded chunk of a registry-wide action: `sub` is `requeue`, `delete` (purge) or
    /// `clean` (drop ids whose job is gone), over entries `[offset, offset + count)` with a
    /// When Redis does not answer.
    pub async fn worker_exists(&self, worker: &str) -> Result<bool, RepoError> {
        let mut p = redis::pipe();
        p.cmd("EXISTS").arg(self.keys.worker(worker));
        let v = self.run(&p).await?;
        Ok(v.first().map(int_of).unwrap_or(0) > 0)
    }
}
