//! What each action on RQ's data is, independent of Redis: the job actions and the one table of
//! which job status allows which action (read by the pages to offer buttons and by the routes to
//! refuse), the outcome of one job, a bulk chunk's progress, worker commands byte-identical to
//! RQ's, and timestamps as RQ writes them. The commands themselves are in
//! [`crate::rq::repository::writes`]; the Lua script there keeps its own atomic guards.
//!
//! Differences between RQ versions followed by the writes (from `RQ_REDIS_SCHEMA.md` §2, §5, §6):
//! RQ 1.x re-adds the queue to `rq:queues` on every enqueue; RQ 1.x's started registry holds
//! plain ids, 2.x+ `id:execution` members and execution keys.
//!
//! One deliberate difference: deleting a job (or emptying a queue) also deletes the job's
//! results stream for every version, as RQ 3 does. RQ 1.x and 2.x leave it behind, and a failed
//! job's stream never expires, so it would outlive the job forever.

use chrono::{DateTime, Utc};

use crate::rq::model::Registry;

/// An action on individual jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    /// `FailedJobRegistry.requeue`.
    Requeue,
    /// `Job.cancel`.
    Cancel,
    /// `Job.delete`.
    Delete,
    /// Enqueue a scheduled job now, as RQ's scheduler does when it is due.
    EnqueueNow,
    /// Ask the job's worker to stop it (RQ's `stop-job` command): not a change of data.
    Stop,
}

/// Which job statuses allow each action, and which lists offer it for selected rows. The one
/// place that says so: the pages offer a button only where this allows it, the routes refuse what
/// it does not, and the Lua script re-checks atomically.
const RULES: [(JobAction, &[&str], &[Registry]); 5] = [
    (
        JobAction::Requeue,
        &["failed", "stopped"],
        &[Registry::Failed],
    ),
    (
        JobAction::EnqueueNow,
        &["scheduled"],
        &[Registry::Scheduled],
    ),
    (
        JobAction::Cancel,
        &["queued", "scheduled", "deferred"],
        &[Registry::Queued, Registry::Scheduled, Registry::Deferred],
    ),
    (JobAction::Stop, &["started"], &[]),
    // Any job can be deleted from its page; a list of running jobs offers no delete (stop them).
    (
        JobAction::Delete,
        &[],
        &[
            Registry::Queued,
            Registry::Deferred,
            Registry::Scheduled,
            Registry::Finished,
            Registry::Failed,
            Registry::Canceled,
            Registry::Ready,
        ],
    ),
];

impl JobAction {
    /// Every action, in the order buttons show them.
    pub const ALL: [JobAction; 5] = [
        JobAction::Requeue,
        JobAction::EnqueueNow,
        JobAction::Cancel,
        JobAction::Stop,
        JobAction::Delete,
    ];

    fn rule(self) -> (&'static [&'static str], &'static [Registry]) {
        RULES
            .iter()
            .find(|(a, _, _)| *a == self)
            .map(|(_, s, r)| (*s, *r))
            .unwrap_or((&[], &[]))
    }

    /// Whether a job in `status` allows this action (delete: every status).
    pub fn allows(self, status: &str) -> bool {
        let (statuses, _) = self.rule();
        self == JobAction::Delete || statuses.contains(&status)
    }

    /// Whether the rows of `registry`'s list offer this action for selected jobs.
    pub fn offered_in(self, registry: Registry) -> bool {
        self.rule().1.contains(&registry)
    }

    /// The statuses it applies to, for messages ("failed or stopped").
    pub fn statuses(self) -> String {
        let (s, _) = self.rule();
        match s.split_last() {
            None => "any".into(),
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }

    /// The verb in URLs (`/job/<id>/<verb>`, `/jobs/<verb>`).
    pub fn verb(self) -> &'static str {
        match self {
            JobAction::Requeue => "requeue",
            JobAction::Cancel => "cancel",
            JobAction::Delete => "delete",
            JobAction::EnqueueNow => "enqueue",
            JobAction::Stop => "stop",
        }
    }

    /// Parses a URL verb.
    pub fn from_verb(verb: &str) -> Option<JobAction> {
        JobAction::ALL.into_iter().find(|a| a.verb() == verb)
    }

    /// The past tense, for messages.
    pub fn past(self) -> &'static str {
        match self {
            JobAction::Requeue => "requeued",
            JobAction::Cancel => "canceled",
            JobAction::Delete => "deleted",
            JobAction::EnqueueNow => "enqueued",
            JobAction::Stop => "stopped",
        }
    }

    /// Whether it destroys data (refused under `--disable-delete`).
    pub fn destructive(self) -> bool {
        self == JobAction::Delete
    }

    /// The permission a `--policy` role must grant for it (enqueueing a scheduled job now is a
    /// requeue).
    pub fn permission(self) -> &'static str {
        match self {
            JobAction::Requeue | JobAction::EnqueueNow => "requeue",
            JobAction::Cancel => "cancel",
            JobAction::Delete => "delete",
            JobAction::Stop => "stop",
        }
    }

    /// The operation's name in the Lua script; `None` for `Stop`, a worker command.
    pub fn lua_name(self) -> Option<&'static str> {
        match self {
            JobAction::Stop => None,
            other => Some(other.verb()),
        }
    }
}

/// A job a bulk action acts on, and where it was found (a search's registry, a failure group's
/// failed registry, a list's rows): the action leaves it alone unless it is still there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The job id.
    pub id: String,
    /// The queue and registry it was found in; `None` for "wherever it is" (a job's own page).
    pub place: Option<(String, Registry)>,
}

impl Found {
    /// A job acted on wherever it is.
    pub fn anywhere(id: impl Into<String>) -> Found {
        Found {
            id: id.into(),
            place: None,
        }
    }

    /// A job found in `registry` of `queue`.
    pub fn in_place(id: impl Into<String>, queue: impl Into<String>, registry: Registry) -> Found {
        Found {
            id: id.into(),
            place: Some((queue.into(), registry)),
        }
    }
}

/// What happened to one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Ok,
    /// The job hash does not exist.
    Missing,
    /// The job is no longer where it was found, or it changed after the click (it was enqueued,
    /// started or ended since): left alone.
    Changed,
    /// The job is not in the state the action needs (e.g. requeue of a job not in its failed
    /// registry); the text says which state it is in.
    WrongState(String),
}

/// Progress of a bulk task after one of its chunks, as its own record in Redis counts it (so the
/// counts stay exact across retried chunks and resumed tasks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Chunk {
    /// Jobs acted on so far by the whole task.
    pub done: u64,
    /// Entries left in place so far (missing jobs RQ would not touch, jobs in another state or
    /// changed after the click).
    pub kept: u64,
    /// Nothing more to do in this part.
    pub finished: bool,
    /// Another runner took the task over (it was resumed elsewhere): this one must stop.
    pub lost: bool,
    /// When lost: the task that took it over.
    pub taken_by: Option<u64>,
    /// For a task over a list of jobs: how many of the jobs sent this call were handled.
    pub handled: u64,
}

/// A command for a worker's pub/sub channel (`rq/command.py`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerCommand {
    /// Warm shutdown.
    Shutdown,
    /// Kill the work horse (the running job fails).
    KillHorse,
    /// Stop the job with this id (it ends as `stopped`, in the failed registry).
    StopJob(String),
    /// Stop one execution of a job (RQ 3.0): job id, execution id.
    StopExecution(String, String),
}

impl WorkerCommand {
    /// The payload exactly as Python's `json.dumps` writes it (spaces after `:` and `,`).
    pub fn payload(&self) -> String {
        match self {
            WorkerCommand::Shutdown => r#"{"command": "shutdown"}"#.to_string(),
            WorkerCommand::KillHorse => r#"{"command": "kill-horse"}"#.to_string(),
            WorkerCommand::StopJob(id) => format!(
                r#"{{"command": "stop-job", "job_id": {}}}"#,
                python_json_string(id)
            ),
            WorkerCommand::StopExecution(id, exec) => format!(
                r#"{{"command": "stop-execution", "job_id": {}, "execution_id": {}}}"#,
                python_json_string(id),
                python_json_string(exec)
            ),
        }
    }
}

/// A JSON string as Python's `json.dumps` writes it (non-ASCII escaped as `\uXXXX`).
pub fn python_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Now as RQ writes timestamps (`utcformat`): `%Y-%m-%dT%H:%M:%S.%fZ`, and in epoch seconds.
pub fn rq_now() -> (String, i64) {
    let now = Utc::now();
    (rq_time(now), now.timestamp())
}

/// A time as RQ writes timestamps (`utcformat`): `%Y-%m-%dT%H:%M:%S.%fZ`.
pub fn rq_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_commands_are_byte_identical_to_python_json_dumps() {
        assert_eq!(
            WorkerCommand::Shutdown.payload(),
            r#"{"command": "shutdown"}"#
        );
        assert_eq!(
            WorkerCommand::KillHorse.payload(),
            r#"{"command": "kill-horse"}"#
        );
        assert_eq!(
            WorkerCommand::StopJob("a\"b-é".into()).payload(),
            r#"{"command": "stop-job", "job_id": "a\"b-\u00e9"}"#
        );
        assert_eq!(
            WorkerCommand::StopExecution("j1".into(), "e2".into()).payload(),
            r#"{"command": "stop-execution", "job_id": "j1", "execution_id": "e2"}"#
        );
    }

    #[test]
    fn the_status_table_says_which_job_allows_what() {
        assert!(JobAction::Requeue.allows("stopped"));
        assert!(!JobAction::Requeue.allows("finished"));
        assert!(JobAction::Cancel.allows("deferred"));
        assert!(!JobAction::Cancel.allows("started"));
        assert!(JobAction::Stop.allows("started"));
        assert!(JobAction::Delete.allows("anything"));
        assert!(JobAction::Delete.offered_in(Registry::Failed));
        assert!(!JobAction::Delete.offered_in(Registry::Started));
        assert_eq!(
            JobAction::Cancel.statuses(),
            "queued, scheduled or deferred"
        );
        for a in JobAction::ALL {
            assert_eq!(JobAction::from_verb(a.verb()), Some(a));
        }
    }

    #[test]
    fn timestamps_match_rq_utcformat() {
        let (s, _) = rq_now();
        assert_eq!(s.len(), 27);
        assert!(s.ends_with('Z'));
        assert_eq!(&s[19..20], ".");
    }
}
