//! POST actions: rq-dashboard's endpoints (same paths, `{"status": "OK", ...}` answers) and new
//! ones, each also under `/<n>/...` so an action always hits the instance the operator looks at.
//!
//! Every action goes through `prepare`: cross-site requests are refused (`Sec-Fetch-Site`,
//! `Origin`, and the per-process token when a request carries one), `--read-only` refuses all
//! actions and `--disable-delete` the destructive ones, on the server. Every action is logged
//! (target `rqdash::audit`) with who, what, where and how many.
//!
//! Answers depend on the caller: htmx gets a short message and an `HX-Refresh`/`HX-Redirect`,
//! a plain browser form a 303 redirect, anything else JSON.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::error::AppError;
use crate::routes::pages::job_not_found;
use crate::routes::{instance_number, page};
use crate::rq::actions::{JobAction, Outcome, WorkerCommand};
use crate::rq::model::Registry;
use crate::rq::Repository;
use crate::state::AppState;
use crate::tasks::{self, BulkOp, TaskState};
use crate::views::{TaskFragment, TaskPage, TaskView};

/// The most ids one "selected jobs" request may carry.
pub const MAX_SELECTED: usize = 1_000;

/// Registers the action routes twice: unprefixed (instance 0, as rq-dashboard) and under
/// `/{n}`. Must come before the GET routes, whose `/{n}` patterns would otherwise take
/// `/suspend` and the like.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for p in ["", "/{n}"] {
        let r = |s: &str| format!("{p}{s}");
        cfg.route(&r("/job/{id}/requeue"), web::post().to(job_requeue))
            .route(&r("/job/{id}/delete"), web::post().to(job_delete))
            .route(&r("/job/{id}/cancel"), web::post().to(job_cancel))
            .route(&r("/job/{id}/stop"), web::post().to(job_stop))
            .route(&r("/job/{id}/enqueue"), web::post().to(job_enqueue))
            .route(&r("/jobs/{verb}"), web::post().to(selected))
            .route(&r("/requeue/{queue}"), web::post().to(requeue_queue))
            .route(&r("/requeue/{queue}"), web::get().to(get_refused))
            .route(&r("/requeue-all"), web::post().to(requeue_everywhere))
            .route(&r("/queue/{queue}/{registry}/empty"), web::post().to(empty))
            .route(&r("/queue/{queue}/compact"), web::post().to(compact))
            .route(&r("/queue/{queue}/clean"), web::post().to(clean))
            .route(&r("/queue/{queue}/remove"), web::post().to(remove_queue))
            .route(
                &r("/worker/{name}/shutdown"),
                web::post().to(worker_shutdown),
            )
            .route(
                &r("/worker/{name}/kill-horse"),
                web::post().to(worker_kill_horse),
            )
            .route(
                &r("/failures/{queue}/{key}/{verb}"),
                web::post().to(group_action),
            )
            .route(&r("/suspend"), web::post().to(suspend))
            .route(&r("/resume"), web::post().to(resume));
    }
    cfg.route("/{n}/tasks/{id}", web::get().to(task_page))
        .route("/{n}/tasks/{id}/cancel", web::post().to(task_cancel))
        .route("/{n}/fragments/tasks/{id}", web::get().to(task_fragment))
        .route("/{n}/data/tasks/{id}", web::get().to(task_json));
}

/// Path parameters of action routes (each route uses some).
#[derive(Debug, Default, Deserialize)]
pub struct ActionPath {
    n: Option<String>,
    id: Option<String>,
    queue: Option<String>,
    registry: Option<String>,
    name: Option<String>,
    verb: Option<String>,
    key: Option<String>,
}

/// Why an action was refused or failed.
#[derive(Debug)]
pub enum ActionError {
    /// Refused by configuration (`--read-only`, `--disable-delete`): 403, rq-dashboard's
    /// `"DISABLED"` status.
    Disabled(String),
    /// Refused as cross-site: 403.
    Forbidden(String),
    /// The job is not in a state the action applies to: 409.
    Conflict(String),
    /// Anything else.
    App(AppError),
}

impl From<AppError> for ActionError {
    fn from(e: AppError) -> Self {
        ActionError::App(e)
    }
}

impl From<crate::rq::RepoError> for ActionError {
    fn from(e: crate::rq::RepoError) -> Self {
        ActionError::App(e.into())
    }
}

impl ActionError {
    fn status(&self) -> StatusCode {
        match self {
            ActionError::Disabled(_) | ActionError::Forbidden(_) => StatusCode::FORBIDDEN,
            ActionError::Conflict(_) => StatusCode::CONFLICT,
            ActionError::App(e) => e.status(),
        }
    }

    fn message(&self) -> String {
        match self {
            ActionError::Disabled(m) | ActionError::Forbidden(m) | ActionError::Conflict(m) => {
                m.clone()
            }
            ActionError::App(e) => e.to_string(),
        }
    }
}

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

/// Who asked, for the audit log: the authenticated user (or `anonymous`) and the client
/// address (from `X-Forwarded-For` behind a trusted proxy).
fn who(req: &HttpRequest, state: &AppState) -> String {
    let user = crate::request_ctx::current()
        .user
        .unwrap_or_else(|| "anonymous".into());
    let forwarded = state
        .settings
        .trust_proxy
        .then(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_string())
        })
        .flatten();
    let peer = forwarded.unwrap_or_else(|| {
        req.peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default()
    });
    format!("{user}@{peer}")
}

/// Form fields and query parameters of the request.
fn params(req: &HttpRequest, body: &[u8]) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    p.extend(serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default());
    p
}

fn flag(p: &[(String, String)], name: &str) -> bool {
    p.iter()
        .any(|(k, v)| k == name && matches!(v.as_str(), "1" | "true" | "on" | "yes"))
}

/// Refuses cross-site requests. Browsers send `Sec-Fetch-Site` (or at least `Origin`) on every
/// POST; it must say same-origin. A request with neither comes from a script (curl, rq-dashboard
/// clients) and is accepted, unless it carries a token that is wrong. The pages' forms and htmx
/// requests always carry the token.
fn check_csrf(
    req: &HttpRequest,
    token: &str,
    form: &[(String, String)],
) -> Result<(), ActionError> {
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return Err(ActionError::Forbidden(format!(
                "cross-site request refused (Sec-Fetch-Site: {site}): actions must come from this dashboard's own pages"
            )));
        }
    } else if let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = h
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin_host != host {
            return Err(ActionError::Forbidden(format!(
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
    if let Some(t) = sent {
        if t != token {
            return Err(ActionError::Forbidden(
                "the form's security token is stale or wrong: reload the page and try again".into(),
            ));
        }
    }
    Ok(())
}

/// Common checks of every action; returns the instance number and its repository.
fn prepare(
    req: &HttpRequest,
    state: &AppState,
    path: &ActionPath,
    form: &[(String, String)],
    destructive: bool,
) -> Result<(usize, Arc<Repository>), ActionError> {
    check_csrf(req, &state.csrf_token, form)?;
    if state.settings.read_only {
        return Err(ActionError::Disabled(
            "this dashboard runs with --read-only: actions are disabled".into(),
        ));
    }
    if crate::request_ctx::current().read_only {
        return Err(ActionError::Disabled(
            "you are signed in with the read-only credential: actions are disabled".into(),
        ));
    }
    if destructive && state.settings.disable_delete {
        return Err(ActionError::Disabled(
            "this dashboard runs with --disable-delete: deleting and emptying are disabled".into(),
        ));
    }
    let n = match &path.n {
        Some(n) => instance_number(n)?,
        None => 0,
    };
    state.instance(n)?;
    Ok((n, state.instances[n].clone()))
}

fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("hx-request")
}

fn back(req: &HttpRequest, fallback: String) -> String {
    req.headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or(fallback)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Turns an action's result into the answer the caller expects.
fn reply(
    req: &HttpRequest,
    state: &AppState,
    what: &str,
    r: Result<Done, ActionError>,
) -> HttpResponse {
    let n = req
        .match_info()
        .get("n")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if let Some(repo) = state.instances.get(n) {
        // The next page must show the action's effect, not the shared snapshot from before it.
        repo.invalidate();
    }
    match r {
        Ok(done) => {
            tracing::info!(target: "rqdash::audit", who = %who(req, state), instance = n, action = what, result = %done.message, "action");
            if is_htmx(req) {
                let mut b = HttpResponse::Ok();
                match &done.redirect {
                    Some(u) => b.insert_header(("HX-Redirect", u.as_str())),
                    None => b.insert_header(("HX-Refresh", "true")),
                };
                b.content_type("text/html; charset=utf-8").body(format!(
                    "<p class=\"banner ok\" role=\"status\">{}</p>",
                    escape(&done.message)
                ))
            } else if wants_html(req) {
                let to = done
                    .redirect
                    .clone()
                    .unwrap_or_else(|| back(req, state.urls(n).overview()));
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
                HttpResponse::build(code)
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .json(Value::Object(body))
            }
        }
        Err(e) => {
            let status = e.status();
            tracing::warn!(target: "rqdash::audit", who = %who(req, state), instance = n, action = what, status = status.as_u16(), error = %e.message(), "action refused or failed");
            if is_htmx(req) {
                HttpResponse::build(status)
                    .content_type("text/html; charset=utf-8")
                    .body(format!(
                        "<p class=\"banner error\" role=\"alert\">{}</p>",
                        escape(&e.message())
                    ))
            } else if wants_html(req) {
                let err = match e {
                    ActionError::App(a) => a,
                    other if other.status() == StatusCode::CONFLICT => {
                        AppError::BadRequest(other.message())
                    }
                    other => AppError::BadRequest(other.message()),
                };
                let mut r = page(state, n, Err(err));
                *r.status_mut() = status;
                r
            } else {
                let label = match e {
                    ActionError::Disabled(_) => "DISABLED",
                    _ => "error",
                };
                HttpResponse::build(status).json(json!({"status": label, "message": e.message()}))
            }
        }
    }
}

/// Formats a count with thousands separators ("12,345").
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

async fn one_job(
    req: &HttpRequest,
    state: &AppState,
    path: &ActionPath,
    body: &[u8],
    action: JobAction,
) -> Result<Done, ActionError> {
    let form = params(req, body);
    let (n, repo) = prepare(req, state, path, &form, action == JobAction::Delete)?;
    let id = path.id.clone().unwrap_or_default();
    let brief = repo
        .job_brief(&id)
        .await?
        .ok_or_else(|| job_not_found(&id))?;
    let major = repo.rq_major(Some(&brief)).await?;
    let at_front = flag(&form, "at_front");
    let origin = brief.origin.clone().unwrap_or_default();
    let status = brief.status.clone().unwrap_or_else(|| "?".into());
    let out = repo
        .job_action(action, std::slice::from_ref(&id), major, at_front)
        .await?;
    let urls = state.urls(n);
    match (action, out.into_iter().next().unwrap_or(Outcome::Missing)) {
        (_, Outcome::Missing) => Err(job_not_found(&id).into()),
        (JobAction::Requeue, Outcome::WrongState(_)) => Err(ActionError::Conflict(format!(
            "job {id} is {status} and not in the failed registry of “{origin}”: only failed jobs can be requeued"
        ))),
        (JobAction::Cancel, Outcome::WrongState(s)) => Err(ActionError::Conflict(format!(
            "job {id} is {s}: only queued, scheduled or deferred jobs can be canceled (stop a started job instead)"
        ))),
        (JobAction::EnqueueNow, Outcome::WrongState(_)) => Err(ActionError::Conflict(format!(
            "job {id} is {status}, not scheduled: only scheduled jobs can be enqueued now"
        ))),
        (JobAction::Delete, Outcome::WrongState(s)) => Err(ActionError::Conflict(format!(
            "job {id} could not be deleted ({s})"
        ))),
        (JobAction::Requeue, Outcome::Ok) => Ok(Done {
            message: format!(
                "requeued job {id} to the {} of “{origin}”",
                if at_front { "front" } else { "end" }
            ),
            redirect: Some(urls.job(&id)),
            ..Done::default()
        }),
        (JobAction::Cancel, Outcome::Ok) => Ok(Done {
            message: format!("canceled job {id} of “{origin}”"),
            redirect: Some(urls.job(&id)),
            ..Done::default()
        }),
        (JobAction::EnqueueNow, Outcome::Ok) => Ok(Done {
            message: format!("enqueued scheduled job {id} on “{origin}” now"),
            redirect: Some(urls.job(&id)),
            ..Done::default()
        }),
        (JobAction::Delete, Outcome::Ok) => Ok(Done {
            message: format!("deleted job {id} of “{origin}”"),
            redirect: Some(urls.jobs_default(&origin, registry_of_status(&status))),
            ..Done::default()
        }),
    }
}

fn registry_of_status(status: &str) -> Registry {
    match status {
        "failed" | "stopped" => Registry::Failed,
        "finished" => Registry::Finished,
        "started" => Registry::Started,
        "deferred" => Registry::Deferred,
        "scheduled" => Registry::Scheduled,
        "canceled" => Registry::Canceled,
        _ => Registry::Queued,
    }
}

macro_rules! job_route {
    ($name:ident, $action:expr, $label:literal) => {
        #[doc = concat!("`POST /job/{id}/", $label, "`.")]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            path: web::Path<ActionPath>,
            body: web::Bytes,
        ) -> HttpResponse {
            let r = one_job(&req, &state, &path, &body, $action).await;
            reply(&req, &state, $label, r)
        }
    };
}

job_route!(job_requeue, JobAction::Requeue, "requeue");
job_route!(job_delete, JobAction::Delete, "delete");
job_route!(job_cancel, JobAction::Cancel, "cancel");
job_route!(job_enqueue, JobAction::EnqueueNow, "enqueue");

/// `POST /job/{id}/stop`: asks the job's worker to stop it (RQ's `stop-job` command).
pub async fn job_stop(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let r = async {
        let form = params(&req, &body);
        let (n, repo) = prepare(&req, &state, &path, &form, false)?;
        let id = path.id.clone().unwrap_or_default();
        let brief = repo
            .job_brief(&id)
            .await?
            .ok_or_else(|| job_not_found(&id))?;
        let status = brief.status.clone().unwrap_or_default();
        if status != "started" {
            return Err(ActionError::Conflict(format!(
                "job {id} is {status}, not started: only running jobs can be stopped"
            )));
        }
        let worker = brief.worker_name.clone().ok_or_else(|| {
            ActionError::Conflict(format!(
                "job {id} names no worker, so there is nobody to ask to stop it"
            ))
        })?;
        let got = repo
            .worker_command(&worker, &WorkerCommand::StopJob(id.clone()))
            .await?;
        if got == 0 {
            return Err(ActionError::Conflict(format!(
                "worker {worker} is not listening (it may have died): job {id} was not stopped"
            )));
        }
        Ok(Done {
            message: format!("asked worker {worker} to stop job {id}"),
            redirect: Some(state.urls(n).job(&id)),
            ..Done::default()
        })
    }
    .await;
    reply(&req, &state, "stop", r)
}

/// `POST /jobs/{requeue|delete|cancel|enqueue}` with form fields `ids`: the selected rows.
pub async fn selected(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let verb = path.verb.clone().unwrap_or_default();
    let r = async {
        let action = match verb.as_str() {
            "requeue" => JobAction::Requeue,
            "delete" => JobAction::Delete,
            "cancel" => JobAction::Cancel,
            "enqueue" => JobAction::EnqueueNow,
            other => {
                return Err(AppError::NotFound(format!(
                    "no action “{other}” on selected jobs: use requeue, delete, cancel or enqueue"
                ))
                .into())
            }
        };
        let form = params(&req, &body);
        let (_, repo) = prepare(&req, &state, &path, &form, action == JobAction::Delete)?;
        let ids: Vec<String> = form
            .iter()
            .filter(|(k, _)| k == "ids" || k == "ids[]")
            .map(|(_, v)| v.clone())
            .collect();
        if ids.is_empty() {
            return Err(AppError::BadRequest("no jobs selected: tick some rows first".into()).into());
        }
        if ids.len() > MAX_SELECTED {
            return Err(AppError::BadRequest(format!(
                "{} jobs selected: at most {MAX_SELECTED} at a time (use the whole-registry actions for more)",
                ids.len()
            ))
            .into());
        }
        let hint = repo.job_brief(&ids[0]).await?;
        let major = repo.rq_major(hint.as_ref()).await?;
        let (mut ok, mut missing, mut wrong) = (0u64, 0u64, 0u64);
        for chunk in ids.chunks(tasks::JOB_CHUNK as usize) {
            for o in repo
                .job_action(action, chunk, major, flag(&form, "at_front"))
                .await?
            {
                match o {
                    Outcome::Ok => ok += 1,
                    Outcome::Missing => missing += 1,
                    Outcome::WrongState(_) => wrong += 1,
                }
            }
        }
        let past = match action {
            JobAction::Requeue => "requeued",
            JobAction::Delete => "deleted",
            JobAction::Cancel => "canceled",
            JobAction::EnqueueNow => "enqueued",
        };
        let mut message = format!("{past} {}", plural(ok, "job", "jobs"));
        if wrong > 0 {
            message.push_str(&format!(", {} not in a state for it", thousands(wrong)));
        }
        if missing > 0 {
            message.push_str(&format!(", {} no longer exist", thousands(missing)));
        }
        let mut extra = serde_json::Map::new();
        extra.insert("count".into(), json!(ok));
        extra.insert("skipped".into(), json!(wrong));
        extra.insert("missing".into(), json!(missing));
        Ok(Done {
            message,
            extra,
            ..Done::default()
        })
    }
    .await;
    reply(&req, &state, "selected", r)
}

/// Starts a bulk task: small ones finish before answering, big ones go on in the background
/// and answer 202 with the task's progress page.
async fn bulk(
    state: &AppState,
    n: usize,
    repo: Arc<Repository>,
    op: BulkOp,
    what: String,
) -> Result<Done, ActionError> {
    let total = tasks::count(&repo, &op).await?;
    let task = state.tasks.create(n, what.clone());
    task.total.store(total, Ordering::Relaxed);
    let urls = state.urls(n);
    let task_url = format!("{}/{}/tasks/{}", urls.base, n, task.id);
    let mut extra = serde_json::Map::new();
    extra.insert("task".into(), json!(task.id));
    extra.insert("task_url".into(), json!(task_url));
    extra.insert("total".into(), json!(total));
    if total <= tasks::SYNC_LIMIT {
        tasks::run(&repo, &op, &task).await;
        let done = task.done.load(Ordering::Relaxed);
        let kept = task.kept.load(Ordering::Relaxed);
        extra.insert("count".into(), json!(done));
        extra.insert("kept".into(), json!(kept));
        return match task.state() {
            TaskState::Failed(e) => Err(ActionError::App(AppError::Internal(e))),
            _ => Ok(Done {
                message: format!(
                    "{what}: {} done{}",
                    thousands(done),
                    if kept > 0 {
                        format!(", {} left alone", thousands(kept))
                    } else {
                        String::new()
                    }
                ),
                extra,
                ..Done::default()
            }),
        };
    }
    extra.insert("count".into(), json!(total));
    let t = task.clone();
    actix_web::rt::spawn(async move { tasks::run(&repo, &op, &t).await });
    Ok(Done {
        message: format!("{what}: started, {} to go", thousands(total)),
        extra,
        redirect: Some(task_url),
        accepted: true,
    })
}

async fn queue_known(repo: &Repository, queue: &str) -> Result<(), ActionError> {
    if repo.queue_exists(queue).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("no queue named “{queue}”")).into())
    }
}

/// `POST /requeue/{queue}`: requeue every failed job of a queue.
pub async fn requeue_queue(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let r = async {
        let form = params(&req, &body);
        let (n, repo) = prepare(&req, &state, &path, &form, false)?;
        let queue = path.queue.clone().unwrap_or_default();
        queue_known(&repo, &queue).await?;
        let at_front = flag(&form, "at_front");
        let what = format!("requeue the failed jobs of “{queue}”");
        bulk(
            &state,
            n,
            repo,
            BulkOp::Requeue {
                queues: vec![queue],
                at_front,
            },
            what,
        )
        .await
    }
    .await;
    reply(&req, &state, "requeue-queue", r)
}

/// `GET /requeue/{queue}`: refused (rq-dashboard accepted GET; a link must not change data).
pub async fn get_refused() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "POST"))
        .json(json!({"status": "error", "message": "requeueing changes data: use POST"}))
}

/// `POST /requeue-all`: requeue every failed job of every queue.
pub async fn requeue_everywhere(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let r = async {
        let form = params(&req, &body);
        let (n, repo) = prepare(&req, &state, &path, &form, false)?;
        let queues = repo
            .overview()
            .await?
            .queues
            .into_iter()
            .map(|q| q.name)
            .collect();
        let at_front = flag(&form, "at_front");
        bulk(
            &state,
            n,
            repo,
            BulkOp::Requeue { queues, at_front },
            "requeue the failed jobs of every queue".into(),
        )
        .await
    }
    .await;
    reply(&req, &state, "requeue-all", r)
}

/// `POST /queue/{queue}/{registry}/empty`: empty a queue (`queued`) or purge a registry.
pub async fn empty(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let r = async {
        let form = params(&req, &body);
        let (n, repo) = prepare(&req, &state, &path, &form, true)?;
        let queue = path.queue.clone().unwrap_or_default();
        let reg_name = path.registry.clone().unwrap_or_default();
        let registry = Registry::parse(&reg_name).ok_or_else(|| {
            AppError::BadRequest(format!("unknown registry “{reg_name}”"))
        })?;
        queue_known(&repo, &queue).await?;
        let (op, what) = match registry {
            Registry::Queued => (BulkOp::Empty { queue: queue.clone() }, format!("empty queue “{queue}”")),
            Registry::Started | Registry::Ready => {
                return Err(AppError::BadRequest(format!(
                    "the {registry} registry cannot be emptied: its jobs are running or about to run (stop them instead)"
                ))
                .into())
            }
            r => (
                BulkOp::Purge { queue: queue.clone(), registry: r },
                format!("delete the {r} jobs of “{queue}”"),
            ),
        };
        let mut done = bulk(&state, n, repo, op, what).await?;
        if done.redirect.is_none() {
            done.redirect = Some(state.urls(n).jobs_default(&queue, registry));
        }
        Ok(done)
    }
    .await;
    reply(&req, &state, "empty", r)
}

macro_rules! queue_bulk_route {
    ($name:ident, $label:literal, $op:ident, $what:literal) => {
        #[doc = concat!("`POST /queue/{queue}/", $label, "`.")]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            path: web::Path<ActionPath>,
            body: web::Bytes,
        ) -> HttpResponse {
            let r = async {
                let form = params(&req, &body);
                let (n, repo) = prepare(&req, &state, &path, &form, true)?;
                let queue = path.queue.clone().unwrap_or_default();
                queue_known(&repo, &queue).await?;
                let what = format!($what, queue);
                bulk(&state, n, repo, BulkOp::$op { queue }, what).await
            }
            .await;
            reply(&req, &state, $label, r)
        }
    };
}

queue_bulk_route!(compact, "compact", Compact, "compact queue “{}”");
queue_bulk_route!(
    clean,
    "clean",
    Clean,
    "clean ghost ids from the registries of “{}”"
);

/// `POST /queue/{queue}/remove`: drop an empty queue from RQ's queue set.
pub async fn remove_queue(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let r = async {
        let form = params(&req, &body);
        let (n, repo) = prepare(&req, &state, &path, &form, true)?;
        let queue = path.queue.clone().unwrap_or_default();
        queue_known(&repo, &queue).await?;
        if !repo.remove_empty_queue(&queue).await? {
            return Err(ActionError::Conflict(format!(
                "queue “{queue}” still has jobs: empty it first"
            )));
        }
        Ok(Done {
            message: format!("removed empty queue “{queue}”"),
            redirect: Some(state.urls(n).overview()),
            ..Done::default()
        })
    }
    .await;
    reply(&req, &state, "remove-queue", r)
}

async fn worker_cmd(
    req: &HttpRequest,
    state: &AppState,
    path: &ActionPath,
    body: &[u8],
    cmd: WorkerCommand,
) -> Result<Done, ActionError> {
    let form = params(req, body);
    let (n, repo) = prepare(req, state, path, &form, false)?;
    let name = path.name.clone().unwrap_or_default();
    if !repo.worker_exists(&name).await? {
        return Err(AppError::NotFound(format!("no worker named “{name}”")).into());
    }
    let got = repo.worker_command(&name, &cmd).await?;
    if got == 0 {
        return Err(ActionError::Conflict(format!(
            "worker {name} is not listening on its command channel (it may have died)"
        )));
    }
    let what = match cmd {
        WorkerCommand::Shutdown => "to shut down",
        WorkerCommand::KillHorse => "to kill its work horse",
        WorkerCommand::StopJob(_) => "to stop its job",
    };
    Ok(Done {
        message: format!("asked worker {name} {what}"),
        redirect: Some(state.urls(n).workers()),
        ..Done::default()
    })
}

/// `POST /worker/{name}/shutdown`: warm shutdown.
pub async fn worker_shutdown(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let r = worker_cmd(&req, &state, &path, &body, WorkerCommand::Shutdown).await;
    reply(&req, &state, "worker-shutdown", r)
}

/// `POST /worker/{name}/kill-horse`: kill the running job's process.
pub async fn worker_kill_horse(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let r = worker_cmd(&req, &state, &path, &body, WorkerCommand::KillHorse).await;
    reply(&req, &state, "worker-kill-horse", r)
}

async fn set_suspended(
    req: &HttpRequest,
    state: &AppState,
    path: &ActionPath,
    body: &[u8],
    on: bool,
) -> Result<Done, ActionError> {
    let form = params(req, body);
    let (n, repo) = prepare(req, state, path, &form, false)?;
    repo.set_suspended(on).await?;
    Ok(Done {
        message: if on {
            "suspended all workers: they finish their current job and take no new one"
        } else {
            "resumed all workers"
        }
        .into(),
        redirect: Some(state.urls(n).overview()),
        ..Done::default()
    })
}

/// `POST /suspend`: `rq suspend`.
pub async fn suspend(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let r = set_suspended(&req, &state, &path, &body, true).await;
    reply(&req, &state, "suspend", r)
}

/// `POST /resume`: `rq resume`.
pub async fn resume(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let r = set_suspended(&req, &state, &path, &body, false).await;
    reply(&req, &state, "resume", r)
}

fn find_task(state: &AppState, n: &str, id: &str) -> Result<(usize, Arc<tasks::Task>), AppError> {
    let n = instance_number(n)?;
    state.instance(n)?;
    let task = id
        .parse()
        .ok()
        .and_then(|id| state.tasks.get(n, id))
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "no task {id}: tasks are kept in memory until the dashboard restarts"
            ))
        })?;
    Ok((n, task))
}

/// `GET /{n}/tasks/{id}`: a bulk task's progress page.
pub async fn task_page(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (n_s, id) = path.into_inner();
    let n = instance_number(&n_s).unwrap_or(0);
    let r = find_task(&state, &n_s, &id).and_then(|(n, t)| {
        Ok(TaskPage {
            layout: state.layout(n, "queues", "Task"),
            v: TaskView::new(&t, &state.urls(n), state.poll_ms()),
        }
        .render()?)
    });
    page(&state, n, r)
}

/// `GET /{n}/fragments/tasks/{id}`: the polled progress.
pub async fn task_fragment(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (n_s, id) = path.into_inner();
    let r = find_task(&state, &n_s, &id).and_then(|(n, t)| {
        Ok(TaskFragment {
            v: TaskView::new(&t, &state.urls(n), state.poll_ms()),
        }
        .render()?)
    });
    crate::routes::fragment(r)
}

/// `GET /{n}/data/tasks/{id}.json`.
pub async fn task_json(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (n_s, id) = path.into_inner();
    let id = id.strip_suffix(".json").unwrap_or(&id).to_string();
    crate::routes::json(find_task(&state, &n_s, &id).map(|(_, t)| t.to_json()))
}

/// `POST /{n}/tasks/{id}/cancel`: stop a bulk task after its current chunk.
pub async fn task_cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (n_s, id) = path.into_inner();
    let r = async {
        let form = params(&req, &body);
        let ap = ActionPath {
            n: Some(n_s.clone()),
            ..ActionPath::default()
        };
        prepare(&req, &state, &ap, &form, false)?;
        let (n, task) = find_task(&state, &n_s, &id)?;
        task.request_cancel();
        Ok(Done {
            message: format!("asked task {} to stop", task.id),
            redirect: Some(format!("{}/{}/tasks/{}", state.urls(n).base, n, task.id)),
            ..Done::default()
        })
    }
    .await;
    reply(&req, &state, "task-cancel", r)
}

/// `POST /{n}/failures/{queue}/{group}/{requeue|delete}`: every job of a failure group.
pub async fn group_action(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<ActionPath>,
    body: web::Bytes,
) -> HttpResponse {
    let r = async {
        let verb = path.verb.clone().unwrap_or_default();
        let action = match verb.as_str() {
            "requeue" => JobAction::Requeue,
            "delete" => JobAction::Delete,
            other => {
                return Err(AppError::NotFound(format!(
                    "no action “{other}” on a failure group: use requeue or delete"
                ))
                .into())
            }
        };
        let form = params(&req, &body);
        let (n, repo) = prepare(&req, &state, &path, &form, action == JobAction::Delete)?;
        let queue = path.queue.clone().unwrap_or_default();
        let key = path.key.clone().unwrap_or_default();
        let (_, failures) = repo
            .failures(&queue, crate::routes::pages::GROUP_LIMIT)
            .await?;
        let groups = crate::rq::groups::group(failures);
        let g = groups.into_iter().find(|g| g.key == key).ok_or_else(|| {
            AppError::NotFound(
                "that failure group no longer exists: its jobs may have been requeued or deleted meanwhile".into(),
            )
        })?;
        let hint = repo.job_brief(&g.ids[0]).await?;
        let major = repo.rq_major(hint.as_ref()).await?;
        let mut ok = 0u64;
        for chunk in g.ids.chunks(tasks::JOB_CHUNK as usize) {
            ok += repo
                .job_action(action, chunk, major, false)
                .await?
                .into_iter()
                .filter(|o| *o == Outcome::Ok)
                .count() as u64;
        }
        let past = if action == JobAction::Requeue { "requeued" } else { "deleted" };
        let mut extra = serde_json::Map::new();
        extra.insert("count".into(), json!(ok));
        Ok(Done {
            message: format!("{past} {} that failed with “{}”", plural(ok, "job", "jobs"), g.fingerprint),
            extra,
            redirect: Some(format!(
                "{}/{}/view/failures/{}",
                state.urls(n).base,
                n,
                crate::views::seg(&queue)
            )),
            ..Done::default()
        })
    }
    .await;
    reply(&req, &state, "failure-group", r)
}
