//! What is wrong now (`/<n>/view/health`), and the overview's problems panel.

use crate::i18n;
use askama::Template;
use chrono::Utc;

use super::format::{time_cell, TimeCell};
use super::layout::Layout;
use super::urls::Urls;
use crate::health::Problem;
use crate::rq::model::Registry;

/// A problem for display.
#[derive(Debug, Clone)]
pub struct ProblemRow {
    /// The rule.
    pub rule: &'static str,
    /// `warning` or `critical`.
    pub severity: &'static str,
    /// The sentence.
    pub message: String,
    /// What it concerns, with a link: queue, worker or job.
    pub links: Vec<(String, String)>,
    /// Since when.
    pub since: Option<TimeCell>,
}

/// The problems, or the first few of them.
#[derive(Debug, Clone)]
pub struct ProblemsView {
    /// The rows shown.
    pub rows: Vec<ProblemRow>,
    /// How many there are in all.
    pub total: usize,
    /// The page with all of them.
    pub page_url: String,
    /// The polled fragment.
    pub fragment_url: String,
    /// Poll interval in ms.
    pub poll_ms: u64,
}

impl ProblemsView {
    /// Builds the view of `problems`, the first `limit` of them when given.
    pub fn new(
        problems: &[Problem],
        urls: &Urls,
        limit: Option<usize>,
        poll_ms: u64,
    ) -> ProblemsView {
        let now = Utc::now();
        ProblemsView {
            rows: problems
                .iter()
                .take(limit.unwrap_or(usize::MAX))
                .map(|p| {
                    let mut links = Vec::new();
                    if let Some(q) = &p.queue {
                        links.push((
                            i18n::tf("health.link_queue", &[("queue", q)]),
                            urls.jobs_default(q, Registry::Queued),
                        ));
                    }
                    if let Some(w) = &p.worker {
                        links.push((
                            i18n::tf("health.link_worker", &[("worker", w)]),
                            super::urls::with_query(
                                &urls.workers(),
                                &format!("q={}", super::urls::seg(w)),
                            ),
                        ));
                    }
                    if let Some(j) = &p.job {
                        links.push((i18n::tf("health.link_job", &[("id", j)]), urls.job(j)));
                    }
                    ProblemRow {
                        rule: p.rule,
                        severity: p.severity.as_str(),
                        message: p.shown(),
                        links,
                        since: time_cell(p.since, now),
                    }
                })
                .collect(),
            total: problems.len(),
            page_url: urls.health(),
            fragment_url: urls.problems_fragment(),
            poll_ms,
        }
    }
}

/// `/<n>/view/health`.
#[derive(Template)]
#[template(path = "health/index.html")]
pub struct HealthPage {
    /// Layout.
    pub layout: Layout,
    /// Every problem.
    pub v: ProblemsView,
}

/// The overview's problems panel.
#[derive(Template)]
#[template(path = "health/panel.html")]
pub struct ProblemsFragment {
    /// The first few problems.
    pub v: ProblemsView,
}
