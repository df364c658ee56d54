//! A real OpenID provider for the login tests: `tests/oidc/provider.mjs` (the certified
//! `oidc-provider` npm package) run by Node on a free port, killed on drop; plus what drives it
//! without a browser (an authorization-code flow over plain HTTP) and a proxy that tampers with
//! its token answers.
//!
//! Node and `tests/oidc/node_modules` come from `scripts/install-test-deps.sh`; without them a
//! test fails (it never skips) and says so.
//!
//! The proxy: discovery hands out absolute URLs built on the issuer, so whoever reads it (the
//! dashboard, the browser) talks to the issuer's host for every endpoint. A provider started
//! with [`ProviderConfig::behind_proxy`] therefore has the [`TokenProxy`]'s URL as its issuer:
//! the proxy binds first, the provider listens on another port, and everything goes through the
//! proxy, which forwards it unchanged (the `Host` header too, from which the provider builds its
//! URLs) unless told to tamper with the token endpoint's answers.

use super::http;
use super::process::{Spawned, TempDir};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to do when Node or the npm packages are missing.
const INSTALL: &str = "run scripts/install-test-deps.sh (it installs nodejs and npm, and runs \
                       `npm ci` in tests/oidc)";

/// A user the provider knows: `sub` and `preferred_username` are its name.
#[derive(Debug, Clone)]
pub struct User {
    /// Its name (the login).
    pub name: String,
    /// Its password.
    pub password: String,
    /// Its `email` claim (default `<name>@example.test`).
    pub email: Option<String>,
    /// Its `groups` claim.
    pub groups: Vec<String>,
}

impl User {
    /// A user with these groups and the default email.
    pub fn new(name: &str, password: &str, groups: &[&str]) -> User {
        User {
            name: name.into(),
            password: password.into(),
            email: None,
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }
}

/// How a client authenticates at the token endpoint. oidc-provider accepts only the one
/// registered, so a test of both registers two clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `client_secret_basic` (the `openidconnect` crate's default).
    Basic,
    /// `client_secret_post`.
    Post,
}

/// A client (relying party) registered at the provider.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// `client_secret`.
    pub secret: String,
    /// Allowed `redirect_uri`s.
    pub redirect_uris: Vec<String>,
    /// Allowed `post_logout_redirect_uri`s.
    pub post_logout_redirect_uris: Vec<String>,
    /// Token endpoint authentication.
    pub auth_method: AuthMethod,
    /// Lifetime of its ID tokens (default one hour).
    pub id_token_ttl: Option<Duration>,
}

impl Client {
    /// A `client_secret_basic` client with one redirect URI and no logout redirect.
    pub fn new(id: &str, secret: &str, redirect_uri: &str) -> Client {
        Client {
            id: id.into(),
            secret: secret.into(),
            redirect_uris: vec![redirect_uri.into()],
            post_logout_redirect_uris: Vec::new(),
            auth_method: AuthMethod::Basic,
            id_token_ttl: None,
        }
    }
}

/// What [`Provider::start`] serves.
#[derive(Debug, Clone, Default)]
pub struct ProviderConfig {
    /// The registered clients.
    pub clients: Vec<Client>,
    /// The users.
    pub users: Vec<User>,
    /// Key ids of its RS256 signing keys, all in the JWKS; the first signs. Empty: `["key-1"]`.
    /// A key id keeps its key across restarts of one [`Provider`].
    pub keys: Vec<String>,
    /// Serve it through a [`TokenProxy`], whose URL is then the issuer (see the module doc).
    pub behind_proxy: bool,
    /// Accept authorization requests without PKCE (by default they are refused, so a client
    /// that stops sending PKCE fails).
    pub pkce_optional: bool,
}

impl ProviderConfig {
    /// These clients and users, one key `key-1`, no proxy.
    pub fn new(clients: Vec<Client>, users: Vec<User>) -> ProviderConfig {
        ProviderConfig {
            clients,
            users,
            ..ProviderConfig::default()
        }
    }

    /// The JSON `provider.mjs` reads (its format is documented at the top of that file).
    fn to_json(&self, issuer: Option<&str>, port: u16, key_dir: &Path) -> Value {
        let users: serde_json::Map<String, Value> = self
            .users
            .iter()
            .map(|u| {
                let mut v = json!({"password": u.password, "groups": u.groups});
                if let Some(e) = &u.email {
                    v["email"] = json!(e);
                }
                (u.name.clone(), v)
            })
            .collect();
        let clients: Vec<Value> = self
            .clients
            .iter()
            .map(|c| {
                let mut v = json!({
                    "client_id": c.id,
                    "client_secret": c.secret,
                    "redirect_uris": c.redirect_uris,
                    "post_logout_redirect_uris": c.post_logout_redirect_uris,
                    "token_endpoint_auth_method": match c.auth_method {
                        AuthMethod::Basic => "client_secret_basic",
                        AuthMethod::Post => "client_secret_post",
                    },
                });
                if let Some(ttl) = c.id_token_ttl {
                    v["id_token_ttl_seconds"] = json!(ttl.as_secs().max(1));
                }
                v
            })
            .collect();
        let mut v = json!({
            "port": port,
            "keys": if self.keys.is_empty() { vec!["key-1".to_string()] } else { self.keys.clone() },
            "key_dir": key_dir,
            "pkce_required": !self.pkce_optional,
            "clients": clients,
            "users": users,
        });
        if let Some(i) = issuer {
            v["issuer"] = json!(i);
        }
        v
    }
}

/// `tests/oidc`, where `provider.mjs` and its `node_modules` are.
fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// The Node binary: `NODE_BIN`, default `node` on PATH.
fn node() -> String {
    std::env::var("NODE_BIN").unwrap_or_else(|_| "node".into())
}

/// Panics, saying how to install them, unless Node runs and `oidc-provider` is installed.
fn check_installed() {
    let node = node();
    match Command::new(&node).arg("--version").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("`{node} --version` failed ({}): {INSTALL}", o.status),
        Err(e) => panic!("cannot run {node} ({e}): {INSTALL}, or set NODE_BIN"),
    }
    let pkg = oidc_dir().join("node_modules/oidc-provider/package.json");
    assert!(pkg.exists(), "{} is missing: {INSTALL}", pkg.display());
}

/// A running `provider.mjs`, stopped on drop.
pub struct Provider {
    // Declared first, so the process stops before the proxy and the dir go.
    process: Option<Spawned>,
    proxy: Option<TokenProxy>,
    config: ProviderConfig,
    issuer: String,
    /// `http://127.0.0.1:<port>` where Node listens (the issuer, unless behind the proxy).
    listening: String,
    dir: TempDir,
}

impl Provider {
    /// Starts the provider (and its proxy, when `config.behind_proxy`), waiting until it
    /// listens. Panics, with its log, if it does not come up in 30 s.
    pub fn start(config: ProviderConfig) -> Provider {
        check_installed();
        let dir = TempDir::new("oidc");
        let proxy = config.behind_proxy.then(TokenProxy::start);
        let issuer = proxy.as_ref().map(|p| p.url().to_string());
        let (process, issuer, listening) = launch(&dir, &config, issuer.as_deref(), 0);
        if let Some(p) = &proxy {
            p.set_upstream(&listening);
        }
        Provider {
            process: Some(process),
            proxy,
            config,
            issuer,
            listening,
            dir,
        }
    }

    /// The issuer, `http://127.0.0.1:<port>`: the URL to configure a client with (the proxy's
    /// when behind one).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The proxy in front of it. Panics unless started with `behind_proxy`.
    pub fn proxy(&self) -> &TokenProxy {
        self.proxy
            .as_ref()
            .expect("the provider was started without behind_proxy")
    }

    /// What the provider has written to stderr so far (warnings, failed requests), over all
    /// its restarts.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("provider.log")).unwrap_or_default()
    }

    /// Restarts it with signing keys `keys` (ids; the first signs), under the same issuer:
    /// a key id used before gets its old key back, a new one a new key. Sessions, codes and
    /// grants are lost (they live in memory). Without a proxy it listens on the same port
    /// again, and panics if that port was taken in between.
    pub fn restart_with_keys(&mut self, keys: &[&str]) {
        if let Some(mut p) = self.process.take() {
            p.end();
        }
        self.config.keys = keys.iter().map(|k| k.to_string()).collect();
        let port = match &self.proxy {
            Some(_) => 0,
            None => port_of(&self.listening),
        };
        let (process, issuer, listening) =
            launch(&self.dir, &self.config, Some(&self.issuer), port);
        assert_eq!(issuer, self.issuer);
        if let Some(p) = &self.proxy {
            p.set_upstream(&listening);
        }
        self.process = Some(process);
        self.listening = listening;
    }

    /// Its discovery document (`/.well-known/openid-configuration`).
    pub fn discovery(&self) -> Value {
        let r = http::get(&format!("{}/.well-known/openid-configuration", self.issuer));
        assert_eq!(r.status, 200, "discovery: {}", r.text());
        r.json()
    }

    /// The public keys it publishes now (`jwks_uri`).
    pub fn jwks(&self) -> Value {
        let uri = self.discovery()["jwks_uri"].as_str().unwrap().to_string();
        let r = http::get(&uri);
        assert_eq!(r.status, 200, "JWKS: {}", r.text());
        r.json()
    }

    /// Whether `jwt`'s RS256 signature verifies with one of the keys it publishes now
    /// (checked by Node's crypto, so no RSA code lives in the tests).
    pub fn verifies(&self, jwt: &str) -> bool {
        const SCRIPT: &str = r#"
            const crypto = require('node:crypto');
            const [jwks, jwt] = [JSON.parse(process.argv[1]), process.argv[2]];
            const [h, p, s] = jwt.split('.');
            const { kid } = JSON.parse(Buffer.from(h, 'base64url'));
            const ok = jwks.keys.filter((k) => k.kid === kid).some((k) => crypto.verify('sha256',
                Buffer.from(`${h}.${p}`), crypto.createPublicKey({ key: k, format: 'jwk' }),
                Buffer.from(s, 'base64url')));
            console.log(ok ? 'valid' : 'invalid');
        "#;
        let out = Command::new(node())
            .args(["-e", SCRIPT, &self.jwks().to_string(), jwt])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run node ({e}): {INSTALL}"));
        match String::from_utf8_lossy(&out.stdout).trim() {
            "valid" => true,
            "invalid" => false,
            _ => panic!(
                "cannot check the signature of {jwt}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    /// The authorization URL a client would send a browser to: code flow, scopes `openid
    /// profile email groups`, PKCE S256.
    pub fn authorize_url(
        &self,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        pkce: &Pkce,
    ) -> String {
        let endpoint = self.discovery()["authorization_endpoint"]
            .as_str()
            .unwrap()
            .to_string();
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "openid profile email groups"),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ])
        .unwrap();
        format!("{endpoint}?{query}")
    }
}

/// Starts `provider.mjs` in `dir` and waits for its `READY <issuer> <listening URL>` line.
fn launch(
    dir: &TempDir,
    config: &ProviderConfig,
    issuer: Option<&str>,
    port: u16,
) -> (Spawned, String, String) {
    let d = dir.path();
    let cfg = d.join("config.json");
    let json = config.to_json(issuer, port, &d.join("keys"));
    std::fs::write(&cfg, json.to_string()).unwrap();
    let stdout = d.join("stdout.log");
    let out = std::fs::File::create(&stdout).unwrap();
    // Appended to, so the log of every start stays readable through `Provider::log`.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(d.join("provider.log"))
        .unwrap();
    let mut cmd = Command::new(node());
    cmd.arg(oidc_dir().join("provider.mjs"))
        .arg(&cfg)
        .current_dir(oidc_dir())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(log);
    let mut p = Spawned::start(&mut cmd, dir.tag(), "oidc provider", Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("cannot start {} ({e}): {INSTALL}", node()));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&stdout).unwrap_or_default();
        if let Some(rest) = text.lines().find_map(|l| l.strip_prefix("READY ")) {
            let (issuer, listening) = rest.split_once(' ').expect("READY <issuer> <url>");
            return (p, issuer.to_string(), listening.to_string());
        }
        let exited = matches!(p.child().try_wait(), Ok(Some(_)));
        if exited || Instant::now() > deadline {
            let log = std::fs::read_to_string(d.join("provider.log")).unwrap_or_default();
            panic!(
                "the OIDC provider did not start ({}); its log:\n{log}",
                if exited { "it exited" } else { "30 s" }
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A PKCE pair (RFC 7636, method S256).
#[derive(Debug, Clone)]
pub struct Pkce {
    /// `code_verifier`, sent to the token endpoint.
    pub verifier: String,
    /// `code_challenge`, its SHA-256, sent to the authorization endpoint.
    pub challenge: String,
}

impl Pkce {
    /// A fresh random pair.
    pub fn new() -> Pkce {
        use sha2::Digest;
        let verifier = random_token();
        let challenge = B64.encode(sha2::Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Pkce {
        Pkce::new()
    }
}

/// 32 random bytes, base64url: a state, a nonce or a PKCE verifier.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("random bytes");
    B64.encode(b)
}

/// `http://host:port` of an absolute `http://` URL.
fn origin(url: &str) -> &str {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http URL: {url}"));
    &url[..7 + rest.find(['/', '?']).unwrap_or(rest.len())]
}

/// The path of an absolute URL, without its query.
fn path_of(url: &str) -> &str {
    let p = &url[origin(url).len()..];
    let p = &p[..p.find('?').unwrap_or(p.len())];
    if p.is_empty() {
        "/"
    } else {
        p
    }
}

/// The port of `http://127.0.0.1:<port>`.
fn port_of(url: &str) -> u16 {
    origin(url).rsplit(':').next().unwrap().parse().unwrap()
}

/// `location` (absolute, or a path on the same host) made absolute against `base`.
fn resolve(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else if location.starts_with('/') {
        format!("{}{location}", origin(base))
    } else {
        panic!("unexpected relative Location {location:?} at {base}")
    }
}

/// The query parameters of a URL.
pub fn query_params(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    let q = q.split('#').next().unwrap_or("");
    serde_urlencoded::from_str(q).unwrap_or_else(|e| panic!("bad query in {url}: {e}"))
}

/// The cookies a browser would keep for the provider: by name and path, sent to the paths
/// under theirs. Enough for oidc-provider, which sets a path on every cookie.
#[derive(Default)]
struct Jar(Vec<(String, String, String)>);

impl Jar {
    /// Stores (or, when expired or emptied, removes) the cookies of `set_cookies`.
    fn store(&mut self, set_cookies: &[String]) {
        for sc in set_cookies {
            let mut parts = sc.split(';').map(str::trim);
            let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
                continue;
            };
            let mut path = "/".to_string();
            let mut expired = value.is_empty();
            for attr in parts {
                let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
                match k.to_ascii_lowercase().as_str() {
                    "path" => path = v.to_string(),
                    "expires" => expired |= v.contains("1970"),
                    "max-age" => expired |= v.parse::<i64>().is_ok_and(|s| s <= 0),
                    _ => {}
                }
            }
            self.0.retain(|(n, _, p)| !(n == name && *p == path));
            if !expired {
                self.0.push((name.to_string(), value.to_string(), path));
            }
        }
    }

    /// The `Cookie` header for a request to `path`.
    fn header(&self, path: &str) -> String {
        self.0
            .iter()
            .filter(|(_, _, p)| {
                path == p
                    || path.starts_with(p.as_str())
                        && (p.ends_with('/') || path[p.len()..].starts_with('/'))
            })
            .map(|(n, v, _)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Signs `user` in at the provider without a browser: follows the redirects from
/// `authorize_url`, submits the login form (consent is automatic) and keeps the provider's
/// cookies itself. Returns the first redirect that leaves the provider's origin (the client's
/// `redirect_uri` with `code`, `state` and `iss`, or with `error`), without requesting it.
/// Panics if the provider refuses the password or answers with an error page.
pub fn login_over_http(authorize_url: &str, user: &str, password: &str) -> String {
    let provider = origin(authorize_url).to_string();
    let mut jar = Jar::default();
    let mut url = authorize_url.to_string();
    let mut form: Option<String> = None;
    for _ in 0..20 {
        let cookie = jar.header(path_of(&url));
        let mut headers = vec![("Cookie", cookie.as_str())];
        let r = match form.take() {
            Some(body) => {
                headers.push(("Content-Type", "application/x-www-form-urlencoded"));
                http::request("POST", &url, &headers, Some(body.as_bytes()))
            }
            None => http::request("GET", &url, &headers, None),
        };
        jar.store(&r.set_cookies);
        if (300..400).contains(&r.status) {
            let next = resolve(&url, r.header("location").expect("a redirect's Location"));
            if origin(&next) != provider {
                return next;
            }
            url = next;
            continue;
        }
        assert_eq!(r.status, 200, "{url}: {}", r.text());
        let page = scraper::Html::parse_document(&r.text());
        let select = |css| scraper::Selector::parse(css).unwrap();
        if let Some(e) = page.select(&select("#login-error")).next() {
            panic!(
                "the provider refused to sign {user} in: {}",
                e.text().collect::<String>()
            );
        }
        let action = page
            .select(&select("form#login-form"))
            .next()
            .and_then(|f| f.value().attr("action"))
            .unwrap_or_else(|| panic!("no login form at {url}: {}", r.text()));
        form =
            Some(serde_urlencoded::to_string([("login", user), ("password", password)]).unwrap());
        url = resolve(&url, action);
    }
    panic!("no redirect back to the client after 20 steps from {authorize_url}");
}

/// Runs a whole authorization-code flow as client `client_id` (PKCE, `nonce`, `user` signing
/// in over HTTP, the code exchanged at the token endpoint with the client's registered
/// authentication method) and returns the raw ID token. Real, properly signed tokens with
/// another audience or a short lifetime come from here. Behind a proxy, the token request
/// goes through it too, so its mode applies.
pub fn token_for(
    provider: &Provider,
    client_id: &str,
    secret: &str,
    redirect_uri: &str,
    user: &str,
    password: &str,
    nonce: &str,
) -> String {
    let pkce = Pkce::new();
    let state = random_token();
    let url = provider.authorize_url(client_id, redirect_uri, &state, nonce, &pkce);
    let back = login_over_http(&url, user, password);
    let params = query_params(&back);
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let Some(code) = param("code") else {
        panic!("no code in {back}: {:?}", param("error_description"));
    };
    assert_eq!(
        param("state").as_deref(),
        Some(state.as_str()),
        "state in {back}"
    );
    let endpoint = provider.discovery()["token_endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", &pkce.verifier),
    ];
    let method = provider
        .config
        .clients
        .iter()
        .find(|c| c.id == client_id)
        .map_or(AuthMethod::Basic, |c| c.auth_method);
    let enc = |s: &str| serde_urlencoded::to_string([("", s)]).unwrap()[1..].to_string();
    // RFC 6749 2.3.1: basic auth carries the form-encoded id and secret.
    let basic = http::basic(&enc(client_id), &enc(secret));
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    match method {
        AuthMethod::Basic => headers.push(("Authorization", &basic)),
        AuthMethod::Post => form.extend([("client_id", client_id), ("client_secret", secret)]),
    }
    let body = serde_urlencoded::to_string(&form).unwrap();
    let r = http::request("POST", &endpoint, &headers, Some(body.as_bytes()));
    assert_eq!(r.status, 200, "token endpoint: {}", r.text());
    r.json()["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no id_token in {}", r.text()))
        .to_string()
}

/// The decoded JSON of segment `i` of a JWT.
fn jwt_part(jwt: &str, i: usize) -> Value {
    let seg = jwt
        .split('.')
        .nth(i)
        .unwrap_or_else(|| panic!("not a JWT: {jwt}"));
    let bytes = B64
        .decode(seg)
        .unwrap_or_else(|e| panic!("bad base64url in {jwt}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("bad JSON in {jwt}: {e}"))
}

/// The header of a JWT (`alg`, `kid`, ...), unverified.
pub fn jwt_header(jwt: &str) -> Value {
    jwt_part(jwt, 0)
}

/// The claims of a JWT, unverified.
pub fn jwt_payload(jwt: &str) -> Value {
    jwt_part(jwt, 1)
}

/// `jwt` with one bit of its signature flipped: still well-formed, no longer valid.
pub fn flip_signature(jwt: &str) -> String {
    let (signed, sig) = jwt
        .rsplit_once('.')
        .unwrap_or_else(|| panic!("not a JWT: {jwt}"));
    let mut sig = B64
        .decode(sig)
        .unwrap_or_else(|e| panic!("bad signature in {jwt}: {e}"));
    assert!(!sig.is_empty(), "unsigned JWT: {jwt}");
    let mid = sig.len() / 2;
    sig[mid] ^= 1;
    format!("{signed}.{}", B64.encode(sig))
}

/// What the [`TokenProxy`] does to the token endpoint's answers (`POST /token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tamper {
    /// Nothing: pass them through.
    PassThrough,
    /// Flip a bit of the `id_token`'s signature ([`flip_signature`]).
    FlipSignature,
    /// Put this string in place of the `id_token`.
    Replace(String),
    /// Hold the answer this long, then pass it through (the code is spent by then).
    Delay(Duration),
}

/// What the proxy's threads share.
struct Shared {
    /// `127.0.0.1:<port>` of the provider; empty until set.
    upstream: Mutex<String>,
    mode: Mutex<Tamper>,
    token_calls: AtomicUsize,
    last: Mutex<Option<(String, String)>>,
    stop: AtomicBool,
}

/// An HTTP proxy on a free port of 127.0.0.1 in front of the provider: it forwards every
/// request unchanged (one per connection) and can rewrite the JSON answers of the token
/// endpoint ([`Tamper`]). Answers 502 while the provider is down (e.g. restarting). Stops
/// accepting on drop.
pub struct TokenProxy {
    url: String,
    shared: Arc<Shared>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl TokenProxy {
    /// Binds a free port and starts serving; [`TokenProxy::set_upstream`] says where to.
    pub fn start() -> TokenProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            upstream: Mutex::new(String::new()),
            mode: Mutex::new(Tamper::PassThrough),
            token_calls: AtomicUsize::new(0),
            last: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let s = s.clone();
                    std::thread::spawn(move || {
                        let _ = proxy_one(stream, &s);
                    });
                }
            }
        });
        TokenProxy {
            url,
            shared,
            accept: Some(accept),
        }
    }

    /// Its URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Forwards to `url` (`http://host:port`) from now on.
    pub fn set_upstream(&self, url: &str) {
        let hostport = url
            .strip_prefix("http://")
            .unwrap_or(url)
            .trim_end_matches('/');
        *self.shared.upstream.lock().unwrap() = hostport.to_string();
    }

    /// Tampers with the token endpoint's answers from now on.
    pub fn set_mode(&self, mode: Tamper) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// How many token requests it has forwarded.
    pub fn token_calls(&self) -> usize {
        self.shared.token_calls.load(Ordering::SeqCst)
    }

    /// The last `id_token` it rewrote: (the provider's, the one it sent instead).
    pub fn last_rewrite(&self) -> Option<(String, String)> {
        self.shared.last.lock().unwrap().clone()
    }
}

impl Drop for TokenProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop up, which then sees `stop`.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// An HTTP message head: the start line and the headers, in order.
struct Head {
    start: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The head as sent on: hop-by-hop and length headers replaced by `Connection: close`
    /// and the length of `body` (kept as is for a body-less answer to HEAD).
    fn write(&self, w: &mut impl Write, body: &[u8], head_request: bool) -> std::io::Result<()> {
        let mut out = format!("{}\r\n", self.start);
        for (k, v) in &self.headers {
            let k_l = k.to_ascii_lowercase();
            let hop = [
                "connection",
                "keep-alive",
                "proxy-connection",
                "transfer-encoding",
            ];
            if hop.contains(&k_l.as_str()) || (k_l == "content-length" && !head_request) {
                continue;
            }
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if !head_request {
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        out.push_str("Connection: close\r\n\r\n");
        w.write_all(out.as_bytes())?;
        w.write_all(body)
    }
}

fn read_head(r: &mut impl BufRead) -> std::io::Result<Head> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let start = line.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            break;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok(Head { start, headers })
}

/// Reads a body framed by `head`; `to_eof` when neither length nor chunks frame it (an
/// answer on a connection that closes).
fn read_body(r: &mut impl BufRead, head: &Head, to_eof: bool) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if head
        .get("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        let mut line = String::new();
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let n =
                usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16).unwrap_or(0);
            if n == 0 {
                // Trailers, up to the empty line.
                while r.read_line(&mut line)? > 0 && !line.trim().is_empty() {
                    line.clear();
                }
                break;
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = head.get("content-length").and_then(|n| n.parse().ok()) {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else if to_eof {
        r.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// Serves one connection: one request forwarded, its answer (maybe rewritten) sent back.
fn proxy_one(client: TcpStream, s: &Shared) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut from_client = BufReader::new(client.try_clone()?);
    let req = read_head(&mut from_client)?;
    if req.start.is_empty() {
        return Ok(()); // the wake-up connection of Drop, or a client that gave up
    }
    let req_body = read_body(&mut from_client, &req, false)?;
    let mut parts = req.start.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let is_head = method.eq_ignore_ascii_case("HEAD");
    let is_token =
        method.eq_ignore_ascii_case("POST") && target.split('?').next() == Some("/token");
    let mut client = client;

    let upstream = s.upstream.lock().unwrap().clone();
    let Ok(up) = TcpStream::connect(&upstream) else {
        let msg = format!("the OIDC provider at {upstream:?} is down");
        let head = Head {
            start: "HTTP/1.1 502 Bad Gateway".into(),
            headers: vec![("Content-Type".into(), "text/plain".into())],
        };
        return head.write(&mut client, msg.as_bytes(), false);
    };
    up.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut to_up = up.try_clone()?;
    req.write(&mut to_up, &req_body, false)?;
    let mut from_up = BufReader::new(up);
    let answer = read_head(&mut from_up)?;
    let status: u16 = answer
        .start
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let bodyless = is_head || status < 200 || status == 204 || status == 304;
    let mut body = if bodyless {
        Vec::new()
    } else {
        read_body(&mut from_up, &answer, true)?
    };
    if is_token {
        s.token_calls.fetch_add(1, Ordering::SeqCst);
        let mode = s.mode.lock().unwrap().clone();
        match mode {
            Tamper::PassThrough => {}
            Tamper::Delay(d) => std::thread::sleep(d),
            Tamper::FlipSignature | Tamper::Replace(_) => {
                if let Ok(mut v) = serde_json::from_slice::<Value>(&body) {
                    if let Some(original) = v["id_token"].as_str().map(str::to_string) {
                        let sent = match mode {
                            Tamper::Replace(t) => t,
                            _ => flip_signature(&original),
                        };
                        v["id_token"] = json!(sent);
                        body = serde_json::to_vec(&v).unwrap();
                        *s.last.lock().unwrap() = Some((original, sent));
                    }
                }
            }
        }
    }
    answer.write(&mut client, &body, is_head)
}
