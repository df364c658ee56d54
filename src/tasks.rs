//! Bulk work (requeue all, purge, empty, compact, clean) as background tasks: bounded chunks,
//! live progress, cancellation, exact counts at the end.
//!
//! A registry-wide task never holds its id list in memory: it walks the registry or queue in
//! place, one chunk per Redis call. The one exception is [`BulkOp::Jobs`], which acts on the
//! matches of a finished search: their ids, already held (and capped) by [`crate::search`], are
//! shared with it, not copied. Its bounds (entries and highest score of each registry) are read once, in
//! [`plan`], and both the count shown to the operator and the run use them. Work done is never
//! repeated, so a task stopped by an outage can simply be run again to finish.
//!
//! Task ids never repeat, not even across restarts: a link to an old task's progress can never
//! show a new one.

use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::rq::actions::{JobAction, Outcome};
use crate::rq::model::Registry;
use crate::rq::{RepoError, Repository};

/// Jobs per chunk for per-job work (requeue, purge): one to three milliseconds of Redis time.
pub const JOB_CHUNK: u64 = 100;
/// Ids per chunk for cheap work (empty, compact, clean).
pub const ID_CHUNK: u64 = 500;
/// Bulk actions over at most this many entries answer synchronously.
pub const SYNC_LIMIT: u64 = 2_000;
/// How many finished tasks are remembered.
const KEEP: usize = 50;

/// What a bulk task does.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkOp {
    /// Requeue every failed job of these queues.
    Requeue {
        /// Queues (one, or all for "requeue everywhere").
        queues: Vec<String>,
        /// Push to the front of the queue.
        at_front: bool,
    },
    /// Delete every job of a registry (purge finished / failed / canceled / scheduled /
    /// deferred).
    Purge {
        /// Queue.
        queue: String,
        /// Registry.
        registry: Registry,
    },
    /// Delete every queued job of a queue (`Queue.empty`).
    Empty {
        /// Queue.
        queue: String,
    },
    /// Drop ids whose job is gone from a queue list, in place.
    Compact {
        /// Queue.
        queue: String,
    },
    /// Drop ids whose job is gone from every registry of a queue.
    Clean {
        /// Queue.
        queue: String,
    },
    /// Apply one job action to a fixed list of jobs (the matches of a search), through
    /// [`Repository::job_action`]: a job that is no longer in a state for it, or is gone, is left
    /// alone and counted in `kept`.
    Jobs {
        /// The action.
        action: JobAction,
        /// The job ids.
        ids: Arc<Vec<String>>,
        /// Requeue to the front of the queue.
        at_front: bool,
    },
}

/// Registries whose ghost ids `Clean` removes (the started registry holds executions, which
/// RQ's own maintenance handles).
pub const CLEANABLE: [Registry; 5] = [
    Registry::Finished,
    Registry::Failed,
    Registry::Canceled,
    Registry::Scheduled,
    Registry::Deferred,
];

/// Where a task is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    /// Working.
    Running,
    /// Done.
    Finished,
    /// Stopped by the operator.
    Cancelled,
    /// Stopped by an error; running the action again continues where it stopped.
    Failed(String),
}

impl TaskState {
    /// A lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskState::Running => "running",
            TaskState::Finished => "finished",
            TaskState::Cancelled => "cancelled",
            TaskState::Failed(_) => "failed",
        }
    }
}

/// One bulk task and its live counters.
#[derive(Debug)]
pub struct Task {
    /// Its id.
    pub id: u64,
    /// The instance it acts on.
    pub instance: usize,
    /// What it does, for people.
    pub description: String,
    /// Entries to go through (known at the start).
    pub total: AtomicU64,
    /// Jobs acted on.
    pub done: AtomicU64,
    /// Entries left alone (missing jobs RQ would not touch, jobs in another state).
    pub kept: AtomicU64,
    cancel: AtomicBool,
    state: Mutex<TaskState>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    finished_at: Mutex<Option<DateTime<Utc>>>,
}

impl Task {
    /// The current state.
    pub fn state(&self) -> TaskState {
        self.state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(TaskState::Running)
    }

    /// When it ended, if it has.
    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.finished_at.lock().ok().and_then(|f| *f)
    }

    /// Asks the task to stop after the current chunk.
    pub fn request_cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    fn end(&self, state: TaskState) {
        if let Ok(mut s) = self.state.lock() {
            *s = state;
        }
        if let Ok(mut f) = self.finished_at.lock() {
            *f = Some(Utc::now());
        }
    }

    /// A JSON view of the task.
    pub fn to_json(&self) -> serde_json::Value {
        let state = self.state();
        serde_json::json!({
            "id": self.id,
            "instance": self.instance,
            "description": self.description,
            "state": state.as_str(),
            "error": match &state { TaskState::Failed(e) => Some(e.clone()), _ => None },
            "total": self.total.load(Ordering::Relaxed),
            "done": self.done.load(Ordering::Relaxed),
            "kept": self.kept.load(Ordering::Relaxed),
            "started_at": self.started_at.to_rfc3339(),
            "finished_at": self.finished_at().map(|t| t.to_rfc3339()),
        })
    }
}

/// The tasks of this process: running ones and the last few finished.
#[derive(Debug, Default)]
pub struct Tasks {
    last_id: AtomicU64,
    list: Mutex<VecDeque<Arc<Task>>>,
}

impl Tasks {
    /// A new task id: microseconds since the epoch, strictly increasing in this process, so ids
    /// never repeat across restarts either.
    fn next_id(&self) -> u64 {
        let now = u64::try_from(Utc::now().timestamp_micros()).unwrap_or(0);
        let mut last = self.last_id.load(Ordering::Relaxed);
        loop {
            let id = now.max(last + 1);
            match self
                .last_id
                .compare_exchange(last, id, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return id,
                Err(seen) => last = seen,
            }
        }
    }

    /// Registers a new task.
    pub fn create(&self, instance: usize, description: String) -> Arc<Task> {
        let task = Arc::new(Task {
            id: self.next_id(),
            instance,
            description,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            kept: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
            state: Mutex::new(TaskState::Running),
            started_at: Utc::now(),
            finished_at: Mutex::new(None),
        });
        if let Ok(mut l) = self.list.lock() {
            l.push_back(task.clone());
            while l.len() > KEEP {
                match l.iter().position(|t| t.state() != TaskState::Running) {
                    Some(i) => {
                        l.remove(i);
                    }
                    None => break,
                }
            }
        }
        task
    }

    /// Finds a task of `instance` by id.
    pub fn get(&self, instance: usize, id: u64) -> Option<Arc<Task>> {
        self.list
            .lock()
            .ok()?
            .iter()
            .find(|t| t.id == id && t.instance == instance)
            .cloned()
    }
}

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
        if task.cancelled() {
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
        if task.cancelled() {
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
        if task.cancelled() {
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
        if task.cancelled() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_never_repeat_and_outlive_a_restart() {
        let first = Tasks::default();
        let a = first.create(0, "a".into()).id;
        let b = first.create(0, "b".into()).id;
        assert!(b > a);
        // A new process (a restart, even a quick one) starts from the clock, not from 1.
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = Tasks::default();
        let c = second.create(0, "c".into()).id;
        assert!(c > 1_000_000_000_000_000, "{c}");
        assert!(c > b, "{c} after {b}");
    }
}
