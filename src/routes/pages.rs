//! HTML pages and their polled fragments.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::error::AppError;
use crate::routes::{fragment, instance_number, page};
use crate::rq::model::Registry;
use crate::rq::PageRequest;
use crate::state::AppState;
use crate::views::{
    JobPageView, JobsFragment, JobsPage, JobsView, Link, ListParams, OverviewFragment,
    OverviewPage, OverviewView, WorkersFragment, WorkersPage, WorkersView, MAX_PER_PAGE,
};

/// Path of a job list: `/{n}/…/{queue}/{registry}/{per_page}/{order}/{page}`.
#[derive(Debug, Deserialize)]
pub struct ListPath {
    n: String,
    queue: String,
    registry: String,
    per_page: String,
    order: String,
    page: String,
}

impl ListPath {
    /// Returns the instance number, queue name and validated parameters; `page_suffix` is
    /// stripped from the page segment first (`.json` for the API).
    ///
    /// # Errors
    /// `NotFound` for a bad instance, `BadRequest` with a message for bad parameters.
    pub fn parse(&self, page_suffix: &str) -> Result<(usize, String, ListParams), AppError> {
        let n = instance_number(&self.n)?;
        let page = self
            .page
            .strip_suffix(page_suffix)
            .ok_or_else(|| AppError::NotFound(format!("no page at “{}”", self.page)))?;
        Ok((
            n,
            self.queue.clone(),
            list_params(&self.registry, &self.per_page, &self.order, page)?,
        ))
    }
}

/// Validates the registry, page size, order and page of a job list.
///
/// # Errors
/// `BadRequest` saying which value is wrong and what is accepted.
pub fn list_params(
    registry: &str,
    per_page: &str,
    order: &str,
    page: &str,
) -> Result<ListParams, AppError> {
    let registry = Registry::parse(registry).ok_or_else(|| {
        AppError::BadRequest(format!(
            "unknown registry “{registry}”: use one of {}",
            Registry::ALL.map(|r| r.as_str()).join(", ")
        ))
    })?;
    let per_page: u64 = per_page
        .parse()
        .ok()
        .filter(|n| (1..=MAX_PER_PAGE).contains(n))
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "invalid page size “{per_page}”: use a number from 1 to {MAX_PER_PAGE}"
            ))
        })?;
    let desc = match order {
        "asc" => false,
        "dsc" | "desc" => true,
        other => {
            return Err(AppError::BadRequest(format!(
                "invalid order “{other}”: use asc or dsc"
            )))
        }
    };
    let page: u64 = page
        .parse()
        .ok()
        .filter(|p| *p >= 1 && *p <= 1_000_000_000)
        .ok_or_else(|| {
            AppError::BadRequest(format!("invalid page “{page}”: pages are numbered from 1"))
        })?;
    Ok(ListParams {
        registry,
        per_page,
        desc,
        page,
    })
}

/// Returns the repository request for validated list parameters.
pub fn page_request(p: &ListParams) -> PageRequest {
    PageRequest {
        offset: (p.page - 1) * p.per_page,
        limit: p.per_page,
        descending: p.desc,
    }
}

/// Which rendering of the snapshot a handler serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SnapView {
    OverviewPage,
    OverviewFragment,
    WorkersPage,
    WorkersFragment,
}

/// Serves a view rendered from instance `n`'s shared snapshot, rendering it only once per
/// snapshot (see [`crate::render_cache`]).
async fn snapshot_view(
    req: &HttpRequest,
    state: &AppState,
    n: Result<usize, AppError>,
    view: SnapView,
) -> HttpResponse {
    let full = matches!(view, SnapView::OverviewPage | SnapView::WorkersPage);
    let shown = n.as_ref().copied().unwrap_or(0);
    let r = async {
        let n = n?;
        let snap = state.instance(n)?.snapshot().await?;
        let key = match view {
            SnapView::OverviewPage => "overview_page",
            SnapView::OverviewFragment => "overview_fragment",
            SnapView::WorkersPage => "workers_page",
            SnapView::WorkersFragment => "workers_fragment",
        };
        state
            .renders
            .get_or_render(n, key, &snap, "text/html; charset=utf-8", || {
                let urls = state.urls(n);
                let (poll, perms, token) = (state.poll_ms(), state.perms(), &state.csrf_token);
                let o = &snap.overview;
                Ok(match view {
                    SnapView::OverviewPage => OverviewPage {
                        layout: state.layout(n, "queues", "Queues"),
                        ov: OverviewView::new(o, &urls, poll, perms, token)
                            .with_charts(charts(state, n, None)),
                    }
                    .render()?,
                    SnapView::OverviewFragment => OverviewFragment {
                        ov: OverviewView::new(o, &urls, poll, perms, token)
                            .with_charts(charts(state, n, None)),
                    }
                    .render()?,
                    SnapView::WorkersPage => WorkersPage {
                        layout: state.layout(n, "workers", "Workers"),
                        v: WorkersView::new(
                            &o.workers,
                            &snap.current_jobs,
                            &urls,
                            poll,
                            perms,
                            token,
                        ),
                    }
                    .render()?,
                    SnapView::WorkersFragment => WorkersFragment {
                        v: WorkersView::new(
                            &o.workers,
                            &snap.current_jobs,
                            &urls,
                            poll,
                            perms,
                            token,
                        ),
                    }
                    .render()?,
                })
            })
    }
    .await;
    match r {
        Ok(rendered) => crate::render_cache::respond(req, &rendered),
        Err(e) if full => page(state, shown, Err(e)),
        Err(e) => fragment(Err(e)),
    }
}

fn charts(state: &AppState, n: usize, queue: Option<&str>) -> Vec<crate::history::Chart> {
    state
        .history
        .get(n)
        .map(|h| crate::history::charts(&h.points(queue)))
        .unwrap_or_default()
}

/// `GET /`: the overview of the first instance.
pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    snapshot_view(&req, &state, Ok(0), SnapView::OverviewPage).await
}

/// `GET /{n}/view/queues` (and `/{n}/`, `/{n}/view`).
pub async fn overview_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    n: web::Path<String>,
) -> HttpResponse {
    snapshot_view(&req, &state, instance_number(&n), SnapView::OverviewPage).await
}

/// `GET /{n}/fragments/overview`: the polled part of the overview.
pub async fn overview_fragment(
    req: HttpRequest,
    state: web::Data<AppState>,
    n: web::Path<String>,
) -> HttpResponse {
    snapshot_view(
        &req,
        &state,
        instance_number(&n),
        SnapView::OverviewFragment,
    )
    .await
}

/// `GET /{n}/view/workers`.
pub async fn workers_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    n: web::Path<String>,
) -> HttpResponse {
    snapshot_view(&req, &state, instance_number(&n), SnapView::WorkersPage).await
}

/// `GET /{n}/fragments/workers`.
pub async fn workers_fragment(
    req: HttpRequest,
    state: web::Data<AppState>,
    n: web::Path<String>,
) -> HttpResponse {
    snapshot_view(&req, &state, instance_number(&n), SnapView::WorkersFragment).await
}

/// `GET /{n}/view/jobs`: rq-dashboard's job page without a queue; the overview is the place
/// to choose one.
pub async fn jobs_index(state: web::Data<AppState>, n: web::Path<String>) -> HttpResponse {
    match instance_number(&n) {
        Ok(n) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, state.urls(n).overview()))
            .finish(),
        Err(e) => page(&state, 0, Err(e)),
    }
}

async fn jobs_view(
    state: &AppState,
    n: usize,
    queue: &str,
    p: ListParams,
) -> Result<JobsView, AppError> {
    let repo = state.instance(n)?;
    let jobs = repo.list_jobs(queue, p.registry, page_request(&p)).await?;
    Ok(JobsView::new(
        queue,
        p,
        &jobs,
        &state.urls(n),
        state.poll_ms(),
        state.perms(),
        &state.csrf_token,
    ))
}

/// `GET /{n}/view/jobs/{queue}/{registry}/{per_page}/{order}/{page}`.
pub async fn jobs_page(state: web::Data<AppState>, path: web::Path<ListPath>) -> HttpResponse {
    let n = instance_number(&path.n).unwrap_or(0);
    let r = async {
        let (n, queue, p) = path.parse("")?;
        let repo = state.instance(n)?;
        let (view, counts) =
            tokio::join!(jobs_view(&state, n, &queue, p), repo.queue_counts(&queue));
        let (view, counts) = (view?, counts?);
        let urls = state.urls(n);
        let tabs = Registry::ALL
            .into_iter()
            .filter(|r| *r != Registry::Ready || counts.ready > 0 || p.registry == Registry::Ready)
            .map(|r| Link {
                label: format!("{r} ({})", counts.count(r)),
                url: urls.jobs(&queue, r, p.per_page, p.desc, 1),
                current: r == p.registry,
            })
            .collect();
        Ok(JobsPage {
            layout: state.layout(n, "queues", format!("{queue} · {}", p.registry)),
            charts: charts(&state, n, Some(&queue)),
            tabs,
            v: view,
        }
        .render()?)
    }
    .await;
    page(&state, n, r)
}

/// `GET /{n}/fragments/jobs/{queue}/{registry}/{per_page}/{order}/{page}`.
pub async fn jobs_fragment(state: web::Data<AppState>, path: web::Path<ListPath>) -> HttpResponse {
    let r = async {
        let (n, queue, p) = path.parse("")?;
        Ok(JobsFragment {
            v: jobs_view(&state, n, &queue, p).await?,
        }
        .render()?)
    }
    .await;
    fragment(r)
}

/// `GET /{n}/view/job/{id}`.
pub async fn job_page(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (n_s, id) = path.into_inner();
    let n = instance_number(&n_s).unwrap_or(0);
    let r = async {
        let n = instance_number(&n_s)?;
        let job = state
            .instance(n)?
            .job(&id)
            .await?
            .ok_or_else(|| job_not_found(&id))?;
        Ok(JobPageView::new(state.layout(n, "job", format!("Job {id}")), &job).render()?)
    }
    .await;
    page(&state, n, r)
}

/// The error for an unknown job id.
pub fn job_not_found(id: &str) -> AppError {
    AppError::NotFound(format!(
        "no job with id “{id}”: it may have expired (RQ deletes finished jobs after their result TTL) or been deleted"
    ))
}

/// Query of the jump box.
#[derive(Debug, Deserialize)]
pub struct JumpQuery {
    job_id: Option<String>,
}

/// `GET /{n}/jump?job_id=…`: redirects to the job page.
pub async fn jump(
    state: web::Data<AppState>,
    n: web::Path<String>,
    q: web::Query<JumpQuery>,
) -> HttpResponse {
    let r = (|| {
        let n = instance_number(&n)?;
        state.instance(n)?;
        let id = q.job_id.as_deref().map(str::trim).unwrap_or_default();
        if id.is_empty() {
            return Err(AppError::BadRequest("give a job id to jump to".into()));
        }
        Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, state.urls(n).job(id)))
            .finish())
    })();
    r.unwrap_or_else(|e| page(&state, 0, Err(e)))
}

/// How many of the newest failed jobs the failures page groups.
pub const GROUP_LIMIT: u64 = 10_000;

/// `GET /{n}/view/failures/{queue}`: failed jobs grouped by exception.
pub async fn failures_page(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (n_s, queue) = path.into_inner();
    let shown = instance_number(&n_s).unwrap_or(0);
    let r = async {
        let n = instance_number(&n_s)?;
        let (total, failures) = state.instance(n)?.failures(&queue, GROUP_LIMIT).await?;
        let groups = crate::rq::groups::group(failures);
        Ok(crate::views::FailuresPage::new(
            state.layout(n, "queues", format!("Failures of {queue}")),
            &queue,
            total,
            &groups,
        )
        .render()?)
    }
    .await;
    page(&state, shown, r)
}

/// `GET /all`: the queues of every instance on one page.
pub async fn all_instances(state: web::Data<AppState>) -> HttpResponse {
    let mut blocks = Vec::new();
    for (i, repo) in state.instances.iter().enumerate() {
        let urls = state.urls(i);
        let view = match repo.snapshot().await {
            Ok(snap) => Ok(OverviewView::new(
                &snap.overview,
                &urls,
                state.poll_ms(),
                state.perms(),
                &state.csrf_token,
            )),
            Err(e) => Err(e.to_string()),
        };
        blocks.push(crate::views::InstanceBlock {
            index: i,
            label: repo.label().to_string(),
            url: urls.overview(),
            view,
        });
    }
    let r = crate::views::AllPage {
        layout: state.layout(0, "all", "All instances"),
        blocks,
    }
    .render()
    .map_err(AppError::from);
    page(&state, 0, r)
}
