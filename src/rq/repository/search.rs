//! The reads of a search scan: the queues and registry bounds to walk, then one bounded chunk at
//! a time (two pipelined round trips: the ids of the chunk, then only the fields the query needs
//! for each). Every command is O(log N + chunk), so Redis serves other clients between them.
//! Nothing here writes.

use redis::Value;

use super::resp::{
    bytes_of, int_of, items_of, latest_exc_last_line, members_with_scores, texts_of,
};
use super::{RepoError, Repository};
use crate::rq::model::{parse_timestamp, Registry};
use crate::rq::search::{Candidate, Needs};

/// The fields a search reads of every job (its time: see [`crate::rq::search`], and its status),
/// in this order; `description`, `worker_name`, `data` and `exc_info` follow when the query needs
/// them.
const FIELDS: [&str; 4] = ["ended_at", "enqueued_at", "created_at", "status"];

/// Where a scan of one registry starts: its size and highest score when the scan began (entries
/// added later sit above it and are left out).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanBounds {
    /// Entries at the start.
    pub len: u64,
    /// The highest score at the start (`+inf` for a queue list).
    pub max_score: f64,
}

/// The scores one stripe of a scan covers: `[min, max]`, or `[min, max)` when `max_exclusive`.
/// A queue list has no scores: its one stripe covers everything.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// The lowest score (inclusive; `-inf` for no bound).
    pub min: f64,
    /// The highest score.
    pub max: f64,
    /// Whether `max` itself is left out (it belongs to the stripe above).
    pub max_exclusive: bool,
}

impl ScoreRange {
    /// Everything up to `max_score` (inclusive).
    pub fn up_to(max_score: f64) -> ScoreRange {
        ScoreRange {
            min: f64::NEG_INFINITY,
            max: max_score,
            max_exclusive: false,
        }
    }

    fn contains(&self, s: f64) -> bool {
        s >= self.min
            && if self.max_exclusive {
                s < self.max
            } else {
                s <= self.max
            }
    }
}

/// What one chunk read gave.
#[derive(Debug, Clone, Default)]
pub struct Chunk {
    /// Entries read.
    pub read: u64,
    /// Entries read within the stripe's score range.
    pub in_range: u64,
    /// Whether an entry below the range was read: the stripe is done.
    pub below: bool,
    /// The candidates among the entries in range.
    pub candidates: Vec<Candidate>,
}

impl Repository {
    /// The names of every queue in `rq:queues`, sorted.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn queue_names(&self) -> Result<Vec<String>, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors().cmd("SMEMBERS").arg(self.keys.queues());
        let v = self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil);
        let mut names: Vec<String> = texts_of(v)
            .iter()
            .filter_map(|k| self.keys.queue_name_from_key(k).map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The bounds of a scan of `registry` of `queue`, in one round trip.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn scan_bounds(
        &self,
        queue: &str,
        registry: Registry,
    ) -> Result<ScanBounds, RepoError> {
        let key = self.keys.registry(registry, queue);
        let mut p = redis::pipe();
        p.ignore_errors();
        if registry == Registry::Queued {
            p.cmd("LLEN").arg(&key);
        } else {
            p.cmd("ZCARD").arg(&key);
            p.cmd("ZRANGE").arg(&key).arg(-1).arg(-1).arg("WITHSCORES");
        }
        let mut r = self.run(&p).await?.into_iter();
        let len = int_of(&r.next().unwrap_or(Value::Nil));
        let max_score = members_with_scores(r.next().unwrap_or(Value::Nil))
            .into_iter()
            .next()
            .and_then(|(_, s)| s)
            .unwrap_or(f64::INFINITY);
        Ok(ScanBounds { len, max_score })
    }

    /// The scores of the entries at `indices` of a registry counted from the newest, in one
    /// round trip (`None` where there is no entry any more).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn scores_at(
        &self,
        queue: &str,
        registry: Registry,
        indices: &[u64],
    ) -> Result<Vec<Option<f64>>, RepoError> {
        let key = self.keys.registry(registry, queue);
        let mut p = redis::pipe();
        p.ignore_errors();
        for i in indices {
            p.cmd("ZREVRANGE").arg(&key).arg(i).arg(i).arg("WITHSCORES");
        }
        Ok(self
            .run(&p)
            .await?
            .into_iter()
            .map(|v| {
                members_with_scores(v)
                    .into_iter()
                    .next()
                    .and_then(|(_, s)| s)
            })
            .collect())
    }

    /// Reads entries `[start, start + count)` of a registry counted from the newest (highest
    /// score; the tail of a queue list), and for those whose score is in `range` the fields
    /// `needs` asks for (entries scored above the range were added after the scan began, or
    /// belong to the stripe above; entries below it to the stripe below).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn scan_chunk(
        &self,
        queue: &str,
        registry: Registry,
        range: ScoreRange,
        start: u64,
        count: u64,
        needs: Needs,
    ) -> Result<Chunk, RepoError> {
        let key = self.keys.registry(registry, queue);
        let stop = start + count.max(1) - 1;
        let mut p = redis::pipe();
        p.ignore_errors();
        if registry == Registry::Queued {
            p.cmd("LRANGE")
                .arg(&key)
                .arg(-(stop as i64) - 1)
                .arg(-(start as i64) - 1);
        } else {
            p.cmd("ZREVRANGE")
                .arg(&key)
                .arg(start)
                .arg(stop)
                .arg("WITHSCORES");
        }
        let reply = self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil);
        let mut below = false;
        let (read, ids): (u64, Vec<String>) = if registry == Registry::Queued {
            let mut ids = texts_of(reply);
            ids.reverse();
            (ids.len() as u64, ids)
        } else {
            let entries = members_with_scores(reply);
            let read = entries.len() as u64;
            below = entries
                .iter()
                .any(|(_, s)| s.is_some_and(|s| s < range.min));
            let ids = entries
                .into_iter()
                .filter(|(_, s)| s.is_none_or(|s| range.contains(s)))
                .map(|(m, _)| {
                    if registry == Registry::Started {
                        // RQ 2+ stores `job_id:execution_id` here.
                        m.split(':').next().unwrap_or(&m).to_string()
                    } else {
                        m
                    }
                })
                .collect();
            (read, ids)
        };
        let mut chunk = Chunk {
            read,
            in_range: ids.len() as u64,
            below,
            candidates: Vec::new(),
        };
        if ids.is_empty() {
            return Ok(chunk);
        }
        let mut fields: Vec<&str> = FIELDS.to_vec();
        for (wanted, field) in [
            (needs.description, "description"),
            (needs.worker, "worker_name"),
            (needs.data, "data"),
            (needs.exc, "exc_info"),
        ] {
            if wanted {
                fields.push(field);
            }
        }
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in &ids {
            let k = self.keys.job(id);
            p.cmd("HMGET").arg(&k).arg(&fields[..]);
            if needs.exc {
                p.cmd("XREVRANGE")
                    .arg(self.keys.results(id))
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1);
            }
        }
        let mut r = self.run(&p).await?.into_iter();
        let out = &mut chunk.candidates;
        out.reserve(ids.len());
        for id in ids {
            let mut v = items_of(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .map(bytes_of);
            let mut next = || v.next().flatten();
            let times = [next(), next(), next()];
            // RQ writes `created_at` and `status` whenever it saves a job: with neither (and no
            // `data` when it is read) the hash is gone, or was not written by RQ.
            let saved = times[2].is_some() | next().is_some();
            let time = times
                .into_iter()
                .flatten()
                .find_map(|t| std::str::from_utf8(&t).ok().and_then(parse_timestamp));
            let text = |b: Option<Vec<u8>>| b.map(|b| String::from_utf8_lossy(&b).into_owned());
            let description = if needs.description {
                text(next())
            } else {
                None
            };
            let worker = if needs.worker { text(next()) } else { None }.filter(|w| !w.is_empty());
            let data = if needs.data { next() } else { None };
            let exc_info = if needs.exc { next() } else { None };
            let exists = if needs.data { data.is_some() } else { saved };
            let traceback = if needs.exc {
                let latest = latest_exc_last_line(r.next().unwrap_or(Value::Nil));
                latest.or_else(|| exc_info.and_then(|b| crate::rq::decode::exc_info_last_line(&b)))
            } else {
                None
            };
            out.push(Candidate {
                id,
                exists,
                description,
                worker,
                time,
                traceback,
                data,
            });
        }
        Ok(chunk)
    }
}
