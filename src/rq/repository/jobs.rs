//! Reads of jobs: list rows (the one field list), pages of a queue or registry, one job's every
//! detail (results, dependencies, executions, its cron job), failures for grouping. Nothing here
//! writes.

use redis::{Pipeline, Value};

use super::resp::{
    bytes_of, float_of, hash_of, int_of, is_wrongtype, items_of, latest_exc_string,
    members_with_scores, stream_entries, text_of, texts_of,
};
use super::{JobPage, PageRequest, RepoError, Repository};
use crate::redact::Sight;
use crate::rq::model::{
    from_epoch_secs, Execution, JobDetail, JobStatus, JobSummary, Registry, RelatedJob,
    ResultEntry, SUMMARY_FIELDS,
};

/// How many results-stream entries the job page reads at most (RQ trims to about 10).
const MAX_RESULTS: usize = 100;
/// How many executions of one job the job page reads at most.
const MAX_EXECUTIONS: usize = 100;

impl Repository {
    /// Reads the newest `limit` failed jobs of a queue with their latest traceback, for grouping:
    /// the registry size and (id, score, traceback) newest first, redacted for `sight`. Two round
    /// trips.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn failures(
        &self,
        queue: &str,
        limit: u64,
        sight: &Sight,
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
            let latest = latest_exc_string(r.next().unwrap_or(Value::Nil));
            let hash = bytes_of(r.next().unwrap_or(Value::Nil))
                .and_then(|b| crate::rq::decode::exc_info_field(&b));
            out.push((id, score, latest.or(hash)));
        }
        sight.failures(queue, &mut out);
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

    /// Reads the list rows of `ids` (with their registry scores) in one round trip, as stored:
    /// callers redact them for their sight.
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

    /// Reads the list rows of `ids` (with their latest result), in one round trip, redacted for
    /// `sight`.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn job_summaries(
        &self,
        ids: &[String],
        sight: &Sight,
    ) -> Result<Vec<JobSummary>, RepoError> {
        let mut rows = self.job_rows(ids, &[], true).await?;
        sight.summaries(&mut rows);
        Ok(rows)
    }

    /// Reads one page of a queue or registry: `[offset, offset + limit)` in the requested order,
    /// in two round trips whatever the registry's size, redacted for `sight`.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn list_jobs(
        &self,
        queue: &str,
        registry: Registry,
        page: PageRequest,
        sight: &Sight,
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
        sight.summaries(&mut jobs);
        Ok(JobPage {
            problem: None,
            total,
            queue_registered,
            jobs,
        })
    }

    /// Reads everything about one job, in two round trips, redacted for `sight`; `None` when it
    /// does not exist.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn job(&self, id: &str, sight: &Sight) -> Result<Option<JobDetail>, RepoError> {
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
        sight.detail(&mut job);
        Ok(Some(job))
    }
}
