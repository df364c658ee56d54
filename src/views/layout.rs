//! What every page shares: the layout (navigation, instance switcher, footer, security token),
//! the viewer's permissions, links, and the error and action-result templates.

use crate::i18n;
use askama::Template;

use super::urls::Urls;

/// What the configuration and the signed-in user allow where a page acts: on one queue (a
/// queue's lists, a job of it) or on every queue (the overview, searches over every queue).
/// Destructive permissions already say no under `--disable-delete`, every action under
/// `--read-only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Perms {
    /// Any action at all (not `--read-only`, not the read-only credential, some role grants one).
    pub act: bool,
    /// Requeue failed jobs (and enqueue scheduled ones now).
    pub requeue: bool,
    /// Cancel waiting jobs.
    pub cancel: bool,
    /// Stop started jobs.
    pub stop: bool,
    /// Delete jobs.
    pub delete: bool,
    /// Empty a queue or a registry, remove a queue.
    pub empty: bool,
    /// Compact a queue, clean registries of ghosts.
    pub clean: bool,
    /// Suspend and resume workers, send them commands.
    pub suspend: bool,
    /// Act on many jobs at once (whole registries, selections, searches, groups).
    pub bulk: bool,
    /// The audit trail.
    pub audit: bool,
}

impl Perms {
    /// Whether `action` on a job is allowed.
    pub fn job(&self, action: crate::rq::actions::JobAction) -> bool {
        use crate::rq::actions::JobAction;
        match action {
            JobAction::Requeue | JobAction::EnqueueNow => self.requeue,
            JobAction::Cancel => self.cancel,
            JobAction::Delete => self.delete,
            JobAction::Stop => self.stop,
        }
    }
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
    /// Where to sign out, for a user signed in with single sign-on.
    pub sign_out: Option<String>,
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

/// A page of the single sign-on: why a sign-in failed, or that the user signed out.
#[derive(Template)]
#[template(path = "auth/message.html")]
pub struct AuthPage {
    /// Layout.
    pub layout: Layout,
    /// Title.
    pub heading: String,
    /// What happened, for a person.
    pub message: String,
    /// HTTP status code.
    pub code: u16,
    /// Where to sign in again.
    pub link: Option<String>,
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
    /// The page asked for, offered as "Try again" when the problem may pass (Redis down) and
    /// the request can simply be made again (a GET); otherwise the page links to the queues.
    pub again: Option<String>,
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
