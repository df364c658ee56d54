//! Queue actions: requeue a queue's (or every queue's) failed jobs, empty a queue or purge a
//! registry, compact a queue, clean ghost ids, remove an empty queue. Bulk ones run as tasks
//! ([`super::tasks::start`]).

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::AppError;
use crate::http::action::{Action, Done};
use crate::rq::model::Registry;
use crate::tasks::BulkOp;

/// Path of a queue action.
#[derive(Debug, Deserialize)]
pub struct QueuePath {
    queue: String,
    #[serde(default)]
    registry: String,
}

async fn known(act: &Action, queue: &str) -> Result<(), AppError> {
    if act.inst.repo.queue_exists(queue).await? {
        Ok(())
    } else {
        Err(AppError::queue_not_found(queue))
    }
}

/// `POST /requeue/{queue}`: requeue every failed job of a queue. rq-dashboard's
/// `GET /requeue/{queue}` lands here too, for scripts and this dashboard's own origin; a GET
/// a page on another site causes is refused before the handler runs
/// ([`crate::http::action`]).
pub async fn requeue(act: Action, path: web::Path<QueuePath>) -> HttpResponse {
    let r = async {
        let queue = path.queue.clone();
        act.require("requeue", Some(&queue))?;
        act.require("bulk", Some(&queue))?;
        known(&act, &queue).await?;
        let what = format!("requeue the failed jobs of “{queue}”");
        let op = BulkOp::Requeue {
            queues: vec![queue],
            at_front: act.flag("at_front"),
        };
        super::tasks::start(&act, op, what).await
    }
    .await;
    act.reply("requeue-queue", r)
}

/// `POST /requeue-all`: requeue every failed job of every queue (under a policy: of every
/// queue the viewer may requeue in bulk).
pub async fn requeue_all(act: Action) -> HttpResponse {
    let r = async {
        let v = &act.inst.viewer;
        let all: Vec<String> = act
            .inst
            .repo
            .overview()
            .await?
            .queues
            .into_iter()
            .map(|q| q.name)
            .collect();
        let n = all.len();
        let queues: Vec<String> = all
            .into_iter()
            .filter(|q| v.may("requeue", Some(q)) && v.may("bulk", Some(q)))
            .collect();
        if queues.is_empty() && n > 0 {
            act.require("requeue", None)?;
            act.require("bulk", None)?;
        }
        let what = if queues.len() == n {
            "requeue the failed jobs of every queue".to_string()
        } else {
            format!(
                "requeue the failed jobs of the {} queues (of {n}) you may requeue",
                queues.len()
            )
        };
        let op = BulkOp::Requeue {
            queues,
            at_front: act.flag("at_front"),
        };
        super::tasks::start(&act, op, what).await
    }
    .await;
    act.reply("requeue-all", r)
}

/// `POST /queue/{queue}/{registry}/empty`: empty a queue (`queued`) or purge a registry.
pub async fn empty(act: Action, path: web::Path<QueuePath>) -> HttpResponse {
    let r = async {
        act.allow_delete()?;
        let queue = path.queue.clone();
        act.require("empty", Some(&queue))?;
        act.require("bulk", Some(&queue))?;
        let registry = Registry::parse(&path.registry).ok_or_else(|| {
            AppError::BadRequest(format!("unknown registry “{}”", path.registry))
        })?;
        known(&act, &queue).await?;
        let (op, what) = match registry {
            Registry::Queued => (
                BulkOp::Empty {
                    queue: queue.clone(),
                },
                format!("empty queue “{queue}”"),
            ),
            Registry::Started | Registry::Ready => {
                return Err(AppError::BadRequest(format!(
                    "the {registry} registry cannot be emptied: its jobs are running or about to run (stop them instead)"
                )))
            }
            r => (
                BulkOp::Purge {
                    queue: queue.clone(),
                    registry: r,
                },
                format!("delete the {r} jobs of “{queue}”"),
            ),
        };
        let mut done = super::tasks::start(&act, op, what).await?;
        if done.redirect.is_none() {
            done.redirect = Some(act.inst.urls.jobs_default(&queue, registry));
        }
        Ok(done)
    }
    .await;
    act.reply("empty", r)
}

/// Runs a destructive maintenance task (the `admin` permission) over a known queue.
async fn queue_task(act: &Action, queue: &str, op: BulkOp, what: String) -> Result<Done, AppError> {
    act.allow_delete()?;
    act.require("admin", Some(queue))?;
    known(act, queue).await?;
    super::tasks::start(act, op, what).await
}

/// `POST /queue/{queue}/compact`: drop ids whose job is gone from the queue, in place.
pub async fn compact(act: Action, path: web::Path<QueuePath>) -> HttpResponse {
    let queue = path.queue.clone();
    let what = format!("compact queue “{queue}”");
    let r = queue_task(&act, &path.queue, BulkOp::Compact { queue }, what).await;
    act.reply("compact", r)
}

/// `POST /queue/{queue}/clean`: drop ids whose job is gone from the queue's registries.
pub async fn clean(act: Action, path: web::Path<QueuePath>) -> HttpResponse {
    let queue = path.queue.clone();
    let what = format!("clean ghost ids from the registries of “{queue}”");
    let r = queue_task(&act, &path.queue, BulkOp::Clean { queue }, what).await;
    act.reply("clean", r)
}

/// `POST /queue/{queue}/remove`: drop an empty queue from RQ's queue set.
pub async fn remove(act: Action, path: web::Path<QueuePath>) -> HttpResponse {
    let r = async {
        act.allow_delete()?;
        let queue = &path.queue;
        act.require("empty", Some(queue))?;
        known(&act, queue).await?;
        if !act.inst.repo.remove_empty_queue(queue).await? {
            return Err(AppError::Conflict(format!(
                "queue “{queue}” still has jobs: empty it first"
            )));
        }
        Ok(Done::to(
            format!("removed empty queue “{queue}”"),
            Some(act.inst.urls.overview()),
        ))
    }
    .await;
    act.reply("remove-queue", r)
}
