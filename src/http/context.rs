//! What the middleware learned about the current request, available to the handlers and views
//! that run inside it: who the user is, whether they may act, and the path prefix a trusted
//! reverse proxy says it serves the dashboard under (`X-Forwarded-Prefix`).
//!
//! Kept in a task-local set around each request by [`crate::http::middleware`], and read once per
//! request by [`crate::http::extract`].

use std::future::Future;

/// Facts about the request being served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCtx {
    /// The prefix a trusted proxy serves us under (`X-Forwarded-Prefix`), or empty.
    pub forwarded_prefix: String,
    /// The user authenticated by basic auth or the trusted auth header.
    pub user: Option<String>,
    /// The user's groups, from the trusted proxy's `--groups-header`.
    pub groups: Vec<String>,
    /// What the policy grants the user (`--policy`), when there is one.
    pub grants: Option<std::sync::Arc<crate::config::policy::Grants>>,
    /// The user signed in with single sign-on (`--oidc-issuer`): the header offers sign-out.
    pub sso: bool,
    /// The user holds the read-only credential: pages, no actions.
    pub read_only: bool,
    /// The path and query the browser asked for, with the proxy's prefix: where the language
    /// switcher sends the viewer back to.
    pub here: String,
}

tokio::task_local! {
    static CTX: RequestCtx;
}

/// The current request's context (the default outside a request).
pub fn current() -> RequestCtx {
    CTX.try_with(Clone::clone).unwrap_or_default()
}

/// Runs `f` with `ctx` as the current request's context.
pub async fn scope<F: Future>(ctx: RequestCtx, f: F) -> F::Output {
    CTX.scope(ctx, f).await
}
