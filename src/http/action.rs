//! The one way in and out of every POST action.
//!
//! In: [`Action`] reads the form, refuses cross-site requests (`Sec-Fetch-Site`, `Origin`, and
//! the per-process token when a request carries one) and actions this dashboard or this user may
//! not do (`--read-only`, the read-only credential), and resolves the instance. Destructive
//! handlers also call [`Action::allow_delete`] (`--disable-delete`).
//!
//! Out: [`Action::reply`] answers htmx with a banner and `HX-Refresh`/`HX-Redirect`, a plain
//! browser form with a 303 redirect (or the error page), anything else with JSON
//! (`{"status": "OK", ...}` as rq-dashboard). Every action, refused ones too, is logged (target
//! `rqdash::audit`) and appended to the audit trail ([`crate::audit`]) with who, what, where and
//! how many, and the instance's shared snapshot is dropped so the next page shows the effect.

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

/// The client's address: the peer's, or behind a trusted proxy the nearest `X-Forwarded-For`
/// entry that is not itself a trusted proxy (entries further left are the client's own say).
pub fn client_address(req: &HttpRequest, state: &AppState) -> String {
    let s = &state.settings;
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
    crate::config::access::log_safe(&client)
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

/// At most this many selected ids are named in an audit entry's target.
const IDS_NAMED: usize = 20;

/// What an action was aimed at, from its path and form: a job, a group, a worker, a task, the
/// selected ids, or a search's query.
fn target_of(req: &HttpRequest, form: &[(String, String)]) -> String {
    let m = req.match_info();
    let pattern = req.match_pattern().unwrap_or_default();
    if let Some(id) = m.get("id") {
        return if pattern.contains("/tasks/") {
            format!("task {id}")
        } else {
            match m.get("execution") {
                Some(x) => format!("job {id} execution {x}"),
                None => format!("job {id}"),
            }
        };
    }
    if let Some(name) = m.get("name") {
        return if pattern.contains("/worker/") {
            format!("worker {name}")
        } else {
            format!("group {name}")
        };
    }
    if let Some(key) = m.get("key") {
        return format!("failure group {key}");
    }
    let ids: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "ids" || k == "ids[]")
        .map(|(_, v)| v.as_str())
        .collect();
    if !ids.is_empty() {
        let mut t = format!("ids {}", ids[..ids.len().min(IDS_NAMED)].join(","));
        if ids.len() > IDS_NAMED {
            t.push_str(&format!(" and {} more", ids.len() - IDS_NAMED));
        }
        return t;
    }
    let query: Vec<(&str, &str)> = form
        .iter()
        .filter(|(k, v)| !v.is_empty() && !matches!(k.as_str(), "csrf_token" | "queue" | "confirm"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut t = serde_urlencoded::to_string(&query).unwrap_or_default();
    if let Some(r) = m.get("registry") {
        t = if t.is_empty() {
            format!("registry {r}")
        } else {
            format!("registry {r}; {t}")
        };
    }
    t
}

/// How an action was answered, for its audit entry.
struct Said<'a> {
    /// The action's label.
    what: &'a str,
    /// The answer's status.
    status: u16,
    /// The message shown.
    message: &'a str,
    /// The answer's JSON fields (`count`, `total`, `task`).
    extra: Option<&'a serde_json::Map<String, Value>>,
}

/// The audit entry of an action answered as `said`.
fn entry(
    req: &HttpRequest,
    state: &AppState,
    viewer: &Viewer,
    form: &[(String, String)],
    said: Said<'_>,
) -> crate::audit::Entry {
    let Said {
        what,
        status,
        message,
        extra,
    } = said;
    let ctx = crate::http::context::current();
    let mut action = what.to_string();
    if let Some(verb) = req
        .match_info()
        .get("verb")
        .or(req.match_info().get("command"))
    {
        if !action.ends_with(verb) {
            action = format!("{action}:{verb}");
        }
    }
    // The path's queue, else the one the handler acted on, and only then the form's word.
    let queue = req
        .match_info()
        .get("queue")
        .map(str::to_string)
        .or_else(|| {
            extra
                .and_then(|x| x.get("queue"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .or_else(|| {
            form.iter()
                .find(|(k, _)| k == "queue")
                .map(|(_, v)| v.clone())
        })
        .filter(|q| !q.is_empty());
    let num = |k: &str| extra.and_then(|x| x.get(k)).and_then(Value::as_u64);
    crate::audit::Entry {
        user: viewer.user.clone().unwrap_or_else(|| "anonymous".into()),
        roles: match &viewer.grants {
            Some(g) => g.roles.clone(),
            None => vec![if viewer.perms.act {
                "operator"
            } else {
                "viewer"
            }
            .to_string()],
        },
        groups: ctx.groups,
        address: client_address(req, state),
        action,
        queue,
        target: target_of(req, form),
        count: num("count").or(num("total")),
        outcome: crate::audit::outcome_of(status).to_string(),
        status,
        task: num("task"),
        message: message.to_string(),
        ..crate::audit::Entry::default()
    }
}

/// Logs `e` under the target `rqdash::audit`.
fn log(n: usize, e: &crate::audit::Entry) {
    let who = crate::config::access::log_safe(&format!("{}@{}", e.user, e.address));
    let message = crate::config::access::log_safe(&e.message);
    if matches!(e.outcome.as_str(), "done" | "started") {
        tracing::info!(target: "rqdash::audit", who = %who, instance = n, action = %e.action, result = %message, "action");
    } else {
        tracing::warn!(target: "rqdash::audit", who = %who, instance = n, action = %e.action, status = e.status, error = %message, "action refused or failed");
    }
}

/// Redacts `e`, logs it (target `rqdash::audit`) and appends it to instance `n`'s trail in the
/// background.
fn record(state: &web::Data<AppState>, n: usize, mut e: crate::audit::Entry) {
    state.audit.redact(&mut e);
    log(n, &e);
    let Some(repo) = state.instances.get(n).cloned() else {
        return;
    };
    let state = state.clone();
    actix_web::rt::spawn(async move { state.audit.record(&repo, n, e).await });
}

/// Records a POST refused before it reached its handler. Without a known user (no login, a
/// wrong one, a host name the dashboard does not answer to) it is logged and counted only, so
/// that nobody can push the real entries out of the capped trail from outside; a signed-in user
/// the policy gives no role (`user`) goes to the trail. The action is the path's last part, the
/// instance its first number.
pub fn record_unauthenticated(
    req: &actix_web::dev::ServiceRequest,
    state: &web::Data<AppState>,
    resp: &HttpResponse,
    user: Option<&str>,
) {
    let path = req
        .path()
        .strip_prefix(state.settings.url_prefix.as_str())
        .unwrap_or(req.path());
    let n = path
        .split('/')
        .find(|p| !p.is_empty())
        .and_then(|p| p.parse().ok())
        .filter(|n| *n < state.instances.len())
        .unwrap_or(0);
    let status = resp.status().as_u16();
    let e = crate::audit::Entry {
        user: user.unwrap_or("anonymous").to_string(),
        roles: Vec::new(),
        address: client_address(req.request(), state),
        action: path
            .rsplit('/')
            .find(|p| !p.is_empty())
            .unwrap_or("action")
            .to_string(),
        target: crate::rq::decode::truncate(path, 200).to_string(),
        outcome: crate::audit::outcome_of(status).to_string(),
        status,
        message: if user.is_some() {
            "the policy gives this user no role".to_string()
        } else if status == 401 {
            "no valid login".to_string()
        } else {
            "refused before sign-in (host name or proxy header)".to_string()
        },
        ..crate::audit::Entry::default()
    };
    if user.is_some() {
        record(state, n, e);
    } else {
        let mut e = e;
        state.audit.redact(&mut e);
        log(n, &e);
        state.audit.count_unauthenticated(n);
    }
}

/// Refuses an action before it starts: records it and answers in the caller's form.
fn refuse(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    viewer: &Viewer,
    form: &[(String, String)],
    e: AppError,
) -> HttpResponse {
    let n = req
        .match_info()
        .get("n")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let what = label_of(req);
    let message = e.to_string();
    record(
        state,
        n,
        entry(
            req,
            state,
            viewer,
            form,
            Said {
                what: &what,
                status: e.status().as_u16(),
                message: &message,
                extra: None,
            },
        ),
    );
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
        let allowed = super::csrf::check(&req, &token, &form).and_then(|()| {
            if state.settings.read_only {
                Err(AppError::Disabled(
                    "this dashboard runs with --read-only: actions are disabled".into(),
                ))
            } else if !viewer.perms.act && viewer.grants.is_some() {
                let roles = viewer.grants.as_ref().map(|g| g.roles.join(", "));
                Err(AppError::Forbidden(format!(
                    "{} (roles: {}) may only look: none of these roles grants an action",
                    viewer.user.as_deref().unwrap_or("anonymous"),
                    roles.unwrap_or_default()
                )))
            } else if !viewer.perms.act {
                Err(AppError::Disabled(
                    "you are signed in with the read-only credential: actions are disabled".into(),
                ))
            } else {
                Ok(())
            }
        });
        if let Err(e) = allowed {
            return Err(refusal(refuse(&req, &state, &viewer, &form, e)));
        }
        let inst = Instance::resolve(&req)?;
        Ok(Action { inst, form })
    }

    /// Refuses destructive actions under `--disable-delete`.
    ///
    /// # Errors
    /// `Disabled` when deleting is disabled.
    pub fn allow_delete(&self) -> Result<(), AppError> {
        // Who may delete where is the policy's business ([`Action::require`]); the read-only
        // switches were checked before the handler ran.
        if !self.inst.state.settings.disable_delete {
            Ok(())
        } else {
            Err(AppError::Disabled(
                "this dashboard runs with --disable-delete: deleting and emptying are disabled"
                    .into(),
            ))
        }
    }

    /// Refuses `action` on `queue` (`None`: every queue) unless the policy grants it
    /// ([`Viewer::require`]).
    ///
    /// # Errors
    /// `Forbidden`, naming the missing permission.
    pub fn require(&self, action: &str, queue: Option<&str>) -> Result<(), AppError> {
        self.inst.viewer.require(action, queue)
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
        let done = match r {
            Ok(done) => done,
            Err(e) => {
                let message = e.to_string();
                let status = e.status().as_u16();
                let said = Said {
                    what,
                    status,
                    message: &message,
                    extra: None,
                };
                let entry = entry(req, state, &self.inst.viewer, &self.form, said);
                record(state, n, entry);
                return self.inst.answer(Kind::Action, Err(e));
            }
        };
        let status = if done.accepted { 202 } else { 200 };
        let said = Said {
            what,
            status,
            message: &done.message,
            extra: Some(&done.extra),
        };
        let entry = entry(req, state, &self.inst.viewer, &self.form, said);
        record(state, n, entry);
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
