//! RQ's data model as pure values: registries, statuses, jobs, workers, queues. No I/O here.
//!
//! Parsers take the raw bytes Redis returns and never fail: a field that cannot be parsed is kept as
//! text (or `None`) so a page can still show what is there.
//!
//! - this file: registries, statuses, timestamps, raw hashes;
//! - [`job`]: list rows, job details, results-stream entries;
//! - [`overview`]: queue counts, workers, Redis facts, the overview;
//! - [`cron`]: cron schedulers, their cron jobs and runs (RQ 2.4+).

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::fmt;

pub mod cron;
pub mod job;
pub mod overview;

pub use job::{
    Execution, JobDetail, JobSummary, RelatedJob, ResultEntry, ResultType, SUMMARY_FIELDS,
};
pub use overview::{Overview, QueueCounts, QueueHealth, RedisInfo, SchedulerLock, Worker};

/// Where a job can sit: a queue list or one of a queue's registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    /// The queue list itself (`rq:queue:<q>`).
    Queued,
    /// `StartedJobRegistry` (`rq:wip:<q>`).
    Started,
    /// `FinishedJobRegistry`.
    Finished,
    /// `FailedJobRegistry`.
    Failed,
    /// `DeferredJobRegistry` (jobs waiting for dependencies).
    Deferred,
    /// `ScheduledJobRegistry`.
    Scheduled,
    /// `CanceledJobRegistry`.
    Canceled,
    /// RQ 3.0's `ReadyJobRegistry`.
    Ready,
}

impl Registry {
    /// Every registry, in the order the overview shows them.
    pub const ALL: [Registry; 8] = [
        Registry::Queued,
        Registry::Started,
        Registry::Deferred,
        Registry::Scheduled,
        Registry::Finished,
        Registry::Failed,
        Registry::Canceled,
        Registry::Ready,
    ];

    /// Returns the name used in URLs and JSON (rq-dashboard's `registry_name`).
    pub fn as_str(self) -> &'static str {
        match self {
            Registry::Queued => "queued",
            Registry::Started => "started",
            Registry::Finished => "finished",
            Registry::Failed => "failed",
            Registry::Deferred => "deferred",
            Registry::Scheduled => "scheduled",
            Registry::Canceled => "canceled",
            Registry::Ready => "ready",
        }
    }

    /// Parses a registry name as used in URLs; `None` if unknown.
    pub fn parse(s: &str) -> Option<Registry> {
        Registry::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Returns what the score of a member of this registry means, for column headers.
    pub fn score_meaning(self) -> Option<&'static str> {
        match self {
            Registry::Queued => None,
            Registry::Started => Some("heartbeat deadline"),
            Registry::Finished | Registry::Failed => Some("expires"),
            Registry::Deferred => Some("deferred"),
            Registry::Scheduled => Some("scheduled for"),
            Registry::Canceled => Some("canceled"),
            Registry::Ready => Some("ready since"),
        }
    }
}

impl Registry {
    /// Where a job with `status` sits (the queue for `queued` and anything unknown).
    pub fn for_status(status: &str) -> Registry {
        match status {
            "failed" | "stopped" => Registry::Failed,
            "finished" => Registry::Finished,
            "started" => Registry::Started,
            "deferred" => Registry::Deferred,
            "scheduled" => Registry::Scheduled,
            "canceled" => Registry::Canceled,
            _ => Registry::Queued,
        }
    }
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job's status as RQ writes it; unknown values are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    /// `queued`
    Queued,
    /// `started`
    Started,
    /// `finished`
    Finished,
    /// `failed`
    Failed,
    /// `deferred`
    Deferred,
    /// `scheduled`
    Scheduled,
    /// `stopped`
    Stopped,
    /// `canceled`
    Canceled,
    /// `created` (RQ 2.4.1+)
    Created,
    /// `ready_to_enqueue` (RQ 3.0)
    ReadyToEnqueue,
    /// `rate_limited` (RQ 3.0)
    RateLimited,
    /// Anything else, as written.
    Unknown(String),
}

impl JobStatus {
    /// Parses the `status` field.
    pub fn parse(s: &str) -> JobStatus {
        match s {
            "queued" => JobStatus::Queued,
            "started" => JobStatus::Started,
            "finished" => JobStatus::Finished,
            "failed" => JobStatus::Failed,
            "deferred" => JobStatus::Deferred,
            "scheduled" => JobStatus::Scheduled,
            "stopped" => JobStatus::Stopped,
            "canceled" => JobStatus::Canceled,
            "created" => JobStatus::Created,
            "ready_to_enqueue" => JobStatus::ReadyToEnqueue,
            "rate_limited" => JobStatus::RateLimited,
            other => JobStatus::Unknown(other.to_string()),
        }
    }

    /// Returns the status as RQ spells it.
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Started => "started",
            JobStatus::Finished => "finished",
            JobStatus::Failed => "failed",
            JobStatus::Deferred => "deferred",
            JobStatus::Scheduled => "scheduled",
            JobStatus::Stopped => "stopped",
            JobStatus::Canceled => "canceled",
            JobStatus::Created => "created",
            JobStatus::ReadyToEnqueue => "ready_to_enqueue",
            JobStatus::RateLimited => "rate_limited",
            JobStatus::Unknown(s) => s,
        }
    }

    /// Returns a CSS class token for the status badge (only `[a-z_]`, safe in attributes).
    pub fn css(&self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Started => "started",
            JobStatus::Finished => "finished",
            JobStatus::Failed | JobStatus::Stopped => "failed",
            JobStatus::Deferred | JobStatus::Created => "deferred",
            JobStatus::Scheduled | JobStatus::ReadyToEnqueue | JobStatus::RateLimited => {
                "scheduled"
            }
            JobStatus::Canceled => "canceled",
            JobStatus::Unknown(_) => "unknown",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses one of RQ's timestamp strings (`%Y-%m-%dT%H:%M:%S.%fZ` or the legacy form without
/// fraction). The empty string RQ writes for "None" and anything unparsable give `None`.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let body = s.strip_suffix('Z').unwrap_or(s);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(body, fmt) {
            return Some(Utc.from_utc_datetime(&dt));
        }
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Converts float epoch seconds (as RQ writes for executions and results) to a time.
pub fn from_epoch_secs(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() || secs.abs() > 1e11 {
        return None;
    }
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9) as u32;
    DateTime::from_timestamp(whole as i64, nanos.min(999_999_999))
}

/// A raw hash as Redis returned it: field name to bytes.
pub type RawHash = HashMap<String, Vec<u8>>;

pub(crate) fn text(h: &RawHash, field: &str) -> Option<String> {
    h.get(field)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .filter(|s| !s.is_empty())
}

pub(crate) fn time(h: &RawHash, field: &str) -> Option<DateTime<Utc>> {
    text(h, field).and_then(|s| parse_timestamp(&s))
}

pub(crate) fn int(h: &RawHash, field: &str) -> Option<i64> {
    text(h, field).and_then(|s| s.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_rq_format_parse() {
        let a = parse_timestamp("2026-11-24T06:47:05.707230Z").unwrap();
        assert_eq!(a.timestamp_subsec_micros(), 707230);
        assert!(parse_timestamp("2026-11-24T06:47:05Z").is_some());
        assert!(parse_timestamp("").is_none());
        assert!(parse_timestamp("garbage").is_none());
    }

    #[test]
    fn unknown_statuses_are_kept() {
        assert_eq!(JobStatus::parse("weird").as_str(), "weird");
        assert_eq!(JobStatus::parse("weird").css(), "unknown");
        assert_eq!(JobStatus::parse("queued"), JobStatus::Queued);
    }

    #[test]
    fn registries_round_trip_through_their_names() {
        for r in Registry::ALL {
            assert_eq!(Registry::parse(r.as_str()), Some(r));
        }
        assert_eq!(Registry::parse("nope"), None);
    }
}
