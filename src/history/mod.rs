//! Count history and job timing statistics. RQ keeps neither, so rqdash records them.
//!
//! - [`History`]: per queue and in total, one point per minute for 48 hours and one per hour
//!   for 90 days (in Redis; a process keeps the 24 hours it draws per minute): jobs finished and failed in the interval
//!   (and of the failed attempts, how many RQ retries), and queued, started and the age of
//!   the oldest queued job at its last sample. Each process keeps the points it shows in memory
//!   ([`Store`]); with `--history redis` (the default) they are a mirror of what one replica at
//!   a time writes to Redis, so every replica draws the same charts and a restart loses none.
//! - [`recorder`]: the round that counts. Finished and failed come from the workers' own
//!   counters (`successful_job_count`, `failed_job_count`), their growth since the last round,
//!   including workers that stopped or were born and gone between rounds, so a window's total is
//!   what RQ did whatever RQ's cleanup removes. Per queue, a worker's growth goes to its queue,
//!   or for a worker of several queues to the queues its newly finished jobs came from.
//! - [`timing`]: runtime and wait percentiles per queue and function, from the jobs entering
//!   the finished and failed registries (a watermark per registry, bounded work per round).
//! - [`entries`]: what entered the finished and failed registries since the last round (the
//!   watermarks), for the statistics and the per-queue split.
//! - [`codec`]: the packed text the points are stored as in Redis.

pub mod codec;
pub mod entries;
pub mod recorder;
pub mod timing;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Minutes of per-minute points kept in Redis (48 hours).
pub const MINUTES: i64 = 48 * 60;
/// Minutes of per-minute points a process keeps in memory (24 hours: the longest range drawn
/// per minute).
pub const MINUTES_IN_MEMORY: i64 = 24 * 60;
/// Hours of hourly points kept (90 days).
pub const HOURS: i64 = 90 * 24;
/// How many queues get their own series, the first by name (the rest count in the totals only):
/// bounds the memory of each process and the keys in Redis.
pub const MAX_QUEUES: usize = 200;

/// One interval of one series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Point {
    /// Start of the interval, epoch seconds.
    pub t: i64,
    /// Jobs finished in the interval.
    pub finished: u64,
    /// Job attempts failed in the interval, retried ones included (the workers'
    /// `failed_job_count` counts every failed attempt).
    pub failed: u64,
    /// Of those, the attempts RQ retries (requeued or scheduled again, `Retry(max=…)`): they
    /// never enter the failed registry. `failed - retried` failed for good.
    pub retried: u64,
    /// Queued jobs at the last sample of the interval.
    pub queued: u64,
    /// Started jobs at the last sample of the interval.
    pub started: u64,
    /// Age of the oldest queued job at the last sample, in seconds.
    pub latency: u64,
}

/// Point spacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// One point per minute.
    Minute,
    /// One point per hour.
    Hour,
}

impl Resolution {
    /// Seconds per point.
    pub fn secs(self) -> i64 {
        match self {
            Resolution::Minute => 60,
            Resolution::Hour => 3600,
        }
    }

    /// The name `history.json` answers with.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Minute => "minute",
            Resolution::Hour => "hour",
        }
    }
}

/// A chart range: `1h`, `24h`, `7d` or `90d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The last hour, per minute.
    Hour,
    /// The last 24 hours, per minute.
    Day,
    /// The last 7 days, per hour.
    Week,
    /// The last 90 days, per hour.
    Quarter,
}

impl Range {
    /// Every range, shortest first.
    pub const ALL: [Range; 4] = [Range::Hour, Range::Day, Range::Week, Range::Quarter];

    /// Parses `1h`, `24h`, `7d`, `90d`.
    pub fn parse(s: &str) -> Option<Range> {
        Range::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Range::Hour => "1h",
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Quarter => "90d",
        }
    }

    /// Its length in seconds.
    pub fn secs(self) -> i64 {
        match self {
            Range::Hour => 3600,
            Range::Day => 86_400,
            Range::Week => 7 * 86_400,
            Range::Quarter => 90 * 86_400,
        }
    }

    /// The resolution its points have.
    pub fn resolution(self) -> Resolution {
        match self {
            Range::Hour | Range::Day => Resolution::Minute,
            Range::Week | Range::Quarter => Resolution::Hour,
        }
    }
}

/// What one round adds to one series: finished and failed since the last round, and the gauges
/// now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// Jobs finished since the last round.
    pub finished: u64,
    /// Job attempts failed since the last round, retried ones included.
    pub failed: u64,
    /// Of those, the attempts RQ retries.
    pub retried: u64,
    /// Queued jobs now.
    pub queued: u64,
    /// Started jobs now.
    pub started: u64,
    /// Age of the oldest queued job now, in seconds.
    pub latency: u64,
}

/// The points of one series.
#[derive(Debug, Default, Clone)]
pub struct Series {
    /// Epoch minute → point.
    pub minutes: BTreeMap<i64, Point>,
    /// Epoch hour → point.
    pub hours: BTreeMap<i64, Point>,
}

impl Series {
    /// Adds a sample taken at epoch second `now`, as the Redis script does.
    pub fn add(&mut self, now: i64, s: &Sample) {
        for (map, span) in [(&mut self.minutes, 60), (&mut self.hours, 3600)] {
            let k = now.div_euclid(span);
            let p = map.entry(k).or_insert(Point {
                t: k * span,
                ..Point::default()
            });
            p.finished += s.finished;
            p.failed += s.failed;
            p.retried += s.retried;
            p.queued = s.queued;
            p.started = s.started;
            p.latency = s.latency;
        }
    }

    fn prune(&mut self, now: i64) {
        let m = now.div_euclid(60) - MINUTES_IN_MEMORY;
        let h = now.div_euclid(3600) - HOURS;
        self.minutes = self.minutes.split_off(&m);
        self.hours = self.hours.split_off(&h);
    }

    fn newest(&self) -> i64 {
        self.hours.keys().next_back().map_or(0, |h| h * 3600)
    }
}

/// The points one process holds: the series `""` is the total, the others are queues.
#[derive(Debug, Default)]
pub struct Store {
    /// Series by queue name (`""`: all queues).
    pub series: HashMap<String, Series>,
}

impl Store {
    /// Adds one round's samples (memory mode), `""` being the total.
    pub fn add(&mut self, now: i64, samples: &[(String, Sample)]) {
        for (q, s) in samples {
            if !q.is_empty() && self.series.len() > MAX_QUEUES && !self.series.contains_key(q) {
                continue;
            }
            self.series.entry(q.clone()).or_default().add(now, s);
        }
        self.prune(now);
    }

    /// Replaces the points of series `q` within `[from, to)` (epoch seconds) of resolution `r`
    /// with `points` (mirroring Redis).
    pub fn replace(&mut self, q: &str, r: Resolution, from: i64, to: i64, points: Vec<Point>) {
        if !q.is_empty() && self.series.len() > MAX_QUEUES && !self.series.contains_key(q) {
            return;
        }
        let s = self.series.entry(q.to_string()).or_default();
        let map = match r {
            Resolution::Minute => &mut s.minutes,
            Resolution::Hour => &mut s.hours,
        };
        let span = r.secs();
        let (a, b) = (from.div_euclid(span), to.div_euclid(span));
        let keep_after = map.split_off(&b);
        map.retain(|k, _| *k < a);
        for p in points {
            map.insert(p.t.div_euclid(span), p);
        }
        map.extend(keep_after);
    }

    /// Forgets points past the kept windows, and queues silent for 90 days.
    pub fn prune(&mut self, now: i64) {
        for s in self.series.values_mut() {
            s.prune(now);
        }
        self.series
            .retain(|q, s| q.is_empty() || now - s.newest() < HOURS * 3600);
    }
}

/// Where the history is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// In Redis, shared by the replicas (`--history redis`).
    Redis,
    /// In this process only: chosen with `--history memory`.
    Memory,
    /// In this process only because Redis refused the writes (the reason is shown on the page).
    Fallback(String),
}

/// The history of one instance: the points this process shows and where they come from.
#[derive(Debug)]
pub struct History {
    store: Mutex<Store>,
    mode: Mutex<Mode>,
    /// The recorder's state (baselines, watermarks).
    pub recorder: recorder::Recorder,
    /// The timing statistics last read.
    pub timing: timing::Cache,
    /// Jobs finished and failed since the history began: `f:<queue>`, `x:<queue>` (`f:` and
    /// `x:` for all queues).
    totals: Mutex<HashMap<String, u64>>,
    totals_known: std::sync::atomic::AtomicBool,
}

impl History {
    /// A history kept in Redis (`shared`) or in this process only; `holder` names this
    /// process for the lease (host and port).
    pub fn new(shared: bool, holder: String) -> History {
        History {
            store: Mutex::new(Store::default()),
            mode: Mutex::new(if shared { Mode::Redis } else { Mode::Memory }),
            recorder: recorder::Recorder::new(holder),
            timing: timing::Cache::default(),
            totals: Mutex::new(HashMap::new()),
            totals_known: std::sync::atomic::AtomicBool::new(!shared),
        }
    }

    /// Replaces the running totals (read from Redis).
    pub fn set_totals(&self, t: HashMap<String, u64>) {
        if let Ok(mut g) = self.totals.lock() {
            *g = t;
        }
        self.totals_known
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Adds a round's samples to the running totals (memory mode).
    pub fn add_totals(&self, samples: &[(String, Sample)]) {
        if let Ok(mut g) = self.totals.lock() {
            for (q, s) in samples {
                *g.entry(format!("f:{q}")).or_default() += s.finished;
                *g.entry(format!("x:{q}")).or_default() += s.failed;
            }
        }
    }

    /// The running totals: (queue or `""`, finished, failed), sorted.
    pub fn totals(&self) -> Vec<(String, u64, u64)> {
        let Ok(g) = self.totals.lock() else {
            return Vec::new();
        };
        let mut out: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
        for (k, v) in g.iter() {
            if let Some(q) = k.strip_prefix("f:") {
                out.entry(q).or_default().0 = *v;
            } else if let Some(q) = k.strip_prefix("x:") {
                out.entry(q).or_default().1 = *v;
            }
        }
        out.into_iter()
            .map(|(q, (f, x))| (q.to_string(), f, x))
            .collect()
    }

    /// Where the history is kept now.
    pub fn mode(&self) -> Mode {
        self.mode.lock().map(|m| m.clone()).unwrap_or(Mode::Memory)
    }

    /// Tries Redis again after a fallback (a failover's read-only moment passes); the next
    /// refused write falls back again.
    pub fn retry_redis(&self) {
        if let Ok(mut m) = self.mode.lock() {
            if matches!(*m, Mode::Fallback(_)) {
                *m = Mode::Redis;
            }
        }
    }

    /// Whether the running totals were read (from Redis) or counted (in memory) yet.
    pub fn totals_known(&self) -> bool {
        self.totals_known.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Switches to this process's memory because Redis refused a write.
    pub fn fall_back(&self, reason: String) {
        if let Ok(mut m) = self.mode.lock() {
            if *m == Mode::Redis {
                tracing::warn!(%reason, "history falls back to this process's memory");
                *m = Mode::Fallback(reason);
            }
        }
    }

    /// Runs `f` on the points.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> Option<T> {
        self.store.lock().ok().map(|mut g| f(&mut g))
    }

    /// The points of a queue (`None`: the totals) over `range`, oldest first, ending now.
    pub fn points(&self, queue: Option<&str>, range: Range, now: i64) -> Vec<Point> {
        let r = range.resolution();
        let from = (now - range.secs()).div_euclid(r.secs()) + 1;
        self.with_store(|s| {
            s.series
                .get(queue.unwrap_or(""))
                .map(|s| {
                    let map = match r {
                        Resolution::Minute => &s.minutes,
                        Resolution::Hour => &s.hours,
                    };
                    map.range(from..).map(|(_, p)| *p).collect()
                })
                .unwrap_or_default()
        })
        .unwrap_or_default()
    }

    /// Per queue, its failures in the `recent` minutes before `minute` (inclusive), its failures
    /// in the `baseline` minutes before those, and how many of those baseline minutes the history
    /// covers: (queue, recent, baseline failures, baseline minutes covered).
    pub fn failure_windows(
        &self,
        minute: i64,
        recent: i64,
        baseline: i64,
    ) -> Vec<(String, u64, u64, i64)> {
        let split = minute - recent;
        let from = split - baseline;
        self.with_store(|g| {
            g.series
                .iter()
                .filter(|(q, _)| !q.is_empty())
                .filter_map(|(q, s)| {
                    let first = *s.minutes.keys().next()?;
                    let (mut r, mut b) = (0u64, 0u64);
                    for (m, p) in s.minutes.range(from + 1..=minute) {
                        if *m > split {
                            r += p.failed;
                        } else {
                            b += p.failed;
                        }
                    }
                    let covered = (split - first.max(from + 1) + 1).max(0);
                    Some((q.clone(), r, b, covered))
                })
                .collect()
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(finished: u64, failed: u64, queued: u64) -> Sample {
        Sample {
            finished,
            failed,
            queued,
            ..Sample::default()
        }
    }

    #[test]
    fn samples_add_up_per_minute_and_hour_and_gauges_keep_the_last() {
        let mut st = Store::default();
        st.add(60, &[("q".into(), s(10, 2, 6))]);
        st.add(90, &[("q".into(), s(5, 0, 8))]);
        st.add(120, &[("q".into(), s(1, 1, 7))]);
        let q = &st.series["q"];
        let m: Vec<_> = q
            .minutes
            .values()
            .map(|p| (p.t, p.finished, p.failed, p.queued))
            .collect();
        assert_eq!(m, vec![(60, 15, 2, 8), (120, 1, 1, 7)]);
        let h: Vec<_> = q
            .hours
            .values()
            .map(|p| (p.t, p.finished, p.queued))
            .collect();
        assert_eq!(h, vec![(0, 16, 7)]);
    }

    #[test]
    fn windows_are_bounded() {
        let mut st = Store::default();
        let mut now = 0;
        while now < (MINUTES_IN_MEMORY + 50) * 60 {
            st.add(now, &[(String::new(), s(1, 0, 0))]);
            now += 60;
        }
        let t = &st.series[""];
        assert_eq!(t.minutes.len(), MINUTES_IN_MEMORY as usize + 1);
        assert_eq!(
            t.minutes.values().map(|p| p.finished).sum::<u64>(),
            MINUTES_IN_MEMORY as u64 + 1
        );
    }

    #[test]
    fn replace_keeps_points_outside_the_span() {
        let mut st = Store::default();
        for t in [0, 60, 120, 180] {
            st.add(t, &[("q".into(), s(1, 0, 0))]);
        }
        let p = Point {
            t: 60,
            finished: 9,
            ..Point::default()
        };
        st.replace("q", Resolution::Minute, 60, 180, vec![p]);
        let m: Vec<_> = st.series["q"]
            .minutes
            .values()
            .map(|p| (p.t, p.finished))
            .collect();
        assert_eq!(m, vec![(0, 1), (60, 9), (180, 1)]);
    }
}
