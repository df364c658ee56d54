//! Single sign-on (`--oidc-issuer`) against a real OpenID provider (the npm `oidc-provider`
//! package, started by `support::oidc`), on data written by real RQ: sign-in with a group that
//! a `--policy` role maps to (and enforced), the session accepted by a second replica that shares
//! the secret and by no other, sign-out at the provider too, and the refusals: a replayed
//! state, a wrong nonce, a bad signature, a wrong audience, an expired token, a provider that is
//! down, a tampered session cookie. Key rotation at the provider is followed. The browser half
//! (Chromium) is at the end: sign-in, the role, a second replica and sign-out, and each refusal
//! on its page.

use std::net::TcpListener;
use std::time::Duration;

use crate::support::http;
use crate::support::oidc::{
    login_over_http, query_params, token_for, Client, Provider, ProviderConfig, Tamper, User,
};
use crate::support::process::TempDir;
use crate::support::{Rq, TestApp, TestRedis};

/// The policy of these tests: `ops-eu` operates the eu-* queues; `ops` views everything.
pub const POLICY: &str = r#"
default_roles = []

[[role]]
name = "eu-operator"
actions = ["view", "requeue", "bulk"]
queues = ["eu-*"]
groups = ["ops-eu"]

[[role]]
name = "viewer"
actions = ["view"]
groups = ["ops"]
"#;

/// The shared secret of the replicas.
pub const SECRET: &str = "a-secret-every-replica-shares";

/// A free port of 127.0.0.1 for a dashboard, known before the provider registers its redirect
/// URI (so seconds before the dashboard binds it). Taken below Linux's ephemeral range (32768 and
/// up), which is where every `bind(0)` of the other tests lands, and handed out once per test
/// process, so nothing else can take it in between.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        20_000 + (std::process::id() % 500) as u16 * 20,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(port < 32_768, "no free port left below the ephemeral range");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The provider's users: erin (ops-eu), vic (ops), nobody (no group).
pub fn users() -> Vec<User> {
    vec![
        User::new("erin", "erin-pw", &["ops-eu"]),
        User::new("vic", "vic-pw", &["ops"]),
        User::new("nobody", "nobody-pw", &[]),
    ]
}

/// A client registered for a dashboard on `port` (its callback and its signed-out page).
pub fn client_for(id: &str, port: u16) -> Client {
    let mut c = Client::new(
        id,
        &format!("{id}-secret"),
        &format!("http://127.0.0.1:{port}/auth/callback"),
    );
    c.post_logout_redirect_uris = vec![format!("http://127.0.0.1:{port}/auth/signed-out")];
    c
}

/// A dashboard on `port` of Redis `url`, signing users in at `issuer` as client `client`, under
/// the policy in `dir`, its cookies sealed with `secret`.
pub fn dashboard(
    url: &str,
    port: u16,
    issuer: &str,
    client: &str,
    secret: &str,
    dir: &TempDir,
) -> TestApp {
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let cli = <rqdash::config::Cli as clap::Parser>::parse_from([
        "rqdash",
        "-u",
        url,
        "--http-workers",
        "1",
        "--oidc-issuer",
        issuer,
        "--oidc-client-id",
        client,
        "--oidc-client-secret",
        &format!("{client}-secret"),
        "--public-url",
        &format!("http://127.0.0.1:{port}"),
        "--secret-key",
        secret,
        "--policy",
        policy.to_str().unwrap(),
    ]);
    let mut s = rqdash::config::Settings::from_cli(cli).unwrap();
    s.snapshot_ttl = Duration::ZERO;
    TestApp::spawn_on(s, port)
}

/// The `name=value` of cookie `name` among an answer's `Set-Cookie`s.
fn cookie(r: &http::Response, name: &str) -> Option<String> {
    r.set_cookies
        .iter()
        .filter_map(|c| c.split(';').next())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// Starts a sign-in at `app`: the provider's address and the login cookie.
fn begin(app: &TestApp, next: &str) -> (String, String) {
    let r = app.get(&format!("/auth/login?next={next}"));
    assert_eq!(r.status, 303, "{}", r.text());
    let login = cookie(&r, "rqdash_login").expect("a login cookie");
    (r.header("location").unwrap().to_string(), login)
}

/// The callback's answer for the provider's redirect `back`, with the login cookie.
fn callback(app: &TestApp, back: &str, login: &str) -> http::Response {
    let path = back
        .split_once("/auth/callback")
        .map(|(_, q)| format!("/auth/callback{q}"))
        .unwrap_or_else(|| panic!("not a callback: {back}"));
    http::request(
        "GET",
        &format!("{}{path}", app.address),
        &[("Cookie", login)],
        None,
    )
}

/// Signs `user` in at `app` over HTTP: the session cookie.
fn sign_in(app: &TestApp, user: &str, password: &str) -> String {
    let (authorize, login) = begin(app, "/");
    let back = login_over_http(&authorize, user, password);
    let r = callback(app, &back, &login);
    assert_eq!(r.status, 303, "{}", r.text());
    cookie(&r, "rqdash_session").expect("a session cookie")
}

fn get_as(app: &TestApp, path: &str, session: &str) -> http::Response {
    http::request(
        "GET",
        &format!("{}{path}", app.address),
        &[("Cookie", session)],
        None,
    )
}

fn queue_names(app: &TestApp, session: &str) -> Vec<String> {
    let r = get_as(app, "/0/data/queues.json", session);
    assert_eq!(r.status, 200, "{}", r.text());
    let mut names: Vec<String> = r.json()["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// How many jobs RQ 2.12's failed registry of `queue` holds.
fn failed_count(redis: &TestRedis, queue: &str) -> i64 {
    redis::cmd("ZCARD")
        .arg(format!("rq:failed:{queue}"))
        .query(&mut redis.conn())
        .unwrap()
}

#[test]
fn a_group_from_the_token_maps_to_an_enforced_role_and_every_replica_with_the_secret_accepts_the_session(
) {
    // Arrange: real RQ failures in eu-1 and us-1; the provider; two replicas sharing the secret,
    // one with another secret.
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.make_jobs(&url, "eu-1", 2, "eu-f-", true);
    rq.make_jobs(&url, "us-1", 2, "us-f-", true);
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    let provider = Provider::start(ProviderConfig::new(vec![client_for("rqdash", pa)], users()));
    let dir = TempDir::new("sso");
    let a = dashboard(&url, pa, provider.issuer(), "rqdash", SECRET, &dir);
    let b = dashboard(&url, pb, provider.issuer(), "rqdash", SECRET, &dir);
    let c = dashboard(
        &url,
        pc,
        provider.issuer(),
        "rqdash",
        "another-secret-altogether",
        &dir,
    );

    // Act + Assert: without a session a page goes to the sign-in, a script gets a sentence.
    let r = a.get("/0/view/jobs");
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("/auth/login?next=%2F0%2Fview%2Fjobs")
    );
    let r = a.get("/0/data/queues.json");
    assert_eq!(r.status, 401);
    assert!(r.text().contains("/auth/login"), "{}", r.text());
    let r = http::request(
        "GET",
        &format!("{}/0/fragments/queues", a.address),
        &[("HX-Request", "true")],
        None,
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.header("hx-redirect"), Some("/auth/login"));

    // Sign-in goes to the page asked for, with PKCE and a nonce in the request.
    let (authorize, login) = begin(&a, "%2F0%2Fview%2Fjobs");
    let params = query_params(&authorize);
    let has = |k: &str| params.iter().any(|(n, v)| n == k && !v.is_empty());
    assert!(
        has("state") && has("nonce") && has("code_challenge"),
        "{authorize}"
    );
    assert!(params.contains(&("code_challenge_method".into(), "S256".into())));
    let back = login_over_http(&authorize, "erin", "erin-pw");
    let r = callback(&a, &back, &login);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/0/view/jobs"));
    let session = cookie(&r, "rqdash_session").expect("a session cookie");
    let set = r
        .set_cookies
        .iter()
        .find(|c| c.starts_with("rqdash_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(
        !set.contains("Secure"),
        "an http public URL: no Secure, or the browser drops it"
    );
    assert!(!session.contains("erin"), "the cookie is sealed: {session}");

    // Signed in as erin, whose group ops-eu maps to eu-operator: eu-* only, requeue there only.
    let page = get_as(&a, "/", &session);
    assert_eq!(page.status, 200);
    let doc = scraper::Html::parse_document(&page.text());
    let sel = scraper::Selector::parse("#signed-in").unwrap();
    let header = doc
        .select(&sel)
        .next()
        .expect("#signed-in")
        .text()
        .collect::<String>();
    assert!(header.contains("erin"), "{header}");
    assert!(page.text().contains("id=\"sign-out\""));
    assert_eq!(queue_names(&a, &session), vec!["eu-1".to_string()]);
    let post = |app: &TestApp, path: &str| {
        http::request(
            "POST",
            &format!("{}{path}", app.address),
            &[("Cookie", &session), ("Origin", &app.address)],
            Some(b""),
        )
    };
    assert_eq!(failed_count(&redis, "eu-1"), 2);
    let refused = post(&a, "/0/requeue/us-1");
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(refused.text().contains("requeue"), "{}", refused.text());
    assert_eq!(failed_count(&redis, "us-1"), 2, "refused: us-1 untouched");
    let done = post(&a, "/0/requeue/eu-1");
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(failed_count(&redis, "eu-1"), 0);

    // Replica b shares the secret: same session. Replica c does not: sign in again.
    let on_b = get_as(&b, "/", &session);
    assert_eq!(on_b.status, 200);
    assert!(on_b.text().contains("erin"));
    assert_eq!(queue_names(&b, &session), vec!["eu-1".to_string()]);
    assert_eq!(get_as(&c, "/", &session).status, 303);

    // A tampered cookie is no session.
    let (name, value) = session.split_once('=').unwrap();
    let mut bytes = value.as_bytes().to_vec();
    bytes[8] = if bytes[8] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{name}={}", String::from_utf8(bytes).unwrap());
    assert_eq!(get_as(&a, "/", &tampered).status, 303);

    // The same answer replayed: refused by the replica that used it, and by the provider
    // (through another replica: the code was already exchanged).
    let again = callback(&a, &back, &login);
    assert_eq!(again.status, 400, "{}", again.text());
    assert!(again.text().contains("already used"), "{}", again.text());
    assert!(cookie(&again, "rqdash_session").is_none());
    let elsewhere = callback(&b, &back, &login);
    assert_eq!(elsewhere.status, 401, "{}", elsewhere.text());
    assert!(cookie(&elsewhere, "rqdash_session").is_none());

    // A user whose groups map to no role is refused after signing in; vic views everything.
    let nobody = sign_in(&a, "nobody", "nobody-pw");
    let r = get_as(&a, "/", &nobody);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("nobody"), "{}", r.text());
    let vic = sign_in(&a, "vic", "vic-pw");
    assert_eq!(
        queue_names(&a, &vic),
        vec!["eu-1".to_string(), "us-1".to_string()]
    );
    assert_eq!(post_as(&a, "/0/requeue/us-1", &vic).status, 403);

    // Another site cannot sign erin out.
    let forged = http::request(
        "GET",
        &format!("{}/auth/logout", a.address),
        &[("Cookie", &session), ("Sec-Fetch-Site", "cross-site")],
        None,
    );
    assert_eq!(forged.status, 303);
    assert_eq!(forged.header("location"), Some("/"));
    assert!(
        cookie(&forged, "rqdash_session").is_none(),
        "the session stays"
    );

    // Sign-out drops the cookie and ends the session at the provider too.
    let out = get_as(&a, "/auth/logout", &session);
    assert_eq!(out.status, 303);
    let to = out.header("location").unwrap().to_string();
    let end = provider.discovery()["end_session_endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(to.starts_with(&end), "{to}");
    let p = query_params(&to);
    assert!(p.iter().any(|(k, _)| k == "id_token_hint"), "{to}");
    assert!(p.contains(&(
        "post_logout_redirect_uri".into(),
        format!("http://127.0.0.1:{pa}/auth/signed-out")
    )));
    let removal = out
        .set_cookies
        .iter()
        .find(|c| c.starts_with("rqdash_session="))
        .expect("the session cookie removed");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    let signed_out = a.get("/auth/signed-out");
    assert_eq!(signed_out.status, 200);
    assert!(signed_out.text().contains("id=\"sign-in-again\""));
}

fn post_as(app: &TestApp, path: &str, session: &str) -> http::Response {
    http::request(
        "POST",
        &format!("{}{path}", app.address),
        &[("Cookie", session), ("Origin", &app.address)],
        Some(b""),
    )
}

/// A real ID token of the provider for erin, issued to client "other" with the nonce of the
/// sign-in `authorize` starts: right issuer and signature, wrong audience.
fn foreign_token(provider: &Provider, authorize: &str) -> String {
    let nonce = query_params(authorize)
        .into_iter()
        .find(|(k, _)| k == "nonce")
        .expect("a nonce")
        .1;
    token_for(
        provider,
        "other",
        "other-secret",
        "http://127.0.0.1:9/auth/callback",
        "erin",
        "erin-pw",
        &nonce,
    )
}

/// The callback's answer after `tamper` rewrote the token answer, and no session set.
fn refused_after(
    app: &TestApp,
    provider: &Provider,
    tamper: Tamper,
    authorize: &str,
    login: &str,
) -> String {
    let back = login_over_http(authorize, "erin", "erin-pw");
    provider.proxy().set_mode(tamper);
    let r = callback(app, &back, login);
    provider.proxy().set_mode(Tamper::PassThrough);
    assert!(
        cookie(&r, "rqdash_session").is_none(),
        "no session after a refusal"
    );
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.text().contains("id=\"sign-in-again\""), "{}", r.text());
    let dropped = r
        .set_cookies
        .iter()
        .find(|c| c.starts_with("rqdash_login="));
    assert!(
        dropped.is_some_and(|c| c.contains("Max-Age=0") && c.contains("Path=/auth/")),
        "the login cookie is dropped: {:?}",
        r.set_cookies
    );
    r.text()
}

#[test]
fn tampered_expired_misaddressed_and_wrong_nonce_tokens_are_refused_and_rotated_keys_followed() {
    // Arrange: the provider behind a proxy that can rewrite its token answers; a dashboard as
    // "rqdash", one as "short" (ID tokens valid for one second), and a client "other".
    let redis = TestRedis::start();
    let url = redis.url();
    let (pa, ps) = (free_port(), free_port());
    let mut short = client_for("short", ps);
    short.id_token_ttl = Some(Duration::from_secs(1));
    let other = client_for("other", 9);
    let mut cfg = ProviderConfig::new(vec![client_for("rqdash", pa), short, other], users());
    cfg.behind_proxy = true;
    let mut provider = Provider::start(cfg);
    let dir = TempDir::new("sso-refusals");
    let a = dashboard(&url, pa, provider.issuer(), "rqdash", SECRET, &dir);
    let s = dashboard(&url, ps, provider.issuer(), "short", SECRET, &dir);

    // Act + Assert: a signature that does not verify.
    let (authorize, login) = begin(&a, "/");
    let text = refused_after(&a, &provider, Tamper::FlipSignature, &authorize, &login);
    assert!(text.contains("Signature verification failed"), "{text}");

    // A real token of the same provider for another client (same nonce): wrong audience.
    let (authorize, login) = begin(&a, "/");
    let foreign = foreign_token(&provider, &authorize);
    let text = refused_after(&a, &provider, Tamper::Replace(foreign), &authorize, &login);
    assert!(text.contains("audience"), "{text}");

    // A token that expired on its way (valid one second, answered after two).
    let (authorize, login) = begin(&s, "/");
    let text = refused_after(
        &s,
        &provider,
        Tamper::Delay(Duration::from_millis(2100)),
        &authorize,
        &login,
    );
    assert!(text.contains("Expired"), "{text}");

    // A nonce that is not the one this sign-in sent.
    let (authorize, login) = begin(&a, "/");
    let forged = authorize.replace("nonce=", "nonce=x");
    let text = refused_after(&a, &provider, Tamper::PassThrough, &forged, &login);
    assert!(text.contains("nonce"), "{text}");

    // A state that is not this browser's.
    let (authorize, _) = begin(&a, "/");
    let (_, other_login) = begin(&a, "/");
    let back = login_over_http(&authorize, "erin", "erin-pw");
    let r = callback(&a, &back, &other_login);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(cookie(&r, "rqdash_session").is_none());

    // The provider rotates its key: the next sign-in still verifies (the keys are fetched again).
    sign_in(&a, "erin", "erin-pw");
    provider.restart_with_keys(&["key-2"]);
    std::thread::sleep(rqdash::oidc::REFRESH_AT_MOST + Duration::from_millis(100));
    let session = sign_in(&a, "erin", "erin-pw");
    assert_eq!(get_as(&a, "/", &session).status, 200);
}

#[test]
fn a_provider_that_is_down_gets_a_page_that_says_so_and_bad_flags_a_sentence() {
    // Arrange: nothing listens at the issuer.
    let redis = TestRedis::start();
    let port = free_port();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let dir = TempDir::new("sso-down");
    let app = dashboard(&redis.url(), port, &dead, "rqdash", SECRET, &dir);

    // Act
    let r = app.get("/auth/login");

    // Assert
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("could not be reached"), "{}", r.text());
    assert!(r.text().contains("id=\"sign-in-again\""));
    let r = app.get("/auth/callback?code=x&state=y");
    assert_eq!(r.status, 400, "{}", r.text());
    // The sign-in pages are drawn with the stylesheet, scripts and icon, the same for everybody:
    // they answer without a session, and a subresource never starts a sign-in of its own (its
    // login cookie would replace the one of the sign-in in progress).
    let page = app.get("/auth/signed-out").text();
    let css = page
        .split('"')
        .find(|p| p.contains("/static/") && p.contains(".css"))
        .expect("a stylesheet link")
        .to_string();
    assert_eq!(app.get(&css).status, 200, "{css}");
    assert_eq!(app.get("/favicon.ico").status, 200);
    let icon = http::request(
        "GET",
        &format!("{}/0/view/queues", app.address),
        &[("Sec-Fetch-Dest", "image")],
        None,
    );
    assert_eq!(icon.status, 401);
    assert!(cookie(&icon, "rqdash_login").is_none());
    assert_eq!(
        app.get("/0/view/queues").status,
        303,
        "a page still goes to the sign-in"
    );

    // Flags: each missing piece is named.
    let parse = |extra: &[&str]| {
        let mut args = vec!["rqdash", "--oidc-issuer", "https://login.example.com"];
        args.extend_from_slice(extra);
        rqdash::config::Settings::from_cli(<rqdash::config::Cli as clap::Parser>::parse_from(args))
            .err()
            .unwrap_or_default()
    };
    assert!(parse(&[]).contains("--oidc-client-id"));
    assert!(parse(&["--oidc-client-id", "x"]).contains("--public-url"));
    assert!(parse(&[
        "--oidc-client-id",
        "x",
        "--public-url",
        "https://rq.example.com"
    ])
    .contains("--secret-key"));
    // Without --oidc-issuer the sign-in pages are absent.
    let plain = TestApp::for_redis(&redis.url());
    assert_eq!(plain.get("/auth/login").status, 404);
}

/// Waits for `css` to show (with `text` in it), or fails with where the browser is and what it
/// shows.
fn wait_shown(browser: &crate::support::browser::Browser, css: &str, text: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if browser.text(css).is_some_and(|t| t.contains(text)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let at = browser.eval("return location.href + '\\n' + document.body.innerText;");
    panic!("{css} ({text:?}) never showed; the browser is at {at}");
}

/// The current page's path in the browser.
fn path_of(browser: &crate::support::browser::Browser) -> String {
    browser
        .eval("return location.pathname + location.search;")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn single_sign_on_in_chromium_shows_the_user_enforces_their_role_and_signs_out() {
    // Arrange
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.make_jobs(&url, "eu-1", 2, "eu-f-", true);
    rq.make_jobs(&url, "us-1", 2, "us-f-", true);
    let (pa, pb) = (free_port(), free_port());
    let provider = Provider::start(ProviderConfig::new(vec![client_for("rqdash", pa)], users()));
    let dir = TempDir::new("sso-browser");
    let a = dashboard(&url, pa, provider.issuer(), "rqdash", SECRET, &dir);
    let b = dashboard(&url, pb, provider.issuer(), "rqdash", SECRET, &dir);
    let shots = crate::browser::screenshot_dir();
    let browser = crate::support::browser::Browser::start();

    // Act: open a queue's failed jobs; the provider's sign-in page comes first.
    browser.goto(&format!("{}/0/view/jobs/eu-1/failed/8/asc/1", a.address));
    wait_shown(&browser, "#login-form", "");
    browser.eval(
        "document.getElementById('login').value = 'erin';
         document.getElementById('password').value = 'erin-pw'; return null;",
    );
    browser.screenshot(&shots.join("sign-in.png"));
    browser.click("#sign-in");

    // Assert: back on the page asked for, signed in as erin.
    wait_shown(&browser, "#signed-in", "erin");
    assert_eq!(path_of(&browser), "/0/view/jobs/eu-1/failed/8/asc/1");
    browser.screenshot(&shots.join("signed-in.png"));
    // The role from the group: eu-1 is there with its requeue button, us-1 is absent.
    browser.goto(&format!("{}/", a.address));
    let overview = browser.eval("return document.body.innerText;");
    let overview = overview.as_str().unwrap();
    assert!(overview.contains("eu-1"), "{overview}");
    assert!(!overview.contains("us-1"), "{overview}");
    browser.goto(&format!("{}/0/view/jobs/us-1/failed/8/asc/1", a.address));
    assert!(browser.text("#error").is_some(), "us-1 is hidden from erin");
    // The second replica takes the session as it is.
    browser.goto(&format!("{}/", b.address));
    wait_shown(&browser, "#signed-in", "erin");

    // Sign out: the provider asks to confirm, then sends the browser back.
    browser.goto(&format!("{}/", a.address));
    browser.click("#sign-out");
    wait_shown(&browser, "#sign-out-confirm", "");
    browser.click("#sign-out-confirm");
    wait_shown(&browser, "#sign-in-again", "");
    assert!(path_of(&browser).starts_with("/auth/signed-out"));
    browser.screenshot(&shots.join("signed-out.png"));
    // The dashboard asks for a sign-in again, and so does the provider (its session ended).
    browser.goto(&format!("{}/", a.address));
    wait_shown(&browser, "#login-form", "");
}

/// Signs erin in at the provider in the browser from the login form on screen.
fn sign_in_in_browser(browser: &crate::support::browser::Browser) {
    wait_shown(browser, "#login-form", "");
    browser.eval(
        "document.getElementById('login').value = 'erin';
         document.getElementById('password').value = 'erin-pw'; return null;",
    );
    browser.click("#sign-in");
}

/// Gives the browser the login cookie of a sign-in started over HTTP (the page must be on the
/// dashboard's origin).
fn hand_over(browser: &crate::support::browser::Browser, login: &str) {
    browser.eval(&format!(
        "document.cookie = '{login}; path=/auth/'; return null;"
    ));
}

#[test]
fn in_chromium_a_bad_signature_a_wrong_audience_an_expired_token_a_wrong_nonce_and_a_replayed_state_each_get_a_page_that_says_so(
) {
    // Arrange: the provider behind its rewriting proxy; a dashboard as "rqdash" and one as
    // "short" (ID tokens valid one second).
    let redis = TestRedis::start();
    let url = redis.url();
    let (pa, ps) = (free_port(), free_port());
    let mut short = client_for("short", ps);
    short.id_token_ttl = Some(Duration::from_secs(1));
    let mut cfg = ProviderConfig::new(
        vec![client_for("rqdash", pa), short, client_for("other", 9)],
        users(),
    );
    cfg.behind_proxy = true;
    let provider = Provider::start(cfg);
    let dir = TempDir::new("sso-browser-refusals");
    let a = dashboard(&url, pa, provider.issuer(), "rqdash", SECRET, &dir);
    let s = dashboard(&url, ps, provider.issuer(), "short", SECRET, &dir);
    let browser = crate::support::browser::Browser::start();
    let refused = |app: &TestApp, tamper: Tamper, says: &str| {
        provider.proxy().set_mode(tamper);
        browser.goto(&format!("{}/", app.address));
        sign_in_in_browser(&browser);
        wait_shown(&browser, "#auth-message", says);
        provider.proxy().set_mode(Tamper::PassThrough);
        assert!(browser.text("#signed-in").is_none());
        // The provider's own session stays: sign out there, so the next case signs in anew.
        browser.goto(&format!("{}/auth/logout", app.address));
        wait_shown(&browser, "#sign-out-confirm", "");
        browser.click("#sign-out-confirm");
        wait_shown(&browser, "#sign-in-again", "");
    };

    // Act + Assert: each refusal, on a page.
    refused(&a, Tamper::FlipSignature, "Signature verification failed");
    browser.screenshot(&crate::browser::screenshot_dir().join("sign-in-refused.png"));
    refused(&s, Tamper::Delay(Duration::from_millis(2100)), "Expired");
    // Another client's real token, with this sign-in's nonce.
    let (authorize, login) = begin(&a, "/");
    let foreign = foreign_token(&provider, &authorize);
    browser.goto(&format!("{}/auth/signed-out", a.address));
    hand_over(&browser, &login);
    provider.proxy().set_mode(Tamper::Replace(foreign));
    browser.goto(&authorize);
    sign_in_in_browser(&browser);
    wait_shown(&browser, "#auth-message", "audience");
    provider.proxy().set_mode(Tamper::PassThrough);
    // A nonce that is not the one sent.
    let (authorize, login) = begin(&a, "/");
    browser.goto(&format!("{}/auth/signed-out", a.address));
    hand_over(&browser, &login);
    browser.goto(&authorize.replace("nonce=", "nonce=x"));
    // The provider may still know erin (no form then) or ask again.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while browser.text("#auth-message").is_none() && std::time::Instant::now() < deadline {
        if browser.text("#login-form").is_some() {
            sign_in_in_browser(&browser);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_shown(&browser, "#auth-message", "nonce");
    // A callback used once, then replayed with the same login cookie.
    let (authorize, login) = begin(&a, "/");
    let back = login_over_http(&authorize, "erin", "erin-pw");
    browser.goto(&format!("{}/auth/signed-out", a.address));
    hand_over(&browser, &login);
    browser.goto(&back);
    wait_shown(&browser, "#signed-in", "erin");
    hand_over(&browser, &login);
    browser.goto(&back);
    wait_shown(&browser, "#auth-message", "already used");
}
