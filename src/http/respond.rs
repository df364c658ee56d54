//! The one responder: every answer the dashboard gives goes through here, so a page, a polled
//! fragment, JSON and an action's reply carry the same headers and render errors the same way,
//! each with the status the error chose ([`AppError::status`]).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde_json::{json, Value};

use crate::error::AppError;
use crate::http::viewer::{layout, Viewer};
use crate::i18n;
use crate::rq::RepoError;
use crate::state::AppState;
use crate::views::layout::{Banner, ErrorFragment, ErrorPage};

/// The kind of answer a request gets, which decides how an error looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A full page with the layout.
    Page,
    /// A piece of a page that htmx polls.
    Fragment,
    /// JSON.
    Json,
    /// A POST action: htmx gets a banner, a browser form a page, a script JSON.
    Action,
}

impl Kind {
    /// The kind of answer a request expects, from its method and URL area (`/data/…` is JSON,
    /// `/fragments/…` a fragment, a POST an action). Used where no handler has said it yet: the
    /// extractors' refusals.
    pub fn of(req: &HttpRequest) -> Kind {
        let path = req.path();
        if req.method() == actix_web::http::Method::POST {
            Kind::Action
        } else if path.contains("/data/") || path.ends_with(".json") {
            Kind::Json
        } else if path.contains("/fragments/") {
            Kind::Fragment
        } else {
            Kind::Page
        }
    }
}

fn no_store(mut r: HttpResponse) -> HttpResponse {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

fn html_with(status: StatusCode, body: String) -> HttpResponse {
    no_store(
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
    )
}

/// A 200 HTML answer.
pub fn html(body: String) -> HttpResponse {
    html_with(StatusCode::OK, body)
}

/// A 200 JSON answer.
pub fn json(v: &Value) -> HttpResponse {
    json_with(StatusCode::OK, v)
}

/// A JSON answer with `status`.
pub fn json_with(status: StatusCode, v: &Value) -> HttpResponse {
    no_store(HttpResponse::build(status).json(v))
}

/// Whether the request came from htmx.
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("hx-request")
}

/// Whether the client is a browser asking for HTML (a plain form post).
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// A short banner for htmx: what happened, or why not.
pub fn banner(status: StatusCode, message: String) -> HttpResponse {
    let ok = status.is_success();
    let b = Banner {
        css: if ok { "ok" } else { "error" },
        role: if ok { "status" } else { "alert" },
        message,
    };
    let body = b.render().unwrap_or_else(|_| b.message.clone());
    html_with(status, body)
}

/// What to do when Redis cannot be reached.
fn redis_hints(state: &AppState) -> Vec<String> {
    let urls: Vec<&str> = state.instances.iter().map(|r| r.label()).collect();
    vec![
        i18n::tf("error.hint_check", &[("urls", &urls.join(", "))]),
        i18n::t("error.hint_start").into(),
        i18n::t("error.hint_demo").into(),
    ]
}

/// Renders `e` as the answer of `kind`, with its status: the error page with instance `n`'s
/// layout, a fragment's alert, JSON, or an action's reply (htmx banner, error page for a browser
/// form, JSON for scripts). Logs server-side failures once.
pub fn error(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    n: usize,
    kind: Kind,
    e: AppError,
) -> HttpResponse {
    e.log();
    let status = e.status();
    let kind = match kind {
        Kind::Action if is_htmx(req) => return banner(status, e.to_string()),
        Kind::Action if wants_html(req) => Kind::Page,
        Kind::Action => Kind::Json,
        other => other,
    };
    match kind {
        Kind::Page => {
            let heading = i18n::word("error_title", e.title());
            let redis_down = matches!(
                e,
                AppError::Redis(RepoError::Unavailable(..) | RepoError::Timeout(..))
            );
            let p = ErrorPage {
                layout: layout(state, viewer, n, "error", heading.as_ref()),
                heading: heading.to_string(),
                message: e.to_string(),
                code: status.as_u16(),
                hints: if redis_down {
                    redis_hints(state)
                } else {
                    Vec::new()
                },
                retries: redis_down,
                // Back to the queues would fail the same way: the page asked for, again. (Not
                // an action's form post: a link cannot post it again.)
                again: (redis_down
                    && matches!(
                        *req.method(),
                        actix_web::http::Method::GET | actix_web::http::Method::HEAD
                    ))
                .then(|| crate::http::viewer::here(state, viewer)),
            };
            let body = p
                .render()
                .unwrap_or_else(|_| format!("{}: {}", e.title(), e));
            html_with(status, body)
        }
        Kind::Fragment => {
            let f = ErrorFragment {
                heading: i18n::word("error_title", e.title()).to_string(),
                message: e.to_string(),
            };
            html_with(status, f.render().unwrap_or_else(|_| e.to_string()))
        }
        Kind::Json | Kind::Action => json_with(
            status,
            &json!({
                "status": e.json_status(),
                "error": e.code(),
                "title": e.title(),
                "message": e.to_string(),
            }),
        ),
    }
}
