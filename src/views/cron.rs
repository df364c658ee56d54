//! The cron page (`/<n>/view/cron`, RQ 2.4+): every cron scheduler with its heartbeat, and every
//! cron job with its schedule, next and latest run, its runs newest first, and what went wrong
//! (missed or late runs, a stale scheduler, unreadable data).

use crate::i18n;
use askama::Template;
use chrono::{DateTime, Utc};

use super::format::{plural, time_cell, TimeCell};
use super::jobs::status_of;
use super::layout::Layout;
use super::urls::Urls;
use crate::rq::model::cron::{
    interval_parts, parse_cron, CronJob, CronJobState, CronScheduler, LegacyScheduledJob,
};
use crate::rq::model::Registry;
use crate::rq::repository::cron::CronOverview;

/// How many runs of each cron job the page shows.
pub const RUNS_SHOWN: usize = 10;

/// A scheduler for display.
#[derive(Debug, Clone)]
pub struct SchedulerRow {
    /// Its name.
    pub name: String,
    /// Host.
    pub hostname: String,
    /// Pid.
    pub pid: String,
    /// Config file.
    pub config_file: String,
    /// Started.
    pub created: Option<TimeCell>,
    /// Last heartbeat.
    pub heartbeat: Option<TimeCell>,
    /// Alive as RQ judges it (heartbeat within 120 s).
    pub alive: bool,
    /// How many cron jobs it runs, in words.
    pub jobs: String,
    /// What is wrong with its data.
    pub problem: Option<String>,
}

/// A run of a cron job.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// Job id.
    pub id: String,
    /// Its page.
    pub url: String,
    /// Status (`expired` when the hash is gone).
    pub status: String,
    /// Status CSS token.
    pub status_css: &'static str,
    /// When it was enqueued.
    pub enqueued: Option<TimeCell>,
    /// What its mark says to a pointer's tooltip and a screen reader: id, status, when.
    pub label: String,
}

/// A cron job for display.
#[derive(Debug, Clone)]
pub struct CronJobRow {
    /// Name.
    pub name: String,
    /// Function.
    pub func_name: String,
    /// Queue and its list.
    pub queue: Option<(String, String)>,
    /// Schedule in words.
    pub schedule: String,
    /// For a cron string: in which UTC offset its run times say its scheduler reads it.
    pub zone_note: Option<String>,
    /// Next run.
    pub next: Option<TimeCell>,
    /// Latest run.
    pub latest: Option<TimeCell>,
    /// Its scheduler.
    pub scheduler: String,
    /// Whether that scheduler is alive.
    pub scheduler_alive: bool,
    /// Recorded runs, in words.
    pub run_count: String,
    /// The newest runs.
    pub runs: Vec<RunRow>,
    /// Problems in words (missed runs, late, no live scheduler).
    pub problems: Vec<String>,
}

/// An interval in the current language: "15 s", "5 min" ("15 秒", "5 分钟").
pub fn interval_text(secs: f64) -> String {
    let (n, unit) = interval_parts(secs);
    i18n::tf(&format!("time.{unit}"), &[("n", &n)])
}

/// How often a cron job runs, in the current language: "every 15 s", "cron “0 * * * *”: …".
pub fn schedule_text(job: &CronJob) -> String {
    match (&job.cron, job.interval) {
        (Some(c), _) => match parse_cron(c) {
            Some(cron) => i18n::tf(
                "cron.cron_string",
                &[("cron", c), ("described", &cron.describe())],
            ),
            None => i18n::tf("cron.cron_unreadable", &[("cron", c)]),
        },
        (None, Some(i)) => i18n::tf("cron.every", &[("d", &interval_text(i))]),
        (None, None) => i18n::t("cron.no_schedule").into(),
    }
}

/// The schedule of an `rq-scheduler` job in the current language: "every 5 min, 3 more times".
pub fn legacy_schedule_text(job: &LegacyScheduledJob) -> String {
    let base = match (&job.cron, job.interval) {
        (Some(c), _) => i18n::tf("cron.cron_plain", &[("cron", c)]),
        (None, Some(i)) => i18n::tf("cron.every", &[("d", &interval_text(i))]),
        (None, None) => i18n::t("cron.once").into(),
    };
    match job.repeat {
        Some(n) => i18n::tf("cron.more_times", &[("schedule", &base), ("n", &n)]),
        None => base,
    }
}

/// "UTC", "UTC+05:30", "UTC-08:00".
pub fn utc_offset(secs: i32) -> String {
    if secs == 0 {
        return "UTC".into();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// Builds the rows of a scheduler.
pub fn scheduler_row(s: &CronScheduler, now: DateTime<Utc>) -> SchedulerRow {
    SchedulerRow {
        name: s.name.clone(),
        hostname: s.hostname.clone().unwrap_or_default(),
        pid: s.pid.map(|p| p.to_string()).unwrap_or_default(),
        config_file: s.config_file.clone().unwrap_or_default(),
        created: time_cell(s.created_at, now),
        heartbeat: time_cell(s.last_heartbeat, now),
        alive: s.alive(now),
        jobs: plural(s.jobs.len() as u64, "cron job", "cron jobs"),
        problem: s.problem.clone(),
    }
}

/// Builds the row of a cron job.
pub fn job_row(j: &CronJobState, urls: &Urls, now: DateTime<Utc>) -> CronJobRow {
    let mut problems = Vec::new();
    if j.job.scheduler.is_empty() {
        problems.push(i18n::t("cron.no_scheduler_describes").into());
    } else if !j.scheduler_alive {
        problems.push(i18n::tf(
            "cron.scheduler_stale",
            &[("scheduler", &j.job.scheduler)],
        ));
    }
    if j.missed > 0 {
        problems.push(i18n::tf(
            "cron.missed",
            &[("runs", &plural(j.missed, "missed run", "missed runs"))],
        ));
    }
    if let Some(late) = j.late_secs {
        problems.push(i18n::tf(
            "cron.late",
            &[("d", &super::format::human_secs(late))],
        ));
    }
    CronJobRow {
        name: j.job.name.clone(),
        func_name: j.job.func_name.clone(),
        queue: (!j.job.queue_name.is_empty()).then(|| {
            (
                j.job.queue_name.clone(),
                urls.jobs_default(&j.job.queue_name, Registry::Queued),
            )
        }),
        schedule: schedule_text(&j.job),
        zone_note: j
            .utc_offset_secs
            .map(|secs| i18n::tf("cron.runs_fit", &[("offset", &utc_offset(secs))])),
        next: time_cell(j.job.next_enqueue_time, now),
        latest: time_cell(j.job.latest_enqueue_time.or(j.last_recorded), now),
        scheduler: j.job.scheduler.clone(),
        scheduler_alive: j.scheduler_alive,
        run_count: plural(j.run_count, "run recorded", "runs recorded"),
        runs: j
            .runs
            .iter()
            .take(RUNS_SHOWN)
            .map(|r| {
                let (status, status_css) = match &r.status {
                    Some(_) => status_of(&r.status),
                    None => ("expired".to_string(), "missing"),
                };
                let enqueued = time_cell(r.enqueued_at, now);
                let label = i18n::tf(
                    "cron.run_label",
                    &[
                        ("id", &r.id),
                        ("status", &i18n::status(&status)),
                        ("time", &enqueued.as_ref().map_or("–", |t| t.rel.as_str())),
                    ],
                );
                RunRow {
                    id: r.id.clone(),
                    url: urls.job(&r.id),
                    status,
                    status_css,
                    enqueued,
                    label,
                }
            })
            .collect(),
        problems,
    }
}

/// A job of the separate `rq-scheduler` library.
#[derive(Debug, Clone)]
pub struct LegacyRow {
    /// Job id.
    pub id: String,
    /// Its page.
    pub url: String,
    /// Description.
    pub description: String,
    /// Queue.
    pub queue: String,
    /// Schedule in words.
    pub schedule: String,
    /// Next run.
    pub next: Option<TimeCell>,
    /// Whether the job hash still exists.
    pub exists: bool,
}

/// The live part of the cron page.
#[derive(Debug, Clone)]
pub struct CronView {
    /// Schedulers, newest heartbeat first.
    pub schedulers: Vec<SchedulerRow>,
    /// Cron jobs by name.
    pub jobs: Vec<CronJobRow>,
    /// Jobs of the separate `rq-scheduler` library, soonest first.
    pub legacy: Vec<LegacyRow>,
    /// How many it holds in all, in words.
    pub legacy_total: String,
    /// The polled fragment.
    pub fragment_url: String,
    /// Poll interval in ms.
    pub poll_ms: u64,
}

impl CronView {
    /// Builds the view.
    pub fn new(c: &CronOverview, urls: &Urls, poll_ms: u64) -> CronView {
        let now = Utc::now();
        CronView {
            schedulers: c.schedulers.iter().map(|s| scheduler_row(s, now)).collect(),
            jobs: c.jobs.iter().map(|j| job_row(j, urls, now)).collect(),
            legacy: c
                .legacy
                .iter()
                .map(|j| LegacyRow {
                    id: j.id.clone(),
                    url: urls.job(&j.id),
                    description: j.description.clone().unwrap_or_default(),
                    queue: j.queue.clone().unwrap_or_default(),
                    schedule: legacy_schedule_text(j),
                    next: time_cell(j.next_run, now),
                    exists: j.exists,
                })
                .collect(),
            legacy_total: plural(c.legacy_total, "job", "jobs"),
            fragment_url: urls.cron_fragment(),
            poll_ms,
        }
    }
}

/// `/<n>/view/cron`.
#[derive(Template)]
#[template(path = "cron/index.html")]
pub struct CronPage {
    /// Layout.
    pub layout: Layout,
    /// Live part.
    pub v: CronView,
}

/// The polled part of the cron page.
#[derive(Template)]
#[template(path = "cron/index.html", block = "cron")]
pub struct CronFragment {
    /// Live part.
    pub v: CronView,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zh<R>(f: impl FnOnce() -> R) -> R {
        i18n::sync_scope(i18n::Lang::from_code("zh-CN").unwrap(), f)
    }

    #[test]
    fn schedules_read_in_the_pages_language() {
        let every = CronJob {
            interval: Some(15.0),
            ..CronJob::default()
        };
        let hourly = CronJob {
            cron: Some("0 * * * *".into()),
            ..CronJob::default()
        };
        let odd = CronJob {
            cron: Some("not a cron".into()),
            ..CronJob::default()
        };
        // English reads as the model's own words.
        for j in [&every, &hourly, &odd, &CronJob::default()] {
            assert_eq!(schedule_text(j), j.schedule());
        }
        assert_eq!(zh(|| schedule_text(&every)), "每 15 秒");
        assert_eq!(
            zh(|| schedule_text(&CronJob {
                interval: Some(300.0),
                ..CronJob::default()
            })),
            "每 5 分钟"
        );
        assert!(zh(|| schedule_text(&hourly)).starts_with("cron “0 * * * *”："));
        assert_eq!(zh(|| schedule_text(&CronJob::default())), "无计划");
        let legacy = LegacyScheduledJob {
            interval: Some(60.0),
            repeat: Some(5),
            ..LegacyScheduledJob::default()
        };
        assert_eq!(legacy_schedule_text(&legacy), legacy.schedule());
        assert_eq!(zh(|| legacy_schedule_text(&legacy)), "每 1 分钟，还剩 5 次");
        let once = LegacyScheduledJob::default();
        assert_eq!(legacy_schedule_text(&once), once.schedule());
    }

    #[test]
    fn the_zone_note_is_a_sentence() {
        let en = i18n::tf("cron.runs_fit", &[("offset", &utc_offset(19_800))]);
        assert_eq!(
            en,
            "Judging by its run times, its scheduler reads this cron string in UTC+05:30."
        );
        assert!(zh(|| i18n::tf("cron.runs_fit", &[("offset", &utc_offset(0))])).contains("UTC"));
    }
}
