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
//!   middleware (basic auth, security headers, request log).
//! - [`state`] — [`state::AppState`], the settings and one repository per Redis instance.
//! - [`routes`] — the route table and thin handlers: [`routes::pages`] (HTML and polled
//!   fragments), [`routes::api`] (JSON), [`routes::health`], [`routes::assets`].
//! - [`views`] — one askama struct per page or fragment, and display-ready view models.
//! - [`rq`] — everything about RQ's data: [`rq::keys`] (the only place that knows key names),
//!   [`rq::model`] (pure data), [`rq::decode`] and [`rq::pickle`] (safe decoders that never execute
//!   job data), [`rq::repository`] (the only place that sends Redis commands; reads only).
//! - [`error`] — [`error::AppError`] and the status code of each failure.
//! - [`telemetry`] — logging.
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
