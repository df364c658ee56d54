//! Since when each problem has been seen, and the badges the lists show.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

use super::{Problem, Severity};

/// Remembers since when each problem has been seen, per instance.
///
/// Only the full evaluation ([`Tracker::stamp`]) starts and ends problems; a partial one (from
/// `/metrics`, which does not read the cron state) only looks ([`Tracker::look`]).
#[derive(Debug, Default)]
pub struct Tracker {
    seen: Mutex<HashMap<(usize, String), DateTime<Utc>>>,
    /// The problems of the last full evaluation, per instance (for the badges on lists).
    latest: Mutex<HashMap<usize, Vec<Problem>>>,
}

/// The problems that concern one queue or worker, for a badge: how many, the worst severity, and
/// their messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Badge {
    /// How many.
    pub count: usize,
    /// The worst severity.
    pub severity: Severity,
    /// Their messages, one a line.
    pub messages: String,
}

fn badges<'a>(problems: impl Iterator<Item = (&'a str, &'a Problem)>) -> HashMap<String, Badge> {
    let mut out: HashMap<String, Badge> = HashMap::new();
    for (name, p) in problems {
        let b = out.entry(name.to_string()).or_insert(Badge {
            count: 0,
            severity: p.severity,
            messages: String::new(),
        });
        b.count += 1;
        b.severity = b.severity.max(p.severity);
        if !b.messages.is_empty() {
            b.messages.push('\n');
        }
        b.messages.push_str(&p.shown());
    }
    out
}

impl Tracker {
    /// Stamps `problems` of instance `n` with when each was first seen, and forgets the ones
    /// that went away.
    pub fn stamp(&self, n: usize, problems: &mut [Problem], now: DateTime<Utc>) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let keys: Vec<String> = problems.iter().map(Problem::key).collect();
        seen.retain(|(i, k), _| *i != n || keys.contains(k));
        for (p, k) in problems.iter_mut().zip(keys) {
            p.since = Some(*seen.entry((n, k)).or_insert(now));
        }
        drop(seen);
        if let Ok(mut l) = self.latest.lock() {
            l.insert(n, problems.to_vec());
        }
    }

    /// Per queue of instance `n`, the badge of its problems as last evaluated.
    pub fn queue_badges(&self, n: usize) -> HashMap<String, Badge> {
        let Ok(l) = self.latest.lock() else {
            return HashMap::new();
        };
        let ps = l.get(&n).map(Vec::as_slice).unwrap_or(&[]);
        badges(ps.iter().filter_map(|p| p.queue.as_deref().map(|q| (q, p))))
    }

    /// Per worker of instance `n`, the badge of its problems as last evaluated.
    pub fn worker_badges(&self, n: usize) -> HashMap<String, Badge> {
        let Ok(l) = self.latest.lock() else {
            return HashMap::new();
        };
        let ps = l.get(&n).map(Vec::as_slice).unwrap_or(&[]);
        badges(
            ps.iter()
                .filter_map(|p| p.worker.as_deref().map(|w| (w, p))),
        )
    }

    /// Stamps `problems` with when each was first seen, without starting or ending any.
    pub fn look(&self, n: usize, problems: &mut [Problem], now: DateTime<Utc>) {
        let Ok(seen) = self.seen.lock() else {
            return;
        };
        for p in problems.iter_mut() {
            p.since = Some(seen.get(&(n, p.key())).copied().unwrap_or(now));
        }
    }
}
