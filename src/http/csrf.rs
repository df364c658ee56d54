//! Where an action may come from: the checks against cross-site requests that every action
//! passes before it runs ([`check`]). Browsers say where a request comes from
//! (`Sec-Fetch-Site`, `Origin`, `Referer`); scripts carry the viewer's form token instead, except
//! on rq-dashboard's `GET /requeue/<queue>`.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::error::AppError;

/// Refuses cross-site requests, for the action guard ([`super::action`]). Browsers send `Sec-Fetch-Site` (or at least `Origin`) on every
/// POST; it must say same-origin. A request with neither must carry the viewer's form token
/// (`csrf_token` field or `X-CSRF-Token` header: the pages' forms and htmx requests always do;
/// scripts read theirs from `/<n>/data/token.json`). A token, when sent, must be the viewer's own.
///
/// A GET reaches an action only as `GET /requeue/<queue>`, rq-dashboard's URL, kept for the
/// scripts written for it (`check_get`).
pub fn check(req: &HttpRequest, token: &str, form: &[(String, String)]) -> Result<(), AppError> {
    if req.method() == actix_web::http::Method::GET {
        return check_get(req);
    }
    let h = req.headers();
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    check_site(req, site, origin)?;
    let sent = h
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            form.iter()
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v.clone())
        });
    let same = |t: &str| crate::config::access::constant_time_eq(t.as_bytes(), token.as_bytes());
    match sent {
        Some(t) if !same(&t) => Err(AppError::Forbidden(
            "the form's security token is stale or wrong (or another user's): reload the page and try again".into(),
        )),
        None if site.is_none() && origin.is_none() => Err(AppError::Forbidden(
            "this request carries no security token and no Origin or Sec-Fetch-Site header: a script must send the X-CSRF-Token header with the token from /<n>/data/token.json".into(),
        )),
        _ => Ok(()),
    }
}

/// The GET of an action: from a script (no browser headers, no token needed, as with
/// rq-dashboard) or from this dashboard's own origin. A browser always says where a GET comes
/// from with `Sec-Fetch-Site`; an older one at least with `Referer` when a page on another site
/// links to or embeds the URL, so a link or an image elsewhere cannot trigger it. A prefetch
/// (`Sec-Purpose`/`Purpose`) is never an action.
fn check_get(req: &HttpRequest) -> Result<(), AppError> {
    let h = req.headers();
    if h.contains_key("sec-purpose") || h.contains_key("purpose") {
        return Err(AppError::Forbidden(
            "a prefetch is never an action: open the URL itself".into(),
        ));
    }
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    check_site(req, site, origin)?;
    if site.is_none() && origin.is_none() {
        if let Some(referer) = h.get(header::REFERER).and_then(|v| v.to_str().ok()) {
            let from = referer.split("://").nth(1).unwrap_or(referer);
            let from = from.split('/').next().unwrap_or(from);
            if from != host_of(req) {
                return Err(AppError::Forbidden(format!(
                    "cross-site request refused (Referer: {referer}): actions must come from this dashboard's own pages or from a script"
                )));
            }
        }
    }
    Ok(())
}

/// The `Host` header, as the browser addressed this dashboard.
fn host_of(req: &HttpRequest) -> &str {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Refuses a request a browser says comes from another site (`Sec-Fetch-Site`, else `Origin`).
fn check_site(req: &HttpRequest, site: Option<&str>, origin: Option<&str>) -> Result<(), AppError> {
    if let Some(site) = site {
        if site != "same-origin" && site != "none" {
            return Err(AppError::Forbidden(format!(
                "cross-site request refused (Sec-Fetch-Site: {site}): actions must come from this dashboard's own pages"
            )));
        }
    } else if let Some(origin) = origin {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin_host != host_of(req) {
            return Err(AppError::Forbidden(format!(
                "cross-site request refused (Origin: {origin}): actions must come from this dashboard's own pages"
            )));
        }
    }
    Ok(())
}
