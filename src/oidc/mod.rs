//! Single sign-on with OpenID Connect (`--oidc-issuer`).
//!
//! - **The flow**: the authorization code flow with PKCE (S256), a random `state` and `nonce`.
//!   What the callback needs to check them travels in a short-lived login cookie sealed with
//!   `--secret-key`, so any replica can finish a sign-in another one started; a state is
//!   accepted once per process, and the provider accepts a code once.
//! - **The token**: the ID token's signature is checked against the issuer's JWKS, and its
//!   `iss`, `aud`, `exp` and `nonce` (crate `openidconnect`). A token signed by a key the cached
//!   JWKS lacks makes the provider's metadata be fetched again (key rotation), at most once per
//!   [`REFRESH_AT_MOST`], then checked once more.
//! - **The session**: a cookie sealed (encrypted and authenticated, AES-GCM of the `cookie`
//!   crate) with a key derived from `--secret-key`: every replica and a restarted process accept
//!   it, and nobody can write or read one without the secret. It holds the user's name, groups
//!   and expiry ([`Session`]); it is `HttpOnly`, `SameSite=Lax`, and `Secure` when the public URL
//!   is https.
//! - **Sign-out** drops the cookie and, when the provider offers RP-initiated logout, ends the
//!   session there too.
//!
//! The provider is called with blocking HTTP (ureq, redirects not followed), so the routes call
//! [`Oidc::begin`] and [`Oidc::finish`] off the async threads.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl, Scope,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rqdash_session";
/// The name of the cookie that carries a sign-in in progress (state, nonce, PKCE verifier).
pub const LOGIN_COOKIE: &str = "rqdash_login";
/// How long a sign-in may take, from `/auth/login` to `/auth/callback`.
const LOGIN_TTL: Duration = Duration::from_secs(600);
/// How long the provider's metadata and keys are used before they are fetched again.
const METADATA_TTL: Duration = Duration::from_secs(600);
/// The shortest time between two fetches of the provider's metadata (a token naming an unknown
/// key asks for one; a flood of such tokens must not become a flood of fetches).
pub const REFRESH_AT_MOST: Duration = Duration::from_secs(1);
/// How long a call to the provider may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Sessions carry the ID token for the provider's sign-out only when it is at most this long
/// (a browser keeps about 4 KB per cookie).
const MAX_HINT: usize = 2000;

/// The OpenID Connect settings from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// `--oidc-issuer`, without a trailing slash unless the provider's own issuer has one.
    pub issuer: String,
    /// `--oidc-client-id`.
    pub client_id: String,
    /// `--oidc-client-secret` (or its file), for a confidential client.
    pub client_secret: Option<String>,
    /// `--oidc-groups-claim`.
    pub groups_claim: String,
    /// `--oidc-scopes`, without `openid` (always asked for).
    pub scopes: Vec<String>,
    /// `--oidc-session-hours`.
    pub session: Duration,
    /// `--public-url`: the redirect is `<public url>/auth/callback`.
    pub public_url: String,
    /// The public URL's path (`/dash` of `https://rq.example.com/dash`, else empty): the
    /// cookies' path, as the browser sees it (through any proxy).
    pub cookie_path: String,
}

/// A signed-in user, as the session cookie holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The user's name: `preferred_username`, else `email`, else `sub`.
    #[serde(rename = "u")]
    pub user: String,
    /// The user's groups, from the groups claim.
    #[serde(rename = "g", default)]
    pub groups: Vec<String>,
    /// When the session ends, in seconds since the epoch.
    #[serde(rename = "e")]
    pub expires: u64,
    /// The ID token, for the provider's sign-out (`id_token_hint`), when it is short enough.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// A sign-in in progress, as the login cookie holds it.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    expires: u64,
}

/// An error of the HTTP calls to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

struct Fetched {
    at: Instant,
    meta: ProviderMetadataWithLogout,
}

/// The OpenID Connect relying party: settings, the provider's cached metadata and keys, and the
/// states already used.
pub struct Oidc {
    cfg: Config,
    key: Key,
    secure: bool,
    fetched: Mutex<Option<Fetched>>,
    used: Mutex<HashMap<String, Instant>>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.cfg.issuer)
            .field("client_id", &self.cfg.client_id)
            .finish_non_exhaustive()
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The cookie key derived from `--secret-key` (SHA-512 of a label and the secret: 64 bytes,
/// what the `cookie` crate's sealing needs).
fn cookie_key(secret: &str) -> Key {
    let mut h = sha2::Sha512::new();
    h.update(b"rqdash session cookie\0");
    h.update(secret.as_bytes());
    Key::from(&h.finalize())
}

impl Oidc {
    /// The relying party for `cfg`, its cookies sealed under `secret`.
    pub fn new(cfg: Config, secret: &str) -> Oidc {
        let agent = crate::webhooks::agent(TIMEOUT, true);
        Oidc {
            secure: cfg.public_url.starts_with("https://"),
            key: cookie_key(secret),
            cfg,
            fetched: Mutex::new(None),
            used: Mutex::new(HashMap::new()),
            agent,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    fn http(
        &self,
        req: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, HttpError> {
        let resp = self.agent.run(req).map_err(|e| HttpError(e.to_string()))?;
        let (parts, body) = resp.into_parts();
        let bytes = body
            .into_with_config()
            .limit(1024 * 1024)
            .read_to_vec()
            .map_err(|e| HttpError(e.to_string()))?;
        Ok(openidconnect::HttpResponse::from_parts(parts, bytes))
    }

    /// The provider's metadata and keys: cached, or fetched when older than [`METADATA_TTL`], or
    /// when `again` (a token named an unknown key) and the last fetch is older than
    /// [`REFRESH_AT_MOST`].
    fn metadata(&self, again: bool) -> Result<ProviderMetadataWithLogout, Failure> {
        {
            let cached = self.fetched.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(f) = cached.as_ref() {
                let age = f.at.elapsed();
                if age < METADATA_TTL && (!again || age < REFRESH_AT_MOST) {
                    return Ok(f.meta.clone());
                }
            }
        }
        let issuer = IssuerUrl::new(self.cfg.issuer.clone())
            .map_err(|e| Failure::Unreachable(format!("--oidc-issuer is not a URL: {e}")))?;
        let client = |r| self.http(r);
        let meta = ProviderMetadataWithLogout::discover(&issuer, &client)
            .map_err(|e| Failure::Unreachable(error_chain(&e)))?;
        *self.fetched.lock().unwrap_or_else(|p| p.into_inner()) = Some(Fetched {
            at: Instant::now(),
            meta: meta.clone(),
        });
        Ok(meta)
    }

    fn redirect_url(&self) -> String {
        format!("{}/auth/callback", self.cfg.public_url)
    }

    /// The page a user lands on after signing out.
    pub fn signed_out_url(&self) -> String {
        format!("{}/auth/signed-out", self.cfg.public_url)
    }

    fn client(
        &self,
        meta: ProviderMetadataWithLogout,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        Failure,
    > {
        let redirect = RedirectUrl::new(self.redirect_url()).map_err(|e| {
            Failure::Unreachable(format!("--public-url gives no redirect URL: {e}"))
        })?;
        Ok(CoreClient::from_provider_metadata(
            meta,
            ClientId::new(self.cfg.client_id.clone()),
            self.cfg.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: the provider's address to send the browser to, and the login cookie
    /// that lets the callback check what comes back. `next` is where to go once signed in (a
    /// path on this site, checked by the caller).
    ///
    /// # Errors
    /// [`Failure::Unreachable`] when the provider's metadata cannot be read.
    pub fn begin(&self, next: &str) -> Result<(String, Cookie<'static>), Failure> {
        let meta = self.metadata(false)?;
        let client = self.client(meta)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in &self.cfg.scopes {
            req = req.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = req.url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next: next.to_string(),
            expires: now_secs() + LOGIN_TTL.as_secs(),
        };
        let value = serde_json::to_string(&pending).unwrap_or_default();
        let cookie = self.seal(LOGIN_COOKIE, value, LOGIN_TTL, "/auth/");
        Ok((url.to_string(), cookie))
    }

    /// Finishes a sign-in from the callback's query (`code`, `state`, or `error`) and the login
    /// cookie: the session, and where to go.
    ///
    /// # Errors
    /// Each [`Failure`]: no or a used sign-in, a state that does not match, the provider's
    /// error, an unreachable provider, a refused code, a token that fails a check.
    pub fn finish(
        &self,
        query: &HashMap<String, String>,
        login_cookie: Option<&str>,
    ) -> Result<(Session, String), Failure> {
        let pending: Pending = login_cookie
            .and_then(|v| self.open(LOGIN_COOKIE, v))
            .and_then(|json| serde_json::from_str(&json).ok())
            .filter(|p: &Pending| p.expires > now_secs())
            .ok_or(Failure::NoLogin)?;
        let state = query.get("state").map(String::as_str).unwrap_or("");
        if !crate::config::access::constant_time_eq(state.as_bytes(), pending.state.as_bytes()) {
            return Err(Failure::StateMismatch);
        }
        self.use_state(&pending.state)?;
        if let Some(err) = query.get("error") {
            let desc = query.get("error_description").map_or("", String::as_str);
            return Err(Failure::Provider(
                format!("{err} {desc}").trim().to_string(),
            ));
        }
        let code = query
            .get("code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Failure::Provider("the answer holds no code".into()))?;
        let meta = self.metadata(false)?;
        let http = |r| self.http(r);
        let token = self
            .client(meta.clone())?
            .exchange_code(AuthorizationCode::new(code.clone()))
            .map_err(|e| Failure::Unreachable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request(&http)
            .map_err(|e| Failure::Refused(error_chain(&e)))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| Failure::BadToken("the provider sent no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let verify = |meta: ProviderMetadataWithLogout| {
            let algs = signing_algs(&meta);
            let client = self.client(meta)?;
            let verifier = client.id_token_verifier().set_allowed_algs(algs);
            Ok::<_, Failure>(id_token.claims(&verifier, &nonce).cloned())
        };
        let claims = match verify(meta.clone())? {
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key the cached set lacks: the provider may have rotated its keys.
                verify(self.metadata(true)?)?
            }
            other => other,
        }
        .map_err(|e| Failure::BadToken(e.to_string()))?;
        let user = claims
            .preferred_username()
            .map(|u| u.as_str().to_string())
            .or_else(|| claims.email().map(|e| e.as_str().to_string()))
            .unwrap_or_else(|| claims.subject().as_str().to_string());
        let raw = id_token.to_string();
        let mut groups = claim_list(&payload(&raw), &self.cfg.groups_claim);
        if groups.is_none() {
            groups = self.userinfo_groups(
                &meta,
                token.access_token().secret(),
                claims.subject().as_str(),
            );
        }
        let session = Session {
            user,
            groups: groups.unwrap_or_default(),
            expires: now_secs() + self.cfg.session.as_secs(),
            hint: (raw.len() <= MAX_HINT).then_some(raw),
        };
        Ok((session, pending.next))
    }

    /// The groups claim from the userinfo endpoint, for providers that leave it out of the ID
    /// token; `None` when there is none, or the answer is for another subject.
    fn userinfo_groups(
        &self,
        meta: &ProviderMetadataWithLogout,
        access_token: &str,
        subject: &str,
    ) -> Option<Vec<String>> {
        let url = meta.userinfo_endpoint()?.url().to_string();
        let req = openidconnect::http::Request::get(url)
            .header("Authorization", format!("Bearer {access_token}"))
            .header("Accept", "application/json")
            .body(Vec::new())
            .ok()?;
        let resp = self.http(req).ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let info: serde_json::Value = serde_json::from_slice(resp.body()).ok()?;
        if info.get("sub").and_then(|s| s.as_str()) != Some(subject) {
            return None;
        }
        claim_list(&info, &self.cfg.groups_claim)
    }

    /// Marks `state` used, or refuses it as replayed. Kept per process for the login's lifetime
    /// (the provider, too, accepts each code once).
    fn use_state(&self, state: &str) -> Result<(), Failure> {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        used.retain(|_, at| at.elapsed() < LOGIN_TTL);
        let digest = hex(&sha2::Sha256::digest(state.as_bytes()));
        if used.contains_key(&digest) {
            return Err(Failure::Replayed);
        }
        if used.len() < 100_000 {
            used.insert(digest, Instant::now());
        }
        Ok(())
    }

    /// The session cookie for `s`.
    pub fn session_cookie(&self, s: &Session) -> Cookie<'static> {
        let value = serde_json::to_string(s).unwrap_or_default();
        self.seal(SESSION_COOKIE, value, self.cfg.session, "/")
    }

    /// The session a cookie's value holds, when it opens under the key and has not expired.
    pub fn session(&self, value: &str) -> Option<Session> {
        let json = self.open(SESSION_COOKIE, value)?;
        let s: Session = serde_json::from_str(&json).ok()?;
        (s.expires > now_secs() && !s.user.is_empty()).then_some(s)
    }

    /// A cookie that removes the cookie `name` (set with `path` under the prefix).
    pub fn removal(&self, name: &'static str, path: &str) -> Cookie<'static> {
        let mut c = self.seal(name, String::new(), Duration::ZERO, path);
        c.make_removal();
        c
    }

    /// Where the browser goes to sign out: the provider's end-session endpoint when it has one
    /// (with the ID token as a hint, and the signed-out page to come back to), else the
    /// signed-out page.
    pub fn logout_url(&self, s: Option<&Session>) -> String {
        let back = self.signed_out_url();
        let Ok(meta) = self.metadata(false) else {
            return back;
        };
        let Some(end) = meta.additional_metadata().end_session_endpoint.as_ref() else {
            return back;
        };
        let mut url = end.url().clone();
        {
            let mut q = url.query_pairs_mut();
            if let Some(h) = s.and_then(|s| s.hint.as_deref()) {
                q.append_pair("id_token_hint", h);
            }
            q.append_pair("client_id", &self.cfg.client_id);
            q.append_pair("post_logout_redirect_uri", &back);
        }
        url.to_string()
    }

    fn seal(
        &self,
        name: &'static str,
        value: String,
        ttl: Duration,
        path: &str,
    ) -> Cookie<'static> {
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(Cookie::new(name, value));
        let mut c = jar
            .get(name)
            .cloned()
            .unwrap_or_else(|| Cookie::new(name, ""));
        let path = format!("{}{}", self.cfg.cookie_path, path);
        c.set_path(path);
        c.set_http_only(true);
        c.set_secure(self.secure);
        c.set_same_site(SameSite::Lax);
        c.set_max_age(actix_web::cookie::time::Duration::seconds(
            i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
        ));
        c
    }

    fn open(&self, name: &'static str, value: &str) -> Option<String> {
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(name, value.to_string()));
        jar.private(&self.key)
            .get(name)
            .map(|c| c.value().to_string())
    }
}

/// The algorithms an ID token may be signed with: those the provider lists, `none` never; RS256
/// when it lists none.
fn signing_algs(meta: &ProviderMetadataWithLogout) -> Vec<CoreJwsSigningAlgorithm> {
    let mut v: Vec<_> = meta
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|a| **a != CoreJwsSigningAlgorithm::None)
        .cloned()
        .collect();
    if v.is_empty() {
        v.push(CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256);
    }
    v
}

/// The payload of a JWT (already verified), as JSON.
fn payload(jwt: &str) -> serde_json::Value {
    jwt.split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// The strings of claim `name` in `v`: an array of strings, or one string of comma- or
/// space-separated names. `None` when the claim is absent.
fn claim_list(v: &serde_json::Value, name: &str) -> Option<Vec<String>> {
    let c = v.get(name)?;
    let list = match c {
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str())
            .map(str::to_string)
            .collect(),
        serde_json::Value::String(s) => s
            .split([',', ' '])
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Some(list)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An error with its causes, one sentence.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

mod failure;
#[cfg(test)]
mod tests;

pub use failure::Failure;
