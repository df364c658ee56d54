//! The workers page (`/<n>/view/workers`): every worker with its state, queues, current job,
//! heartbeat, counters and buttons.

use crate::i18n;
use askama::Template;
use chrono::Utc;
use std::collections::HashMap;

use super::buttons::{worker_actions, ActionButton};
use super::format::{plural, thousands, time_cell, TimeCell};
use super::layout::Link;
use super::layout::{Layout, Perms};
use super::lists::{sort_links, Listing, SortLink};
use super::urls::with_query;
use super::urls::Urls;
use crate::rq::model::{JobSummary, Registry, Worker};

/// A row of the workers table.
#[derive(Debug, Clone)]
pub struct WorkerRow {
    /// Name.
    pub name: String,
    /// State.
    pub state: String,
    /// Heartbeat too old.
    pub stale: bool,
    /// Queues with their list URLs.
    pub queues: Vec<(String, String)>,
    /// Current job: id, URL, description.
    pub current: Option<(String, String, String)>,
    /// Pid.
    pub pid: String,
    /// Host.
    pub hostname: String,
    /// Redis client address.
    pub ip: String,
    /// Birth.
    pub birth: Option<TimeCell>,
    /// Last heartbeat.
    pub heartbeat: Option<TimeCell>,
    /// Successful jobs.
    pub successful: i64,
    /// Failed jobs.
    pub failed: i64,
    /// Total working time.
    pub working: String,
    /// RQ version.
    pub version: String,
    /// Python version (first word).
    pub python: String,
    /// Full Python version string.
    pub python_full: String,
    /// Worker actions.
    pub actions: Vec<ActionButton>,
    /// Since when it was asked to shut down (warm shutdown pending).
    pub shutdown_requested: Option<TimeCell>,
    /// The health problems that concern it.
    pub badge: Option<crate::health::Badge>,
}

/// The live part of the workers page.
#[derive(Debug, Clone)]
pub struct WorkersView {
    /// Rows.
    pub rows: Vec<WorkerRow>,
    /// Workers per host (a worker pool runs its workers on one host), most first.
    pub hosts: Vec<(String, String)>,
    /// Fragment URL (with the list's parameters).
    pub fragment_url: String,
    /// Poll interval in ms.
    pub poll_ms: u64,
    /// The anti-CSRF token.
    pub csrf_token: String,
    /// The workers page without parameters (the filter form's target).
    pub list_url: String,
    /// The list's parameters.
    pub listing: Listing,
    /// Sortable headers.
    pub headers: Vec<SortLink>,
    /// Pages of the list.
    pub pager: Vec<Link>,
    /// How many are shown of how many.
    pub shown: String,
    /// The health page (the badges link there).
    pub health_url: String,
}

/// The columns the workers list sorts by, with their header text.
pub const SORT_COLUMNS: [(&str, &str, &str); 8] = [
    ("name", "Name", ""),
    ("state", "State", ""),
    ("queues", "Queues", ""),
    ("host", "Host", ""),
    ("birth", "Born", ""),
    ("heartbeat", "Heartbeat", ""),
    ("successful", "OK", "num"),
    ("failed", "Failed", "num"),
];

impl WorkersView {
    /// Puts on each worker's row the badge of the health problems that concern it.
    pub fn with_badges(
        mut self,
        mut badges: std::collections::HashMap<String, crate::health::Badge>,
    ) -> WorkersView {
        for w in &mut self.rows {
            w.badge = badges.remove(&w.name);
        }
        self
    }

    /// Builds the view.
    pub fn new(
        all: &[Worker],
        jobs: &HashMap<String, JobSummary>,
        urls: &Urls,
        poll_ms: u64,
        perms: Perms,
        csrf_token: &str,
        listing: &Listing,
    ) -> WorkersView {
        let now = Utc::now();
        let workers = all;
        let mut kept: Vec<&Worker> = all
            .iter()
            .filter(|w| {
                let queues = w.queues.join(",");
                listing.keeps([
                    w.name.as_str(),
                    w.hostname.as_deref().unwrap_or(""),
                    queues.as_str(),
                    w.state.as_str(),
                ])
            })
            .collect();
        match listing.sort.as_str() {
            "name" => kept.sort_by(|a, b| a.name.cmp(&b.name)),
            "state" => kept.sort_by(|a, b| a.state.cmp(&b.state)),
            "queues" => kept.sort_by_key(|w| w.queues.join(",")),
            "host" => kept.sort_by(|a, b| a.hostname.cmp(&b.hostname)),
            "birth" => kept.sort_by_key(|w| w.birth),
            "heartbeat" => kept.sort_by_key(|w| w.last_heartbeat),
            "successful" => kept.sort_by_key(|w| w.successful_job_count),
            "failed" => kept.sort_by_key(|w| w.failed_job_count),
            _ => {}
        }
        if listing.desc {
            kept.reverse();
        }
        let matching = kept.len() as u64;
        let (page, total, pages) = listing.window(kept);
        let list_url = urls.workers();
        let shown_page = listing.page.min(pages);
        let first = (shown_page - 1) * listing.per_page;
        WorkersView {
            headers: sort_links(
                listing,
                &list_url,
                &SORT_COLUMNS
                    .map(|(k, label, css)| (k, i18n::word("column", label), css))
                    .iter()
                    .map(|(k, label, css)| (*k, label.as_ref(), *css))
                    .collect::<Vec<_>>(),
            ),
            pager: if pages > 1 {
                super::jobs::page_window(shown_page, pages, 10)
                    .map(|n| Link {
                        label: n.to_string(),
                        url: with_query(&list_url, &listing.on_page(n).query_string()),
                        current: n == shown_page,
                    })
                    .collect()
            } else {
                Vec::new()
            },
            health_url: urls.health(),
            shown: if pages > 1 {
                i18n::tf(
                    "lists.range_of_matching",
                    &[
                        ("from", &thousands(first + 1)),
                        ("to", &thousands((first + listing.per_page).min(total))),
                        (
                            "matching",
                            &plural(total, "matching worker", "matching workers"),
                        ),
                        ("all", &thousands(all.len() as u64)),
                    ],
                )
            } else if matching < all.len() as u64 {
                i18n::tf(
                    "lists.some_of",
                    &[
                        ("shown", &thousands(matching)),
                        ("all", &plural(all.len() as u64, "worker", "workers")),
                    ],
                )
            } else {
                plural(all.len() as u64, "worker", "workers")
            },
            list_url,
            listing: listing.clone(),
            rows: page
                .into_iter()
                .map(|w| WorkerRow {
                    name: w.name.clone(),
                    state: w.state.clone(),
                    stale: w.is_stale(now),
                    queues: w
                        .queues
                        .iter()
                        .map(|q| (q.clone(), urls.jobs_default(q, Registry::Queued)))
                        .collect(),
                    current: w.current_job.as_ref().map(|id| {
                        let desc = jobs
                            .get(id)
                            .and_then(|j| j.description.clone())
                            .unwrap_or_default();
                        (id.clone(), urls.job(id), desc)
                    }),
                    pid: w.pid.map(|p| p.to_string()).unwrap_or_default(),
                    hostname: w.hostname.clone().unwrap_or_default(),
                    ip: w.ip_address.clone().unwrap_or_default(),
                    birth: time_cell(w.birth, now),
                    heartbeat: time_cell(w.last_heartbeat, now),
                    successful: w.successful_job_count,
                    failed: w.failed_job_count,
                    working: format!("{:.1} s", w.total_working_time),
                    version: w.version.clone().unwrap_or_default(),
                    python: w
                        .python_version
                        .as_deref()
                        .and_then(|p| p.split_whitespace().next())
                        .unwrap_or_default()
                        .to_string(),
                    python_full: w.python_version.clone().unwrap_or_default(),
                    actions: worker_actions(urls, perms, &w.name, &w.state),
                    shutdown_requested: time_cell(w.shutdown_requested, now),
                    badge: None,
                })
                .collect(),
            hosts: {
                let mut by_host: std::collections::BTreeMap<String, u64> = Default::default();
                for w in workers {
                    *by_host
                        .entry(w.hostname.clone().unwrap_or_else(|| "?".into()))
                        .or_default() += 1;
                }
                let mut hosts: Vec<(String, u64)> = by_host.into_iter().collect();
                hosts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                hosts
                    .into_iter()
                    .map(|(h, n)| (h, plural(n, "worker", "workers")))
                    .collect()
            },
            fragment_url: with_query(&urls.workers_fragment(), &listing.query_string()),
            poll_ms,
            csrf_token: csrf_token.to_string(),
        }
    }
}

/// `/<n>/view/workers`.
#[derive(Template)]
#[template(path = "workers/index.html")]
pub struct WorkersPage {
    /// Layout.
    pub layout: Layout,
    /// Live part.
    pub v: WorkersView,
}

/// The polled part of the workers page.
#[derive(Template)]
#[template(path = "workers/index.html", block = "worker_table")]
pub struct WorkersFragment {
    /// Live part.
    pub v: WorkersView,
}
