//! The middleware every request passes: authentication (refusals answered here), the request's
//! context for the handlers, security headers on every answer, and the request log.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use std::time::Instant;

use crate::http::{auth, context};
use crate::i18n;
use crate::state::AppState;

/// The Content-Security-Policy of every answer: no inline scripts, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Authenticates, runs the handler inside the request context, adds the security headers.
///
/// # Errors
/// What the handler fails with.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let ctx = match &state {
        Some(s) => match auth::authenticate(&req, &s.settings).await {
            Err(resp) => {
                if req.method() == actix_web::http::Method::POST {
                    crate::http::action::record_unauthenticated(&req, s, &resp, None);
                }
                return Ok(req.into_response(*resp));
            }
            Ok(ctx) => ctx,
        },
        None => context::RequestCtx::default(),
    };
    let mut ctx = ctx;
    if let Some(s) = &state {
        if let Err(resp) = auth::apply_policy(&req, &s.settings, &mut ctx) {
            if req.method() == actix_web::http::Method::POST {
                let user = ctx.user.as_deref().unwrap_or("anonymous");
                crate::http::action::record_unauthenticated(&req, s, &resp, Some(user));
            }
            return Ok(req.into_response(*resp));
        }
    }
    ctx.here = format!(
        "{}{}",
        ctx.forwarded_prefix,
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let lang = language(&req);
    let verbose = state.as_ref().is_some_and(|s| s.settings.verbose);
    let method = req.method().clone();
    // Decoded, a path may hold line breaks: escaped, it cannot forge a log line.
    let path = crate::config::access::log_safe(req.path());
    let mut res = i18n::scope(lang, context::scope(ctx, next.call(req)))
        .await?
        .map_into_boxed_body();
    let h = res.headers_mut();
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        // Pages and fragments are in the viewer's language: a cache must key them by it.
        // One Vary header (some clients keep only one), extending what the answer said.
        let vary = match h.get(header::VARY).and_then(|v| v.to_str().ok()) {
            Some(v) if !v.is_empty() => format!("{v}, Accept-Language, Cookie"),
            _ => "Accept-Language, Cookie".to_string(),
        };
        if let Ok(v) = HeaderValue::from_str(&vary) {
            h.insert(header::VARY, v);
        }
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if verbose {
        tracing::info!(
            %method,
            path,
            status = res.status().as_u16(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
    }
    Ok(res)
}

/// The language of a request ([`i18n::negotiate`]); English for machine answers (JSON, metrics,
/// the health probe), whatever the browser prefers, so they never change with the viewer.
fn language(req: &ServiceRequest) -> i18n::Lang {
    let path = req.path();
    if path.contains("/data/")
        || path.ends_with(".json")
        || path.ends_with("/metrics")
        || path.ends_with("/healthz")
    {
        return i18n::Lang::EN;
    }
    let cookie = req
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (name, value) = c.split_once('=')?;
            (name.trim() == i18n::COOKIE).then(|| value.trim().trim_matches('"'))
        });
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    i18n::negotiate(cookie, accept)
}
