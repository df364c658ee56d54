//! Who is looking, as far as links and buttons care, and the layout of the pages they see.

use std::sync::Arc;

use crate::config::policy::Grants;
use crate::error::AppError;
use crate::http::context;
use crate::i18n::{self, Lang};
use crate::redact::Sight;
use crate::state::AppState;
use crate::views::layout::{InstanceLink, Layout, Link, Perms};
use crate::views::urls::Urls;

/// Who is looking, as far as links and buttons care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The path prefix of every link: a trusted proxy's `X-Forwarded-Prefix`, then
    /// `--url-prefix`.
    pub base: String,
    /// What they may do on every queue (the overview's, the workers', searches over every queue).
    pub perms: Perms,
    /// The authenticated user, if any.
    pub user: Option<String>,
    /// What the policy grants them (`--policy`), when there is one.
    pub grants: Option<Arc<Grants>>,
    /// No action at all: `--read-only` or the read-only credential.
    locked: bool,
    /// `--disable-delete`.
    no_delete: bool,
    /// The read-only credential.
    read_only_login: bool,
}

impl Viewer {
    /// The viewer of the current request (from the middleware's context) under `state`'s settings.
    pub fn current(state: &AppState) -> Viewer {
        let ctx = context::current();
        let s = &state.settings;
        let mut v = Viewer {
            base: format!("{}{}", ctx.forwarded_prefix, s.url_prefix),
            perms: Perms::default(),
            user: ctx.user,
            grants: ctx.grants,
            locked: s.read_only || ctx.read_only,
            no_delete: s.disable_delete,
            read_only_login: ctx.read_only,
        };
        v.perms = v.perms_for(None);
        v
    }

    /// Whether the policy lets them do `action` on `queue` (`None`: on every queue). Without a
    /// policy, yes (what `--read-only`, the read-only login and `--disable-delete` forbid is
    /// checked apart, as before).
    pub fn may(&self, action: &str, queue: Option<&str>) -> bool {
        self.grants.as_ref().is_none_or(|g| g.may(action, queue))
    }

    /// Whether they may see `queue` (the policy's `view` there).
    pub fn sees(&self, queue: &str) -> bool {
        self.may("view", Some(queue))
    }

    /// Whether some queues are hidden from them (a policy grants `view` on some queues only).
    pub fn limited_view(&self) -> bool {
        self.grants.as_ref().is_some_and(|g| !g.may("view", None))
    }

    /// `Ok` when they may see `queue`; else the same 404 as a queue that does not exist, so its
    /// existence is not given away.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn require_view(&self, queue: &str) -> Result<(), AppError> {
        if self.sees(queue) {
            Ok(())
        } else {
            Err(AppError::queue_not_found(queue))
        }
    }

    /// `Ok` unless some queues are hidden from them: a page that mixes every queue's data
    /// (groups, cron, rate limits, tasks, the instances' totals) is then refused.
    ///
    /// # Errors
    /// `Forbidden`, with the sentence.
    pub fn require_view_everywhere(&self) -> Result<(), AppError> {
        if self.limited_view() {
            Err(AppError::Forbidden(
                "this page shows every queue's data, and your roles let you view some queues only"
                    .into(),
            ))
        } else {
            Ok(())
        }
    }

    /// Whether the policy lets them do `action` on at least one queue.
    pub fn may_somewhere(&self, action: &str) -> bool {
        self.grants.as_ref().is_none_or(|g| g.may_somewhere(action))
    }

    /// What they may do on `queue` (`None`: on every queue).
    pub fn perms_for(&self, queue: Option<&str>) -> Perms {
        let on = |a: &str| !self.locked && self.may(a, queue);
        let destructive = |a: &str| on(a) && !self.no_delete;
        let acts = [
            "requeue", "cancel", "stop", "delete", "empty", "suspend", "bulk", "admin",
        ];
        Perms {
            act: !self.locked && acts.iter().any(|a| self.may_somewhere(a)),
            requeue: on("requeue"),
            cancel: on("cancel"),
            stop: on("stop"),
            delete: destructive("delete"),
            empty: destructive("empty"),
            clean: destructive("admin"),
            suspend: !self.locked && self.may("suspend", None),
            bulk: on("bulk"),
            audit: match &self.grants {
                Some(g) => g.may("audit", None) && g.may("view", None),
                None => !self.read_only_login,
            },
        }
    }

    /// The refusal of `action` on `queue` when the policy does not grant it, naming what is
    /// missing.
    ///
    /// # Errors
    /// `Forbidden`, with the sentence.
    pub fn require(&self, action: &str, queue: Option<&str>) -> Result<(), AppError> {
        if self.may(action, queue) {
            return Ok(());
        }
        let who = self.user.as_deref().unwrap_or("anonymous");
        let roles = self
            .grants
            .as_ref()
            .map(|g| g.roles.join(", "))
            .unwrap_or_default();
        Err(AppError::Forbidden(match queue {
            Some(q) => format!(
                "{who} (roles: {roles}) may not {action} on queue “{q}”: none of these roles grants the “{action}” permission there"
            ),
            None => format!(
                "{who} (roles: {roles}) may not {action} here: that needs a role granting the “{action}” permission on every queue (queues = [\"*\"])"
            ),
        }))
    }

    /// What redaction hides from them ([`crate::redact`]): pass it to every read of job data.
    pub fn sight(&self, state: &AppState) -> Sight {
        Sight::of(state.settings.redactor.clone(), self.grants.clone())
    }

    /// The URLs of instance `n` for this viewer.
    pub fn urls(&self, n: usize) -> Urls {
        Urls {
            base: self.base.clone(),
            n,
        }
    }
}

/// The path and query the browser asked for, under the proxy's prefix, for a link back to it
/// (the language switcher, an error page's "Try again"): a search's text in it is shown back,
/// masked as every other echo of what redaction hides from them.
pub fn here(state: &AppState, viewer: &Viewer) -> String {
    let here = context::current().here;
    match viewer.sight(state).hides(None) {
        Some(r) => r.text(&here).into_owned(),
        None => here,
    }
}

/// Builds the layout of a page of instance `n` (instance 0's when `n` does not exist, so error
/// pages still render).
pub fn layout(
    state: &AppState,
    viewer: &Viewer,
    n: usize,
    nav: &'static str,
    title: impl Into<String>,
) -> Layout {
    let shown = if n < state.instances.len() { n } else { 0 };
    let here = here(state, viewer);
    let (redis_version, rq_versions) = state.instances[shown].versions();
    Layout {
        urls: viewer.urls(shown),
        label: state.instances[shown].label().to_string(),
        instances: state
            .instances
            .iter()
            .enumerate()
            .map(|(i, r)| InstanceLink {
                index: i,
                label: r.label().to_string(),
                url: viewer.urls(i).overview(),
                current: i == shown,
            })
            .collect(),
        poll_ms: state.poll_ms(),
        version: env!("CARGO_PKG_VERSION"),
        asset_version: format!("{:016x}", crate::assets::ASSET_VERSION),
        redis_version,
        rq_versions,
        nav,
        title: title.into(),
        csrf_token: state.csrf_token(viewer.user.as_deref()),
        perms: viewer.perms,
        user: viewer.user.clone(),
        sign_out: context::current().sso.then(|| {
            let ctx = context::current();
            format!(
                "{}{}/auth/logout",
                ctx.forwarded_prefix, state.settings.url_prefix
            )
        }),
        lang: i18n::code(),
        languages: Lang::all()
            .map(|l| {
                let link = Link {
                    label: l.get("lang.name").to_string(),
                    url: viewer.urls(shown).language(l.code(), &here),
                    current: l == i18n::current(),
                };
                (l.code(), link)
            })
            .collect(),
    }
}
