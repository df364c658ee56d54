//! Which RQ major version wrote the data (actions follow its command sequences), and what an
//! action needs to know about a job before it acts.

use redis::Value;

use super::resp::{int_of, items_of, text_of};
use super::{RepoError, Repository};
use crate::rq::model::Registry;

/// A job's state as actions need it.
#[derive(Debug, Clone, Default)]
pub struct JobBrief {
    /// `status`.
    pub status: Option<String>,
    /// `origin`.
    pub origin: Option<String>,
    /// `worker_name`.
    pub worker_name: Option<String>,
    /// Whether the hash has `group_id` (written by RQ 2+ only).
    pub has_group_field: bool,
}

impl Repository {
    /// Reads what an action needs to know about a job; `None` when it does not exist.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn job_brief(&self, id: &str) -> Result<Option<JobBrief>, RepoError> {
        let mut p = redis::pipe();
        p.cmd("HMGET").arg(self.keys.job(id)).arg(&[
            "status",
            "origin",
            "worker_name",
            "data",
            "group_id",
        ]);
        let v = self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil);
        let mut f = items_of(v).into_iter();
        let mut next = || f.next().and_then(text_of);
        let (status, origin, worker_name, data, group) = (next(), next(), next(), next(), next());
        if data.is_none() {
            return Ok(None);
        }
        Ok(Some(JobBrief {
            status,
            origin,
            worker_name: worker_name.filter(|w| !w.is_empty()),
            has_group_field: group.is_some(),
        }))
    }

    /// The major version of RQ that writes this Redis: `--rq-version` when given, else the newest
    /// version live workers report, else RQ 3's `clean_groups` key, else `job_hint` (a job hash
    /// with `group_id` was written by RQ 2+), else 1.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn rq_major(&self, job_hint: Option<&JobBrief>) -> Result<u8, RepoError> {
        if let Some(m) = self.rq_major {
            return Ok(m);
        }
        let mut p = redis::pipe();
        p.cmd("SRANDMEMBER").arg(self.keys.workers()).arg(10);
        p.cmd("EXISTS").arg(self.keys.clean_groups());
        let mut r = self.run(&p).await?.into_iter();
        let workers: Vec<String> = items_of(r.next().unwrap_or(Value::Nil))
            .into_iter()
            .filter_map(text_of)
            .collect();
        let clean_groups = int_of(&r.next().unwrap_or(Value::Nil)) > 0;
        if !workers.is_empty() {
            let mut p = redis::pipe();
            for w in &workers {
                p.cmd("HGET").arg(w).arg("version");
            }
            let versions = self.run(&p).await?;
            let major = versions
                .into_iter()
                .filter_map(text_of)
                .filter_map(|v| v.split('.').next().and_then(|m| m.parse::<u8>().ok()))
                .max();
            if let Some(m) = major {
                return Ok(m);
            }
        }
        if clean_groups {
            return Ok(3);
        }
        if job_hint.is_some_and(|j| j.has_group_field) {
            return Ok(2);
        }
        // The hinted job may predate RQ 2 or have been written by another client: RQ 2+ writes
        // `group_id` into every job it saves, so look at the head job of a few queues too.
        Ok(if self.queues_hold_rq2_jobs().await? {
            2
        } else {
            1
        })
    }

    /// Whether the head job of any of up to 5 queues carries `group_id` (written by RQ 2+).
    async fn queues_hold_rq2_jobs(&self) -> Result<bool, RepoError> {
        let mut p = redis::pipe();
        p.cmd("SRANDMEMBER").arg(self.keys.queues()).arg(5);
        let queues: Vec<String> =
            items_of(self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil))
                .into_iter()
                .filter_map(text_of)
                .filter_map(|k| self.keys.queue_name_from_key(&k).map(str::to_string))
                .collect();
        let mut p = redis::pipe();
        p.ignore_errors();
        for q in &queues {
            for r in [Registry::Queued, Registry::Failed, Registry::Finished] {
                if r == Registry::Queued {
                    p.cmd("LINDEX").arg(self.keys.queue(q)).arg(0);
                } else {
                    p.cmd("ZRANGE").arg(self.keys.registry(r, q)).arg(0).arg(0);
                }
            }
        }
        let ids: Vec<String> = self
            .run(&p)
            .await?
            .into_iter()
            .filter_map(|v| match v {
                Value::Array(a) => a.into_iter().next().and_then(text_of),
                other => text_of(other),
            })
            .collect();
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in &ids {
            p.cmd("HEXISTS").arg(self.keys.job(id)).arg("group_id");
        }
        Ok(self.run(&p).await?.iter().any(|v| int_of(v) > 0))
    }

    /// Reads the first job of a queue or registry, as a version hint for [`Self::rq_major`].
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn sample_brief(
        &self,
        queue: &str,
        registry: Registry,
    ) -> Result<Option<JobBrief>, RepoError> {
        let key = self.keys.registry(registry, queue);
        let mut p = redis::pipe();
        if registry == Registry::Queued {
            p.cmd("LINDEX").arg(&key).arg(0);
        } else {
            p.cmd("ZRANGE").arg(&key).arg(0).arg(0);
        }
        let v = self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil);
        let id = match v {
            Value::Array(a) => a.into_iter().next().and_then(text_of),
            other => text_of(other),
        };
        match id {
            Some(id) => self.job_brief(&id).await,
            None => Ok(None),
        }
    }
}
