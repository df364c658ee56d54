//! One round of counting, run by each instance's background loop every `--history-interval`.
//!
//! With the history in Redis, one replica at a time (the `history` lease) counts and writes;
//! every replica then mirrors the points into its memory. A round:
//! 1. reads the bookkeeping (since, seq, the workers' counters as last counted, the registry
//!    watermarks);
//! 2. reads the new entries of the finished and failed registries that changed (at most
//!    [`REGISTRIES`] registries and [`MAX_JOBS`] jobs a round; the rest wait for the next) and a
//!    few fields of their jobs: these feed the timing statistics, tell which queue a worker's
//!    jobs came from, and name workers that were born and gone between two rounds;
//! 3. counts each worker's growth since the last round: listed workers from the snapshot,
//!    workers no longer listed by reading their hash (RQ keeps it 60 s after a clean stop), a
//!    worker seen for the first time in full when it was born after the history began;
//! 4. writes it all in one script that checks `seq` (see [`crate::rq::repository::history`]).
//!
//! What stays inexact (the README says so): a worker killed without a clean stop whose hash
//! expired before a round read it loses the jobs it did since the previous round; workers that
//! reuse one name (`rq worker --name`) and come and go within one round are counted from the
//! registries, so their jobs without a finished entry (`result_ttl=0`) are lost; a worker of
//! several queues whose jobs keep no finished entry has them counted on its first queue.

use std::collections::{HashMap, HashSet};

use super::timing::{self, JobTiming, Window};
use super::{codec, History, Mode, Resolution, Sample, MAX_QUEUES};
use crate::rq::model::{parse_timestamp, Registry};
use crate::rq::repository::history::{HistState, RoundWrite};
use crate::rq::{Repository, Snapshot};

/// Registries read per round.
pub const REGISTRIES: usize = 100;
/// Entries read per registry per round (also how many of the newest a registry seen for the
/// first time contributes to the statistics).
pub const ENTRIES: usize = 500;
/// Job hashes read per round.
pub const MAX_JOBS: usize = 2000;
/// A registry seen for the first time with at most this many entries is read from its oldest.
const SMALL_REGISTRY: u64 = 2000;
/// Of the ids read at the watermark's score, how many are read again (see `count`).
const SKIP_MARGIN: usize = 50;
/// Ids kept with a watermark (entries sharing its score).
const MARK_IDS: usize = 10_000;
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

#[derive(Debug, Default)]
struct State {
    /// The bookkeeping when the history is in memory.
    mem: HistState,
    /// Gauges last written per series.
    last: HashMap<String, (u64, u64, u64)>,
    last_minute: i64,
    /// Registry sizes at the last read, and when it was.
    reg_size: HashMap<String, u64>,
    reg_read: HashMap<String, i64>,
    /// (queue, function) pairs counted.
    pairs: HashSet<(String, String)>,
    /// Whether the mirror holds the whole kept history.
    loaded: bool,
    rounds: u64,
}

/// A registry to read this round.
struct Pending {
    key: String,
    queue: String,
    failed: bool,
    size: u64,
}

/// A job read this round.
struct Seen {
    queue: String,
    failed: bool,
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
        // The hour and the day after new statistics or every third round; the week (169
        // buckets) every twelfth.
        if st.rounds % 3 == 1 || new_stats {
            let _ = refresh_timing(repo, h, shared, now, st.rounds % 12 == 1).await;
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
    // 2. New registry entries.
    let mut pending: Vec<(bool, i64, Pending)> = Vec::new();
    for q in &ov.queues {
        for (reg, failed, size) in [
            (Registry::Finished, false, q.finished),
            (Registry::Failed, true, q.failed),
        ] {
            let key = k.registry(reg, &q.name);
            let changed = st.reg_size.get(&key) != Some(&size);
            let read_at = st.reg_read.get(&key).copied().unwrap_or(0);
            if changed || now - read_at >= 60 {
                pending.push((
                    !changed,
                    read_at,
                    Pending {
                        key,
                        queue: q.name.clone(),
                        failed,
                        size,
                    },
                ));
            }
        }
    }
    pending.sort_by_key(|(unchanged, at, _)| (*unchanged, *at));
    pending.truncate(REGISTRIES);
    // A registry read for the first time: on the history's first round, or when it is big, its
    // newest entries are a sample of the past; a small one that appeared since (a new queue)
    // is read from its oldest entry, so none of its jobs is missed.
    let marks: Vec<(Option<f64>, HashSet<String>)> = pending
        .iter()
        .map(|(_, _, p)| match state.marks.get(&p.key) {
            Some(m) => parse_mark(Some(m)),
            None if state.since.is_some() && p.size <= SMALL_REGISTRY => {
                (Some(0.0), HashSet::new())
            }
            None => (None, HashSet::new()),
        })
        .collect();
    // Entries sharing the watermark's score come in id order, the ones read first among them:
    // skip those (all but a margin for ids that arrived in that second since), so a second
    // with more entries than one read takes is still read through.
    let reads: Vec<(String, Option<f64>, usize)> = pending
        .iter()
        .zip(&marks)
        .map(|((_, _, p), m)| (p.key.clone(), m.0, m.1.len().saturating_sub(SKIP_MARGIN)))
        .collect();
    let entries = repo
        .registry_entries(&reads, ENTRIES)
        .await
        .map_err(|_| ())?;
    let mut jobs: Vec<(String, Seen)> = Vec::new();
    let mut new_marks: Vec<(String, String)> = Vec::new();
    let mut done: Vec<(String, u64, bool)> = Vec::new();
    for (((_, _, p), (mark, ids)), got) in pending.iter().zip(&marks).zip(entries) {
        if jobs.len() >= MAX_JOBS {
            break;
        }
        let full = got.len() >= ENTRIES;
        let fresh: Vec<&(String, f64)> = got
            .iter()
            .filter(|(id, s)| !(Some(*s) == *mark && ids.contains(id)))
            .collect();
        if let Some(top) = fresh.iter().map(|e| e.1).reduce(f64::max) {
            let mut at_top: Vec<&str> = fresh
                .iter()
                .filter(|e| e.1 == top)
                .map(|e| e.0.as_str())
                .collect();
            if Some(top) == *mark {
                at_top.extend(ids.iter().map(String::as_str));
            }
            at_top.truncate(MARK_IDS);
            new_marks.push((p.key.clone(), format!("{top} {}", at_top.join(" "))));
        } else if !state.marks.contains_key(&p.key) {
            // Empty: whatever comes later is new.
            new_marks.push((p.key.clone(), "0".to_string()));
        }
        for (id, _) in fresh {
            jobs.push((
                id.clone(),
                Seen {
                    queue: p.queue.clone(),
                    failed: p.failed,
                },
            ));
        }
        done.push((p.key.clone(), p.size, full));
    }
    let first = state.since.is_none();
    let since = state.since.unwrap_or(now);
    let ids: Vec<String> = jobs.iter().map(|(id, _)| id.clone()).collect();
    let fields = if ids.is_empty() {
        Vec::new()
    } else {
        repo.timing_fields(&ids).await.map_err(|_| ())?
    };
    let mut timings: Vec<JobTiming> = Vec::new();
    let mut by_worker: HashMap<String, HashMap<String, [u64; 2]>> = HashMap::new();
    for ((_, seen), f) in jobs.iter().zip(fields) {
        let text = |i: usize| {
            f.get(i)
                .and_then(|v| v.as_deref())
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        let at = |i: usize| text(i).as_deref().and_then(parse_timestamp);
        let (enq, start, end) = (at(0), at(1), at(2));
        let secs = |a: chrono::DateTime<chrono::Utc>, b: chrono::DateTime<chrono::Utc>| {
            (b - a).num_microseconds().map(|us| us as f64 / 1e6)
        };
        let worker = text(3).unwrap_or_default();
        let ended = end.map_or(now, |e| e.timestamp());
        // A registry read for the first time: what ended before the history began was counted
        // by nobody and belongs to no worker's growth.
        let counted_before = state.since.is_none() || ended < since;
        if !counted_before && !worker.is_empty() && worker != "sync" {
            by_worker
                .entry(worker)
                .or_default()
                .entry(seen.queue.clone())
                .or_default()[usize::from(seen.failed)] += 1;
        }
        if now - ended > 7 * 86_400 {
            continue;
        }
        let func = f
            .get(4)
            .and_then(|v| v.as_deref())
            .and_then(|d| repo.func_name_of(d))
            .or_else(|| text(5).map(|d| d.split('(').next().unwrap_or("").to_string()))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "(unknown)".to_string());
        let mut func: String = func.chars().take(timing::MAX_FUNC).collect();
        let pair = (seen.queue.clone(), func.clone());
        if !st.pairs.contains(&pair) {
            if st.pairs.len() >= timing::MAX_PAIRS {
                func = "(other)".to_string();
            } else {
                st.pairs.insert(pair);
            }
        }
        timings.push(JobTiming {
            queue: seen.queue.clone(),
            func,
            failed: seen.failed,
            ended,
            runtime: start.zip(end).and_then(|(s, e)| secs(s, e)),
            wait: enq.zip(start).and_then(|(q, s)| secs(q, s)),
        });
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
    let mut per_queue: HashMap<String, [u64; 2]> = HashMap::new();
    let mut total = [0u64; 2];
    for (name, s, x, birth, queues) in &counted {
        let seen_total = by_worker.get(name).map_or([0, 0], |m| {
            m.values().fold([0, 0], |a, c| [a[0] + c[0], a[1] + c[1]])
        });
        let (ds, dx) = match state.workers.get(name) {
            // The same worker: its growth.
            Some(&(bs, bx, bb)) if bb == *birth && *s >= bs && *x >= bx => (s - bs, x - bx),
            // A later worker of the same name (its counters began at zero). Several may have
            // come and gone since the last round, each wiping its predecessor's hash: the jobs
            // the registries got from that name since then are the better count when higher.
            Some(_) => ((*s).max(seen_total[0]), (*x).max(seen_total[1])),
            // A worker born after the history began, never counted: all it did.
            None if !first && *birth >= since * 1_000_000 => {
                ((*s).max(seen_total[0]), (*x).max(seen_total[1]))
            }
            // Running since before the history began: from now on.
            None => (0, 0),
        };
        if state.workers.get(name) != Some(&(*s, *x, *birth)) {
            workers_set.push((name.clone(), format!("{s} {x} {birth}")));
        }
        total[0] += ds;
        total[1] += dx;
        let seen = by_worker.get(name);
        for (i, d) in [ds, dx].into_iter().enumerate() {
            let mut rest = d;
            if let Some(seen) = seen {
                let mut qs: Vec<(&String, &[u64; 2])> = seen.iter().collect();
                qs.sort();
                for (q, c) in qs {
                    let n = c[i].min(rest);
                    per_queue.entry(q.clone()).or_default()[i] += n;
                    rest -= n;
                }
            }
            if rest > 0 {
                if let Some(q) = queues.first() {
                    per_queue.entry(q.clone()).or_default()[i] += rest;
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
            queued: t.queued,
            started: t.started,
            latency: age(t.oldest_enqueued_at),
        },
    )];
    for q in ov.queues.iter().take(MAX_QUEUES) {
        let d = per_queue.get(&q.name).copied().unwrap_or_default();
        let s = Sample {
            finished: d[0],
            failed: d[1],
            queued: q.queued,
            started: q.started,
            latency: age(q.oldest_enqueued_at),
        };
        // A queue is written when jobs finished or failed, when its counts changed, and once a
        // minute while it holds jobs; the age of its oldest job alone (it grows every second)
        // waits for the next minute.
        let gauges = (s.queued, s.started, s.latency);
        let changed = st.last.get(&q.name).map(|g| (g.0, g.1)) != Some((s.queued, s.started));
        if d != [0, 0] || changed || (new_minute && gauges != (0, 0, 0)) {
            samples.push((q.name.clone(), s));
        }
    }
    let incr = timing::increments(&timings);

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
                    )
                })
                .collect(),
            workers_set,
            workers_del,
            incr: incr_rows,
            expire: expire.into_iter().collect(),
            marks: new_marks,
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
    }
    st.last_minute = minute;
    for (q, s) in &samples {
        st.last.insert(q.clone(), (s.queued, s.started, s.latency));
    }
    for (key, size, full) in done {
        if full {
            st.reg_size.remove(&key);
        } else {
            st.reg_size.insert(key.clone(), size);
        }
        st.reg_read.insert(key, now);
    }
    Ok(!incr.is_empty())
}

/// Parses a watermark: its score and the ids read at that score.
fn parse_mark(m: Option<&str>) -> (Option<f64>, HashSet<String>) {
    let Some(m) = m else {
        return (None, HashSet::new());
    };
    let mut it = m.split(' ');
    let score = it.next().and_then(|s| s.parse::<f64>().ok());
    (
        score,
        it.filter(|s| !s.is_empty()).map(str::to_string).collect(),
    )
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

/// Reads the timing statistics of the hour and the day (and of the week when `week`) into the
/// cache.
async fn refresh_timing(
    repo: &Repository,
    h: &History,
    shared: bool,
    now: i64,
    week: bool,
) -> Result<(), ()> {
    if !shared {
        for w in Window::ALL {
            h.timing.set(w, h.timing.local_accs(w, now));
        }
        return Ok(());
    }
    let k = repo.keys();
    let hour: Vec<(&str, i64)> = Window::Hour.buckets(now);
    let long = if week { Window::Week } else { Window::Day }.buckets(now);
    let keys: Vec<String> = hour
        .iter()
        .chain(&long)
        .map(|(s, n)| k.dash_stats(s, *n))
        .collect();
    let hashes = repo.hashes(&keys).await.map_err(|_| ())?;
    let (h10, h60) = hashes.split_at(hour.len());
    let merge = |hs: &[HashMap<String, String>]| {
        let mut acc = HashMap::new();
        for x in hs {
            timing::merge_bucket(&mut acc, x);
        }
        acc
    };
    let day_from = long.len().saturating_sub(Window::Day.buckets(now).len());
    h.timing.set(Window::Hour, merge(h10));
    h.timing.set(Window::Day, merge(&h60[day_from..]));
    if week {
        h.timing.set(Window::Week, merge(h60));
    }
    Ok(())
}
