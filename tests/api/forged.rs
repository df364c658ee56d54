//! Forged requests next to honest ones, for each way a request could claim more than it is: a
//! user header from someone other than the trusted proxy, a header next to a read-only or wrong
//! login, a probe path that only ends like one, a host name reached through DNS rebinding, a
//! forwarded prefix that leaves the site, and a Redis password in a `unix://` URL. Each refusal
//! leaves Redis as it was.

use rqdash::config::Settings;

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

/// `Basic` credentials for `user:pass`.
fn basic(user: &str, pass: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
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
