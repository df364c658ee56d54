//! # rqdash
//!
//! A web dashboard for [RQ](https://python-rq.org) (Python's Redis Queue), written in Rust. It
//! reads RQ's own keys straight from Redis and serves server-rendered pages (askama + htmx) and
//! rq-dashboard-compatible JSON on port 9181.
//!
//! # Layout
//!
//! Start-up and infrastructure:
//! - [`config`]: flags and `RQ_DASHBOARD_*` variables, validated once into [`config::Settings`];
//!   [`config::access`] (proxies, host names, masking, comparing secrets) and [`config::users`]
//!   (`--users-file`).
//! - [`startup`]: [`startup::Application`] binds the listener, builds the state, mounts the route
//!   table under the URL prefix inside the middleware, starts each instance's background loop
//!   (history samples, health rules, alerts).
//! - [`oidc`]: single sign-on with OpenID Connect (`--oidc-issuer`): the code flow with PKCE,
//!   ID tokens checked against the issuer's keys, the session in a cookie sealed with
//!   `--secret-key`.
//! - [`healthcheck`]: `rqdash --healthcheck`, the container probe.
//! - [`telemetry`]: logging, text or JSON.
//! - [`state`]: [`state::AppState`], built once: settings, one repository per Redis instance, bulk
//!   tasks, rendered answers, history. Holds data; builds no views.
//! - [`error`]: [`error::AppError`], the one error type, and the status and title of each failure.
//!
//! The web side:
//! - [`http`]: what every handler shares: authentication, security headers and request log
//!   ([`http::middleware`]), the per-request [`http::extract::Instance`] (instance, repository,
//!   URLs, viewer), the one responder ([`http::respond`]) and the one action guard and reply
//!   ([`http::action`]).
//! - [`routes`]: the one route table ([`routes::configure`]) and one handler file per area:
//!   overview, jobs (lists), job, queues (queue actions), failures, workers, tasks, search, cron,
//!   groups, rate limits, api (rq-dashboard's JSON), metrics, health, history (charts, functions
//!   table, `history.json`, `stats.json`), assets, auth (single sign-on's sign-in and
//!   sign-out pages).
//! - [`views`]: one askama struct per page or fragment, one file per page, plus [`views::urls`]
//!   (the only place that writes a URL), [`views::format`], [`views::layout`],
//!   [`views::buttons`] (the button catalogue, and a search in words), [`views::charts`] and
//!   [`views::lists`] (filter, sort and page of long lists). Templates in `templates/` mirror them.
//! - [`i18n`]: the interface's languages: the message catalogues in `locales/` (English and
//!   Simplified Chinese), the choice of each request's language (cookie, then
//!   `Accept-Language`), and the lookups templates and views make.
//! - [`render_cache`]: answers rendered once per shared snapshot and language, with a gzip
//!   copy.
//! - [`assets`]: the embedded static files and their content hash.
//!
//! RQ's data:
//! - [`rq`]: [`rq::keys`] (the only place that spells key names), [`rq::model`] (pure data:
//!   jobs, workers, queues, cron, RQ's job groups), [`rq::decode`] (safe decoders),
//!   [`rq::failure_groups`] (failures grouped by exception fingerprint), [`rq::actions`] (what each
//!   action is, and the one table of which job status allows which action), and
//!   [`rq::repository`], the only code that sends Redis commands: connection, RESP helpers, the
//!   shared snapshot, reads of queues and of jobs, writes (with their Lua script), RQ version
//!   detection, one file per newer RQ feature (cron, groups, rate limits), search chunks, and the
//!   dashboard's own state ([`rq::repository::dash`]: bulk task records, leases and open alerts
//!   under `rqdash:` keys; [`rq::repository::history`]: the history's and statistics' keys).
//! - [`pickle`]: the inert pickle decoder (builds plain data, never executes anything).
//! - [`redact`]: redaction (`--redact-key`, `--redact-pattern`): [`redact::Redactor`], the
//!   rules, applied to decoded values, texts and jobs, and [`redact::Sight`], what one viewer may
//!   see (the policy's `unredacted`). Every read of job data for display in [`rq::repository`]
//!   takes a sight; the shared snapshot keeps its current jobs redacted for everyone; searches
//!   match each candidate as the sight sees it; rendered answers and searches are kept apart per
//!   sight; records (audit trail, tasks, health problems, statistics) are redacted for everyone.
//! - [`tasks`]: bulk actions as chunked, cancellable background tasks with progress, their
//!   records shared by every replica through Redis.
//! - [`search`]: searches as shared, chunked, cancellable background scans, kept briefly
//!   (the query and matcher are pure, in [`rq::search`]; the reads in
//!   [`rq::repository::search`]).
//! - [`history`]: the count history (exact, from the workers' counters; per minute for 48 hours,
//!   per hour for 90 days) and the job timing statistics, counted by one replica at a time and
//!   kept in Redis under `rqdash:` keys ([`rq::repository::history`]) or in memory.
//! - [`health`]: the health rules ("what's wrong now"), their thresholds, silences and the
//!   `--alert-rules` file; [`failure_watch`]: the failure-rate and failure-burst rules;
//!   [`stall_watch`]: workers not taking jobs, RQ's maintenance behind, stuck intermediate jobs;
//!   [`alerts`]: problems sent to webhooks when they start and end, one replica at a time;
//!   [`webhooks`]: the delivery threads both the alerts and the audit trail use.
//! - [`audit`]: the audit trail: every action, refused ones too, in the stream
//!   `rqdash:<prefix>:audit`, capped; its filters, pages and CSV.
//!
//! Dependencies point one way: `routes` → `http` → `views` → `rq`; `state` sits below `http`
//! and knows nothing of views; [`redact`] sits between RQ's decoded data ([`rq::model`],
//! [`rq::decode`], [`pickle`]) and its readers ([`rq::repository`] and everything above). No two
//! files reach each other, directly or round a circle: where a lower file needs one name from a
//! higher one, the name moves down (`tests/api/source_layout.rs` checks).
//!
//! # How a request flows
//!
//! A page, say `GET /0/view/jobs/default/failed/8/asc/1`: [`http::middleware`] authenticates
//! ([`http::auth`]), sets the request's context ([`http::context`]) and its language
//! ([`i18n::negotiate`]: the `lang` cookie, then `Accept-Language`); the route table in
//! [`routes`] sends it to [`routes::jobs::page`], whose [`http::extract::Instance`] resolves
//! instance 0, its repository and the viewer ([`http::viewer`]). The handler validates the path
//! ([`views::jobs::ListParams`]), reads one page through [`rq::repository::reads`] (two pipelined
//! round trips via [`rq::repository::conn`]), builds [`views::jobs::JobsView`] with its buttons
//! ([`views::buttons`]) and URLs ([`views::urls`]), renders `templates/jobs/list.html`, and
//! answers through [`http::respond`] (which renders any [`error::AppError`] on the way the same
//! way). The middleware adds the security headers and logs it.
//!
//! A bulk action, say `POST /0/requeue/default`: the middleware as above; the route table sends
//! it to [`routes::queues::requeue`], whose [`http::action::Action`] reads the form, checks
//! CSRF and permissions and resolves the instance. The handler checks the queue exists
//! ([`rq::repository::reads`]) and calls [`routes::tasks::start`], which reads the registry
//! bounds once ([`tasks::plan`]), registers a task in [`state::AppState`]'s [`tasks::Tasks`], and
//! runs [`tasks::run`]: chunk after chunk through [`rq::repository::writes`] and its Lua script,
//! in the background for big ones (202 and a progress page, [`routes::tasks`]). The answer goes
//! out through [`http::action::Action::reply`]: a banner for htmx, a redirect for a form, JSON
//! for scripts; the audit log records it and the shared snapshot is dropped.
//!
//! Templates live in `templates/` (compiled in) and assets in `static/` (embedded), so the binary
//! needs no files beside it.

pub mod alerts;
pub mod assets;
pub mod audit;
pub mod config;
pub mod error;
pub mod failure_watch;
pub mod health;
pub mod healthcheck;
pub mod history;
pub mod http;
pub mod i18n;
pub mod oidc;
pub mod pickle;
pub mod redact;
pub mod render_cache;
pub mod routes;
pub mod rq;
pub mod search;
pub mod stall_watch;
pub mod startup;
pub mod state;
pub mod tasks;
pub mod telemetry;
pub mod views;
pub mod webhooks;
