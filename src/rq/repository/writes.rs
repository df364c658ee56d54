//! Actions that change RQ's data, each leaving Redis as RQ's own Python API would for the RQ
//! version that wrote it (see [`crate::rq::actions`] for what each action is and
//! `RQ_REDIS_SCHEMA.md` for RQ's sequences).
//!
//! Per-job work runs in one Lua script (`actions.lua`), so each job changes atomically: a worker
//! taking the job at the same moment sees it either before or after, never half-moved. Bulk work
//! goes in bounded chunks (a few hundred jobs a call, about a millisecond of Redis time each) so
//! Redis never stalls; the caller ([`crate::tasks`]) loops, reports progress and can stop.

use redis::Script;
use std::sync::LazyLock;

use super::resp::{int_of, items_of, text_of};
use super::{RepoError, Repository};
use crate::rq::actions::{rq_now, Chunk, JobAction, Outcome, WorkerCommand};
use crate::rq::model::Registry;

static ACTIONS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("actions.lua")));

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
        let Some(op) = action.lua_name() else {
            // Stopping is a worker command, not a change of data.
            return Ok(vec![
                Outcome::WrongState("not a data action".into());
                ids.len()
            ]);
        };
        let mut inv = self.script("ids", op, major, at_front);
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
            .arg(self.keys.worker_commands(worker))
            .arg(cmd.payload());
        let v = self.run(&p).await?;
        Ok(v.first().map(int_of).unwrap_or(0))
    }

    /// Whether a worker is registered (its hash exists).
    ///
    /// # Errors
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

    /// After its jobs were deleted: drops group `name` from `rq:groups` when its set is gone (what
    /// RQ's group maintenance does), atomically, so the group leaves the list at once.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn forget_group_if_empty(&self, name: &str) -> Result<bool, RepoError> {
        static SCRIPT: LazyLock<Script> = LazyLock::new(|| {
            Script::new(
                "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end \
                 return redis.call('SREM', KEYS[2], ARGV[1])",
            )
        });
        let mut inv = SCRIPT.prepare_invoke();
        inv.key(self.keys.group(name))
            .key(self.keys.groups())
            .arg(name);
        Ok(int_of(&self.invoke(&inv).await?) > 0)
    }
}
