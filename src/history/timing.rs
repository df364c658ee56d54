//! Job timing statistics per queue and function: how many ran and failed, runtime (started →
//! ended) and wait (enqueued → started) percentiles over the last hour, day and week (whole
//! buckets back to the one holding the window's start: the hour covers 60 to 70 minutes).
//!
//! Each job the recorder sees enter a finished or failed registry adds to two buckets, one of
//! ten minutes (kept 25 hours, for the 1-hour window) and one of an hour (kept 8 days, for the
//! day and the week), as counters in one Redis hash per bucket: `<queue>␟<function>␟<kind>`,
//! `kind` being `n` (jobs), `x` (failed), `rs`/`rn` (runtime sum in ms and samples), `ws`/`wn`
//! (the same for the wait) and `r<i>`/`w<i>` (histogram cells). Cells grow by 10% each, so a
//! percentile is within 5% of the truth; counters add up, so any replica may write and readers
//! merge buckets by adding.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Each histogram cell is this much wider than the one before.
pub const RATIO: f64 = 1.1;
/// The highest cell (1.1^400 ms is far beyond any job).
pub const MAX_CELL: u32 = 400;
/// Field separator in a bucket hash.
pub const SEP: char = '\u{1f}';
/// Function names are cut to this many characters.
pub const MAX_FUNC: usize = 200;
/// The longest duration counted, seconds (30 days).
pub const MAX_SECS: f64 = 30.0 * 86_400.0;
/// The most (queue, function) pairs counted per process; later ones count as `(other)`.
pub const MAX_PAIRS: usize = 2000;

/// The cell of a duration in seconds.
pub fn cell_of(secs: f64) -> u32 {
    let ms = secs * 1000.0;
    if ms.is_nan() || ms <= 1.0 {
        return 0;
    }
    ((ms.ln() / RATIO.ln()).ceil() as u32).min(MAX_CELL)
}

/// The value a cell stands for, in seconds (the geometric middle of its bounds).
pub fn value_of(cell: u32) -> f64 {
    if cell == 0 {
        return 0.0005;
    }
    RATIO.powf(f64::from(cell) - 0.5) / 1000.0
}

/// A statistics window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// The last hour (ten-minute buckets).
    Hour,
    /// The last 24 hours (hour buckets).
    Day,
    /// The last 7 days (hour buckets).
    Week,
}

impl Window {
    /// Every window.
    pub const ALL: [Window; 3] = [Window::Hour, Window::Day, Window::Week];

    /// Parses `1h`, `24h`, `7d`.
    pub fn parse(s: &str) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.as_str() == s)
    }

    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Hour => "1h",
            Window::Day => "24h",
            Window::Week => "7d",
        }
    }

    /// The buckets it reads at epoch second `now`: (span name, bucket number).
    pub fn buckets(self, now: i64) -> Vec<(&'static str, i64)> {
        let (span, secs, len) = match self {
            Window::Hour => ("10m", 600, 3600),
            Window::Day => ("1h", 3600, 86_400),
            Window::Week => ("1h", 3600, 7 * 86_400),
        };
        ((now - len).div_euclid(secs)..=now.div_euclid(secs))
            .map(|n| (span, n))
            .collect()
    }
}

/// One job as the statistics see it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobTiming {
    /// Its queue.
    pub queue: String,
    /// Its function.
    pub func: String,
    /// Whether it failed.
    pub failed: bool,
    /// When it ended (or was seen), epoch seconds.
    pub ended: i64,
    /// Started → ended, seconds.
    pub runtime: Option<f64>,
    /// Enqueued → started, seconds.
    pub wait: Option<f64>,
}

/// Bucket lifetimes, seconds: ten-minute and hour buckets.
pub const TTL_10M: i64 = 25 * 3600;
/// See [`TTL_10M`].
pub const TTL_1H: i64 = 8 * 86_400;

/// The counter increments of `jobs`: (span, bucket number, field) → increment.
pub fn increments(jobs: &[JobTiming]) -> BTreeMap<(&'static str, i64, String), u64> {
    let mut out = BTreeMap::new();
    for j in jobs {
        let pair = format!("{}{SEP}{}{SEP}", j.queue, j.func);
        let mut fields = vec![("n".to_string(), 1u64)];
        if j.failed {
            fields.push(("x".into(), 1));
        }
        // Beyond 30 days a duration is bad data (odd timestamps), not a job.
        let sane = |v: &f64| v.is_finite() && (0.0..=MAX_SECS).contains(v);
        if let Some(r) = j.runtime.filter(sane) {
            fields.push(("rs".into(), (r * 1000.0).round() as u64));
            fields.push(("rn".into(), 1));
            fields.push((format!("r{}", cell_of(r)), 1));
        }
        if let Some(w) = j.wait.filter(sane) {
            fields.push(("ws".into(), (w * 1000.0).round() as u64));
            fields.push(("wn".into(), 1));
            fields.push((format!("w{}", cell_of(w)), 1));
        }
        for (span, secs) in [("10m", 600), ("1h", 3600)] {
            for (f, n) in &fields {
                *out.entry((span, j.ended.div_euclid(secs), format!("{pair}{f}")))
                    .or_insert(0) += n;
            }
        }
    }
    out
}

/// Counts of one (queue, function) pair over a window.
#[derive(Debug, Clone, Default)]
pub struct Acc {
    /// Jobs.
    pub count: u64,
    /// Failed jobs.
    pub failed: u64,
    /// Runtime: sum in ms, samples, cells.
    pub runtime: (u64, u64, BTreeMap<u32, u64>),
    /// Wait: sum in ms, samples, cells.
    pub wait: (u64, u64, BTreeMap<u32, u64>),
}

impl Acc {
    fn merge(&mut self, o: &Acc) {
        self.count += o.count;
        self.failed += o.failed;
        for (a, b) in [(&mut self.runtime, &o.runtime), (&mut self.wait, &o.wait)] {
            a.0 += b.0;
            a.1 += b.1;
            for (c, n) in &b.2 {
                *a.2.entry(*c).or_insert(0) += n;
            }
        }
    }
}

/// The `q`-quantile (0–1) of a histogram, seconds; `None` without samples.
pub fn quantile(cells: &BTreeMap<u32, u64>, q: f64) -> Option<f64> {
    let total: u64 = cells.values().sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (c, n) in cells {
        seen += n;
        if seen >= rank {
            return Some(value_of(*c));
        }
    }
    None
}

/// Adds the counters of a bucket hash into `into`, per (queue, function).
pub fn merge_bucket(into: &mut HashMap<(String, String), Acc>, hash: &HashMap<String, String>) {
    for (field, v) in hash {
        let mut parts = field.rsplitn(2, SEP);
        let (Some(kind), Some(pair)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some((q, f)) = pair.split_once(SEP) else {
            continue;
        };
        let n: u64 = v.trim().parse().unwrap_or(0);
        let acc = into.entry((q.to_string(), f.to_string())).or_default();
        match kind {
            "n" => acc.count += n,
            "x" => acc.failed += n,
            "rs" => acc.runtime.0 += n,
            "rn" => acc.runtime.1 += n,
            "ws" => acc.wait.0 += n,
            "wn" => acc.wait.1 += n,
            k => {
                let (h, c) = if let Some(c) = k.strip_prefix('r') {
                    (&mut acc.runtime.2, c)
                } else if let Some(c) = k.strip_prefix('w') {
                    (&mut acc.wait.2, c)
                } else {
                    continue;
                };
                if let Ok(c) = c.parse::<u32>() {
                    *h.entry(c.min(MAX_CELL)).or_insert(0) += n;
                }
            }
        }
    }
}

/// One row of the functions table and of `stats.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// The queue (when the rows are of one queue), or `null` (all queues merged).
    pub queue: Option<String>,
    /// The function.
    pub func_name: String,
    /// Jobs that finished or failed in the window.
    pub count: u64,
    /// Of those, failed.
    pub failed: u64,
    /// Runtime percentiles, seconds.
    pub runtime_p50_s: Option<f64>,
    /// 95th percentile.
    pub runtime_p95_s: Option<f64>,
    /// 99th percentile.
    pub runtime_p99_s: Option<f64>,
    /// Mean runtime, seconds.
    pub runtime_mean_s: Option<f64>,
    /// Wait percentiles, seconds.
    pub wait_p50_s: Option<f64>,
    /// 95th percentile.
    pub wait_p95_s: Option<f64>,
}

impl Row {
    fn of(queue: Option<String>, func: String, a: &Acc) -> Row {
        let round = |v: Option<f64>| v.map(|v| (v * 10_000.0).round() / 10_000.0);
        Row {
            queue,
            func_name: func,
            count: a.count,
            failed: a.failed,
            runtime_p50_s: round(quantile(&a.runtime.2, 0.5)),
            runtime_p95_s: round(quantile(&a.runtime.2, 0.95)),
            runtime_p99_s: round(quantile(&a.runtime.2, 0.99)),
            runtime_mean_s: round(
                (a.runtime.1 > 0).then(|| a.runtime.0 as f64 / 1000.0 / a.runtime.1 as f64),
            ),
            wait_p50_s: round(quantile(&a.wait.2, 0.5)),
            wait_p95_s: round(quantile(&a.wait.2, 0.95)),
        }
    }

    /// Failed share, 0–1.
    pub fn failure_ratio(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.failed as f64 / self.count as f64
        }
    }
}

/// Rows of one queue (`Some`), or of all queues merged per function (`None`), busiest first.
pub fn rows(accs: &HashMap<(String, String), Acc>, queue: Option<&str>) -> Vec<Row> {
    let mut out: Vec<Row> = match queue {
        Some(q) => accs
            .iter()
            .filter(|((aq, _), _)| aq == q)
            .map(|((aq, f), a)| Row::of(Some(aq.clone()), f.clone(), a))
            .collect(),
        None => {
            let mut by: HashMap<&str, Acc> = HashMap::new();
            for ((_, f), a) in accs {
                by.entry(f).or_default().merge(a);
            }
            by.into_iter()
                .map(|(f, a)| Row::of(None, f.to_string(), &a))
                .collect()
        }
    };
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.func_name.cmp(&b.func_name)));
    out
}

/// Counters per (queue, function).
pub type Accs = HashMap<(String, String), Acc>;
/// A bucket: its span (`10m`, `1h`) and number since the epoch.
pub type BucketId = (&'static str, i64);
/// A bucket's hash: field → count.
pub type BucketHash = HashMap<String, String>;
/// Bucket hashes by bucket.
pub type Buckets = HashMap<BucketId, BucketHash>;

/// The statistics one process shows: per window, the merged counters last read, the buckets
/// read from Redis with when they were read (and, without Redis, the buckets themselves).
#[derive(Debug, Default)]
pub struct Cache {
    read: Mutex<HashMap<Window, Accs>>,
    buckets: Mutex<HashMap<BucketId, (i64, BucketHash)>>,
    /// Buckets kept in memory when the history is not in Redis: key → field → count.
    pub local: Mutex<Buckets>,
}

impl Cache {
    /// When each bucket kept was read.
    pub fn cached_buckets(&self) -> HashMap<(&'static str, i64), i64> {
        self.buckets
            .lock()
            .map(|g| g.iter().map(|(k, (at, _))| (*k, *at)).collect())
            .unwrap_or_default()
    }

    /// Keeps buckets just read (at `now`), forgetting those no window still needs.
    pub fn store_buckets(
        &self,
        read: Vec<(BucketId, BucketHash)>,
        wanted: &[(&'static str, i64)],
        now: i64,
    ) {
        if let Ok(mut g) = self.buckets.lock() {
            for (b, hash) in read {
                g.insert(b, (now, hash));
            }
            g.retain(|b, _| wanted.contains(b));
        }
    }

    /// The kept buckets among `buckets`, merged.
    pub fn merged(&self, buckets: &[(&'static str, i64)]) -> Accs {
        let mut out = HashMap::new();
        if let Ok(g) = self.buckets.lock() {
            for b in buckets {
                if let Some((_, h)) = g.get(b) {
                    merge_bucket(&mut out, h);
                }
            }
        }
        out
    }

    /// Stores what was read for `w`.
    pub fn set(&self, w: Window, accs: HashMap<(String, String), Acc>) {
        if let Ok(mut g) = self.read.lock() {
            g.insert(w, accs);
        }
    }

    /// The rows of window `w` for one queue or all.
    pub fn rows(&self, w: Window, queue: Option<&str>) -> Vec<Row> {
        self.read
            .lock()
            .ok()
            .and_then(|g| g.get(&w).map(|a| rows(a, queue)))
            .unwrap_or_default()
    }

    /// The rows of window `w`, one per (queue, function).
    pub fn rows_per_queue(&self, w: Window) -> Vec<Row> {
        self.read
            .lock()
            .ok()
            .and_then(|g| {
                g.get(&w).map(|a| {
                    a.iter()
                        .map(|((q, f), acc)| Row::of(Some(q.clone()), f.clone(), acc))
                        .collect()
                })
            })
            .unwrap_or_default()
    }

    /// Adds increments to the in-memory buckets, dropping those past a week.
    pub fn add_local(&self, incr: &BTreeMap<(&'static str, i64, String), u64>, now: i64) {
        let Ok(mut g) = self.local.lock() else { return };
        for ((span, n, field), v) in incr {
            let e = g
                .entry((span, *n))
                .or_default()
                .entry(field.clone())
                .or_default();
            let cur: u64 = e.parse().unwrap_or(0);
            *e = (cur + v).to_string();
        }
        g.retain(|(span, n), _| {
            let secs = if *span == "10m" { 600 } else { 3600 };
            (n + 1) * secs + if *span == "10m" { TTL_10M } else { TTL_1H } > now
        });
    }

    /// The in-memory buckets of `w` merged.
    pub fn local_accs(&self, w: Window, now: i64) -> HashMap<(String, String), Acc> {
        let mut out = HashMap::new();
        if let Ok(g) = self.local.lock() {
            for b in w.buckets(now) {
                if let Some(h) = g.get(&b) {
                    merge_bucket(&mut out, h);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_within_five_percent() {
        for secs in [0.002, 0.05, 0.3, 1.0, 2.5, 61.0, 3600.0] {
            let v = value_of(cell_of(secs));
            assert!((v / secs - 1.0).abs() <= 0.05, "{secs} → {v}");
        }
        assert_eq!(cell_of(0.0), 0);
        assert_eq!(cell_of(f64::NAN), 0);
        assert_eq!(cell_of(1e300), MAX_CELL);
    }

    #[test]
    fn increments_merge_back_into_percentiles() {
        let jobs: Vec<JobTiming> = (1..=100)
            .map(|i| JobTiming {
                queue: "q".into(),
                func: "m.f".into(),
                failed: i % 10 == 0,
                ended: 7200 + i,
                runtime: Some(f64::from(i as u32) / 10.0),
                wait: Some(1.0),
            })
            .collect();
        let incr = increments(&jobs);
        let mut hash: HashMap<String, String> = HashMap::new();
        for ((span, _, f), n) in &incr {
            if *span == "1h" {
                hash.insert(f.clone(), n.to_string());
            }
        }
        let mut accs = HashMap::new();
        merge_bucket(&mut accs, &hash);
        let r = rows(&accs, Some("q"));
        assert_eq!((r[0].count, r[0].failed), (100, 10));
        let p50 = r[0].runtime_p50_s.unwrap();
        let p99 = r[0].runtime_p99_s.unwrap();
        assert!((p50 / 5.0 - 1.0).abs() <= 0.05, "p50 {p50}");
        assert!((p99 / 9.9 - 1.0).abs() <= 0.05, "p99 {p99}");
        assert!((r[0].wait_p50_s.unwrap() - 1.0).abs() <= 0.05);
        assert!((r[0].runtime_mean_s.unwrap() - 5.05).abs() < 0.01);
        assert!(rows(&accs, Some("other")).is_empty());
        assert_eq!(rows(&accs, None)[0].queue, None);
    }

    #[test]
    fn windows_cover_their_length() {
        // Whole buckets back to the one holding `now - length`: 60–70 minutes for the hour.
        assert_eq!(Window::Hour.buckets(36_000).len(), 7);
        assert_eq!(Window::Day.buckets(36_000).len(), 25);
        assert_eq!(Window::Week.buckets(36_001).len(), 169);
    }
}
