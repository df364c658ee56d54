//! The search page (`/<n>/view/search?…`): the form, prefilled from the URL so a search can be
//! shared, and the polled results (progress, the usual job-list columns, pages over the matches,
//! and the buttons acting on every match once the search is complete).

use crate::i18n;
use askama::Template;
use chrono::Utc;
use std::sync::atomic::Ordering::Relaxed;

use super::buttons::{describe_search, search_actions, ActionButton};
use super::jobs::{page_window, JobRow};
use super::layout::{Layout, Link, Perms};
use super::urls::Urls;
use crate::rq::model::JobSummary;
use crate::rq::search::{SearchForm, SEARCHABLE};
use crate::search::{Search, SearchState, MAX_MATCHES};

/// Matches per page on the search page.
pub const PER_PAGE: u64 = 25;

/// The live part of the search page.
#[derive(Debug, Clone)]
pub struct SearchView {
    /// The search, for people.
    pub description: String,
    /// `running`, `complete`, `cancelled` or `failed`.
    pub state: &'static str,
    /// Still scanning.
    pub running: bool,
    /// Why it stopped, when it failed.
    pub error: Option<String>,
    /// Entries read.
    pub scanned: u64,
    /// Entries there were at the start.
    pub to_scan: u64,
    /// Percent through (0–100).
    pub percent: u64,
    /// Matches (exact once complete).
    pub total: u64,
    /// More matches than ids are kept.
    pub truncated: bool,
    /// The cap on kept ids.
    pub cap: usize,
    /// Rows of this page.
    pub rows: Vec<JobRow>,
    /// Current page.
    pub page: u64,
    /// Pages.
    pub pages: u64,
    /// Page links.
    pub page_links: Vec<Link>,
    /// Previous page.
    pub prev_url: Option<String>,
    /// Next page.
    pub next_url: Option<String>,
    /// The fragment URL for polling.
    pub fragment_url: String,
    /// The JSON of this search.
    pub json_url: String,
    /// Stops the scan.
    pub stop_url: String,
    /// Scans again.
    pub again_url: String,
    /// Poll interval in ms.
    pub poll_ms: u64,
    /// Actions on every match.
    pub actions: Vec<ActionButton>,
    /// The anti-CSRF token (the fragment has no layout).
    pub csrf_token: String,
}

impl SearchView {
    /// Builds the view of page `page` of `s`; `jobs` are the rows of that page.
    pub fn new(
        s: &Search,
        page: u64,
        jobs: &[JobSummary],
        urls: &Urls,
        poll_ms: u64,
        perms: Perms,
        csrf_token: &str,
    ) -> SearchView {
        let state = s.state();
        let form = s.query.to_form();
        let (scanned, to_scan, total) = (
            s.scanned.load(Relaxed),
            s.to_scan.load(Relaxed),
            s.total.load(Relaxed),
        );
        let kept = s.kept() as u64;
        let pages = kept.div_ceil(PER_PAGE).max(1);
        let now = Utc::now();
        let complete = state == SearchState::Complete;
        let truncated = s.truncated();
        SearchView {
            description: describe_search(&s.query),
            state: state.as_str(),
            running: state == SearchState::Running,
            error: match state {
                SearchState::Failed(e) => Some(e),
                _ => None,
            },
            scanned,
            to_scan,
            percent: if complete {
                100
            } else {
                (scanned * 100)
                    .checked_div(to_scan)
                    .map_or(0, |p| p.min(99))
            },
            total,
            truncated,
            cap: MAX_MATCHES,
            rows: jobs.iter().map(|j| JobRow::new(j, "", urls, now)).collect(),
            page,
            pages,
            page_links: page_window(page, pages, 10)
                .map(|n| Link {
                    label: n.to_string(),
                    url: urls.search(&form, n),
                    current: n == page,
                })
                .collect(),
            prev_url: (page > 1).then(|| urls.search(&form, page - 1)),
            next_url: (page < pages).then(|| urls.search(&form, page + 1)),
            fragment_url: urls.search_fragment(&form, page),
            json_url: urls.search_json(&form, page),
            stop_url: urls.search_act("stop", &form),
            again_url: urls.search_fresh(&form),
            poll_ms: poll_ms.min(1000),
            actions: if complete && !truncated {
                search_actions(&s.query, total, urls, perms)
            } else {
                Vec::new()
            },
            csrf_token: csrf_token.to_string(),
        }
    }
}

/// `/<n>/view/search?…`.
#[derive(Template)]
#[template(path = "search/index.html")]
pub struct SearchPage {
    /// Layout.
    pub layout: Layout,
    /// The form's values.
    pub form: SearchForm,
    /// The registries a search may scan, for the select.
    pub registries: Vec<&'static str>,
    /// The queues, for the datalist.
    pub queues: Vec<String>,
    /// Why the query was refused, if it was.
    pub problem: Option<String>,
    /// The results, when a search was asked for.
    pub v: Option<SearchView>,
}

impl SearchPage {
    /// The registry names offered by the form.
    pub fn registry_names() -> Vec<&'static str> {
        SEARCHABLE.iter().map(|r| r.as_str()).collect()
    }
}

/// The polled results of a search.
#[derive(Template)]
#[template(path = "search/results.html")]
pub struct SearchFragment {
    /// Live part.
    pub v: SearchView,
}
