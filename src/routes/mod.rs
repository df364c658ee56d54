//! The route table and the handlers, grouped by area. Handlers stay thin: validate the request,
//! ask the repository, build a view, render.
//!
//! URLs follow rq-dashboard's so bookmarks and scripts keep working; queue names and job ids are
//! single percent-encoded path segments.

use actix_web::{http::header, web, HttpResponse};
use askama::Template;

use crate::error::AppError;
use crate::state::AppState;
use crate::views::{ErrorFragment, ErrorPage};

pub mod actions;
pub mod api;
pub mod assets;
pub mod health;
pub mod metrics;
pub mod pages;

/// Registers every route (the caller wraps them in the URL-prefix scope).
pub fn configure(cfg: &mut web::ServiceConfig) {
    actions::configure(cfg);
    cfg.route("/", web::get().to(pages::home))
        .route("/healthz", web::get().to(health::healthz))
        .route("/metrics", web::get().to(metrics::metrics))
        .route("/all", web::get().to(pages::all_instances))
        .route("/static/{file}", web::get().to(assets::asset))
        .route("/favicon.ico", web::get().to(assets::favicon))
        .route("/{n}", web::get().to(pages::overview_page))
        .route("/{n}/", web::get().to(pages::overview_page))
        .route("/{n}/view", web::get().to(pages::overview_page))
        .route("/{n}/view/", web::get().to(pages::overview_page))
        .route("/{n}/view/queues", web::get().to(pages::overview_page))
        .route("/{n}/view/workers", web::get().to(pages::workers_page))
        .route("/{n}/view/jobs", web::get().to(pages::jobs_index))
        .route(
            "/{n}/view/jobs/{queue}/{registry}/{per_page}/{order}/{page}",
            web::get().to(pages::jobs_page),
        )
        .route("/{n}/view/job/{id}", web::get().to(pages::job_page))
        .route(
            "/{n}/view/failures/{queue}",
            web::get().to(pages::failures_page),
        )
        .route("/{n}/jump", web::get().to(pages::jump))
        .route(
            "/{n}/fragments/overview",
            web::get().to(pages::overview_fragment),
        )
        .route(
            "/{n}/fragments/workers",
            web::get().to(pages::workers_fragment),
        )
        .route(
            "/{n}/fragments/jobs/{queue}/{registry}/{per_page}/{order}/{page}",
            web::get().to(pages::jobs_fragment),
        )
        .route("/{n}/data/queues.json", web::get().to(api::queues))
        .route("/{n}/data/workers.json", web::get().to(api::workers))
        .route(
            "/{n}/data/jobs/{queue}/{registry}/{per_page}/{order}/{page}",
            web::get().to(api::jobs),
        )
        .route("/{n}/data/job/{id}", web::get().to(api::job));
}

/// Parses the instance number of a path.
///
/// # Errors
/// `NotFound` when it is not a number (so `/favicon.png` and the like are plain 404s).
pub fn instance_number(s: &str) -> Result<usize, AppError> {
    s.parse()
        .map_err(|_| AppError::NotFound(format!("no page at “{s}”")))
}

fn no_store(mut r: HttpResponse) -> HttpResponse {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

/// Renders a full page, or the error page with the layout of instance `n`.
pub fn page(state: &AppState, n: usize, r: Result<String, AppError>) -> HttpResponse {
    match r {
        Ok(body) => no_store(
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(body),
        ),
        Err(e) => {
            e.log();
            let p = ErrorPage {
                layout: state.layout(n, "error", e.title()),
                heading: e.title().to_string(),
                message: e.to_string(),
                code: e.status().as_u16(),
            };
            let body = p
                .render()
                .unwrap_or_else(|_| format!("{}: {}", e.title(), e));
            no_store(
                HttpResponse::build(e.status())
                    .content_type("text/html; charset=utf-8")
                    .body(body),
            )
        }
    }
}

/// Renders a polled fragment, or a small error alert with the real status.
pub fn fragment(r: Result<String, AppError>) -> HttpResponse {
    match r {
        Ok(body) => no_store(
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(body),
        ),
        Err(e) => {
            e.log();
            let body = ErrorFragment {
                heading: e.title().to_string(),
                message: e.to_string(),
            }
            .render()
            .unwrap_or_else(|_| e.to_string());
            no_store(
                HttpResponse::build(e.status())
                    .content_type("text/html; charset=utf-8")
                    .body(body),
            )
        }
    }
}

/// Renders a JSON answer, or `{"status": "error", "message": ...}` with the real status.
pub fn json(r: Result<serde_json::Value, AppError>) -> HttpResponse {
    match r {
        Ok(v) => no_store(HttpResponse::Ok().json(v)),
        Err(e) => {
            e.log();
            no_store(HttpResponse::build(e.status()).json(serde_json::json!({
                "status": "error",
                "error": e.title(),
                "message": e.to_string(),
            })))
        }
    }
}
