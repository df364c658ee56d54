//! Failures grouped by exception (`/<n>/view/failures/<queue>`): the newest failed jobs of a
//! queue, grouped by exception type and normalised message, with group actions.

use askama::Template;

use super::buttons::{failure_group_actions, ActionButton};
use super::format::thousands;
use super::layout::Layout;
use crate::rq::failure_groups::Group;
use crate::rq::model::Registry;

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
                (_, 0) => "No failed jobs.".to_string(),
                (s, t) if s < t => format!(
                    "These are the newest {} of {} failed jobs.",
                    thousands(s),
                    thousands(t)
                ),
                (_, 1) => "The one failed job.".to_string(),
                (_, t) => format!("All {} failed jobs.", thousands(t)),
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
                    }
                })
                .collect(),
            layout,
        }
    }
}
