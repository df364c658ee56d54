//! The health rules' thresholds and silences: their defaults, and the `--alert-rules` TOML file
//! that sets them (every key optional, unknown keys and rule names refused with the reason).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;

use super::{Problem, RULES};

/// Thresholds and silences.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// The oldest queued job may wait this long (seconds).
    pub oldest_queued_secs: i64,
    /// Per-queue overrides of `oldest_queued_secs`.
    pub oldest_queued_by_queue: HashMap<String, i64>,
    /// Used memory over this share of `maxmemory` is a problem.
    pub memory_ratio: f64,
    /// Rules turned off.
    pub disabled: Vec<String>,
    /// Rules turned off for one queue.
    pub disabled_by_queue: HashMap<String, Vec<String>>,
    /// Silences: a rule (for one queue or worker, until a time) kept quiet.
    pub silences: Vec<Silence>,
    /// A queue's failures over the last
    /// [`crate::failure_watch::RATE_WINDOW_MINUTES`] are a problem when more than this many
    /// times its baseline...
    pub failure_rate_factor: f64,
    /// ...and at least this many.
    pub failure_rate_min: u64,
    /// A new exception seen this many times within `burst_window_secs` is a burst.
    pub burst_min: u64,
    /// How long an exception counts as new.
    pub burst_window_secs: i64,
    /// How long a worker that is not busy may take no job while its queues grow.
    pub stalled_secs: i64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            oldest_queued_secs: 600,
            oldest_queued_by_queue: HashMap::new(),
            memory_ratio: 0.9,
            disabled: Vec::new(),
            disabled_by_queue: HashMap::new(),
            silences: Vec::new(),
            failure_rate_factor: 3.0,
            failure_rate_min: 10,
            burst_min: 5,
            burst_window_secs: 600,
            stalled_secs: 300,
        }
    }
}

/// A rule kept quiet, for one queue or worker when given, until a time when given.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    /// The rule.
    pub rule: String,
    /// Only for this queue.
    pub queue: Option<String>,
    /// Only for this worker.
    pub worker: Option<String>,
    /// Only until then.
    pub until: Option<DateTime<Utc>>,
}

/// The `--alert-rules` file (TOML); every key is optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    oldest_queued_secs: Option<i64>,
    memory_ratio: Option<f64>,
    failure_rate_factor: Option<f64>,
    failure_rate_min: Option<u64>,
    burst_min: Option<u64>,
    burst_window_secs: Option<i64>,
    stalled_secs: Option<i64>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    queues: HashMap<String, QueueRules>,
    #[serde(default)]
    silence: Vec<SilenceEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueRules {
    oldest_queued_secs: Option<i64>,
    #[serde(default)]
    disable: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SilenceEntry {
    rule: String,
    queue: Option<String>,
    worker: Option<String>,
    until: Option<String>,
}

fn known_rule(r: &str) -> Result<String, String> {
    if RULES.contains(&r) {
        Ok(r.to_string())
    } else {
        Err(format!(
            "unknown rule “{r}”: use one of {}",
            RULES.join(", ")
        ))
    }
}

impl Thresholds {
    /// Applies an `--alert-rules` file (TOML, see the README); a sentence on what is wrong.
    ///
    /// # Errors
    /// When the file is not TOML, has an unknown key or rule, or a value out of range.
    pub fn apply_toml(&mut self, text: &str) -> Result<(), String> {
        let f: RulesFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let positive = |v: Option<i64>, k: &str| -> Result<Option<i64>, String> {
            match v {
                Some(s) if s <= 0 => Err(format!("{k} must be a positive number of seconds")),
                v => Ok(v),
            }
        };
        let week = |v: Option<i64>, k: &str| -> Result<Option<i64>, String> {
            match positive(v, k)? {
                Some(s) if s > 7 * 24 * 3600 => Err(format!("{k} must be at most a week (604800)")),
                v => Ok(v),
            }
        };
        if let Some(v) = week(f.oldest_queued_secs, "oldest_queued_secs")? {
            self.oldest_queued_secs = v;
        }
        if let Some(v) = f.memory_ratio {
            if !(0.0..=1.0).contains(&v) || v == 0.0 {
                return Err("memory_ratio must be above 0 and at most 1".into());
            }
            self.memory_ratio = v;
        }
        if let Some(v) = f.failure_rate_factor {
            if !(v >= 1.0 && v.is_finite()) {
                return Err("failure_rate_factor must be at least 1".into());
            }
            self.failure_rate_factor = v;
        }
        if let Some(v) = f.failure_rate_min {
            self.failure_rate_min = v.max(1);
        }
        if let Some(v) = f.burst_min {
            self.burst_min = v.max(1);
        }
        if let Some(v) = week(f.burst_window_secs, "burst_window_secs")? {
            self.burst_window_secs = v;
        }
        if let Some(v) = week(f.stalled_secs, "stalled_secs")? {
            self.stalled_secs = v;
        }
        for r in &f.disable {
            self.disabled.push(known_rule(r)?);
        }
        for (q, rules) in f.queues {
            if let Some(v) = positive(rules.oldest_queued_secs, "oldest_queued_secs")? {
                self.oldest_queued_by_queue.insert(q.clone(), v);
            }
            let d = rules
                .disable
                .iter()
                .map(|r| known_rule(r))
                .collect::<Result<Vec<_>, _>>()?;
            self.disabled_by_queue.entry(q).or_default().extend(d);
        }
        for s in f.silence {
            let until = match &s.until {
                Some(u) => Some(
                    DateTime::parse_from_rfc3339(u)
                        .map_err(|e| format!("silence of {}: until “{u}” is not an RFC 3339 time like 2026-12-31T18:00:00Z: {e}", s.rule))?
                        .with_timezone(&Utc),
                ),
                None => None,
            };
            self.silences.push(Silence {
                rule: known_rule(&s.rule)?,
                queue: s.queue,
                worker: s.worker,
                until,
            });
        }
        Ok(())
    }

    /// Whether `p` is turned off or silenced at `now`.
    pub fn silenced(&self, p: &Problem, now: DateTime<Utc>) -> bool {
        self.disabled.iter().any(|d| d == p.rule)
            || p.queue.as_ref().is_some_and(|q| {
                self.disabled_by_queue
                    .get(q)
                    .is_some_and(|d| d.iter().any(|r| r == p.rule))
            })
            || self.silences.iter().any(|s| {
                s.rule == p.rule
                    && s.queue.as_ref().is_none_or(|q| p.queue.as_ref() == Some(q))
                    && s.worker
                        .as_ref()
                        .is_none_or(|w| p.worker.as_ref() == Some(w))
                    && s.until.is_none_or(|u| now < u)
            })
    }
}
