//! Headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`).
//! Missing binaries fail the test loudly with the install command; they never skip it.

use base64::Engine;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::http;
use super::process::{Spawned, TempDir};

/// A browser session. On drop the session is closed, chromedriver stopped, every process that
/// carries the session's tag (Chromium, its helpers and crash handler) ended, and the temp dir
/// removed.
pub struct Browser {
    // Declared before `dir`, so the processes end before their dir is removed.
    driver: Spawned,
    base: String,
    session: String,
    dir: TempDir,
    /// Chromium's temp folder: its own, with a short path (its singleton socket lives there and a
    /// socket path must stay under 108 bytes), removed with whatever a hard end left in it.
    tmp: TempDir,
}

fn find(env: &str, default: &str) -> String {
    let bin = std::env::var(env).unwrap_or_else(|_| default.to_string());
    assert!(
        std::path::Path::new(&bin).exists(),
        "{bin} is missing: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver) or set {env}"
    );
    bin
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub fn start() -> Browser {
        Browser::start_with_size(1366, 900)
    }

    /// The same with a window of `width` × `height` CSS pixels.
    pub fn start_with_size(width: u32, height: u32) -> Browser {
        let driver_bin = find("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chrome_bin = find("CHROMIUM", "/usr/bin/chromium");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // What Chromium writes stays in `dir`: its profile, and what it would put in the home
        // folder (crash reports in ~/.config/chromium, ~/.cache). Its temp files go to `tmp`, a
        // second dir with a short name: the path of the unix socket it makes there must stay
        // short. Chromium removes them when it quits cleanly; `tmp` goes in any case.
        let dir = TempDir::new("chromium");
        let tmp = TempDir::new("t");
        let profile = dir.path().join("profile");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        // chromedriver and Chromium's browser process carry the tag in their environment; the
        // children that overwrite theirs with a title carry `--user-data-dir=<dir>/profile`, and
        // the crash handler `--database=<dir>/home/...`.
        let mut driver = Spawned::start(
            Command::new(&driver_bin)
                .arg(format!("--port={port}"))
                .env("TMPDIR", tmp.path())
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join(".config"))
                .env("XDG_CACHE_HOME", home.join(".cache"))
                .env("XDG_DATA_HOME", home.join(".local/share"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            dir.tag(),
            "chromedriver",
            Duration::from_secs(5),
        )
        .unwrap_or_else(|e| panic!("cannot start {driver_bin}: {e}"));
        let base = format!("http://127.0.0.1:{port}");
        super::wait_for(Duration::from_secs(20), "chromedriver to listen", || {
            if let Ok(Some(status)) = driver.child().try_wait() {
                panic!("chromedriver exited: {status}");
            }
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome_bin,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let r = http::request(
            "POST",
            &format!("{base}/session"),
            &[("Content-Type", "application/json")],
            Some(caps.to_string().as_bytes()),
        );
        let v = r.json();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver did not open a session: {v}"))
            .to_string();
        Browser {
            driver,
            base,
            session,
            dir,
            tmp,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let b = body.map(|b| b.to_string());
        let r = http::request(
            method,
            &url,
            &[("Content-Type", "application/json")],
            b.as_deref().map(str::as_bytes),
        );
        let v = r.json();
        assert!(r.status < 400, "webdriver {method} {path}: {v}");
        v["value"].clone()
    }

    /// Opens `url` and waits for the load.
    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Every cookie the browser would send to the current page, `HttpOnly` ones too.
    pub fn cookies(&self) -> Value {
        self.call("GET", "/cookie", None)
    }

    /// Runs a script in the page and returns its value.
    pub fn eval(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// The text of the first element matching `css`, or `None`.
    pub fn text(&self, css: &str) -> Option<String> {
        let v = self.eval(&format!(
            "var e = document.querySelector({}); return e ? e.textContent.trim() : null;",
            json!(css)
        ));
        v.as_str().map(str::to_string)
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        let id = v
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string();
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// The text of the open `confirm()` dialog, or `None`.
    pub fn dialog_text(&self) -> Option<String> {
        let url = format!("{}/session/{}/alert/text", self.base, self.session);
        let r = http::request("GET", &url, &[], None);
        (r.status == 200).then(|| r.json()["value"].as_str().unwrap_or_default().to_string())
    }

    /// Accepts the open dialog.
    pub fn accept_dialog(&self) {
        self.call("POST", "/alert/accept", Some(json!({})));
    }

    /// Saves a PNG screenshot to `path`.
    pub fn screenshot(&self, path: &std::path::Path) {
        let v = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        if let Some(d) = path.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Browser {
    /// Its tag (its temp dir's name).
    pub fn tag(&self) -> &str {
        self.dir.tag()
    }

    /// Every live process of this browser: chromedriver, Chromium and its helpers.
    pub fn processes(&self) -> Vec<super::process::Proc> {
        self.driver.processes()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closing the session makes chromedriver quit Chromium cleanly. This must not panic
        // (a panic while a failing test unwinds aborts the run), so no `http::request` here.
        let _ = close_session(&self.base, &self.session);
        self.driver.end();
    }
}

/// `DELETE /session/<id>`, waiting (up to 20 s) for chromedriver's answer, which comes once
/// Chromium has quit.
fn close_session(base: &str, session: &str) -> std::io::Result<()> {
    use std::io::{BufRead, BufReader, Write};
    let hostport = base.trim_start_matches("http://");
    let addr: std::net::SocketAddr = hostport
        .parse()
        .map_err(|_| std::io::Error::other("bad address"))?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        s,
        "DELETE /session/{session} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )?;
    // The status line is enough: chromedriver answers after closing the browser.
    let mut status = String::new();
    BufReader::new(s).read_line(&mut status)?;
    Ok(())
}
