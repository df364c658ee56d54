//! Bulk tasks: starting one for a queue action, its progress page, polled fragment and JSON, and
//! stopping it.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::error::AppError;
use crate::http::action::{Action, Done};
use crate::http::extract::Instance;
use crate::tasks::{self, BulkOp, Task};
use crate::views::format::thousands;
use crate::views::tasks::{TaskFragment, TaskPage, TaskView};

/// Starts a bulk task: small ones finish before answering, big ones go on in the background and
/// answer 202 with the task's progress page.
///
/// # Errors
/// When Redis does not answer (the task's own failure included: 503/504 as the cause says).
pub async fn start(act: &Action, op: BulkOp, what: String) -> Result<Done, AppError> {
    let inst = &act.inst;
    let repo = inst.repo.clone();
    let plan = tasks::plan(&repo, &op).await?;
    let task = inst.state.tasks.create(inst.n, what.clone());
    task.total.store(plan.total, Ordering::Relaxed);
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

fn find(inst: &Instance, id: &str) -> Result<Arc<Task>, AppError> {
    let id = id.strip_suffix(".json").unwrap_or(id);
    id.parse()
        .ok()
        .and_then(|id| inst.state.tasks.get(inst.n, id))
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "no task {id}: tasks are kept in memory until the dashboard restarts"
            ))
        })
}

/// `GET /{n}/tasks/{id}`: a bulk task's progress page.
pub async fn page(inst: Instance, path: web::Path<TaskPath>) -> HttpResponse {
    let r = find(&inst, &path.id).and_then(|t| {
        Ok(TaskPage {
            layout: inst.layout("queues", "Task"),
            v: TaskView::new(&t, &inst.urls, inst.poll_ms()),
        }
        .render()?)
    });
    inst.page(r)
}

/// `GET /{n}/fragments/tasks/{id}`: the polled progress.
pub async fn fragment(inst: Instance, path: web::Path<TaskPath>) -> HttpResponse {
    let r = find(&inst, &path.id).and_then(|t| {
        Ok(TaskFragment {
            v: TaskView::new(&t, &inst.urls, inst.poll_ms()),
        }
        .render()?)
    });
    inst.fragment(r)
}

/// `GET /{n}/data/tasks/{id}.json`.
pub async fn json(inst: Instance, path: web::Path<TaskPath>) -> HttpResponse {
    inst.json(find(&inst, &path.id).map(|t| t.to_json()))
}

/// `POST /{n}/tasks/{id}/cancel`: stop a bulk task after its current chunk.
pub async fn cancel(act: Action, path: web::Path<TaskPath>) -> HttpResponse {
    let r = find(&act.inst, &path.id).map(|task| {
        task.request_cancel();
        Done::to(
            format!("asked task {} to stop", task.id),
            Some(act.inst.urls.task(task.id)),
        )
    });
    act.reply("task-cancel", r)
}
