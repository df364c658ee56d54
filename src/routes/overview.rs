//! The overview: `/`, `/<n>/view/queues` and its polled fragment, rendered once per shared
//! snapshot; and `/all`, every instance's queues on one page.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::error::AppError;
use crate::http::extract::Instance;
use crate::http::respond::Kind;
use crate::i18n;
use crate::rq::Snapshot;
use crate::views::lists::{ListQuery, Listing};
use crate::views::overview::{
    AllPage, InstanceBlock, OverviewFragment, OverviewPage, OverviewView,
};

const HTML: &str = "text/html; charset=utf-8";

fn view(inst: &Instance, snap: &Snapshot, q: &ListQuery) -> Result<OverviewView, AppError> {
    let listing = Listing::parse(q, &OverviewView::sort_columns(snap.overview.has_ready))?;
    Ok(OverviewView::new(
        &snap.overview,
        &inst.urls,
        inst.poll_ms(),
        inst.viewer.perms,
        &inst.csrf_token(),
        &listing,
    )
    .with_badges(inst.state.problems.queue_badges(inst.n))
    .with_redis_label(inst.repo.label()))
}

/// `GET /` and `/{n}/view/queues` (also `/{n}`, `/{n}/`, `/{n}/view`), with `?q=`, `sort`,
/// `dir`, `page`, `per_page` and `hide_empty`.
pub async fn page(inst: Instance, q: web::Query<ListQuery>) -> HttpResponse {
    let variant = inst.req.query_string().to_string();
    inst.cached(Kind::Page, "overview_page", variant, HTML, |snap| {
        Ok(OverviewPage {
            layout: inst.layout("queues", i18n::t("nav.queues")),
            ov: view(&inst, snap, &q)?,
            charts: super::history::chart_set(&inst, None, crate::history::Range::Day),
            functions: super::history::functions_html(&inst, None)?,
        }
        .render()?)
    })
    .await
}

/// `GET /{n}/fragments/overview`: the polled part of the overview, for the same list parameters.
pub async fn fragment(inst: Instance, q: web::Query<ListQuery>) -> HttpResponse {
    let variant = inst.req.query_string().to_string();
    inst.cached(Kind::Fragment, "overview_fragment", variant, HTML, |snap| {
        Ok(OverviewFragment {
            ov: view(&inst, snap, &q)?,
        }
        .render()?)
    })
    .await
}

/// `GET /all`: the queues of every instance on one page.
pub async fn all_instances(inst: Instance) -> HttpResponse {
    if let Err(e) = inst.viewer.require_view_everywhere() {
        return inst.page(Err(e));
    }
    let mut blocks = Vec::new();
    for (i, repo) in inst.state.instances.iter().enumerate() {
        let urls = inst.viewer.urls(i);
        let view = match repo.snapshot().await {
            Ok(snap) => Ok(OverviewView::new(
                &snap.overview,
                &urls,
                inst.poll_ms(),
                inst.viewer.perms,
                &inst.csrf_token(),
                &Listing::default(),
            )),
            Err(e) => Err(e.to_string()),
        };
        blocks.push(InstanceBlock {
            index: i,
            label: repo.label().to_string(),
            url: urls.overview(),
            view,
        });
    }
    let r = AllPage {
        layout: inst.layout("all", i18n::t("nav.all")),
        blocks,
    }
    .render()
    .map_err(AppError::from);
    inst.page(r)
}
