//! Job lists (`/<n>/view/jobs/<queue>/<registry>/<per_page>/<order>/<page>`): one page of a queue
//! or registry with exact pagination, order and page-size choices, the registry tabs, and the
//! list's buttons. Also the validation of a list's parameters, shared with the JSON API.

use crate::i18n;
use askama::Template;
use chrono::{DateTime, Utc};

use super::buttons::{list_actions, ActionButton};
use super::charts::ChartSet;
use super::format::{score_cell, time_cell, ScoreCell, TimeCell};
use super::layout::{Layout, Link, Perms};
use super::urls::Urls;
use crate::error::AppError;
use crate::rq::model::{JobStatus, JobSummary, QueueHealth, Registry};
use crate::rq::{JobPage, PageRequest};

/// The largest page size accepted.
pub const MAX_PER_PAGE: u64 = 500;
/// The page sizes offered in the UI.
pub const PER_PAGE_CHOICES: [u64; 7] = [8, 10, 25, 50, 100, 250, 500];

/// A row of a job list.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// Job id.
    pub id: String,
    /// Its page.
    pub url: String,
    /// Whether the hash still exists.
    pub exists: bool,
    /// Status text.
    pub status: String,
    /// Status CSS token.
    pub status_css: &'static str,
    /// Description.
    pub description: String,
    /// Origin queue, when different from the listed queue.
    pub origin_other: Option<String>,
    /// Created.
    pub created: Option<TimeCell>,
    /// Enqueued.
    pub enqueued: Option<TimeCell>,
    /// Started.
    pub started: Option<TimeCell>,
    /// Ended.
    pub ended: Option<TimeCell>,
    /// Worker name.
    pub worker: String,
    /// Last line of the traceback.
    pub exc_last: Option<String>,
    /// Registry score.
    pub score: Option<ScoreCell>,
    /// `retry` or `repeat` for a scheduled job that already ran.
    pub rerun: Option<&'static str>,
    /// The execution of a started-registry entry.
    pub execution: Option<String>,
    /// Its last heartbeat.
    pub heartbeat: Option<TimeCell>,
}

/// A status's text and CSS token (`?` when the hash has none).
pub fn status_of(s: &Option<JobStatus>) -> (String, &'static str) {
    match s {
        Some(s) => (s.to_string(), s.css()),
        None => ("?".to_string(), "unknown"),
    }
}

impl JobRow {
    /// Builds a row.
    pub fn new(j: &JobSummary, queue: &str, urls: &Urls, now: DateTime<Utc>) -> JobRow {
        let (status, status_css) = if j.exists {
            status_of(&j.status)
        } else {
            ("missing".to_string(), "missing")
        };
        JobRow {
            id: j.id.clone(),
            url: urls.job(&j.id),
            exists: j.exists,
            status,
            status_css,
            description: j.description.clone().unwrap_or_default(),
            origin_other: j.origin.clone().filter(|o| o != queue),
            created: time_cell(j.created_at, now),
            enqueued: time_cell(j.enqueued_at, now),
            started: time_cell(j.started_at, now),
            ended: time_cell(j.ended_at, now),
            worker: j.worker_name.clone().unwrap_or_default(),
            exc_last: j
                .exc_last_line()
                .map(|s| crate::rq::decode::truncate(s, 300)),
            score: score_cell(j.score, now),
            rerun: j.rerun(),
            execution: j.execution.clone(),
            heartbeat: time_cell(j.last_heartbeat, now),
        }
    }
}

/// The live part of a job list page.
#[derive(Debug, Clone)]
pub struct JobsView {
    /// Queue name.
    pub queue: String,
    /// Registry name.
    pub registry: &'static str,
    /// Rows.
    pub rows: Vec<JobRow>,
    /// Total entries.
    pub total: u64,
    /// 1-based index of the first row shown.
    pub from: u64,
    /// 1-based index of the last row shown.
    pub to: u64,
    /// Current page.
    pub page: u64,
    /// Number of pages (at least 1).
    pub pages: u64,
    /// Page number links (a window around the current page).
    pub page_links: Vec<Link>,
    /// First page.
    pub first_url: String,
    /// Previous page.
    pub prev_url: Option<String>,
    /// Next page.
    pub next_url: Option<String>,
    /// Last page.
    pub last_url: String,
    /// Page-size choices.
    pub per_page_links: Vec<Link>,
    /// Order choices.
    pub order_links: Vec<Link>,
    /// What the score column means, if shown.
    pub score_label: Option<&'static str>,
    /// Whether to show the traceback column.
    pub show_exc: bool,
    /// Whether to show executions and heartbeats (the started list).
    pub show_execution: bool,
    /// The fragment URL for polling.
    pub fragment_url: String,
    /// A note to show above the table (page past the end, unregistered queue).
    pub notice: Option<String>,
    /// Poll interval in ms.
    pub poll_ms: u64,
    /// Whole-registry actions.
    pub actions: Vec<ActionButton>,
    /// Actions on the selected rows.
    pub selection: Vec<ActionButton>,
    /// The anti-CSRF token (the fragment has no layout).
    pub csrf_token: String,
    /// The failures-by-exception page, on the failed list.
    pub groups_url: Option<String>,
}

/// The page window: up to `size` page numbers around `page`.
pub fn page_window(page: u64, pages: u64, size: u64) -> std::ops::RangeInclusive<u64> {
    let half = size / 2;
    let start = page.saturating_sub(half).max(1);
    let end = (start + size - 1).min(pages);
    let start = end.saturating_sub(size - 1).max(1);
    start..=end
}

/// Parameters of a job list request, validated.
#[derive(Debug, Clone, Copy)]
pub struct ListParams {
    /// Registry.
    pub registry: Registry,
    /// Page size.
    pub per_page: u64,
    /// Descending order.
    pub desc: bool,
    /// 1-based page.
    pub page: u64,
}

impl ListParams {
    /// Validates the registry, page size, order and page of a job list.
    ///
    /// # Errors
    /// `BadRequest` saying which value is wrong and what is accepted.
    pub fn parse(
        registry: &str,
        per_page: &str,
        order: &str,
        page: &str,
    ) -> Result<ListParams, AppError> {
        let registry = Registry::parse(registry).ok_or_else(|| {
            AppError::BadRequest(format!(
                "unknown registry “{registry}”: use one of {}",
                Registry::ALL.map(|r| r.as_str()).join(", ")
            ))
        })?;
        let per_page: u64 = per_page
            .parse()
            .ok()
            .filter(|n| (1..=MAX_PER_PAGE).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "invalid page size “{per_page}”: use a number from 1 to {MAX_PER_PAGE}"
                ))
            })?;
        let desc = match order {
            "asc" => false,
            "dsc" | "desc" => true,
            other => {
                return Err(AppError::BadRequest(format!(
                    "invalid order “{other}”: use asc or dsc"
                )))
            }
        };
        let page: u64 = page
            .parse()
            .ok()
            .filter(|p| *p >= 1 && *p <= 1_000_000_000)
            .ok_or_else(|| {
                AppError::BadRequest(format!("invalid page “{page}”: pages are numbered from 1"))
            })?;
        Ok(ListParams {
            registry,
            per_page,
            desc,
            page,
        })
    }

    /// The repository request for this page.
    pub fn request(&self) -> PageRequest {
        PageRequest {
            offset: (self.page - 1) * self.per_page,
            limit: self.per_page,
            descending: self.desc,
        }
    }

    /// The number of pages of a list of `total` entries (at least 1).
    pub fn pages(&self, total: u64) -> u64 {
        total.div_ceil(self.per_page).max(1)
    }
}

impl JobsView {
    /// Builds the view of one page.
    pub fn new(
        queue: &str,
        p: ListParams,
        page: &JobPage,
        urls: &Urls,
        poll_ms: u64,
        perms: Perms,
        csrf_token: &str,
    ) -> JobsView {
        let (actions, selection) = list_actions(queue, p.registry, page.total, urls, perms);
        let now = Utc::now();
        let pages = p.pages(page.total);
        let offset = (p.page - 1) * p.per_page;
        let rows: Vec<JobRow> = page
            .jobs
            .iter()
            .map(|j| JobRow::new(j, queue, urls, now))
            .collect();
        let u = |n: u64| urls.jobs(queue, p.registry, p.per_page, p.desc, n);
        let mut notice = page.problem.clone();
        if notice.is_none() && p.page > pages {
            notice = Some(i18n::tf(
                "jobs.past_last_page",
                &[("page", &p.page), ("pages", &pages)],
            ));
        } else if notice.is_none() && !page.queue_registered && page.total == 0 {
            notice = Some(i18n::tf("jobs.unregistered", &[("queue", &queue)]));
        }
        JobsView {
            queue: queue.to_string(),
            registry: p.registry.as_str(),
            from: if rows.is_empty() { 0 } else { offset + 1 },
            to: offset + rows.len() as u64,
            rows,
            total: page.total,
            page: p.page,
            pages,
            page_links: page_window(p.page, pages, 10)
                .map(|n| Link {
                    label: n.to_string(),
                    url: u(n),
                    current: n == p.page,
                })
                .collect(),
            first_url: u(1),
            prev_url: (p.page > 1).then(|| u((p.page - 1).min(pages))),
            next_url: (p.page < pages).then(|| u(p.page + 1)),
            last_url: u(pages),
            per_page_links: PER_PAGE_CHOICES
                .iter()
                .map(|&n| Link {
                    label: n.to_string(),
                    url: urls.jobs(queue, p.registry, n, p.desc, 1),
                    current: n == p.per_page,
                })
                .collect(),
            order_links: [(false, "jobs.oldest_first"), (true, "jobs.newest_first")]
                .into_iter()
                .map(|(d, label)| Link {
                    label: i18n::t(label).to_string(),
                    url: urls.jobs(queue, p.registry, p.per_page, d, 1),
                    current: d == p.desc,
                })
                .collect(),
            score_label: p
                .registry
                .score_meaning()
                .map(|m| i18n::t(&format!("score.{m}"))),
            show_exc: matches!(p.registry, Registry::Failed),
            show_execution: p.registry == Registry::Started,
            fragment_url: urls.jobs_fragment(queue, p.registry, p.per_page, p.desc, p.page),
            notice,
            poll_ms,
            actions,
            selection,
            csrf_token: csrf_token.to_string(),
            groups_url: (p.registry == Registry::Failed).then(|| urls.failures(queue)),
        }
    }
}

/// `/<n>/view/jobs/<queue>/<registry>/<per_page>/<order>/<page>`.
#[derive(Template)]
#[template(path = "jobs/list.html")]
pub struct JobsPage {
    /// Layout.
    pub layout: Layout,
    /// History charts of this queue.
    pub charts: ChartSet,
    /// This queue's functions table, rendered.
    pub functions: String,
    /// Registry tabs with counts.
    pub tabs: Vec<Link>,
    /// Who runs the scheduler for this queue, in words.
    pub scheduler: Option<String>,
    /// Due scheduled jobs waiting for a scheduler nobody runs.
    pub stranded: u64,
    /// What RQ's maintenance has not cleaned up in this queue, in sentences.
    pub maintenance: Vec<String>,
    /// Live part.
    pub v: JobsView,
}

/// The polled part of a job list.
#[derive(Template)]
#[template(path = "jobs/list.html", block = "job_table")]
pub struct JobsFragment {
    /// Live part.
    pub v: JobsView,
}

/// What RQ's maintenance has not cleaned up in a queue, in sentences of the current language
/// (the English is [`QueueHealth::problems`]'s, word for word).
pub fn maintenance_lines(h: &QueueHealth) -> Vec<String> {
    let mut out = Vec::new();
    if h.intermediate_stuck > 0 {
        let key = if h.intermediate_stuck == 1 {
            "maintenance.intermediate_one"
        } else {
            "maintenance.intermediate_other"
        };
        out.push(i18n::tf(key, &[("n", &h.intermediate_stuck)]));
    }
    for (r, n) in &h.expired {
        if *n == 0 {
            continue;
        }
        out.push(if *r == Registry::Started {
            i18n::tf("maintenance.abandoned", &[("n", n)])
        } else {
            i18n::tf(
                "maintenance.expired",
                &[("n", n), ("registry", &i18n::registry(r.as_str()))],
            )
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_window_stays_inside_the_pages() {
        assert_eq!(page_window(1, 3, 10), 1..=3);
        assert_eq!(page_window(50, 100, 10), 45..=54);
        assert_eq!(page_window(100, 100, 10), 91..=100);
    }

    #[test]
    fn list_parameters_are_validated_with_a_reason() {
        let p = ListParams::parse("failed", "25", "dsc", "3").unwrap();
        assert_eq!(
            (p.registry, p.per_page, p.desc, p.page),
            (Registry::Failed, 25, true, 3)
        );
        assert_eq!(p.request().offset, 50);
        for bad in [
            ("nope", "8", "asc", "1"),
            ("failed", "0", "asc", "1"),
            ("failed", "8", "up", "1"),
            ("failed", "8", "asc", "0"),
        ] {
            let e = ListParams::parse(bad.0, bad.1, bad.2, bad.3).unwrap_err();
            assert_eq!(e.status().as_u16(), 400, "{bad:?}");
        }
    }
}

#[cfg(test)]
mod maintenance_tests {
    use super::*;

    #[test]
    fn maintenance_lines_are_the_models_sentences_in_english_and_translated_in_chinese() {
        for stuck in [0, 1, 3] {
            let h = QueueHealth {
                intermediate: 5,
                intermediate_stuck: stuck,
                expired: vec![(Registry::Failed, 2), (Registry::Started, 1)],
            };
            assert_eq!(maintenance_lines(&h), h.problems());
            let zh = i18n::Lang::from_code("zh-CN").unwrap();
            let lines = i18n::sync_scope(zh, || maintenance_lines(&h));
            assert!(
                lines.iter().any(|l| l.contains("2 个失败条目")),
                "{lines:?}"
            );
        }
    }
}
