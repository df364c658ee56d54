//! Forged requests next to honest ones, for each way a request could claim more than it is: a
//! user header from someone other than the trusted proxy, a header next to a read-only or wrong
//! login, a probe path that only ends like one, a host name reached through DNS rebinding, a
//! forwarded prefix that leaves the site, a single sign-on session cookie sealed with another key,
//! and a Redis password in a `unix://` URL. Each refusal
//! leaves Redis as it was.

use rqdash::config::Settings;

use crate::support::http::basic;
use crate::support::{http, Rq, TestApp, TestRedis};

fn status_of(redis: &TestRedis, id: &str) -> Option<String> {
    redis::cmd("HGET")
        .arg(format!("rq:job:{id}"))
        .arg("status")
        .query(&mut redis.conn())
        .unwrap()
}

/// The status of a POST sent with `headers` and, as a page of the dashboard's own would, its
/// `Origin` (so what is tested is the login, not the form token).
fn post(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> u16 {
    app.post(path, headers).status
}

fn with_logins(url: &str) -> Settings {
    let mut s = Settings::for_url(url);
    s.auth = Some(rqdash::config::Credentials {
        username: "ops".into(),
        password: "ops-password".into(),
    });
    s.readonly_auth = Some(rqdash::config::Credentials {
        username: "viewer".into(),
        password: "viewer-password".into(),
    });
    s.auth_header = Some("X-Forwarded-User".into());
    s.trust_proxy = true;
    s
}

#[test]
fn a_user_header_is_believed_only_from_the_trusted_proxy_and_never_over_a_login() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    // The proxy is elsewhere: requests from this host (the test) are not the proxy's.
    let mut s = with_logins(&redis.url());
    s.trusted_proxies = vec!["10.9.9.9/32".parse().unwrap()];
    let app = TestApp::spawn(s);
    let forged = [("X-Forwarded-User", "x")];
    assert_eq!(
        post(&app, "/requeue/default", &forged),
        401,
        "a forged header alone"
    );
    let viewer = basic("viewer", "viewer-password");
    let ro = [
        ("X-Forwarded-User", "x"),
        ("Authorization", viewer.as_str()),
    ];
    assert_eq!(
        post(&app, "/requeue/default", &ro),
        403,
        "the read-only login plus a header"
    );
    assert_eq!(status_of(&redis, "job-failed-1").as_deref(), Some("failed"));
    let ops = basic("ops", "ops-password");
    assert_eq!(
        post(
            &app,
            "/0/job/job-failed-1/requeue",
            &[("Authorization", ops.as_str())]
        ),
        200
    );
    drop(app);

    // The proxy is on this host (the default): its header names the user, but still never lifts
    // a read-only or wrong login sent with it.
    let app = TestApp::spawn(with_logins(&redis.url()));
    assert_eq!(post(&app, "/0/job/job-failed-2/requeue", &ro), 403);
    let wrong = basic("ops", "guess");
    let bad = [("X-Forwarded-User", "x"), ("Authorization", wrong.as_str())];
    assert_eq!(post(&app, "/0/job/job-failed-2/requeue", &bad), 401);
    assert_eq!(status_of(&redis, "job-failed-2").as_deref(), Some("failed"));
    assert_eq!(
        post(
            &app,
            "/0/job/job-failed-2/requeue",
            &[("X-Forwarded-User", "alice")]
        ),
        200
    );

    // Without --trust-proxy the header is not taken at all: the settings say so at start.
    let err = Settings::from_cli(<rqdash::config::Cli as clap::Parser>::parse_from([
        "rqdash",
        "--auth-header",
        "X-Forwarded-User",
    ]))
    .unwrap_err();
    assert!(err.contains("--trust-proxy"), "{err}");
}

#[test]
fn public_probes_open_the_two_probe_paths_and_nothing_that_ends_like_them() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let made = rq.counted_failed(&redis.url(), "metrics", 3, "m-", &[]);
    assert_eq!(made["ids"].as_array().unwrap().len(), 3);
    let mut s = with_logins(&redis.url());
    s.auth_header = None;
    s.trust_proxy = false;
    s.public_probes = true;
    let app = TestApp::spawn(s);
    assert_eq!(post(&app, "/requeue/metrics", &[]), 401);
    assert_eq!(post(&app, "/0/requeue/metrics", &[]), 401);
    assert_eq!(app.get("/0/view/failures/metrics").status, 401);
    assert_eq!(status_of(&redis, "m-0").as_deref(), Some("failed"));
    assert_eq!(app.get("/healthz").status, 200);
    assert_eq!(app.get("/metrics").status, 200);
    drop(app);
    // Under a URL prefix, the probes are the prefix's.
    let mut s = with_logins(&redis.url());
    s.auth_header = None;
    s.trust_proxy = false;
    s.public_probes = true;
    s.url_prefix = "/rq".into();
    let app = TestApp::spawn(s);
    assert_eq!(app.get("/rq/healthz").status, 200);
    assert_eq!(app.get("/rq/metrics").status, 200);
    assert_eq!(post(&app, "/rq/requeue/metrics", &[]), 401);
}

#[test]
fn a_host_name_the_dashboard_does_not_answer_to_is_refused() {
    let redis = TestRedis::start();
    let app = TestApp::for_redis(&redis.url());
    let port = app.address.rsplit(':').next().unwrap().to_string();
    let get = |app: &TestApp, host: &str| {
        http::request(
            "GET",
            &format!("{}/0/data/queues.json", app.address),
            &[("Host", host)],
            None,
        )
    };
    // DNS rebinding: a name that resolves to 127.0.0.1, from a page elsewhere.
    let r = get(&app, &format!("rebind.attacker.example:{port}"));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("--allowed-hosts"), "{}", r.text());
    for honest in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(get(&app, &honest).status, 200, "{honest}");
    }
    drop(app);
    let mut s = Settings::for_url(&redis.url());
    s.allowed_hosts = vec!["rq.internal".into()];
    s.public_url = Some("https://rq.example.com/dash".into());
    let app = TestApp::spawn(s);
    assert_eq!(get(&app, "rq.internal").status, 200);
    assert_eq!(get(&app, "RQ.example.com:443").status, 200);
    assert_eq!(get(&app, "evil.example").status, 400);
}

#[test]
fn a_forwarded_prefix_that_would_leave_the_site_is_ignored() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let mut s = Settings::for_url(&redis.url());
    s.trust_proxy = true;
    let app = TestApp::spawn(s);
    for (prefix, honest) in [
        ("/dash", true),
        ("//evil.example", false),
        ("/a/../../evil", false),
        ("/%2e%2e/evil", false),
    ] {
        let r = http::request(
            "GET",
            &format!("{}/0/view/queues", app.address),
            &[("X-Forwarded-Prefix", prefix)],
            None,
        );
        assert_eq!(r.status, 200);
        let body = r.text();
        let doc = scraper::Html::parse_document(&body);
        let hrefs = crate::support::html::attrs(&doc, "a[href]", "href");
        assert!(!hrefs.is_empty());
        if honest {
            assert!(hrefs.iter().any(|h| h.starts_with("/dash/")), "{hrefs:?}");
        } else {
            assert!(
                hrefs
                    .iter()
                    .all(|h| !h.starts_with("//") && !h.contains("evil")),
                "{prefix}: {:?}",
                hrefs
                    .iter()
                    .filter(|h| h.contains("evil") || h.starts_with("//"))
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn a_redis_password_in_a_unix_url_is_never_shown() {
    let redis = TestRedis::start();
    let mut s = Settings::for_url(&redis.url());
    let unix = "unix:///nonexistent/rqdash-test.sock?db=0&pass=s3cret-unix";
    s.redis.extend(Settings::for_url(unix).redis);
    let app = TestApp::spawn(s);
    for path in [
        "/0/view/queues",
        "/1/view/queues",
        "/healthz",
        "/1/data/queues.json",
        "/all",
    ] {
        let r = app.get(path);
        assert!(
            !r.text().contains("s3cret-unix"),
            "{path} ({}) shows the password",
            r.status
        );
    }
    let page = app.get("/0/view/queues").text();
    assert!(page.contains("pass=***"), "the instance is still named");
}

/// A raw POST (as curl sends it: no `Origin`, no `Sec-Fetch-Site`) to `path` with `headers`.
fn bare_post(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> http::Response {
    let mut h = vec![("Content-Type", "application/x-www-form-urlencoded")];
    h.extend_from_slice(headers);
    http::request("POST", &format!("{}{path}", app.address), &h, Some(b""))
}

/// The form token `/0/data/token.json` gives to a request with `headers`.
fn token_of(app: &TestApp, headers: &[(&str, &str)]) -> String {
    let r = http::request(
        "GET",
        &format!("{}/0/data/token.json", app.address),
        headers,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.json()["csrf_token"].as_str().unwrap().to_string()
}

#[test]
fn a_post_without_origin_needs_the_users_own_form_token() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let app = TestApp::spawn(with_logins(&redis.url()));
    let ops = basic("ops", "ops-password");
    let login = [("Authorization", ops.as_str())];
    // No Origin, no Sec-Fetch-Site, no token: refused, whoever signs in.
    let r = bare_post(&app, "/0/job/job-failed-1/requeue", &login);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("token"), "{}", r.text());
    assert_eq!(status_of(&redis, "job-failed-1").as_deref(), Some("failed"));

    // Tokens differ per user, and the page's token is the one token.json gives.
    let alice = [("X-Forwarded-User", "alice")];
    let bob = [("X-Forwarded-User", "bob")];
    let (t_ops, t_alice, t_bob) = (
        token_of(&app, &login),
        token_of(&app, &alice),
        token_of(&app, &bob),
    );
    assert_ne!(t_alice, t_bob);
    assert_ne!(t_ops, t_alice);
    let page = http::request(
        "GET",
        &format!("{}/0/view/queues", app.address),
        &alice,
        None,
    );
    let meta = crate::support::html::attrs(
        &scraper::Html::parse_document(&page.text()),
        "meta[name=csrf-token]",
        "content",
    );
    assert_eq!(meta, vec![t_alice.clone()]);

    // Another user's token is refused; a made-up one too; one's own works.
    let with = |who: &[(&'static str, &'static str)], t: &str| {
        let mut h: Vec<(&str, &str)> = who.to_vec();
        h.push(("X-CSRF-Token", t));
        bare_post(&app, "/0/job/job-failed-1/requeue", &h).status
    };
    assert_eq!(with(&bob, &t_alice), 403, "alice's token sent by bob");
    assert_eq!(with(&bob, "0123456789abcdef"), 403, "a made-up token");
    assert_eq!(status_of(&redis, "job-failed-1").as_deref(), Some("failed"));
    assert_eq!(with(&bob, &t_bob), 200, "bob's own token");
    assert_eq!(status_of(&redis, "job-failed-1").as_deref(), Some("queued"));
    let mut h = login.to_vec();
    h.push(("X-CSRF-Token", t_ops.as_str()));
    assert_eq!(
        bare_post(&app, "/0/job/job-failed-2/requeue", &h).status,
        200,
        "a script with the token from token.json"
    );
}

/// Where the trusted proxy is, for a combination of flags.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Proxy {
    /// No `--auth-header`.
    Off,
    /// `--auth-header`, the proxy on this host (requests from the test are the proxy's).
    Here,
    /// `--auth-header`, the proxy elsewhere (requests from the test are not the proxy's).
    Elsewhere,
}

/// The single sign-on session cookie a request carries.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Session {
    /// None.
    None,
    /// Sam's, sealed with the dashboard's `--secret-key`.
    Honest,
    /// Sam's, sealed with another key (what anyone without the secret can make).
    Forged,
}

/// The flags of one combination: full login, read-only login, users file, proxy, policy, single
/// sign-on.
type Combo = (bool, bool, bool, Proxy, bool, bool);

/// What a combination of login flags should make of a request with optional basic credentials,
/// an `X-Forwarded-User: alice` header and a session cookie: the user and whether they may only
/// look, or the refusal's status (for a page: single sign-on sends it to the sign-in, 303). Written
/// from the README's rules, not from the code.
fn expected(
    (full, ro, users, proxy, policy, sso): Combo,
    creds: Option<(&str, &str)>,
    header: bool,
    session: Session,
    page: bool,
) -> Result<(&'static str, bool), u16> {
    let passwords = full || users;
    let any = passwords || proxy != Proxy::Off || sso;
    let refused: u16 = if sso && page {
        303
    } else if passwords || sso {
        401
    } else {
        403
    };
    let who: Result<(&'static str, bool), u16> = if !any {
        Ok(("anonymous", false))
    } else if let Some(c) = creds {
        match c {
            ("ops", "ops-password") if full => Ok(("ops", false)),
            ("viewer", "viewer-password") if ro => Ok(("viewer", true)),
            ("carol", "carol pass") if users => Ok(("carol", false)),
            // A wrong or unknown login decides alone, whatever header or cookie comes with it.
            _ => Err(refused),
        }
    } else if sso && session == Session::Honest {
        Ok(("sam", false))
    } else if header && proxy == Proxy::Here {
        Ok(("alice", false))
    } else {
        Err(refused)
    };
    let who = who?;
    // The policy: ops, carol, alice and sam are admins, viewer views; nobody else has a role.
    if policy && !["ops", "carol", "alice", "sam", "viewer"].contains(&who.0) {
        return Err(403);
    }
    Ok(who)
}

/// A request of the matrix: basic credentials, an `X-Forwarded-User` header, a session cookie.
type Request = (Option<(&'static str, &'static str)>, bool, Session);

/// The `Cookie` header of `session` for a dashboard sealing with `secret`.
fn session_cookie(session: Session, secret: &str) -> Option<String> {
    let key = match session {
        Session::None => return None,
        Session::Honest => secret,
        Session::Forged => "a key the attacker chose, not the dashboard's",
    };
    let oidc = rqdash::oidc::Oidc::new(
        rqdash::oidc::Config {
            issuer: "http://127.0.0.1:1".into(),
            client_id: "rqdash".into(),
            client_secret: None,
            groups_claim: "groups".into(),
            scopes: vec![],
            session: std::time::Duration::from_secs(3600),
            public_url: "http://127.0.0.1".into(),
            cookie_path: String::new(),
        },
        key,
    );
    let sam = rqdash::oidc::Session {
        user: "sam".into(),
        groups: vec![],
        expires: u64::try_from(chrono::Utc::now().timestamp()).unwrap() + 3600,
        hint: None,
    };
    let c = oidc.session_cookie(&sam);
    Some(format!("{}={}", c.name(), c.value()))
}

#[test]
fn every_combination_of_login_flags_refuses_forged_requests_and_serves_honest_ones() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let dir = crate::support::process::TempDir::new("logins");
    let users = dir.path().join("users");
    // Written by `htpasswd -nbB -C 5 carol 'carol pass'`.
    std::fs::write(
        &users,
        "carol:$2y$05$WMxiKCB90lutJ0D1nfDJWuFmPlFkzAMvzr9WoRuDN222wR0l7ZQRO\n",
    )
    .unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[role]]\nname = \"admin\"\nactions = \"*\"\nusers = [\"ops\", \"carol\", \"alice\", \"sam\"]\n\n[[role]]\nname = \"viewer\"\nactions = [\"view\"]\nusers = [\"viewer\"]\n",
    )
    .unwrap();
    const SECRET: &str = "the dashboard's own secret key";
    let requests: [Request; 11] = [
        (None, false, Session::None),
        (None, true, Session::None),
        (Some(("ops", "guess")), true, Session::None),
        (Some(("viewer", "viewer-password")), true, Session::None),
        (Some(("ops", "ops-password")), false, Session::None),
        (Some(("carol", "carol pass")), false, Session::None),
        (Some(("viewer", "viewer-password")), false, Session::None),
        (None, false, Session::Honest),
        (None, true, Session::Forged),
        (Some(("ops", "guess")), false, Session::Honest),
        (Some(("viewer", "viewer-password")), false, Session::Honest),
    ];
    let mut combos = 0;
    for full in [false, true] {
        for ro in [false, true] {
            for with_users in [false, true] {
                for proxy in [Proxy::Off, Proxy::Here, Proxy::Elsewhere] {
                    for (with_policy, sso) in
                        [(false, false), (true, false), (false, true), (true, true)]
                    {
                        if ro && !full && !with_users {
                            continue; // refused at start: a read-only login needs a full one
                        }
                        combos += 1;
                        let mut args: Vec<String> = ["rqdash", "-u", &redis.url(), "-p", "0"]
                            .iter()
                            .map(|s| s.to_string())
                            .collect();
                        let mut add = |a: &[&str]| args.extend(a.iter().map(|s| s.to_string()));
                        add(&["--http-workers", "1"]);
                        if full {
                            add(&["--username", "ops", "--password", "ops-password"]);
                        }
                        if ro {
                            add(&["--readonly-username", "viewer"]);
                            add(&["--readonly-password", "viewer-password"]);
                        }
                        if with_users {
                            add(&["--users-file", users.to_str().unwrap()]);
                        }
                        if proxy != Proxy::Off {
                            add(&["--auth-header", "X-Forwarded-User", "--trust-proxy"]);
                        }
                        if proxy == Proxy::Elsewhere {
                            add(&["--trusted-proxies", "10.9.9.9/32"]);
                        }
                        if with_policy {
                            add(&["--policy", policy.to_str().unwrap()]);
                        }
                        if sso {
                            add(&["--oidc-issuer", "http://127.0.0.1:1", "--oidc-client-id"]);
                            add(&["rqdash", "--public-url", "http://127.0.0.1"]);
                            add(&["--secret-key", SECRET]);
                        }
                        let cli = <rqdash::config::Cli as clap::Parser>::parse_from(&args);
                        let app = TestApp::spawn(Settings::from_cli(cli).unwrap());
                        let combo = (full, ro, with_users, proxy, with_policy, sso);
                        for (creds, header, session) in requests {
                            let auth = creds.map(|(u, p)| basic(u, p));
                            let cookie = session_cookie(session, SECRET);
                            let mut h: Vec<(&str, &str)> = Vec::new();
                            if let Some(a) = &auth {
                                h.push(("Authorization", a));
                            }
                            if header {
                                h.push(("X-Forwarded-User", "alice"));
                            }
                            if let Some(c) = &cookie {
                                h.push(("Cookie", c));
                            }
                            let what =
                                format!("{combo:?} {creds:?} header={header} session={session:?}");
                            let want = expected(combo, creds, header, session, true);
                            let page = http::request(
                                "GET",
                                &format!("{}/0/view/queues", app.address),
                                &h,
                                None,
                            );
                            match want {
                                Ok((user, _)) => {
                                    assert_eq!(page.status, 200, "GET {what}: {}", page.text());
                                    if user != "anonymous" {
                                        assert!(
                                            page.text()
                                                .contains(&format!("<strong>{user}</strong>")),
                                            "GET {what}: signed in as {user}"
                                        );
                                    }
                                }
                                Err(s) => assert_eq!(page.status, s, "GET {what}"),
                            }
                            // An action on a job that does not exist: 404 once it reaches the
                            // handler, so nothing changes whatever the answer.
                            let r = app.post("/0/job/no-such-job/requeue", &h);
                            let want_post = match expected(combo, creds, header, session, false) {
                                Ok((_, true)) => 403,
                                Ok(_) => 404,
                                Err(s) => s,
                            };
                            assert_eq!(r.status, want_post, "POST {what}: {}", r.text());
                        }
                    }
                }
            }
        }
    }
    assert_eq!(combos, 84);
    assert_eq!(status_of(&redis, "job-failed-1").as_deref(), Some("failed"));
}
