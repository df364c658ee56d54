//! RQ's job groups (2.0+): the groups page, a group's page, `groups.json`, and the group actions
//! (requeue its failed jobs, cancel its pending ones, delete it), each job by RQ's own sequence.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{AppError, Missing};
use crate::http::action::{Action, Done};
use crate::http::extract::Instance;
use crate::i18n;
use crate::rq::actions::{Found, JobAction, Outcome};
use crate::rq::repository::groups::GroupSummary;
use crate::views::format::{plural, thousands};
use crate::views::groups::{GroupPage, GroupsPage, GROUPS_PER_PAGE, PER_PAGE};

/// Query of the groups page and `groups.json`: the page (1-based) and, for JSON, its size.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<String>,
    per_page: Option<String>,
}

impl ListQuery {
    /// The page and its size (`default` when not given, at most [`MAX_PER_PAGE`]).
    fn parse(&self, default: usize) -> Result<(usize, usize), AppError> {
        let number = |v: &Option<String>, name: &str, d: usize| match v.as_deref() {
            None | Some("") => Ok(d),
            Some(t) => t.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                AppError::BadRequest(format!("{name} must be a whole number from 1, not “{t}”"))
            }),
        };
        let per_page = number(&self.per_page, "per_page", default)?;
        if per_page > MAX_PER_PAGE {
            return Err(AppError::BadRequest(format!(
                "per_page may be at most {MAX_PER_PAGE}"
            )));
        }
        Ok((number(&self.page, "page", 1)?, per_page))
    }
}

/// The most groups per page of `groups.json`.
pub const MAX_PER_PAGE: usize = 1_000;

/// `GET /{n}/view/groups?page=…`.
pub async fn page(inst: Instance, q: web::Query<ListQuery>) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let (page, per_page) = q.parse(GROUPS_PER_PAGE)?;
        let list = inst.repo.groups_page(page, per_page).await?;
        Ok(GroupsPage::new(inst.layout("groups", i18n::t("nav.groups")), &list, page).render()?)
    }
    .await;
    inst.page(r)
}

/// `GET /{n}/data/groups.json?page=…&per_page=…`: one page of the groups (1,000 by default),
/// newest first, with `total`, `truncated` (groups past the cap of the listing, which no page
/// reaches), `page`, `per_page` and `pages`.
pub async fn json(inst: Instance, q: web::Query<ListQuery>) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let (page, per_page) = q.parse(MAX_PER_PAGE)?;
        let list = inst.repo.groups_page(page, per_page).await?;
        let groups: Vec<Value> = list
            .groups
            .iter()
            .map(|g| {
                json!({
                    "name": g.name,
                    "count": g.count,
                    "statuses": g.statuses,
                    "sampled": g.sampled,
                    "newest_created_at": crate::views::format::isoformat(g.newest),
                })
            })
            .collect();
        Ok(json!({
            "groups": groups,
            "total": list.total,
            "listed": list.listed,
            "truncated": list.truncated(),
            "page": page,
            "per_page": per_page,
            "pages": list.listed.div_ceil(per_page).max(1),
        }))
    }
    .await;
    inst.json(r)
}

/// Path of a group.
#[derive(Debug, Deserialize)]
pub struct GroupPath {
    name: String,
    #[serde(default)]
    verb: String,
}

/// Query of a group's page.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<usize>,
}

async fn summary(inst: &Instance, name: &str) -> Result<GroupSummary, AppError> {
    inst.repo.group(name).await?.ok_or_else(|| {
        AppError::NotFound(
            Missing::Group,
            format!(
                "no group named “{name}”: RQ forgets a group once all its jobs have expired or been deleted"
            ),
        )
    })
}

/// `GET /{n}/view/groups/{name}?page=…`.
pub async fn show(
    inst: Instance,
    path: web::Path<GroupPath>,
    q: web::Query<PageQuery>,
) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let g = summary(&inst, &path.name).await?;
        let ids = inst.repo.group_ids_newest_first(&path.name).await?;
        let pages = ids.len().div_ceil(PER_PAGE).max(1);
        let page = q.page.unwrap_or(1).clamp(1, pages);
        let slice: Vec<String> = ids
            .iter()
            .skip((page - 1) * PER_PAGE)
            .take(PER_PAGE)
            .cloned()
            .collect();
        let jobs = inst.repo.job_summaries(&slice, &inst.sight()).await?;
        Ok(GroupPage::new(
            inst.layout("groups", i18n::tf("title.group", &[("name", &path.name)])),
            &g,
            &jobs,
            ids.len(),
            page,
            inst.viewer.perms,
        )
        .render()?)
    }
    .await;
    inst.page(r)
}

/// `POST /{n}/groups/{name}/{requeue|cancel|delete}`.
pub async fn act(act: Action, path: web::Path<GroupPath>) -> HttpResponse {
    let r = group_action(&act, &path.name, &path.verb).await;
    act.reply(&format!("group-{}", path.verb), r)
}

async fn group_action(act: &Action, name: &str, verb: &str) -> Result<Done, AppError> {
    let action = match JobAction::from_verb(verb) {
        Some(a @ (JobAction::Requeue | JobAction::Cancel | JobAction::Delete)) => a,
        _ => {
            return Err(AppError::NotFound(
                Missing::Action,
                format!("no action “{verb}” on a group: use requeue, cancel or delete"),
            ))
        }
    };
    if action.destructive() {
        act.allow_delete()?;
    }
    // A group's jobs may sit in any queue: under a policy, acting on one needs the permission
    // on every queue.
    act.require(action.permission(), None)?;
    act.require("bulk", None)?;
    let repo = &act.inst.repo;
    let ids = repo
        .group_ids(name, crate::rq::repository::groups::MAX_MEMBERS)
        .await?;
    if ids.is_empty() {
        return Err(AppError::NotFound(
            Missing::Group,
            format!("no group named “{name}”"),
        ));
    }
    let hint = repo.job_brief(&ids[0]).await?;
    let major = repo.rq_major(hint.as_ref()).await?;
    let (mut ok, mut other) = (0u64, 0u64);
    let jobs: Vec<Found> = ids.iter().map(Found::anywhere).collect();
    for o in repo.job_action(action, &jobs, major, false, None).await? {
        match o {
            Outcome::Ok => ok += 1,
            _ => other += 1,
        }
    }
    let mut redirect = Some(act.inst.urls.group(name));
    if action == JobAction::Delete && repo.forget_group_if_empty(name).await? {
        redirect = Some(act.inst.urls.groups());
    }
    let mut message = format!(
        "{} {} of group “{name}”",
        action.past(),
        plural(ok, "job", "jobs")
    );
    if other > 0 {
        message.push_str(&format!(
            ", {} left alone (not in a state for it, or gone)",
            thousands(other)
        ));
    }
    Ok(Done::to(message, redirect)
        .with("count", ok)
        .with("skipped", other))
}
