//! RQ's cron (2.4+, `rq cron`): schedulers with their heartbeat and the cron jobs each runs, as
//! the scheduler hash describes them, and the jobs each cron job spawned.
//!
//! A scheduler saves its cron jobs as a JSON list in its hash; a broken or foreign value there
//! becomes a `problem` on the scheduler, never an error page.

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;

use super::{int, parse_timestamp, text, RawHash};

/// RQ judges a cron scheduler stale when its heartbeat is older than this (`CronScheduler.all`).
pub const STALE_AFTER_SECS: i64 = 120;

/// One `rq cron` process.
#[derive(Debug, Clone, Default)]
pub struct CronScheduler {
    /// `host:pid:hex`.
    pub name: String,
    /// Host it runs on.
    pub hostname: Option<String>,
    /// Its process id.
    pub pid: Option<i64>,
    /// The config file it loaded.
    pub config_file: Option<String>,
    /// When it started.
    pub created_at: Option<DateTime<Utc>>,
    /// Its last heartbeat (the score in `rq:cron_schedulers`).
    pub last_heartbeat: Option<DateTime<Utc>>,
    /// Whether its hash still exists (it expires 120 s after the last heartbeat).
    pub has_hash: bool,
    /// Its cron jobs.
    pub jobs: Vec<CronJob>,
    /// What was wrong with its hash (unreadable `cron_jobs`), if anything.
    pub problem: Option<String>,
}

impl CronScheduler {
    /// Builds a scheduler from its registry entry (name, heartbeat) and its hash.
    pub fn from_hash(name: &str, heartbeat: Option<DateTime<Utc>>, h: &RawHash) -> CronScheduler {
        let mut s = CronScheduler {
            name: name.to_string(),
            hostname: text(h, "hostname"),
            pid: int(h, "pid"),
            config_file: text(h, "config_file"),
            created_at: text(h, "created_at").and_then(|t| parse_timestamp(&t)),
            last_heartbeat: heartbeat,
            has_hash: !h.is_empty(),
            ..CronScheduler::default()
        };
        if h.is_empty() {
            s.problem = Some(
                "its hash has expired: RQ drops it 120 s after the last heartbeat, so its cron jobs are unknown"
                    .into(),
            );
        }
        if let Some(raw) = h.get("cron_jobs") {
            match serde_json::from_slice::<Value>(raw) {
                Ok(Value::Array(items)) => {
                    s.jobs = items.iter().map(|v| CronJob::from_json(v, name)).collect()
                }
                Ok(_) => s.problem = Some("its cron_jobs field is not a JSON list".into()),
                Err(e) => s.problem = Some(format!("its cron_jobs field is not valid JSON ({e})")),
            }
        }
        s
    }

    /// Whether RQ would call it alive at `now`: a heartbeat within the last 120 s.
    pub fn alive(&self, now: DateTime<Utc>) -> bool {
        self.last_heartbeat
            .is_some_and(|t| (now - t).num_seconds() <= STALE_AFTER_SECS)
    }
}

/// One cron job of a scheduler.
#[derive(Debug, Clone, Default)]
pub struct CronJob {
    /// Its name (unique per deployment; keys its run history).
    pub name: String,
    /// The function it enqueues.
    pub func_name: String,
    /// The queue it enqueues to.
    pub queue_name: String,
    /// A cron string, matched in UTC by RQ 2.x and in the scheduler host's local time by RQ 3.0.
    pub cron: Option<String>,
    /// Or an interval in seconds.
    pub interval: Option<f64>,
    /// When it next enqueues.
    pub next_enqueue_time: Option<DateTime<Utc>>,
    /// When it last enqueued.
    pub latest_enqueue_time: Option<DateTime<Utc>>,
    /// The scheduler that runs it.
    pub scheduler: String,
    /// Arguments as RQ saved them for display (JSON text).
    pub args: Option<String>,
    /// Keyword arguments as RQ saved them for display (JSON text).
    pub kwargs: Option<String>,
}

fn json_text(v: &Value, field: &str) -> Option<String> {
    match v.get(field)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl CronJob {
    /// Reads one entry of a scheduler's `cron_jobs` list; missing or odd fields stay empty.
    pub fn from_json(v: &Value, scheduler: &str) -> CronJob {
        let time = |f: &str| json_text(v, f).and_then(|t| parse_timestamp(&t));
        CronJob {
            name: json_text(v, "name").unwrap_or_default(),
            func_name: json_text(v, "func_name").unwrap_or_default(),
            queue_name: json_text(v, "queue_name").unwrap_or_default(),
            cron: json_text(v, "cron"),
            interval: v.get("interval").and_then(Value::as_f64),
            next_enqueue_time: time("next_enqueue_time"),
            latest_enqueue_time: time("latest_enqueue_time"),
            scheduler: scheduler.to_string(),
            args: json_text(v, "args"),
            kwargs: json_text(v, "kwargs"),
        }
    }

    /// How often it runs, in words ("every 30 s", "cron 0 * * * *").
    pub fn schedule(&self) -> String {
        match (&self.cron, self.interval) {
            (Some(c), _) => match parse_cron(c) {
                Some(cron) => format!("cron “{c}”: {}", cron.describe()),
                None => format!("cron “{c}” (not a cron string rqdash can read)"),
            },
            (None, Some(i)) => format!("every {}", human_interval(i)),
            (None, None) => "no schedule".into(),
        }
    }
}

/// An interval in words: "30 s", "5 min", "2 h" (English; pages say it in their language from
/// [`interval_parts`]).
fn human_interval(secs: f64) -> String {
    let (n, unit) = interval_parts(secs);
    format!("{n} {unit}")
}

/// An interval as a whole count of its largest exact unit: `(30, "s")`, `(5, "min")`,
/// `(2, "h")`, `(3, "d")` (a count of seconds when no larger unit divides it).
pub fn interval_parts(secs: f64) -> (i64, &'static str) {
    let s = secs.round() as i64;
    match s {
        s if s < 60 || s % 60 != 0 => (s, "s"),
        s if s < 3600 || s % 3600 != 0 => (s / 60, "min"),
        s if s < 86_400 || s % 86_400 != 0 => (s / 3600, "h"),
        s => (s / 86_400, "d"),
    }
}

/// A job a cron job enqueued.
#[derive(Debug, Clone)]
pub struct CronRun {
    /// The job id.
    pub id: String,
    /// When it was enqueued (the score in the cron job's history).
    pub enqueued_at: Option<DateTime<Utc>>,
    /// Its status now (`None` when its hash is gone).
    pub status: Option<super::JobStatus>,
}

/// A job of the separate `rq-scheduler` library (`rq:scheduler:scheduled_jobs`), as older
/// deployments schedule them: its next run, and the schedule its `meta` holds.
#[derive(Debug, Clone, Default)]
pub struct LegacyScheduledJob {
    /// The job id.
    pub id: String,
    /// When it runs next (its score).
    pub next_run: Option<DateTime<Utc>>,
    /// The job's description.
    pub description: Option<String>,
    /// Its queue.
    pub queue: Option<String>,
    /// `meta.interval`, seconds.
    pub interval: Option<f64>,
    /// `meta.cron_string`.
    pub cron: Option<String>,
    /// `meta.repeat`: runs left (`None`: forever).
    pub repeat: Option<i64>,
    /// Whether the job hash still exists.
    pub exists: bool,
}

impl LegacyScheduledJob {
    /// Reads the schedule from the job's decoded `meta` (a dict).
    pub fn with_meta(mut self, meta: &Value) -> LegacyScheduledJob {
        self.interval = meta.get("interval").and_then(Value::as_f64);
        self.cron = meta
            .get("cron_string")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.repeat = meta.get("repeat").and_then(Value::as_i64);
        self
    }

    /// Its schedule in words.
    pub fn schedule(&self) -> String {
        let base = match (&self.cron, self.interval) {
            (Some(c), _) => format!("cron “{c}”"),
            (None, Some(i)) => format!("every {}", human_interval(i)),
            (None, None) => "once".into(),
        };
        match self.repeat {
            Some(n) => format!("{base}, {n} more times"),
            None => base,
        }
    }
}

/// A cron job with what the dashboard knows of its runs.
#[derive(Debug, Clone)]
pub struct CronJobState {
    /// The job as its scheduler describes it (only the name when no scheduler does).
    pub job: CronJob,
    /// Whether a live scheduler runs it.
    pub scheduler_alive: bool,
    /// Jobs it enqueued, as recorded in its history (RQ keeps the newest 1,000).
    pub run_count: u64,
    /// The newest of them.
    pub runs: Vec<CronRun>,
    /// Its last enqueue as `rq:cron_jobs` records it (RQ 2.12+).
    pub last_recorded: Option<DateTime<Utc>>,
    /// Runs that should have happened (by its interval) but left no trace in its history.
    pub missed: u64,
    /// How many seconds its next run is overdue, when it is.
    pub late_secs: Option<i64>,
    /// For a cron string: the UTC offset its runs fit (RQ 2.x matches cron strings in UTC, 3.0
    /// in the scheduler host's local time, which RQ does not record), in seconds.
    pub utc_offset_secs: Option<i32>,
}

/// How long after a fire time its run may be recorded (RQ's cron loop ticks about once a
/// second, and a loaded scheduler can lag).
const FIRE_SLACK_SECS: i64 = 90;
/// The most fire times checked for missed runs (a day of a per-minute cron).
pub const MAX_FIRES: usize = 1_440;

/// Parses a cron string as RQ's croniter does (five fields; a sixth for seconds is accepted).
pub fn parse_cron(pattern: &str) -> Option<croner::Cron> {
    pattern.parse::<croner::Cron>().ok()
}

/// Whether a run enqueued at `t` is one of `cron`'s fires in the zone `offset`: its fire time
/// is the minute it happened in, or at most [`FIRE_SLACK_SECS`] before.
fn fits(cron: &croner::Cron, offset: FixedOffset, t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&offset);
    cron.find_previous_occurrence(&local, true)
        .is_ok_and(|fire| (local - fire).num_seconds() <= FIRE_SLACK_SECS)
}

/// The UTC offset (whole quarter hours from -12 h to +14 h) that most of `runs` fit, preferring
/// UTC on a tie; `None` without runs or when none fits.
pub fn infer_offset(cron: &croner::Cron, runs: &[DateTime<Utc>]) -> Option<i32> {
    let candidates = std::iter::once(0).chain((-48..=56).filter(|q| *q != 0).map(|q| q * 900));
    let mut best: Option<(usize, i32)> = None;
    for secs in candidates {
        let Some(offset) = FixedOffset::east_opt(secs) else {
            continue;
        };
        let n = runs.iter().filter(|t| fits(cron, offset, **t)).count();
        if n > 0 && best.is_none_or(|(b, _)| n > b) {
            best = Some((n, secs));
        }
    }
    best.map(|(_, secs)| secs)
}

/// `cron`'s fire times after `from` up to `to` (at most [`MAX_FIRES`]) that no run in `runs`
/// answers.
pub fn missed_fires(
    cron: &croner::Cron,
    offset: FixedOffset,
    runs: &[DateTime<Utc>],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> u64 {
    let start = from.max(to - chrono::Duration::hours(24));
    cron.iter_after(start.with_timezone(&offset))
        .take(MAX_FIRES)
        .map(|f| f.with_timezone(&Utc))
        .take_while(|f| *f <= to)
        .filter(|f| {
            !runs.iter().any(|r| {
                let d = (*r - *f).num_seconds();
                (-5..=FIRE_SLACK_SECS).contains(&d)
            })
        })
        .count() as u64
}

/// Grace before a due run counts as late: RQ's cron loop wakes at most once a minute.
const LATE_GRACE_SECS: i64 = 60;

impl CronJobState {
    /// Works out missed and late runs at `now` from the job's schedule and run times.
    pub fn assess(mut self, now: DateTime<Utc>) -> CronJobState {
        let mut times: Vec<DateTime<Utc>> =
            self.runs.iter().filter_map(|r| r.enqueued_at).collect();
        times.sort();
        if let Some(cron) = self.job.cron.as_deref().and_then(parse_cron) {
            let offset = infer_offset(&cron, &times).or_else(|| {
                // No run to go by: the next run RQ computed says which zone it uses.
                let next = self.job.next_enqueue_time?;
                infer_offset(&cron, &[next])
            });
            self.utc_offset_secs = offset;
            if let (Some(zone), Some(first)) =
                (offset.and_then(FixedOffset::east_opt), times.first())
            {
                let grace = chrono::Duration::seconds(LATE_GRACE_SECS);
                self.missed = missed_fires(&cron, zone, &times, *first, now - grace);
            }
        } else if let Some(interval) = self.job.interval.filter(|i| *i > 0.0) {
            // Between two recorded runs, every whole interval beyond the first (with half an
            // interval of slack) is a run that did not happen.
            self.missed = times
                .windows(2)
                .map(|w| {
                    let gap = (w[1] - w[0]).num_milliseconds() as f64 / 1000.0;
                    if gap > interval * 1.5 {
                        (gap / interval).round() as u64 - 1
                    } else {
                        0
                    }
                })
                .sum();
        }
        let grace = self
            .job
            .interval
            .map_or(LATE_GRACE_SECS, |i| LATE_GRACE_SECS.max((i / 2.0) as i64));
        self.late_secs = self
            .job
            .next_enqueue_time
            .map(|t| (now - t).num_seconds())
            .filter(|late| *late > grace);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(fields: &[(&str, &str)]) -> RawHash {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn a_scheduler_hash_with_its_jobs_parses() {
        let h = hash(&[
            ("hostname", "h1"),
            ("pid", "42"),
            ("created_at", "2026-12-01T01:00:00.000000Z"),
            ("config_file", "cron.py"),
            (
                "cron_jobs",
                r#"[{"func_name": "m.f", "name": "tick", "queue_name": "q", "args": null, "kwargs": null, "interval": 30, "cron": null, "latest_enqueue_time": "2026-12-01T01:00:30.000000Z", "next_enqueue_time": "2026-12-01T01:01:00.000000Z"}, {"func_name": "m.g", "name": "hourly", "queue_name": "q", "interval": null, "cron": "0 * * * *", "latest_enqueue_time": null, "next_enqueue_time": "2026-12-01T02:00:00.000000Z"}]"#,
            ),
        ]);
        let s = CronScheduler::from_hash("h1:42:ab", None, &h);
        assert_eq!(s.pid, Some(42));
        assert_eq!(s.jobs.len(), 2);
        assert_eq!(s.jobs[0].schedule(), "every 30 s");
        assert!(
            s.jobs[1].schedule().starts_with("cron “0 * * * *”: "),
            "{}",
            s.jobs[1].schedule()
        );
        assert_eq!(s.jobs[1].scheduler, "h1:42:ab");
        assert!(s.problem.is_none());
    }

    #[test]
    fn broken_cron_jobs_json_is_a_problem_not_a_failure() {
        for bad in ["{not json", "{\"a\": 1}", "[1, \"x\", null]"] {
            let s = CronScheduler::from_hash("n", None, &hash(&[("cron_jobs", bad)]));
            if bad.starts_with('[') {
                assert_eq!(s.jobs.len(), 3, "{bad}");
                assert!(s.jobs.iter().all(|j| j.name.is_empty()));
            } else {
                assert!(s.problem.is_some(), "{bad}");
            }
        }
    }

    #[test]
    fn liveness_follows_rqs_120_second_rule() {
        let now = Utc::now();
        let mut s = CronScheduler::default();
        assert!(!s.alive(now));
        s.last_heartbeat = Some(now - chrono::Duration::seconds(100));
        assert!(s.alive(now));
        s.last_heartbeat = Some(now - chrono::Duration::seconds(130));
        assert!(!s.alive(now));
    }

    #[test]
    fn gaps_between_runs_count_as_missed_and_an_old_next_run_as_late() {
        let t0 = Utc::now() - chrono::Duration::seconds(600);
        let at = |s: i64| CronRun {
            id: format!("j{s}"),
            enqueued_at: Some(t0 + chrono::Duration::seconds(s)),
            status: None,
        };
        let state = CronJobState {
            job: CronJob {
                interval: Some(10.0),
                next_enqueue_time: Some(t0 + chrono::Duration::seconds(60)),
                ..CronJob::default()
            },
            scheduler_alive: true,
            run_count: 4,
            // Runs at 0, 10, 50 (3 missed: 20, 30, 40) and 60.
            runs: vec![at(60), at(50), at(10), at(0)],
            last_recorded: None,
            missed: 0,
            late_secs: None,
            utc_offset_secs: None,
        }
        .assess(t0 + chrono::Duration::seconds(600));
        assert_eq!(state.missed, 3);
        assert_eq!(state.late_secs, Some(540));
        let on_time = CronJobState {
            job: CronJob {
                next_enqueue_time: Some(Utc::now() + chrono::Duration::seconds(5)),
                ..state.job.clone()
            },
            ..state
        }
        .assess(Utc::now());
        assert_eq!(on_time.late_secs, None);
    }

    #[test]
    fn cron_string_runs_reveal_their_zone_and_the_fires_they_missed() {
        let cron = parse_cron("0 * * * *").unwrap();
        let at = |h: u32, m: u32, s: u32| {
            DateTime::parse_from_rfc3339(&format!("2026-12-01T{h:02}:{m:02}:{s:02}Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        // Hourly on the hour, a second late each time: UTC fits; the 03:00 run is missing.
        let runs = [at(1, 0, 1), at(2, 0, 1), at(4, 0, 1)];
        assert_eq!(infer_offset(&cron, &runs), Some(0));
        let utc = FixedOffset::east_opt(0).unwrap();
        assert_eq!(missed_fires(&cron, utc, &runs, runs[0], at(4, 30, 0)), 1);
        // Runs at :30 past fit a half-hour zone (e.g. UTC+05:30) and none whole-hour.
        let runs = [at(1, 30, 2), at(2, 30, 2)];
        let secs = infer_offset(&cron, &runs).unwrap();
        assert_eq!(secs.rem_euclid(3600), 1800);
        // A job whose next run is every five minutes fits any zone: UTC wins the tie.
        let every5 = parse_cron("*/5 * * * *").unwrap();
        assert_eq!(infer_offset(&every5, &[at(1, 5, 0)]), Some(0));
        assert!(parse_cron("not a cron").is_none());
    }

    #[test]
    fn intervals_read_in_words() {
        assert_eq!(human_interval(30.0), "30 s");
        assert_eq!(human_interval(90.0), "90 s");
        assert_eq!(human_interval(300.0), "5 min");
        assert_eq!(human_interval(7200.0), "2 h");
    }
}
