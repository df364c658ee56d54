//! RQ's job groups (2.0+): the groups page (`/<n>/view/groups`, size and status roll-up, newest
//! first) and a group's page (`/<n>/view/groups/<name>`, its jobs and the group actions).

use crate::i18n;
use askama::Template;
use chrono::Utc;

use super::buttons::{group_actions, ActionButton};
use super::format::{plural, thousands, time_cell, TimeCell};
use super::jobs::{page_window, JobRow};
use super::layout::{Layout, Link, Perms};
use super::urls::Urls;
use crate::rq::model::JobSummary;
use crate::rq::repository::groups::{GroupList, GroupSummary};

/// A group for display.
#[derive(Debug, Clone)]
pub struct GroupRow {
    /// Name.
    pub name: String,
    /// Its page.
    pub url: String,
    /// Ids in its set.
    pub count: String,
    /// Jobs by status, with the status's CSS token.
    pub statuses: Vec<(String, &'static str, String)>,
    /// Whether the roll-up covers only part of a very large group.
    pub partial: bool,
    /// When its newest job was created.
    pub newest: Option<TimeCell>,
}

/// Builds a group's row.
pub fn group_row(g: &GroupSummary, urls: &Urls) -> GroupRow {
    let now = Utc::now();
    GroupRow {
        name: g.name.clone(),
        url: urls.group(&g.name),
        count: thousands(g.count),
        statuses: g
            .statuses
            .iter()
            .map(|(s, n)| {
                let css = if s == "expired" {
                    "missing"
                } else {
                    crate::rq::JobStatus::parse(s).css()
                };
                (s.clone(), css, thousands(*n))
            })
            .collect(),
        partial: g.sampled < g.count,
        newest: time_cell(g.newest, now),
    }
}

/// `/<n>/view/groups`.
#[derive(Template)]
#[template(path = "groups/index.html")]
pub struct GroupsPage {
    /// Layout.
    pub layout: Layout,
    /// The page's groups, newest first.
    pub groups: Vec<GroupRow>,
    /// "1–100 of 1,500 groups", or empty when there are none.
    pub range: String,
    /// Pager links.
    pub pages: Vec<Link>,
    /// What the cap left out, or empty: "Only 10,000 of the 12,000 groups are listed".
    pub capped: String,
}

/// Groups per page of the groups page.
pub const GROUPS_PER_PAGE: usize = 100;

impl GroupsPage {
    /// Builds page `page` (1-based) of `list`.
    pub fn new(layout: Layout, list: &GroupList, page: usize) -> GroupsPage {
        let urls = layout.urls.clone();
        let pages = list.listed.div_ceil(GROUPS_PER_PAGE).max(1) as u64;
        let from = (page - 1) * GROUPS_PER_PAGE;
        GroupsPage {
            groups: list.groups.iter().map(|g| group_row(g, &urls)).collect(),
            range: if list.groups.is_empty() {
                String::new()
            } else {
                i18n::tf(
                    "lists.range_of",
                    &[
                        ("from", &(from + 1)),
                        ("to", &(from + list.groups.len())),
                        ("all", &plural(list.total, "group", "groups")),
                    ],
                )
            },
            pages: page_window(page as u64, pages, 15)
                .map(|p| Link {
                    label: p.to_string(),
                    url: format!("{}?page={p}", urls.groups()),
                    current: p == page as u64,
                })
                .collect(),
            capped: if list.truncated() {
                i18n::tf(
                    "groups.capped",
                    &[
                        ("listed", &thousands(list.listed as u64)),
                        ("total", &thousands(list.total)),
                    ],
                )
            } else {
                String::new()
            },
            layout,
        }
    }
}

/// `/<n>/view/groups/<name>`.
#[derive(Template)]
#[template(path = "groups/show.html")]
pub struct GroupPage {
    /// Layout.
    pub layout: Layout,
    /// The group.
    pub group: GroupRow,
    /// Its jobs on this page, newest first.
    pub rows: Vec<JobRow>,
    /// "jobs 1–50 of 120".
    pub range: String,
    /// Pager links.
    pub pages: Vec<Link>,
    /// Group actions.
    pub actions: Vec<ActionButton>,
}

/// Jobs per page of a group.
pub const PER_PAGE: usize = 50;

impl GroupPage {
    /// Builds the page for page `page` (1-based) of `ids`, whose rows are `jobs`.
    pub fn new(
        layout: Layout,
        g: &GroupSummary,
        jobs: &[JobSummary],
        total: usize,
        page: usize,
        perms: Perms,
    ) -> GroupPage {
        let urls = layout.urls.clone();
        let now = Utc::now();
        let pages = total.div_ceil(PER_PAGE).max(1);
        let from = (page - 1) * PER_PAGE;
        GroupPage {
            group: group_row(g, &urls),
            rows: jobs
                .iter()
                .map(|j| JobRow::new(j, "", &urls, now))
                .collect(),
            range: if total == 0 {
                i18n::t("groups.no_jobs").into()
            } else {
                i18n::tf(
                    "lists.range_of",
                    &[
                        ("from", &(from + 1)),
                        ("to", &(from + jobs.len())),
                        ("all", &plural(total as u64, "job", "jobs")),
                    ],
                )
            },
            pages: (1..=pages)
                .take(100)
                .map(|p| Link {
                    label: p.to_string(),
                    url: format!("{}?page={p}", urls.group(&g.name)),
                    current: p == page,
                })
                .collect(),
            actions: group_actions(&urls, perms, &g.name, &g.statuses),
            layout,
        }
    }
}
