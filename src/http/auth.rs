//! Who a request is from: basic auth (the full and the read-only credential), a trusted proxy's
//! user header (and its groups header), the local users of `--users-file`, the single sign-on
//! session cookie ([`crate::oidc`]), and the path prefix a trusted proxy serves the dashboard
//! under. Public probes
//! (`<prefix>/healthz`, `<prefix>/metrics`, exactly) pass when `--public-probes` says so.
//!
//! A forwarded header is believed only with `--trust-proxy` and only from a peer among
//! `--trusted-proxies`; basic credentials, when sent, decide alone (a header never lifts a
//! read-only or wrong login); and a request for a host name the dashboard does not answer to is
//! refused before anything else (DNS rebinding).

use actix_web::dev::ServiceRequest;
use actix_web::http::header;
use actix_web::HttpResponse;
use base64::Engine;

use crate::config::{access, Credentials, Settings};
use crate::http::context::RequestCtx;

/// The comparison of secrets, also used by the CSRF check ([`crate::http::action`]).
pub use crate::config::access::constant_time_eq;

/// The user name and password of a basic-auth header.
fn basic_credentials(req: &ServiceRequest) -> Option<(String, String)> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn matches(given: &(String, String), c: &Credentials) -> bool {
    // Both compared in full, in constant time, so timing says nothing about either.
    let user_ok = constant_time_eq(given.0.as_bytes(), c.username.as_bytes());
    let pass_ok = constant_time_eq(given.1.as_bytes(), c.password.as_bytes());
    user_ok & pass_ok
}

/// A path prefix from `X-Forwarded-Prefix`, if it is a plain path that stays on this site (no
/// `//` host, no `.` or `..` segment, encoded or not).
fn forwarded_prefix(req: &ServiceRequest) -> String {
    let p = req
        .headers()
        .get("x-forwarded-prefix")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .trim_end_matches('/');
    let lower = p.to_ascii_lowercase();
    let plain = p.starts_with('/')
        && !p.starts_with("//")
        && !lower.contains("%2e")
        && !lower.contains("%2f")
        && !p.split('/').any(|seg| seg == "." || seg == "..")
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~%".contains(c));
    if plain {
        p.to_string()
    } else {
        String::new()
    }
}

/// Whether the request comes straight from a trusted proxy: `--trust-proxy`, and the peer is
/// among `--trusted-proxies`.
pub fn from_trusted_proxy(peer: Option<std::net::SocketAddr>, s: &Settings) -> bool {
    s.trust_proxy && access::trusted(peer.map(|a| a.ip()), &s.trusted_proxies)
}

/// The refusal of a request for a host name the dashboard does not answer to.
fn wrong_host(host: &str) -> Box<HttpResponse> {
    let host = access::log_safe(&crate::rq::decode::truncate(host, 100));
    Box::new(
        HttpResponse::BadRequest()
            .content_type("text/plain; charset=utf-8")
            .body(format!(
                "This dashboard does not answer to the host name “{host}” (a web page elsewhere may be trying to reach it through DNS rebinding). If that is its name, start it with --allowed-hosts {host} or --public-url."
            )),
    )
}

/// How many password checks against `--users-file` run at once.
static BCRYPT_AT_ONCE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The names in a trusted proxy's groups header (comma-separated, blanks dropped).
fn groups(req: &ServiceRequest, name: &str) -> Vec<String> {
    req.headers()
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `path` is one of the sign-in pages of single sign-on (`<prefix>/auth/…`), or the
/// stylesheet, scripts and icon they are drawn with (the same for everybody), which everybody
/// may open.
fn sign_in_path(path: &str, s: &Settings) -> bool {
    s.oidc.is_some()
        && path.strip_prefix(s.url_prefix.as_str()).is_some_and(|p| {
            p.starts_with("/auth/") || p.starts_with("/static/") || p == "/favicon.ico"
        })
}

/// The single sign-on session the request's cookie holds, when it opens under the secret key
/// and has not expired.
fn sso_session(req: &ServiceRequest, s: &Settings) -> Option<crate::oidc::Session> {
    let oidc = s.oidc.as_ref()?;
    let cookie = req.cookie(crate::oidc::SESSION_COOKIE)?;
    oidc.session(cookie.value())
}

/// The answer to a request without a sign-in when single sign-on is on: a page is sent to the
/// sign-in (htmx told to go there too); a script gets 401 and a sentence (and the basic-auth
/// challenge when passwords work as well).
fn sign_in_first(
    req: &ServiceRequest,
    s: &Settings,
    ctx: &RequestCtx,
    passwords: bool,
) -> HttpResponse {
    let base = format!("{}{}", ctx.forwarded_prefix, s.url_prefix);
    let here = format!(
        "{}{}",
        ctx.forwarded_prefix,
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let login = format!(
        "{base}/auth/login?next={}",
        percent_encoding::utf8_percent_encode(&here, percent_encoding::NON_ALPHANUMERIC)
    );
    let path = req.path();
    // Only a page the browser navigates to goes to the sign-in: an image, a script or a fetch
    // (`Sec-Fetch-Dest` other than `document`) must not start a sign-in of its own.
    let subresource = req
        .headers()
        .get("sec-fetch-dest")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|d| d != "document" && d != "iframe");
    let machine = subresource
        || path.contains("/data/")
        || path.ends_with(".json")
        || path.ends_with(".csv")
        || path.ends_with("/metrics")
        || req.method() != actix_web::http::Method::GET;
    if req.headers().contains_key("hx-request") {
        return HttpResponse::Unauthorized()
            .insert_header(("HX-Redirect", format!("{base}/auth/login")))
            .content_type("text/plain; charset=utf-8")
            .body("Your sign-in has ended: sign in again.");
    }
    if !machine {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, login))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish();
    }
    let mut r = HttpResponse::Unauthorized();
    if passwords {
        r.insert_header((
            header::WWW_AUTHENTICATE,
            "Basic realm=\"rqdash\", charset=\"UTF-8\"",
        ));
    }
    r.content_type("text/plain; charset=utf-8").body(format!(
        "This dashboard needs a sign-in: open {base}/auth/login in a browser{}.",
        if passwords {
            ", or send a user name and password"
        } else {
            ""
        }
    ))
}

/// Who the request is from, or the answer refusing it.
pub async fn authenticate(
    req: &ServiceRequest,
    s: &Settings,
) -> Result<RequestCtx, Box<HttpResponse>> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let public_host = s.public_url.as_deref().and_then(access::url_host);
    if !access::host_allowed(&host, &s.bind, public_host.as_deref(), &s.allowed_hosts) {
        return Err(wrong_host(&host));
    }
    let mut ctx = RequestCtx::default();
    let trusted = from_trusted_proxy(req.peer_addr(), s);
    if trusted {
        ctx.forwarded_prefix = forwarded_prefix(req);
    }
    let passwords = s.auth.is_some() || s.users.is_some();
    if !passwords && s.auth_header.is_none() && s.oidc.is_none() {
        return Ok(ctx);
    }
    let path = req.path();
    let probe =
        path == format!("{}/healthz", s.url_prefix) || path == format!("{}/metrics", s.url_prefix);
    if (s.public_probes && probe) || sign_in_path(path, s) {
        return Ok(ctx);
    }
    // Credentials, when sent, decide alone: a header never lifts a read-only or wrong login.
    if let Some(given) = basic_credentials(req) {
        if s.auth.as_ref().is_some_and(|c| matches(&given, c)) {
            ctx.user = Some(given.0);
            return Ok(ctx);
        }
        if s.readonly_auth.as_ref().is_some_and(|c| matches(&given, c)) {
            ctx.user = Some(given.0);
            ctx.read_only = true;
            return Ok(ctx);
        }
        if let Some(users) = s.users.clone() {
            let (user, password) = given;
            // bcrypt takes tens of milliseconds: not on the async threads, and at most two at a
            // time, so a flood of wrong passwords queues instead of taking every core.
            if users.remembered(&user, &password) {
                ctx.user = Some(user);
                return Ok(ctx);
            }
            let _permit = BCRYPT_AT_ONCE.acquire().await;
            let checked = actix_web::web::block(move || {
                let ok = users.verify(&user, &password);
                (user, ok)
            })
            .await;
            if let Ok((user, true)) = checked {
                ctx.user = Some(user);
                return Ok(ctx);
            }
        }
    } else if let Some(session) = sso_session(req, s) {
        ctx.user = Some(session.user);
        ctx.groups = session.groups;
        ctx.sso = true;
        return Ok(ctx);
    } else if let Some(h) = s.auth_header.as_ref().filter(|_| trusted) {
        if let Some(user) = req
            .headers()
            .get(h.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            ctx.user = Some(user.to_string());
            if let Some(g) = &s.groups_header {
                ctx.groups = groups(req, g);
            }
            return Ok(ctx);
        }
    }
    if s.oidc.is_some() {
        Err(Box::new(sign_in_first(req, s, &ctx, passwords)))
    } else if passwords {
        Err(Box::new(
            HttpResponse::Unauthorized()
                .insert_header((
                    header::WWW_AUTHENTICATE,
                    "Basic realm=\"rqdash\", charset=\"UTF-8\"",
                ))
                .content_type("text/plain; charset=utf-8")
                .body("This dashboard needs a user name and password."),
        ))
    } else {
        Err(Box::new(HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body(format!(
                "This dashboard is meant to be reached through its authenticating proxy, which sets {}.",
                s.auth_header.as_deref().unwrap_or("the user header")
            ))))
    }
}

/// Adds the policy's grants (`--policy`) to `ctx`, or refuses a user the policy gives no role
/// that may view. The read-only credential keeps only `view` of its roles. The public probes
/// need no role.
pub fn apply_policy(
    req: &ServiceRequest,
    s: &Settings,
    ctx: &mut RequestCtx,
) -> Result<(), Box<HttpResponse>> {
    let Some(policy) = &s.policy else {
        return Ok(());
    };
    let path = req.path();
    let probe =
        path == format!("{}/healthz", s.url_prefix) || path == format!("{}/metrics", s.url_prefix);
    if (s.public_probes && probe) || sign_in_path(path, s) {
        return Ok(());
    }
    let user = ctx.user.clone().unwrap_or_else(|| "anonymous".into());
    let mut grants = policy.get().grants(&user, &ctx.groups);
    if ctx.read_only {
        grants = grants.view_only();
    }
    if !grants.may_somewhere("view") {
        let user = access::log_safe(&crate::rq::decode::truncate(&user, 100));
        return Err(Box::new(
            HttpResponse::Forbidden()
                .content_type("text/plain; charset=utf-8")
                .body(format!(
                    "You are signed in as “{user}”, but the policy (--policy) gives you no role that may view this dashboard. Ask its administrator to add you to a role."
                )),
        ));
    }
    ctx.grants = Some(std::sync::Arc::new(grants));
    Ok(())
}
