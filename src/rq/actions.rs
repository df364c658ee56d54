//! Write actions on RQ's data, each leaving Redis as RQ's own Python API would for the RQ version
//! that wrote the data: requeue, cancel, delete, enqueue-now, empty, compact, purge, clean,
//! worker commands, suspend and resume.
//!
//! Per-job work runs in one Lua script (`lua/actions.lua`), so each job changes atomically: a
//! worker taking the job at the same moment sees it either before or after, never half-moved.
//! Bulk work goes in bounded chunks (a few hundred jobs a call, about a millisecond of Redis time
//! each) so Redis never stalls; the caller ([`crate::tasks`]) loops, reports progress and can stop.
//!
//! Differences between RQ versions followed here (from `RQ_REDIS_SCHEMA.md` §2, §5, §6):
//! RQ 1.x re-adds the queue to `rq:queues` on every enqueue; RQ 1.x's started registry holds
//! plain ids, 2.x+ `id:execution` members and execution keys.
//!
//! One deliberate difference: deleting a job (or emptying a queue) also deletes the job's
//! results stream for every version, as RQ 3 does. RQ 1.x and 2.x leave it behind, and a failed
//! job's stream never expires, so it would outlive the job forever.

use chrono::Utc;
use redis::{Script, Value};
use std::sync::LazyLock;

use crate::rq::model::Registry;
use crate::rq::repository::{int_of, items_of, text_of, RepoError, Repository};

static ACTIONS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/actions.lua")));

/// An action on individual jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    /// `FailedJobRegistry.requeue`.
    Requeue,
    /// `Job.cancel`.
    Cancel,
    /// `Job.delete`.
    Delete,
    /// Enqueue a scheduled job now, as RQ's scheduler does when it is due.
    EnqueueNow,
}

impl JobAction {
    fn lua_name(self) -> &'static str {
        match self {
            JobAction::Requeue => "requeue",
            JobAction::Cancel => "cancel",
            JobAction::Delete => "delete",
            JobAction::EnqueueNow => "enqueue",
        }
    }
}

/// What happened to one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Ok,
    /// The job hash does not exist.
    Missing,
    /// The job is not in the state the action needs (e.g. requeue of a job not in its failed
    /// registry); the text says which state it is in.
    WrongState(String),
}

/// Progress of one bulk chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Chunk {
    /// Jobs acted on.
    pub done: u64,
    /// Entries left in place (missing jobs RQ would not touch, jobs in another state).
    pub kept: u64,
    /// Nothing more to do.
    pub finished: bool,
}

/// A command for a worker's pub/sub channel (`rq/command.py`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerCommand {
    /// Warm shutdown.
    Shutdown,
    /// Kill the work horse (the running job fails).
    KillHorse,
    /// Stop the job with this id (it ends as `stopped`, in the failed registry).
    StopJob(String),
}

impl WorkerCommand {
    /// The payload exactly as Python's `json.dumps` writes it (spaces after `:` and `,`).
    pub fn payload(&self) -> String {
        match self {
            WorkerCommand::Shutdown => r#"{"command": "shutdown"}"#.to_string(),
            WorkerCommand::KillHorse => r#"{"command": "kill-horse"}"#.to_string(),
            WorkerCommand::StopJob(id) => format!(
                r#"{{"command": "stop-job", "job_id": {}}}"#,
                python_json_string(id)
            ),
        }
    }
}

/// A JSON string as Python's `json.dumps` writes it (non-ASCII escaped as `\uXXXX`).
pub fn python_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Now as RQ writes timestamps (`utcformat`): `%Y-%m-%dT%H:%M:%S.%fZ`.
pub fn rq_now() -> (String, i64) {
    let now = Utc::now();
    (
        now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        now.timestamp(),
    )
}

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
    fn script(
        &self,
        op: &str,
        sub: &str,
        major: u8,
        at_front: bool,
    ) -> redis::ScriptInvocation<'static> {
        let (now, now_int) = rq_now();
        let mut inv = ACTIONS.prepare_invoke();
        inv.arg(op)
            .arg(self.keys.prefix())
            .arg(now)
            .arg(now_int)
            .arg(major)
            .arg(sub)
            .arg(if at_front { "1" } else { "0" });
        inv
    }

    async fn invoke(&self, inv: &redis::ScriptInvocation<'_>) -> Result<Value, RepoError> {
        let mut conn = self.connection().await?;
        self.guarded(inv.invoke_async::<Value>(&mut conn)).await
    }

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
        p.cmd("EXISTS")
            .arg(format!("{}:clean_groups", self.keys.prefix()));
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
        Ok(if job_hint.is_some_and(|j| j.has_group_field) {
            2
        } else {
            1
        })
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

    /// Applies `action` to each id, each atomically, in one script call (keep `ids` short:
    /// callers chunk).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn job_action(
        &self,
        action: JobAction,
        ids: &[String],
        major: u8,
        at_front: bool,
    ) -> Result<Vec<Outcome>, RepoError> {
        let mut inv = self.script("ids", action.lua_name(), major, at_front);
        for id in ids {
            inv.arg(id);
        }
        let v = self.invoke(&inv).await?;
        Ok(items_of(v)
            .into_iter()
            .map(|o| match text_of(o).as_deref() {
                Some("ok") => Outcome::Ok,
                Some("missing") => Outcome::Missing,
                Some(other) => Outcome::WrongState(other.trim_start_matches("status:").to_string()),
                None => Outcome::WrongState("unknown".into()),
            })
            .collect())
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
    /// score up to `max_score`.
    ///
    /// # Errors
    /// When Redis does not answer.
    #[allow(clippy::too_many_arguments)]
    pub async fn registry_chunk(
        &self,
        queue: &str,
        registry: Registry,
        sub: &str,
        offset: u64,
        count: u64,
        max_score: f64,
        major: u8,
        at_front: bool,
    ) -> Result<Chunk, RepoError> {
        let mut inv = self.script("zchunk", sub, major, at_front);
        inv.key(self.keys.registry(registry, queue))
            .arg(offset)
            .arg(count)
            .arg(if max_score.is_infinite() {
                "inf".to_string()
            } else {
                max_score.to_string()
            });
        let v = items_of(self.invoke(&inv).await?);
        Ok(Chunk {
            done: v.first().map(int_of).unwrap_or(0),
            kept: v.get(1).map(int_of).unwrap_or(0),
            finished: v.get(2).map(int_of).unwrap_or(1) == 1,
        })
    }

    /// One bounded chunk of `Queue.empty`: deletes up to `count` jobs from the head of the queue.
    /// Returns (deleted, length left).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn empty_chunk(
        &self,
        queue: &str,
        count: u64,
        major: u8,
    ) -> Result<(u64, u64), RepoError> {
        let mut inv = self.script("lchunk", "empty", major, false);
        inv.key(self.keys.queue(queue)).arg(count);
        let v = items_of(self.invoke(&inv).await?);
        Ok((
            v.first().map(int_of).unwrap_or(0),
            v.get(1).map(int_of).unwrap_or(0),
        ))
    }

    /// One bounded chunk of compacting a queue in place: drops ids whose job key is gone from
    /// `[start, start + count)`. Returns (removed, scanned).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn compact_chunk(
        &self,
        queue: &str,
        start: u64,
        count: u64,
    ) -> Result<(u64, u64), RepoError> {
        let mut inv = self.script("lchunk", "compact", 2, false);
        inv.key(self.keys.queue(queue)).arg(start).arg(count);
        let v = items_of(self.invoke(&inv).await?);
        Ok((
            v.first().map(int_of).unwrap_or(0),
            v.get(1).map(int_of).unwrap_or(0),
        ))
    }

    /// Publishes a command on a worker's channel; returns how many subscribers received it.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn worker_command(
        &self,
        worker: &str,
        cmd: &WorkerCommand,
    ) -> Result<u64, RepoError> {
        let mut p = redis::pipe();
        p.cmd("PUBLISH")
            .arg(format!("{}:pubsub:{worker}", self.keys.prefix()))
            .arg(cmd.payload());
        let v = self.run(&p).await?;
        Ok(v.first().map(int_of).unwrap_or(0))
    }

    /// Whether a worker is registered (its hash exists).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn worker_exists(&self, worker: &str) -> Result<bool, RepoError> {
        let mut p = redis::pipe();
        p.cmd("EXISTS")
            .arg(format!("{}{worker}", self.keys.worker_key_prefix()));
        let v = self.run(&p).await?;
        Ok(v.first().map(int_of).unwrap_or(0) > 0)
    }

    /// `rq suspend` (sets the suspension key) or `rq resume` (deletes it).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn set_suspended(&self, suspended: bool) -> Result<(), RepoError> {
        let mut p = redis::pipe();
        if suspended {
            p.cmd("SET").arg(self.keys.suspended()).arg(1);
        } else {
            p.cmd("DEL").arg(self.keys.suspended());
        }
        self.run(&p).await.map(|_| ())
    }

    /// Removes a queue from `rq:queues` if its list is empty (atomically). Returns whether it was
    /// removed; a non-empty queue is left alone.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn remove_empty_queue(&self, queue: &str) -> Result<bool, RepoError> {
        static SCRIPT: LazyLock<Script> = LazyLock::new(|| {
            Script::new(
                "if redis.call('LLEN', KEYS[1]) > 0 then return 0 end \
                 return redis.call('SREM', KEYS[2], KEYS[1])",
            )
        });
        let mut inv = SCRIPT.prepare_invoke();
        inv.key(self.keys.queue(queue)).key(self.keys.queues());
        Ok(int_of(&self.invoke(&inv).await?) > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_commands_are_byte_identical_to_python_json_dumps() {
        assert_eq!(
            WorkerCommand::Shutdown.payload(),
            r#"{"command": "shutdown"}"#
        );
        assert_eq!(
            WorkerCommand::KillHorse.payload(),
            r#"{"command": "kill-horse"}"#
        );
        assert_eq!(
            WorkerCommand::StopJob("a\"b-é".into()).payload(),
            r#"{"command": "stop-job", "job_id": "a\"b-\u00e9"}"#
        );
    }

    #[test]
    fn timestamps_match_rq_utcformat() {
        let (s, _) = rq_now();
        assert_eq!(s.len(), 27);
        assert!(s.ends_with('Z'));
        assert_eq!(&s[19..20], ".");
    }
}
