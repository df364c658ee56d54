//! What entered RQ's finished and failed registries since the last round: the watermark per
//! registry (`Mark`), the bounded reads of new entries, and what their jobs say (runtime,
//! wait, function, who ran them) for the timing statistics and the per-queue split of the
//! workers' counts. Part of a round of [`super::recorder`].

use std::collections::{HashMap, HashSet};

use super::timing::{self, JobTiming};
use crate::rq::model::{parse_timestamp, Overview, Registry};
use crate::rq::repository::history::{HistState, RegistryRead};
use crate::rq::Repository;

/// Registries read per round.
pub const REGISTRIES: usize = 100;
/// Entries read per registry per round (also how many of the newest a registry seen for the
/// first time contributes to the statistics).
pub const ENTRIES: usize = 500;
/// Job hashes read per round.
pub const MAX_JOBS: usize = 2000;
/// A registry seen for the first time with at most this many entries is read from its oldest.
const SMALL_REGISTRY: u64 = 2000;
/// A job's `data` longer than this is not read for its function name (its description is).
const MAX_DATA: usize = 64 * 1024;
/// Ids kept with a watermark (entries sharing its score).
const MARK_IDS: usize = 10_000;

/// What the registry reads remember from one round to the next (the recorder keeps it).
#[derive(Debug, Default)]
pub(super) struct Memory {
    /// Registry sizes at the last read.
    pub reg_size: HashMap<String, u64>,
    /// When each registry was last read, epoch seconds.
    pub reg_read: HashMap<String, i64>,
    /// (queue, function) pairs counted.
    pub pairs: HashSet<(String, String)>,
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

/// What a round learnt from the registries.
pub(super) struct Entries {
    /// New watermarks: registry key → mark.
    pub new_marks: Vec<(String, String)>,
    /// Registries read: key, size, whether more is left to read.
    pub done: Vec<(String, u64, bool)>,
    /// The jobs' timings.
    pub timings: Vec<JobTiming>,
    /// Jobs per worker name and queue, finished and failed, ended since the history began.
    pub by_worker: HashMap<String, HashMap<String, [u64; 2]>>,
}

/// Reads the new entries of the registries most in need (changed first, then the longest
/// unread) and the fields of their jobs. `Err` when Redis did not answer the registry reads; a
/// failed read of the jobs leaves the marks where they were and reports nothing.
pub(super) async fn read(
    repo: &Repository,
    mem: &mut Memory,
    ov: &Overview,
    state: &HistState,
    now: i64,
) -> Result<Entries, ()> {
    let k = repo.keys();
    let mut pending: Vec<(bool, i64, Pending)> = Vec::new();
    for q in &ov.queues {
        for (reg, failed, size) in [
            (Registry::Finished, false, q.finished),
            (Registry::Failed, true, q.failed),
        ] {
            let key = k.registry(reg, &q.name);
            let changed = mem.reg_size.get(&key) != Some(&size);
            let read_at = mem.reg_read.get(&key).copied().unwrap_or(0);
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
    let marks: Vec<Option<Mark>> = pending
        .iter()
        .map(
            |(_, _, p)| match state.marks.get(&p.key).and_then(|m| Mark::parse(m)) {
                Some(m) => Some(m),
                None if state.since.is_some() && p.size <= SMALL_REGISTRY => Some(Mark::default()),
                None => None,
            },
        )
        .collect();
    let reads: Vec<RegistryRead> = pending
        .iter()
        .zip(&marks)
        .map(|((_, _, p), m)| RegistryRead {
            key: p.key.clone(),
            from: m.as_ref().map(|m| (m.s, m.x)),
            tie: m.as_ref().is_some_and(|m| !m.ids.is_empty()),
        })
        .collect();
    let entries = repo
        .registry_entries(&reads, ENTRIES, MARK_IDS + ENTRIES)
        .await
        .map_err(|_| ())?;
    let mut jobs: Vec<(String, Seen)> = Vec::new();
    let mut new_marks: Vec<(String, String)> = Vec::new();
    let mut done: Vec<(String, u64, bool)> = Vec::new();
    for (((_, _, p), mark), (tie, newer)) in pending.iter().zip(&marks).zip(entries) {
        if jobs.len() >= MAX_JOBS {
            break;
        }
        let full = newer.len() >= ENTRIES || tie.len() >= MARK_IDS + ENTRIES;
        let seen_ids = mark.as_ref().map(|m| &m.ids);
        let fresh: Vec<&(String, f64)> = tie
            .iter()
            .filter(|(id, _)| !seen_ids.is_some_and(|ids| ids.contains(id)))
            .chain(newer.iter())
            .collect();
        if let Some(top) = fresh.iter().map(|e| e.1).reduce(f64::max) {
            let mut ids: HashSet<String> = fresh
                .iter()
                .filter(|e| e.1 == top)
                .map(|e| e.0.clone())
                .collect();
            if let Some(m) = mark.as_ref().filter(|m| m.s == top && !m.x) {
                ids.extend(m.ids.iter().cloned());
            }
            // More entries in one second than a mark keeps: later ones at that score are not
            // read (rather than read twice).
            let next = if ids.len() > MARK_IDS {
                Mark {
                    s: top,
                    x: true,
                    ids: HashSet::new(),
                }
            } else {
                Mark {
                    s: top,
                    x: false,
                    ids,
                }
            };
            new_marks.push((p.key.clone(), next.to_text()));
        } else if !state.marks.contains_key(&p.key) {
            // Empty: whatever comes later is new.
            new_marks.push((p.key.clone(), Mark::default().to_text()));
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
    let since = state.since.unwrap_or(now);
    let ids: Vec<String> = jobs.iter().map(|(id, _)| id.clone()).collect();
    let fields = if ids.is_empty() {
        Vec::new()
    } else {
        match repo.timing_fields(&ids, MAX_DATA).await {
            Ok(f) => f,
            Err(_) => {
                // The statistics wait for the next round (the marks stay); the counts go on.
                jobs.clear();
                new_marks.clear();
                done.clear();
                Vec::new()
            }
        }
    };
    let mut timings: Vec<JobTiming> = Vec::new();
    let mut by_worker: HashMap<String, HashMap<String, [u64; 2]>> = HashMap::new();
    for ((_, seen), f) in jobs.iter().zip(fields) {
        // A job whose hash is gone (deleted, or expired before RQ cleaned its entry) says
        // nothing: when it ended, who ran it.
        if f.iter().all(Option::is_none) {
            continue;
        }
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
        // What ended before the history began was counted by nobody and belongs to no
        // worker's growth.
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
            .get(5)
            .and_then(|v| v.as_deref())
            .and_then(|d| repo.func_name_of(d))
            .or_else(|| text(4).and_then(|d| func_of_description(&d)))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "(unknown)".to_string());
        // The statistics and `/metrics` are shared by every viewer: redacted for all of them.
        let func = match repo.blind().hides(Some(&seen.queue)) {
            Some(r) => r.text(&func).into_owned(),
            None => func,
        };
        let mut func: String = func.chars().take(timing::MAX_FUNC).collect();
        let pair = (seen.queue.clone(), func.clone());
        if !mem.pairs.contains(&pair) {
            if mem.pairs.len() >= timing::MAX_PAIRS {
                func = "(other)".to_string();
            } else {
                mem.pairs.insert(pair);
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

    Ok(Entries {
        new_marks,
        done,
        timings,
        by_worker,
    })
}

/// How far the statistics read a registry: the score `s` of the newest entry read, whether
/// entries at that score are all behind (`x`), and otherwise the ids read at that score (the
/// next read takes the whole tie and leaves these out). Stored as JSON.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Mark {
    s: f64,
    #[serde(default)]
    x: bool,
    #[serde(default)]
    ids: HashSet<String>,
}

impl Mark {
    fn parse(text: &str) -> Option<Mark> {
        serde_json::from_str(text)
            .ok()
            .filter(|m: &Mark| m.s.is_finite())
    }

    fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The function of a job whose `data` could not be read, from a description RQ wrote
/// (`module.func(args…)`); a description someone wrote (any other text) names no function.
fn func_of_description(d: &str) -> Option<String> {
    let (name, _) = d.split_once('(')?;
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    ok.then(|| name.to_string())
}
