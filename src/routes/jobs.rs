//! Job lists: the page of a queue or registry, its polled fragment, and actions on the rows an
//! operator selected.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, Missing};
use crate::http::action::{Action, Done};
use crate::http::extract::Instance;
use crate::i18n;
use crate::rq::actions::{Found, JobAction, Outcome};
use crate::rq::model::Registry;
use crate::views::format::{plural, thousands};
use crate::views::jobs::{JobsFragment, JobsPage, JobsView, ListParams};
use crate::views::layout::Link;

/// The most ids one "selected jobs" request may carry.
pub const MAX_SELECTED: usize = 1_000;

/// Path of a job list: `/{n}/…/{queue}/{registry}/{per_page}/{order}/{page}`.
#[derive(Debug, Deserialize)]
pub struct ListPath {
    queue: String,
    registry: String,
    per_page: String,
    order: String,
    page: String,
}

impl ListPath {
    /// Returns the queue name and the validated parameters; `page_suffix` is stripped from the
    /// page segment first (`.json` for the API).
    ///
    /// # Errors
    /// `NotFound` without the suffix, `BadRequest` with a message for bad parameters.
    pub fn parse(&self, page_suffix: &str) -> Result<(String, ListParams), AppError> {
        let page = self.page.strip_suffix(page_suffix).ok_or_else(|| {
            AppError::NotFound(Missing::Page, format!("no page at “{}”", self.page))
        })?;
        Ok((
            self.queue.clone(),
            ListParams::parse(&self.registry, &self.per_page, &self.order, page)?,
        ))
    }
}

/// `GET /{n}/view/jobs`: rq-dashboard's job page without a queue; the overview is the place
/// to choose one.
pub async fn index(inst: Instance) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, inst.urls.overview()))
        .finish()
}

async fn view(inst: &Instance, queue: &str, p: ListParams) -> Result<JobsView, AppError> {
    inst.viewer.require_view(queue)?;
    let jobs = inst
        .repo
        .list_jobs(queue, p.registry, p.request(), &inst.sight())
        .await?;
    Ok(JobsView::new(
        queue,
        p,
        &jobs,
        &inst.urls,
        inst.poll_ms(),
        inst.viewer.perms_for(Some(queue)),
        &inst.csrf_token(),
    ))
}

/// `GET /{n}/view/jobs/{queue}/{registry}/{per_page}/{order}/{page}`.
pub async fn page(inst: Instance, path: web::Path<ListPath>) -> HttpResponse {
    let r = async {
        let (queue, p) = path.parse("")?;
        let (view, counts, health) = tokio::join!(
            view(&inst, &queue, p),
            inst.repo.queue_counts(&queue),
            inst.repo.queue_health(&queue)
        );
        let (view, counts, health) = (view?, counts?, health?);
        let tabs = Registry::ALL
            .into_iter()
            .filter(|r| *r != Registry::Ready || counts.ready > 0 || p.registry == Registry::Ready)
            .map(|r| Link {
                label: format!("{} ({})", i18n::registry(r.as_str()), counts.count(r)),
                url: inst.urls.jobs(&queue, r, p.per_page, p.desc, 1),
                current: r == p.registry,
            })
            .collect();
        Ok(JobsPage {
            layout: inst.layout_for(
                Some(&queue),
                "queues",
                format!("{queue} · {}", i18n::registry(p.registry.as_str())),
            ),
            charts: super::history::chart_set(&inst, Some(&queue), crate::history::Range::Day),
            functions: super::history::functions_html(&inst, Some(&queue))?,
            tabs,
            scheduler: counts
                .scheduler
                .as_ref()
                .map(crate::views::format::scheduler_holder),
            stranded: if counts.scheduler.is_none() {
                counts.overdue_scheduled
            } else {
                0
            },
            maintenance: crate::views::jobs::maintenance_lines(&health),
            v: view,
        }
        .render()?)
    }
    .await;
    inst.page(r)
}

/// `GET /{n}/fragments/jobs/{queue}/{registry}/{per_page}/{order}/{page}`.
pub async fn fragment(inst: Instance, path: web::Path<ListPath>) -> HttpResponse {
    let r = async {
        let (queue, p) = path.parse("")?;
        Ok(JobsFragment {
            v: view(&inst, &queue, p).await?,
        }
        .render()?)
    }
    .await;
    inst.fragment(r)
}

/// Path of an action on selected rows.
#[derive(Debug, Deserialize)]
pub struct VerbPath {
    verb: String,
}

/// `POST /jobs/{requeue|delete|cancel|enqueue}` with form fields `ids`: the selected rows.
pub async fn act_on_selected(act: Action, path: web::Path<VerbPath>) -> HttpResponse {
    let r = selected(&act, &path.verb).await;
    act.reply("selected", r)
}

async fn selected(act: &Action, verb: &str) -> Result<Done, AppError> {
    let action = JobAction::from_verb(verb)
        .filter(|a| *a != JobAction::Stop)
        .ok_or_else(|| {
            AppError::NotFound(
                Missing::Action,
                format!(
                    "no action “{verb}” on selected jobs: use requeue, delete, cancel or enqueue"
                ),
            )
        })?;
    if action.destructive() {
        act.allow_delete()?;
    }
    let ids = act.values("ids");
    if ids.is_empty() {
        return Err(AppError::BadRequest(
            "no jobs selected: tick some rows first".into(),
        ));
    }
    if ids.len() > MAX_SELECTED {
        return Err(AppError::BadRequest(format!(
            "{} jobs selected: at most {MAX_SELECTED} at a time (use the whole-registry actions for more)",
            ids.len()
        )));
    }
    // Rows of a list (its form says which): each job is acted on only while still in that
    // registry, and only with an action that list offers.
    let place = match (act.values("queue").first(), act.values("registry").first()) {
        (Some(q), Some(r)) if !r.is_empty() => {
            let registry = Registry::parse(r).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "unknown registry “{}”",
                    crate::rq::decode::truncate(r, 40)
                ))
            })?;
            if !action.offered_in(registry) {
                return Err(AppError::BadRequest(format!(
                    "{} is not offered for {registry} jobs",
                    action.verb()
                )));
            }
            Some((q.to_string(), registry))
        }
        _ => None,
    };
    let repo = &act.inst.repo;
    match &place {
        Some((q, _)) => {
            act.require(action.permission(), Some(q))?;
            act.require("bulk", Some(q))?;
        }
        // Anywhere: under a policy, each job's own queue must allow it.
        None if act.inst.viewer.grants.is_some() => {
            for id in &ids {
                let origin = repo.job_brief(id).await?.and_then(|b| b.origin);
                act.require(action.permission(), origin.as_deref())?;
                act.require("bulk", origin.as_deref())?;
            }
        }
        None => {}
    }
    let jobs: Vec<Found> = ids
        .iter()
        .map(|id| Found {
            id: id.to_string(),
            place: place.clone(),
        })
        .collect();
    let hint = repo.job_brief(&ids[0]).await?;
    let major = repo.rq_major(hint.as_ref()).await?;
    let (mut ok, mut missing, mut wrong) = (0u64, 0u64, 0u64);
    for o in repo
        .job_action(action, &jobs, major, act.flag("at_front"), None)
        .await?
    {
        match o {
            Outcome::Ok => ok += 1,
            Outcome::Missing => missing += 1,
            Outcome::WrongState(_) | Outcome::Changed => wrong += 1,
        }
    }
    let mut message = format!("{} {}", action.past(), plural(ok, "job", "jobs"));
    if wrong > 0 {
        message.push_str(&format!(", {} not in a state for it", thousands(wrong)));
    }
    if missing > 0 {
        message.push_str(&format!(", {} no longer exist", thousands(missing)));
    }
    Ok(Done::to(message, None)
        .with("count", ok)
        .with("skipped", wrong)
        .with("missing", missing))
}
