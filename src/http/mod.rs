//! The HTTP layer every handler shares and no handler lives in:
//!
//! - [`middleware`]: authentication ([`auth`]), the request's context ([`context`]), security
//!   headers and the request log, around every request;
//! - [`viewer`]: who is looking (link prefix, permissions) and the layout of their pages;
//! - [`extract`]: [`extract::Instance`] resolves the instance of a request, its repository, its
//!   URLs and the viewer, once per request;
//! - [`respond`]: the one responder: a page, a fragment or JSON, and every error rendered the
//!   same way whatever answers it;
//! - [`action`]: the one action guard (form, CSRF, permissions) and the one action reply (htmx,
//!   browser form, JSON), with the audit log;
//! - [`csrf`]: where an action may come from (same origin, a script with its token, or
//!   rq-dashboard's `GET /requeue/<queue>` from a script).

pub mod action;
pub mod auth;
pub mod context;
pub mod csrf;
pub mod extract;
pub mod middleware;
pub mod respond;
pub mod viewer;
