//! Redis access for one RQ instance: every question a page asks, answered in a fixed number of
//! pipelined round trips.
//!
//! This is the only module that sends Redis commands. It only reads: no cleanup, no `LREM` of
//! missing jobs, never `KEYS`. Handlers get `rq::model` values and a typed [`RepoError`], never a
//! `redis::Value` or a key string.

use chrono::Utc;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Pipeline, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::rq::keys::Keys;
use crate::rq::model::{
    JobDetail, JobStatus, JobSummary, Overview, QueueCounts, RawHash, RedisInfo, Registry,
    RelatedJob, ResultEntry, Worker,
};

/// The fields of a job hash a list row reads (never the big `data` payload).
const ROW_FIELDS: [&str; 9] = [
    "status",
    "origin",
    "description",
    "created_at",
    "enqueued_at",
    "started_at",
    "ended_at",
    "worker_name",
    "exc_info",
];

/// How many results-stream entries the job page reads at most (RQ trims to about 10).
const MAX_RESULTS: usize = 100;

/// Why Redis could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RepoError {
    /// Redis cannot be reached.
    #[error("cannot reach redis at {0}: {1}")]
    Unavailable(String, String),
    /// Redis did not answer in time.
    #[error("redis at {0} did not answer within {1} ms")]
    Timeout(String, u128),
    /// Redis answered with an error.
    #[error("redis at {0} answered with an error: {1}")]
    Redis(String, String),
    /// A key holds another type than RQ writes there (another program wrote it).
    #[error("{0} holds a Redis {1}, not what RQ keeps there: it was not written by RQ")]
    WrongType(String, String),
}

/// True for Redis's WRONGTYPE error.
fn is_wrongtype(v: &Value) -> bool {
    matches!(v, Value::ServerError(e) if e.code() == "WRONGTYPE")
}

/// One page of a queue or registry.
#[derive(Debug, Clone)]
pub struct JobPage {
    /// What is wrong with the key, when it is not what RQ writes there.
    pub problem: Option<String>,
    /// The total number of entries in the queue or registry.
    pub total: u64,
    /// Whether the queue is listed in `rq:queues`.
    pub queue_registered: bool,
    /// The rows of this page, in display order.
    pub jobs: Vec<JobSummary>,
}

/// A request for one page: `[offset, offset + limit)` in ascending or descending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Index of the first entry, counted in the requested order.
    pub offset: u64,
    /// How many entries.
    pub limit: u64,
    /// Newest / last first.
    pub descending: bool,
}

/// The overview and the workers (with their current jobs), read together and shared.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Counts, workers, suspension.
    pub overview: Overview,
    /// Summaries of the jobs workers are running, by id.
    pub current_jobs: HashMap<String, JobSummary>,
}

type Cached = Option<(Instant, u64, Result<Arc<Snapshot>, RepoError>)>;

/// How to reach Redis.
enum Target {
    /// A URL.
    Direct(redis::Client),
    /// Ask Redis Sentinel for the master.
    Sentinel(crate::rq::sentinel::SentinelUrl),
}

/// Read access to one RQ deployment on one Redis.
pub struct Repository {
    pub(crate) label: String,
    target: Target,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    pub(crate) keys: Keys,
    pub(crate) timeout: Duration,
    json_first: bool,
    /// The RQ major version forced by `--rq-version`, if any.
    pub(crate) rq_major: Option<u8>,
    snapshot: tokio::sync::Mutex<Cached>,
    snapshot_ttl: Duration,
    generation: std::sync::atomic::AtomicU64,
    /// Redis's version and the RQ versions workers reported, from the last snapshot.
    versions: std::sync::Mutex<(String, String)>,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("label", &self.label)
            .finish()
    }
}

pub(crate) fn int_of(v: &Value) -> u64 {
    match v {
        Value::Int(i) => (*i).max(0) as u64,
        Value::BulkString(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

fn bytes_of(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.into_bytes()),
        Value::VerbatimString { text, .. } => Some(text.into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
    }
}

pub(crate) fn text_of(v: Value) -> Option<String> {
    bytes_of(v).map(|b| String::from_utf8_lossy(&b).into_owned())
}

pub(crate) fn items_of(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        Value::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => Vec::new(),
    }
}

fn texts_of(v: Value) -> Vec<String> {
    items_of(v).into_iter().filter_map(text_of).collect()
}

fn hash_of(v: Value) -> RawHash {
    let mut h = RawHash::new();
    let mut it = items_of(v).into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        if let (Some(k), Some(v)) = (text_of(k), bytes_of(v)) {
            h.insert(k, v);
        }
    }
    h
}

fn float_of(v: Value) -> Option<f64> {
    match v {
        Value::Double(d) => Some(d),
        other => text_of(other).and_then(|s| match s.as_str() {
            "inf" | "+inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            s => s.parse().ok(),
        }),
    }
}

/// Parses a `ZRANGE … WITHSCORES` reply into (member, score): RESP3 gives [member, score]
/// pairs, RESP2 a flat list.
fn members_with_scores(v: Value) -> Vec<(String, Option<f64>)> {
    let mut out = Vec::new();
    let mut it = items_of(v).into_iter();
    while let Some(m) = it.next() {
        let (member, score) = match m {
            Value::Array(pair) if pair.len() == 2 => {
                let mut pi = pair.into_iter();
                (pi.next(), pi.next())
            }
            other => (Some(other), it.next()),
        };
        if let Some(member) = member.and_then(text_of) {
            out.push((member, score.and_then(float_of)));
        }
    }
    out
}

/// Parses an XRANGE/XREVRANGE reply into (entry id, fields).
fn stream_entries(v: Value) -> Vec<(String, RawHash)> {
    items_of(v)
        .into_iter()
        .filter_map(|entry| {
            let mut parts = items_of(entry).into_iter();
            let id = text_of(parts.next()?)?;
            let fields = hash_of(parts.next()?);
            Some((id, fields))
        })
        .collect()
}

impl Repository {
    /// Creates the repository for `url`. Nothing is connected yet; the connection manager is
    /// built on first use and reconnects by itself afterwards.
    ///
    /// # Errors
    /// When the URL is not a valid Redis URL.
    pub fn new(
        url: &str,
        label: String,
        keys: Keys,
        timeout: Duration,
        json_first: bool,
    ) -> Result<Repository, String> {
        let target = match crate::rq::sentinel::parse(url) {
            Some(s) => Target::Sentinel(s?),
            None => Target::Direct(redis::Client::open(url).map_err(|e| e.to_string())?),
        };
        Ok(Repository {
            label,
            target,
            conn: tokio::sync::Mutex::new(None),
            keys,
            timeout,
            json_first,
            rq_major: None,
            snapshot: tokio::sync::Mutex::new(None),
            snapshot_ttl: Duration::ZERO,
            generation: std::sync::atomic::AtomicU64::new(0),
            versions: std::sync::Mutex::new((String::new(), String::new())),
        })
    }

    /// Shares each overview read for `ttl` among all callers (0: no sharing).
    pub fn with_snapshot_ttl(mut self, ttl: Duration) -> Repository {
        self.snapshot_ttl = ttl;
        self
    }

    /// Returns the shared snapshot, reading Redis only when the last read is older than the
    /// snapshot TTL. Concurrent callers wait for one read instead of each sending their own, so
    /// Redis load does not grow with the number of viewers. Failures are shared too (briefly),
    /// so an outage does not queue up one timeout per viewer.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, RepoError> {
        use std::sync::atomic::Ordering;
        let arrived = Instant::now();
        let mut cached = self.snapshot.lock().await;
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some((at, g, r)) = cached.as_ref() {
            // A read that finished after this request arrived is as fresh as it can ask for:
            // everyone who waited on one read shares it, success or failure (no pile-up of
            // timeouts while Redis stalls).
            let ttl = if r.is_ok() {
                self.snapshot_ttl
            } else {
                self.snapshot_ttl.min(Duration::from_millis(500))
            };
            if *g == generation && (*at >= arrived || at.elapsed() < ttl) {
                return r.clone();
            }
        }
        let r = self.read_snapshot().await.map(Arc::new);
        *cached = Some((Instant::now(), generation, r.clone()));
        r
    }

    /// Redis's version and the RQ versions of the workers, as of the last snapshot (empty before
    /// the first).
    pub fn versions(&self) -> (String, String) {
        self.versions.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Forgets the shared snapshot (after an action, so the next page shows its effect).
    pub fn invalidate(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    async fn read_snapshot(&self) -> Result<Snapshot, RepoError> {
        let overview = self.overview().await?;
        let ids: Vec<String> = overview
            .workers
            .iter()
            .filter_map(|w| w.current_job.clone())
            .collect();
        let rows = self.job_rows(&ids, &[], false).await?;
        if let Ok(mut v) = self.versions.lock() {
            *v = (
                overview.redis.version.clone(),
                overview.rq_versions().join(", "),
            );
        }
        Ok(Snapshot {
            overview,
            current_jobs: ids.into_iter().zip(rows).collect(),
        })
    }

    /// Forces the RQ major version actions follow (`--rq-version`).
    pub fn with_rq_major(mut self, major: Option<u8>) -> Repository {
        self.rq_major = major;
        self
    }

    /// Returns the display label (the URL with credentials masked).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Returns the key builder.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub(crate) fn classify(&self, e: redis::RedisError) -> RepoError {
        if e.is_timeout() {
            RepoError::Timeout(self.label.clone(), self.timeout.as_millis())
        } else if e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() {
            RepoError::Unavailable(self.label.clone(), e.to_string())
        } else {
            RepoError::Redis(self.label.clone(), e.to_string())
        }
    }

    async fn client(&self) -> Result<redis::Client, redis::RedisError> {
        match &self.target {
            Target::Direct(c) => Ok(c.clone()),
            Target::Sentinel(s) => {
                let mut sentinel = redis::sentinel::Sentinel::build(s.sentinels.clone())?;
                let mut info = redis::RedisConnectionInfo::default().set_db(s.db);
                if let Some(u) = &s.username {
                    info = info.set_username(u);
                }
                if let Some(p) = &s.password {
                    info = info.set_password(p);
                }
                let node = redis::sentinel::SentinelNodeConnectionInfo::default()
                    .set_redis_connection_info(info);
                sentinel.async_master_for(&s.service, Some(&node)).await
            }
        }
    }

    /// Returns the shared connection manager, creating it on first use. Behind Sentinel, a
    /// connection that failed is dropped so that the next call asks the sentinels again and
    /// follows a failover.
    pub(crate) async fn connection(&self) -> Result<ConnectionManager, RepoError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let init = async {
            let client = self.client().await?;
            ConnectionManager::new_with_config(client, cfg).await
        };
        let c = match tokio::time::timeout(self.timeout, init).await {
            Ok(Ok(c)) => c,
            // Any failure to set up the connection (refused, TLS, authentication, no master)
            // means Redis is unavailable to us.
            Ok(Err(e)) if e.is_timeout() => return Err(self.classify(e)),
            Ok(Err(e)) => return Err(RepoError::Unavailable(self.label.clone(), e.to_string())),
            Err(_) => {
                return Err(RepoError::Timeout(
                    self.label.clone(),
                    self.timeout.as_millis(),
                ))
            }
        };
        *slot = Some(c.clone());
        Ok(c)
    }

    /// After a failed call: behind Sentinel, forget the connection so the master is looked up
    /// again (a failover may have moved it).
    pub(crate) async fn connection_failed(&self, e: &RepoError) {
        if matches!(self.target, Target::Sentinel(_))
            && matches!(
                e,
                RepoError::Unavailable(..) | RepoError::Timeout(..) | RepoError::Redis(..)
            )
        {
            *self.conn.lock().await = None;
        }
    }

    /// Awaits one Redis call under the timeout, classifying failures; behind Sentinel a failure
    /// drops the connection so the master is looked up again.
    pub(crate) async fn guarded<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, RepoError> {
        let r = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.classify(e)),
            Err(_) => Err(RepoError::Timeout(
                self.label.clone(),
                self.timeout.as_millis(),
            )),
        };
        if let Err(e) = &r {
            self.connection_failed(e).await;
        }
        r
    }

    /// Runs a pipeline (errors of single commands come back as `Value::ServerError` in place).
    pub(crate) async fn run(&self, pipe: &Pipeline) -> Result<Vec<Value>, RepoError> {
        if pipe.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.connection().await?;
        self.guarded(pipe.query_async::<Vec<Value>>(&mut conn))
            .await
    }

    /// Checks that Redis answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<(), RepoError> {
        let mut p = redis::pipe();
        p.cmd("PING");
        let v = self.run(&p).await?;
        match v.first() {
            Some(Value::ServerError(e)) => {
                Err(RepoError::Redis(self.label.clone(), format!("{e:?}")))
            }
            _ => Ok(()),
        }
    }

    /// Returns the names of all queues in `rq:queues` and of all workers, sorted, whether
    /// workers are suspended, and Redis's INFO.
    async fn queue_and_worker_names(
        &self,
    ) -> Result<(Vec<String>, Vec<String>, bool, RedisInfo), RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("SMEMBERS")
            .arg(self.keys.queues())
            .cmd("SMEMBERS")
            .arg(self.keys.workers())
            .cmd("EXISTS")
            .arg(self.keys.suspended())
            .cmd("INFO");
        let mut r = self.run(&p).await?.into_iter();
        let queue_keys = texts_of(r.next().unwrap_or(Value::Nil));
        let worker_keys = texts_of(r.next().unwrap_or(Value::Nil));
        let suspended = int_of(&r.next().unwrap_or(Value::Nil)) > 0;
        let info = RedisInfo::parse(&r.next().and_then(text_of).unwrap_or_default());
        let mut queues: Vec<String> = queue_keys
            .iter()
            .filter_map(|k| self.keys.queue_name_from_key(k).map(str::to_string))
            .collect();
        queues.sort();
        queues.dedup();
        let mut workers: Vec<String> = worker_keys
            .iter()
            .filter_map(|k| self.keys.worker_name_from_key(k).map(str::to_string))
            .collect();
        workers.sort();
        workers.dedup();
        Ok((queues, workers, suspended, info))
    }

    fn push_worker_reads(&self, p: &mut Pipeline, names: &[String]) {
        for w in names {
            p.cmd("HGETALL")
                .arg(format!("{}{w}", self.keys.worker_key_prefix()))
                .cmd("SMEMBERS")
                .arg(self.keys.worker_executions(w));
        }
    }

    fn take_workers(names: &[String], r: &mut impl Iterator<Item = Value>) -> Vec<Worker> {
        let mut workers = Vec::new();
        for w in names {
            let h = hash_of(r.next().unwrap_or(Value::Nil));
            let execs = texts_of(r.next().unwrap_or(Value::Nil));
            // A member whose hash is gone is a dead worker RQ has not cleaned yet: skip it as
            // `Worker.all()` does.
            if !h.is_empty() {
                workers.push(Worker::from_hash(w, &h, &execs));
            }
        }
        workers.sort_by(|a, b| {
            (&a.state, a.queues.join(","), &a.name).cmp(&(&b.state, b.queues.join(","), &b.name))
        });
        workers
    }

    /// Reads the overview: counts of every queue and registry, the age of each queue's head, the
    /// workers and the suspension flag, in three round trips whatever the number of queues.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn overview(&self) -> Result<Overview, RepoError> {
        let (queues, worker_names, suspended, redis_info) = self.queue_and_worker_names().await?;
        let mut p = redis::pipe();
        p.ignore_errors();
        for q in &queues {
            p.cmd("LLEN").arg(self.keys.queue(q));
            for r in &Registry::ALL[1..] {
                p.cmd("ZCARD").arg(self.keys.registry(*r, q));
            }
            p.cmd("LINDEX").arg(self.keys.queue(q)).arg(0);
        }
        self.push_worker_reads(&mut p, &worker_names);
        let mut r = self.run(&p).await?.into_iter();
        let mut counts = Vec::with_capacity(queues.len());
        let mut heads = Vec::new();
        let mut has_ready = false;
        for q in &queues {
            let mut c = QueueCounts {
                name: q.clone(),
                queued: int_of(&r.next().unwrap_or(Value::Nil)),
                ..QueueCounts::default()
            };
            for reg in &Registry::ALL[1..] {
                let n = int_of(&r.next().unwrap_or(Value::Nil));
                match reg {
                    Registry::Started => c.started = n,
                    Registry::Deferred => c.deferred = n,
                    Registry::Scheduled => c.scheduled = n,
                    Registry::Finished => c.finished = n,
                    Registry::Failed => c.failed = n,
                    Registry::Canceled => c.canceled = n,
                    Registry::Ready => {
                        c.ready = n;
                        has_ready |= n > 0;
                    }
                    Registry::Queued => {}
                }
            }
            heads.push(text_of(r.next().unwrap_or(Value::Nil)));
            counts.push(c);
        }
        let workers = Self::take_workers(&worker_names, &mut r);

        let mut p = redis::pipe();
        p.ignore_errors();
        let head_ids: Vec<(usize, String)> = heads
            .into_iter()
            .enumerate()
            .filter_map(|(i, h)| h.map(|h| (i, h)))
            .collect();
        for (_, id) in &head_ids {
            p.cmd("HGET").arg(self.keys.job(id)).arg("enqueued_at");
        }
        let r = self.run(&p).await?;
        for ((i, _), v) in head_ids.iter().zip(r) {
            counts[*i].oldest_enqueued_at =
                text_of(v).and_then(|s| crate::rq::model::parse_timestamp(&s));
        }
        Ok(Overview {
            queues: counts,
            workers,
            suspended,
            has_ready,
            fetched_at: Utc::now(),
            redis: redis_info,
        })
    }

    /// Reads the counts of one queue in one round trip (for the registry tabs of a list page).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn queue_counts(&self, queue: &str) -> Result<QueueCounts, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors();
        p.cmd("LLEN").arg(self.keys.queue(queue));
        for r in &Registry::ALL[1..] {
            p.cmd("ZCARD").arg(self.keys.registry(*r, queue));
        }
        let r = self.run(&p).await?;
        let mut c = QueueCounts {
            name: queue.to_string(),
            ..QueueCounts::default()
        };
        for (reg, v) in Registry::ALL.iter().zip(r.iter()) {
            let n = int_of(v);
            match reg {
                Registry::Queued => c.queued = n,
                Registry::Started => c.started = n,
                Registry::Deferred => c.deferred = n,
                Registry::Scheduled => c.scheduled = n,
                Registry::Finished => c.finished = n,
                Registry::Failed => c.failed = n,
                Registry::Canceled => c.canceled = n,
                Registry::Ready => c.ready = n,
            }
        }
        Ok(c)
    }

    /// Whether a queue exists for RQ: listed in `rq:queues`, or holding jobs in its list or any
    /// registry.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn queue_exists(&self, queue: &str) -> Result<bool, RepoError> {
        let mut p = redis::pipe();
        p.cmd("SISMEMBER")
            .arg(self.keys.queues())
            .arg(self.keys.queue(queue));
        let registered = int_of(self.run(&p).await?.first().unwrap_or(&Value::Nil)) > 0;
        if registered {
            return Ok(true);
        }
        let c = self.queue_counts(queue).await?;
        Ok(Registry::ALL.iter().any(|r| c.count(*r) > 0))
    }

    /// Reads the newest `limit` failed jobs of a queue with their latest traceback, for grouping:
    /// the registry size and (id, score, traceback) newest first. Two round trips.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn failures(
        &self,
        queue: &str,
        limit: u64,
    ) -> Result<(u64, Vec<(String, f64, Option<String>)>), RepoError> {
        let key = self.keys.registry(Registry::Failed, queue);
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("ZCARD")
            .arg(&key)
            .cmd("ZREVRANGE")
            .arg(&key)
            .arg(0)
            .arg(limit.max(1) - 1)
            .arg("WITHSCORES");
        let mut r = self.run(&p).await?.into_iter();
        let total = int_of(&r.next().unwrap_or(Value::Nil));
        let entries: Vec<(String, f64)> = members_with_scores(r.next().unwrap_or(Value::Nil))
            .into_iter()
            .map(|(id, score)| (id, score.unwrap_or(0.0)))
            .collect();
        let mut p = redis::pipe();
        p.ignore_errors();
        for (id, _) in &entries {
            self.push_latest_result(&mut p, id);
            p.cmd("HGET").arg(self.keys.job(id)).arg("exc_info");
        }
        let mut r = self.run(&p).await?.into_iter();
        let mut out = Vec::with_capacity(entries.len());
        for (id, score) in entries {
            let latest = stream_entries(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .next()
                .and_then(|(_, f)| {
                    f.get("exc_string")
                        .and_then(|b| crate::rq::decode::exc_string(b))
                });
            let hash = bytes_of(r.next().unwrap_or(Value::Nil))
                .and_then(|b| crate::rq::decode::exc_info_field(&b));
            out.push((id, score, latest.or(hash)));
        }
        Ok((total, out))
    }

    /// Adds the read of job `id`'s latest results-stream entry to a pipeline.
    fn push_latest_result(&self, p: &mut Pipeline, id: &str) {
        p.cmd("XREVRANGE")
            .arg(self.keys.results(id))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1);
    }

    /// Reads the list rows of `ids` (with their registry scores) in one round trip.
    async fn job_rows(
        &self,
        ids: &[String],
        scores: &[Option<f64>],
        with_results: bool,
    ) -> Result<Vec<JobSummary>, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in ids {
            let key = self.keys.job(id);
            p.cmd("HMGET").arg(&key).arg(&ROW_FIELDS[..]);
            p.cmd("HEXISTS").arg(&key).arg("data");
            if with_results {
                self.push_latest_result(&mut p, id);
            }
        }
        let mut r = self.run(&p).await?.into_iter();
        let mut rows = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let values: Vec<Option<Vec<u8>>> = items_of(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .map(bytes_of)
                .collect();
            let exists = int_of(&r.next().unwrap_or(Value::Nil)) > 0;
            let latest = if with_results {
                stream_entries(r.next().unwrap_or(Value::Nil))
                    .into_iter()
                    .next()
                    .map(|(sid, f)| ResultEntry::from_stream(&sid, &f, self.json_first))
            } else {
                None
            };
            let mut row = JobSummary::from_fields(
                id.clone(),
                values,
                latest.as_ref(),
                scores.get(i).copied().flatten(),
            );
            row.exists = exists;
            rows.push(row);
        }
        Ok(rows)
    }

    /// Reads one page of a queue or registry: `[offset, offset + limit)` in the requested order,
    /// in two round trips whatever the registry's size.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn list_jobs(
        &self,
        queue: &str,
        registry: Registry,
        page: PageRequest,
    ) -> Result<JobPage, RepoError> {
        let key = self.keys.registry(registry, queue);
        let (start, stop) = (page.offset, page.offset + page.limit.max(1) - 1);
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("SISMEMBER")
            .arg(self.keys.queues())
            .arg(self.keys.queue(queue));
        if registry == Registry::Queued {
            p.cmd("LLEN").arg(&key);
            if page.descending {
                // Counting from the tail: the newest entry is index -1.
                p.cmd("LRANGE")
                    .arg(&key)
                    .arg(-(stop as i64) - 1)
                    .arg(-(start as i64) - 1);
            } else {
                p.cmd("LRANGE").arg(&key).arg(start).arg(stop);
            }
        } else {
            p.cmd("ZCARD").arg(&key);
            p.cmd(if page.descending {
                "ZREVRANGE"
            } else {
                "ZRANGE"
            })
            .arg(&key)
            .arg(start)
            .arg(stop)
            .arg("WITHSCORES");
        }
        let mut r = self.run(&p).await?.into_iter();
        let queue_registered = int_of(&r.next().unwrap_or(Value::Nil)) > 0;
        let total_v = r.next().unwrap_or(Value::Nil);
        if is_wrongtype(&total_v) {
            let want = if registry == Registry::Queued {
                "a list"
            } else {
                "a sorted set"
            };
            return Ok(JobPage {
                problem: Some(format!(
                    "the key {key} is not {want}, as RQ writes it: another program wrote something else there, so there is nothing to list"
                )),
                total: 0,
                queue_registered,
                jobs: Vec::new(),
            });
        }
        if let Value::ServerError(e) = &total_v {
            return Err(RepoError::Redis(self.label.clone(), format!("{e:?}")));
        }
        let total = int_of(&total_v);
        let range = r.next().unwrap_or(Value::Nil);
        let (ids, scores): (Vec<String>, Vec<Option<f64>>) = if registry == Registry::Queued {
            let mut ids = texts_of(range);
            if page.descending {
                ids.reverse();
            }
            let n = ids.len();
            (ids, vec![None; n])
        } else {
            let mut ids = Vec::new();
            let mut scores = Vec::new();
            for (member, score) in members_with_scores(range) {
                let id = if registry == Registry::Started {
                    // RQ 2+ stores `job_id:execution_id` here.
                    member.split(':').next().unwrap_or(&member).to_string()
                } else {
                    member
                };
                ids.push(id);
                scores.push(score);
            }
            (ids, scores)
        };
        let with_results = matches!(registry, Registry::Failed | Registry::Started);
        let jobs = self.job_rows(&ids, &scores, with_results).await?;
        Ok(JobPage {
            problem: None,
            total,
            queue_registered,
            jobs,
        })
    }

    /// Reads everything about one job, in two round trips; `None` when it does not exist.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn job(&self, id: &str) -> Result<Option<JobDetail>, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors()
            .cmd("HGETALL")
            .arg(self.keys.job(id))
            .cmd("TTL")
            .arg(self.keys.job(id))
            .cmd("XREVRANGE")
            .arg(self.keys.results(id))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(MAX_RESULTS)
            .cmd("SMEMBERS")
            .arg(self.keys.dependencies(id))
            .cmd("SMEMBERS")
            .arg(self.keys.dependents(id));
        let mut r = self.run(&p).await?.into_iter();
        let hash_v = r.next().unwrap_or(Value::Nil);
        if is_wrongtype(&hash_v) {
            return Err(RepoError::WrongType(
                format!("the key {}", self.keys.job(id)),
                "value of another type".into(),
            ));
        }
        if let Value::ServerError(e) = &hash_v {
            return Err(RepoError::Redis(self.label.clone(), format!("{e:?}")));
        }
        let h = hash_of(hash_v);
        if !h.contains_key("data") {
            return Ok(None);
        }
        let mut job = JobDetail::from_hash(id, &h, self.json_first);
        job.key_ttl = match r.next() {
            Some(Value::Int(t)) => t,
            _ => -1,
        };
        job.results = stream_entries(r.next().unwrap_or(Value::Nil))
            .into_iter()
            .map(|(sid, f)| ResultEntry::from_stream(&sid, &f, self.json_first))
            .collect();
        let mut deps = texts_of(r.next().unwrap_or(Value::Nil));
        if let Some(list) = h
            .get("dependency_ids")
            .and_then(|b| serde_json::from_slice::<Vec<String>>(b).ok())
        {
            deps.extend(list);
        }
        // RQ 1.x's Python API returned `rq:job:<id>`; the stored values are plain ids, but be lenient.
        let job_prefix = self.keys.job("");
        let mut deps: Vec<String> = deps
            .into_iter()
            .map(|d| d.strip_prefix(&job_prefix).map(str::to_string).unwrap_or(d))
            .collect();
        deps.sort();
        deps.dedup();
        let mut dependents = texts_of(r.next().unwrap_or(Value::Nil));
        dependents.sort();

        let mut p = redis::pipe();
        p.ignore_errors();
        for d in deps.iter().chain(dependents.iter()) {
            p.cmd("HMGET")
                .arg(self.keys.job(d))
                .arg("status")
                .arg("data");
        }
        let mut r = self.run(&p).await?.into_iter();
        let mut related = |ids: Vec<String>| -> Vec<RelatedJob> {
            ids.into_iter()
                .map(|id| {
                    let mut f = items_of(r.next().unwrap_or(Value::Nil)).into_iter();
                    let status = f.next().and_then(text_of);
                    let exists = f.next().and_then(bytes_of).is_some();
                    RelatedJob {
                        id,
                        status: if exists {
                            Some(JobStatus::parse(status.as_deref().unwrap_or("")))
                        } else {
                            None
                        },
                    }
                })
                .collect()
        };
        job.dependencies = related(deps);
        job.dependents = related(dependents);
        Ok(Some(job))
    }
}
