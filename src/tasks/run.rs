//! Running a bulk task: its plan (bounds read once, at the click), the chunked walk of each
//! registry or queue from the cursor kept in the task's record, and the checkpoints that record
//! its progress in Redis for every replica and pick up a stop asked on any of them.

use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{BulkOp, Task, TaskState, CLEANABLE, EMPTY_CHUNK, ID_CHUNK, JOB_CHUNK};
use crate::rq::actions::{rq_now, Chunk, Found, JobAction};
use crate::rq::model::Registry;
use crate::rq::repository::writes::TaskRef;
use crate::rq::{RepoError, Repository};

/// One registry a bulk task walks, with its last entry at the click: entries after it (jobs
/// that fail again after a requeue, with a later expiry score) are never reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// The queue.
    pub queue: String,
    /// The registry.
    pub registry: Registry,
    /// The last entry's score at the click, as Redis wrote it (`inf` for RQ's `+inf`).
    pub max_score: String,
    /// The last entry's member at the click.
    pub max_member: String,
}

/// What a bulk task will go through, read once at the click and kept in its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Entries to go through.
    pub total: u64,
    /// The registries walked, in order.
    pub parts: Vec<Part>,
    /// The click, as RQ writes timestamps: a job created, enqueued, started or ended since
    /// arrived after it and is left alone.
    pub since: String,
    /// Empty: the queue's last id at the click; the task stops once it is deleted.
    #[serde(default)]
    pub tail: Option<String>,
}

/// Reads the bounds of everything `op` will go through (one round trip per registry).
///
/// # Errors
/// When Redis does not answer.
pub async fn plan(repo: &Repository, op: &BulkOp) -> Result<Plan, RepoError> {
    let since = rq_now().0;
    let registries: Vec<(String, Registry)> = match op {
        BulkOp::Requeue { queues, .. } => queues
            .iter()
            .map(|q| (q.clone(), Registry::Failed))
            .collect(),
        BulkOp::Purge { queue, registry } => vec![(queue.clone(), *registry)],
        BulkOp::Clean { queue } => CLEANABLE.iter().map(|r| (queue.clone(), *r)).collect(),
        BulkOp::Jobs { jobs, .. } => {
            return Ok(Plan {
                total: jobs.len() as u64,
                parts: Vec::new(),
                since,
                tail: None,
            })
        }
        BulkOp::Empty { queue } | BulkOp::Compact { queue } => {
            let (total, tail) = repo.queue_bounds(queue).await?;
            return Ok(Plan {
                total,
                parts: Vec::new(),
                since,
                tail: tail.filter(|_| matches!(op, BulkOp::Empty { .. })),
            });
        }
    };
    let mut plan = Plan {
        total: 0,
        parts: Vec::new(),
        since,
        tail: None,
    };
    for (queue, registry) in registries {
        let (count, max_score, max_member) = repo.registry_bounds(&queue, registry).await?;
        plan.total += count;
        plan.parts.push(Part {
            queue,
            registry,
            max_score,
            max_member,
        });
    }
    Ok(plan)
}

/// Retries a chunk through short Redis hiccups; gives up after about 5 s. Safe for every chunk:
/// each one's cursor moves in Redis with its work, so a chunk that ran but whose answer was
/// lost is not done again.
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

/// How a walk ended.
enum Walk {
    /// Done.
    Finished,
    /// Stopped by the operator.
    Cancelled,
    /// Taken over by a resumed run.
    Lost,
}

/// Records a chunk's answer in the task's live counters: `None` to go on, else how it ended.
fn note(task: &Task, c: &Chunk) -> Option<Walk> {
    if c.lost {
        // Its counts now belong to the run that took it over; this one keeps what it had.
        task.taken_over(c.taken_by);
        return Some(Walk::Lost);
    }
    task.done.store(c.done, Ordering::Relaxed);
    task.kept.store(c.kept, Ordering::Relaxed);
    if c.finished {
        Some(Walk::Finished)
    } else {
        None
    }
}

/// How long a ghost in a scheduled registry must stay one before a clean removes it: RQ adds a
/// job to that registry a moment before it saves the job's hash.
const GHOST_SECOND_LOOK: Duration = Duration::from_secs(2);

#[allow(clippy::too_many_arguments)]
async fn run_registry(
    repo: &Repository,
    task: &Task,
    tref: &TaskRef,
    plan: &Plan,
    idx: usize,
    sub: &str,
    major: u8,
    at_front: bool,
) -> Result<Walk, RepoError> {
    let part = &plan.parts[idx];
    let chunk = if sub == "clean" { ID_CHUNK } else { JOB_CHUNK };
    let ghosts = (sub == "clean" && part.registry == Registry::Scheduled)
        .then(|| format!("{}:ghosts", tref.key));
    loop {
        if checkpoint(repo, task).await {
            return Ok(Walk::Cancelled);
        }
        let c = retry(|| {
            repo.registry_chunk(
                tref,
                &part.queue,
                part.registry,
                sub,
                idx,
                (&part.max_score, &part.max_member),
                chunk,
                major,
                at_front,
                &plan.since,
                ghosts.as_deref(),
            )
        })
        .await?;
        match note(task, &c) {
            None => {}
            Some(Walk::Finished) => break,
            Some(other) => return Ok(other),
        }
    }
    let Some(ghosts) = ghosts else {
        return Ok(Walk::Finished);
    };
    // The second look at the scheduled registry's ghosts, seconds after the first.
    if repo.set_len(&ghosts).await? > 0 {
        tokio::time::sleep(GHOST_SECOND_LOOK).await;
    }
    loop {
        if checkpoint(repo, task).await {
            return Ok(Walk::Cancelled);
        }
        let c = retry(|| {
            repo.confirm_ghosts_chunk(tref, &part.queue, part.registry, &ghosts, ID_CHUNK)
        })
        .await?;
        if let Some(end) = note(task, &c) {
            return Ok(end);
        }
    }
}

/// Runs `op` over `plan` to the end (or until cancelled, taken over, or Redis fails for good),
/// updating `task`, and records how it ended.
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
    if let Ok(mut p) = task.plan.lock() {
        *p = Some(plan.clone());
    }
    checkpoint(repo, task).await;
    let result = run_inner(repo, op, plan, task).await;
    let state = match &result {
        Ok(Walk::Finished) => TaskState::Finished,
        Ok(Walk::Cancelled) => TaskState::Cancelled,
        Ok(Walk::Lost) => TaskState::Resumed,
        Err(e) => TaskState::Failed(format!(
            "stopped after {} of {}: {e}. Resume it, or run the action again, to finish: work already done is not repeated",
            task.done.load(Ordering::Relaxed),
            task.total.load(Ordering::Relaxed)
        )),
    };
    tracing::info!(
        target: "rqdash::audit",
        task = task.id,
        instance = task.instance,
        what = %crate::config::access::log_safe(&task.description),
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
) -> Result<Walk, RepoError> {
    let tref = task.task_ref(repo);
    if let BulkOp::Jobs {
        action,
        jobs,
        at_front,
        since,
    } = op
    {
        return run_jobs(
            repo,
            task,
            &tref,
            *action,
            jobs,
            *at_front,
            since.as_deref(),
        )
        .await;
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
        BulkOp::Jobs { .. } => return Ok(Walk::Finished),
    };
    let hint = repo.sample_brief(&queue, registry).await?;
    let major = repo.rq_major(hint.as_ref()).await?;
    let sub = match op {
        BulkOp::Requeue { .. } => "requeue",
        BulkOp::Purge { .. } => "delete",
        BulkOp::Clean { .. } => "clean",
        BulkOp::Empty { queue } => {
            return run_list(
                task,
                || {
                    let tail = plan.tail.as_deref();
                    repo.empty_chunk(&tref, queue, EMPTY_CHUNK, major, &plan.since, tail)
                },
                repo,
            )
            .await
        }
        BulkOp::Compact { queue } => {
            return run_list(task, || repo.compact_chunk(&tref, queue, ID_CHUNK), repo).await
        }
        BulkOp::Jobs { .. } => return Ok(Walk::Finished),
    };
    let at_front = matches!(op, BulkOp::Requeue { at_front: true, .. });
    for idx in 0..plan.parts.len() {
        match run_registry(repo, task, &tref, plan, idx, sub, major, at_front).await? {
            Walk::Finished => {}
            other => return Ok(other),
        }
    }
    Ok(Walk::Finished)
}

/// Applies `action` to `jobs`, up to [`JOB_CHUNK`] jobs per script call, each job atomically;
/// jobs no longer where they were found, changed since, or gone are left alone and counted in
/// `kept`.
#[allow(clippy::too_many_arguments)]
async fn run_jobs(
    repo: &Repository,
    task: &Task,
    tref: &TaskRef,
    action: JobAction,
    jobs: &[Found],
    at_front: bool,
    since: Option<&str>,
) -> Result<Walk, RepoError> {
    let Some(first) = jobs.first() else {
        return Ok(Walk::Finished);
    };
    let hint = repo.job_brief(&first.id).await?;
    let major = repo.rq_major(hint.as_ref()).await?;
    let mut pos = 0usize;
    while pos < jobs.len() {
        if checkpoint(repo, task).await {
            return Ok(Walk::Cancelled);
        }
        let end = (pos + JOB_CHUNK as usize).min(jobs.len());
        let c = retry(|| {
            repo.task_jobs_chunk(
                tref,
                action,
                &jobs[pos..end],
                pos as u64,
                major,
                at_front,
                since,
            )
        })
        .await?;
        if let Some(end @ Walk::Lost) = note(task, &c) {
            return Ok(end);
        }
        pos += c.handled.max(1) as usize;
    }
    Ok(Walk::Finished)
}

/// Runs the chunks of a walk over a queue list (Empty, Compact) until one says it is finished.
async fn run_list<F, Fut>(task: &Task, mut chunk: F, repo: &Repository) -> Result<Walk, RepoError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Chunk, RepoError>>,
{
    loop {
        if checkpoint(repo, task).await {
            return Ok(Walk::Cancelled);
        }
        let c = retry(&mut chunk).await?;
        if let Some(end) = note(task, &c) {
            return Ok(end);
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
