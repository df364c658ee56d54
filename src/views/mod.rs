//! One askama struct per page or fragment, and the view models they display.
//!
//! View models hold display-ready strings (formatted times, URLs with encoded path segments) so
//! templates stay free of logic. Askama escapes every `{{ }}` output for HTML, which is what makes
//! hostile job data (descriptions, tracebacks, arguments) inert on the page.

use askama::Template;
use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::rq::decode::Decoded;
use crate::rq::model::{JobDetail, JobStatus, JobSummary, Overview, QueueCounts, Registry, Worker};

/// Characters left as they are in a path segment; everything else is percent-encoded, so queue
/// names with `/`, `%`, `?`, spaces or unicode survive the round trip.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment.
pub fn seg(s: &str) -> String {
    let e = utf8_percent_encode(s, SEGMENT).to_string();
    // "." and ".." would be normalised away by browsers.
    match e.as_str() {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => e,
    }
}

/// Builds the dashboard's URLs for one instance, under the URL prefix.
#[derive(Debug, Clone)]
pub struct Urls {
    /// The URL prefix (empty or `/a/b`).
    pub base: String,
    /// The instance index.
    pub n: usize,
}

impl Urls {
    /// The overview page.
    pub fn overview(&self) -> String {
        format!("{}/{}/view/queues", self.base, self.n)
    }
    /// The workers page.
    pub fn workers(&self) -> String {
        format!("{}/{}/view/workers", self.base, self.n)
    }
    /// A job list page.
    pub fn jobs(&self, queue: &str, reg: Registry, per_page: u64, desc: bool, page: u64) -> String {
        format!(
            "{}/{}/view/jobs/{}/{}/{}/{}/{}",
            self.base,
            self.n,
            seg(queue),
            reg,
            per_page,
            if desc { "dsc" } else { "asc" },
            page
        )
    }
    /// The polled fragment of a job list page.
    pub fn jobs_fragment(
        &self,
        queue: &str,
        reg: Registry,
        per_page: u64,
        desc: bool,
        page: u64,
    ) -> String {
        format!(
            "{}/{}/fragments/jobs/{}/{}/{}/{}/{}",
            self.base,
            self.n,
            seg(queue),
            reg,
            per_page,
            if desc { "dsc" } else { "asc" },
            page
        )
    }
    /// A job list page with rq-dashboard's defaults (8 per page, ascending, page 1).
    pub fn jobs_default(&self, queue: &str, reg: Registry) -> String {
        self.jobs(queue, reg, DEFAULT_PER_PAGE, false, 1)
    }
    /// The job page.
    pub fn job(&self, id: &str) -> String {
        format!("{}/{}/view/job/{}", self.base, self.n, seg(id))
    }
    /// An action endpoint of this instance, e.g. `act(&["job", id, "requeue"])`; every part is
    /// encoded as one path segment.
    pub fn act(&self, parts: &[&str]) -> String {
        let mut u = format!("{}/{}", self.base, self.n);
        for p in parts {
            u.push('/');
            u.push_str(&seg(p));
        }
        u
    }
}

/// A button that POSTs an action after a confirmation saying exactly what will happen.
#[derive(Debug, Clone)]
pub struct ActionButton {
    /// Button text.
    pub label: String,
    /// Endpoint.
    pub url: String,
    /// The confirmation question.
    pub confirm: String,
    /// CSS class (`danger` for destructive ones).
    pub css: &'static str,
    /// Extra form fields.
    pub fields: Vec<(String, String)>,
}

impl ActionButton {
    /// A button.
    pub fn new(label: impl Into<String>, url: String, confirm: impl Into<String>) -> ActionButton {
        ActionButton {
            label: label.into(),
            url,
            confirm: confirm.into(),
            css: "",
            fields: Vec::new(),
        }
    }
    /// Marks it destructive.
    pub fn danger(mut self) -> ActionButton {
        self.css = "danger";
        self
    }
    /// Adds a form field.
    pub fn field(mut self, k: &str, v: &str) -> ActionButton {
        self.fields.push((k.to_string(), v.to_string()));
        self
    }
}

/// Formats a count with thousands separators.
pub fn thousands(n: u64) -> String {
    crate::routes::actions::thousands(n)
}

/// rq-dashboard's default page size.
pub const DEFAULT_PER_PAGE: u64 = 8;
/// The largest page size accepted.
pub const MAX_PER_PAGE: u64 = 500;
/// The page sizes offered in the UI.
pub const PER_PAGE_CHOICES: [u64; 7] = [8, 10, 25, 50, 100, 250, 500];

/// A time shown relative to now, with the exact UTC time on hover.
#[derive(Debug, Clone)]
pub struct TimeCell {
    /// RFC 3339, for the `datetime` attribute.
    pub iso: String,
    /// Exact UTC time, for the tooltip.
    pub exact: String,
    /// Relative text ("5 min ago", "in 2 h").
    pub rel: String,
}

/// Formats a duration in seconds compactly ("42 s", "5 min", "3 h", "2 d").
pub fn human_secs(secs: i64) -> String {
    let s = secs.unsigned_abs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

/// Builds a [`TimeCell`] relative to `now`.
pub fn time_cell(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<TimeCell> {
    let t = t?;
    let d = (now - t).num_seconds();
    let rel = if d.abs() < 1 {
        "just now".to_string()
    } else if d > 0 {
        format!("{} ago", human_secs(d))
    } else {
        format!("in {}", human_secs(d))
    };
    Some(TimeCell {
        iso: t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        exact: t.format("%Y-%m-%d %H:%M:%S%.6f UTC").to_string(),
        rel,
    })
}

/// A registry score as a time (scores are epoch seconds), or its raw value when not a time.
pub fn score_cell(score: Option<f64>, now: DateTime<Utc>) -> Option<ScoreCell> {
    let s = score?;
    if s.is_infinite() {
        return Some(ScoreCell::Text(
            if s > 0.0 { "never" } else { "-inf" }.into(),
        ));
    }
    if s < 0.0 {
        return Some(ScoreCell::Text("never (kept)".into()));
    }
    match crate::rq::model::from_epoch_secs(s).and_then(|t| time_cell(Some(t), now)) {
        Some(t) => Some(ScoreCell::Time(t)),
        None => Some(ScoreCell::Text(format!("{s}"))),
    }
}

/// How a registry score is displayed.
#[derive(Debug, Clone)]
pub enum ScoreCell {
    /// A time.
    Time(TimeCell),
    /// A special value.
    Text(String),
}

/// An entry of the instance switcher.
#[derive(Debug, Clone)]
pub struct InstanceLink {
    /// Its index.
    pub index: usize,
    /// The masked URL.
    pub label: String,
    /// Its overview URL.
    pub url: String,
    /// Whether it is the one shown.
    pub current: bool,
}

/// What every full page needs: prefix, instance, navigation.
#[derive(Debug, Clone)]
pub struct Layout {
    /// URL prefix.
    pub base: String,
    /// URLs of the shown instance.
    pub urls: Urls,
    /// The instance shown.
    pub label: String,
    /// All instances (the switcher is shown when there are several).
    pub instances: Vec<InstanceLink>,
    /// Poll interval in ms.
    pub poll_ms: u64,
    /// rqdash's version.
    pub version: &'static str,
    /// Content hash of the CSS and JS, for their URLs.
    pub asset_version: String,
    /// Redis's version (empty until first read).
    pub redis_version: String,
    /// RQ versions the workers report.
    pub rq_versions: String,
    /// Which nav entry is active: `queues`, `workers` or `job`.
    pub nav: &'static str,
    /// The page title.
    pub title: String,
    /// The anti-CSRF token for forms and htmx requests.
    pub csrf_token: String,
    /// `--read-only`: no action buttons.
    pub read_only: bool,
    /// Destructive actions allowed (neither read-only nor `--disable-delete`).
    pub can_delete: bool,
}

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
    /// The fragment URL.
    pub fragment_url: String,
    /// The workers page.
    pub workers_url: String,
    /// Poll interval in ms.
    pub poll_ms: u64,
    /// Actions (requeue everywhere, suspend or resume).
    pub actions: Vec<ActionButton>,
    /// The anti-CSRF token.
    pub csrf_token: String,
    /// History charts of the totals.
    pub charts: Vec<crate::history::Chart>,
    /// Redis version, memory, clients, uptime.
    pub redis: crate::rq::model::RedisInfo,
    /// Redis uptime, formatted.
    pub redis_uptime: String,
}

impl OverviewView {
    /// Adds the history charts.
    pub fn with_charts(mut self, charts: Vec<crate::history::Chart>) -> OverviewView {
        self.charts = charts;
        self
    }
    /// Builds the view.
    pub fn new(
        o: &Overview,
        urls: &Urls,
        poll_ms: u64,
        perms: Perms,
        csrf_token: &str,
    ) -> OverviewView {
        let now = Utc::now();
        let mut actions = Vec::new();
        let failed = o.totals().failed;
        if perms.act {
            if failed > 0 {
                let n = thousands(failed);
                actions.push(ActionButton::new(
                    format!("Requeue all {n} failed"),
                    urls.act(&["requeue-all"]),
                    format!("Requeue {n} failed jobs of every queue?"),
                ));
            }
            actions.push(if o.suspended {
                ActionButton::new("Resume workers", urls.act(&["resume"]), "Resume all workers: they start taking jobs again?")
            } else {
                ActionButton::new("Suspend workers", urls.act(&["suspend"]), "Suspend all workers? They finish their current job and take no new one until resumed.").danger()
            });
        }
        let cols = overview_columns(o.has_ready);
        let stale = o.workers.iter().filter(|w| w.is_stale(now)).count();
        OverviewView {
            columns: cols.iter().map(|r| r.as_str()).collect(),
            queues: o
                .queues
                .iter()
                .map(|q| queue_row(q, &cols, Some(urls), now))
                .collect(),
            total: queue_row(&o.totals(), &cols, None, now),
            suspended: o.suspended,
            workers: o.workers.len(),
            busy: o.workers.iter().filter(|w| w.state == "busy").count(),
            idle: o.workers.iter().filter(|w| w.state == "idle").count(),
            stale,
            rq_versions: o.rq_versions().join(", "),
            fetched: o.fetched_at.format("%H:%M:%S UTC").to_string(),
            fragment_url: format!("{}/{}/fragments/overview", urls.base, urls.n),
            workers_url: urls.workers(),
            poll_ms,
            actions,
            csrf_token: csrf_token.to_string(),
            charts: Vec::new(),
            redis: o.redis.clone(),
            redis_uptime: human_secs(o.redis.uptime_secs),
        }
    }
}

/// `/` and `/<n>/view/queues`.
#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    /// Layout.
    pub layout: Layout,
    /// Live part.
    pub ov: OverviewView,
}

/// The polled part of the overview.
#[derive(Template)]
#[template(path = "overview.html", block = "overview")]
pub struct OverviewFragment {
    /// Live part.
    pub ov: OverviewView,
}

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
}

fn status_of(s: &Option<JobStatus>) -> (String, &'static str) {
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
        }
    }
}

/// A link in a pager or a tab strip.
#[derive(Debug, Clone)]
pub struct Link {
    /// The text.
    pub label: String,
    /// The target.
    pub url: String,
    /// Whether it is the current one.
    pub current: bool,
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

/// Whole-registry and selection actions of a job list.
fn list_actions(
    queue: &str,
    registry: Registry,
    total: u64,
    urls: &Urls,
    perms: Perms,
) -> (Vec<ActionButton>, Vec<ActionButton>) {
    let mut whole = Vec::new();
    let mut sel = Vec::new();
    if !perms.act {
        return (whole, sel);
    }
    let n = thousands(total);
    let reg = registry.as_str();
    if registry == Registry::Failed && total > 0 {
        whole.push(ActionButton::new(
            format!("Requeue all {n}"),
            urls.act(&["requeue", queue]),
            format!("Requeue {n} failed jobs of “{queue}”?"),
        ));
        sel.push(ActionButton::new(
            "Requeue selected",
            urls.act(&["jobs", "requeue"]),
            format!("Requeue the selected failed jobs of “{queue}”?"),
        ));
    }
    if matches!(
        registry,
        Registry::Queued | Registry::Scheduled | Registry::Deferred
    ) {
        sel.push(ActionButton::new(
            "Cancel selected",
            urls.act(&["jobs", "cancel"]),
            format!("Cancel the selected {reg} jobs of “{queue}”?"),
        ));
    }
    if registry == Registry::Scheduled {
        sel.push(ActionButton::new(
            "Enqueue selected now",
            urls.act(&["jobs", "enqueue"]),
            format!("Enqueue the selected scheduled jobs of “{queue}” now?"),
        ));
    }
    if perms.delete {
        if registry == Registry::Queued && total > 0 {
            whole.push(
                ActionButton::new(
                    format!("Empty queue ({n})"),
                    urls.act(&["queue", queue, "queued", "empty"]),
                    format!("Delete all {n} queued jobs of “{queue}”? This cannot be undone."),
                )
                .danger(),
            );
        }
        if registry == Registry::Queued {
            whole.push(ActionButton::new("Compact", urls.act(&["queue", queue, "compact"]), format!("Remove the ids of jobs that no longer exist from queue “{queue}”? Existing jobs keep their place.")));
        }
        if registry == Registry::Queued && total == 0 {
            whole.push(
                ActionButton::new(
                    "Remove queue",
                    urls.act(&["queue", queue, "remove"]),
                    format!("Remove the empty queue “{queue}” from RQ's list of queues?"),
                )
                .danger(),
            );
        }
        if matches!(
            registry,
            Registry::Finished
                | Registry::Failed
                | Registry::Canceled
                | Registry::Scheduled
                | Registry::Deferred
        ) {
            if total > 0 {
                whole.push(
                    ActionButton::new(
                        format!("Delete all {n}"),
                        urls.act(&["queue", queue, reg, "empty"]),
                        format!("Delete all {n} {reg} jobs of “{queue}”? This cannot be undone."),
                    )
                    .danger(),
                );
            }
            whole.push(ActionButton::new(
                "Clean ghost ids",
                urls.act(&["queue", queue, "clean"]),
                format!("Remove ids whose job no longer exists from the registries of “{queue}”?"),
            ));
        }
        if registry != Registry::Started {
            sel.push(
                ActionButton::new(
                    "Delete selected",
                    urls.act(&["jobs", "delete"]),
                    format!("Delete the selected jobs of “{queue}”? This cannot be undone."),
                )
                .danger(),
            );
        }
    }
    (whole, sel)
}

/// What the configuration allows.
#[derive(Debug, Clone, Copy)]
pub struct Perms {
    /// Any action (not `--read-only`).
    pub act: bool,
    /// Destructive actions (neither read-only nor `--disable-delete`).
    pub delete: bool,
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

impl JobsView {
    /// Builds the view of one page.
    pub fn new(
        queue: &str,
        p: ListParams,
        page: &crate::rq::JobPage,
        urls: &Urls,
        poll_ms: u64,
        perms: Perms,
        csrf_token: &str,
    ) -> JobsView {
        let (actions, selection) = list_actions(queue, p.registry, page.total, urls, perms);
        let now = Utc::now();
        let pages = page.total.div_ceil(p.per_page).max(1);
        let offset = (p.page - 1) * p.per_page;
        let rows: Vec<JobRow> = page
            .jobs
            .iter()
            .map(|j| JobRow::new(j, queue, urls, now))
            .collect();
        let u = |n: u64| urls.jobs(queue, p.registry, p.per_page, p.desc, n);
        let mut notice = page.problem.clone();
        if notice.is_none() && p.page > pages {
            notice = Some(format!("Page {} is past the last page ({pages}).", p.page));
        } else if notice.is_none() && !page.queue_registered && page.total == 0 {
            notice = Some(format!(
                "No queue named “{queue}” is registered in RQ's queue set."
            ));
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
            order_links: [(false, "oldest first"), (true, "newest first")]
                .into_iter()
                .map(|(d, label)| Link {
                    label: label.to_string(),
                    url: urls.jobs(queue, p.registry, p.per_page, d, 1),
                    current: d == p.desc,
                })
                .collect(),
            score_label: p.registry.score_meaning(),
            show_exc: matches!(p.registry, Registry::Failed),
            fragment_url: urls.jobs_fragment(queue, p.registry, p.per_page, p.desc, p.page),
            notice,
            poll_ms,
            actions,
            selection,
            csrf_token: csrf_token.to_string(),
            groups_url: (p.registry == Registry::Failed)
                .then(|| format!("{}/{}/view/failures/{}", urls.base, urls.n, seg(queue))),
        }
    }
}

/// `/<n>/view/jobs/<queue>/<registry>/<per_page>/<order>/<page>`.
#[derive(Template)]
#[template(path = "jobs.html")]
pub struct JobsPage {
    /// Layout.
    pub layout: Layout,
    /// History charts of this queue.
    pub charts: Vec<crate::history::Chart>,
    /// Registry tabs with counts.
    pub tabs: Vec<Link>,
    /// Live part.
    pub v: JobsView,
}

/// The polled part of a job list.
#[derive(Template)]
#[template(path = "jobs.html", block = "job_table")]
pub struct JobsFragment {
    /// Live part.
    pub v: JobsView,
}

/// A related job with its link.
#[derive(Debug, Clone)]
pub struct RelatedRow {
    /// Id.
    pub id: String,
    /// Its page.
    pub url: String,
    /// Status, or `expired` when its hash is gone.
    pub status: String,
    /// CSS token.
    pub status_css: &'static str,
}

/// One results-stream entry for display.
#[derive(Debug, Clone)]
pub struct ResultRow {
    /// Type name.
    pub kind: String,
    /// When written.
    pub created: Option<TimeCell>,
    /// Return value repr.
    pub value: Option<String>,
    /// Traceback.
    pub exc: Option<String>,
    /// Worker.
    pub worker: String,
    /// Execution id.
    pub execution_id: String,
    /// Duration of the execution.
    pub duration: Option<String>,
}

/// A label and a value for the detail table.
#[derive(Debug, Clone)]
pub struct Field {
    /// Label.
    pub name: String,
    /// Value.
    pub value: String,
}

/// `/<n>/view/job/<id>`.
#[derive(Template)]
#[template(path = "job.html")]
pub struct JobPageView {
    /// Layout.
    pub layout: Layout,
    /// Id.
    pub id: String,
    /// Status.
    pub status: String,
    /// Status CSS token.
    pub status_css: &'static str,
    /// Description.
    pub description: String,
    /// Origin queue and its list URL.
    pub origin: Option<(String, String)>,
    /// Function name.
    pub func_name: String,
    /// Call string, when decodable.
    pub call: Option<String>,
    /// Why data was not decodable.
    pub call_error: Option<String>,
    /// Args reprs.
    pub args: Vec<String>,
    /// Kwargs (name, repr).
    pub kwargs: Vec<(String, String)>,
    /// Instance repr for method jobs.
    pub instance: Option<String>,
    /// Meta repr.
    pub meta: Option<String>,
    /// Latest return value repr.
    pub result: Option<String>,
    /// Full traceback.
    pub exc_info: Option<String>,
    /// Times.
    pub times: Vec<(String, Option<TimeCell>)>,
    /// Other fields (timeouts, TTLs, retries, worker, group, callbacks).
    pub fields: Vec<Field>,
    /// Worker name and its workers-page link.
    pub worker: Option<String>,
    /// Dependencies.
    pub dependencies: Vec<RelatedRow>,
    /// Dependents.
    pub dependents: Vec<RelatedRow>,
    /// Results stream entries.
    pub results: Vec<ResultRow>,
    /// Raw hash fields.
    pub raw: Vec<(String, String)>,
    /// Actions for this job's state.
    pub actions: Vec<ActionButton>,
}

/// The actions a job in `status` offers.
pub fn job_actions(layout: &Layout, id: &str, status: &str, origin: &str) -> Vec<ActionButton> {
    if layout.read_only {
        return Vec::new();
    }
    let u = &layout.urls;
    let mut a = Vec::new();
    if matches!(status, "failed" | "stopped") {
        a.push(ActionButton::new(
            "Requeue",
            u.act(&["job", id, "requeue"]),
            format!("Requeue job {id} at the end of queue “{origin}”?"),
        ));
        a.push(
            ActionButton::new(
                "Requeue at front",
                u.act(&["job", id, "requeue"]),
                format!("Requeue job {id} at the front of queue “{origin}”, to run next?"),
            )
            .field("at_front", "1"),
        );
    }
    if status == "scheduled" {
        a.push(ActionButton::new(
            "Enqueue now",
            u.act(&["job", id, "enqueue"]),
            format!("Enqueue scheduled job {id} on “{origin}” now instead of at its time?"),
        ));
    }
    if matches!(status, "queued" | "scheduled" | "deferred") {
        a.push(ActionButton::new(
            "Cancel",
            u.act(&["job", id, "cancel"]),
            format!("Cancel {status} job {id}? It moves to the canceled registry of “{origin}” and will not run."),
        ));
    }
    if status == "started" {
        a.push(
            ActionButton::new(
                "Stop",
                u.act(&["job", id, "stop"]),
                format!("Stop running job {id}? Its worker kills the job; it ends as stopped, in the failed registry."),
            )
            .danger(),
        );
    }
    if layout.can_delete {
        a.push(
            ActionButton::new(
                "Delete",
                u.act(&["job", id, "delete"]),
                format!("Delete job {id} and its data from “{origin}”? This cannot be undone."),
            )
            .danger(),
        );
    }
    a
}

fn related(rows: &[crate::rq::model::RelatedJob], urls: &Urls) -> Vec<RelatedRow> {
    rows.iter()
        .map(|r| {
            let (status, status_css) = match &r.status {
                Some(s) => (s.to_string(), s.css()),
                None => ("expired".to_string(), "missing"),
            };
            RelatedRow {
                id: r.id.clone(),
                url: urls.job(&r.id),
                status,
                status_css,
            }
        })
        .collect()
}

fn repr(d: &Decoded) -> String {
    d.repr(crate::rq::decode::MAX_REPR)
}

impl JobPageView {
    /// Builds the job page.
    pub fn new(layout: Layout, j: &JobDetail) -> JobPageView {
        let now = Utc::now();
        let urls = layout.urls.clone();
        let (status, status_css) = status_of(&j.status);
        let mut fields = Vec::new();
        let mut push = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                fields.push(Field {
                    name: name.to_string(),
                    value: v.clone(),
                });
            }
        };
        push("timeout (s)", &j.timeout);
        push("result TTL (s)", &j.result_ttl);
        push("failure TTL (s)", &j.failure_ttl);
        push("TTL (s)", &j.ttl);
        push("retries left", &j.retries_left);
        push("retry intervals", &j.retry_intervals);
        push("number of retries", &j.number_of_retries);
        push("group", &j.group_id);
        fields.push(Field {
            name: "key expires".into(),
            value: match j.key_ttl {
                -1 => "never".into(),
                t if t < 0 => "—".into(),
                t => format!("in {} ({t} s)", human_secs(t)),
            },
        });
        for (k, v) in &j.callbacks {
            fields.push(Field {
                name: format!("{k} callback"),
                value: v.clone(),
            });
        }
        let results = j
            .results
            .iter()
            .map(|r| ResultRow {
                kind: r.kind.as_str().to_string(),
                created: time_cell(r.created_at, now),
                value: r.return_value.as_ref().map(repr),
                exc: r.exc_string.clone(),
                worker: r.worker_name.clone().unwrap_or_default(),
                execution_id: r.execution_id.clone().unwrap_or_default(),
                duration: match (r.execution_started_at, r.execution_ended_at) {
                    (Some(a), Some(b)) => Some(format!(
                        "{:.3} s",
                        (b - a).num_microseconds().unwrap_or(0) as f64 / 1e6
                    )),
                    _ => None,
                },
            })
            .collect();
        JobPageView {
            id: j.id.clone(),
            status,
            status_css,
            description: j.description.clone().unwrap_or_default(),
            origin: j
                .origin
                .clone()
                .map(|o| (o.clone(), urls.jobs_default(&o, Registry::Queued))),
            func_name: j
                .call
                .as_ref()
                .map(|c| c.func_name.clone())
                .unwrap_or_default(),
            call: j.call.as_ref().map(|c| c.call_string(2000)),
            call_error: j.call_error.clone(),
            args: j
                .call
                .as_ref()
                .map(|c| c.args.iter().map(repr).collect())
                .unwrap_or_default(),
            kwargs: j
                .call
                .as_ref()
                .map(|c| c.kwargs.iter().map(|(k, v)| (k.clone(), repr(v))).collect())
                .unwrap_or_default(),
            instance: j.call.as_ref().and_then(|c| c.instance.clone()),
            meta: j.meta.as_ref().map(repr),
            result: j.return_value().map(repr),
            exc_info: j.exc_info().map(str::to_string),
            times: vec![
                ("created".into(), time_cell(j.created_at, now)),
                ("enqueued".into(), time_cell(j.enqueued_at, now)),
                ("started".into(), time_cell(j.started_at, now)),
                ("ended".into(), time_cell(j.ended_at, now)),
                ("last heartbeat".into(), time_cell(j.last_heartbeat, now)),
            ],
            fields,
            worker: j.worker_name.clone(),
            dependencies: related(&j.dependencies, &urls),
            dependents: related(&j.dependents, &urls),
            results,
            raw: j.raw_fields.clone(),
            actions: job_actions(
                &layout,
                &j.id,
                j.status.as_ref().map(|s| s.as_str()).unwrap_or(""),
                j.origin.as_deref().unwrap_or(""),
            ),
            layout,
        }
    }
}

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
}

/// The live part of the workers page.
#[derive(Debug, Clone)]
pub struct WorkersView {
    /// Rows.
    pub rows: Vec<WorkerRow>,
    /// Fragment URL.
    pub fragment_url: String,
    /// Poll interval in ms.
    pub poll_ms: u64,
    /// The anti-CSRF token.
    pub csrf_token: String,
}

impl WorkersView {
    /// Builds the view.
    pub fn new(
        workers: &[Worker],
        jobs: &std::collections::HashMap<String, JobSummary>,
        urls: &Urls,
        poll_ms: u64,
        perms: Perms,
        csrf_token: &str,
    ) -> WorkersView {
        let now = Utc::now();
        WorkersView {
            rows: workers
                .iter()
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
                    actions: if perms.act {
                        let mut a = vec![ActionButton::new(
                            "Shut down",
                            urls.act(&["worker", &w.name, "shutdown"]),
                            format!(
                                "Shut down worker {} after its current job (warm shutdown)?",
                                w.name
                            ),
                        )];
                        if w.state == "busy" {
                            a.push(
                                ActionButton::new(
                                    "Kill horse",
                                    urls.act(&["worker", &w.name, "kill-horse"]),
                                    format!(
                                        "Kill the work horse of {}? Its running job fails at once.",
                                        w.name
                                    ),
                                )
                                .danger(),
                            );
                        }
                        a
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
            fragment_url: format!("{}/{}/fragments/workers", urls.base, urls.n),
            poll_ms,
            csrf_token: csrf_token.to_string(),
        }
    }
}

/// `/<n>/view/workers`.
#[derive(Template)]
#[template(path = "workers.html")]
pub struct WorkersPage {
    /// Layout.
    pub layout: Layout,
    /// Live part.
    pub v: WorkersView,
}

/// The polled part of the workers page.
#[derive(Template)]
#[template(path = "workers.html", block = "worker_table")]
pub struct WorkersFragment {
    /// Live part.
    pub v: WorkersView,
}

/// A bulk task's progress for display.
#[derive(Debug, Clone)]
pub struct TaskView {
    /// Task id.
    pub id: u64,
    /// What it does.
    pub description: String,
    /// `running`, `finished`, `cancelled` or `failed`.
    pub state: &'static str,
    /// Why it failed.
    pub error: Option<String>,
    /// Entries to go through.
    pub total: u64,
    /// Jobs acted on.
    pub done: u64,
    /// Entries left alone.
    pub kept: u64,
    /// Percent through (0–100).
    pub percent: u64,
    /// Elapsed time.
    pub elapsed: String,
    /// Still running.
    pub running: bool,
    /// Cancel URL.
    pub cancel_url: String,
    /// Fragment URL.
    pub fragment_url: String,
    /// Poll interval in ms.
    pub poll_ms: u64,
}

impl TaskView {
    /// Builds the view.
    pub fn new(t: &crate::tasks::Task, urls: &Urls, poll_ms: u64) -> TaskView {
        use std::sync::atomic::Ordering::Relaxed;
        let state = t.state();
        let (total, done, kept) = (
            t.total.load(Relaxed),
            t.done.load(Relaxed),
            t.kept.load(Relaxed),
        );
        let end = t.finished_at().unwrap_or_else(Utc::now);
        TaskView {
            id: t.id,
            description: t.description.clone(),
            state: state.as_str(),
            error: match state {
                crate::tasks::TaskState::Failed(e) => Some(e),
                _ => None,
            },
            total,
            done,
            kept,
            percent: ((done + kept) * 100)
                .checked_div(total)
                .map_or(100, |p| p.min(100)),
            elapsed: format!(
                "{:.1} s",
                (end - t.started_at).num_milliseconds() as f64 / 1000.0
            ),
            running: t.state() == crate::tasks::TaskState::Running,
            cancel_url: format!("{}/{}/tasks/{}/cancel", urls.base, urls.n, t.id),
            fragment_url: format!("{}/{}/fragments/tasks/{}", urls.base, urls.n, t.id),
            poll_ms: poll_ms.min(1000),
        }
    }
}

/// `/<n>/tasks/<id>`.
#[derive(Template)]
#[template(path = "task.html")]
pub struct TaskPage {
    /// Layout.
    pub layout: Layout,
    /// Progress.
    pub v: TaskView,
}

/// The polled progress of a task.
#[derive(Template)]
#[template(path = "task.html", block = "task")]
pub struct TaskFragment {
    /// Progress.
    pub v: TaskView,
}

/// A group of failures for display.
#[derive(Debug, Clone)]
pub struct GroupRow {
    /// Exception type and normalised message.
    pub fingerprint: String,
    /// The newest real message.
    pub example: String,
    /// How many.
    pub count: String,
    /// The newest job of the group and its page.
    pub newest: (String, String),
    /// Requeue / delete the group.
    pub actions: Vec<ActionButton>,
}

/// `/<n>/view/failures/<queue>`.
#[derive(Template)]
#[template(path = "failures.html")]
pub struct FailuresPage {
    /// Layout.
    pub layout: Layout,
    /// Queue.
    pub queue: String,
    /// The failed list of the queue.
    pub list_url: String,
    /// Failed jobs in the registry.
    pub total: String,
    /// Failed jobs grouped (the newest ones).
    pub sampled: String,
    /// Whether only the newest were grouped.
    pub partial: bool,
    /// The groups, newest first.
    pub groups: Vec<GroupRow>,
}

impl FailuresPage {
    /// Builds the page.
    pub fn new(
        layout: Layout,
        queue: &str,
        total: u64,
        groups: &[crate::rq::groups::Group],
    ) -> FailuresPage {
        let urls = layout.urls.clone();
        let sampled: usize = groups.iter().map(|g| g.count).sum();
        let perms = Perms {
            act: !layout.read_only,
            delete: layout.can_delete,
        };
        FailuresPage {
            queue: queue.to_string(),
            list_url: urls.jobs_default(queue, Registry::Failed),
            total: thousands(total),
            sampled: thousands(sampled as u64),
            partial: (sampled as u64) < total,
            groups: groups
                .iter()
                .map(|g| {
                    let n = thousands(g.count as u64);
                    let mut actions = Vec::new();
                    if perms.act {
                        actions.push(ActionButton::new(
                            format!("Requeue {n}"),
                            urls.act(&["failures", queue, &g.key, "requeue"]),
                            format!("Requeue the {n} failed jobs of “{queue}” that failed with “{}”?", g.fingerprint),
                        ));
                    }
                    if perms.delete {
                        actions.push(
                            ActionButton::new(
                                format!("Delete {n}"),
                                urls.act(&["failures", queue, &g.key, "delete"]),
                                format!("Delete the {n} failed jobs of “{queue}” that failed with “{}”? This cannot be undone.", g.fingerprint),
                            )
                            .danger(),
                        );
                    }
                    let newest = g.ids.first().cloned().unwrap_or_default();
                    GroupRow {
                        fingerprint: g.fingerprint.clone(),
                        example: g.example.clone(),
                        count: n,
                        newest: (newest.clone(), urls.job(&newest)),
                        actions,
                    }
                })
                .collect(),
            layout,
        }
    }
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
#[template(path = "all.html")]
pub struct AllPage {
    /// Layout.
    pub layout: Layout,
    /// The instances.
    pub blocks: Vec<InstanceBlock>,
}

/// A full error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Layout.
    pub layout: Layout,
    /// Title.
    pub heading: String,
    /// What happened, for a person.
    pub message: String,
    /// HTTP status code.
    pub code: u16,
}

/// An error inside a polled region.
#[derive(Template)]
#[template(path = "partials/error.html")]
pub struct ErrorFragment {
    /// Title.
    pub heading: String,
    /// What happened.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_encode_everything_that_could_break_a_path() {
        assert_eq!(seg("a/b:c ünï"), "a%2Fb%3Ac%20%C3%BCn%C3%AF");
        assert_eq!(seg("100%"), "100%25");
        assert_eq!(seg(".."), "%2E%2E");
        assert_eq!(seg("job-1_a.b"), "job-1_a.b");
    }

    #[test]
    fn the_page_window_stays_inside_the_pages() {
        assert_eq!(page_window(1, 3, 10), 1..=3);
        assert_eq!(page_window(50, 100, 10), 45..=54);
        assert_eq!(page_window(100, 100, 10), 91..=100);
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc::now();
        let t = time_cell(Some(now - chrono::Duration::seconds(300)), now).unwrap();
        assert_eq!(t.rel, "5 min ago");
        let t = time_cell(Some(now + chrono::Duration::seconds(7200)), now).unwrap();
        assert_eq!(t.rel, "in 2 h");
    }
}
