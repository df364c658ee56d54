//! RQ 3.0's rate limits: the page of every key, one key's waiting jobs, and `rate_limits.json`.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{AppError, Missing};
use crate::http::extract::Instance;
use crate::i18n;
use crate::views::rate_limits::{rate_limit_row, RateLimitPage, RateLimitsPage};

/// Waiting jobs listed on a key's page.
const WAITING_SHOWN: u64 = 100;

/// `GET /{n}/view/rate-limits`.
pub async fn page(inst: Instance) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let limits = inst.repo.rate_limits().await?;
        Ok(RateLimitsPage {
            layout: inst.layout("rate-limits", i18n::t("nav.rate_limits")),
            limits: limits
                .iter()
                .map(|l| rate_limit_row(l, &inst.urls))
                .collect(),
        }
        .render()?)
    }
    .await;
    inst.page(r)
}

/// Path of one rate limit.
#[derive(Debug, Deserialize)]
pub struct KeyPath {
    key: String,
}

/// `GET /{n}/view/rate-limits/{key}`: the jobs waiting for a slot.
pub async fn show(inst: Instance, path: web::Path<KeyPath>) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let key = &path.key;
        let state = inst
            .repo
            .rate_limits()
            .await?
            .into_iter()
            .find(|l| &l.key == key)
            .ok_or_else(|| {
                AppError::NotFound(
                    Missing::RateLimit,
                    format!("no rate limit with key “{key}”"),
                )
            })?;
        let (total, jobs) = inst
            .repo
            .rate_limit_waiting(key, 0, WAITING_SHOWN, &inst.sight())
            .await?;
        Ok(RateLimitPage::new(
            inst.layout(
                "rate-limits",
                i18n::tf("title.rate_limit", &[("key", &key)]),
            ),
            &state,
            total,
            &jobs,
        )
        .render()?)
    }
    .await;
    inst.page(r)
}

/// `GET /{n}/data/rate_limits.json`.
pub async fn json(inst: Instance) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let now = Utc::now();
        let limits: Vec<Value> = inst
            .repo
            .rate_limits()
            .await?
            .iter()
            .map(|l| {
                json!({
                    "key": l.key,
                    "concurrency": l.concurrency,
                    "in_use": l.in_use,
                    "waiting": l.waiting,
                    "oldest_waiting_age_s": l.oldest_waiting_since
                        .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0),
                    "leaked": l.leaked.len(),
                    "leaked_ids": l.leaked,
                })
            })
            .collect();
        Ok(json!({ "rate_limits": limits }))
    }
    .await;
    inst.json(r)
}
