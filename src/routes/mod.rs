//! The one route table, and the handlers, one file per area of the dashboard. Each area's page,
//! polled fragment, JSON and actions sit together; handlers stay thin: take an
//! [`Instance`](crate::http::extract::Instance) or an [`Action`](crate::http::action::Action),
//! ask the repository, build a view, answer through [`crate::http`].
//!
//! URLs follow rq-dashboard's so bookmarks and scripts keep working; queue names and job ids are
//! single percent-encoded path segments. Every action is also under `/<n>/...` so it always hits
//! the instance the operator looks at; the unprefixed forms act on instance 0. Every GET route
//! answers HEAD too (uptime monitors use it).

use actix_web::{guard, web, Route};

pub mod api;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod cron;
pub mod failures;
pub mod groups;
pub mod health;
pub mod history;
pub mod job;
pub mod jobs;
pub mod lang;
pub mod metrics;
pub mod overview;
pub mod queues;
pub mod rate_limits;
pub mod search;
pub mod tasks;
pub mod workers;

/// A route for GET and HEAD (actix answers HEAD without the body).
fn read() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// Registers every route (the caller wraps them in the URL-prefix scope). Each registration
/// keeps its method guard, so a POST pattern never hides a GET page and vice versa; among GET
/// routes, fixed paths come before the `/{n}` patterns.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for p in ["", "/{n}"] {
        let at = |s: &str| format!("{p}{s}");
        cfg.route(&at("/job/{id}/{verb}"), web::post().to(job::act))
            .route(
                &at("/job/{id}/executions/{execution}/stop"),
                web::post().to(job::stop_execution),
            )
            .route(&at("/jobs/{verb}"), web::post().to(jobs::act_on_selected))
            .route(&at("/requeue/{queue}"), web::post().to(queues::requeue))
            .route(&at("/requeue/{queue}"), web::get().to(queues::requeue))
            .route(&at("/requeue-all"), web::post().to(queues::requeue_all))
            .route(
                &at("/queue/{queue}/{registry}/empty"),
                web::post().to(queues::empty),
            )
            .route(
                &at("/queue/{queue}/compact"),
                web::post().to(queues::compact),
            )
            .route(&at("/queue/{queue}/clean"), web::post().to(queues::clean))
            .route(&at("/queue/{queue}/remove"), web::post().to(queues::remove))
            .route(
                &at("/worker/{name}/{command}"),
                web::post().to(workers::command),
            )
            .route(
                &at("/failures/{queue}/{key}/{verb}"),
                web::post().to(failures::act_on_group),
            )
            .route(&at("/groups/{name}/{verb}"), web::post().to(groups::act))
            .route(&at("/search/{verb}"), web::post().to(search::act))
            .route(&at("/suspend"), web::post().to(workers::suspend))
            .route(&at("/resume"), web::post().to(workers::resume));
    }
    cfg.route("/auth/login", read().to(auth::login))
        .route("/auth/callback", read().to(auth::callback))
        .route("/auth/logout", read().to(auth::logout))
        .route("/auth/logout", web::post().to(auth::logout))
        .route("/auth/signed-out", read().to(auth::signed_out));
    cfg.route("/", read().to(overview::page))
        .route("/healthz", read().to(health::healthz))
        .route("/metrics", read().to(metrics::metrics))
        .route("/all", read().to(overview::all_instances))
        .route("/static/{file}", read().to(assets::asset))
        .route("/favicon.ico", read().to(assets::favicon))
        .route("/lang/{code}", read().to(lang::switch))
        .route("/{n}", read().to(overview::page))
        .route("/{n}/", read().to(overview::page))
        .route("/{n}/view", read().to(overview::page))
        .route("/{n}/view/", read().to(overview::page))
        .route("/{n}/view/queues", read().to(overview::page))
        .route("/{n}/fragments/overview", read().to(overview::fragment))
        .route("/{n}/data/queues.json", read().to(api::queues))
        .route("/{n}/data/token.json", read().to(api::token))
        .route("/{n}/view/audit", read().to(audit::page))
        .route("/{n}/fragments/audit", read().to(audit::fragment))
        .route("/{n}/data/audit.json", read().to(audit::json))
        .route("/{n}/data/audit.csv", read().to(audit::csv))
        .route("/{n}/view/workers", read().to(workers::page))
        .route("/{n}/fragments/workers", read().to(workers::fragment))
        .route("/{n}/data/workers.json", read().to(api::workers))
        .route("/{n}/view/jobs", read().to(jobs::index))
        .route(
            "/{n}/view/jobs/{queue}/{registry}/{per_page}/{order}/{page}",
            read().to(jobs::page),
        )
        .route(
            "/{n}/fragments/jobs/{queue}/{registry}/{per_page}/{order}/{page}",
            read().to(jobs::fragment),
        )
        .route(
            "/{n}/data/jobs/{queue}/{registry}/{per_page}/{order}/{page}",
            read().to(api::jobs),
        )
        .route("/{n}/view/groups", read().to(groups::page))
        .route("/{n}/view/groups/{name}", read().to(groups::show))
        .route("/{n}/data/groups.json", read().to(groups::json))
        .route("/{n}/view/rate-limits", read().to(rate_limits::page))
        .route("/{n}/view/rate-limits/{key}", read().to(rate_limits::show))
        .route("/{n}/data/rate_limits.json", read().to(rate_limits::json))
        .route("/{n}/view/health", read().to(health::page))
        .route("/{n}/fragments/problems", read().to(health::panel))
        .route("/{n}/fragments/charts", read().to(history::charts_fragment))
        .route(
            "/{n}/fragments/functions",
            read().to(history::functions_fragment),
        )
        .route("/{n}/data/history.json", read().to(history::json))
        .route("/{n}/data/stats.json", read().to(history::stats_json))
        .route("/{n}/data/health.json", read().to(health::json))
        .route("/{n}/view/cron", read().to(cron::page))
        .route("/{n}/fragments/cron", read().to(cron::fragment))
        .route("/{n}/data/cron.json", read().to(cron::json))
        .route("/{n}/view/search", read().to(search::page))
        .route("/{n}/fragments/search", read().to(search::fragment))
        .route("/{n}/data/search.json", read().to(search::json))
        .route("/{n}/view/job/{id}", read().to(job::page))
        .route("/{n}/data/job/{id}", read().to(api::job))
        .route("/{n}/jump", read().to(job::jump))
        .route("/{n}/view/failures/{queue}", read().to(failures::page))
        .route("/{n}/tasks/{id}", read().to(tasks::page))
        .route("/{n}/fragments/tasks/{id}", read().to(tasks::fragment))
        .route("/{n}/data/tasks/{id}", read().to(tasks::json))
        .route("/{n}/tasks/{id}/cancel", web::post().to(tasks::cancel))
        .route("/{n}/tasks/{id}/resume", web::post().to(tasks::resume));
}
