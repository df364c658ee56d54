//! The reads of a search scan: the queues and registry bounds to walk, then one bounded chunk at
//! a time (two pipelined round trips: the ids of the chunk, then only the fields the query needs
//! for each). Every command is O(log N + chunk), so Redis serves other clients between them.
//! Nothing here writes.

use redis::Value;

use super::resp::{bytes_of, int_of, items_of, latest_exc_string, members_with_scores, texts_of};
use super::{RepoError, Repository};
use crate::rq::model::{parse_timestamp, Registry};
use crate::rq::search::{Candidate, Needs};

/// The fields a search reads of every job, in this order; `data` and `exc_info` follow when the
/// query needs them.
const FIELDS: [&str; 5] = [
    "description",
    "worker_name",
    "ended_at",
    "enqueued_at",
    "created_at",
];

/// Where a scan of one registry starts: its size and highest score when the scan began (entries
/// added later sit above it and are left out).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanBounds {
    /// Entries at the start.
    pub len: u64,
    /// The highest score at the start (`+inf` for a queue list).
    pub max_score: f64,
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

    /// Reads entries `[start, start + count)` of a registry counted from the newest (highest
    /// score; the tail of a queue list), and for each the fields `needs` asks for. Returns how
    /// many entries were read and the candidates among them (entries scored above
    /// `bounds.max_score` were added after the scan began and are skipped).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn scan_chunk(
        &self,
        queue: &str,
        registry: Registry,
        bounds: ScanBounds,
        start: u64,
        count: u64,
        needs: Needs,
    ) -> Result<(u64, Vec<Candidate>), RepoError> {
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
        let range = self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil);
        let (read, ids): (u64, Vec<String>) = if registry == Registry::Queued {
            let mut ids = texts_of(range);
            ids.reverse();
            (ids.len() as u64, ids)
        } else {
            let entries = members_with_scores(range);
            let read = entries.len() as u64;
            let ids = entries
                .into_iter()
                .filter(|(_, s)| s.is_none_or(|s| s <= bounds.max_score))
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
        if ids.is_empty() {
            return Ok((read, Vec::new()));
        }
        let mut fields: Vec<&str> = FIELDS.to_vec();
        if needs.data {
            fields.push("data");
        }
        if needs.exc {
            fields.push("exc_info");
        }
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in &ids {
            let k = self.keys.job(id);
            p.cmd("HMGET").arg(&k).arg(&fields[..]);
            if !needs.data {
                p.cmd("HEXISTS").arg(&k).arg("data");
            }
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
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let mut v = items_of(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .map(bytes_of);
            let mut text = || {
                v.next()
                    .flatten()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            };
            let description = text();
            let worker = text().filter(|w| !w.is_empty());
            let time = [text(), text(), text()]
                .into_iter()
                .flatten()
                .find_map(|t| parse_timestamp(&t));
            let data = if needs.data { v.next().flatten() } else { None };
            let exc_info = if needs.exc { v.next().flatten() } else { None };
            let exists = if needs.data {
                data.is_some()
            } else {
                int_of(&r.next().unwrap_or(Value::Nil)) > 0
            };
            let traceback = if needs.exc {
                let latest = latest_exc_string(r.next().unwrap_or(Value::Nil));
                latest.or_else(|| exc_info.and_then(|b| crate::rq::decode::exc_info_field(&b)))
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
        Ok((read, out))
    }
}
