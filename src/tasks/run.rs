//! Running a bulk task: its plan (bounds read once), the chunked walk of each registry or queue,
//! and the checkpoints that record its progress in Redis for every replica and pick up a stop
//! asked on any of them.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{BulkOp, Task, TaskState, CLEANABLE, ID_CHUNK, JOB_CHUNK};
use crate::rq::actions::{JobAction, Outcome};
use crate::rq::model::Registry;
use crate::rq::{RepoError, Repository};

/// One registry a bulk task walks, with its bounds read at the start: entries added later (jobs
/// that fail again after a requeue) are left alone.
#[derive(Debug, Clone, PartialEq)]
struct Part {
    queue: String,
    registry: Registry,
    max_score: f64,
}

/// What a bulk task will go through, read once before it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Entries to go through.
    pub total: u64,
    parts: Vec<Part>,
}

/// Reads the bounds of everything `op` will go through (one round trip per registry).
///
/// # Errors
/// When Redis does not answer.
pub async fn plan(repo: &Repository, op: &BulkOp) -> Result<Plan, RepoError> {
    let registries: Vec<(String, Registry)> = match op {
        BulkOp::Requeue { queues, .. } => queues
            .iter()
            .map(|q| (q.clone(), Registry::Failed))
            .collect(),
        BulkOp::Purge { queue, registry } => vec![(queue.clone(), *registry)],
        BulkOp::Clean { queue } => CLEANABLE.iter().map(|r| (queue.clone(), *r)).collect(),
        BulkOp::Jobs { ids, .. } => {
            return Ok(Plan {
                total: ids.len() as u64,
                parts: Vec::new(),
            })
        }
        BulkOp::Empty { queue } | BulkOp::Compact { queue } => {
            let total = repo.queue_counts(queue).await?.queued;
            return Ok(Plan {
                total,
                parts: Vec::new(),
            });
        }
    };
    let mut plan = Plan {
        total: 0,
        parts: Vec::new(),
    };
    for (queue, registry) in registries {
        let (count, max_score) = repo.registry_bounds(&queue, registry).await?;
        plan.total += count;
        plan.parts.push(Part {
            queue,
            registry,
            max_score,
        });
    }
    Ok(plan)
}

/// Retries a chunk through short Redis hiccups; gives up after about 5 s.
async fn retry<T, F, Fut>(mut f: F) -> Result<T, RepoError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RepoError>>,
{
    let mut delay = Duration::from_millis(100);
    let mut last = None;
    for _ in 0..6 {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
    Err(last.expect("at least one attempt"))
}

async fn run_registry(
    repo: &Repository,
    task: &Task,
    part: &Part,
    sub: &str,
    major: u8,
    at_front: bool,
) -> Result<bool, RepoError> {
    let chunk = if sub == "clean" { ID_CHUNK } else { JOB_CHUNK };
    let mut offset = 0;
    loop {
        if checkpoint(repo, task).await {
            return Ok(false);
        }
        let c = retry(|| {
            repo.registry_chunk(
                &part.queue,
                part.registry,
                sub,
                offset,
                chunk,
                part.max_score,
                major,
                at_front,
            )
        })
        .await?;
        task.done.fetch_add(c.done, Ordering::Relaxed);
        task.kept.fetch_add(c.kept, Ordering::Relaxed);
        offset += c.kept;
        if c.finished {
            return Ok(true);
        }
    }
}

/// Runs `op` over `plan` to the end (or until cancelled or Redis fails for good), updating
/// `task`, and records how it ended.
///
/// # Errors
/// The Redis failure that stopped it (the task says so too, with what was done).
pub async fn run(
    repo: &Repository,
    op: &BulkOp,
    plan: &Plan,
    task: &Task,
) -> Result<(), RepoError> {
    task.total.store(plan.total, Ordering::Relaxed);
    checkpoint(repo, task).await;
    let result = run_inner(repo, op, plan, task).await;
    let state = match &result {
        Ok(true) => TaskState::Finished,
        Ok(false) => TaskState::Cancelled,
        Err(e) => TaskState::Failed(format!(
            "stopped after {} of {}: {e}. Run the action again to finish: work already done is not repeated",
            task.done.load(Ordering::Relaxed),
            task.total.load(Ordering::Relaxed)
        )),
    };
    tracing::info!(
        target: "rqdash::audit",
        task = task.id,
        instance = task.instance,
        what = %task.description,
        state = state.as_str(),
        done = task.done.load(Ordering::Relaxed),
        kept = task.kept.load(Ordering::Relaxed),
        "bulk task ended"
    );
    task.end(state);
    // The final record, whatever the throttle says; a Redis that refuses it leaves it in memory.
    if let Err(e) = repo.save_task(&task.record()).await {
        tracing::debug!(error = %e, task = task.id, "task record not saved in Redis");
    }
    repo.invalidate();
    result.map(|_| ())
}

async fn run_inner(
    repo: &Repository,
    op: &BulkOp,
    plan: &Plan,
    task: &Task,
) -> Result<bool, RepoError> {
    if let BulkOp::Jobs {
        action,
        ids,
        at_front,
    } = op
    {
        return run_jobs(repo, task, *action, ids, *at_front).await;
    }
    let (queue, registry) = match op {
        BulkOp::Requeue { queues, .. } => (
            queues.first().cloned().unwrap_or_default(),
            Registry::Failed,
        ),
        BulkOp::Purge { queue, registry } => (queue.clone(), *registry),
        BulkOp::Empty { queue } | BulkOp::Compact { queue } | BulkOp::Clean { queue } => {
            (queue.clone(), Registry::Queued)
        }
        BulkOp::Jobs { .. } => return Ok(true),
    };
    let hint = repo.sample_brief(&queue, registry).await?;
    let major = repo.rq_major(hint.as_ref()).await?;
    let sub = match op {
        BulkOp::Requeue { .. } => "requeue",
        BulkOp::Purge { .. } => "delete",
        BulkOp::Clean { .. } => "clean",
        BulkOp::Empty { queue } => return run_empty(repo, task, queue, major).await,
        BulkOp::Compact { queue } => return run_compact(repo, task, queue).await,
        BulkOp::Jobs { .. } => return Ok(true),
    };
    let at_front = matches!(op, BulkOp::Requeue { at_front: true, .. });
    for part in &plan.parts {
        if !run_registry(repo, task, part, sub, major, at_front).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Applies `action` to `ids`, [`JOB_CHUNK`] jobs per script call, each job atomically; jobs
/// that changed meanwhile (another state, or gone) are left alone and counted in `kept`.
async fn run_jobs(
    repo: &Repository,
    task: &Task,
    action: JobAction,
    ids: &[String],
    at_front: bool,
) -> Result<bool, RepoError> {
    let Some(first) = ids.first() else {
        return Ok(true);
    };
    let hint = repo.job_brief(first).await?;
    let major = repo.rq_major(hint.as_ref()).await?;
    for chunk in ids.chunks(JOB_CHUNK as usize) {
        if checkpoint(repo, task).await {
            return Ok(false);
        }
        // A retried chunk is safe: a job already moved is in another state and left alone, so
        // it is counted once, as kept, not acted on twice.
        let outcomes = retry(|| repo.job_action(action, chunk, major, at_front)).await?;
        let ok = outcomes.iter().filter(|o| **o == Outcome::Ok).count() as u64;
        task.done.fetch_add(ok, Ordering::Relaxed);
        task.kept
            .fetch_add(outcomes.len() as u64 - ok, Ordering::Relaxed);
    }
    Ok(true)
}

/// Deletes only as many jobs as were queued at the start: jobs enqueued meanwhile survive.
async fn run_empty(
    repo: &Repository,
    task: &Task,
    queue: &str,
    major: u8,
) -> Result<bool, RepoError> {
    let mut left = task.total.load(Ordering::Relaxed);
    while left > 0 {
        if checkpoint(repo, task).await {
            return Ok(false);
        }
        let (deleted, remaining) =
            retry(|| repo.empty_chunk(queue, left.min(ID_CHUNK), major)).await?;
        task.done.fetch_add(deleted, Ordering::Relaxed);
        left = left.saturating_sub(deleted);
        if deleted == 0 || remaining == 0 {
            break;
        }
    }
    Ok(true)
}

/// Drops ids whose job is gone from a queue list, in place, chunk by chunk.
async fn run_compact(repo: &Repository, task: &Task, queue: &str) -> Result<bool, RepoError> {
    let mut start = 0;
    loop {
        if checkpoint(repo, task).await {
            return Ok(false);
        }
        let (removed, scanned) = retry(|| repo.compact_chunk(queue, start, ID_CHUNK)).await?;
        task.done.fetch_add(removed, Ordering::Relaxed);
        task.kept.fetch_add(scanned - removed, Ordering::Relaxed);
        start += scanned - removed;
        if scanned < ID_CHUNK {
            return Ok(true);
        }
    }
}

/// Records the task's progress in Redis (at most every 250 ms) and picks up a stop asked on any
/// replica; returns whether the task should stop. A Redis that refuses the write changes
/// nothing: the task goes on, known to its own process only.
pub async fn checkpoint(repo: &Repository, task: &Task) -> bool {
    if task.save_due() {
        match repo.save_task(&task.record()).await {
            Ok(true) => task.request_cancel(),
            Ok(false) => {}
            Err(e) => tracing::debug!(error = %e, task = task.id, "task record not saved in Redis"),
        }
    }
    task.cancelled()
}
