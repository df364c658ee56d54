//! Health: `GET /healthz` (200 when every Redis answers, 503 saying which does not), and what is
//! wrong now on each instance: the problems page, its panel on the overview, and `health.json`.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde_json::json;

use crate::error::AppError;
use crate::health::{self, Problem};
use crate::http::extract::Instance;
use crate::i18n;
use crate::rq::RepoError;
use crate::state::AppState;
use crate::views::health::{HealthPage, ProblemsFragment, ProblemsView};

/// Pings every instance; answers 200 `{"status": "ok"}` or 503 with the failures.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let mut failures = Vec::new();
    for (i, repo) in state.instances.iter().enumerate() {
        if let Err(e) = repo.ping().await {
            failures.push(json!({ "instance": i, "error": e.to_string() }));
        }
    }
    if failures.is_empty() {
        HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "status": "ok", "instances": state.instances.len() }))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "status": "unavailable", "failures": failures }))
    }
}

/// The problems of instance `n` now, each stamped with since when it has been seen. Reads only
/// what is shared anyway (the snapshot, the cron state) plus RQ 3.0's rate-limit keys.
///
/// # Errors
/// When Redis does not answer.
pub async fn problems_of(state: &AppState, n: usize) -> Result<Vec<Problem>, RepoError> {
    let repo = &state.instances[n];
    let snap = repo.snapshot().await?;
    let cron = repo.cron_shared().await?;
    let limits = repo.rate_limits_shared().await?;
    let now = Utc::now();
    let th = &state.settings.thresholds;
    let mut found = health::evaluate(&snap, Some(&cron), &limits, th, now);
    add_failure_rules(state, n, &mut found, now);
    state.problems.stamp(n, &mut found, now);
    Ok(found)
}

/// The problems of instance `n` from what is already read: the snapshot, and the cron state and
/// rate limits as last read by the health page, panel or JSON. Costs Redis nothing beyond the
/// snapshot (for `/metrics`).
///
/// # Errors
/// When Redis does not answer.
pub async fn problems_as_read(state: &AppState, n: usize) -> Result<Vec<Problem>, RepoError> {
    let repo = &state.instances[n];
    let snap = repo.snapshot().await?;
    let (cron, limits) = repo.cron_and_rate_limits_as_read().await;
    let now = Utc::now();
    let limits: &[_] = limits.as_deref().map_or(&[], |l| l.as_slice());
    let mut found = health::evaluate(
        &snap,
        cron.as_deref(),
        limits,
        &state.settings.thresholds,
        now,
    );
    add_failure_rules(state, n, &mut found, now);
    state.problems.look(n, &mut found, now);
    Ok(found)
}

/// Adds the failure-rate, failure-burst and stall problems (from memory: the history and what
/// the background loop learnt), then drops the silenced ones and orders them again.
fn add_failure_rules(
    state: &AppState,
    n: usize,
    found: &mut Vec<Problem>,
    now: chrono::DateTime<Utc>,
) {
    // Messages are English whoever asks (JSON, webhooks); pages translate them
    // (`Problem::shown`).
    i18n::sync_scope(i18n::Lang::EN, || {
        let th = &state.settings.thresholds;
        found.extend(crate::failure_watch::rate_problems(
            &state.history[n],
            th,
            now,
        ));
        found.extend(state.bursts.problems(n, th));
        found.extend(state.stalls.problems(n));
        health::finish(found, th, now);
    });
}

/// The problems the viewer may see: none about a queue their roles hide.
fn visible(inst: &Instance, mut problems: Vec<Problem>) -> Vec<Problem> {
    problems.retain(|p| p.queue.as_deref().is_none_or(|q| inst.viewer.sees(q)));
    problems
}

/// `GET /{n}/data/health.json`: `problems[]` with `rule, severity, message, queue, worker, job,
/// since`.
pub async fn json(inst: Instance) -> HttpResponse {
    let r = async {
        let problems = visible(&inst, problems_of(&inst.state, inst.n).await?);
        Ok(json!({ "problems": problems }))
    }
    .await;
    inst.json(r)
}

/// `GET /{n}/view/health`: every problem, with links to what it concerns.
pub async fn page(inst: Instance) -> HttpResponse {
    let r = async {
        let problems = visible(&inst, problems_of(&inst.state, inst.n).await?);
        Ok(HealthPage {
            layout: inst.layout("health", i18n::t("nav.health")),
            v: ProblemsView::new(&problems, &inst.urls, None, inst.poll_ms()),
        }
        .render()?)
    }
    .await;
    inst.page(r)
}

/// `GET /{n}/fragments/problems`: the overview's problems panel (empty when all is well).
pub async fn panel(inst: Instance) -> HttpResponse {
    let r = async {
        let problems = visible(&inst, problems_of(&inst.state, inst.n).await?);
        Ok::<_, AppError>(
            ProblemsFragment {
                v: ProblemsView::new(&problems, &inst.urls, Some(5), inst.poll_ms()),
            }
            .render()?,
        )
    }
    .await;
    inst.fragment(r)
}
