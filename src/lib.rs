//! # rqdash
//!
//! A web dashboard for [RQ](https://python-rq.org) (Python's Redis Queue), written in Rust. It
//! reads RQ's own keys straight from Redis and serves server-rendered pages (askama + htmx) and
//! rq-dashboard-compatible JSON on port 9181.
//!
//! # Layout
//!
//! - [`config`] — flags and `RQ_DASHBOARD_*` variables, validated once into [`config::Settings`].
//! - [`startup`] — [`startup::Application`] binds the listener, builds the state, mounts routes and
//!   middleware (authentication, security headers, request log), starts the history samplers.
//! - [`request_ctx`] — what the middleware learned about a request (user, role, proxy prefix).
//! - [`state`] — [`state::AppState`], the settings, one repository per Redis instance, bulk tasks,
//!   rendered answers and history.
//! - [`routes`] — the route table and thin handlers: [`routes::pages`] (HTML and polled
//!   fragments), [`routes::api`] (JSON), [`routes::actions`] (POST actions and task pages),
//!   [`routes::metrics`] (Prometheus), [`routes::health`], [`routes::assets`].
//! - [`views`] — one askama struct per page or fragment, and display-ready view models.
//! - [`render_cache`] — answers rendered once per shared snapshot, with a gzip copy.
//! - [`tasks`] — bulk actions as chunked, cancellable background tasks with progress.
//! - [`history`] — the 24-hour count history and its SVG charts.
//! - [`rq`] — everything about RQ's data: [`rq::keys`] (the only place that knows key names),
//!   [`rq::model`] (pure data), [`rq::decode`] and [`rq::pickle`] (safe decoders that never execute
//!   job data), [`rq::repository`] (reads, pipelined, and the shared snapshot), [`rq::actions`]
//!   (writes that match RQ, in Lua), [`rq::groups`] (failure fingerprints), [`rq::sentinel`]
//!   (Sentinel URLs). Only `rq::repository` and `rq::actions` send Redis commands.
//! - [`error`] — [`error::AppError`] and the status code of each failure.
//! - [`telemetry`] — logging, text or JSON.
//!
//! Templates live in `templates/` (compiled in) and assets in `static/` (embedded), so the binary
//! needs no files beside it.

pub mod config;
pub mod error;
pub mod history;
pub mod render_cache;
pub mod request_ctx;
pub mod routes;
pub mod rq;
pub mod startup;
pub mod state;
pub mod tasks;
pub mod telemetry;
pub mod views;
