//! The button catalogue: every action button the pages offer, with its label, endpoint and a
//! confirmation that says exactly what will happen. Which job status allows which action comes
//! from the one table in [`crate::rq::actions`]; what the viewer may do from [`Perms`]. Also
//! [`describe_search`], a search in words, which the buttons acting on a search's matches
//! confirm with and the search page shows.

use super::format::{plural, thousands};
use super::layout::Perms;
use super::urls::Urls;
use crate::i18n::{self, t, tf};
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
    let kind = i18n::registry(kind);
    if n == 1 {
        tf("buttons.every_one", &[("kind", &kind)])
    } else {
        tf(
            "buttons.every_many",
            &[("n", &thousands(n)), ("kind", &kind)],
        )
    }
}

/// "the 3 failed jobs", "the 1 failed job".
fn the(n: u64, kind: &str) -> String {
    tf(
        "buttons.the",
        &[(
            "jobs",
            &plural(n, &format!("{kind} job"), &format!("{kind} jobs")),
        )],
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
    if failed > 0 && perms.requeue && perms.bulk {
        let n = thousands(failed);
        actions.push(ActionButton::new(
            tf("buttons.requeue_all_failed", &[("n", &n)]),
            urls.act(&["requeue-all"]),
            tf(
                "buttons.requeue_all_failed_confirm",
                &[("jobs", &plural(failed, "failed job", "failed jobs"))],
            ),
        ));
    }
    if perms.suspend && suspended {
        actions.push(ActionButton::new(
            t("buttons.resume"),
            urls.act(&["resume"]),
            t("buttons.resume_confirm"),
        ));
    } else if perms.suspend && workers > 0 {
        actions.push(
            ActionButton::new(
                t("buttons.suspend"),
                urls.act(&["suspend"]),
                t("buttons.suspend_confirm"),
            )
            .danger(),
        );
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
        if !action.allows(status) || !perms.job(action) {
            continue;
        }
        let url = urls.act(&["job", id, action.verb()]);
        match action {
            JobAction::Requeue => {
                a.push(ActionButton::new(
                    t("buttons.requeue"),
                    url.clone(),
                    tf(
                        "buttons.requeue_confirm",
                        &[("id", &id), ("queue", &origin)],
                    ),
                ));
                a.push(
                    ActionButton::new(
                        t("buttons.requeue_front"),
                        url,
                        tf(
                            "buttons.requeue_front_confirm",
                            &[("id", &id), ("queue", &origin)],
                        ),
                    )
                    .field("at_front", "1"),
                );
            }
            JobAction::EnqueueNow => a.push(ActionButton::new(
                t("buttons.enqueue_now"),
                url,
                tf(
                    "buttons.enqueue_now_confirm",
                    &[("id", &id), ("queue", &origin)],
                ),
            )),
            JobAction::Cancel => a.push(ActionButton::new(
                t("buttons.cancel"),
                url,
                tf(
                    "buttons.cancel_confirm",
                    &[
                        ("status", &i18n::status(status)),
                        ("id", &id),
                        ("queue", &origin),
                    ],
                ),
            )),
            JobAction::Stop => a.push(
                ActionButton::new(
                    t("buttons.stop"),
                    url,
                    tf("buttons.stop_confirm", &[("id", &id)]),
                )
                .danger(),
            ),
            JobAction::Delete => a.push(
                ActionButton::new(
                    t("buttons.delete"),
                    url,
                    tf("buttons.delete_confirm", &[("id", &id), ("queue", &origin)]),
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
    perms.stop.then(|| {
        ActionButton::new(
            t("buttons.stop"),
            urls.act(&["job", id, "executions", execution, "stop"]),
            tf(
                "buttons.stop_execution_confirm",
                &[("execution", &execution), ("id", &id)],
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
        if !action.offered_in(registry) || !perms.job(action) || !perms.bulk {
            continue;
        }
        let url = urls.act(&["jobs", action.verb()]);
        sel.push(match action {
            JobAction::Requeue => ActionButton::new(
                t("buttons.requeue_selected"),
                url,
                tf("buttons.requeue_selected_confirm", &[("queue", &queue)]),
            ),
            JobAction::Cancel => ActionButton::new(
                t("buttons.cancel_selected"),
                url,
                tf(
                    "buttons.cancel_selected_confirm",
                    &[("registry", &i18n::registry(reg)), ("queue", &queue)],
                ),
            ),
            JobAction::EnqueueNow => ActionButton::new(
                t("buttons.enqueue_selected"),
                url,
                tf("buttons.enqueue_selected_confirm", &[("queue", &queue)]),
            ),
            _ => ActionButton::new(
                t("buttons.delete_selected"),
                url,
                tf("buttons.delete_selected_confirm", &[("queue", &queue)]),
            )
            .danger(),
        });
    }
    if registry == Registry::Failed && total > 0 && perms.requeue && perms.bulk {
        whole.push(ActionButton::new(
            tf("buttons.requeue_all", &[("n", &n)]),
            urls.act(&["requeue", queue]),
            tf(
                "buttons.requeue_all_confirm",
                &[
                    ("jobs", &plural(total, "failed job", "failed jobs")),
                    ("queue", &queue),
                ],
            ),
        ));
    }
    let empty = perms.empty && perms.bulk;
    if registry == Registry::Queued {
        if total > 0 && empty {
            whole.push(
                ActionButton::new(
                    tf("buttons.empty_queue", &[("n", &n)]),
                    urls.act(&["queue", queue, "queued", "empty"]),
                    tf(
                        "buttons.delete_all_confirm",
                        &[("jobs", &every(total, "queued")), ("queue", &queue)],
                    ),
                )
                .danger(),
            );
        }
        if perms.clean {
            whole.push(ActionButton::new(
                t("buttons.compact"),
                urls.act(&["queue", queue, "compact"]),
                tf("buttons.compact_confirm", &[("queue", &queue)]),
            ));
        }
        if total == 0 && perms.empty {
            whole.push(
                ActionButton::new(
                    t("buttons.remove_queue"),
                    urls.act(&["queue", queue, "remove"]),
                    tf("buttons.remove_queue_confirm", &[("queue", &queue)]),
                )
                .danger(),
            );
        }
    }
    if crate::tasks::CLEANABLE.contains(&registry) {
        if total > 0 && empty {
            whole.push(
                ActionButton::new(
                    tf("buttons.delete_all", &[("n", &n)]),
                    urls.act(&["queue", queue, reg, "empty"]),
                    tf(
                        "buttons.delete_all_confirm",
                        &[("jobs", &every(total, reg)), ("queue", &queue)],
                    ),
                )
                .danger(),
            );
        }
        if perms.clean {
            whole.push(ActionButton::new(
                t("buttons.clean"),
                urls.act(&["queue", queue, "clean"]),
                tf("buttons.clean_confirm", &[("queue", &queue)]),
            ));
        }
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
    if !perms.act || !perms.bulk {
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
    if failed > 0 && perms.requeue {
        a.push(ActionButton::new(
            t("buttons.requeue_failed"),
            urls.act(&["groups", name, "requeue"]),
            tf(
                "buttons.requeue_group_confirm",
                &[
                    ("jobs", &plural(failed, "failed job", "failed jobs")),
                    ("group", &name),
                ],
            ),
        ));
    }
    let pending = count(&["queued", "scheduled", "deferred"]);
    if pending > 0 && perms.cancel {
        a.push(ActionButton::new(
            t("buttons.cancel_pending"),
            urls.act(&["groups", name, "cancel"]),
            tf(
                "buttons.cancel_group_confirm",
                &[
                    ("jobs", &plural(pending, "pending job", "pending jobs")),
                    ("group", &name),
                ],
            ),
        ));
    }
    if perms.delete {
        a.push(
            ActionButton::new(
                t("buttons.delete_group"),
                urls.act(&["groups", name, "delete"]),
                tf("buttons.delete_group_confirm", &[("group", &name)]),
            )
            .danger(),
        );
    }
    a
}

/// The buttons of a worker row: warm shutdown, and killing the work horse of a busy one.
pub fn worker_actions(urls: &Urls, perms: Perms, name: &str, state: &str) -> Vec<ActionButton> {
    if !perms.suspend {
        return Vec::new();
    }
    let mut a = vec![ActionButton::new(
        t("buttons.shutdown"),
        urls.act(&["worker", name, "shutdown"]),
        tf("buttons.shutdown_confirm", &[("worker", &name)]),
    )];
    if state == "busy" {
        a.push(
            ActionButton::new(
                t("buttons.kill_horse"),
                urls.act(&["worker", name, "kill-horse"]),
                tf("buttons.kill_horse_confirm", &[("worker", &name)]),
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
    if !perms.bulk {
        return actions;
    }
    if perms.requeue {
        actions.push(ActionButton::new(
            tf("buttons.requeue_n", &[("n", &n)]),
            urls.act(&["failures", queue, key, "requeue"]),
            tf(
                "buttons.requeue_failure_group_confirm",
                &[
                    ("jobs", &the(count as u64, "failed")),
                    ("queue", &queue),
                    ("fingerprint", &fingerprint),
                ],
            ),
        ));
    }
    if perms.delete {
        actions.push(
            ActionButton::new(
                tf("buttons.delete_n", &[("n", &n)]),
                urls.act(&["failures", queue, key, "delete"]),
                tf(
                    "buttons.delete_failure_group_confirm",
                    &[
                        ("jobs", &the(count as u64, "failed")),
                        ("queue", &queue),
                        ("fingerprint", &fingerprint),
                    ],
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
    if !perms.act || !perms.bulk || total == 0 {
        return out;
    }
    let form = query.to_form();
    let what = describe_search(query);
    let n = thousands(total);
    let jobs = if total == 1 {
        t("buttons.job_one")
    } else {
        t("buttons.job_other")
    };
    for action in [JobAction::Requeue, JobAction::Cancel, JobAction::Delete] {
        if !action.offered_in(query.registry) || !perms.job(action) {
            continue;
        }
        let url = urls.search_act(action.verb(), &form);
        let b = match action {
            JobAction::Requeue => ActionButton::new(
                tf("buttons.requeue_matches", &[("n", &n), ("jobs", &jobs)]),
                url,
                tf(
                    "buttons.requeue_matches_confirm",
                    &[("n", &n), ("jobs", &jobs), ("what", &what)],
                ),
            ),
            JobAction::Cancel => ActionButton::new(
                tf("buttons.cancel_matches", &[("n", &n), ("jobs", &jobs)]),
                url,
                tf(
                    "buttons.cancel_matches_confirm",
                    &[("n", &n), ("jobs", &jobs), ("what", &what)],
                ),
            ),
            _ => ActionButton::new(
                tf("buttons.delete_matches", &[("n", &n), ("jobs", &jobs)]),
                url,
                tf(
                    "buttons.delete_matches_confirm",
                    &[("n", &n), ("jobs", &jobs), ("what", &what)],
                ),
            )
            .danger(),
        };
        out.push(b.field("expect", &total.to_string()));
    }
    out
}

/// What a search looks for, in the current language (the English is
/// [`SearchQuery::describe`]'s, word for word; JSON and the audit log keep that one).
pub fn describe_search(query: &SearchQuery) -> String {
    let registry = i18n::registry(query.registry.as_str());
    let mut s = match &query.queue {
        Some(q) => i18n::tf(
            "search.describe_queue",
            &[("registry", &registry), ("queue", q)],
        ),
        None => i18n::tf("search.describe_every", &[("registry", &registry)]),
    };
    let f = query.to_form();
    let mut parts = Vec::new();
    for (k, v) in [
        ("search.field_function", &f.func),
        ("search.field_exception", &f.exc),
        ("search.field_text", &f.q),
        ("search.field_worker", &f.worker),
        ("search.field_since", &f.since),
        ("search.field_until", &f.until),
    ] {
        if !v.is_empty() {
            parts.push(i18n::tf(k, &[("v", v)]));
        }
    }
    if !parts.is_empty() {
        s.push_str(&i18n::tf(
            "search.describe_with",
            &[("parts", &parts.join(i18n::t("search.parts_sep")))],
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rq::search::SearchForm;

    #[test]
    fn the_description_is_the_querys_in_english_and_translated_in_chinese() {
        for form in [
            SearchForm {
                queue: "*".into(),
                registry: "failed".into(),
                ..SearchForm::default()
            },
            SearchForm {
                queue: "mail".into(),
                registry: "finished".into(),
                func: "app.send".into(),
                exc: "Timeout".into(),
                q: "cust-1".into(),
                worker: "w1".into(),
                since: "2026-12-01T10:00:00Z".into(),
                until: "2026-12-01T11:00:00Z".into(),
            },
        ] {
            let q = form.parse().expect("valid search");
            assert_eq!(describe_search(&q), q.describe());
            let zh = i18n::Lang::from_code("zh-CN").unwrap();
            let d = i18n::sync_scope(zh, || describe_search(&q));
            assert!(d.contains("任务"), "{d}");
        }
    }
}
