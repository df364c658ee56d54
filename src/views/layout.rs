//! What every page shares: the layout (navigation, instance switcher, footer, security token),
//! the viewer's permissions, links, and the error and action-result templates.

use crate::i18n;
use askama::Template;

use super::urls::Urls;

/// What the configuration and the signed-in user allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Perms {
    /// Any action (not `--read-only`, not the read-only credential).
    pub act: bool,
    /// Destructive actions too (and not `--disable-delete`).
    pub delete: bool,
    /// The audit trail (not the read-only credential).
    pub audit: bool,
}

/// An entry of the instance switcher.
#[derive(Debug, Clone)]
pub struct InstanceLink {
    /// Its index.
    pub index: usize,
    /// The masked URL.
    pub label: String,
    /// Its overview URL.
    pub url: String,
    /// Whether it is the one shown.
    pub current: bool,
}

/// What every full page needs: instance, navigation, footer facts, the security token.
#[derive(Debug, Clone)]
pub struct Layout {
    /// URLs of the shown instance.
    pub urls: Urls,
    /// The instance shown.
    pub label: String,
    /// All instances (the switcher is shown when there are several).
    pub instances: Vec<InstanceLink>,
    /// Poll interval in ms.
    pub poll_ms: u64,
    /// rqdash's version.
    pub version: &'static str,
    /// Content hash of the CSS and JS, for their URLs.
    pub asset_version: String,
    /// Redis's version (empty until first read).
    pub redis_version: String,
    /// RQ versions the workers report.
    pub rq_versions: String,
    /// Which nav entry is active: `queues`, `workers`, `job`, `all` or `error`.
    pub nav: &'static str,
    /// The page title.
    pub title: String,
    /// The anti-CSRF token for forms and htmx requests.
    pub csrf_token: String,
    /// What the viewer may do.
    pub perms: Perms,
    /// The signed-in user's name, shown in the header.
    pub user: Option<String>,
    /// The page's language code, for `<html lang>`.
    pub lang: &'static str,
    /// The language switcher: each language by its own name, linking to the switch that comes
    /// back to this page.
    pub languages: Vec<(&'static str, Link)>,
}

/// A link in a pager or a tab strip.
#[derive(Debug, Clone)]
pub struct Link {
    /// The text.
    pub label: String,
    /// The target.
    pub url: String,
    /// Whether it is the current one.
    pub current: bool,
}

/// A full error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Layout.
    pub layout: Layout,
    /// Title.
    pub heading: String,
    /// What happened, for a person.
    pub message: String,
    /// HTTP status code.
    pub code: u16,
    /// What the reader can do about it, when there is something (Redis down: how to start one).
    pub hints: Vec<String>,
    /// Whether the page checks again by itself and reloads when the problem is gone.
    pub retries: bool,
}

/// An error inside a polled region.
#[derive(Template)]
#[template(path = "partials/error.html")]
pub struct ErrorFragment {
    /// Title.
    pub heading: String,
    /// What happened.
    pub message: String,
}

/// The short answer to an htmx action: what happened, or why not.
#[derive(Template)]
#[template(path = "partials/banner.html")]
pub struct Banner {
    /// `ok` or `error`.
    pub css: &'static str,
    /// `status` or `alert`.
    pub role: &'static str,
    /// The sentence.
    pub message: String,
}
