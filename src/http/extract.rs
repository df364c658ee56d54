//! Resolves what a request is about, once: the Redis instance (`/{n}/…`, instance 0 for
//! rq-dashboard's unprefixed action URLs), its repository, the URLs of its pages under the right
//! prefix, and what the viewer may do. Handlers take an [`Instance`] and never parse `{n}` or
//! read permissions themselves.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde_json::Value;
use std::future::{ready, Ready};
use std::sync::Arc;

use crate::error::{AppError, Missing};
use crate::http::respond::{self, Kind};
use crate::http::viewer::{layout, Viewer};
use crate::redact::Sight;
use crate::render_cache;
use crate::rq::{Repository, Snapshot};
use crate::state::AppState;
use crate::views::layout::Layout;
use crate::views::urls::Urls;

/// Parses the instance number of a path segment.
///
/// # Errors
/// `NotFound` when it is not a number (so `/favicon.png` and the like are plain 404s).
pub fn instance_number(s: &str) -> Result<usize, AppError> {
    s.parse()
        .map_err(|_| AppError::NotFound(Missing::Page, format!("no page at “{s}”")))
}

/// Wraps a rendered refusal as the error an extractor fails with (actix sends it as it is).
pub fn refusal(resp: HttpResponse) -> actix_web::Error {
    actix_web::error::InternalError::from_response("refused", resp).into()
}

/// One Redis instance as a request sees it.
pub struct Instance {
    /// The shared state.
    pub state: web::Data<AppState>,
    /// The instance number.
    pub n: usize,
    /// Its repository.
    pub repo: Arc<Repository>,
    /// Its URLs for this viewer.
    pub urls: Urls,
    /// Who is looking.
    pub viewer: Viewer,
    /// The request (for the answer's form: htmx, browser, script).
    pub req: HttpRequest,
}

impl Instance {
    /// Resolves the instance of `req`, or the answer saying why it cannot be.
    ///
    /// # Errors
    /// The rendered error (404 for an unknown instance), in the request's kind of answer.
    pub fn resolve(req: &HttpRequest) -> Result<Instance, actix_web::Error> {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Err(refusal(
                HttpResponse::InternalServerError().body("no application state"),
            ));
        };
        let viewer = Viewer::current(&state);
        let n = match req.match_info().get("n") {
            None => Ok(0),
            Some(s) => instance_number(s),
        };
        match n.and_then(|n| state.instance(n).map(|r| (n, r.clone()))) {
            Ok((n, repo)) => Ok(Instance {
                urls: viewer.urls(n),
                state,
                n,
                repo,
                viewer,
                req: req.clone(),
            }),
            Err(e) => Err(refusal(respond::error(
                req,
                &state,
                &viewer,
                0,
                Kind::of(req),
                e,
            ))),
        }
    }

    /// The layout of a page of this instance.
    pub fn layout(&self, nav: &'static str, title: impl Into<String>) -> Layout {
        layout(&self.state, &self.viewer, self.n, nav, title)
    }

    /// The layout of a page about `queue`: its buttons follow what the viewer may do there.
    pub fn layout_for(
        &self,
        queue: Option<&str>,
        nav: &'static str,
        title: impl Into<String>,
    ) -> Layout {
        let mut l = self.layout(nav, title);
        l.perms = self.viewer.perms_for(queue);
        l
    }

    /// Poll interval in milliseconds.
    pub fn poll_ms(&self) -> u64 {
        self.state.poll_ms()
    }

    /// The anti-CSRF token for forms in fragments (which have no layout).
    pub fn csrf_token(&self) -> String {
        self.state.csrf_token(self.viewer.user.as_deref())
    }

    /// Answers a full page, or the error page with this instance's layout.
    pub fn page(&self, r: Result<String, AppError>) -> HttpResponse {
        self.answer(Kind::Page, r.map(respond::html))
    }

    /// Answers a polled fragment, or a small alert with the real status.
    pub fn fragment(&self, r: Result<String, AppError>) -> HttpResponse {
        self.answer(Kind::Fragment, r.map(respond::html))
    }

    /// Answers JSON, or `{"status": "error", ...}` with the real status.
    pub fn json(&self, r: Result<Value, AppError>) -> HttpResponse {
        self.answer(Kind::Json, r.map(|v| respond::json(&v)))
    }

    /// What redaction hides from this viewer ([`crate::redact`]): pass it to every read of job
    /// data.
    pub fn sight(&self) -> Sight {
        self.viewer.sight(&self.state)
    }

    /// `snap` as this viewer may see it, when that differs from the shared one: when a policy
    /// hides some queues from them, without those queues, the workers that serve only those (and
    /// those queues' names in the others' lists), and the jobs of those queues that workers are
    /// running (totals are summed from what is left); when their roles grant `unredacted`, the
    /// current jobs they may see unredacted.
    pub fn visible(&self, snap: &Snapshot) -> Option<Snapshot> {
        let unredacted = snap.current_jobs_for(&self.sight());
        if !self.viewer.limited_view() && unredacted.is_none() {
            return None;
        }
        let v = &self.viewer;
        let mut s = snap.clone();
        if let Some(jobs) = unredacted {
            s.current_jobs = jobs;
        }
        if !v.limited_view() {
            return Some(s);
        }
        s.overview.queues.retain(|q| v.sees(&q.name));
        s.overview.workers.retain_mut(|w| {
            w.queues.retain(|q| v.sees(q));
            !w.queues.is_empty()
        });
        s.current_jobs
            .retain(|_, j| j.origin.as_deref().is_some_and(|q| v.sees(q)));
        Some(s)
    }

    /// Serves a view rendered from this instance's shared snapshot, rendering it only once per
    /// snapshot and viewer kind (see [`crate::render_cache`]); `kind` says how an error looks.
    pub async fn cached(
        &self,
        kind: Kind,
        view: &'static str,
        variant: String,
        content_type: &'static str,
        render: impl FnOnce(&Snapshot) -> Result<String, AppError>,
    ) -> HttpResponse {
        let r = async {
            let snap = self.repo.snapshot().await?;
            let render = || render(self.visible(&snap).as_ref().unwrap_or(&snap));
            let key = (
                self.n,
                view,
                variant,
                self.viewer.base.clone(),
                self.viewer.perms,
                crate::i18n::current(),
                self.viewer.user.clone(),
                self.sight().key(),
            );
            self.state
                .renders
                .get_or_render(key, &snap, content_type, render)
        }
        .await;
        match r {
            Ok(rendered) => render_cache::respond(&self.req, &rendered),
            Err(e) => self.answer(kind, Err(e)),
        }
    }

    /// Answers a ready response, or the error in the given kind of answer.
    pub fn answer(&self, kind: Kind, r: Result<HttpResponse, AppError>) -> HttpResponse {
        r.unwrap_or_else(|e| respond::error(&self.req, &self.state, &self.viewer, self.n, kind, e))
    }
}

impl FromRequest for Instance {
    type Error = actix_web::Error;
    type Future = Ready<Result<Instance, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Instance::resolve(req))
    }
}
