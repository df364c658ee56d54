//! Who is looking, as far as links and buttons care, and the layout of the pages they see.

use crate::http::context;
use crate::i18n::{self, Lang};
use crate::state::AppState;
use crate::views::layout::{InstanceLink, Layout, Link, Perms};
use crate::views::urls::Urls;

/// Who is looking, as far as links and buttons care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The path prefix of every link: a trusted proxy's `X-Forwarded-Prefix`, then
    /// `--url-prefix`.
    pub base: String,
    /// What they may do.
    pub perms: Perms,
    /// The authenticated user, if any.
    pub user: Option<String>,
}

impl Viewer {
    /// The viewer of the current request (from the middleware's context) under `state`'s settings.
    pub fn current(state: &AppState) -> Viewer {
        let ctx = context::current();
        let s = &state.settings;
        let act = !s.read_only && !ctx.read_only;
        Viewer {
            base: format!("{}{}", ctx.forwarded_prefix, s.url_prefix),
            perms: Perms {
                act,
                delete: act && !s.disable_delete,
                audit: !ctx.read_only,
            },
            user: ctx.user,
        }
    }

    /// The URLs of instance `n` for this viewer.
    pub fn urls(&self, n: usize) -> Urls {
        Urls {
            base: self.base.clone(),
            n,
        }
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
    let here = context::current().here;
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
