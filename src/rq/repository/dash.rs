//! The dashboard's own state in Redis, under its own keys (`rqdash:<rq prefix>:…`, named in
//! [`crate::rq::keys`]), never RQ's: bulk task records, so that every replica shows a task's
//! progress, can stop it, and sees it interrupted when its replica died.
//!
//! Each record is one hash that expires [`TASK_TTL_SECS`] after its last write: `record`, the
//! task as JSON (with its plan: the bounds read at the click); `stop`, set when someone asks it
//! to stop; and the walk's state, written only by the chunk scripts in the same atomic step as
//! their work: `runner` (the task that owns it; `resumed:<id>` once taken over), `part`, `cs`
//! and `cm` (the registry cursor), `pos`, `n_done`, `n_kept`, and an Empty's `tail`,
//! `tail_done` and `held`. A clean of a scheduled registry notes ghosts for a second look in the
//! set `rqdash:<prefix>:task:<id>:ghosts` (one day at most). Bounded by the number of tasks run
//! in a week, a few hundred bytes each. Writes happen from actions and running tasks only,
//! never from a GET. A Redis that refuses writes (a read-only ACL user, a replica) leaves tasks
//! in the memory of their process, as before.
//!
//! Leases (`rqdash:<prefix>:lease:<name>`, one string each, expiring unless renewed) say which
//! replica does a job only one may do, such as sending alerts. The alerts already announced and
//! not yet resolved are one hash (`rqdash:<prefix>:alerts:open`), at most
//! [`MAX_OPEN_ALERTS`] entries of a few hundred bytes, expiring [`TASK_TTL_SECS`] after its last
//! write.

use redis::{Script, Value};
use std::collections::HashMap;
use std::sync::LazyLock;

use super::resp::{int_of, items_of, text_of};
use super::{RepoError, Repository};
use crate::tasks::TaskRecord;

/// How long a task's record is kept after its last write.
pub const TASK_TTL_SECS: u64 = 7 * 24 * 3600;
/// The most open alerts kept.
pub const MAX_OPEN_ALERTS: usize = 10_000;

/// Takes the lease `KEYS[1]` for `ARGV[1]` (or renews it when it holds it already) for
/// `ARGV[2]` milliseconds; 1 when it holds it afterwards, 0 when another does.
static LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0",
    )
});

/// Claims an interrupted task for its resumed run: KEYS old record, new record, their ghost
/// sets; ARGV the old runner's token, the new one's, the records' TTL. 1 when claimed, 0 when
/// the old record names another runner (claimed already), -1 when it is gone from Redis.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local r = redis.call('HGET', KEYS[1], 'runner')
if r and r ~= ARGV[1] then return 0 end
for _, f in ipairs({'part', 'cs', 'cm', 'pos', 'n_done', 'n_kept', 'tail', 'tail_done', 'held'}) do
  local v = redis.call('HGET', KEYS[1], f)
  if v then redis.call('HSET', KEYS[2], f, v) end
end
redis.call('HSET', KEYS[2], 'runner', ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], 'runner', 'resumed:' .. ARGV[2])
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('RENAME', KEYS[3], KEYS[4]) end
return 1",
    )
});

impl Repository {
    /// Saves a task's record; returns whether someone asked it to stop.
    ///
    /// # Errors
    /// When Redis does not answer or refuses the write.
    pub async fn save_task(&self, record: &TaskRecord) -> Result<bool, RepoError> {
        let key = self.keys.dash_task(record.id);
        let json = serde_json::to_string(record).unwrap_or_default();
        let mut p = redis::pipe();
        p.cmd("HSET").arg(&key).arg("record").arg(json).ignore();
        // An Empty's last id at the click, where its chunks read it (set once: a resumed run
        // inherits it with the cursor).
        if let Some(tail) = record.plan.as_ref().and_then(|p| p.tail.as_ref()) {
            p.cmd("HSETNX").arg(&key).arg("tail").arg(tail).ignore();
        }
        p.cmd("EXPIRE")
            .arg(&key)
            .arg(TASK_TTL_SECS)
            .ignore()
            .cmd("HEXISTS")
            .arg(&key)
            .arg("stop");
        let r = self.run(&p).await?;
        if let Some(Value::ServerError(e)) = r.iter().find(|v| matches!(v, Value::ServerError(_))) {
            return Err(RepoError::Redis(self.label.clone(), format!("{e:?}")));
        }
        Ok(r.last().map(int_of).unwrap_or(0) > 0)
    }

    /// Reads a task's record and whether it was asked to stop; `None` when there is none.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn load_task(&self, id: u64) -> Result<Option<(TaskRecord, bool)>, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("HMGET")
            .arg(self.keys.dash_task(id))
            .arg("record")
            .arg("stop");
        let v = self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil);
        let mut f = items_of(v).into_iter();
        let record = f
            .next()
            .and_then(text_of)
            .and_then(|j| serde_json::from_str::<TaskRecord>(&j).ok());
        let stop = f.next().and_then(text_of).is_some();
        Ok(record.map(|r| (r, stop)))
    }

    /// Asks task `id` to stop, whichever replica runs it (it checks after each chunk).
    ///
    /// # Errors
    /// When Redis does not answer or refuses the write.
    pub async fn request_task_stop(&self, id: u64) -> Result<(), RepoError> {
        let key = self.keys.dash_task(id);
        let mut p = redis::pipe();
        p.cmd("HSET").arg(&key).arg("stop").arg(1);
        p.cmd("EXPIRE").arg(&key).arg(TASK_TTL_SECS).ignore();
        match self.run(&p).await?.into_iter().next() {
            Some(Value::ServerError(e)) => {
                Err(RepoError::Redis(self.label.clone(), format!("{e:?}")))
            }
            _ => Ok(()),
        }
    }

    /// Claims interrupted task `old` for its resumed run `new`, atomically: only while `old`'s
    /// record still names `old_runner` as its runner. The new record inherits the cursor and the
    /// counts; the old one then names the new runner, so the old run, were it still alive,
    /// stops at its next chunk, and a second claim fails. `Some(won)`, or `None` when the old
    /// record is gone from Redis (expired, or never written by a Redis that refused it).
    ///
    /// # Errors
    /// When Redis does not answer or refuses the write.
    pub async fn claim_task(
        &self,
        old: u64,
        old_runner: &str,
        new: u64,
    ) -> Result<Option<bool>, RepoError> {
        let (ok, nk) = (self.keys.dash_task(old), self.keys.dash_task(new));
        let mut inv = CLAIM.prepare_invoke();
        inv.key(&ok)
            .key(&nk)
            .key(format!("{ok}:ghosts"))
            .key(format!("{nk}:ghosts"))
            .arg(old_runner)
            .arg(new.to_string())
            .arg(TASK_TTL_SECS);
        Ok(match self.invoke(&inv).await? {
            Value::Int(-1) => None,
            v => Some(int_of(&v) == 1),
        })
    }

    /// The number of members of a set of the dashboard's own.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn set_len(&self, key: &str) -> Result<u64, RepoError> {
        let mut p = redis::pipe();
        p.cmd("SCARD").arg(key);
        Ok(self.run(&p).await?.first().map(int_of).unwrap_or(0))
    }

    /// Takes or renews the lease `name` for `holder` for `ttl`; whether `holder` holds it.
    ///
    /// # Errors
    /// When Redis does not answer or refuses the write (a read-only user or a replica).
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, RepoError> {
        let mut inv = LEASE.prepare_invoke();
        inv.key(self.keys.dash_lease(name))
            .arg(holder)
            .arg(ttl.as_millis().max(1) as u64);
        let v = self.invoke(&inv).await?;
        Ok(int_of(&v) == 1)
    }

    /// The alerts announced and not yet resolved: problem key → the notice sent (JSON).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn open_alerts(&self) -> Result<HashMap<String, String>, RepoError> {
        let mut p = redis::pipe();
        p.cmd("HGETALL").arg(self.keys.dash_alerts_open());
        let v = self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil);
        if let Value::ServerError(e) = &v {
            return Err(RepoError::Redis(self.label.clone(), format!("{e:?}")));
        }
        let mut out = HashMap::new();
        let mut it = items_of(v).into_iter();
        while let (Some(k), Some(n)) = (it.next(), it.next()) {
            if let (Some(k), Some(n)) = (text_of(k), text_of(n)) {
                out.insert(k, n);
            }
        }
        Ok(out)
    }

    /// Records alerts announced (`opened`: key → notice JSON) and resolved (`closed`: keys).
    ///
    /// # Errors
    /// When Redis does not answer or refuses the write.
    pub async fn update_open_alerts(
        &self,
        opened: &[(String, String)],
        closed: &[String],
    ) -> Result<(), RepoError> {
        let key = self.keys.dash_alerts_open();
        let mut p = redis::pipe();
        if !closed.is_empty() {
            p.cmd("HDEL").arg(&key).arg(closed).ignore();
        }
        for (k, n) in opened {
            p.cmd("HSET").arg(&key).arg(k).arg(n).ignore();
        }
        p.cmd("EXPIRE").arg(&key).arg(TASK_TTL_SECS);
        match self.run(&p).await?.into_iter().last() {
            Some(Value::ServerError(e)) => {
                Err(RepoError::Redis(self.label.clone(), format!("{e:?}")))
            }
            _ => Ok(()),
        }
    }
}
