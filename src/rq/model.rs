//! RQ's data model as pure values: registries, statuses, jobs, workers, queues. No I/O here.
//!
//! Parsers take the raw bytes Redis returns and never fail: a field that cannot be parsed is kept as
//! text (or `None`) so a page can still show what is there.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use std::collections::HashMap;
use std::fmt;

use crate::rq::decode::{self, Decoded};

/// Where a job can sit: a queue list or one of a queue's registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

fn text(h: &RawHash, field: &str) -> Option<String> {
    h.get(field)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .filter(|s| !s.is_empty())
}

fn time(h: &RawHash, field: &str) -> Option<DateTime<Utc>> {
    text(h, field).and_then(|s| parse_timestamp(&s))
}

fn int(h: &RawHash, field: &str) -> Option<i64> {
    text(h, field).and_then(|s| s.trim().parse().ok())
}

/// The fields a job list row shows, read with `HMGET` (never the big `data` field).
pub const SUMMARY_FIELDS: [&str; 10] = [
    "status",
    "origin",
    "description",
    "created_at",
    "enqueued_at",
    "started_at",
    "ended_at",
    "worker_name",
    "exc_info",
    "data",
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
}

impl JobSummary {
    /// Builds a row from the values of `HMGET` over [`SUMMARY_FIELDS`] (in that order) and the
    /// latest results-stream entry, if any.
    pub fn from_fields(
        id: String,
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
        // RQ treats a hash without `data` as "no such job" (Job.restore).
        let exists = h.contains_key("data");
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
        }
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

/// A worker as its hash describes it.
#[derive(Debug, Clone)]
pub struct Worker {
    /// The worker name.
    pub name: String,
    /// `state` (`?` when missing, as RQ shows it).
    pub state: String,
    /// Queue names in priority order.
    pub queues: Vec<String>,
    /// The job it is running: `current_job` (RQ < 3) or its executions set (RQ 3).
    pub current_job: Option<String>,
    /// Process id.
    pub pid: Option<i64>,
    /// Host name.
    pub hostname: Option<String>,
    /// The worker's Redis client address.
    pub ip_address: Option<String>,
    /// When it started.
    pub birth: Option<DateTime<Utc>>,
    /// Its last heartbeat.
    pub last_heartbeat: Option<DateTime<Utc>>,
    /// When it died (a clean stop keeps the hash 60 s).
    pub death: Option<DateTime<Utc>>,
    /// Jobs that finished.
    pub successful_job_count: i64,
    /// Jobs that failed.
    pub failed_job_count: i64,
    /// Total seconds spent working.
    pub total_working_time: f64,
    /// RQ version.
    pub version: Option<String>,
    /// Python version (`sys.version`).
    pub python_version: Option<String>,
}

impl Worker {
    /// Builds a worker from its hash and, for RQ 3, its executions set members.
    pub fn from_hash(name: &str, h: &RawHash, executions: &[String]) -> Worker {
        let current_job = text(h, "current_job").or_else(|| {
            executions
                .iter()
                .min()
                .map(|m| m.split(':').next().unwrap_or(m).to_string())
        });
        Worker {
            name: name.to_string(),
            state: text(h, "state").unwrap_or_else(|| "?".to_string()),
            queues: text(h, "queues")
                .map(|q| q.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            current_job,
            pid: int(h, "pid"),
            hostname: text(h, "hostname"),
            ip_address: text(h, "ip_address"),
            birth: time(h, "birth"),
            last_heartbeat: time(h, "last_heartbeat"),
            death: time(h, "death"),
            successful_job_count: int(h, "successful_job_count").unwrap_or(0),
            failed_job_count: int(h, "failed_job_count").unwrap_or(0),
            total_working_time: text(h, "total_working_time")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0.0),
            version: text(h, "version"),
            python_version: text(h, "python_version"),
        }
    }

    /// True when the heartbeat is older than RQ's worker TTL (480 s), or 90 s while busy: the
    /// process is probably gone.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        let limit = if self.state == "busy" { 90 } else { 480 };
        match self.last_heartbeat {
            Some(hb) => (now - hb).num_seconds() > limit,
            None => true,
        }
    }
}

/// Counts of one queue.
#[derive(Debug, Clone, Default)]
pub struct QueueCounts {
    /// The queue name.
    pub name: String,
    /// `LLEN` of the queue.
    pub queued: u64,
    /// Started registry size (in RQ 2+, executions).
    pub started: u64,
    /// Deferred registry size.
    pub deferred: u64,
    /// Scheduled registry size.
    pub scheduled: u64,
    /// Finished registry size.
    pub finished: u64,
    /// Failed registry size.
    pub failed: u64,
    /// Canceled registry size.
    pub canceled: u64,
    /// RQ 3's ready registry size.
    pub ready: u64,
    /// When the job at the head of the queue was enqueued.
    pub oldest_enqueued_at: Option<DateTime<Utc>>,
}

impl QueueCounts {
    /// Returns the count of `registry`.
    pub fn count(&self, registry: Registry) -> u64 {
        match registry {
            Registry::Queued => self.queued,
            Registry::Started => self.started,
            Registry::Deferred => self.deferred,
            Registry::Scheduled => self.scheduled,
            Registry::Finished => self.finished,
            Registry::Failed => self.failed,
            Registry::Canceled => self.canceled,
            Registry::Ready => self.ready,
        }
    }

    /// Adds `other`'s counts to these (for the totals row).
    pub fn add(&mut self, other: &QueueCounts) {
        self.queued += other.queued;
        self.started += other.started;
        self.deferred += other.deferred;
        self.scheduled += other.scheduled;
        self.finished += other.finished;
        self.failed += other.failed;
        self.canceled += other.canceled;
        self.ready += other.ready;
        self.oldest_enqueued_at = match (self.oldest_enqueued_at, other.oldest_enqueued_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// A few facts from Redis's `INFO`.
#[derive(Debug, Clone, Default)]
pub struct RedisInfo {
    /// `redis_version`.
    pub version: String,
    /// `used_memory_human`.
    pub memory: String,
    /// `maxmemory_human` (`0B`: no limit).
    pub max_memory: String,
    /// `connected_clients`.
    pub clients: String,
    /// `uptime_in_seconds`.
    pub uptime_secs: i64,
}

impl RedisInfo {
    /// Parses the text of `INFO server memory clients`.
    pub fn parse(text: &str) -> RedisInfo {
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix(':')))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        RedisInfo {
            version: get("redis_version"),
            memory: get("used_memory_human"),
            max_memory: get("maxmemory_human"),
            clients: get("connected_clients"),
            uptime_secs: get("uptime_in_seconds").parse().unwrap_or(0),
        }
    }
}

/// Everything the overview shows, read in a fixed number of round trips.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Queues sorted by name.
    pub queues: Vec<QueueCounts>,
    /// Workers sorted by (state, queues, name) as rq-dashboard does.
    pub workers: Vec<Worker>,
    /// Whether `rq suspend` is in force.
    pub suspended: bool,
    /// Whether any RQ 3 ready registry exists (to show the column).
    pub has_ready: bool,
    /// When this was read.
    pub fetched_at: DateTime<Utc>,
    /// Redis's version, memory, clients and uptime.
    pub redis: RedisInfo,
}

impl Overview {
    /// Returns the totals over all queues.
    pub fn totals(&self) -> QueueCounts {
        let mut t = QueueCounts {
            name: "total".to_string(),
            ..QueueCounts::default()
        };
        for q in &self.queues {
            t.add(q);
        }
        t
    }

    /// Returns the distinct RQ versions the live workers report.
    pub fn rq_versions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .workers
            .iter()
            .filter_map(|w| w.version.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }
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

    #[test]
    fn a_summary_without_data_is_a_missing_job() {
        let s = JobSummary::from_fields("x".into(), vec![None; 10], None, None);
        assert!(!s.exists);
    }

    #[test]
    fn rq3_workers_take_the_current_job_from_executions() {
        let w = Worker::from_hash("w", &RawHash::new(), &["job1:exec9".to_string()]);
        assert_eq!(w.current_job.as_deref(), Some("job1"));
        assert_eq!(w.state, "?");
    }
}
