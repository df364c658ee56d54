//! Failures grouped by exception: the page of a queue's groups, and requeue or delete of every
//! job of one group.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, Missing};
use crate::http::action::{Action, Done};
use crate::http::extract::Instance;
use crate::i18n;
use std::sync::Arc;

use crate::rq::actions::{rq_now, Found, JobAction};
use crate::rq::failure_groups;
use crate::rq::model::Registry;
use crate::tasks::BulkOp;
use crate::views::failures::FailuresPage;
use crate::views::format::plural;

/// How many of the newest failed jobs the failures page groups.
pub const GROUP_LIMIT: u64 = 10_000;

/// Path of the failures page and its group actions.
#[derive(Debug, Deserialize)]
pub struct FailuresPath {
    queue: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    verb: String,
}

/// `GET /{n}/view/failures/{queue}`: failed jobs grouped by exception.
pub async fn page(inst: Instance, path: web::Path<FailuresPath>) -> HttpResponse {
    let r = async {
        let queue = &path.queue;
        inst.viewer.require_view(queue)?;
        let (total, failures) = inst
            .repo
            .failures(queue, GROUP_LIMIT, &inst.sight())
            .await?;
        let groups = failure_groups::group(failures);
        Ok(FailuresPage::new(
            inst.layout_for(
                Some(queue),
                "queues",
                i18n::tf("title.failures", &[("queue", &queue)]),
            ),
            queue,
            total,
            &groups,
        )
        .render()?)
    }
    .await;
    inst.page(r)
}

/// `POST /{n}/failures/{queue}/{group}/{requeue|delete}`: every job of a failure group.
pub async fn act_on_group(act: Action, path: web::Path<FailuresPath>) -> HttpResponse {
    let r = group_action(&act, &path).await;
    act.reply("failure-group", r)
}

async fn group_action(act: &Action, path: &FailuresPath) -> Result<Done, AppError> {
    let action = match JobAction::from_verb(&path.verb) {
        Some(a @ (JobAction::Requeue | JobAction::Delete)) => a,
        _ => {
            return Err(AppError::NotFound(
                Missing::Action,
                format!(
                    "no action “{}” on a failure group: use requeue or delete",
                    path.verb
                ),
            ))
        }
    };
    if action.destructive() {
        act.allow_delete()?;
    }
    act.require(action.permission(), Some(&path.queue))?;
    act.require("bulk", Some(&path.queue))?;
    let (_, failures) = act
        .inst
        .repo
        .failures(&path.queue, GROUP_LIMIT, &act.inst.sight())
        .await?;
    let g = failure_groups::group(failures)
        .into_iter()
        .find(|g| g.key == path.key)
        .ok_or_else(|| {
            AppError::NotFound(
                Missing::FailureGroup,
                "that failure group no longer exists: its jobs may have been requeued or deleted meanwhile".into(),
            )
        })?;
    // The group's jobs, each acted on only while still in this failed registry and not failed
    // again since the click.
    let since = rq_now().0;
    let jobs: Vec<Found> = g
        .ids
        .iter()
        .map(|id| Found::in_place(id.clone(), &path.queue, Registry::Failed))
        .collect();
    // Records (the task, the audit trail) are read by others: the exception as redaction shows
    // it to everyone, fingerprinted from the redacted text so no trace of a hidden value is left.
    let redactor = &act.inst.state.settings.redactor;
    let what = format!(
        "{} the {} that failed with “{}”",
        action.verb(),
        plural(jobs.len() as u64, "job", "jobs"),
        failure_groups::fingerprint(&redactor.text(&g.example))
    );
    let op = BulkOp::Jobs {
        action,
        jobs: Arc::new(jobs),
        at_front: false,
        since: Some(since),
    };
    let mut done = super::tasks::start(act, op, what).await?;
    if done.redirect.is_none() {
        done.redirect = Some(act.inst.urls.failures(&path.queue));
    }
    Ok(done)
}
