//! Builds the HTTP server from [`Settings`]: binds the listener (port 0 works, for tests), creates
//! the shared state, mounts the routes under the URL prefix and the middleware.

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpResponse, HttpServer};
use base64::Engine;
use std::net::TcpListener;
use std::time::Instant;

use crate::config::{Credentials, Settings};
use crate::request_ctx::RequestCtx;
use crate::routes;
use crate::state::AppState;

/// The Content-Security-Policy of every answer: no inline scripts, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A built, not yet running, dashboard.
pub struct Application {
    port: u16,
    server: Server,
}

/// Compares two byte strings in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

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

/// A path prefix from `X-Forwarded-Prefix`, if it is a plain path.
fn forwarded_prefix(req: &ServiceRequest) -> String {
    let p = req
        .headers()
        .get("x-forwarded-prefix")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .trim_end_matches('/');
    let plain = p.starts_with('/')
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-._~%".contains(c));
    if plain {
        p.to_string()
    } else {
        String::new()
    }
}

/// Who the request is from, or the answer refusing it.
fn authenticate(req: &ServiceRequest, s: &Settings) -> Result<RequestCtx, Box<HttpResponse>> {
    let mut ctx = RequestCtx::default();
    if s.trust_proxy {
        ctx.forwarded_prefix = forwarded_prefix(req);
    }
    if s.auth.is_none() && s.auth_header.is_none() {
        return Ok(ctx);
    }
    let path = req.path();
    let probe = path.ends_with("/healthz") || path.ends_with("/metrics");
    if s.public_probes && probe {
        return Ok(ctx);
    }
    if let Some(h) = &s.auth_header {
        if let Some(user) = req
            .headers()
            .get(h.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            ctx.user = Some(user.to_string());
            return Ok(ctx);
        }
    }
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
    }
    if s.auth.is_some() {
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

async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let ctx = match state.as_ref().map(|s| authenticate(&req, &s.settings)) {
        Some(Err(resp)) => return Ok(req.into_response(*resp)),
        Some(Ok(ctx)) => ctx,
        None => RequestCtx::default(),
    };
    let verbose = state.as_ref().is_some_and(|s| s.settings.verbose);
    let method = req.method().clone();
    let path = req.path().to_string();
    let mut res = crate::request_ctx::scope(ctx, next.call(req))
        .await?
        .map_into_boxed_body();
    let h = res.headers_mut();
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

impl Application {
    /// Binds the listener and builds the server.
    ///
    /// # Errors
    /// When the address cannot be bound or a Redis URL is invalid.
    pub fn build(settings: Settings) -> std::io::Result<Application> {
        let listener = TcpListener::bind((settings.bind.as_str(), settings.port)).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on {}:{}: {e}", settings.bind, settings.port),
            )
        })?;
        let port = listener.local_addr()?.port();
        let workers = settings.http_workers;
        let prefix = settings.url_prefix.clone();
        let state = web::Data::new(
            AppState::new(settings)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        );
        // Connect in the background so the first page does not pay for it; then sample the
        // shared snapshot into the history every poll interval.
        for (i, repo) in state.instances.clone().into_iter().enumerate() {
            let st = state.clone();
            let every = st
                .settings
                .poll_interval
                .max(std::time::Duration::from_secs(1));
            actix_web::rt::spawn(async move {
                if let Err(e) = repo.ping().await {
                    tracing::warn!(error = %e, "redis is not reachable yet; pages will say so until it is");
                }
                loop {
                    if let Ok(snap) = repo.snapshot().await {
                        st.history[i].record(&snap.overview);
                    }
                    actix_web::rt::time::sleep(every).await;
                }
            });
        }
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PathConfig::default().error_handler(|e, _| {
                    actix_web::error::InternalError::from_response(
                        e.to_string(),
                        HttpResponse::BadRequest().body(format!("bad path: {e}")),
                    )
                    .into()
                }))
                .wrap(from_fn(guard))
                .service(web::scope(&prefix).configure(routes::configure))
                .default_service(web::to(|| async {
                    HttpResponse::NotFound()
                        .content_type("text/plain; charset=utf-8")
                        .body("Not found: no page at this address.")
                }))
        })
        .workers(workers)
        .shutdown_timeout(5)
        .listen(listener)?
        .run();
        Ok(Application { port, server })
    }

    /// Returns the port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the server handle (to spawn it or stop it).
    pub fn server(self) -> Server {
        self.server
    }

    /// Serves until stopped (SIGINT/SIGTERM stop gracefully).
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Asks a running dashboard configured by `settings` for `/healthz` (what a container
/// `HEALTHCHECK` runs; needs no curl in the image).
///
/// # Errors
/// A message when the dashboard does not answer 200.
pub fn healthcheck(settings: &Settings) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::time::Duration;
    let host = match settings.bind.as_str() {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        other => other,
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, settings.port))
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address to check")?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut req = format!(
        "GET {}/healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
        settings.url_prefix
    );
    if let Some(c) = &settings.auth {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", c.username, c.password));
        req.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let status = answer.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        Err(format!("{status} {body}"))
    }
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"a:b", b"a:b"));
        assert!(!constant_time_eq(b"a:b", b"a:c"));
        assert!(!constant_time_eq(b"a:b", b"a:bb"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
