//! Searches as shared background scans: one scan per instance and normalised query
//! ([`SearchQuery::key`]), whoever asks for it, with live progress, its first matches while it
//! runs, and an exact total when it completes.
//!
//! Bounds, so that searching can neither stall Redis nor grow the dashboard's memory:
//! - a scan reads [`SCAN_CHUNK`] registry entries per round trip (one `ZREVRANGE`/`LRANGE`, then
//!   one `HMGET` of only the needed fields per job, `data` only for `func` or `q`, the latest
//!   result only for `exc`), so Redis serves other clients between the chunks; at most
//!   [`SCAN_WINDOW`] chunks are in flight at once;
//! - a scan keeps only the ids of matches (with their time, for the order), at most
//!   [`MAX_MATCHES`]: past that it still counts them (the total stays exact) but keeps no more ids
//!   and says so (`truncated`), and acting on all matches is refused;
//! - at most [`MAX_SEARCHES`] scans exist at a time; a finished one is kept [`KEEP`] after it
//!   completed, so every viewer of the same query (and the action after a preview) sees the same
//!   result (`fresh=1` in the URL scans again); a running one that nobody has polled for [`IDLE`] stops by itself, and any can be
//!   stopped at once ([`Search::request_cancel`]). Worst case memory: [`MAX_SEARCHES`] ×
//!   [`MAX_MATCHES`] × (id + 40 bytes), about 60 MB with RQ's 36-character ids.
//!
//! Order: matches are listed newest first by the job's time (see [`crate::rq::search`]); while a
//! scan runs, each registry is walked from its newest entry, so the first results are recent ones.
//!
//! Consistency: a scan walks the registries as they change. Entries added after it began are left
//! out; an entry seen twice (pushed down by new ones) counts once. An entry that moves up while
//! the scan passes it (when older ones are removed meanwhile) can be missed: the total is exact
//! for the data at rest.

use actix_web::rt::task::JoinHandle;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::AppError;
use crate::redact::Sight;
use crate::rq::actions::Found;
use crate::rq::model::Registry;
use crate::rq::repository::search::{Chunk, ScanBounds, ScoreRange};
use crate::rq::search::SearchQuery;
use crate::rq::{RepoError, Repository};

/// Registry entries per round trip.
pub const SCAN_CHUNK: u64 = 250;
/// Chunks of one scan in flight at once.
pub const SCAN_WINDOW: usize = 3;
/// The most match ids one search keeps.
pub const MAX_MATCHES: usize = 100_000;
/// The most searches kept at a time.
pub const MAX_SEARCHES: usize = 8;
/// How long a finished search is kept after it completed.
pub const KEEP: Duration = Duration::from_secs(300);
/// A running search nobody polled for this long stops.
pub const IDLE: Duration = Duration::from_secs(30);

/// Where a search is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchState {
    /// Scanning.
    Running,
    /// Done: the total is exact.
    Complete,
    /// Stopped before the end (asked to, or nobody was watching).
    Cancelled,
    /// Stopped by a Redis failure.
    Failed(String),
}

impl SearchState {
    /// A lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            SearchState::Running => "running",
            SearchState::Complete => "complete",
            SearchState::Cancelled => "cancelled",
            SearchState::Failed(_) => "failed",
        }
    }
}

#[derive(Debug, Default)]
struct Matches {
    /// (job time in epoch microseconds, id, the queue it was found in), newest first once
    /// complete.
    list: Vec<(i64, String, Arc<str>)>,
    /// Hashes of the ids kept, to count an entry seen twice once.
    seen: HashSet<u64>,
}

/// One search and its live progress.
#[derive(Debug)]
pub struct Search {
    /// The instance it scans.
    pub instance: usize,
    /// The query.
    pub query: SearchQuery,
    /// What redaction hides from those it is for: it matches what they would see.
    sight: Sight,
    /// Registry entries read so far.
    pub scanned: AtomicU64,
    /// Registry entries there were when it began.
    pub to_scan: AtomicU64,
    /// Matches so far (exact when complete, even past [`MAX_MATCHES`]).
    pub total: AtomicU64,
    matches: Mutex<Matches>,
    state: Mutex<SearchState>,
    cancel: AtomicBool,
    last_seen: Mutex<Instant>,
    finished: Mutex<Option<Instant>>,
    /// When it began.
    pub started_at: DateTime<Utc>,
}

impl Search {
    fn new(instance: usize, query: SearchQuery, sight: Sight) -> Search {
        Search {
            instance,
            query,
            sight,
            scanned: AtomicU64::new(0),
            to_scan: AtomicU64::new(0),
            total: AtomicU64::new(0),
            matches: Mutex::new(Matches::default()),
            state: Mutex::new(SearchState::Running),
            cancel: AtomicBool::new(false),
            last_seen: Mutex::new(Instant::now()),
            finished: Mutex::new(None),
            started_at: Utc::now(),
        }
    }

    /// The current state.
    pub fn state(&self) -> SearchState {
        self.state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(SearchState::Running)
    }

    /// Whether the scan completed (the total is exact).
    pub fn complete(&self) -> bool {
        self.state() == SearchState::Complete
    }

    /// Whether more matches were found than ids are kept.
    pub fn truncated(&self) -> bool {
        self.total.load(Ordering::Relaxed) > self.kept() as u64
    }

    /// How many match ids are kept.
    pub fn kept(&self) -> usize {
        self.matches.lock().map(|m| m.list.len()).unwrap_or(0)
    }

    /// Asks the scan to stop after its current chunk.
    pub fn request_cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Records that someone looked (a running search nobody looks at stops after [`IDLE`]).
    pub fn touch(&self) {
        if let Ok(mut t) = self.last_seen.lock() {
            *t = Instant::now();
        }
    }

    fn idle(&self) -> bool {
        self.last_seen
            .lock()
            .map(|t| t.elapsed() > IDLE)
            .unwrap_or(false)
    }

    fn expired(&self) -> bool {
        match self.state() {
            SearchState::Running => false,
            SearchState::Complete => self
                .finished
                .lock()
                .ok()
                .and_then(|f| *f)
                .is_some_and(|f| f.elapsed() > KEEP),
            // A stopped search is replaced by the next request for it.
            _ => true,
        }
    }

    /// Match ids `[offset, offset + limit)`, newest first (in scan order while running).
    pub fn ids(&self, offset: usize, limit: usize) -> Vec<String> {
        self.matches
            .lock()
            .map(|m| {
                m.list
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|(_, id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every kept match, newest first, with where it was found (its queue, in the query's
    /// registry).
    pub fn all_found(&self) -> Vec<Found> {
        self.matches
            .lock()
            .map(|m| {
                m.list
                    .iter()
                    .map(|(_, id, q)| Found::in_place(id.clone(), &**q, self.query.registry))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn add(&self, time: i64, id: String, queue: &Arc<str>) {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut h);
        let hash = h.finish();
        if let Ok(mut m) = self.matches.lock() {
            if m.seen.contains(&hash) {
                return;
            }
            self.total.fetch_add(1, Ordering::Relaxed);
            if m.list.len() < MAX_MATCHES {
                m.seen.insert(hash);
                m.list.push((time, id, queue.clone()));
            }
        }
    }

    fn end(&self, state: SearchState) {
        if state == SearchState::Complete {
            if let Ok(mut m) = self.matches.lock() {
                // Stable: equal times keep their scan order (newest registry entry first).
                m.list.sort_by_key(|b| std::cmp::Reverse(b.0));
            }
        }
        if let Ok(mut s) = self.state.lock() {
            *s = state;
        }
        if let Ok(mut f) = self.finished.lock() {
            *f = Some(Instant::now());
        }
    }
}

/// Which search: instance, normalised query, and what redaction hides from those it is for
/// ([`Sight::key`]; viewers who see different values get different scans).
type SearchKey = (usize, String, String);

/// The searches of this process, by instance, normalised query and sight.
#[derive(Debug, Default)]
pub struct Searches {
    map: Mutex<HashMap<SearchKey, Arc<Search>>>,
}

impl Searches {
    /// The search of `query` on instance `n` for `sight` if one is kept (running, or complete
    /// and not expired).
    pub fn find(&self, n: usize, query: &SearchQuery, sight: &Sight) -> Option<Arc<Search>> {
        let map = self.map.lock().ok()?;
        map.get(&(n, query.key(), sight.key()))
            .filter(|s| !s.expired())
            .cloned()
    }

    /// The search of `query` on instance `n` for `sight`: the one kept, or a new scan started
    /// in the background over `repo`. `fresh` scans again unless a scan is running already.
    ///
    /// # Errors
    /// `Conflict` when [`MAX_SEARCHES`] searches are running already.
    pub fn get_or_start(
        &self,
        n: usize,
        query: &SearchQuery,
        sight: &Sight,
        repo: Arc<Repository>,
        json_first: bool,
        fresh: bool,
    ) -> Result<Arc<Search>, AppError> {
        let key = (n, query.key(), sight.key());
        let mut map = self
            .map
            .lock()
            .map_err(|_| AppError::Internal("search table poisoned".into()))?;
        if let Some(s) = map
            .get(&key)
            .filter(|s| !s.expired() && (!fresh || s.state() == SearchState::Running))
        {
            s.touch();
            return Ok(s.clone());
        }
        map.remove(&key);
        map.retain(|_, s| !s.expired());
        if map.len() >= MAX_SEARCHES {
            // Make room: drop the finished search completed longest ago.
            let oldest = map
                .iter()
                .filter(|(_, s)| s.state() != SearchState::Running)
                .min_by_key(|(_, s)| s.finished.lock().ok().and_then(|f| *f))
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    map.remove(&k);
                }
                None => {
                    return Err(AppError::Conflict(format!(
                        "{MAX_SEARCHES} searches are running already: wait for one to finish, or stop one"
                    )))
                }
            }
        }
        let search = Arc::new(Search::new(n, query.clone(), sight.clone()));
        map.insert(key, search.clone());
        let s = search.clone();
        actix_web::rt::spawn(async move {
            let r = scan(&repo, &s, json_first).await;
            let state = match r {
                Ok(true) => SearchState::Complete,
                Ok(false) => SearchState::Cancelled,
                Err(e) => SearchState::Failed(format!(
                    "stopped after {} entries: {e}",
                    s.scanned.load(Ordering::Relaxed)
                )),
            };
            tracing::info!(
                instance = s.instance,
                query = %s.query.recorded_description(s.sight.rules()),
                state = state.as_str(),
                scanned = s.scanned.load(Ordering::Relaxed),
                total = s.total.load(Ordering::Relaxed),
                "search ended"
            );
            s.end(state);
        });
        Ok(search)
    }

    /// Stops and forgets the searches of `query` on instance `n`, whoever they are for; whether
    /// there was one.
    pub fn stop(&self, n: usize, query: &SearchQuery) -> bool {
        let Ok(mut map) = self.map.lock() else {
            return false;
        };
        let key = query.key();
        let mut stopped = false;
        map.retain(|(i, k, _), s| {
            let hit = *i == n && *k == key;
            if hit {
                s.request_cancel();
                stopped = true;
            }
            !hit
        });
        stopped
    }
}

/// Runs the scan to the end; `Ok(false)` when it was stopped.
///
/// A big sorted registry is cut into [`STRIPES`] stripes by score, walked side by side from
/// their newest entries, so that matches among the oldest entries show within the first chunks
/// too. Up to [`SCAN_WINDOW`] chunks are in flight at once, so Redis reads the next ones while
/// the dashboard matches the current one; their results are taken in order.
async fn scan(repo: &Arc<Repository>, s: &Search, json_first: bool) -> Result<bool, RepoError> {
    let q = &s.query;
    let queues = match &q.queue {
        Some(name) => vec![name.clone()],
        None => repo.queue_names().await?,
    };
    let mut bounds = Vec::with_capacity(queues.len());
    for name in &queues {
        let b = repo.scan_bounds(name, q.registry).await?;
        s.to_scan.fetch_add(b.len, Ordering::Relaxed);
        bounds.push(b);
    }
    let needs = q.needs();
    for (name, b) in queues.iter().zip(bounds) {
        let queue: Arc<str> = Arc::from(name.as_str());
        let mut stripes = stripes(repo, name, q.registry, b).await?;
        let mut in_flight = InFlight(VecDeque::new());
        let mut turn = 0;
        loop {
            if s.cancel.load(Ordering::SeqCst) || s.idle() {
                return Ok(false);
            }
            // Issue reads round the stripes still going; past a stripe's size at the start only
            // one read at a time (it ends at the first short or out-of-range chunk).
            while in_flight.0.len() < SCAN_WINDOW {
                let open: Vec<usize> = (0..stripes.len())
                    .filter(|&i| !stripes[i].done && !stripes[i].waiting)
                    .collect();
                let Some(&i) = open
                    .iter()
                    .find(|&&i| i >= turn % stripes.len())
                    .or(open.first())
                else {
                    break;
                };
                turn = i + 1;
                let st = &mut stripes[i];
                let (repo, name, registry, range, start) =
                    (repo.clone(), name.clone(), q.registry, st.range, st.next);
                st.next += SCAN_CHUNK;
                st.waiting = st.next >= st.end;
                in_flight.0.push_back((
                    i,
                    actix_web::rt::spawn(async move {
                        repo.scan_chunk(&name, registry, range, start, SCAN_CHUNK, needs)
                            .await
                    }),
                ));
            }
            let Some((i, chunk)) = in_flight.0.pop_front() else {
                break;
            };
            let chunk = chunk.await.map_err(|e| {
                RepoError::Redis(repo.label().to_string(), format!("scan task ended: {e}"))
            })??;
            let redactor = s.sight.hides(Some(name));
            for c in &chunk.candidates {
                if q.matches(c, json_first, redactor) {
                    let t = c.time.map(|t| t.timestamp_micros()).unwrap_or(i64::MIN);
                    s.add(t, c.id.clone(), &queue);
                }
            }
            s.scanned.fetch_add(chunk.in_range, Ordering::Relaxed);
            let st = &mut stripes[i];
            st.waiting = false;
            if chunk.read < SCAN_CHUNK || chunk.below {
                st.done = true;
            }
        }
    }
    Ok(true)
}

/// Stripes a scan of one registry is cut into.
pub const STRIPES: u64 = 4;

/// One stripe of a registry's scan.
#[derive(Debug, Clone, Copy)]
struct Stripe {
    /// The scores it covers.
    range: ScoreRange,
    /// The index its next read starts at.
    next: u64,
    /// Where it ended when the scan began: past it, one read at a time.
    end: u64,
    /// Whether a read past `end` is in flight.
    waiting: bool,
    /// Whether it is done.
    done: bool,
}

/// The stripes of a scan of `registry` of `queue`: one for a queue list or a small registry;
/// else [`STRIPES`], cut at the scores found at even intervals, each covering
/// `[its boundary, the boundary above)` so that entries of equal score are read by one stripe
/// only. Each starts a chunk before its boundary, in case entries were removed meanwhile.
async fn stripes(
    repo: &Repository,
    queue: &str,
    registry: Registry,
    b: ScanBounds,
) -> Result<Vec<Stripe>, RepoError> {
    let one = |end| Stripe {
        range: ScoreRange::up_to(b.max_score),
        next: 0,
        end,
        waiting: false,
        done: false,
    };
    if registry == Registry::Queued || b.len < STRIPES * SCAN_CHUNK * SCAN_WINDOW as u64 {
        return Ok(vec![one(b.len)]);
    }
    let starts: Vec<u64> = (1..STRIPES).map(|k| b.len * k / STRIPES).collect();
    let scores = repo.scores_at(queue, registry, &starts).await?;
    let mut cuts: Vec<(u64, f64)> = starts
        .iter()
        .zip(scores)
        .filter_map(|(i, s)| s.map(|s| (*i, s)))
        .collect();
    // Equal boundaries would make empty stripes.
    cuts.dedup_by(|a, b| a.1 == b.1);
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut upper = (0u64, b.max_score, false);
    for (i, score) in cuts
        .into_iter()
        .chain(std::iter::once((b.len, f64::NEG_INFINITY)))
    {
        out.push(Stripe {
            range: ScoreRange {
                min: score,
                max: upper.1,
                max_exclusive: upper.2,
            },
            next: upper
                .0
                .saturating_sub(if upper.0 == 0 { 0 } else { SCAN_CHUNK }),
            end: i,
            waiting: false,
            done: false,
        });
        upper = (i, score, true);
    }
    Ok(out)
}

/// The chunk reads of a scan still in flight, in order; dropping it (at the end of a registry,
/// on a stop or an error) aborts them.
struct InFlight(VecDeque<(usize, JoinHandle<Result<Chunk, RepoError>>)>);

impl Drop for InFlight {
    fn drop(&mut self) {
        for (_, h) in &self.0 {
            h.abort();
        }
    }
}
