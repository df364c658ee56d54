//! Headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`).
//! Missing binaries fail the test loudly with the install command; they never skip it.

use base64::Engine;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::http;

/// A browser session; chromedriver and Chromium are stopped on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    profile: PathBuf,
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
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        super::wait_for(Duration::from_secs(20), "chromedriver to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        let profile =
            std::env::temp_dir().join(format!("rqdash-chromium-{}-{port}", std::process::id()));
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
            profile,
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

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http::request(
            "DELETE",
            &format!("{}/session/{}", self.base, self.session),
            &[],
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
