//! Single sign-on's pages (`--oidc-issuer`): `GET /auth/login` sends the browser to the OpenID
//! provider, `GET /auth/callback` finishes the sign-in and sets the session cookie,
//! `GET|POST /auth/logout` ends the session (at the provider too, where it offers that), and
//! `GET /auth/signed-out` says so. Everybody may open them ([`crate::http::auth`]); without
//! `--oidc-issuer` they are 404. The protocol itself is [`crate::oidc`].

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use crate::http::context;
use crate::http::viewer::{layout, Viewer};
use crate::i18n;
use crate::oidc::{Failure, LOGIN_COOKIE, SESSION_COOKIE};
use crate::state::AppState;
use crate::views::layout::AuthPage;

/// The dashboard's root as the browser sees it (through a trusted proxy's prefix).
fn base(state: &AppState) -> String {
    format!(
        "{}{}",
        context::current().forwarded_prefix,
        state.settings.url_prefix
    )
}

fn page(
    state: &AppState,
    status: StatusCode,
    heading: &str,
    message: String,
    retry: bool,
) -> HttpResponse {
    let viewer = Viewer::current(state);
    let mut layout = layout(state, &viewer, 0, "error", heading);
    // Nobody is signed in here: no permission shows (the audit link among them).
    layout.perms = crate::views::layout::Perms::default();
    let view = AuthPage {
        layout,
        heading: heading.to_string(),
        message,
        code: status.as_u16(),
        link: retry.then(|| format!("{}/auth/login", base(state))),
    };
    let body = view
        .render()
        .unwrap_or_else(|e| format!("render error: {e}"));
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

fn failed(state: &AppState, f: &Failure) -> HttpResponse {
    tracing::warn!(reason = %crate::config::access::log_safe(&f.to_string()), "single sign-on: a sign-in was refused");
    let mut r = page(state, f.status(), i18n::t("auth.failed"), f.message(), true);
    drop_login_cookie(state, &mut r);
    r
}

/// Adds the removal of the login cookie to `r` (a sign-in is tried once).
fn drop_login_cookie(state: &AppState, r: &mut HttpResponse) {
    let Some(oidc) = state.settings.oidc.as_ref() else {
        return;
    };
    if let Ok(v) = header::HeaderValue::from_str(&oidc.removal(LOGIN_COOKIE, "/auth/").to_string())
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The answer of a sign-in page when single sign-on is not set up: 404, with a sentence.
fn not_set_up(state: &AppState) -> HttpResponse {
    page(
        state,
        StatusCode::NOT_FOUND,
        i18n::t("auth.failed"),
        i18n::t("auth.disabled").to_string(),
        false,
    )
}

/// `GET /auth/login?next=<path>`: a new sign-in, sent to the provider.
pub async fn login(
    state: web::Data<AppState>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let Some(oidc) = state.settings.oidc.clone() else {
        return not_set_up(&state);
    };
    let root = base(&state);
    let next = q
        .get("next")
        .filter(|n| crate::routes::lang::safe_next(n, &root) && !n.contains("/auth/"))
        .cloned()
        .unwrap_or_else(|| format!("{root}/"));
    match web::block(move || oidc.begin(&next)).await {
        Ok(Ok((url, cookie))) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .cookie(cookie)
            .finish(),
        Ok(Err(f)) => failed(&state, &f),
        Err(e) => failed(&state, &Failure::Unreachable(e.to_string())),
    }
}

/// `GET /auth/callback?code=…&state=…`: checks the answer and the ID token, sets the session.
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let Some(oidc) = state.settings.oidc.clone() else {
        return not_set_up(&state);
    };
    let login = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_string());
    let query = q.into_inner();
    let finished = {
        let oidc = oidc.clone();
        web::block(move || oidc.finish(&query, login.as_deref())).await
    };
    match finished {
        Ok(Ok((session, next))) => {
            tracing::info!(
                user = %crate::config::access::log_safe(&session.user),
                groups = %crate::config::access::log_safe(&session.groups.join(",")),
                "single sign-on: signed in"
            );
            let mut r = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, next))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .cookie(oidc.session_cookie(&session))
                .finish();
            drop_login_cookie(&state, &mut r);
            r
        }
        Ok(Err(f)) => failed(&state, &f),
        Err(e) => failed(&state, &Failure::Unreachable(e.to_string())),
    }
}

/// `GET|POST /auth/logout`: drops the session cookie and goes to the provider's sign-out, or
/// to the signed-out page. A request another site started (`Sec-Fetch-Site: cross-site`) signs
/// nobody out.
pub async fn logout(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let Some(oidc) = state.settings.oidc.clone() else {
        return not_set_up(&state);
    };
    // Another site's link or form must not sign the user out: it is sent back to the overview.
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site");
    if cross_site {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("{}/", base(&state))))
            .finish();
    }
    let session = req
        .cookie(SESSION_COOKIE)
        .and_then(|c| oidc.session(c.value()));
    if let Some(s) = &session {
        tracing::info!(user = %crate::config::access::log_safe(&s.user), "single sign-on: signed out");
    }
    let url = {
        let oidc = oidc.clone();
        web::block(move || oidc.logout_url(session.as_ref()))
            .await
            .unwrap_or_else(|_| format!("{}/auth/signed-out", base(&state)))
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(oidc.removal(SESSION_COOKIE, "/"))
        .finish()
}

/// `GET /auth/signed-out`: the page after signing out.
pub async fn signed_out(state: web::Data<AppState>) -> HttpResponse {
    if state.settings.oidc.is_none() {
        return not_set_up(&state);
    }
    page(
        &state,
        StatusCode::OK,
        i18n::t("auth.signed_out_title"),
        i18n::t("auth.signed_out").to_string(),
        true,
    )
}
