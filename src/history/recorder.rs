//! One round of counting, run by each instance's background loop every `--history-interval`.
//!
//! With the history in Redis, one replica at a time (the `history` lease) counts and writes;
//! every replica then mirrors the points into its memory. A round:
//! 1. reads the bookkeeping (since, seq, the workers' counters as last counted, the registry
//!    watermarks);
//! 2. reads the new entries of the finished and failed registries that changed (at most
//!    [`REGISTRIES`](super::entries::REGISTRIES) registries and [`MAX_JOBS`](super::entries::MAX_JOBS) jobs a round; the rest wait for the next) and a
//!    few fields of their jobs: these feed the timing statistics, tell which queue a worker's
//!    jobs came from, and name workers that were born and gone between two rounds;
//! 3. counts each worker's growth since the last round: listed workers from the snapshot,
//!    workers no longer listed by reading their hash (RQ keeps it 60 s after a clean stop), a
//!    worker seen for the first time in full when it was born after the history began;
//! 4. writes it all in one script that checks `seq` (see [`crate::rq::repository::history`]).
//!
//! What stays inexact (the README says so): a worker killed without a clean stop whose hash
//! expired before a round read it loses the jobs it did since the previous round; of workers
//! that reuse one name (`rq worker --name`) and come and go within one round, each wiping its
//! predecessor's hash, only the last is counted; a worker of several queues whose jobs keep no
//! finished entry has them counted on its first queue.
//!
//! Of a worker's failed growth, the attempts matched by new failed-registry entries of that
//! worker failed for good; the rest RQ retried (a retried attempt leaves no entry). Inexact when
//! a round leaves new failed entries unread (the read limits) or a job's hash no longer names
//! its worker: those failures count as retried.

use std::collections::{HashMap, HashSet};

use super::entries;
use super::timing::{self, Window};
use super::{codec, History, Mode, Resolution, Sample, MAX_QUEUES};
use crate::rq::model::Registry;
use crate::rq::repository::history::{HistState, RoundWrite};
use crate::rq::{Repository, Snapshot};

/// Closed timing buckets read again per round (see `refresh_timing`).
const REREADS: usize = 20;
/// How long the bookkeeping keys outlive the last round, seconds.
const KEEP: i64 = 91 * 86_400;

/// The recorder of one instance.
#[derive(Debug)]
pub struct Recorder {
    holder: String,
    st: tokio::sync::Mutex<State>,
}

impl Recorder {
    /// A recorder holding the lease as `holder`: the host and port, so a replica restarted in
    /// place takes its lease back at once, while another waits for it to expire.
    pub fn new(holder: String) -> Recorder {
        Recorder {
            holder,
            st: tokio::sync::Mutex::new(State::default()),
        }
    }
}

/// What a recorder remembers from one round to the next.
#[derive(Debug, Default)]
struct State {
    /// The bookkeeping when the history is in memory.
    mem: HistState,
    /// Gauges last written per series.
    last: HashMap<String, (u64, u64, u64)>,
    last_minute: i64,
    /// What the registry reads remember between rounds.
    reads: entries::Memory,
    /// Failed-registry entries read last round that no growth of their worker's
    /// `failed_job_count` matched yet: worker → queue → count. RQ adds the entry a moment
    /// before it counts the failure, so the count can come a round later.
    carry: HashMap<String, HashMap<String, u64>>,
    /// Whether the mirror holds the whole kept history.
    loaded: bool,
    rounds: u64,
}

impl Recorder {
    /// Runs one round on `snap` (see the module doc). Errors end the round quietly: nothing is
    /// counted twice and nothing is lost, the next round picks up where the last write left.
    pub async fn round(
        &self,
        repo: &Repository,
        h: &History,
        snap: &Snapshot,
        lease: std::time::Duration,
    ) {
        let now = snap.overview.fetched_at.timestamp();
        let mut st = self.st.lock().await;
        st.rounds += 1;
        // After a fallback, Redis is tried again every 60 rounds (a failover's read-only
        // moment passes); its bookkeeping counts what happened meanwhile.
        if st.rounds % 60 == 0 && matches!(h.mode(), Mode::Fallback(_)) {
            h.retry_redis();
        }
        let mut holder = true;
        let mut new_stats = false;
        if h.mode() == Mode::Redis {
            match repo.take_lease("history", &self.holder, lease).await {
                Ok(held) => holder = held,
                Err(e) if e.is_refused_write() => h.fall_back(e.to_string()),
                Err(_) => return,
            }
        }
        let shared = h.mode() == Mode::Redis;
        if holder {
            let state = if shared {
                match repo.history_state().await {
                    Ok(s) => s,
                    Err(_) => return,
                }
            } else {
                st.mem.clone()
            };
            match count(repo, h, &mut st, snap, state, now, shared).await {
                Ok(stats) => new_stats = stats,
                Err(()) => return,
            }
        }
        if shared {
            let _ = mirror(repo, h, &mut st, now).await;
        }
        // After new statistics, or every third round (other replicas' view).
        if st.rounds % 3 == 1 || new_stats {
            let _ = refresh_timing(repo, h, shared, now).await;
        }
    }
}

/// Counts and writes one round; whether it added timing statistics, `Err` when Redis failed
/// (nothing was written).
async fn count(
    repo: &Repository,
    h: &History,
    st: &mut State,
    snap: &Snapshot,
    state: HistState,
    now: i64,
    shared: bool,
) -> Result<bool, ()> {
    let k = repo.keys();
    let ov = &snap.overview;
    // 2. New registry entries, and what they say.
    let first = state.since.is_none();
    let since = state.since.unwrap_or(now);
    let entries::Entries {
        new_marks,
        done,
        timings,
        by_worker,
    } = entries::read(repo, &mut st.reads, ov, &state, now).await?;
    // This round's failed entries per worker and queue, then with last round's unmatched ones.
    let fresh_failed: HashMap<(&str, &str), u64> = by_worker
        .iter()
        .flat_map(|(w, qs)| {
            qs.iter()
                .map(move |(q, c)| ((w.as_str(), q.as_str()), c[1]))
        })
        .collect();
    let mut seen_by_worker = by_worker.clone();
    for (w, qs) in std::mem::take(&mut st.carry) {
        for (q, n) in qs {
            seen_by_worker
                .entry(w.clone())
                .or_default()
                .entry(q)
                .or_default()[1] += n;
        }
    }

    // 3. The workers' counters.
    let listed: HashSet<&str> = ov.workers.iter().map(|w| w.name.as_str()).collect();
    let mut lookups: Vec<String> = state
        .workers
        .keys()
        .filter(|n| !listed.contains(n.as_str()))
        .cloned()
        .collect();
    lookups.extend(
        by_worker
            .keys()
            .filter(|n| !listed.contains(n.as_str()) && !state.workers.contains_key(*n))
            .cloned(),
    );
    let facts = if lookups.is_empty() {
        Vec::new()
    } else {
        repo.worker_facts(&lookups).await.map_err(|_| ())?
    };
    // (name, successful, failed, birth in epoch microseconds, queues)
    let mut counted: Vec<(String, u64, u64, i64, Vec<String>)> = Vec::new();
    for w in &ov.workers {
        counted.push((
            w.name.clone(),
            w.successful_job_count.max(0) as u64,
            w.failed_job_count.max(0) as u64,
            w.birth.map_or(0, |b| b.timestamp_micros()),
            w.queues.clone(),
        ));
    }
    let mut workers_del = Vec::new();
    for (name, f) in lookups.iter().zip(facts) {
        if !f.exists {
            if state.workers.contains_key(name) {
                workers_del.push(name.clone());
            }
            continue;
        }
        counted.push((
            name.clone(),
            f.successful,
            f.failed,
            f.birth.unwrap_or(0),
            f.queues,
        ));
    }
    let mut workers_set = Vec::new();
    // Finished, failed, and of the failed the retried attempts.
    let mut per_queue: HashMap<String, [u64; 3]> = HashMap::new();
    let mut total = [0u64; 3];
    let mut carry: HashMap<String, HashMap<String, u64>> = HashMap::new();
    for (name, s, x, birth, queues) in &counted {
        let (ds, dx) = match state.workers.get(name) {
            // The same worker: its growth.
            // (Lower than counted: an older snapshot than the last round's; nothing new.)
            Some(&(bs, bx, bb)) if bb == *birth => (s.saturating_sub(bs), x.saturating_sub(bx)),
            // A later worker of the same name: its counters began at zero. (Counters only: the
            // registries may already hold jobs the snapshot's counters do not, and the next
            // round counts those from the counters.)
            Some(_) => (*s, *x),
            // A worker born after the history began, never counted: all it did.
            None if !first && *birth >= since * 1_000_000 => (*s, *x),
            // Running since before the history began: from now on.
            None => (0, 0),
        };
        // The baseline never goes back for the same worker.
        let (s, x) = match state.workers.get(name) {
            Some(&(bs, bx, bb)) if bb == *birth => ((*s).max(bs), (*x).max(bx)),
            _ => (*s, *x),
        };
        if state.workers.get(name) != Some(&(s, x, *birth)) {
            workers_set.push((name.clone(), format!("{s} {x} {birth}")));
        }
        total[0] += ds;
        total[1] += dx;
        let seen = seen_by_worker.get(name);
        for (i, d) in [ds, dx].into_iter().enumerate() {
            let mut rest = d;
            if let Some(seen) = seen {
                let mut qs: Vec<(&String, &[u64; 2])> = seen.iter().collect();
                qs.sort();
                for (q, c) in qs {
                    let n = c[i].min(rest);
                    per_queue.entry(q.clone()).or_default()[i] += n;
                    rest -= n;
                    // A failed entry its worker has not counted yet waits one round for it.
                    let fresh = fresh_failed
                        .get(&(name.as_str(), q.as_str()))
                        .copied()
                        .unwrap_or(0);
                    let unmatched = (c[i] - n).min(fresh);
                    if i == 1 && unmatched > 0 {
                        *carry
                            .entry(name.clone())
                            .or_default()
                            .entry(q.clone())
                            .or_default() += unmatched;
                    }
                }
            }
            // Failed attempts that left no failed-registry entry: RQ retried them (the job went
            // back to its queue or to the scheduled registry).
            if i == 1 {
                total[2] += rest;
            }
            if rest > 0 {
                if let Some(q) = queues.first() {
                    let c = per_queue.entry(q.clone()).or_default();
                    c[i] += rest;
                    if i == 1 {
                        c[2] += rest;
                    }
                }
            }
        }
    }

    // The series.
    let minute = now.div_euclid(60);
    let new_minute = minute != st.last_minute;
    let age = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or(0, |t| (now - t.timestamp()).max(0) as u64)
    };
    let t = ov.totals();
    let mut samples: Vec<(String, Sample)> = vec![(
        String::new(),
        Sample {
            finished: total[0],
            failed: total[1],
            retried: total[2],
            queued: t.queued,
            started: t.started,
            latency: age(t.oldest_enqueued_at),
        },
    )];
    // (A queue named "" would share the total's field: it counts in the total only.)
    for q in ov
        .queues
        .iter()
        .filter(|q| !q.name.is_empty())
        .take(MAX_QUEUES)
    {
        let d = per_queue.get(&q.name).copied().unwrap_or_default();
        let s = Sample {
            finished: d[0],
            failed: d[1],
            retried: d[2],
            queued: q.queued,
            started: q.started,
            latency: age(q.oldest_enqueued_at),
        };
        // A queue is written when jobs finished or failed, when its counts changed, and once a
        // minute while it holds jobs; the age of its oldest job alone (it grows every second)
        // waits for the next minute.
        let gauges = (s.queued, s.started, s.latency);
        let changed = st.last.get(&q.name).map(|g| (g.0, g.1)) != Some((s.queued, s.started));
        if d != [0, 0, 0] || changed || (new_minute && gauges != (0, 0, 0)) {
            samples.push((q.name.clone(), s));
        }
    }
    let incr = timing::increments(&timings);
    // What belongs to queues no longer listed is dropped (only when some queue is listed: an
    // empty list may be a glitch).
    let queue_names: HashSet<&str> = ov.queues.iter().map(|q| q.name.as_str()).collect();
    let registries: HashSet<String> = ov
        .queues
        .iter()
        .flat_map(|q| {
            [
                k.registry(Registry::Finished, &q.name),
                k.registry(Registry::Failed, &q.name),
            ]
        })
        .collect();
    let (marks_del, totals_del): (Vec<String>, Vec<String>) = if ov.queues.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            state
                .marks
                .keys()
                .filter(|m| !registries.contains(m.as_str()))
                .cloned()
                .collect(),
            h.totals()
                .into_iter()
                .filter(|(q, _, _)| !q.is_empty() && !queue_names.contains(q.as_str()))
                .flat_map(|(q, _, _)| [format!("f:{q}"), format!("x:{q}")])
                .collect(),
        )
    };

    // 4. Write.
    if shared {
        let mut expire: HashMap<String, i64> = HashMap::new();
        let incr_rows: Vec<(String, String, u64)> = incr
            .iter()
            .map(|((span, n, f), v)| {
                let key = k.dash_stats(span, *n);
                expire.insert(
                    key.clone(),
                    if *span == "10m" {
                        timing::TTL_10M
                    } else {
                        timing::TTL_1H
                    },
                );
                (key, f.clone(), *v)
            })
            .collect();
        let w = RoundWrite {
            seq: state.seq,
            since: first.then_some(now),
            now,
            mkey: k.dash_hist_minutes(now.div_euclid(3600)),
            mo: now.div_euclid(60).rem_euclid(60),
            mttl: (super::MINUTES + 60) * 60,
            hkey: k.dash_hist_hours(now.div_euclid(86_400)),
            ho: now.div_euclid(3600).rem_euclid(24),
            httl: (super::HOURS + 24) * 3600,
            series: samples
                .iter()
                .map(|(q, s)| {
                    (
                        q.clone(),
                        s.finished,
                        s.failed,
                        s.queued,
                        s.started,
                        s.latency,
                        s.retried,
                    )
                })
                .collect(),
            workers_set,
            workers_del,
            incr: incr_rows,
            expire: expire.into_iter().collect(),
            marks: new_marks,
            marks_del,
            totals_del,
            keep: KEEP,
        };
        match repo.apply_round(&w).await {
            Ok(true) => {}
            Ok(false) => return Err(()),
            Err(e) => {
                if e.is_refused_write() {
                    h.fall_back(e.to_string());
                }
                return Err(());
            }
        }
    } else {
        h.with_store(|s| s.add(now, &samples));
        h.add_totals(&samples);
        h.timing.add_local(&incr, now);
        let m = &mut st.mem;
        m.since.get_or_insert(now);
        m.seq += 1;
        for (n, v) in workers_set {
            let mut it = v.split(' ').map(|x| x.parse::<i64>().unwrap_or(0));
            let mut next = || it.next().unwrap_or(0);
            let (s, x, b) = (next().max(0) as u64, next().max(0) as u64, next());
            m.workers.insert(n, (s, x, b));
        }
        for n in workers_del {
            m.workers.remove(&n);
        }
        m.marks.extend(new_marks);
        for k in marks_del {
            m.marks.remove(&k);
        }
    }
    st.last_minute = minute;
    st.carry = carry;
    for (q, s) in &samples {
        st.last.insert(q.clone(), (s.queued, s.started, s.latency));
    }
    for (key, size, full) in done {
        if full {
            st.reads.reg_size.remove(&key);
        } else {
            st.reads.reg_size.insert(key.clone(), size);
        }
        st.reads.reg_read.insert(key, now);
    }
    // Forget queues that are gone.
    if !ov.queues.is_empty() {
        st.last
            .retain(|q, _| q.is_empty() || queue_names.contains(q.as_str()));
        st.reads
            .reg_size
            .retain(|k, _| registries.contains(k.as_str()));
        st.reads
            .reg_read
            .retain(|k, _| registries.contains(k.as_str()));
    }
    Ok(!incr.is_empty())
}

/// Copies the points from Redis into this process's memory: the current and previous hour
/// and day, or the whole kept history the first time.
async fn mirror(repo: &Repository, h: &History, st: &mut State, now: i64) -> Result<(), ()> {
    let k = repo.keys();
    let (hour, day) = (now.div_euclid(3600), now.div_euclid(86_400));
    let mut spans: Vec<(Resolution, i64)> = Vec::new();
    let (hours_back, days_back) = if st.loaded {
        (1, 1)
    } else {
        (super::MINUTES_IN_MEMORY / 60 + 1, super::HOURS / 24 + 1)
    };
    for hh in hour - hours_back..=hour {
        spans.push((Resolution::Minute, hh * 3600));
    }
    for d in day - days_back..=day {
        spans.push((Resolution::Hour, d * 86_400));
    }
    let mut keys: Vec<String> = spans
        .iter()
        .map(|(r, base)| match r {
            Resolution::Minute => k.dash_hist_minutes(base / 3600),
            Resolution::Hour => k.dash_hist_hours(base / 86_400),
        })
        .collect();
    keys.push(k.dash_hist_totals());
    let mut hashes = repo.hashes(&keys).await.map_err(|_| ())?;
    let totals = hashes.pop().unwrap_or_default();
    h.with_store(|s| {
        for ((r, base), hash) in spans.iter().zip(&hashes) {
            let len = match r {
                Resolution::Minute => 3600,
                Resolution::Hour => 86_400,
            };
            for (q, text) in hash {
                let pts = codec::parse(text, *base, r.secs());
                s.replace(q, *r, *base, base + len, pts);
            }
        }
        s.prune(now);
    });
    h.set_totals(
        totals
            .into_iter()
            .map(|(k, v)| (k, v.trim().parse().unwrap_or(0)))
            .collect(),
    );
    st.loaded = true;
    Ok(())
}

/// Reads the timing statistics of each window into the cache. Closed buckets are kept in
/// memory and read again only every ten minutes (a late job may still land in one), at most
/// [`REREADS`] a round; the open ones (this bucket and the one before) every time.
async fn refresh_timing(repo: &Repository, h: &History, shared: bool, now: i64) -> Result<(), ()> {
    if !shared {
        for w in Window::ALL {
            h.timing.set(w, h.timing.local_accs(w, now));
        }
        return Ok(());
    }
    let k = repo.keys();
    let mut wanted: Vec<(&'static str, i64)> = Window::Hour.buckets(now);
    wanted.extend(Window::Week.buckets(now));
    let open = |(span, n): (&str, i64)| {
        let secs = if span == "10m" { 600 } else { 3600 };
        n >= now.div_euclid(secs) - 1
    };
    let cached = h.timing.cached_buckets();
    let mut stale: Vec<(i64, (&'static str, i64))> = Vec::new();
    let mut read: Vec<(&'static str, i64)> = Vec::new();
    for b in &wanted {
        match cached.get(b) {
            _ if open(*b) => read.push(*b),
            None => read.push(*b),
            Some(at) if now - at >= 600 => stale.push((*at, *b)),
            Some(_) => {}
        }
    }
    stale.sort();
    read.extend(stale.into_iter().take(REREADS).map(|(_, b)| b));
    let keys: Vec<String> = read.iter().map(|(s, n)| k.dash_stats(s, *n)).collect();
    let hashes = repo.hashes(&keys).await.map_err(|_| ())?;
    h.timing
        .store_buckets(read.into_iter().zip(hashes).collect(), &wanted, now);
    for w in Window::ALL {
        h.timing.set(w, h.timing.merged(&w.buckets(now)));
    }
    Ok(())
}
