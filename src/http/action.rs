//! The one way in and out of every POST action.
//!
//! In: [`Action`] reads the form, refuses cross-site requests (`Sec-Fetch-Site`, `Origin`, and
//! the per-process token when a request carries one) and actions this dashboard or this user may
//! not do (`--read-only`, the read-only credential), and resolves the instance. Destructive
//! handlers also call [`Action::allow_delete`] (`--disable-delete`).
//!
//! Out: [`Action::reply`] answers htmx with a banner and `HX-Refresh`/`HX-Redirect`, a plain
//! browser form with a 303 redirect (or the error page), anything else with JSON
//! (`{"status": "OK", ...}` as rq-dashboard). Every action is logged (target `rqdash::audit`)
//! with who, what, where and how many, and the instance's shared snapshot is dropped so the next
//! page shows the effect.

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;

use crate::error::AppError;
use crate::http::extract::{refusal, Instance};
use crate::http::respond::{self, Kind};
use crate::http::viewer::Viewer;
use crate::state::AppState;

/// A successful action's answer.
#[derive(Debug, Default)]
pub struct Done {
    /// What happened, for people.
    pub message: String,
    /// Extra JSON fields (`count`, `task`, ...).
    pub extra: serde_json::Map<String, Value>,
    /// Where a browser should go next (else the current page is refreshed).
    pub redirect: Option<String>,
    /// 202 when work continues in the background.
    pub accepted: bool,
}

impl Done {
    /// A plain success: a message, then back to `redirect`.
    pub fn to(message: impl Into<String>, redirect: Option<String>) -> Done {
        Done {
            message: message.into(),
            redirect,
            ..Done::default()
        }
    }

    /// Adds a JSON field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Done {
        self.extra.insert(key.to_string(), value.into());
        self
    }
}

/// A checked POST action: the instance it acts on and its form fields.
pub struct Action {
    /// The instance.
    pub inst: Instance,
    /// Form fields and query parameters.
    pub form: Vec<(String, String)>,
}

/// Form fields and query parameters of the request.
fn params(req: &HttpRequest, body: &[u8]) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    p.extend(serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default());
    p
}

/// Refuses cross-site requests. Browsers send `Sec-Fetch-Site` (or at least `Origin`) on every
/// POST; it must say same-origin. A request with neither must carry the viewer's form token
/// (`csrf_token` field or `X-CSRF-Token` header: the pages' forms and htmx requests always do;
/// scripts read theirs from `/<n>/data/token.json`). A token, when sent, must be the viewer's own.
fn check_csrf(req: &HttpRequest, token: &str, form: &[(String, String)]) -> Result<(), AppError> {
    let h = req.headers();
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if let Some(site) = site {
        if site != "same-origin" && site != "none" {
            return Err(AppError::Forbidden(format!(
                "cross-site request refused (Sec-Fetch-Site: {site}): actions must come from this dashboard's own pages"
            )));
        }
    } else if let Some(origin) = origin {
        let host = h
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin_host != host {
            return Err(AppError::Forbidden(format!(
                "cross-site request refused (Origin: {origin}): actions must come from this dashboard's own pages"
            )));
        }
    }
    let sent = h
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            form.iter()
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v.clone())
        });
    let same = |t: &str| crate::http::auth::constant_time_eq(t.as_bytes(), token.as_bytes());
    match sent {
        Some(t) if !same(&t) => Err(AppError::Forbidden(
            "the form's security token is stale or wrong (or another user's): reload the page and try again".into(),
        )),
        None if site.is_none() && origin.is_none() => Err(AppError::Forbidden(
            "this request carries no security token and no Origin or Sec-Fetch-Site header: a script must send the X-CSRF-Token header with the token from /<n>/data/token.json".into(),
        )),
        _ => Ok(()),
    }
}

/// Who asked, for the audit log: the authenticated user (or `anonymous`) and the client
/// address: the peer's, or behind a trusted proxy the nearest `X-Forwarded-For` entry that is not
/// itself a trusted proxy (entries further left are the client's own say).
fn who(req: &HttpRequest, state: &AppState, viewer: &Viewer) -> String {
    let s = &state.settings;
    let user = viewer.user.clone().unwrap_or_else(|| "anonymous".into());
    let peer = req.peer_addr();
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let client = crate::config::access::client_address(
        peer.map(|a| a.ip()),
        &hops,
        crate::http::auth::from_trusted_proxy(peer, s),
        &s.trusted_proxies,
    );
    crate::config::access::log_safe(&format!("{user}@{client}"))
}

/// The audit label of a refused request: the last literal part of its path.
fn label_of(req: &HttpRequest) -> String {
    req.match_pattern()
        .and_then(|p| {
            p.rsplit('/')
                .find(|s| !s.starts_with('{') && !s.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "action".into())
}

/// Refuses an action before it starts: logs it and answers in the caller's form.
fn refuse(req: &HttpRequest, state: &AppState, viewer: &Viewer, e: AppError) -> HttpResponse {
    let n = req
        .match_info()
        .get("n")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    tracing::warn!(target: "rqdash::audit", who = %who(req, state, viewer), instance = n, action = %label_of(req), status = e.status().as_u16(), error = %crate::config::access::log_safe(&e.to_string()), "action refused or failed");
    respond::error(req, state, viewer, n, Kind::Action, e)
}

impl Action {
    async fn check(req: HttpRequest, body: web::Bytes) -> Result<Action, actix_web::Error> {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Err(refusal(
                HttpResponse::InternalServerError().body("no application state"),
            ));
        };
        let viewer = Viewer::current(&state);
        let form = params(&req, &body);
        let token = state.csrf_token(viewer.user.as_deref());
        let allowed = check_csrf(&req, &token, &form).and_then(|()| {
            if state.settings.read_only {
                Err(AppError::Disabled(
                    "this dashboard runs with --read-only: actions are disabled".into(),
                ))
            } else if !viewer.perms.act {
                Err(AppError::Disabled(
                    "you are signed in with the read-only credential: actions are disabled".into(),
                ))
            } else {
                Ok(())
            }
        });
        if let Err(e) = allowed {
            return Err(refusal(refuse(&req, &state, &viewer, e)));
        }
        let inst = Instance::resolve(&req)?;
        Ok(Action { inst, form })
    }

    /// Refuses destructive actions under `--disable-delete`.
    ///
    /// # Errors
    /// `Disabled` when deleting is disabled.
    pub fn allow_delete(&self) -> Result<(), AppError> {
        if self.inst.viewer.perms.delete {
            Ok(())
        } else {
            Err(AppError::Disabled(
                "this dashboard runs with --disable-delete: deleting and emptying are disabled"
                    .into(),
            ))
        }
    }

    /// Whether a form flag is set (`1`, `true`, `on`, `yes`).
    pub fn flag(&self, name: &str) -> bool {
        self.form
            .iter()
            .any(|(k, v)| k == name && matches!(v.as_str(), "1" | "true" | "on" | "yes"))
    }

    /// Every value of a repeated form field (`ids`, also as `ids[]`).
    pub fn values(&self, name: &str) -> Vec<String> {
        let alt = format!("{name}[]");
        self.form
            .iter()
            .filter(|(k, _)| *k == name || *k == alt)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn back(&self, fallback: String) -> String {
        self.inst
            .req
            .headers()
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or(fallback)
    }

    /// Turns the action's result into the answer the caller expects, logs it, and drops the
    /// shared snapshot so the next page shows the effect.
    pub fn reply(&self, what: &str, r: Result<Done, AppError>) -> HttpResponse {
        let (req, state, n) = (&self.inst.req, &self.inst.state, self.inst.n);
        self.inst.repo.invalidate();
        let who = who(req, state, &self.inst.viewer);
        let done = match r {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!(target: "rqdash::audit", who = %who, instance = n, action = what, status = e.status().as_u16(), error = %crate::config::access::log_safe(&e.to_string()), "action refused or failed");
                return self.inst.answer(Kind::Action, Err(e));
            }
        };
        tracing::info!(target: "rqdash::audit", who = %who, instance = n, action = what, result = %crate::config::access::log_safe(&done.message), "action");
        if respond::is_htmx(req) {
            let mut r = respond::banner(StatusCode::OK, done.message);
            let (name, value) = match &done.redirect {
                Some(u) => ("hx-redirect", u.as_str()),
                None => ("hx-refresh", "true"),
            };
            if let Ok(v) = header::HeaderValue::from_str(value) {
                r.headers_mut()
                    .insert(header::HeaderName::from_static(name), v);
            }
            r
        } else if respond::wants_html(req) {
            let to = done
                .redirect
                .clone()
                .unwrap_or_else(|| self.back(self.inst.urls.overview()));
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, to))
                .finish()
        } else {
            let mut body = done.extra;
            body.insert("status".into(), json!("OK"));
            body.insert("message".into(), json!(done.message));
            let code = if done.accepted {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            respond::json_with(code, &Value::Object(body))
        }
    }
}

impl FromRequest for Action {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Action, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await?;
            Action::check(req, body).await
        })
    }
}
