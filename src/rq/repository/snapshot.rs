//! The shared snapshot: counts of every queue, the workers and their current jobs, read at most
//! once per `--snapshot-ttl` whatever the number of viewers, and shared by every page, fragment,
//! JSON answer and metrics scrape of the instance.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cron::CronOverview;
use super::rate_limits::RateLimitState;
use super::{RepoError, Repository};
use crate::redact::Sight;
use crate::rq::model::{JobSummary, Overview};

/// The overview and the workers (with their current jobs), read together and shared.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Counts, workers, suspension.
    pub overview: Overview,
    /// Summaries of the jobs workers are running, by id, redacted for everyone
    /// ([`Repository::blind`]).
    pub current_jobs: HashMap<String, JobSummary>,
    /// The same rows unredacted, kept only while redaction rules are set: for the viewers who
    /// may see them ([`Snapshot::current_jobs_for`]).
    clear_jobs: Option<HashMap<String, JobSummary>>,
}

impl Snapshot {
    /// A snapshot of `overview` and `current_jobs` (rows shown to everyone as they are).
    pub fn new(overview: Overview, current_jobs: HashMap<String, JobSummary>) -> Snapshot {
        Snapshot {
            overview,
            current_jobs,
            clear_jobs: None,
        }
    }

    /// The current jobs as `sight` sees them, when that differs from [`Snapshot::current_jobs`]
    /// (some of them unredacted).
    pub fn current_jobs_for(&self, sight: &Sight) -> Option<HashMap<String, JobSummary>> {
        sight.current_jobs(&self.current_jobs, self.clear_jobs.as_ref())
    }
}

/// A shared read: when it began, when it finished, the generation it belongs to, what it gave.
type Cached<T = Snapshot> = Option<(Instant, Instant, u64, Result<Arc<T>, RepoError>)>;

/// The repository's share of snapshot state.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// The last read, when it finished, and the generation it belongs to.
    cached: tokio::sync::Mutex<Cached>,
    /// How long a read is shared.
    pub(super) ttl: Duration,
    /// Bumped by actions: a snapshot of an older generation is never served again.
    generation: AtomicU64,
    /// Redis's version and the RQ versions workers reported, from the last snapshot.
    versions: std::sync::Mutex<(String, String)>,
    /// The cron state, shared the same way (the cron page polls it).
    cron: tokio::sync::Mutex<Cached<CronOverview>>,
    /// RQ 3.0's rate limits, shared the same way (the health rules poll them).
    rate_limits: tokio::sync::Mutex<Cached<Vec<RateLimitState>>>,
}

/// How many runs of each cron job the shared cron state holds.
pub const CRON_RUNS: usize = 100;

impl Repository {
    /// Returns the shared snapshot, reading Redis only when the last read is older than the
    /// snapshot TTL. Concurrent callers wait for one read instead of each sending their own, so
    /// Redis load does not grow with the number of viewers. Failures are shared too (briefly),
    /// so an outage does not queue up one timeout per viewer.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, RepoError> {
        self.shared(&self.snapshot.cached, self.read_snapshot())
            .await
    }

    /// The cron state with [`CRON_RUNS`] runs per cron job, shared like the snapshot.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn cron_shared(&self) -> Result<Arc<CronOverview>, RepoError> {
        self.shared(&self.snapshot.cron, self.cron(CRON_RUNS)).await
    }

    /// RQ 3.0's rate limits, shared like the snapshot.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn rate_limits_shared(&self) -> Result<Arc<Vec<RateLimitState>>, RepoError> {
        self.shared(&self.snapshot.rate_limits, self.rate_limits())
            .await
    }

    /// The cron state and rate limits as last read, without reading Redis (`None` when they
    /// were never read): for `/metrics`, which must cost Redis nothing beyond the snapshot.
    pub async fn cron_and_rate_limits_as_read(
        &self,
    ) -> (Option<Arc<CronOverview>>, Option<Arc<Vec<RateLimitState>>>) {
        let cron = match self.snapshot.cron.lock().await.as_ref() {
            Some((_, _, _, Ok(c))) => Some(c.clone()),
            _ => None,
        };
        let limits = match self.snapshot.rate_limits.lock().await.as_ref() {
            Some((_, _, _, Ok(l))) => Some(l.clone()),
            _ => None,
        };
        (cron, limits)
    }

    /// Single-flight sharing of one read: a read that finished after this request arrived is as
    /// fresh as it can ask for, so everyone who waited on it shares it, success or failure (no
    /// pile-up of timeouts while Redis stalls); a successful read is reused for the TTL, a
    /// failure for at most 500 ms; an action's invalidation ends both. With no TTL
    /// (`--snapshot-ttl 0`) a successful read is shared only with requests that arrived before
    /// it began, so every answer shows what was written before its request.
    async fn shared<T>(
        &self,
        slot: &tokio::sync::Mutex<Cached<T>>,
        read: impl std::future::Future<Output = Result<T, RepoError>>,
    ) -> Result<Arc<T>, RepoError> {
        let shared = &self.snapshot;
        let arrived = Instant::now();
        let mut cached = slot.lock().await;
        let generation = shared.generation.load(Ordering::SeqCst);
        if let Some((began, at, g, r)) = cached.as_ref() {
            let ttl = if r.is_ok() {
                shared.ttl
            } else {
                shared.ttl.min(Duration::from_millis(500))
            };
            // With no TTL a successful read is shared only if it began after this request
            // arrived, so that it shows whatever was written before.
            let shared_read = if r.is_ok() && shared.ttl.is_zero() {
                *began >= arrived
            } else {
                *at >= arrived
            };
            if *g == generation && (shared_read || at.elapsed() < ttl) {
                return r.clone();
            }
        }
        let started = Instant::now();
        let r = read.await.map(Arc::new);
        *cached = Some((started, Instant::now(), generation, r.clone()));
        r
    }

    /// Redis's version and the RQ versions of the workers, as of the last snapshot (empty before
    /// the first).
    pub fn versions(&self) -> (String, String) {
        self.snapshot
            .versions
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// Forgets the shared snapshot (after an action, so the next page shows its effect).
    pub fn invalidate(&self) {
        self.snapshot.generation.fetch_add(1, Ordering::SeqCst);
    }

    async fn read_snapshot(&self) -> Result<Snapshot, RepoError> {
        let overview = self.overview().await?;
        let ids: Vec<String> = overview
            .workers
            .iter()
            .filter_map(|w| w.current_job.clone())
            .collect();
        let mut rows = self.job_rows(&ids, &[], false).await?;
        let clear = self.redactor.is_active().then(|| {
            let clear = ids.iter().cloned().zip(rows.iter().cloned()).collect();
            self.blind().summaries(&mut rows);
            clear
        });
        if let Ok(mut v) = self.snapshot.versions.lock() {
            *v = (
                overview.redis.version.clone(),
                overview.rq_versions().join(", "),
            );
        }
        Ok(Snapshot {
            overview,
            current_jobs: ids.into_iter().zip(rows).collect(),
            clear_jobs: clear,
        })
    }
}
