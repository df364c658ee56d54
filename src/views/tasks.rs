//! A bulk task's progress page (`/<n>/tasks/<id>`) and its polled fragment.

use crate::i18n;
use askama::Template;
use chrono::Utc;

use super::buttons::ActionButton;
use super::layout::Layout;
use super::layout::Perms;
use super::urls::Urls;
use crate::tasks::TaskRecord;

/// A bulk task's progress for display.
#[derive(Debug, Clone)]
pub struct TaskView {
    /// Task id.
    pub id: u64,
    /// What it does.
    pub description: String,
    /// `running`, `finished`, `cancelled`, `failed` or `interrupted` (its replica went away).
    pub state: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Entries to go through.
    pub total: u64,
    /// Jobs acted on.
    pub done: u64,
    /// Entries left alone.
    pub kept: u64,
    /// Percent through (0–100).
    pub percent: u64,
    /// Elapsed time.
    pub elapsed: String,
    /// Still running.
    pub running: bool,
    /// Resume an interrupted task.
    pub resume: Option<ActionButton>,
    /// The task that continues this one (id, URL), once resumed.
    pub resumed_by: Option<(u64, String)>,
    /// The task this one continues (id, URL).
    pub resumed_from: Option<(u64, String)>,
    /// The anti-CSRF token (the fragment has no layout).
    pub csrf_token: String,
    /// Cancel URL.
    pub cancel_url: String,
    /// Fragment URL.
    pub fragment_url: String,
    /// Poll interval in ms.
    pub poll_ms: u64,
}

impl TaskView {
    /// Builds the view of a task's record.
    pub fn new(
        t: &TaskRecord,
        urls: &Urls,
        poll_ms: u64,
        perms: Perms,
        csrf_token: &str,
    ) -> TaskView {
        let now = Utc::now();
        let state = t.state_at(now).to_string();
        let end = t.finished_at.unwrap_or(now);
        TaskView {
            id: t.id,
            description: t.description.clone(),
            error: t.error.clone(),
            total: t.total,
            done: t.done,
            kept: t.kept,
            percent: ((t.done + t.kept) * 100)
                .checked_div(t.total)
                .map_or(100, |p| p.min(100)),
            elapsed: i18n::tf(
                "tasks.elapsed",
                &[(
                    "s",
                    &format!(
                        "{:.1}",
                        (end - t.started_at).num_milliseconds() as f64 / 1000.0
                    ),
                )],
            ),
            running: state == "running",
            // A destructive task is resumed only by those who may delete (the route checks too).
            resume: (t.resumable(now)
                && perms.act
                && perms.bulk
                && (perms.delete || !t.op.as_ref().is_some_and(|o| o.destructive())))
            .then(|| {
                ActionButton::new(
                    i18n::t("tasks.resume"),
                    urls.task_resume(t.id),
                    i18n::t("tasks.resume_confirm"),
                )
            }),
            resumed_by: t.resumed_by.map(|id| (id, urls.task(id))),
            resumed_from: t.resumed_from.map(|id| (id, urls.task(id))),
            state,
            csrf_token: csrf_token.to_string(),
            cancel_url: urls.task_cancel(t.id),
            fragment_url: urls.task_fragment(t.id),
            poll_ms: poll_ms.min(1000),
        }
    }
}

/// `/<n>/tasks/<id>`.
#[derive(Template)]
#[template(path = "tasks/show.html")]
pub struct TaskPage {
    /// Layout.
    pub layout: Layout,
    /// Progress.
    pub v: TaskView,
}

/// The polled progress of a task.
#[derive(Template)]
#[template(path = "tasks/show.html", block = "task")]
pub struct TaskFragment {
    /// Progress.
    pub v: TaskView,
}
