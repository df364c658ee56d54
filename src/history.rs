//! Count history: RQ keeps none, so rqdash samples the shared snapshot every poll interval into a
//! bounded in-memory ring of one point per minute over 24 hours, per queue and in total (drawn by
//! [`crate::views::charts`]).
//!
//! Throughput is derived from registry deltas: finished (or failed) per minute is how much the
//! registry grew. RQ's own cleanup removes expired entries, so a minute in which both happen
//! shows the net growth: the numbers are a lower bound, said so on the page.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::rq::model::Overview;

/// How many one-minute points are kept (24 hours).
pub const POINTS: usize = 24 * 60;
/// How many queues get their own series (the rest count in the totals only).
pub const MAX_QUEUES: usize = 1000;

/// One minute of one series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Point {
    /// Epoch minute.
    pub minute: i64,
    /// Queued jobs at the last sample of the minute.
    pub queued: u32,
    /// Finished-registry growth during the minute.
    pub finished: u32,
    /// Failed-registry growth during the minute.
    pub failed: u32,
    /// Age of the oldest queued job at the last sample, in seconds.
    pub latency: u32,
}

#[derive(Debug, Default)]
struct Series {
    points: VecDeque<Point>,
    /// Registry sizes at the previous sample: (finished, failed).
    last: Option<(u64, u64)>,
}

impl Series {
    fn record(&mut self, minute: i64, queued: u64, finished: u64, failed: u64, latency: u64) {
        let (df, dx) = match self.last {
            Some((f, x)) => (finished.saturating_sub(f), failed.saturating_sub(x)),
            None => (0, 0),
        };
        self.last = Some((finished, failed));
        let clamp = |v: u64| v.min(u32::MAX as u64) as u32;
        match self.points.back_mut() {
            Some(p) if p.minute == minute => {
                p.queued = clamp(queued);
                p.latency = clamp(latency);
                p.finished = p.finished.saturating_add(clamp(df));
                p.failed = p.failed.saturating_add(clamp(dx));
            }
            _ => {
                self.points.push_back(Point {
                    minute,
                    queued: clamp(queued),
                    finished: clamp(df),
                    failed: clamp(dx),
                    latency: clamp(latency),
                });
                while self.points.len() > POINTS {
                    self.points.pop_front();
                }
            }
        }
    }
}

/// The history of one instance.
#[derive(Debug, Default)]
pub struct History {
    inner: Mutex<(Series, HashMap<String, Series>)>,
}

impl History {
    /// Adds one sample.
    pub fn record(&self, o: &Overview) {
        let now = o.fetched_at;
        let minute = now.timestamp().div_euclid(60);
        let age = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map_or(0, |t| (now - t).num_seconds().max(0) as u64)
        };
        let Ok(mut g) = self.inner.lock() else { return };
        let t = o.totals();
        g.0.record(
            minute,
            t.queued,
            t.finished,
            t.failed,
            age(t.oldest_enqueued_at),
        );
        for q in &o.queues {
            if g.1.len() >= MAX_QUEUES && !g.1.contains_key(&q.name) {
                continue;
            }
            g.1.entry(q.name.clone()).or_default().record(
                minute,
                q.queued,
                q.finished,
                q.failed,
                age(q.oldest_enqueued_at),
            );
        }
        // Forget queues not seen for a day.
        g.1.retain(|_, s| {
            s.points
                .back()
                .is_some_and(|p| minute - p.minute < POINTS as i64)
        });
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
        let Ok(g) = self.inner.lock() else {
            return Vec::new();
        };
        let split = minute - recent;
        let from = split - baseline;
        g.1.iter()
            .filter_map(|(q, s)| {
                let first = s.points.front()?.minute;
                let (mut r, mut b) = (0u64, 0u64);
                for p in s.points.iter().rev().take_while(|p| p.minute > from) {
                    if p.minute > split {
                        r += u64::from(p.failed);
                    } else {
                        b += u64::from(p.failed);
                    }
                }
                let covered = (split - first.max(from + 1) + 1).max(0);
                Some((q.clone(), r, b, covered))
            })
            .collect()
    }

    /// The points of a queue (`None`: the totals).
    pub fn points(&self, queue: Option<&str>) -> Vec<Point> {
        let Ok(g) = self.inner.lock() else {
            return Vec::new();
        };
        let s = match queue {
            None => Some(&g.0),
            Some(q) => g.1.get(q),
        };
        s.map(|s| s.points.iter().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_accumulate_per_minute_and_never_go_negative() {
        let mut s = Series::default();
        s.record(1, 5, 100, 10, 3);
        s.record(1, 6, 110, 12, 4);
        s.record(2, 7, 105, 12, 5); // cleanup shrank the registry: counted as 0, not -5
        s.record(2, 8, 120, 13, 6);
        let p: Vec<Point> = s.points.iter().copied().collect();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].finished, p[0].failed, p[0].queued), (10, 2, 6));
        assert_eq!((p[1].finished, p[1].failed, p[1].queued), (15, 1, 8));
    }

    #[test]
    fn the_ring_is_bounded() {
        let mut s = Series::default();
        for m in 0..(POINTS as i64 + 50) {
            s.record(m, 1, 1, 1, 1);
        }
        assert_eq!(s.points.len(), POINTS);
        assert_eq!(s.points.front().unwrap().minute, 50);
    }
}
