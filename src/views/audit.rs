//! The audit trail (`/<n>/view/audit`): who did what, where and how it went, newest first,
//! filtered by user, action, queue and time range, paged, its first page live; each entry links
//! to its job, queue or task.

use askama::Template;
use chrono::{DateTime, Utc};

use super::format::{thousands, time_cell, TimeCell};
use super::layout::Layout;
use super::urls::Urls;
use crate::audit::{Entry, Filter, Lost};
use crate::i18n;
use crate::rq::model::Registry;

/// One entry for display.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// Its stream id.
    pub id: String,
    /// When.
    pub time: Option<TimeCell>,
    /// Who.
    pub user: String,
    /// Their roles and groups.
    pub roles: String,
    /// From where.
    pub address: String,
    /// What.
    pub action: String,
    /// The queue and its page.
    pub queue: Option<(String, String)>,
    /// What it was aimed at, and its page when it has one (a job, a task).
    pub target: (String, Option<String>),
    /// How many jobs.
    pub count: String,
    /// `done`, `started`, `refused` or `failed`.
    pub outcome: String,
    /// The message shown to the user.
    pub message: String,
}

/// Builds the row of `e`.
pub fn audit_row(e: &Entry, urls: &Urls, now: DateTime<Utc>) -> AuditRow {
    let time = DateTime::parse_from_rfc3339(&e.time)
        .ok()
        .map(|t| t.with_timezone(&Utc));
    let target_url = if let Some(t) = e.task {
        Some(urls.task(t))
    } else {
        e.target
            .strip_prefix("job ")
            .map(|rest| urls.job(rest.split(' ').next().unwrap_or(rest)))
    };
    let mut roles = e.roles.join(", ");
    if !e.groups.is_empty() {
        roles = format!("{roles} ({})", e.groups.join(", "));
    }
    AuditRow {
        id: e.id.clone(),
        time: time_cell(time, now),
        user: e.user.clone(),
        roles,
        address: e.address.clone(),
        action: e.action.clone(),
        queue: e
            .queue
            .as_ref()
            .map(|q| (q.clone(), urls.jobs_default(q, Registry::Queued))),
        target: (e.target.clone(), target_url),
        count: e.count.map(thousands).unwrap_or_default(),
        outcome: e.outcome.clone(),
        message: e.message.clone(),
    }
}

/// The filter as the form shows it.
#[derive(Debug, Clone, Default)]
pub struct FilterForm {
    /// User.
    pub user: String,
    /// Action.
    pub action: String,
    /// Queue.
    pub queue: String,
    /// Since, as given.
    pub since: String,
    /// Until, as given.
    pub until: String,
}

/// `/<n>/view/audit`.
#[derive(Template)]
#[template(path = "audit/index.html")]
pub struct AuditPage {
    /// The layout.
    pub layout: Layout,
    /// The filter form's values.
    pub form: FilterForm,
    /// The list (also the live fragment).
    pub list: AuditList,
    /// The JSON export of this filter.
    pub json_url: String,
    /// The CSV export of this filter.
    pub csv_url: String,
    /// Entries the trail could not write (Redis refused them), as a sentence.
    pub lost: Option<String>,
    /// How many entries the trail holds, in words.
    pub held: String,
    /// POSTs refused before sign-in (logged, not in the trail), in words.
    pub unauthenticated: Option<String>,
}

/// The entries of one page (`/<n>/fragments/audit` when it is the first page: polled).
#[derive(Template)]
#[template(path = "audit/list.html")]
pub struct AuditList {
    /// The rows.
    pub rows: Vec<AuditRow>,
    /// The older page.
    pub older: Option<String>,
    /// The newest page, when this is not it.
    pub newest: Option<String>,
    /// The fragment to poll (first page only).
    pub live: Option<String>,
    /// The poll interval.
    pub poll_ms: u64,
}

/// The warning about entries the trail could not write.
pub fn lost_sentence(l: &Lost) -> String {
    i18n::tf(
        "audit.lost",
        &[
            ("n", &thousands(l.count)),
            ("since", &l.since),
            ("error", &l.error),
        ],
    )
}

impl AuditList {
    /// The list of `entries` under `filter`; `before` when it is not the first page, `next`
    /// where the older page starts.
    pub fn new(
        entries: &[Entry],
        urls: &Urls,
        filter: &Filter,
        before: Option<&str>,
        next: Option<&str>,
        poll_ms: u64,
    ) -> AuditList {
        let now = Utc::now();
        let q = filter.query();
        let with = |extra: &str| {
            if q.is_empty() {
                extra.to_string()
            } else if extra.is_empty() {
                q.clone()
            } else {
                format!("{q}&{extra}")
            }
        };
        AuditList {
            rows: entries.iter().map(|e| audit_row(e, urls, now)).collect(),
            older: next.map(|id| {
                urls.audit(&with(
                    &serde_urlencoded::to_string([("before", id)]).unwrap_or_default(),
                ))
            }),
            newest: before.map(|_| urls.audit(&q)),
            live: before.is_none().then(|| urls.audit_fragment(&q)),
            poll_ms,
        }
    }
}
