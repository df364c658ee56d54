//! Test support: a private redis-server, real RQ, the dashboard on a free port, an HTTP client,
//! HTML helpers, a WebDriver client for headless Chromium and a real OpenID provider.

#![allow(dead_code)]

pub mod browser;
pub mod html;
pub mod http;
pub mod nginx;
pub mod oidc;
pub mod process;
pub mod redis;
pub mod rq;
pub mod rq_newer;
pub mod snapshot;
pub mod webhook;

use rqdash::config::Settings;
use rqdash::startup::Application;
use std::time::{Duration, Instant};

pub use self::redis::TestRedis;
pub use self::rq::Rq;

/// A dashboard served on a free port by its own thread and actix system.
pub struct TestApp {
    /// `http://127.0.0.1:port`.
    pub address: String,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestApp {
    /// Serves `settings` (its port is forced to 0).
    pub fn spawn(settings: Settings) -> TestApp {
        TestApp::spawn_on(settings, 0)
    }

    /// Serves `settings` on `port` of 127.0.0.1 (a replica behind a proxy, restarted on the
    /// same port).
    pub fn spawn_on(mut settings: Settings, port: u16) -> TestApp {
        settings.port = port;
        settings.bind = "127.0.0.1".into();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(settings).expect("build app");
                let port = app.port();
                let server = app.server();
                tx.send((port, server.handle())).unwrap();
                server.await.unwrap();
            })
        });
        let (port, handle) = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("app starts");
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            handle,
            thread: Some(thread),
        }
    }

    /// Serves one Redis with default settings.
    pub fn for_redis(url: &str) -> TestApp {
        TestApp::spawn(Settings::for_url(url))
    }

    /// GET `path`.
    pub fn get(&self, path: &str) -> http::Response {
        http::get(&format!("{}{path}", self.address))
    }

    /// HEAD `path`.
    pub fn head(&self, path: &str) -> http::Response {
        http::head(&format!("{}{path}", self.address))
    }

    /// POST `path` with `headers` and an empty form body.
    ///
    /// Without an `Origin`, `Sec-Fetch-Site` or `X-CSRF-Token` among `headers` it sends the
    /// `Origin` a browser on the dashboard's own page would (a bare script must send a token).
    pub fn post(&self, path: &str, headers: &[(&str, &str)]) -> http::Response {
        let mut h = vec![("Content-Type", "application/x-www-form-urlencoded")];
        let own = ["origin", "sec-fetch-site", "x-csrf-token"];
        if !headers
            .iter()
            .any(|(k, _)| own.contains(&k.to_ascii_lowercase().as_str()))
        {
            h.push(("Origin", &self.address));
        }
        h.extend_from_slice(headers);
        http::request("POST", &format!("{}{path}", self.address), &h, Some(b""))
    }

    /// POST `path` as the dashboard's own page would (its `Origin`), expecting 200 and `"status": "OK"`.
    pub fn act(&self, path: &str) -> serde_json::Value {
        let r = self.post(path, &[]);
        assert_eq!(r.status, 200, "POST {path}: {}", r.text());
        let v = r.json();
        assert_eq!(v["status"], "OK", "POST {path}: {v}");
        v
    }

    /// POSTs a bulk action and waits for it: the answer of a small one, or the final state of
    /// the background task of a big one. Either way `done` says how many jobs it acted on.
    pub fn bulk(&self, path: &str) -> serde_json::Value {
        let r = self.post(path, &[]);
        match r.status {
            200 => {
                let mut v = r.json();
                v["done"] = v["count"].clone();
                v
            }
            202 => {
                let id = r.json()["task"].as_u64().unwrap();
                wait_for(Duration::from_secs(300), "the bulk task to end", || {
                    let t = self.json(&format!("/0/data/tasks/{id}.json"));
                    (t["state"] != "running").then_some(t)
                })
            }
            s => panic!("POST {path}: {s} {}", r.text()),
        }
    }

    /// GET `path`, expecting 200 and JSON.
    pub fn json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.json()
    }

    /// GET `path`, expecting 200 and HTML, parsed.
    pub fn html(&self, path: &str) -> scraper::Html {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        assert!(r
            .header("content-type")
            .unwrap_or("")
            .starts_with("text/html"));
        scraper::Html::parse_document(&r.text())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let h = self.handle.clone();
        let stop = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(h.stop(false));
        });
        let _ = stop.join();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A test environment: a private Redis seeded by real RQ `version`, and a dashboard on it.
pub struct Seeded {
    /// The Redis.
    pub redis: TestRedis,
    /// RQ of this version.
    pub rq: Rq,
    /// The seed's answer (ids by role).
    pub seed: serde_json::Value,
    /// The dashboard.
    pub app: TestApp,
}

impl Seeded {
    /// Seeds with RQ `version` and starts the dashboard.
    pub fn new(version: &'static str) -> Seeded {
        Seeded::with(Rq::new(version))
    }

    /// Seeds with the given RQ and starts the dashboard.
    pub fn with(rq: Rq) -> Seeded {
        let redis = TestRedis::start();
        let seed = rq.seed(&redis.url());
        let app = TestApp::for_redis(&redis.url());
        Seeded {
            redis,
            rq,
            seed,
            app,
        }
    }

    /// What RQ's API reports now.
    pub fn oracle(&self) -> serde_json::Value {
        self.rq.oracle(&self.redis.url())
    }
}

/// True for the history's and statistics' own keys (the README's table): what the background
/// rounds write under `rqdash:<prefix>:`, besides tasks and alerts.
pub fn is_history_key(k: &str) -> bool {
    [
        "rqdash:rq:hist:",
        "rqdash:rq:stats:",
        "rqdash:rq:lease:history",
    ]
    .iter()
    .any(|p| k.starts_with(p))
}

/// Settings for one Redis URL as the command line `flags` set them (on a free port, one HTTP
/// worker), validated as at start-up.
pub fn settings_from_flags(url: &str, flags: &[&str]) -> Settings {
    let mut args = vec!["rqdash", "-u", url, "-p", "0", "--http-workers", "1"];
    args.extend_from_slice(flags);
    let cli = <rqdash::config::Cli as clap::Parser>::parse_from(args);
    Settings::from_cli(cli).expect("valid flags")
}

/// Polls `f` every 50 ms until it returns `Some`, or panics with `what` after `timeout`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The registries the dashboard lists, as URL names (RQ 3's `ready` aside).
pub const REGISTRIES: [&str; 7] = [
    "queued",
    "started",
    "deferred",
    "scheduled",
    "finished",
    "failed",
    "canceled",
];

/// Percent-encodes a path segment the way the dashboard does.
pub fn seg(s: &str) -> String {
    rqdash::views::seg(s)
}
