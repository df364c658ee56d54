//! Actions that change RQ's data, each leaving Redis as RQ's own Python API would for the RQ
//! version that wrote it (see [`crate::rq::actions`] for what each action is and
//! `RQ_REDIS_SCHEMA.md` for RQ's sequences).
//!
//! Per-job work runs in one Lua script (`actions.lua`), so each job changes atomically: a worker
//! taking the job at the same moment sees it either before or after, never half-moved. Bulk work
//! goes in bounded chunks (a few hundred jobs a call, about a millisecond of Redis time each) so
//! Redis never stalls; the caller ([`crate::tasks`]) loops, reports progress and can stop.
//!
//! A bulk task's chunk checks, inside its script, that each job is still where the task found it
//! and did not arrive after the click, and moves the task's cursor and counts (kept in the task's
//! own record, [`TaskRef`]) in the same atomic step as its work: a chunk retried after a lost
//! answer, or a task resumed elsewhere, never acts twice.

use redis::{Script, Value};
use std::sync::LazyLock;

use super::resp::{int_of, items_of, members_with_scores, text_of};
use super::{RepoError, Repository};
use crate::rq::actions::{rq_now, Chunk, Found, JobAction, Outcome, WorkerCommand};
use crate::rq::model::Registry;

static ACTIONS: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("actions.lua")));

/// A bulk task's hold on its record in Redis, where its chunks keep their cursor and counts:
/// the record's key and the runner's token (the task id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRef {
    /// `rqdash:<prefix>:task:<id>`.
    pub key: String,
    /// The runner's token; a record that names another runner was taken over.
    pub token: String,
}

/// How many jobs of a list one call of the script is sent (it may handle fewer on huge queues).
const IDS_PER_CALL: usize = 100;

fn outcome(v: Value) -> Outcome {
    match text_of(v).as_deref() {
        Some("ok") => Outcome::Ok,
        Some("missing") => Outcome::Missing,
        Some("changed") => Outcome::Changed,
        Some(other) => Outcome::WrongState(other.trim_start_matches("status:").to_string()),
        None => Outcome::WrongState("unknown".into()),
    }
}

/// A task chunk's answer `{state, done, kept, finished}`.
fn chunk_of(v: Value) -> Chunk {
    let v = items_of(v);
    Chunk {
        lost: v.first().cloned().and_then(text_of).as_deref() == Some("lost"),
        done: v.get(1).map(int_of).unwrap_or(0),
        kept: v.get(2).map(int_of).unwrap_or(0),
        finished: v.get(3).map(int_of).unwrap_or(1) == 1,
        handled: 0,
        taken_by: v.get(4).cloned().and_then(taken_by),
    }
}

/// The task that took a task over, from its record's runner (`resumed:<id>`).
fn taken_by(runner: Value) -> Option<u64> {
    text_of(runner)?.strip_prefix("resumed:")?.parse().ok()
}

impl Repository {
    #[allow(clippy::too_many_arguments)]
    fn script(
        &self,
        op: &str,
        sub: &str,
        major: u8,
        at_front: bool,
        token: &str,
        since: Option<&str>,
    ) -> redis::ScriptInvocation<'static> {
        let (now, now_int) = rq_now();
        let mut inv = ACTIONS.prepare_invoke();
        inv.arg(op)
            .arg(self.keys.prefix())
            .arg(now)
            .arg(now_int)
            .arg(major)
            .arg(sub)
            .arg(if at_front { "1" } else { "0" })
            .arg(token)
            .arg(since.unwrap_or(""));
        inv
    }

    /// Where the script checks that a job still is: `z:<registry key>`, `l:<queue key>`, or ''.
    fn place_arg(&self, found: &Found) -> String {
        match &found.place {
            None => String::new(),
            Some((q, Registry::Queued)) => format!("l:{}", self.keys.queue(q)),
            Some((q, r)) => format!("z:{}", self.keys.registry(*r, q)),
        }
    }

    /// Sends up to [`IDS_PER_CALL`] jobs to the script: `(handled, done, kept, outcomes)`.
    #[allow(clippy::too_many_arguments)]
    async fn ids_call(
        &self,
        op: &str,
        jobs: &[Found],
        first: u64,
        major: u8,
        at_front: bool,
        since: Option<&str>,
        task: Option<&TaskRef>,
    ) -> Result<(Option<Option<u64>>, u64, u64, u64, Vec<Outcome>), RepoError> {
        let token = task.map(|t| t.token.as_str()).unwrap_or("");
        let mut inv = self.script("ids", op, major, at_front, token, since);
        if let Some(t) = task {
            inv.key(&t.key);
        }
        inv.arg(first);
        for f in jobs {
            inv.arg(&f.id).arg(self.place_arg(f));
        }
        let v = items_of(self.invoke(&inv).await?);
        let n = |i: usize| v.get(i).map(int_of).unwrap_or(0);
        let (handled, done, kept) = (n(1), n(2), n(3));
        if v.first().cloned().and_then(text_of).as_deref() == Some("lost") {
            let by = v.into_iter().nth(4).and_then(taken_by);
            return Ok((Some(by), 0, 0, 0, Vec::new()));
        }
        let outcomes = v.into_iter().skip(4).map(outcome).collect();
        Ok((None, handled, done, kept, outcomes))
    }

    /// Applies `action` to each job, each atomically, one script call per hundred jobs (fewer
    /// when deleting jobs out of huge queues, so no call runs long). A job no longer where it
    /// was found, or (with `since`) changed after that time, is left alone ([`Outcome::Changed`]).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn job_action(
        &self,
        action: JobAction,
        jobs: &[Found],
        major: u8,
        at_front: bool,
        since: Option<&str>,
    ) -> Result<Vec<Outcome>, RepoError> {
        let Some(op) = action.lua_name() else {
            // Stopping is a worker command, not a change of data.
            return Ok(vec![
                Outcome::WrongState("not a data action".into());
                jobs.len()
            ]);
        };
        let mut out = Vec::with_capacity(jobs.len());
        while out.len() < jobs.len() {
            let rest = &jobs[out.len()..];
            let part = &rest[..rest.len().min(IDS_PER_CALL)];
            let (_, _, _, _, outcomes) = self
                .ids_call(op, part, 0, major, at_front, since, None)
                .await?;
            if outcomes.is_empty() {
                break;
            }
            out.extend(outcomes);
        }
        Ok(out)
    }

    /// One chunk of a bulk task over a list of jobs: `jobs` are the task's jobs from index
    /// `first`; the task's record says how far it got, so a retried chunk never acts twice.
    /// The answer's `handled` counts the jobs from `first` now done.
    ///
    /// # Errors
    /// When Redis does not answer.
    #[allow(clippy::too_many_arguments)]
    pub async fn task_jobs_chunk(
        &self,
        task: &TaskRef,
        action: JobAction,
        jobs: &[Found],
        first: u64,
        major: u8,
        at_front: bool,
        since: Option<&str>,
    ) -> Result<Chunk, RepoError> {
        let op = action.lua_name().unwrap_or("none");
        let part = &jobs[..jobs.len().min(IDS_PER_CALL)];
        let (lost, handled, done, kept, _) = self
            .ids_call(op, part, first, major, at_front, since, Some(task))
            .await?;
        Ok(Chunk {
            done,
            kept,
            finished: handled >= jobs.len() as u64,
            lost: lost.is_some(),
            handled,
            taken_by: lost.flatten(),
        })
    }

    /// Returns the size of a registry and its last entry's (score, member): the bounds of a bulk
    /// walk, read at the click. The score is Redis's text (`inf` for RQ's `+inf` finished
    /// entries).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn registry_bounds(
        &self,
        queue: &str,
        registry: Registry,
    ) -> Result<(u64, String, String), RepoError> {
        let key = self.keys.registry(registry, queue);
        let mut p = redis::pipe();
        p.cmd("ZCARD").arg(&key);
        p.cmd("ZRANGE").arg(&key).arg(-1).arg(-1).arg("WITHSCORES");
        let mut r = self.run(&p).await?.into_iter();
        let card = int_of(&r.next().unwrap_or(Value::Nil));
        // RESP2 answers member, score; RESP3 [member, score] pairs: read either way. Rust prints a
        // float as the shortest text that reads back exactly (`inf` for RQ's `+inf`), which the
        // script's `tonumber` reads back.
        let (member, score) = members_with_scores(r.next().unwrap_or(Value::Nil))
            .into_iter()
            .next()
            .map(|(m, s)| (m, s.map_or_else(|| "inf".to_string(), |s| format!("{s}"))))
            .unwrap_or_else(|| (String::new(), "-inf".to_string()));
        Ok((card, score, member))
    }

    /// Returns the length of a queue and its last id, read together (the bounds of an Empty).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn queue_bounds(&self, queue: &str) -> Result<(u64, Option<String>), RepoError> {
        static SCRIPT: LazyLock<Script> = LazyLock::new(|| {
            Script::new("return { redis.call('LLEN', KEYS[1]), redis.call('LINDEX', KEYS[1], -1) }")
        });
        let mut inv = SCRIPT.prepare_invoke();
        inv.key(self.keys.queue(queue));
        let mut v = items_of(self.invoke(&inv).await?).into_iter();
        let len = v.next().map(|n| int_of(&n)).unwrap_or(0);
        Ok((len, v.next().and_then(text_of)))
    }

    /// One chunk of a registry-wide task (`sub`: `requeue`, `delete` for a purge, `clean` for
    /// ghost ids) over part `part` of the task: up to `count` entries after the task's cursor,
    /// none past the bounds read at the click (`max_score`, `max_member`), none that arrived
    /// after the click (`since`). `ghosts`: where a clean of a scheduled registry notes ghosts
    /// for a second look.
    ///
    /// # Errors
    /// When Redis does not answer.
    #[allow(clippy::too_many_arguments)]
    pub async fn registry_chunk(
        &self,
        task: &TaskRef,
        queue: &str,
        registry: Registry,
        sub: &str,
        part: usize,
        bounds: (&str, &str),
        count: u64,
        major: u8,
        at_front: bool,
        since: &str,
        ghosts: Option<&str>,
    ) -> Result<Chunk, RepoError> {
        let mut inv = self.script("zchunk", sub, major, at_front, &task.token, Some(since));
        inv.key(self.keys.registry(registry, queue)).key(&task.key);
        if let Some(g) = ghosts {
            inv.key(g);
        }
        inv.arg(part).arg(bounds.0).arg(bounds.1).arg(count);
        Ok(chunk_of(self.invoke(&inv).await?))
    }

    /// The second look of a clean at the ghosts it noted in a scheduled registry: removes up to
    /// `count` of them that are still ghosts.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn confirm_ghosts_chunk(
        &self,
        task: &TaskRef,
        queue: &str,
        registry: Registry,
        ghosts: &str,
        count: u64,
    ) -> Result<Chunk, RepoError> {
        let mut inv = self.script("confirm", "clean", 2, false, &task.token, None);
        inv.key(self.keys.registry(registry, queue))
            .key(&task.key)
            .key(ghosts)
            .arg(count);
        Ok(chunk_of(self.invoke(&inv).await?))
    }

    /// One chunk of `Queue.empty` limited to what was queued at the click: deletes up to `count`
    /// jobs from the head of the queue, never past the id that was last at the click (kept in
    /// the task's record), never one pushed to the front after the click (`since`).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn empty_chunk(
        &self,
        task: &TaskRef,
        queue: &str,
        count: u64,
        major: u8,
        since: &str,
        tail: Option<&str>,
    ) -> Result<Chunk, RepoError> {
        let mut inv = self.script("empty", "empty", major, false, &task.token, Some(since));
        inv.key(self.keys.queue(queue))
            .key(&task.key)
            .arg(count)
            .arg(tail.unwrap_or(""));
        Ok(chunk_of(self.invoke(&inv).await?))
    }

    /// One chunk of compacting a queue in place: drops ids whose job key is gone from the next
    /// `count` entries after the task's position.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn compact_chunk(
        &self,
        task: &TaskRef,
        queue: &str,
        count: u64,
    ) -> Result<Chunk, RepoError> {
        let mut inv = self.script("compact", "compact", 2, false, &task.token, None);
        inv.key(self.keys.queue(queue)).key(&task.key).arg(count);
        Ok(chunk_of(self.invoke(&inv).await?))
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
