//! The overview (`/`, `/<n>/view/queues`): counts of every queue and registry, totals, the workers
//! summary, charts and Redis facts; and `/all`, every instance's queues on one page.

use crate::i18n;
use askama::Template;
use chrono::{DateTime, Utc};

use super::buttons::{overview_actions, ActionButton};
use super::charts::ChartSet;
use super::format::{human_secs, plural, thousands, time_cell, TimeCell};
use super::layout::Link;
use super::layout::{Layout, Perms};
use super::lists::{sort_links, Listing, SortLink};
use super::urls::with_query;
use super::urls::Urls;
use crate::rq::model::{Overview, QueueCounts, RedisInfo, Registry};

/// A count in the overview, linking to its list.
#[derive(Debug, Clone)]
pub struct CountCell {
    /// The registry name.
    pub registry: &'static str,
    /// The count.
    pub count: u64,
    /// Its list, if it has one.
    pub url: Option<String>,
}

/// A row of the overview table.
#[derive(Debug, Clone)]
pub struct QueueRow {
    /// The queue name.
    pub name: String,
    /// Its queued list.
    pub url: Option<String>,
    /// Counts, in column order.
    pub cells: Vec<CountCell>,
    /// Age of the oldest queued job.
    pub oldest: Option<TimeCell>,
    /// Who holds the queue's scheduler lock.
    pub scheduler: Option<SchedulerCell>,
    /// Scheduled jobs already due while nobody holds the lock: they will not be enqueued.
    pub stranded: u64,
    /// The health problems that concern it.
    pub badge: Option<crate::health::Badge>,
}

/// The scheduler column of a row: the lock holder's name shortened to fit on one line (a 2.10+
/// scheduler is named by 32 hex digits), where it runs, and everything on hover.
#[derive(Debug, Clone)]
pub struct SchedulerCell {
    /// The first [`SHORT_NAME`] characters of the name, with "…" when cut.
    pub short: String,
    /// Its host and pid, as far as known ("web-1 · pid 42"); empty when the name says it all
    /// (RQ 1.x, whose lock holds the pid).
    pub place: String,
    /// The tooltip: the whole name, host and pid, and what holding the lock means.
    pub title: String,
}

/// How many characters of a scheduler's name the overview shows.
pub const SHORT_NAME: usize = 8;

impl SchedulerCell {
    /// The cell of `lock`, in the current language.
    pub fn new(lock: &crate::rq::model::SchedulerLock) -> SchedulerCell {
        let name = lock.holder.as_str();
        let short = match name.char_indices().nth(SHORT_NAME) {
            Some((i, _)) => format!("{}…", &name[..i]),
            None => name.to_string(),
        };
        // Before RQ 2.10 the lock's value is the pid itself: no need to say it twice.
        let pid = lock
            .scheduler_pid()
            .filter(|p| p.to_string() != name.trim());
        let place = match (&lock.hostname, pid) {
            (Some(h), Some(p)) => {
                i18n::tf("overview.scheduler_host_pid", &[("host", h), ("pid", &p)])
            }
            (Some(h), None) => h.clone(),
            (None, Some(p)) => i18n::tf("overview.scheduler_pid", &[("pid", &p)]),
            (None, None) => String::new(),
        };
        SchedulerCell {
            short,
            place,
            title: i18n::tf(
                "overview.scheduler_title",
                &[("who", &super::format::scheduler_holder(lock))],
            ),
        }
    }
}

fn overview_columns(show_ready: bool) -> Vec<Registry> {
    Registry::ALL
        .into_iter()
        .filter(|r| show_ready || *r != Registry::Ready)
        .collect()
}

fn queue_row(
    q: &QueueCounts,
    cols: &[Registry],
    urls: Option<&Urls>,
    now: DateTime<Utc>,
) -> QueueRow {
    QueueRow {
        name: q.name.clone(),
        url: urls.map(|u| u.jobs_default(&q.name, Registry::Queued)),
        cells: cols
            .iter()
            .map(|r| CountCell {
                registry: r.as_str(),
                count: q.count(*r),
                url: urls.map(|u| u.jobs_default(&q.name, *r)),
            })
            .collect(),
        oldest: time_cell(q.oldest_enqueued_at, now),
        scheduler: q.scheduler.as_ref().map(SchedulerCell::new),
        stranded: if q.scheduler.is_none() {
            q.overdue_scheduled
        } else {
            0
        },
        badge: None,
    }
}

/// The live part of the overview.
#[derive(Debug, Clone)]
pub struct OverviewView {
    /// The column headers.
    pub columns: Vec<&'static str>,
    /// One row per queue.
    pub queues: Vec<QueueRow>,
    /// The totals row.
    pub total: QueueRow,
    /// `rq suspend` in force.
    pub suspended: bool,
    /// Worker count.
    pub workers: usize,
    /// "worker" or "workers", for the count.
    pub workers_noun: &'static str,
    /// The Redis this instance reads (masked URL), for the empty-state hint.
    pub redis_label: String,
    /// Busy workers.
    pub busy: usize,
    /// Idle workers.
    pub idle: usize,
    /// Workers whose heartbeat is too old.
    pub stale: usize,
    /// RQ versions reported by workers.
    pub rq_versions: String,
    /// When the data was read.
    pub fetched: String,
    /// The fragment URL (with the list's parameters).
    pub fragment_url: String,
    /// The overview's URL without parameters (the filter form's target).
    pub list_url: String,
    /// The list's parameters.
    pub listing: Listing,
    /// Sortable headers: the name, each count, the oldest queued.
    pub headers: Vec<SortLink>,
    /// Pages of the list.
    pub pager: Vec<Link>,
    /// "12 of 2,000 queues" / "rows 101–200 of 2,000 queues".
    pub shown: String,
    /// The workers page.
    pub workers_url: String,
    /// Poll interval in ms.
    pub poll_ms: u64,
    /// Actions (requeue everywhere, suspend or resume).
    pub actions: Vec<ActionButton>,
    /// The anti-CSRF token.
    pub csrf_token: String,
    /// Redis version, memory, clients, uptime.
    pub redis: RedisInfo,
    /// Redis uptime, formatted.
    pub redis_uptime: String,
    /// The health page (the badges link there).
    pub health_url: String,
}

impl OverviewView {
    /// Puts on each queue's row the badge of the health problems that concern it.
    pub fn with_badges(
        mut self,
        mut badges: std::collections::HashMap<String, crate::health::Badge>,
    ) -> OverviewView {
        for q in &mut self.queues {
            q.badge = badges.remove(&q.name);
        }
        self
    }

    /// Names the Redis it reads (for the empty-state hint).
    pub fn with_redis_label(mut self, label: &str) -> OverviewView {
        self.redis_label = label.to_string();
        self
    }
    /// The columns the queue list sorts by.
    pub fn sort_columns(has_ready: bool) -> Vec<&'static str> {
        let mut c = vec!["name"];
        c.extend(overview_columns(has_ready).iter().map(|r| r.as_str()));
        c.push("oldest");
        c
    }

    /// Builds the view of the queues `listing` selects (the totals cover every queue).
    pub fn new(
        o: &Overview,
        urls: &Urls,
        poll_ms: u64,
        perms: Perms,
        csrf_token: &str,
        listing: &Listing,
    ) -> OverviewView {
        let now = Utc::now();
        let cols = overview_columns(o.has_ready);
        let stale = o.workers.iter().filter(|w| w.is_stale(now)).count();
        let mut kept: Vec<&QueueCounts> = o
            .queues
            .iter()
            .filter(|q| listing.keeps([q.name.as_str()]))
            .filter(|q| !listing.hide_empty || Registry::ALL.iter().any(|r| q.count(*r) > 0))
            .collect();
        match Registry::parse(&listing.sort) {
            Some(r) => kept.sort_by_key(|q| q.count(r)),
            None if listing.sort == "oldest" => {
                // Oldest first: the queue whose head waited longest (empty queues last).
                kept.sort_by_key(|q| (q.oldest_enqueued_at.is_none(), q.oldest_enqueued_at))
            }
            None => {}
        }
        if listing.desc {
            kept.reverse();
        }
        let matching = kept.len();
        let (page, total, pages) = listing.window(kept);
        let list_url = urls.overview();
        let mut headers = vec![(
            String::from("name"),
            i18n::t("common.queue").to_string(),
            "",
        )];
        headers.extend(cols.iter().map(|r| {
            (
                r.as_str().to_string(),
                i18n::registry(r.as_str()).to_string(),
                "num",
            )
        }));
        headers.push(("oldest".into(), i18n::t("overview_all.oldest").into(), ""));
        let header_refs: Vec<(&str, &str, &'static str)> = headers
            .iter()
            .map(|(k, l, c)| (k.as_str(), l.as_str(), *c))
            .collect();
        let first = (listing.page.min(pages) - 1) * listing.per_page;
        OverviewView {
            columns: cols.iter().map(|r| r.as_str()).collect(),
            queues: page
                .into_iter()
                .map(|q| queue_row(q, &cols, Some(urls), now))
                .collect(),
            headers: sort_links(listing, &list_url, &header_refs),
            pager: if pages > 1 {
                super::jobs::page_window(listing.page.min(pages), pages, 10)
                    .map(|n| Link {
                        label: n.to_string(),
                        url: with_query(&list_url, &listing.on_page(n).query_string()),
                        current: n == listing.page.min(pages),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            shown: if total == 0 && o.queues.is_empty() {
                String::new()
            } else if pages > 1 {
                i18n::tf(
                    "lists.range_of_matching",
                    &[
                        ("from", &thousands(first + 1)),
                        ("to", &thousands((first + listing.per_page).min(total))),
                        (
                            "matching",
                            &plural(total, "matching queue", "matching queues"),
                        ),
                        ("all", &thousands(o.queues.len() as u64)),
                    ],
                )
            } else if matching < o.queues.len() {
                i18n::tf(
                    "lists.some_of",
                    &[
                        ("shown", &thousands(matching as u64)),
                        ("all", &plural(o.queues.len() as u64, "queue", "queues")),
                    ],
                )
            } else {
                plural(o.queues.len() as u64, "queue", "queues")
            },
            list_url,
            listing: listing.clone(),
            total: queue_row(&o.totals(), &cols, None, now),
            suspended: o.suspended,
            workers: o.workers.len(),
            workers_noun: if o.workers.len() == 1 {
                i18n::t("overview.worker_noun_one")
            } else {
                i18n::t("overview.worker_noun_other")
            },
            redis_label: String::new(),
            busy: o.workers.iter().filter(|w| w.state == "busy").count(),
            idle: o.workers.iter().filter(|w| w.state == "idle").count(),
            stale,
            rq_versions: o.rq_versions().join(", "),
            fetched: o.fetched_at.format("%H:%M:%S UTC").to_string(),
            fragment_url: with_query(&urls.overview_fragment(), &listing.query_string()),
            workers_url: urls.workers(),
            poll_ms,
            actions: overview_actions(urls, perms, o.totals().failed, o.suspended, o.workers.len()),
            csrf_token: csrf_token.to_string(),
            redis: o.redis.clone(),
            redis_uptime: human_secs(o.redis.uptime_secs),
            health_url: urls.health(),
        }
    }
}

/// `/` and `/<n>/view/queues`.
#[derive(Template)]
#[template(path = "overview/index.html")]
pub struct OverviewPage {
    /// Layout.
    pub layout: Layout,
    /// Live part.
    pub ov: OverviewView,
    /// History charts of the totals (polled on their own).
    pub charts: ChartSet,
    /// The functions table, rendered (polled on its own).
    pub functions: String,
}

/// The polled part of the overview.
#[derive(Template)]
#[template(path = "overview/index.html", block = "overview")]
pub struct OverviewFragment {
    /// Live part.
    pub ov: OverviewView,
}

/// One instance on the combined overview.
#[derive(Debug, Clone)]
pub struct InstanceBlock {
    /// Index.
    pub index: usize,
    /// Masked URL.
    pub label: String,
    /// Its overview.
    pub url: String,
    /// Its counts, or why they could not be read.
    pub view: Result<OverviewView, String>,
}

/// `/all`: every instance's queues on one page.
#[derive(Template)]
#[template(path = "overview/all.html")]
pub struct AllPage {
    /// Layout.
    pub layout: Layout,
    /// The instances.
    pub blocks: Vec<InstanceBlock>,
}
