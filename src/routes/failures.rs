//! Failures grouped by exception: the page of a queue's groups, and requeue or delete of every
//! job of one group.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::AppError;
use crate::http::action::{Action, Done};
use crate::http::extract::Instance;
use crate::i18n;
use crate::rq::actions::{JobAction, Outcome};
use crate::rq::failure_groups;
use crate::tasks::JOB_CHUNK;
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
        let (total, failures) = inst.repo.failures(queue, GROUP_LIMIT).await?;
        let groups = failure_groups::group(failures);
        Ok(FailuresPage::new(
            inst.layout("queues", i18n::tf("title.failures", &[("queue", &queue)])),
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
            return Err(AppError::NotFound(format!(
                "no action “{}” on a failure group: use requeue or delete",
                path.verb
            )))
        }
    };
    if action.destructive() {
        act.allow_delete()?;
    }
    let repo = &act.inst.repo;
    let (_, failures) = repo.failures(&path.queue, GROUP_LIMIT).await?;
    let g = failure_groups::group(failures)
        .into_iter()
        .find(|g| g.key == path.key)
        .ok_or_else(|| {
            AppError::NotFound(
                "that failure group no longer exists: its jobs may have been requeued or deleted meanwhile".into(),
            )
        })?;
    let hint = repo.job_brief(&g.ids[0]).await?;
    let major = repo.rq_major(hint.as_ref()).await?;
    let mut ok = 0u64;
    for chunk in g.ids.chunks(JOB_CHUNK as usize) {
        ok += repo
            .job_action(action, chunk, major, false)
            .await?
            .into_iter()
            .filter(|o| *o == Outcome::Ok)
            .count() as u64;
    }
    Ok(Done::to(
        format!(
            "{} {} that failed with “{}”",
            action.past(),
            plural(ok, "job", "jobs"),
            g.fingerprint
        ),
        Some(act.inst.urls.failures(&path.queue)),
    )
    .with("count", ok))
}
