//! Workers: the page and its polled fragment (rendered once per shared snapshot), commands to one
//! worker (warm shutdown, kill the work horse), and suspending or resuming all of them.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, Missing};
use crate::http::action::{Action, Done};
use crate::http::extract::Instance;
use crate::http::respond::Kind;
use crate::i18n;
use crate::rq::actions::WorkerCommand;
use crate::rq::Snapshot;
use crate::views::lists::{ListQuery, Listing};
use crate::views::workers::{WorkersFragment, WorkersPage, WorkersView, SORT_COLUMNS};

const HTML: &str = "text/html; charset=utf-8";

fn view(inst: &Instance, snap: &Snapshot, q: &ListQuery) -> Result<WorkersView, AppError> {
    let columns: Vec<&str> = SORT_COLUMNS.iter().map(|(k, _, _)| *k).collect();
    let listing = Listing::parse(q, &columns)?;
    Ok(WorkersView::new(
        &snap.overview.workers,
        &snap.current_jobs,
        &inst.urls,
        inst.poll_ms(),
        inst.viewer.perms,
        &inst.csrf_token(),
        &listing,
    )
    .with_badges(inst.state.problems.worker_badges(inst.n)))
}

/// `GET /{n}/view/workers`, with `?q=` (name, host, queue or state), `sort`, `dir`, `page`
/// and `per_page`.
pub async fn page(inst: Instance, q: web::Query<ListQuery>) -> HttpResponse {
    let variant = inst.req.query_string().to_string();
    inst.cached(Kind::Page, "workers_page", variant, HTML, |snap| {
        Ok(WorkersPage {
            layout: inst.layout("workers", i18n::t("nav.workers")),
            v: view(&inst, snap, &q)?,
        }
        .render()?)
    })
    .await
}

/// `GET /{n}/fragments/workers`, for the same list parameters.
pub async fn fragment(inst: Instance, q: web::Query<ListQuery>) -> HttpResponse {
    let variant = inst.req.query_string().to_string();
    inst.cached(Kind::Fragment, "workers_fragment", variant, HTML, |snap| {
        Ok(WorkersFragment {
            v: view(&inst, snap, &q)?,
        }
        .render()?)
    })
    .await
}

/// Path of a worker command.
#[derive(Debug, Deserialize)]
pub struct WorkerPath {
    name: String,
    command: String,
}

/// `POST /worker/{name}/{shutdown|kill-horse}`: a command on the worker's channel.
pub async fn command(act: Action, path: web::Path<WorkerPath>) -> HttpResponse {
    let label = format!("worker-{}", path.command);
    let r = async {
        let (cmd, what) = match path.command.as_str() {
            "shutdown" => (WorkerCommand::Shutdown, "to shut down"),
            "kill-horse" => (WorkerCommand::KillHorse, "to kill its work horse"),
            other => {
                return Err(AppError::NotFound(
                    Missing::Action,
                    format!("no worker command “{other}”: use shutdown or kill-horse"),
                ))
            }
        };
        act.require("suspend", None)?;
        let (repo, name) = (&act.inst.repo, &path.name);
        if !repo.worker_exists(name).await? {
            return Err(AppError::NotFound(
                Missing::Worker,
                format!("no worker named “{name}”"),
            ));
        }
        if repo.worker_command(name, &cmd).await? == 0 {
            return Err(AppError::Conflict(format!(
                "worker {name} is not listening on its command channel (it may have died)"
            )));
        }
        Ok(Done::to(
            format!("asked worker {name} {what}"),
            Some(act.inst.urls.workers()),
        ))
    }
    .await;
    act.reply(&label, r)
}

async fn set_suspended(act: &Action, on: bool) -> Result<Done, AppError> {
    act.require("suspend", None)?;
    act.inst.repo.set_suspended(on).await?;
    Ok(Done::to(
        if on {
            "suspended all workers: they finish their current job and take no new one"
        } else {
            "resumed all workers"
        },
        Some(act.inst.urls.overview()),
    ))
}

/// `POST /suspend`: `rq suspend`.
pub async fn suspend(act: Action) -> HttpResponse {
    let r = set_suspended(&act, true).await;
    act.reply("suspend", r)
}

/// `POST /resume`: `rq resume`.
pub async fn resume(act: Action) -> HttpResponse {
    let r = set_suspended(&act, false).await;
    act.reply("resume", r)
}
