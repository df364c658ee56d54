//! A bulk task's progress page (`/<n>/tasks/<id>`) and its polled fragment.

use askama::Template;
use chrono::Utc;
use std::sync::atomic::Ordering::Relaxed;

use super::layout::Layout;
use super::urls::Urls;
use crate::tasks::{Task, TaskState};

/// A bulk task's progress for display.
#[derive(Debug, Clone)]
pub struct TaskView {
    /// Task id.
    pub id: u64,
    /// What it does.
    pub description: String,
    /// `running`, `finished`, `cancelled` or `failed`.
    pub state: &'static str,
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
    /// Cancel URL.
    pub cancel_url: String,
    /// Fragment URL.
    pub fragment_url: String,
    /// Poll interval in ms.
    pub poll_ms: u64,
}

impl TaskView {
    /// Builds the view.
    pub fn new(t: &Task, urls: &Urls, poll_ms: u64) -> TaskView {
        let state = t.state();
        let (total, done, kept) = (
            t.total.load(Relaxed),
            t.done.load(Relaxed),
            t.kept.load(Relaxed),
        );
        let end = t.finished_at().unwrap_or_else(Utc::now);
        TaskView {
            id: t.id,
            description: t.description.clone(),
            state: state.as_str(),
            error: match state {
                TaskState::Failed(e) => Some(e),
                _ => None,
            },
            total,
            done,
            kept,
            percent: ((done + kept) * 100)
                .checked_div(total)
                .map_or(100, |p| p.min(100)),
            elapsed: format!(
                "{:.1} s",
                (end - t.started_at).num_milliseconds() as f64 / 1000.0
            ),
            running: t.state() == TaskState::Running,
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
