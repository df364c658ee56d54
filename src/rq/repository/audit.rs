//! The audit trail's stream (`rqdash:<prefix>:audit`, [`crate::rq::keys::Keys::dash_audit`]):
//! appended with `XADD … MAXLEN n` and trimmed by age with `XTRIM … MINID`, both exact (at
//! the rate people act, exact trimming costs nothing), read newest first with `XREVRANGE`. The entries' fields are [`crate::audit`]'s business.

use redis::Value;

use super::resp::{stream_entries, text_of};
use super::{RepoError, Repository};
use crate::rq::model::RawHash;

impl Repository {
    /// Appends one entry (`fields`), keeping at most about `max_len` entries and none older
    /// than `min_ms` (epoch milliseconds); returns its stream id.
    ///
    /// # Errors
    /// When Redis does not answer or refuses the write (a read-only user, a replica, out of
    /// memory).
    pub async fn append_audit(
        &self,
        fields: &[(&str, String)],
        max_len: u64,
        min_ms: u64,
    ) -> Result<String, RepoError> {
        let key = self.keys.dash_audit();
        let mut p = redis::pipe();
        let add = p.cmd("XADD").arg(&key).arg("MAXLEN").arg(max_len).arg("*");
        for (k, v) in fields {
            add.arg(*k).arg(v);
        }
        p.cmd("XTRIM").arg(&key).arg("MINID").arg(min_ms).ignore();
        match self.run(&p).await?.into_iter().next() {
            Some(Value::ServerError(e)) => {
                Err(RepoError::Redis(self.label.clone(), format!("{e:?}")))
            }
            Some(v) => Ok(text_of(v).unwrap_or_default()),
            None => Ok(String::new()),
        }
    }

    /// Up to `count` entries, newest first, from `end` (an id or `+`, inclusive) back to
    /// `start` (an id or `-`).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn read_audit(
        &self,
        end: &str,
        start: &str,
        count: usize,
    ) -> Result<Vec<(String, RawHash)>, RepoError> {
        let mut p = redis::pipe();
        p.cmd("XREVRANGE")
            .arg(self.keys.dash_audit())
            .arg(end)
            .arg(start)
            .arg("COUNT")
            .arg(count);
        match self.run(&p).await?.into_iter().next() {
            Some(Value::ServerError(e)) => {
                Err(RepoError::Redis(self.label.clone(), format!("{e:?}")))
            }
            Some(v) => Ok(stream_entries(v)),
            None => Ok(Vec::new()),
        }
    }

    /// How many entries the trail holds.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn audit_len(&self) -> Result<u64, RepoError> {
        let mut p = redis::pipe();
        p.cmd("XLEN").arg(self.keys.dash_audit());
        Ok(self
            .run(&p)
            .await?
            .first()
            .map(super::resp::int_of)
            .unwrap_or(0))
    }
}
