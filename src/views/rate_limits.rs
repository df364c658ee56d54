//! RQ 3.0's rate limits (`/<n>/view/rate-limits`): per key the concurrency, slots in use, jobs
//! waiting, the oldest waiter's age and leaked slots; and one key's waiting jobs.

use crate::i18n;
use askama::Template;
use chrono::Utc;

use super::format::{human_secs, thousands, ScoreCell};
use super::jobs::JobRow;
use super::layout::Layout;
use super::urls::Urls;
use crate::rq::model::JobSummary;
use crate::rq::repository::rate_limits::RateLimitState;

/// A rate limit for display.
#[derive(Debug, Clone)]
pub struct RateLimitRow {
    /// Its key.
    pub key: String,
    /// Its waiting jobs' page.
    pub url: String,
    /// Concurrency.
    pub concurrency: String,
    /// Slots in use.
    pub in_use: String,
    /// Jobs waiting.
    pub waiting: String,
    /// How long the oldest waiter has waited.
    pub oldest: Option<String>,
    /// Leaked slots: job ids and their pages.
    pub leaked: Vec<(String, String)>,
}

/// Builds a rate limit's row.
pub fn rate_limit_row(s: &RateLimitState, urls: &Urls) -> RateLimitRow {
    let now = Utc::now();
    RateLimitRow {
        key: s.key.clone(),
        url: urls.rate_limit(&s.key),
        concurrency: s
            .concurrency
            .map(|c| c.to_string())
            .unwrap_or_else(|| "?".into()),
        in_use: thousands(s.in_use),
        waiting: thousands(s.waiting),
        oldest: s
            .oldest_waiting_since
            .map(|t| human_secs((now - t).num_seconds().max(0))),
        leaked: s
            .leaked
            .iter()
            .map(|id| (id.clone(), urls.job(id)))
            .collect(),
    }
}

/// `/<n>/view/rate-limits`.
#[derive(Template)]
#[template(path = "rate_limits/index.html")]
pub struct RateLimitsPage {
    /// Layout.
    pub layout: Layout,
    /// Every key.
    pub limits: Vec<RateLimitRow>,
}

/// `/<n>/view/rate-limits/<key>`: the jobs waiting for a slot.
#[derive(Template)]
#[template(path = "rate_limits/show.html")]
pub struct RateLimitPage {
    /// Layout.
    pub layout: Layout,
    /// The key.
    pub limit: RateLimitRow,
    /// Its waiting jobs, oldest first (the first page).
    pub rows: Vec<JobRow>,
    /// How many wait in all.
    pub total: String,
}

impl RateLimitPage {
    /// Builds the page.
    pub fn new(
        layout: Layout,
        s: &RateLimitState,
        total: u64,
        jobs: &[JobSummary],
    ) -> RateLimitPage {
        let urls = layout.urls.clone();
        let now = Utc::now();
        RateLimitPage {
            limit: rate_limit_row(s, &urls),
            rows: jobs
                .iter()
                .map(|j| JobRow::new(j, "", &urls, now))
                .collect(),
            total: thousands(total),
            layout,
        }
    }
}
