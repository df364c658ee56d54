//! Jobs as pages show them: list rows (a few fields, never the payload), full details with the
//! decoded call, and results-stream entries.

use chrono::{DateTime, Utc};

use super::{from_epoch_secs, int, text, time, JobStatus, RawHash};
use crate::rq::decode::{self, Decoded};

/// The fields a job list row shows, read with `HMGET`: the one list for every row read. Never the
/// big `data` field: whether the job exists (RQ's test is "the hash has `data`") is asked with
/// `HEXISTS`.
pub const SUMMARY_FIELDS: [&str; 11] = [
    "status",
    "origin",
    "description",
    "created_at",
    "enqueued_at",
    "started_at",
    "ended_at",
    "worker_name",
    "exc_info",
    "repeats_left",
    "last_heartbeat",
];

/// One row of a job list.
#[derive(Debug, Clone)]
pub struct JobSummary {
    /// The job id as stored in the queue or registry.
    pub id: String,
    /// False when the id has no job hash any more (expired or deleted).
    pub exists: bool,
    /// The `status` field.
    pub status: Option<JobStatus>,
    /// The `origin` queue.
    pub origin: Option<String>,
    /// The `description` field, as stored.
    pub description: Option<String>,
    /// When the job was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When the job was last enqueued.
    pub enqueued_at: Option<DateTime<Utc>>,
    /// When the job last started.
    pub started_at: Option<DateTime<Utc>>,
    /// When the job last ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// The worker that ran it last.
    pub worker_name: Option<String>,
    /// The full latest traceback, when the job failed.
    pub exc_info: Option<String>,
    /// The member's score in its registry (None for queue lists).
    pub score: Option<f64>,
    /// Whether it is set to repeat (`repeats_left`, RQ 2.3+).
    pub repeats: bool,
    /// Its last heartbeat while running.
    pub last_heartbeat: Option<DateTime<Utc>>,
    /// The execution a started-registry entry names (RQ 2+).
    pub execution: Option<String>,
}

impl JobSummary {
    /// Builds a row from the values of `HMGET` over [`SUMMARY_FIELDS`] (in that order), whether
    /// the hash has `data` (RQ's test of existence) and the latest results-stream entry, if any.
    pub fn from_fields(
        id: String,
        exists: bool,
        values: Vec<Option<Vec<u8>>>,
        latest: Option<&ResultEntry>,
        score: Option<f64>,
    ) -> JobSummary {
        let mut h = RawHash::new();
        for (name, v) in SUMMARY_FIELDS.iter().zip(values) {
            if let Some(v) = v {
                h.insert((*name).to_string(), v);
            }
        }
        let exc_info = latest
            .and_then(|r| r.exc_string.clone())
            .or_else(|| h.get("exc_info").and_then(|b| decode::exc_info_field(b)));
        JobSummary {
            id,
            exists,
            status: text(&h, "status").map(|s| JobStatus::parse(&s)),
            origin: text(&h, "origin"),
            description: text(&h, "description")
                .map(|d| decode::truncate(&d, decode::MAX_ROW_TEXT)),
            created_at: time(&h, "created_at"),
            enqueued_at: time(&h, "enqueued_at"),
            started_at: time(&h, "started_at"),
            ended_at: time(&h, "ended_at"),
            worker_name: text(&h, "worker_name"),
            exc_info,
            score,
            repeats: h.contains_key("repeats_left"),
            last_heartbeat: time(&h, "last_heartbeat"),
            execution: None,
        }
    }

    /// Why a scheduled job that already ran waits again: `repeat` (RQ 2.3+ `Repeat`) or `retry`
    /// (RQ's `Retry`: on failure, or returned by the job). `None` for a job that never ran.
    pub fn rerun(&self) -> Option<&'static str> {
        let scheduled = self.status.as_ref().map(|s| s.as_str()) == Some("scheduled");
        (scheduled && self.started_at.is_some()).then_some(if self.repeats {
            "repeat"
        } else {
            "retry"
        })
    }

    /// Returns the last non-empty line of the traceback, for list rows.
    pub fn exc_last_line(&self) -> Option<&str> {
        self.exc_info
            .as_deref()
            .and_then(|t| t.lines().rev().find(|l| !l.trim().is_empty()))
            .map(str::trim)
    }
}

/// The kind of a results-stream entry (`Result.Type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultType {
    /// 1
    Successful,
    /// 2
    Failed,
    /// 3
    Stopped,
    /// 4 (RQ 2.1+)
    Retried,
    /// 5 (RQ 2.8+)
    MaxRetriesExceeded,
    /// Anything else, as written.
    Unknown(String),
}

impl ResultType {
    /// Parses the `type` field.
    pub fn parse(s: &str) -> ResultType {
        match s.trim() {
            "1" => ResultType::Successful,
            "2" => ResultType::Failed,
            "3" => ResultType::Stopped,
            "4" => ResultType::Retried,
            "5" => ResultType::MaxRetriesExceeded,
            other => ResultType::Unknown(other.to_string()),
        }
    }

    /// Returns a lower-case name.
    pub fn as_str(&self) -> &str {
        match self {
            ResultType::Successful => "successful",
            ResultType::Failed => "failed",
            ResultType::Stopped => "stopped",
            ResultType::Retried => "retried",
            ResultType::MaxRetriesExceeded => "max retries exceeded",
            ResultType::Unknown(s) => s,
        }
    }
}

/// One entry of `rq:results:<id>`.
#[derive(Debug, Clone)]
pub struct ResultEntry {
    /// The stream entry id (`<ms>-<seq>`).
    pub stream_id: String,
    /// When the result was written (the entry id's milliseconds).
    pub created_at: Option<DateTime<Utc>>,
    /// Its type.
    pub kind: ResultType,
    /// The decoded return value, when present.
    pub return_value: Option<Decoded>,
    /// The traceback text, for failures.
    pub exc_string: Option<String>,
    /// The worker that wrote it (RQ 2.5+).
    pub worker_name: Option<String>,
    /// The execution id (RQ 2.8+).
    pub execution_id: Option<String>,
    /// When the execution started (RQ 2.8+).
    pub execution_started_at: Option<DateTime<Utc>>,
    /// When the execution ended (RQ 2.8+).
    pub execution_ended_at: Option<DateTime<Utc>>,
}

impl ResultEntry {
    /// Parses one stream entry; `json_first` says which serializer to try first.
    pub fn from_stream(stream_id: &str, fields: &RawHash, json_first: bool) -> ResultEntry {
        let ms = stream_id
            .split('-')
            .next()
            .and_then(|m| m.parse::<i64>().ok());
        let epoch = |f: &str| {
            text(fields, f)
                .and_then(|s| s.trim().parse::<f64>().ok())
                .and_then(from_epoch_secs)
        };
        ResultEntry {
            stream_id: stream_id.to_string(),
            created_at: ms.and_then(DateTime::from_timestamp_millis),
            kind: ResultType::parse(&text(fields, "type").unwrap_or_default()),
            return_value: fields
                .get("return_value")
                .map(|b| decode::base64_payload(b, json_first)),
            exc_string: fields.get("exc_string").and_then(|b| decode::exc_string(b)),
            worker_name: text(fields, "worker_name"),
            execution_id: text(fields, "execution_id"),
            execution_started_at: epoch("execution_started_at"),
            execution_ended_at: epoch("execution_ended_at"),
        }
    }
}

/// A dependency or dependent of a job, with its status.
#[derive(Debug, Clone)]
pub struct RelatedJob {
    /// The job id.
    pub id: String,
    /// Its status, or `None` when its hash is gone.
    pub status: Option<JobStatus>,
}

/// Everything the job page shows.
#[derive(Debug, Clone)]
pub struct JobDetail {
    /// The job id.
    pub id: String,
    /// The `status` field.
    pub status: Option<JobStatus>,
    /// The origin queue.
    pub origin: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The decoded `data` payload: function name, instance, args, kwargs.
    pub call: Option<decode::Call>,
    /// Why `data` could not be decoded, if it could not.
    pub call_error: Option<String>,
    /// The decoded `meta` field.
    pub meta: Option<Decoded>,
    /// The legacy `result` hash field (RQ ≤ 1.11 or Redis < 5).
    pub legacy_result: Option<Decoded>,
    /// The traceback in the hash's `exc_info` (old RQ or abandoned jobs); `None` when empty.
    pub hash_exc_info: Option<String>,
    /// Timestamps.
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last enqueued.
    pub enqueued_at: Option<DateTime<Utc>>,
    /// When it last started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it last ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Last heartbeat of the running job.
    pub last_heartbeat: Option<DateTime<Utc>>,
    /// The worker that ran it last.
    pub worker_name: Option<String>,
    /// Timeout in seconds (`-1` none).
    pub timeout: Option<String>,
    /// `result_ttl`.
    pub result_ttl: Option<String>,
    /// `failure_ttl`.
    pub failure_ttl: Option<String>,
    /// `ttl`.
    pub ttl: Option<String>,
    /// Remaining TTL of the job key in seconds (`-1` persistent).
    pub key_ttl: i64,
    /// Exception-retry state.
    pub retries_left: Option<String>,
    /// Retry intervals (JSON list).
    pub retry_intervals: Option<String>,
    /// Return-retry count (RQ 2.1+).
    pub number_of_retries: Option<String>,
    /// The group (RQ 2.0+).
    pub group_id: Option<String>,
    /// Callbacks: (kind, dotted name).
    pub callbacks: Vec<(String, String)>,
    /// Jobs it depends on.
    pub dependencies: Vec<RelatedJob>,
    /// Jobs that depend on it.
    pub dependents: Vec<RelatedJob>,
    /// Every results-stream entry, newest first.
    pub results: Vec<ResultEntry>,
    /// Every hash field with a printable preview, sorted by name, for the raw view.
    pub raw_fields: Vec<(String, String)>,
    /// Repeats left (RQ 2.3+ `Repeat`).
    pub repeats_left: Option<i64>,
    /// Repeat intervals, as stored (JSON list).
    pub repeat_intervals: Option<String>,
    /// The rate limit it runs under (RQ 3.0).
    pub rate_limit_key: Option<String>,
    /// That limit's concurrency, as the job recorded it.
    pub rate_limit_concurrency: Option<i64>,
    /// Its live executions (RQ 2.0+), oldest first.
    pub executions: Vec<Execution>,
    /// When it is due in its queue's scheduled registry (a retry's or repeat's next run).
    pub scheduled_for: Option<DateTime<Utc>>,
    /// The cron job that enqueued it, when one did (RQ 2.12+ records cron jobs by name).
    pub cron_job: Option<String>,
}

/// One execution of a job (`rq:execution:<job>:<id>`, RQ 2.0+).
#[derive(Debug, Clone, Default)]
pub struct Execution {
    /// Its id.
    pub id: String,
    /// The worker running it (RQ 2.11+).
    pub worker_name: Option<String>,
    /// When it started.
    pub created_at: Option<DateTime<Utc>>,
    /// Its last heartbeat.
    pub last_heartbeat: Option<DateTime<Utc>>,
    /// When RQ will consider it abandoned (its score in `rq:executions:<job>`).
    pub deadline: Option<DateTime<Utc>>,
}

impl Execution {
    /// Builds an execution from its hash and its score.
    pub fn from_hash(id: &str, h: &RawHash, deadline: Option<DateTime<Utc>>) -> Execution {
        let epoch = |f: &str| {
            text(h, f)
                .and_then(|t| t.parse::<f64>().ok())
                .and_then(from_epoch_secs)
                .or_else(|| time(h, f))
        };
        Execution {
            id: id.to_string(),
            worker_name: text(h, "worker_name"),
            created_at: epoch("created_at"),
            last_heartbeat: epoch("last_heartbeat"),
            deadline,
        }
    }
}

impl JobDetail {
    /// Where the job is in its retries: the attempt that runs next (or now), when RQ recorded
    /// how many retries happened (`number_of_retries`, written for returned `Retry`s), and how many
    /// retries are left (`retries_left`, written for `Retry` on failure). `None` when it does not
    /// retry.
    pub fn attempt(&self) -> Option<(Option<i64>, Option<i64>)> {
        let num = |v: &Option<String>| v.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
        let done = num(&self.number_of_retries);
        let left = num(&self.retries_left);
        (done.is_some() || left.is_some()).then(|| (done.map(|d| d + 1), left))
    }
}

impl JobDetail {
    /// Builds the detail from `HGETALL` of the job. Relations, results and TTL are filled in by the
    /// caller.
    pub fn from_hash(id: &str, h: &RawHash, json_first: bool) -> JobDetail {
        let (call, call_error) = match h.get("data") {
            Some(d) => match decode::job_data(d, json_first) {
                Ok(c) => (Some(c), None),
                Err(e) => (None, Some(e)),
            },
            None => (None, Some("the job has no data field".to_string())),
        };
        let mut raw_fields: Vec<(String, String)> = h
            .iter()
            .map(|(k, v)| (k.clone(), decode::preview_bytes(v, 300)))
            .collect();
        raw_fields.sort();
        let callbacks = ["success", "failure", "stopped"]
            .iter()
            .filter_map(|k| text(h, &format!("{k}_callback_name")).map(|n| (k.to_string(), n)))
            .collect();
        JobDetail {
            id: id.to_string(),
            status: text(h, "status").map(|s| JobStatus::parse(&s)),
            origin: text(h, "origin"),
            description: text(h, "description").map(|d| decode::truncate(&d, decode::MAX_TEXT)),
            call,
            call_error,
            meta: h.get("meta").map(|b| decode::payload(b, json_first)),
            legacy_result: h.get("result").map(|b| decode::payload(b, json_first)),
            hash_exc_info: h.get("exc_info").and_then(|b| decode::exc_info_field(b)),
            created_at: time(h, "created_at"),
            enqueued_at: time(h, "enqueued_at"),
            started_at: time(h, "started_at"),
            ended_at: time(h, "ended_at"),
            last_heartbeat: time(h, "last_heartbeat"),
            worker_name: text(h, "worker_name"),
            timeout: text(h, "timeout"),
            result_ttl: text(h, "result_ttl"),
            failure_ttl: text(h, "failure_ttl"),
            ttl: text(h, "ttl"),
            key_ttl: -1,
            retries_left: text(h, "retries_left"),
            retry_intervals: text(h, "retry_intervals"),
            number_of_retries: text(h, "number_of_retries"),
            group_id: text(h, "group_id"),
            callbacks,
            dependencies: Vec::new(),
            dependents: Vec::new(),
            results: Vec::new(),
            raw_fields,
            repeats_left: int(h, "repeats_left"),
            repeat_intervals: text(h, "repeat_intervals"),
            rate_limit_key: text(h, "rate_limit_key"),
            rate_limit_concurrency: int(h, "rate_limit_concurrency"),
            executions: Vec::new(),
            scheduled_for: None,
            cron_job: None,
        }
    }

    /// Returns the traceback RQ's `Job.exc_info` would report: the latest results entry's, else the
    /// hash field's.
    pub fn exc_info(&self) -> Option<&str> {
        self.results
            .first()
            .and_then(|r| r.exc_string.as_deref())
            .or(self.hash_exc_info.as_deref())
    }

    /// Returns the latest successful return value (`Job.return_value()`), else the legacy field.
    pub fn return_value(&self) -> Option<&Decoded> {
        match self.results.first() {
            Some(r) if r.kind == ResultType::Successful => r.return_value.as_ref(),
            Some(_) => None,
            None => self.legacy_result.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_values_are_read_in_field_list_order() {
        let mut values: Vec<Option<Vec<u8>>> = vec![None; SUMMARY_FIELDS.len()];
        let at = |f: &str| SUMMARY_FIELDS.iter().position(|x| *x == f).unwrap();
        values[at("status")] = Some(b"failed".to_vec());
        values[at("origin")] = Some(b"q1".to_vec());
        values[at("worker_name")] = Some(b"w1".to_vec());
        let s = JobSummary::from_fields("x".into(), false, values, None, None);
        assert!(!s.exists);
        assert_eq!(s.status, Some(JobStatus::Failed));
        assert_eq!(s.origin.as_deref(), Some("q1"));
        assert_eq!(s.worker_name.as_deref(), Some("w1"));
    }
}
