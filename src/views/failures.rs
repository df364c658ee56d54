//! Failures grouped by exception (`/<n>/view/failures/<queue>`): the newest failed jobs of a
//! queue, grouped by exception type and normalised message, with group actions.

use crate::i18n;
use askama::Template;

use super::buttons::{failure_group_actions, ActionButton};
use super::format::thousands;
use super::layout::Layout;
use crate::rq::failure_groups::Group;
use crate::rq::model::Registry;
use crate::rq::search::{SearchForm, MAX_CRITERION};

/// The exception text that finds a group's failures: the fingerprint up to its first placeholder
/// (`#` for numbers, `…` for ids), so "TimeoutError: after # s" searches "TimeoutError: after".
pub fn similar_text(fingerprint: &str) -> String {
    let head = fingerprint.split(['#', '…']).next().unwrap_or("").trim();
    let head = if head.is_empty() { fingerprint } else { head };
    head.chars().take(MAX_CRITERION).collect()
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
    /// The search for similar failures ("find similar").
    pub similar: String,
}

/// `/<n>/view/failures/<queue>`.
#[derive(Template)]
#[template(path = "failures/show.html")]
pub struct FailuresPage {
    /// Layout.
    pub layout: Layout,
    /// Queue.
    pub queue: String,
    /// The failed list of the queue.
    pub list_url: String,
    /// What was grouped: all failed jobs, or the newest of how many.
    pub summary: String,
    /// The groups, newest first.
    pub groups: Vec<GroupRow>,
}

impl FailuresPage {
    /// Builds the page.
    pub fn new(layout: Layout, queue: &str, total: u64, groups: &[Group]) -> FailuresPage {
        let urls = layout.urls.clone();
        let sampled: usize = groups.iter().map(|g| g.count).sum();
        FailuresPage {
            queue: queue.to_string(),
            list_url: urls.jobs_default(queue, Registry::Failed),
            summary: match (sampled as u64, total) {
                (_, 0) => i18n::t("failures.none").to_string(),
                (s, t) if s < t => i18n::tf(
                    "failures.newest_of",
                    &[("n", &thousands(s)), ("total", &thousands(t))],
                ),
                (_, 1) => i18n::t("failures.the_one").to_string(),
                (_, t) => i18n::tf("failures.all", &[("n", &thousands(t))]),
            },
            groups: groups
                .iter()
                .map(|g| {
                    let n = thousands(g.count as u64);
                    let actions = failure_group_actions(
                        &urls,
                        layout.perms,
                        queue,
                        &g.key,
                        &g.fingerprint,
                        g.count,
                    );
                    let newest = g.ids.first().cloned().unwrap_or_default();
                    GroupRow {
                        fingerprint: g.fingerprint.clone(),
                        example: g.example.clone(),
                        count: n,
                        newest: (newest.clone(), urls.job(&newest)),
                        actions,
                        similar: urls.search(
                            &SearchForm {
                                queue: queue.to_string(),
                                registry: Registry::Failed.as_str().into(),
                                exc: similar_text(&g.fingerprint),
                                ..SearchForm::default()
                            },
                            1,
                        ),
                    }
                })
                .collect(),
            layout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::similar_text;

    #[test]
    fn find_similar_searches_the_fingerprint_up_to_its_first_placeholder() {
        assert_eq!(
            similar_text("TimeoutError: after # s on …"),
            "TimeoutError: after"
        );
        assert_eq!(
            similar_text("ValueError: disk full"),
            "ValueError: disk full"
        );
        assert_eq!(similar_text("#"), "#");
    }
}
