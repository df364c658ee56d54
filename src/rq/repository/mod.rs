//! Redis access for one RQ instance, one file per concern:
//!
//! - [`conn`]: the connection (timeouts, reconnects, Sentinel) and the one wrapper every call goes
//!   through;
//! - [`resp`]: helpers that read RESP2/RESP3 replies without ever failing;
//! - [`snapshot`]: the shared, single-flight snapshot of counts and workers;
//! - [`reads`]: queues, counts, workers and their health, in a fixed number of pipelined round
//!   trips; [`jobs`]: list rows, pages, a job's details;
//! - [`writes`]: actions that change RQ's data, matching RQ's own commands (Lua in
//!   `actions.lua`, so each job changes atomically);
//! - [`cron`]: RQ 2.4+ cron schedulers, cron jobs and their runs;
//! - [`groups`]: RQ 2.0+ job groups;
//! - [`rate_limits`]: RQ 3.0 rate limits;
//! - [`dash`]: the dashboard's own state (bulk task records), under its own keys;
//! - [`search`]: the bounded chunks of a search scan;
//! - [`version`]: which RQ major version wrote the data, and what an action needs to know about a
//!   job;
//! - [`sentinel`]: `redis+sentinel://` URLs.
//!
//! This folder is the only code that sends Redis commands, and [`crate::rq::keys`] the only code
//! that spells key names. Reads never write: no cleanup, no `LREM` of missing jobs, never `KEYS`.
//! Callers get `rq::model` values and a typed [`RepoError`], never a `redis::Value` or a key.

use std::sync::Arc;
use std::time::Duration;

use crate::redact::{Redactor, Sight};
use crate::rq::keys::Keys;
use crate::rq::model::JobSummary;
use conn::Target;

pub mod audit;
pub mod conn;
pub mod cron;
pub mod dash;
pub mod groups;
pub mod history;
pub mod jobs;
pub mod rate_limits;
pub mod reads;
pub mod resp;
pub mod search;
pub mod sentinel;
pub mod snapshot;
pub mod version;
pub mod writes;

pub use snapshot::Snapshot;
pub use version::JobBrief;

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

impl RepoError {
    /// True when Redis refused a write: a read-only replica (`READONLY`) or a user without the
    /// permission (`NOPERM`). Other errors (a timeout, say) decide nothing about permissions.
    pub fn is_refused_write(&self) -> bool {
        // The server's words only: the label (a URL) could hold any of them.
        let RepoError::Redis(_, t) = self else {
            return false;
        };
        [
            "READONLY",
            "NOPERM",
            "no permissions",
            "read only",
            "read-only",
        ]
        .iter()
        .any(|w| t.contains(w))
    }
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

/// Access to one RQ deployment on one Redis. Its methods are spread over this folder's files by
/// concern; every one goes through [`conn`]'s timeout wrapper.
pub struct Repository {
    label: String,
    target: Target,
    conn: tokio::sync::Mutex<Option<redis::aio::ConnectionManager>>,
    keys: Keys,
    timeout: Duration,
    json_first: bool,
    /// The RQ major version forced by `--rq-version`, if any.
    rq_major: Option<u8>,
    snapshot: snapshot::Shared,
    /// The redaction rules: what is read for everyone (the snapshot's current jobs, the
    /// statistics' function names) is redacted with them.
    redactor: Arc<Redactor>,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("label", &self.label)
            .finish()
    }
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
        let target = match sentinel::parse(url) {
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
            snapshot: snapshot::Shared::default(),
            redactor: Arc::default(),
        })
    }

    /// Shares each overview read for `ttl` among all callers (0: no sharing).
    pub fn with_snapshot_ttl(mut self, ttl: Duration) -> Repository {
        self.snapshot.ttl = ttl;
        self
    }

    /// Forces the RQ major version actions follow (`--rq-version`).
    pub fn with_rq_major(mut self, major: Option<u8>) -> Repository {
        self.rq_major = major;
        self
    }

    /// Applies the redaction rules (`--redact-key`, `--redact-pattern`) to what is read for
    /// everyone.
    pub fn with_redactor(mut self, redactor: Arc<Redactor>) -> Repository {
        self.redactor = redactor;
        self
    }

    /// The sight of what is read for everyone (see [`crate::redact::Sight::blind`]).
    pub fn blind(&self) -> Sight {
        Sight::blind(self.redactor.clone())
    }

    /// Returns the display label (the URL with credentials masked).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Returns the key builder.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }
}
