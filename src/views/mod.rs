//! What the pages show: one askama struct per page or polled fragment, the display-ready view
//! models they hold, and the shared pieces every page uses.
//!
//! - [`urls`]: the only place that writes a URL;
//! - [`format`](mod@format): numbers and times for people;
//! - [`layout`]: the page layout, permissions, links, error and banner templates;
//! - [`buttons`]: the catalogue of action buttons and their confirmations;
//! - [`charts`]: the history charts; [`functions`]: the functions table (timing statistics);
//! - [`lists`]: filter, sort and page of long lists, from the URL;
//! - one file per page: [`overview`], [`jobs`], [`job`], [`workers`], [`failures`], [`tasks`],
//!   [`cron`], [`groups`], [`rate_limits`], [`search`], [`health`], [`audit`].
//!
//! View models hold display-ready strings (formatted times, URLs with encoded path segments) so
//! templates stay free of logic. Askama escapes every `{{ }}` output for HTML, which is what makes
//! hostile job data (descriptions, tracebacks, arguments) inert on the page. Templates mirror the
//! page files: `templates/<page>/…`.

pub mod audit;
pub mod buttons;
pub mod charts;
pub mod cron;
pub mod failures;
pub mod format;
pub mod functions;
pub mod groups;
pub mod health;
pub mod job;
pub mod jobs;
pub mod layout;
pub mod lists;
pub mod overview;
pub mod rate_limits;
pub mod search;
pub mod tasks;
pub mod urls;
pub mod workers;

pub use layout::{Layout, Perms};
pub use urls::{seg, Urls};
