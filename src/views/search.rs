//! The search page (`/<n>/view/search?…`): the form, prefilled from the URL so a search can be
//! shared, and the polled results (progress, the usual job-list columns, pages over the matches,
//! and the buttons acting on every match once the search is complete).

use crate::i18n;
use askama::Template;
use chrono::Utc;
use std::sync::atomic::Ordering::Relaxed;

use super::buttons::{search_actions, ActionButton};
use super::jobs::{page_window, JobRow};
use super::layout::{Layout, Link, Perms};
use super::urls::Urls;
use crate::rq::model::JobSummary;
use crate::rq::search::{SearchForm, SearchQuery, SEARCHABLE};
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
            description: describe(&s.query),
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

/// What a search looks for, in the current language (the English is
/// [`SearchQuery::describe`]'s, word for word; JSON and the audit log keep that one).
pub fn describe(query: &SearchQuery) -> String {
    let registry = i18n::registry(query.registry.as_str());
    let mut s = match &query.queue {
        Some(q) => i18n::tf(
            "search.describe_queue",
            &[("registry", &registry), ("queue", q)],
        ),
        None => i18n::tf("search.describe_every", &[("registry", &registry)]),
    };
    let f = query.to_form();
    let mut parts = Vec::new();
    for (k, v) in [
        ("search.field_function", &f.func),
        ("search.field_exception", &f.exc),
        ("search.field_text", &f.q),
        ("search.field_worker", &f.worker),
        ("search.field_since", &f.since),
        ("search.field_until", &f.until),
    ] {
        if !v.is_empty() {
            parts.push(i18n::tf(k, &[("v", v)]));
        }
    }
    if !parts.is_empty() {
        s.push_str(&i18n::tf(
            "search.describe_with",
            &[("parts", &parts.join(i18n::t("search.parts_sep")))],
        ));
    }
    s
}

#[cfg(test)]
mod describe_tests {
    use super::*;
    use crate::rq::search::SearchForm;

    #[test]
    fn the_description_is_the_querys_in_english_and_translated_in_chinese() {
        for form in [
            SearchForm {
                queue: "*".into(),
                registry: "failed".into(),
                ..SearchForm::default()
            },
            SearchForm {
                queue: "mail".into(),
                registry: "finished".into(),
                func: "app.send".into(),
                exc: "Timeout".into(),
                q: "cust-1".into(),
                worker: "w1".into(),
                since: "2026-12-01T10:00:00Z".into(),
                until: "2026-12-01T11:00:00Z".into(),
            },
        ] {
            let q = form.parse().expect("valid search");
            assert_eq!(describe(&q), q.describe());
            let zh = i18n::Lang::from_code("zh-CN").unwrap();
            let d = i18n::sync_scope(zh, || describe(&q));
            assert!(d.contains("任务"), "{d}");
        }
    }
}
