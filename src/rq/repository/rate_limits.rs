//! RQ 3.0's rate limits: `rq:rl-keys` names them; per key `rq:rl:<key>` holds the concurrency,
//! `…:allowed` the jobs holding a slot and `…:rate_limited` the jobs waiting for one.

use chrono::{DateTime, Utc};
use redis::Value;

use super::resp::{int_of, members_with_scores, text_of, texts_of};
use super::{RepoError, Repository};
use crate::rq::model::{from_epoch_secs, JobSummary};

/// The most slot holders read per key (a key's concurrency is small).
const MAX_HOLDERS: usize = 1_000;
/// The most rate limits the rate limits page reads.
const MAX_LIMITS: usize = 1_000;

/// One rate limit and how it is used.
#[derive(Debug, Clone, Default)]
pub struct RateLimitState {
    /// The limit's key.
    pub key: String,
    /// Jobs allowed at a time (`rq:rl:<key>` `concurrency`).
    pub concurrency: Option<i64>,
    /// Jobs holding a slot.
    pub in_use: u64,
    /// Jobs waiting for a slot.
    pub waiting: u64,
    /// When the oldest waiter started waiting.
    pub oldest_waiting_since: Option<DateTime<Utc>>,
    /// Slot holders whose job is no longer queued or started (or is gone): slots nobody will
    /// release until RQ's maintenance does.
    pub leaked: Vec<String>,
}

impl Repository {
    /// Every rate limit (up to 1,000 keys) with its use and leaked slots.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn rate_limits(&self) -> Result<Vec<RateLimitState>, RepoError> {
        let keys = self
            .scan_set(&self.keys.rate_limit_keys(), MAX_LIMITS)
            .await?;
        let mut p = redis::pipe();
        p.ignore_errors();
        for k in &keys {
            p.cmd("HGET")
                .arg(self.keys.rate_limit(k))
                .arg("concurrency");
            p.cmd("ZCARD").arg(self.keys.rate_limit_allowed(k));
            p.cmd("ZCARD").arg(self.keys.rate_limit_waiting(k));
            p.cmd("ZRANGE")
                .arg(self.keys.rate_limit_waiting(k))
                .arg(0)
                .arg(0)
                .arg("WITHSCORES");
            p.cmd("ZRANGE")
                .arg(self.keys.rate_limit_allowed(k))
                .arg(0)
                .arg(MAX_HOLDERS - 1);
        }
        let mut r = self.run(&p).await?.into_iter();
        let mut out = Vec::with_capacity(keys.len());
        let mut holders = Vec::with_capacity(keys.len());
        for key in keys {
            let concurrency = text_of(r.next().unwrap_or(Value::Nil)).and_then(|c| c.parse().ok());
            let in_use = int_of(&r.next().unwrap_or(Value::Nil));
            let waiting = int_of(&r.next().unwrap_or(Value::Nil));
            let oldest = members_with_scores(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .next()
                .and_then(|(_, s)| s)
                .and_then(from_epoch_secs);
            holders.push(texts_of(r.next().unwrap_or(Value::Nil)));
            out.push(RateLimitState {
                key,
                concurrency,
                in_use,
                waiting,
                oldest_waiting_since: oldest,
                leaked: Vec::new(),
            });
        }
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in holders.iter().flatten() {
            p.cmd("HGET").arg(self.keys.job(id)).arg("status");
        }
        let mut r = self.run(&p).await?.into_iter();
        for (state, ids) in out.iter_mut().zip(holders) {
            for id in ids {
                let status = text_of(r.next().unwrap_or(Value::Nil));
                if !matches!(status.as_deref(), Some("queued" | "started")) {
                    state.leaked.push(id);
                }
            }
        }
        Ok(out)
    }

    /// One page of the jobs waiting for a slot of rate limit `key`, oldest first (redacted for
    /// `sight`), and how many wait in all.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn rate_limit_waiting(
        &self,
        key: &str,
        offset: u64,
        limit: u64,
        sight: &crate::redact::Sight,
    ) -> Result<(u64, Vec<JobSummary>), RepoError> {
        let zkey = self.keys.rate_limit_waiting(key);
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("ZCARD")
            .arg(&zkey)
            .cmd("ZRANGE")
            .arg(&zkey)
            .arg(offset)
            .arg(offset + limit.max(1) - 1)
            .arg("WITHSCORES");
        let mut r = self.run(&p).await?.into_iter();
        let total = int_of(&r.next().unwrap_or(Value::Nil));
        let (ids, scores): (Vec<String>, Vec<Option<f64>>) =
            members_with_scores(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .unzip();
        let mut rows = self.job_rows(&ids, &scores, false).await?;
        sight.summaries(&mut rows);
        Ok((total, rows))
    }
}
