//! Bulk work (requeue all, purge, empty, compact, clean) as background tasks: bounded chunks,
//! live progress, cancellation, exact counts at the end.
//!
//! A registry-wide task never holds its id list in memory: it walks the registry or queue in
//! place, one chunk per Redis call. The one exception is [`BulkOp::Jobs`], which acts on the
//! matches of a finished search or a failure group: their ids, already held (and capped) by
//! [`crate::search`], are shared with it, not copied, each with the registry it was found in.
//!
//! What a task acts on is fixed at the click, in its [`Plan`]: the click's time, each
//! registry's last entry, a queue's last id. A job that arrived after the click (a new failure,
//! a job that failed again after being requeued, a job enqueued during an Empty) is never
//! touched, and a job no longer where it was found is left alone and counted as changed.
//!
//! The walk's cursor and counts live in the task's record in Redis and are moved by the same
//! atomic script that does the work ([`crate::rq::repository::writes`]), so a chunk retried
//! after a lost answer never acts twice, and a task resumed on another replica (after its own
//! died) continues exactly where it stopped, with the plan it was started with. Resuming is
//! claimed with a compare-and-set: two clicks start one run, and a runner that was taken over
//! stops at its next chunk.
//!
//! Task ids never repeat, not even across restarts: a link to an old task's progress can never
//! show a new one.

use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::rq::actions::{Found, JobAction};
use crate::rq::model::Registry;

mod run;

pub use run::{checkpoint, plan, run, Part, Plan};

/// Jobs per chunk for per-job work (requeue, purge): one to three milliseconds of Redis time.
pub const JOB_CHUNK: u64 = 100;
/// Ids per chunk for cheap work (compact, clean).
pub const ID_CHUNK: u64 = 500;
/// Jobs an Empty deletes per chunk (three keys each): about 2 ms of Redis time.
pub const EMPTY_CHUNK: u64 = 250;
/// Bulk actions over at most this many entries answer synchronously.
pub const SYNC_LIMIT: u64 = 2_000;
/// How many finished tasks are remembered.
const KEEP: usize = 50;

/// What a bulk task does (kept with the task's record, so any replica can resume it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
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
    /// Apply one job action to a fixed list of jobs (the matches of a search, a failure
    /// group): a job that is no longer where it was found, changed after `since`, is in no
    /// state for the action, or is gone, is left alone and counted in `kept`. Not kept in task
    /// records (the list can be long), so such a task is not resumed by another replica.
    #[serde(skip)]
    Jobs {
        /// The action.
        action: JobAction,
        /// The jobs, with where each was found.
        jobs: Arc<Vec<Found>>,
        /// Requeue to the front of the queue.
        at_front: bool,
        /// When they were found (RQ's timestamp format): a job changed since is left alone.
        since: Option<String>,
    },
}

impl BulkOp {
    /// Whether it destroys data (refused under `--disable-delete`, resumed or not).
    pub fn destructive(&self) -> bool {
        match self {
            BulkOp::Purge { .. }
            | BulkOp::Empty { .. }
            | BulkOp::Compact { .. }
            | BulkOp::Clean { .. } => true,
            BulkOp::Jobs { action, .. } => action.destructive(),
            BulkOp::Requeue { .. } => false,
        }
    }

    /// The queues it acts on; `None` when some job's queue is not known.
    pub fn queues(&self) -> Option<Vec<String>> {
        match self {
            BulkOp::Requeue { queues, .. } => Some(queues.clone()),
            BulkOp::Purge { queue, .. }
            | BulkOp::Empty { queue }
            | BulkOp::Compact { queue }
            | BulkOp::Clean { queue } => Some(vec![queue.clone()]),
            BulkOp::Jobs { jobs, .. } => {
                let mut qs: Vec<String> = jobs
                    .iter()
                    .map(|f| f.place.as_ref().map(|(q, _)| q.clone()))
                    .collect::<Option<Vec<_>>>()?;
                qs.sort();
                qs.dedup();
                Some(qs)
            }
        }
    }

    /// The permission a `--policy` role must grant for it (besides `bulk`).
    pub fn permission(&self) -> &'static str {
        match self {
            BulkOp::Requeue { .. } => "requeue",
            BulkOp::Purge { .. } | BulkOp::Empty { .. } => "empty",
            BulkOp::Compact { .. } | BulkOp::Clean { .. } => "admin",
            BulkOp::Jobs { action, .. } => action.permission(),
        }
    }
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
    /// Taken over by a resumed run (on this replica or another), which goes on from here.
    Resumed,
}

impl TaskState {
    /// A lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskState::Running => "running",
            TaskState::Finished => "finished",
            TaskState::Cancelled => "cancelled",
            TaskState::Failed(_) => "failed",
            TaskState::Resumed => "resumed",
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
    /// What it does, so it can be resumed.
    pub op: Option<BulkOp>,
    /// What it acts on, fixed at the click (kept in its record, so a resumed run acts on the
    /// same).
    pub plan: Mutex<Option<Plan>>,
    /// The interrupted task this one continues.
    pub resumed_from: Option<u64>,
    /// The task that took this one over, once resumed.
    resumed_by: Mutex<Option<u64>>,
    /// When its record was last saved in Redis.
    saved_at: Mutex<Option<std::time::Instant>>,
}

/// A bulk task as every replica sees it: what it does, how far it got, and when its runner was
/// last heard from. Kept in Redis under the dashboard's own keys (`rqdash:task:<id>`, see
/// [`crate::rq::repository::dash`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// Its id.
    pub id: u64,
    /// The instance it acts on.
    pub instance: usize,
    /// What it does, for people.
    pub description: String,
    /// `running`, `finished`, `cancelled` or `failed`.
    pub state: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Entries to go through.
    pub total: u64,
    /// Jobs acted on.
    pub done: u64,
    /// Entries left alone.
    pub kept: u64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// When its runner last recorded progress.
    pub heartbeat: DateTime<Utc>,
    /// What it does, so any replica can resume it.
    pub op: Option<BulkOp>,
    /// What it acts on, fixed at the click, so a resumed run acts on the same.
    #[serde(default)]
    pub plan: Option<Plan>,
    /// The task that continues this one, once resumed.
    #[serde(default)]
    pub resumed_by: Option<u64>,
    /// The interrupted task this one continues.
    #[serde(default)]
    pub resumed_from: Option<u64>,
}

/// A running task whose runner has not recorded progress for this long has lost its replica.
pub const INTERRUPTED_AFTER_SECS: i64 = 30;

impl TaskRecord {
    /// Its state at `now`: `interrupted` when it says running but its runner is silent.
    pub fn state_at(&self, now: DateTime<Utc>) -> &str {
        if self.state == "running" && (now - self.heartbeat).num_seconds() > INTERRUPTED_AFTER_SECS
        {
            "interrupted"
        } else {
            &self.state
        }
    }

    /// A JSON view of the task (`/data/tasks/<id>.json`).
    pub fn to_json(&self, now: DateTime<Utc>) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "instance": self.instance,
            "description": self.description,
            "state": self.state_at(now),
            "error": self.error,
            "total": self.total,
            "done": self.done,
            "kept": self.kept,
            "started_at": self.started_at.to_rfc3339(),
            "finished_at": self.finished_at.map(|t| t.to_rfc3339()),
            "heartbeat": self.heartbeat.to_rfc3339(),
            "resumable": self.resumable(now),
            "resumed_by": self.resumed_by,
            "resumed_from": self.resumed_from,
        })
    }

    /// Whether it can be resumed at `now`: interrupted (its replica went away) or failed (Redis
    /// gave out), and its record says what it did and on what (records of older versions lack
    /// the plan: run the action again instead).
    pub fn resumable(&self, now: DateTime<Utc>) -> bool {
        matches!(self.state_at(now), "interrupted" | "failed")
            && self.op.is_some()
            && self.plan.is_some()
    }
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

    pub(crate) fn cancelled(&self) -> bool {
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

    /// Records that task `by` took this one over (its chunks answer that another runner owns
    /// the record).
    pub(crate) fn taken_over(&self, by: Option<u64>) {
        if let Ok(mut r) = self.resumed_by.lock() {
            *r = by.or(*r);
        }
    }

    /// Ends a task that never ran (its resume lost the claim): it counts as cancelled.
    pub fn end_unstarted(&self) {
        self.end(TaskState::Cancelled);
    }

    /// Whether its record is due to be saved (every 250 ms at most while it runs).
    pub(crate) fn save_due(&self) -> bool {
        let Ok(mut at) = self.saved_at.lock() else {
            return true;
        };
        let due = at.is_none_or(|t| t.elapsed() >= std::time::Duration::from_millis(250));
        if due {
            *at = Some(std::time::Instant::now());
        }
        due
    }

    /// Its record as of now.
    pub fn record(&self) -> TaskRecord {
        let state = self.state();
        TaskRecord {
            id: self.id,
            instance: self.instance,
            description: self.description.clone(),
            state: state.as_str().to_string(),
            error: match &state {
                TaskState::Failed(e) => Some(e.clone()),
                _ => None,
            },
            total: self.total.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            kept: self.kept.load(Ordering::Relaxed),
            started_at: self.started_at,
            finished_at: self.finished_at(),
            heartbeat: Utc::now(),
            op: self
                .op
                .clone()
                .filter(|op| !matches!(op, BulkOp::Jobs { .. })),
            plan: self
                .plan
                .lock()
                .ok()
                .and_then(|p| p.clone())
                .filter(|_| !matches!(self.op, Some(BulkOp::Jobs { .. }))),
            resumed_by: self.resumed_by.lock().ok().and_then(|r| *r),
            resumed_from: self.resumed_from,
        }
    }

    /// Its hold on its record in Redis, where its chunks keep their cursor.
    pub fn task_ref(&self, repo: &crate::rq::Repository) -> crate::rq::repository::writes::TaskRef {
        crate::rq::repository::writes::TaskRef {
            key: repo.keys().dash_task(self.id),
            token: self.id.to_string(),
        }
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

    /// Registers a new task doing `op`.
    pub fn create(&self, instance: usize, description: String, op: Option<BulkOp>) -> Arc<Task> {
        self.create_resumed(instance, description, op, None)
    }

    /// Registers a new task doing `op`, continuing task `resumed_from` when given.
    pub fn create_resumed(
        &self,
        instance: usize,
        description: String,
        op: Option<BulkOp>,
        resumed_from: Option<u64>,
    ) -> Arc<Task> {
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
            op,
            plan: Mutex::new(None),
            resumed_from,
            resumed_by: Mutex::new(None),
            saved_at: Mutex::new(None),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_never_repeat_and_outlive_a_restart() {
        let first = Tasks::default();
        let a = first.create(0, "a".into(), None).id;
        let b = first.create(0, "b".into(), None).id;
        assert!(b > a);
        // A new process (a restart, even a quick one) starts from the clock, not from 1.
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = Tasks::default();
        let c = second.create(0, "c".into(), None).id;
        assert!(c > 1_000_000_000_000_000, "{c}");
        assert!(c > b, "{c} after {b}");
    }
}
