//! Search: the JSON scripts poll, the page and its polled results, and actions on every match of
//! a completed search. The scan itself runs in the background ([`crate::search`]), shared by
//! every viewer of the same query.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use crate::error::{AppError, Missing};
use crate::http::action::{Action, Done};
use crate::http::extract::Instance;
use crate::i18n;
use crate::rq::actions::{Found, JobAction};
use crate::rq::search::{SearchForm, SearchQuery};
use crate::search::Search;
use crate::tasks::BulkOp;
use crate::views::format::thousands;
use crate::views::jobs::MAX_PER_PAGE;
use crate::views::search::{SearchFragment, SearchPage, SearchView, PER_PAGE};

/// The paging fields that come with a search's query string.
#[derive(Debug, Deserialize)]
struct Paging {
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    per_page: Option<String>,
    #[serde(default)]
    fresh: Option<String>,
}

/// A parsed search request.
struct Request {
    query: SearchQuery,
    page: u64,
    per_page: u64,
    /// Scan again even if a finished scan is kept.
    fresh: bool,
}

fn number(name: &str, v: Option<&str>, default: u64, max: u64) -> Result<u64, AppError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "invalid {name} “{}”: use a number from 1 to {max}",
                    crate::rq::decode::truncate(v, 40)
                ))
            }),
    }
}

/// Parses a search's query string: the query, the page and the page size.
fn parse(qs: &str, per_page_default: u64) -> Result<Request, AppError> {
    let bad = |e: serde_urlencoded::de::Error| {
        AppError::BadRequest(format!("the search's query string is not valid: {e}"))
    };
    let form: SearchForm = serde_urlencoded::from_str(qs).map_err(bad)?;
    let paging: Paging = serde_urlencoded::from_str(qs).map_err(bad)?;
    let page = number("page", paging.page.as_deref(), 1, 1_000_000_000)?;
    let per_page = number(
        "page size",
        paging.per_page.as_deref(),
        per_page_default,
        MAX_PER_PAGE,
    )?;
    Ok(Request {
        query: form.parse()?,
        page,
        per_page,
        fresh: matches!(paging.fresh.as_deref(), Some("1" | "true" | "yes")),
    })
}

/// Refuses a search whose text redaction hides from this viewer: it could find nothing they
/// may see, and answering it would show the text back (the refusal shows it masked).
///
/// # Errors
/// `BadRequest`.
fn refuse_hidden_text(inst: &Instance, query: &SearchQuery) -> Result<(), AppError> {
    let sight = inst.sight();
    match sight
        .hides(query.queue.as_deref())
        .and_then(|r| query.hidden_text(r))
    {
        Some(masked) => Err(AppError::BadRequest(format!(
            "the search text “{masked}” holds what this dashboard's redaction rules hide from you: it shows to you as {}, so no search can find it",
            crate::redact::REDACTED
        ))),
        None => Ok(()),
    }
}

/// The search of `query`, kept or started; a named queue must exist.
async fn search(
    inst: &Instance,
    query: &SearchQuery,
    fresh: bool,
) -> Result<Arc<Search>, AppError> {
    // A viewer whose roles see some queues only searches those one at a time.
    match &query.queue {
        Some(q) => inst.viewer.require_view(q)?,
        None => inst.viewer.require_view_everywhere()?,
    }
    refuse_hidden_text(inst, query)?;
    if let Some(q) = &query.queue {
        if !inst.repo.queue_exists(q).await? {
            return Err(AppError::queue_not_found(q));
        }
    }
    inst.state.searches.get_or_start(
        inst.n,
        query,
        &inst.sight(),
        inst.repo.clone(),
        inst.state.settings.json,
        fresh,
    )
}

/// `GET /{n}/data/search.json?queue=&registry=&func=&exc=&q=&worker=&since=&until=&page=&per_page=`.
pub async fn json(inst: Instance) -> HttpResponse {
    let r = async {
        let Request {
            query,
            page,
            per_page,
            fresh,
        } = parse(inst.req.query_string(), 50)?;
        let s = search(&inst, &query, fresh).await?;
        let complete = s.complete();
        let kept = s.kept() as u64;
        let form = query.to_form();
        let error = match s.state() {
            crate::search::SearchState::Failed(e) => Some(e),
            _ => None,
        };
        Ok(json!({
            "complete": complete,
            "state": s.state().as_str(),
            "error": error,
            "total": s.total.load(Relaxed),
            "scanned": s.scanned.load(Relaxed),
            "to_scan": s.to_scan.load(Relaxed),
            "truncated": s.truncated(),
            "kept": kept,
            "page": page,
            "per_page": per_page,
            "pages": kept.div_ceil(per_page).max(1),
            "ids": s.ids(((page - 1) * per_page) as usize, per_page as usize),
            "query": form,
            "description": query.describe(),
            "poll": inst.urls.search_json(&form, page),
            "page_url": inst.urls.search(&form, page),
            "started_at": s.started_at.to_rfc3339(),
        }))
    }
    .await;
    inst.json(r)
}

async fn view(inst: &Instance, s: &Search, page: u64) -> Result<SearchView, AppError> {
    let ids = s.ids(((page - 1) * PER_PAGE) as usize, PER_PAGE as usize);
    let jobs = inst.repo.job_summaries(&ids, &inst.sight()).await?;
    Ok(SearchView::new(
        s,
        page,
        &jobs,
        &inst.urls,
        inst.poll_ms(),
        inst.viewer.perms_for(s.query.queue.as_deref()),
        &inst.csrf_token(),
    ))
}

/// `GET /{n}/view/search?…`: the form, prefilled from the URL, and the results when asked for.
pub async fn page(inst: Instance) -> HttpResponse {
    let r = async {
        let qs = inst.req.query_string();
        let mut queues = inst.repo.queue_names().await?;
        queues.retain(|q| inst.viewer.sees(q));
        let mut raw: SearchForm = serde_urlencoded::from_str(qs).unwrap_or_default();
        // The form shows the text back: masked where redaction hides it from this viewer.
        let scope = Some(raw.queue.as_str()).filter(|q| !matches!(*q, "" | "*"));
        if let Some(r) = inst.sight().hides(scope) {
            raw = raw.masked(r);
        }
        let mut p = SearchPage {
            layout: inst.layout("search", i18n::t("nav.search")),
            form: SearchForm {
                queue: if raw.queue.is_empty() {
                    "*".into()
                } else {
                    raw.queue.clone()
                },
                registry: if raw.registry.is_empty() {
                    "failed".into()
                } else {
                    raw.registry.clone()
                },
                ..raw
            },
            registries: SearchPage::registry_names(),
            queues,
            problem: None,
            v: None,
        };
        if !qs.is_empty() {
            match parse(qs, PER_PAGE) {
                Ok(rq) => match search(&inst, &rq.query, rq.fresh).await {
                    Ok(s) => p.v = Some(view(&inst, &s, rq.page).await?),
                    Err(e @ (AppError::BadRequest(_) | AppError::NotFound(..))) => {
                        p.problem = Some(e.to_string())
                    }
                    Err(e) => return Err(e),
                },
                Err(e) => p.problem = Some(e.to_string()),
            }
        }
        let status = if p.problem.is_some() { 400 } else { 200 };
        Ok((status, p.render()?))
    }
    .await;
    match r {
        Ok((400, body)) => {
            let mut resp = crate::http::respond::html(body);
            *resp.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            resp
        }
        Ok((_, body)) => inst.page(Ok(body)),
        Err(e) => inst.page(Err(e)),
    }
}

/// `GET /{n}/fragments/search?…`: the polled results.
pub async fn fragment(inst: Instance) -> HttpResponse {
    let r = async {
        let rq = parse(inst.req.query_string(), PER_PAGE)?;
        let s = search(&inst, &rq.query, false).await?;
        Ok(SearchFragment {
            v: view(&inst, &s, rq.page).await?,
        }
        .render()?)
    }
    .await;
    inst.fragment(r)
}

/// Path of an action on a search's matches.
#[derive(Debug, Deserialize)]
pub struct VerbPath {
    verb: String,
}

/// `POST /{n}/search/{requeue|delete|cancel}?…`: acts on every match of the completed search, as
/// a bulk task; `POST /{n}/search/stop?…` stops its scan.
pub async fn act(act: Action, path: web::Path<VerbPath>) -> HttpResponse {
    let r = on_matches(&act, &path.verb).await;
    act.reply("search", r)
}

async fn on_matches(act: &Action, verb: &str) -> Result<Done, AppError> {
    let inst = &act.inst;
    let query = serde_urlencoded::to_string(&act.form)
        .ok()
        .and_then(|qs| serde_urlencoded::from_str::<SearchForm>(&qs).ok())
        .ok_or_else(|| AppError::BadRequest("the search's fields are not valid".into()))?
        .parse()?;
    let form = query.to_form();
    refuse_hidden_text(inst, &query)?;
    // What others read of it (the answer goes to the audit trail and the task's record).
    let described = query.recorded_description(&inst.state.settings.redactor);
    if verb == "stop" {
        if !inst.viewer.may_somewhere("bulk") {
            act.require("bulk", query.queue.as_deref())?;
        }
        let stopped = inst.state.searches.stop(inst.n, &query);
        return Ok(Done::to(
            if stopped {
                format!("stopped the search of {described}")
            } else {
                "no such search is running".to_string()
            },
            Some(inst.urls.search(&form, 1)),
        )
        .with("stopped", stopped));
    }
    let action = match JobAction::from_verb(verb) {
        Some(a @ (JobAction::Requeue | JobAction::Cancel | JobAction::Delete)) => a,
        _ => {
            return Err(AppError::NotFound(
                Missing::Action,
                format!(
                    "no action “{}” on search results: use requeue, cancel or delete",
                    crate::rq::decode::truncate(verb, 40)
                ),
            ))
        }
    };
    if action.destructive() {
        act.allow_delete()?;
    }
    // What the registry's own list does not offer is refused here too (a running job is
    // stopped, not deleted: its worker would write it back).
    if !action.offered_in(query.registry) {
        return Err(AppError::BadRequest(format!(
            "{} is not offered for {} jobs{}",
            action.verb(),
            query.registry,
            if query.registry == crate::rq::model::Registry::Started {
                ": stop running jobs from their pages instead"
            } else {
                ""
            }
        )));
    }
    let poll = inst.urls.search_json(&form, 1);
    let s = inst
        .state
        .searches
        .find(inst.n, &query, &inst.sight())
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "no finished search of {described}: search first (GET {poll}) and act once it is complete"
            ))
        })?;
    if !s.complete() {
        return Err(AppError::Conflict(format!(
            "the search is not complete yet ({} entries scanned): poll {poll} until it is",
            thousands(s.scanned.load(Relaxed))
        )));
    }
    if s.truncated() {
        return Err(AppError::Conflict(format!(
            "{} jobs match, more than the {} a search keeps: narrow the search first",
            thousands(s.total.load(Relaxed)),
            thousands(crate::search::MAX_MATCHES as u64)
        )));
    }
    let jobs = s.all_found();
    let n = jobs.len() as u64;
    if let Some(expect) = act.values("expect").first() {
        if expect.trim() != n.to_string() {
            return Err(AppError::Conflict(format!(
                "the search now finds {} jobs, not the {} you confirmed: look at the results again",
                thousands(n),
                crate::rq::decode::truncate(expect, 20)
            )));
        }
    }
    if n == 0 {
        return Ok(Done::to("no job matches: nothing to do", None).with("count", 0));
    }
    // Under a policy, only the matches in queues the viewer may act on in bulk.
    let v = &inst.viewer;
    let allowed = |q: Option<&str>| v.may(action.permission(), q) && v.may("bulk", q);
    let jobs: Vec<Found> = jobs
        .into_iter()
        .filter(|f| allowed(f.place.as_ref().map(|(q, _)| q.as_str())))
        .collect();
    let spared = n - jobs.len() as u64;
    if jobs.is_empty() {
        act.require(action.permission(), query.queue.as_deref())?;
        act.require("bulk", query.queue.as_deref())?;
    }
    let n = jobs.len() as u64;
    let mut what = format!(
        "{} the {} {} matching {described}",
        action.verb(),
        thousands(n),
        if n == 1 { "job" } else { "jobs" },
    );
    if spared > 0 {
        what.push_str(&format!(
            " (leaving {} in queues you may not {} in bulk)",
            thousands(spared),
            action.verb()
        ));
    }
    // Each match is acted on only while still in the registry it was found in, and unchanged
    // since the search began.
    let op = BulkOp::Jobs {
        action,
        jobs: Arc::new(jobs),
        at_front: act.flag("at_front"),
        since: Some(crate::rq::actions::rq_time(s.started_at)),
    };
    let mut done = super::tasks::start(act, op, what).await?;
    // The matches changed: the next search must read them again.
    inst.state.searches.stop(inst.n, &query);
    if done.redirect.is_none() {
        done.redirect = Some(inst.urls.search(&form, 1));
    }
    Ok(done)
}
