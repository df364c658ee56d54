//! The button catalogue: every action button the pages offer, with its label, endpoint and a
//! confirmation that says exactly what will happen. Which job status allows which action comes
//! from the one table in [`crate::rq::actions`]; what the viewer may do from [`Perms`].

use super::format::{plural, thousands};
use super::layout::Perms;
use super::urls::Urls;
use crate::rq::actions::JobAction;
use crate::rq::model::Registry;
use crate::rq::search::SearchQuery;

/// A button that POSTs an action after a confirmation saying exactly what will happen.
#[derive(Debug, Clone)]
pub struct ActionButton {
    /// Button text.
    pub label: String,
    /// Endpoint.
    pub url: String,
    /// The confirmation question.
    pub confirm: String,
    /// CSS class (`danger` for destructive ones).
    pub css: &'static str,
    /// Extra form fields.
    pub fields: Vec<(String, String)>,
}

impl ActionButton {
    /// A button.
    pub fn new(label: impl Into<String>, url: String, confirm: impl Into<String>) -> ActionButton {
        ActionButton {
            label: label.into(),
            url,
            confirm: confirm.into(),
            css: "",
            fields: Vec::new(),
        }
    }
    /// Marks it destructive.
    pub fn danger(mut self) -> ActionButton {
        self.css = "danger";
        self
    }
    /// Adds a form field.
    pub fn field(mut self, k: &str, v: &str) -> ActionButton {
        self.fields.push((k.to_string(), v.to_string()));
        self
    }
}

/// "all 3 failed jobs", "the 1 failed job".
fn every(n: u64, kind: &str) -> String {
    if n == 1 {
        format!("the 1 {kind} job")
    } else {
        format!("all {} {kind} jobs", thousands(n))
    }
}

/// "the 3 failed jobs", "the 1 failed job".
fn the(n: u64, kind: &str) -> String {
    format!(
        "the {}",
        plural(n, &format!("{kind} job"), &format!("{kind} jobs"))
    )
}

/// The overview's buttons: requeue every failed job, suspend or resume the workers.
pub fn overview_actions(
    urls: &Urls,
    perms: Perms,
    failed: u64,
    suspended: bool,
    workers: usize,
) -> Vec<ActionButton> {
    let mut actions = Vec::new();
    if !perms.act {
        return actions;
    }
    if failed > 0 {
        let n = thousands(failed);
        actions.push(ActionButton::new(
            format!("Requeue all {n} failed"),
            urls.act(&["requeue-all"]),
            format!(
                "Requeue {} of every queue?",
                plural(failed, "failed job", "failed jobs")
            ),
        ));
    }
    if suspended {
        actions.push(ActionButton::new(
            "Resume workers",
            urls.act(&["resume"]),
            "Resume all workers: they start taking jobs again?",
        ));
    } else if workers > 0 {
        actions.push(ActionButton::new("Suspend workers", urls.act(&["suspend"]), "Suspend all workers? They finish their current job and take no new one until resumed.").danger());
    }
    actions
}

/// The buttons of a job page for a job in `status` of queue `origin`.
pub fn job_actions(
    urls: &Urls,
    perms: Perms,
    id: &str,
    status: &str,
    origin: &str,
) -> Vec<ActionButton> {
    let mut a = Vec::new();
    if !perms.act {
        return a;
    }
    for action in JobAction::ALL {
        if !action.allows(status) || (action.destructive() && !perms.delete) {
            continue;
        }
        let url = urls.act(&["job", id, action.verb()]);
        match action {
            JobAction::Requeue => {
                a.push(ActionButton::new(
                    "Requeue",
                    url.clone(),
                    format!("Requeue job {id} at the end of queue “{origin}”?"),
                ));
                a.push(
                    ActionButton::new(
                        "Requeue at front",
                        url,
                        format!("Requeue job {id} at the front of queue “{origin}”, to run next?"),
                    )
                    .field("at_front", "1"),
                );
            }
            JobAction::EnqueueNow => a.push(ActionButton::new(
                "Enqueue now",
                url,
                format!("Enqueue scheduled job {id} on “{origin}” now instead of at its time?"),
            )),
            JobAction::Cancel => a.push(ActionButton::new(
                "Cancel",
                url,
                format!("Cancel {status} job {id}? It moves to the canceled registry of “{origin}” and will not run."),
            )),
            JobAction::Stop => a.push(
                ActionButton::new(
                    "Stop",
                    url,
                    format!("Stop running job {id}? Its worker kills the job; it ends as stopped, in the failed registry."),
                )
                .danger(),
            ),
            JobAction::Delete => a.push(
                ActionButton::new(
                    "Delete",
                    url,
                    format!("Delete job {id} and its data from “{origin}”? This cannot be undone."),
                )
                .danger(),
            ),
        }
    }
    a
}

/// The button stopping one execution of a job.
pub fn execution_stop(
    urls: &Urls,
    perms: Perms,
    id: &str,
    execution: &str,
) -> Option<ActionButton> {
    perms.act.then(|| {
        ActionButton::new(
            "Stop",
            urls.act(&["job", id, "executions", execution, "stop"]),
            format!(
                "Stop execution {execution} of job {id}? Its worker kills it; the job ends as stopped."
            ),
        )
        .danger()
    })
}

/// The buttons of a job list: whole-registry actions, and actions on the selected rows.
pub fn list_actions(
    queue: &str,
    registry: Registry,
    total: u64,
    urls: &Urls,
    perms: Perms,
) -> (Vec<ActionButton>, Vec<ActionButton>) {
    let mut whole = Vec::new();
    let mut sel = Vec::new();
    if !perms.act {
        return (whole, sel);
    }
    let n = thousands(total);
    let reg = registry.as_str();
    for action in [
        JobAction::Requeue,
        JobAction::Cancel,
        JobAction::EnqueueNow,
        JobAction::Delete,
    ] {
        if !action.offered_in(registry) || (action.destructive() && !perms.delete) {
            continue;
        }
        let url = urls.act(&["jobs", action.verb()]);
        sel.push(match action {
            JobAction::Requeue => ActionButton::new(
                "Requeue selected",
                url,
                format!("Requeue the selected failed jobs of “{queue}”?"),
            ),
            JobAction::Cancel => ActionButton::new(
                "Cancel selected",
                url,
                format!("Cancel the selected {reg} jobs of “{queue}”?"),
            ),
            JobAction::EnqueueNow => ActionButton::new(
                "Enqueue selected now",
                url,
                format!("Enqueue the selected scheduled jobs of “{queue}” now?"),
            ),
            _ => ActionButton::new(
                "Delete selected",
                url,
                format!("Delete the selected jobs of “{queue}”? This cannot be undone."),
            )
            .danger(),
        });
    }
    if registry == Registry::Failed && total > 0 {
        whole.push(ActionButton::new(
            format!("Requeue all {n}"),
            urls.act(&["requeue", queue]),
            format!(
                "Requeue {} of “{queue}”?",
                plural(total, "failed job", "failed jobs")
            ),
        ));
    }
    if !perms.delete {
        return (whole, sel);
    }
    if registry == Registry::Queued {
        if total > 0 {
            whole.push(
                ActionButton::new(
                    format!("Empty queue ({n})"),
                    urls.act(&["queue", queue, "queued", "empty"]),
                    format!(
                        "Delete {} of “{queue}”? This cannot be undone.",
                        every(total, "queued")
                    ),
                )
                .danger(),
            );
        }
        whole.push(ActionButton::new("Compact", urls.act(&["queue", queue, "compact"]), format!("Remove the ids of jobs that no longer exist from queue “{queue}”? Existing jobs keep their place.")));
        if total == 0 {
            whole.push(
                ActionButton::new(
                    "Remove queue",
                    urls.act(&["queue", queue, "remove"]),
                    format!("Remove the empty queue “{queue}” from RQ's list of queues?"),
                )
                .danger(),
            );
        }
    }
    if crate::tasks::CLEANABLE.contains(&registry) {
        if total > 0 {
            whole.push(
                ActionButton::new(
                    format!("Delete all {n}"),
                    urls.act(&["queue", queue, reg, "empty"]),
                    format!(
                        "Delete {} of “{queue}”? This cannot be undone.",
                        every(total, reg)
                    ),
                )
                .danger(),
            );
        }
        whole.push(ActionButton::new(
            "Clean ghost ids",
            urls.act(&["queue", queue, "clean"]),
            format!("Remove ids whose job no longer exists from the registries of “{queue}”?"),
        ));
    }
    (whole, sel)
}

/// The buttons of an RQ job group: requeue its failed jobs, cancel its pending ones, delete it.
pub fn group_actions(
    urls: &Urls,
    perms: Perms,
    name: &str,
    statuses: &std::collections::BTreeMap<String, u64>,
) -> Vec<ActionButton> {
    let mut a = Vec::new();
    if !perms.act {
        return a;
    }
    let count = |which: &[&str]| -> u64 {
        statuses
            .iter()
            .filter(|(s, _)| which.contains(&s.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    let failed = count(&["failed", "stopped"]);
    if failed > 0 {
        a.push(ActionButton::new(
            "Requeue failed",
            urls.act(&["groups", name, "requeue"]),
            format!(
                "Requeue {} of group “{name}”?",
                plural(failed, "failed job", "failed jobs")
            ),
        ));
    }
    let pending = count(&["queued", "scheduled", "deferred"]);
    if pending > 0 {
        a.push(ActionButton::new(
            "Cancel pending",
            urls.act(&["groups", name, "cancel"]),
            format!(
                "Cancel {} of group “{name}”? They move to their queue's canceled registry.",
                plural(pending, "pending job", "pending jobs")
            ),
        ));
    }
    if perms.delete {
        a.push(
            ActionButton::new(
                "Delete group",
                urls.act(&["groups", name, "delete"]),
                format!("Delete every job of group “{name}” and the group? This cannot be undone."),
            )
            .danger(),
        );
    }
    a
}

/// The buttons of a worker row: warm shutdown, and killing the work horse of a busy one.
pub fn worker_actions(urls: &Urls, perms: Perms, name: &str, state: &str) -> Vec<ActionButton> {
    if !perms.act {
        return Vec::new();
    }
    let mut a = vec![ActionButton::new(
        "Shut down",
        urls.act(&["worker", name, "shutdown"]),
        format!("Shut down worker {name} after its current job (warm shutdown)?"),
    )];
    if state == "busy" {
        a.push(
            ActionButton::new(
                "Kill horse",
                urls.act(&["worker", name, "kill-horse"]),
                format!("Kill the work horse of {name}? Its running job fails at once."),
            )
            .danger(),
        );
    }
    a
}

/// The buttons of a failure group: requeue or delete its jobs.
pub fn failure_group_actions(
    urls: &Urls,
    perms: Perms,
    queue: &str,
    key: &str,
    fingerprint: &str,
    count: usize,
) -> Vec<ActionButton> {
    let n = thousands(count as u64);
    let mut actions = Vec::new();
    if perms.act {
        actions.push(ActionButton::new(
            format!("Requeue {n}"),
            urls.act(&["failures", queue, key, "requeue"]),
            format!(
                "Requeue {} of “{queue}” that failed with “{fingerprint}”?",
                the(count as u64, "failed")
            ),
        ));
    }
    if perms.delete {
        actions.push(
            ActionButton::new(
                format!("Delete {n}"),
                urls.act(&["failures", queue, key, "delete"]),
                format!(
                    "Delete {} of “{queue}” that failed with “{fingerprint}”? This cannot be undone.",
                    the(count as u64, "failed")
                ),
            )
            .danger(),
        );
    }
    actions
}

/// The buttons acting on every match of a completed search: those the searched registry offers
/// (requeue for failed jobs, cancel for waiting ones, delete), each confirming how many jobs and
/// which search, and carrying that count (`expect`) so the action refuses if the matches changed.
pub fn search_actions(
    query: &SearchQuery,
    total: u64,
    urls: &Urls,
    perms: Perms,
) -> Vec<ActionButton> {
    let mut out = Vec::new();
    if !perms.act || total == 0 {
        return out;
    }
    let form = query.to_form();
    let what = query.describe();
    let n = thousands(total);
    let jobs = if total == 1 { "job" } else { "jobs" };
    for action in [JobAction::Requeue, JobAction::Cancel, JobAction::Delete] {
        if !action.offered_in(query.registry) || (action.destructive() && !perms.delete) {
            continue;
        }
        let url = urls.search_act(action.verb(), &form);
        let b = match action {
            JobAction::Requeue => ActionButton::new(
                format!("Requeue {n} {jobs}"),
                url,
                format!("Requeue the {n} matching {jobs} ({what})? Jobs that changed meanwhile are left alone."),
            ),
            JobAction::Cancel => ActionButton::new(
                format!("Cancel {n} {jobs}"),
                url,
                format!("Cancel the {n} matching {jobs} ({what})? Jobs that changed meanwhile are left alone."),
            ),
            _ => ActionButton::new(
                format!("Delete {n} {jobs}"),
                url,
                format!("Delete the {n} matching {jobs} ({what})? This cannot be undone."),
            )
            .danger(),
        };
        out.push(b.field("expect", &total.to_string()));
    }
    out
}
