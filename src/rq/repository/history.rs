//! The history's and the timing statistics' Redis side, under the dashboard's own keys
//! (`rqdash:<prefix>:hist:*` and `rqdash:<prefix>:stats:*`, named in [`crate::rq::keys`]): what
//! the recorder reads of RQ (workers' counters, new registry entries, a few fields of the jobs
//! in them) and the one script that writes a round.
//!
//! A round is written by one Lua script (`APPLY`) in one step: the points, the running totals, the workers'
//! counters as counted, the timing counts and the registries' watermarks, and only when the
//! history's `seq` is still the one the round was computed from. Two replicas that both think
//! they hold the lease therefore never count a job twice; the loser recomputes next round.
//!
//! Sizes: `hist:m:<hour>` keys live 49 hours, `hist:h:<day>` keys 91 days, `stats:10m:*` 25
//! hours and `stats:1h:*` 8 days; `hist:meta`, `hist:workers`, `hist:totals` and `stats:marks`
//! expire 91 days after the last round, so a dashboard taken away leaves nothing for long.

use redis::{Script, Value};
use std::collections::HashMap;
use std::sync::LazyLock;

use super::resp::{hash_of, int_of, items_of, members_with_scores, text_of};
use super::{RepoError, Repository};
use crate::rq::model::RawHash;

/// Applies one round (`ARGV[1]`, JSON; see [`RoundWrite`]) when `KEYS[1]`'s `seq` equals
/// the round's; 1 when applied, 0 when another writer went first.
static APPLY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local doc = cjson.decode(ARGV[1])
local meta, workers, totals, marks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local seq = tonumber(redis.call('HGET', meta, 'seq') or '0')
if seq ~= doc.seq then return 0 end
if doc.since then redis.call('HSETNX', meta, 'since', doc.since) end
local function put(key, field, o, s)
  local cur = redis.call('HGET', key, field) or ''
  local f, x, r = s[2], s[3], s[7]
  local last = string.match(cur, '([^;]*);$')
  if last then
    local lo, lf, lx = string.match(last, '^(%d+),(%d+),(%d+),')
    if lo and tonumber(lo) == o then
      cur = string.sub(cur, 1, #cur - #last - 1)
      f = f + tonumber(lf)
      x = x + tonumber(lx)
      r = r + tonumber(string.match(last, '^%d+,%d+,%d+,%d+,%d+,%d+,(%d+)$') or '0')
    end
  end
  redis.call('HSET', key, field,
    cur .. string.format('%d,%d,%d,%d,%d,%d,%d;', o, f, x, s[4], s[5], s[6], r))
end
for _, s in ipairs(doc.series) do
  put(doc.mkey, s[1], doc.mo, s)
  put(doc.hkey, s[1], doc.ho, s)
  if s[2] > 0 then redis.call('HINCRBY', totals, 'f:' .. s[1], s[2]) end
  if s[3] > 0 then redis.call('HINCRBY', totals, 'x:' .. s[1], s[3]) end
end
redis.call('EXPIRE', doc.mkey, doc.mttl)
redis.call('EXPIRE', doc.hkey, doc.httl)
for _, w in ipairs(doc.workers_set) do redis.call('HSET', workers, w[1], w[2]) end
for _, w in ipairs(doc.workers_del) do redis.call('HDEL', workers, w) end
for _, i in ipairs(doc.incr) do redis.call('HINCRBY', i[1], i[2], i[3]) end
for _, e in ipairs(doc.expire) do redis.call('EXPIRE', e[1], e[2]) end
for _, m in ipairs(doc.marks) do redis.call('HSET', marks, m[1], m[2]) end
for _, m in ipairs(doc.marks_del) do redis.call('HDEL', marks, m) end
for _, f in ipairs(doc.totals_del) do redis.call('HDEL', totals, f) end
redis.call('HSET', meta, 'seq', seq + 1, 't', doc.now)
for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, doc.keep) end
return 1",
    )
});

/// One round's write, as the script `APPLY` reads it.
#[derive(Debug, Default, serde::Serialize)]
pub struct RoundWrite {
    /// The `seq` the round was computed from.
    pub seq: i64,
    /// When the history began, on the first round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// The round's time, epoch seconds.
    pub now: i64,
    /// The minute points' key, its minute of the hour and its lifetime.
    pub mkey: String,
    /// Minute of the hour.
    pub mo: i64,
    /// Seconds the minute key lives.
    pub mttl: i64,
    /// The hour points' key.
    pub hkey: String,
    /// Hour of the day.
    pub ho: i64,
    /// Seconds the hour key lives.
    pub httl: i64,
    /// Per series: name, finished, failed, queued, started, latency, retried.
    pub series: Vec<(String, u64, u64, u64, u64, u64, u64)>,
    /// Workers' counters as counted: name, `successful failed birth`.
    pub workers_set: Vec<(String, String)>,
    /// Workers whose key is gone.
    pub workers_del: Vec<String>,
    /// Timing counts: key, field, increment.
    pub incr: Vec<(String, String, u64)>,
    /// Lifetimes of the timing keys.
    pub expire: Vec<(String, i64)>,
    /// Registry watermarks: registry key, mark.
    pub marks: Vec<(String, String)>,
    /// Watermarks of registries whose queue is gone.
    pub marks_del: Vec<String>,
    /// Running totals of queues that are gone (`f:<q>`, `x:<q>`).
    pub totals_del: Vec<String>,
    /// Seconds the bookkeeping keys live after this round.
    pub keep: i64,
}

/// The history's bookkeeping as stored.
#[derive(Debug, Default, Clone)]
pub struct HistState {
    /// When the history began (`None`: this is the first round).
    pub since: Option<i64>,
    /// The write counter.
    pub seq: i64,
    /// Workers' counters as last counted: name → (successful, failed, birth in epoch
    /// microseconds), the birth telling a worker from a later one of the same name.
    pub workers: HashMap<String, (u64, u64, i64)>,
    /// Registry watermarks: key → mark text.
    pub marks: HashMap<String, String>,
}

/// What a worker's hash says, read by name (for workers no longer listed).
#[derive(Debug, Clone, Default)]
pub struct WorkerFacts {
    /// Whether the hash exists.
    pub exists: bool,
    /// `successful_job_count`.
    pub successful: u64,
    /// `failed_job_count`.
    pub failed: u64,
    /// Its queues, in order.
    pub queues: Vec<String>,
    /// `birth`, epoch microseconds.
    pub birth: Option<i64>,
}

/// The fields of a finished or failed job the statistics need (`data` last: read only when
/// short).
pub const TIMING_FIELDS: [&str; 6] = [
    "enqueued_at",
    "started_at",
    "ended_at",
    "worker_name",
    "description",
    "data",
];

/// One registry to read new entries of (see [`Repository::registry_entries`]).
#[derive(Debug, Clone)]
pub struct RegistryRead {
    /// The registry's key.
    pub key: String,
    /// The watermark's score and whether it is exclusive; `None`: the newest entries.
    pub from: Option<(f64, bool)>,
    /// Whether to read every entry at the watermark's score too.
    pub tie: bool,
}

impl Repository {
    /// Reads the history's bookkeeping: meta, workers' counters, watermarks.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn history_state(&self) -> Result<HistState, RepoError> {
        let k = self.keys();
        let mut p = redis::pipe();
        p.cmd("HGETALL")
            .arg(k.dash_hist_meta())
            .cmd("HGETALL")
            .arg(k.dash_hist_workers())
            .cmd("HGETALL")
            .arg(k.dash_stats_marks());
        let mut r = self.run(&p).await?.into_iter();
        let mut next = || -> Result<RawHash, RepoError> {
            match r.next().unwrap_or(Value::Nil) {
                Value::ServerError(e) => {
                    Err(RepoError::Redis(self.label.clone(), format!("{e:?}")))
                }
                v => Ok(hash_of(v)),
            }
        };
        let (meta, workers, marks) = (next()?, next()?, next()?);
        let num = |h: &RawHash, f: &str| {
            h.get(f)
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|s| s.trim().parse::<i64>().ok())
        };
        let text = |v: &Vec<u8>| String::from_utf8_lossy(v).into_owned();
        Ok(HistState {
            since: num(&meta, "since"),
            seq: num(&meta, "seq").unwrap_or(0),
            workers: workers
                .iter()
                .map(|(n, v)| {
                    let t = text(v);
                    let mut it = t.split(' ').map(|x| x.parse::<i64>().unwrap_or(0));
                    let mut next = || it.next().unwrap_or(0);
                    let (s, x, b) = (next().max(0) as u64, next().max(0) as u64, next());
                    (n.clone(), (s, x, b))
                })
                .collect(),
            marks: marks.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        })
    }

    /// Reads the hashes of workers by name (those no longer listed in `rq:workers`).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn worker_facts(&self, names: &[String]) -> Result<Vec<WorkerFacts>, RepoError> {
        let mut p = redis::pipe();
        for n in names {
            p.cmd("HMGET")
                .arg(self.keys().worker(n))
                .arg("successful_job_count")
                .arg("failed_job_count")
                .arg("queues")
                .arg("birth");
        }
        Ok(self
            .run(&p)
            .await?
            .into_iter()
            .map(|v| {
                let mut f = items_of(v).into_iter().map(text_of);
                let (s, x, q, b) = (
                    f.next().flatten(),
                    f.next().flatten(),
                    f.next().flatten(),
                    f.next().flatten(),
                );
                WorkerFacts {
                    exists: b.is_some() || q.is_some(),
                    successful: s.and_then(|s| s.trim().parse().ok()).unwrap_or(0),
                    failed: x.and_then(|s| s.trim().parse().ok()).unwrap_or(0),
                    queues: q
                        .map(|q| q.split(',').map(str::to_string).collect())
                        .unwrap_or_default(),
                    birth: b
                        .as_deref()
                        .and_then(crate::rq::model::parse_timestamp)
                        .map(|t| t.timestamp_micros()),
                }
            })
            .collect())
    }

    /// Reads new registry entries for each read: with a `from` of `(score, exclusive)`, the
    /// entries above that score (from it when not exclusive), oldest first, at most `limit`,
    /// and with `tie` also every entry at exactly that score (at most `tie_limit`); without a
    /// `from`, the newest `limit`. Scores of `+inf` (kept forever) are left out. Gives (tie,
    /// newer) per read; a command Redis refuses reads as nothing.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn registry_entries(
        &self,
        reads: &[RegistryRead],
        limit: usize,
        tie_limit: usize,
    ) -> Result<Vec<(Vec<(String, f64)>, Vec<(String, f64)>)>, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors();
        for r in reads {
            match r.from {
                Some((s, exclusive)) => {
                    p.cmd("ZRANGEBYSCORE")
                        .arg(&r.key)
                        .arg(s)
                        .arg(s)
                        .arg("WITHSCORES")
                        .arg("LIMIT")
                        .arg(0)
                        .arg(if r.tie { tie_limit } else { 0 });
                    let low = if exclusive || r.tie {
                        format!("({s}")
                    } else {
                        s.to_string()
                    };
                    p.cmd("ZRANGEBYSCORE")
                        .arg(&r.key)
                        .arg(low)
                        .arg("(+inf")
                        .arg("WITHSCORES")
                        .arg("LIMIT")
                        .arg(0)
                        .arg(limit);
                }
                None => {
                    p.cmd("ECHO").arg("");
                    p.cmd("ZREVRANGEBYSCORE")
                        .arg(&r.key)
                        .arg("(+inf")
                        .arg(0)
                        .arg("WITHSCORES")
                        .arg("LIMIT")
                        .arg(0)
                        .arg(limit);
                }
            }
        }
        let entries = |v: Value| -> Vec<(String, f64)> {
            members_with_scores(v)
                .into_iter()
                .filter_map(|(m, s)| Some((m, s?)))
                .collect()
        };
        let mut it = self.run(&p).await?.into_iter();
        let mut out = Vec::with_capacity(reads.len());
        while let (Some(tie), Some(newer)) = (it.next(), it.next()) {
            out.push((entries(tie), entries(newer)));
        }
        Ok(out)
    }

    /// Reads of each job `enqueued_at`, `started_at`, `ended_at`, `worker_name`,
    /// `description` and, when not longer than `max_data` bytes, `data`; a job whose hash is
    /// gone reads as all `None`, and so does one whose fields Redis refuses.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn timing_fields(
        &self,
        ids: &[String],
        max_data: usize,
    ) -> Result<Vec<Vec<Option<Vec<u8>>>>, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in ids {
            let key = self.keys().job(id);
            p.cmd("HMGET").arg(&key).arg(&TIMING_FIELDS[..5]);
            p.cmd("HSTRLEN").arg(&key).arg("data");
        }
        let mut rows = Vec::with_capacity(ids.len());
        let mut wanted = Vec::new();
        let mut it = self.run(&p).await?.into_iter();
        while let (Some(fields), Some(len)) = (it.next(), it.next()) {
            let mut row: Vec<Option<Vec<u8>>> = items_of(fields)
                .into_iter()
                .map(super::resp::bytes_of)
                .collect();
            row.resize(5, None);
            let len = int_of(&len) as usize;
            if len > 0 && len <= max_data {
                wanted.push(rows.len());
            }
            rows.push(row);
        }
        let mut p = redis::pipe();
        p.ignore_errors();
        for i in &wanted {
            p.cmd("HGET").arg(self.keys().job(&ids[*i])).arg("data");
        }
        let data = self.run(&p).await?;
        for row in rows.iter_mut() {
            row.push(None);
        }
        for (i, v) in wanted.into_iter().zip(data) {
            rows[i][5] = super::resp::bytes_of(v);
        }
        Ok(rows)
    }

    /// The function name in a job's `data` field (decoded inertly), if it has one.
    pub fn func_name_of(&self, data: &[u8]) -> Option<String> {
        crate::rq::decode::job_data(data, self.json_first)
            .ok()
            .map(|c| c.func_name)
    }

    /// Applies a round; `false` when another writer went first (recompute and try again).
    ///
    /// # Errors
    /// When Redis does not answer or refuses the write.
    pub async fn apply_round(&self, w: &RoundWrite) -> Result<bool, RepoError> {
        let k = self.keys();
        let mut inv = APPLY.prepare_invoke();
        inv.key(k.dash_hist_meta())
            .key(k.dash_hist_workers())
            .key(k.dash_hist_totals())
            .key(k.dash_stats_marks())
            .arg(serde_json::to_string(w).unwrap_or_default());
        let v = self.invoke(&inv).await?;
        if let Value::ServerError(e) = &v {
            return Err(RepoError::Redis(self.label.clone(), format!("{e:?}")));
        }
        Ok(int_of(&v) == 1)
    }

    /// `HGETALL` of each key, as text (the history's and statistics' keys).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn hashes(&self, keys: &[String]) -> Result<Vec<HashMap<String, String>>, RepoError> {
        let mut p = redis::pipe();
        for k in keys {
            p.cmd("HGETALL").arg(k);
        }
        Ok(self
            .run(&p)
            .await?
            .into_iter()
            .map(|v| {
                hash_of(v)
                    .into_iter()
                    .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
                    .collect()
            })
            .collect())
    }
}
