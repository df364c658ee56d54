//! One job: its page, the jump-to-job box, and the actions on it (requeue, cancel, delete,
//! enqueue now, stop).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, Missing};
use crate::http::action::{Action, Done};
use crate::http::extract::Instance;
use crate::http::respond::Kind;
use crate::i18n;
use crate::rq::actions::{Found, JobAction, Outcome, WorkerCommand};
use crate::rq::model::Registry;
use crate::views::job::JobDetailPage;

/// Path of a job page or action.
#[derive(Debug, Deserialize)]
pub struct JobPath {
    id: String,
    #[serde(default)]
    verb: String,
}

/// `GET /{n}/view/job/{id}`.
pub async fn page(inst: Instance, path: web::Path<JobPath>) -> HttpResponse {
    let r = async {
        let id = &path.id;
        let job = inst
            .repo
            .job(id, &inst.sight())
            .await?
            .filter(|j| {
                j.origin
                    .as_deref()
                    .map_or(!inst.viewer.limited_view(), |q| inst.viewer.sees(q))
            })
            .ok_or_else(|| AppError::job_not_found(id))?;
        Ok(JobDetailPage::new(
            inst.layout_for(
                job.origin.as_deref(),
                "job",
                i18n::tf("title.job", &[("id", &id)]),
            ),
            &job,
            inst.sight().hides(job.origin.as_deref()).is_some(),
        )
        .render()?)
    }
    .await;
    inst.page(r)
}

/// Query of the jump box.
#[derive(Debug, Deserialize)]
pub struct JumpQuery {
    job_id: Option<String>,
}

/// `GET /{n}/jump?job_id=…`: redirects to the job page.
pub async fn jump(inst: Instance, q: web::Query<JumpQuery>) -> HttpResponse {
    let id = q.job_id.as_deref().map(str::trim).unwrap_or_default();
    let r = if id.is_empty() {
        Err(AppError::BadRequest("give a job id to jump to".into()))
    } else {
        Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, inst.urls.job(id)))
            .finish())
    };
    inst.answer(Kind::Page, r)
}

/// `POST /job/{id}/{requeue|cancel|delete|enqueue|stop}`.
pub async fn act(act: Action, path: web::Path<JobPath>) -> HttpResponse {
    let r = match JobAction::from_verb(&path.verb) {
        Some(JobAction::Stop) => stop(&act, &path.id).await,
        Some(action) => one_job(&act, &path.id, action).await,
        None => Err(AppError::NotFound(
            Missing::Action,
            format!(
                "no action “{}” on a job: use requeue, cancel, delete, enqueue or stop",
                path.verb
            ),
        )),
    };
    act.reply(&path.verb, r)
}

async fn one_job(act: &Action, id: &str, action: JobAction) -> Result<Done, AppError> {
    if action.destructive() {
        act.allow_delete()?;
    }
    let (repo, urls) = (&act.inst.repo, &act.inst.urls);
    let brief = repo
        .job_brief(id)
        .await?
        .ok_or_else(|| AppError::job_not_found(id))?;
    act.require(action.permission(), brief.origin.as_deref())?;
    let major = repo.rq_major(Some(&brief)).await?;
    let at_front = act.flag("at_front");
    let origin = brief.origin.clone().unwrap_or_default();
    let status = brief.status.clone().unwrap_or_else(|| "?".into());
    let out = repo
        .job_action(action, &[Found::anywhere(id)], major, at_front, None)
        .await?;
    match out.into_iter().next().unwrap_or(Outcome::Missing) {
        Outcome::Missing => Err(AppError::job_not_found(id)),
        Outcome::Changed => Err(AppError::Conflict(format!(
            "job {id} changed meanwhile: look at it again"
        ))),
        Outcome::WrongState(s) if s == "due" => Err(AppError::Conflict(format!(
            "job {id} is due, and RQ's scheduler holds the lock of “{origin}”: it is enqueuing the job itself right now (acting too could enqueue it twice). Look again in a few seconds"
        ))),
        Outcome::WrongState(s) => Err(AppError::Conflict(match action {
            JobAction::Requeue => format!(
                "job {id} is {status} and not in the failed registry of “{origin}”: only failed jobs can be requeued"
            ),
            JobAction::Cancel => format!(
                "job {id} is {s}: only {} jobs can be canceled (stop a started job instead)",
                action.statuses()
            ),
            JobAction::EnqueueNow => format!(
                "job {id} is {status}, not scheduled: only scheduled jobs can be enqueued now"
            ),
            _ => format!("job {id} could not be {} ({s})", action.past()),
        })),
        Outcome::Ok => Ok(match action {
            JobAction::Requeue => Done::to(
                format!(
                    "requeued job {id} to the {} of “{origin}”",
                    if at_front { "front" } else { "end" }
                ),
                Some(urls.job(id)),
            ),
            JobAction::Cancel => {
                Done::to(format!("canceled job {id} of “{origin}”"), Some(urls.job(id)))
            }
            JobAction::EnqueueNow => Done::to(
                format!("enqueued scheduled job {id} on “{origin}” now"),
                Some(urls.job(id)),
            ),
            _ => Done::to(
                format!("{} job {id} of “{origin}”", action.past()),
                Some(urls.jobs_default(&origin, Registry::for_status(&status))),
            ),
        }
        .with("queue", origin.clone())
        .with("count", 1)),
    }
}

/// Path of an execution action.
#[derive(Debug, Deserialize)]
pub struct ExecutionPath {
    id: String,
    execution: String,
}

/// `POST /job/{id}/executions/{execution}/stop`: stops one execution (RQ 3.0's
/// `stop-execution`; before 3.0 a job has one execution at a time and `stop-job` stops it).
pub async fn stop_execution(act: Action, path: web::Path<ExecutionPath>) -> HttpResponse {
    let r = async {
        let (repo, id, exec) = (&act.inst.repo, &path.id, &path.execution);
        let brief = repo
            .job_brief(id)
            .await?
            .ok_or_else(|| AppError::job_not_found(id))?;
        act.require("stop", brief.origin.as_deref())?;
        let worker = repo
            .execution_worker(id, exec)
            .await?
            .ok_or_else(|| {
                AppError::Conflict(format!(
                    "execution {exec} of job {id} is not running any more"
                ))
            })?
            .or(brief.worker_name.clone())
            .ok_or_else(|| {
                AppError::Conflict(format!(
                    "execution {exec} of job {id} names no worker, so there is nobody to ask"
                ))
            })?;
        let cmd = if repo.rq_major(Some(&brief)).await? >= 3 {
            WorkerCommand::StopExecution(id.clone(), exec.clone())
        } else {
            WorkerCommand::StopJob(id.clone())
        };
        if repo.worker_command(&worker, &cmd).await? == 0 {
            return Err(AppError::Conflict(format!(
                "worker {worker} is not listening (it may have died): execution {exec} was not stopped"
            )));
        }
        Ok(Done::to(
            format!("asked worker {worker} to stop execution {exec} of job {id}"),
            Some(act.inst.urls.job(id)),
        ))
    }
    .await;
    act.reply("stop-execution", r)
}

/// Asks the job's worker to stop it (RQ's `stop-job` command).
async fn stop(act: &Action, id: &str) -> Result<Done, AppError> {
    let repo = &act.inst.repo;
    let brief = repo
        .job_brief(id)
        .await?
        .ok_or_else(|| AppError::job_not_found(id))?;
    act.require("stop", brief.origin.as_deref())?;
    let status = brief.status.clone().unwrap_or_default();
    if !JobAction::Stop.allows(&status) {
        return Err(AppError::Conflict(format!(
            "job {id} is {status}, not started: only running jobs can be stopped"
        )));
    }
    let worker = brief.worker_name.clone().ok_or_else(|| {
        AppError::Conflict(format!(
            "job {id} names no worker, so there is nobody to ask to stop it"
        ))
    })?;
    let got = repo
        .worker_command(&worker, &WorkerCommand::StopJob(id.to_string()))
        .await?;
    if got == 0 {
        return Err(AppError::Conflict(format!(
            "worker {worker} is not listening (it may have died): job {id} was not stopped"
        )));
    }
    Ok(Done::to(
        format!("asked worker {worker} to stop job {id}"),
        Some(act.inst.urls.job(id)),
    ))
}
