//! Bulk tasks: starting one for a queue action, its progress page, polled fragment and JSON, and
//! stopping it.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::error::{AppError, Missing};
use crate::http::action::{Action, Done};
use crate::http::extract::Instance;
use crate::i18n;
use crate::tasks::{self, BulkOp, Plan, Task, TaskRecord, TaskState};
use crate::views::format::thousands;
use crate::views::tasks::{TaskFragment, TaskPage, TaskView};

/// Starts a bulk task: small ones finish before answering, big ones go on in the background and
/// answer 202 with the task's progress page.
///
/// # Errors
/// When Redis does not answer (the task's own failure included: 503/504 as the cause says).
pub async fn start(act: &Action, op: BulkOp, what: String) -> Result<Done, AppError> {
    // Every replica's viewers read the task's record: redacted for all of them.
    let what = act
        .inst
        .state
        .settings
        .redactor
        .recorded(&what)
        .into_owned();
    let plan = tasks::plan(&act.inst.repo, &op).await?;
    let task = act
        .inst
        .state
        .tasks
        .create(act.inst.n, what.clone(), Some(op.clone()));
    launch(act, op, plan, task, what).await
}

/// Runs `task` over `plan`: before answering when it is small, else in the background (202 and
/// the task's progress page).
async fn launch(
    act: &Action,
    op: BulkOp,
    plan: Plan,
    task: Arc<Task>,
    what: String,
) -> Result<Done, AppError> {
    let inst = &act.inst;
    let repo = inst.repo.clone();
    task.total.store(plan.total, Ordering::Relaxed);
    if let Ok(mut p) = task.plan.lock() {
        *p = Some(plan.clone());
    }
    let task_url = inst.urls.task(task.id);
    let done = Done::to(String::new(), None)
        .with("task", task.id)
        .with("task_url", task_url.clone())
        .with("total", plan.total);
    if plan.total <= tasks::SYNC_LIMIT {
        tasks::run(&repo, &op, &plan, &task).await?;
        let (n, kept) = (
            task.done.load(Ordering::Relaxed),
            task.kept.load(Ordering::Relaxed),
        );
        let left = if kept > 0 {
            format!(", {} left alone", thousands(kept))
        } else {
            String::new()
        };
        return Ok(Done {
            message: format!("{what}: {} done{left}", thousands(n)),
            ..done.with("count", n).with("kept", kept)
        });
    }
    // Its first record is in Redis before the answer, so every replica can follow it at once.
    tasks::checkpoint(&repo, &task).await;
    let (t, total) = (task.clone(), plan.total);
    actix_web::rt::spawn(async move {
        // The task records its own failure; the log line is in `tasks::run`.
        let _ = tasks::run(&repo, &op, &plan, &t).await;
    });
    Ok(Done {
        message: format!("{what}: started, {} to go", thousands(total)),
        redirect: Some(task_url),
        accepted: true,
        ..done.with("count", total)
    })
}

/// Path of a task.
#[derive(Debug, Deserialize)]
pub struct TaskPath {
    id: String,
}

/// A task by id: this process's own (live counters), else its record in Redis (run by another
/// replica, or by this one before a restart).
async fn find(inst: &Instance, id: &str) -> Result<(Option<Arc<Task>>, TaskRecord), AppError> {
    let id = id.strip_suffix(".json").unwrap_or(id);
    let not_found = || {
        AppError::NotFound(
            Missing::Task,
            format!(
            "no task {id}: it never existed here, or its record expired (a week after it ended)"
        ),
        )
    };
    let id: u64 = id.parse().map_err(|_| not_found())?;
    if let Some(t) = inst.state.tasks.get(inst.n, id) {
        let record = t.record();
        return Ok((Some(t), record));
    }
    match inst.repo.load_task(id).await? {
        Some((r, _)) if r.instance == inst.n => Ok((None, r)),
        _ => Err(not_found()),
    }
}

fn view(inst: &Instance, r: &TaskRecord) -> TaskView {
    TaskView::new(
        r,
        &inst.urls,
        inst.poll_ms(),
        inst.viewer.perms,
        &inst.csrf_token(),
    )
}

/// `GET /{n}/tasks/{id}`: a bulk task's progress page, on any replica.
pub async fn page(inst: Instance, path: web::Path<TaskPath>) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let (_, record) = find(&inst, &path.id).await?;
        Ok(TaskPage {
            layout: inst.layout("queues", i18n::t("title.task")),
            v: view(&inst, &record),
        }
        .render()?)
    }
    .await;
    inst.page(r)
}

/// `GET /{n}/fragments/tasks/{id}`: the polled progress.
pub async fn fragment(inst: Instance, path: web::Path<TaskPath>) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let (_, record) = find(&inst, &path.id).await?;
        Ok(TaskFragment {
            v: view(&inst, &record),
        }
        .render()?)
    }
    .await;
    inst.fragment(r)
}

/// `GET /{n}/data/tasks/{id}.json`.
pub async fn json(inst: Instance, path: web::Path<TaskPath>) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let (_, record) = find(&inst, &path.id).await?;
        Ok(record.to_json(Utc::now()))
    }
    .await;
    inst.json(r)
}

/// `POST /{n}/tasks/{id}/resume`: runs the rest of an interrupted task, as a new task that
/// continues from the old one's cursor, over the plan read at the first click (nothing that
/// arrived since is touched). The claim is atomic: of two clicks, on any replicas, one resumes
/// and the other is refused; the old record then says `resumed` and links to the new one.
pub async fn resume(act: Action, path: web::Path<TaskPath>) -> HttpResponse {
    let r = async {
        let (_, mut record) = find(&act.inst, &path.id).await?;
        // A destructive task is refused to those who may not delete, whatever its state.
        if record.op.as_ref().is_some_and(|o| o.destructive()) {
            act.allow_delete()?;
        }
        require_task(&act, &record)?;
        let now = Utc::now();
        if !matches!(record.state_at(now), "interrupted" | "failed") {
            return Err(AppError::Conflict(format!(
                "task {} is {}: only an interrupted or failed task can be resumed",
                record.id,
                record.state_at(now)
            )));
        }
        let (Some(op), Some(plan)) = (record.op.clone(), record.plan.clone()) else {
            return Err(AppError::Conflict(format!(
                "task {} does not say what it acted on (an older rqdash started it): run the action again",
                record.id
            )));
        };
        let what = format!("{} (resumed)", record.description);
        let task = act.inst.state.tasks.create_resumed(
            act.inst.n,
            what.clone(),
            Some(op.clone()),
            Some(record.id),
        );
        match act
            .inst
            .repo
            .claim_task(record.id, &record.id.to_string(), task.id)
            .await?
        {
            Some(true) => {}
            won => {
                task.end_unstarted();
                return Err(AppError::Conflict(if won.is_none() {
                    format!(
                        "task {} has no record in Redis any more (it expired, or Redis refused it): run the action again",
                        record.id
                    )
                } else {
                    format!(
                        "task {} was resumed already: follow the run that continues it",
                        record.id
                    )
                }));
            }
        }
        task.done.store(record.done, Ordering::Relaxed);
        task.kept.store(record.kept, Ordering::Relaxed);
        record.state = TaskState::Resumed.as_str().to_string();
        record.resumed_by = Some(task.id);
        record.heartbeat = now;
        act.inst.repo.save_task(&record).await?;
        launch(&act, op, plan, task, what).await
    }
    .await;
    act.reply("task-resume", r)
}

/// Refuses, under a policy, acting on a task (resuming, stopping) to a viewer who may not do
/// its action in bulk on every queue it covers (on every queue when that is not known).
fn require_task(act: &Action, record: &TaskRecord) -> Result<(), AppError> {
    let Some(op) = &record.op else {
        return act.require("bulk", None);
    };
    match op.queues() {
        Some(qs) if !qs.is_empty() => {
            for q in &qs {
                act.require(op.permission(), Some(q))?;
                act.require("bulk", Some(q))?;
            }
            Ok(())
        }
        _ => {
            act.require(op.permission(), None)?;
            act.require("bulk", None)
        }
    }
}

/// `POST /{n}/tasks/{id}/cancel`: stop a bulk task after its current chunk.
pub async fn cancel(act: Action, path: web::Path<TaskPath>) -> HttpResponse {
    let r = async {
        let (live, record) = find(&act.inst, &path.id).await?;
        require_task(&act, &record)?;
        match live {
            // Ours: stop at once; tell the other replicas' views too (best effort).
            Some(task) => {
                task.request_cancel();
                let _ = act.inst.repo.request_task_stop(record.id).await;
            }
            // Another replica's: it reads the request after its current chunk.
            None => act.inst.repo.request_task_stop(record.id).await?,
        }
        Ok(Done::to(
            format!("asked task {} to stop", record.id),
            Some(act.inst.urls.task(record.id)),
        ))
    }
    .await;
    act.reply("task-cancel", r)
}
