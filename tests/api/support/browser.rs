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
        let b = Browser {
            driver,
            base,
            session,
            dir,
            tmp,
        };
        // Chromium keeps a window at least 500 px wide whatever `--window-size` says: below that
        // (a phone), the viewport is set through device emulation, which holds across loads.
        if width < 500 {
            b.call(
                "POST",
                "/goog/cdp/execute",
                Some(json!({
                    "cmd": "Emulation.setDeviceMetricsOverride",
                    "params": {
                        "width": width, "height": height, "screenWidth": width,
                        "screenHeight": height, "deviceScaleFactor": 1, "mobile": true
                    }
                })),
            );
            // A phone lays out a page without `<meta name=viewport>` (this blank one) 980 px
            // wide; the screen is the phone's.
            let screen = b.eval("return screen.width;");
            assert_eq!(screen, json!(width), "the emulated screen did not take");
        }
        b
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

/// The colour scheme the page sees as `prefers-color-scheme` (static/app.css follows it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `prefers-color-scheme: light`.
    Light,
    /// `prefers-color-scheme: dark`.
    Dark,
}

impl Scheme {
    /// Both, light first.
    pub const BOTH: [Scheme; 2] = [Scheme::Light, Scheme::Dark];

    /// The media feature's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Light => "light",
            Scheme::Dark => "dark",
        }
    }
}

/// The WCAG rule sets axe-core checks (A and AA of WCAG 2.0, 2.1 and 2.2).
pub const WCAG_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// One element axe-core found breaking one rule.
#[derive(Clone, Debug)]
pub struct Violation {
    /// The rule's id (`color-contrast`, `link-in-text-block`, ...).
    pub rule: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    /// The element's CSS selector path (one per frame level).
    pub target: Vec<String>,
    /// What the rule asks for.
    pub help: String,
    /// axe-core's explanation for this element (the measured contrast, ...).
    pub summary: String,
    /// The start of the element's HTML.
    pub html: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}) at {}: {}\n    {}\n    {}",
            self.rule,
            self.impact,
            self.target.join(" >>> "),
            self.help,
            self.summary.replace('\n', "\n    "),
            self.html
        )
    }
}

/// What one axe-core run found: the violations, and the checks it could not decide (to be
/// looked at by a person; they are not failures).
#[derive(Clone, Debug, Default)]
pub struct Audit {
    /// Elements that break a rule.
    pub violations: Vec<Violation>,
    /// Elements axe-core could not decide on (`incomplete`).
    pub incomplete: Vec<Violation>,
}

/// The text of axe-core's `axe.min.js`, read once; panics with the install command when missing.
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/a11y/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{} is missing ({e}): install axe-core with scripts/install-test-deps.sh \
                 (or: cd tests/a11y && npm ci)",
                path.display()
            )
        })
    })
}

/// The violations (or incomplete checks) of an axe-core result, one per element.
fn violations(rules: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    for r in rules.as_array().into_iter().flatten() {
        for n in r["nodes"].as_array().into_iter().flatten() {
            let html = n["html"].as_str().unwrap_or_default();
            out.push(Violation {
                rule: r["id"].as_str().unwrap_or_default().to_string(),
                impact: n["impact"]
                    .as_str()
                    .or(r["impact"].as_str())
                    .unwrap_or_default()
                    .to_string(),
                target: n["target"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_string))
                    .collect(),
                help: r["help"].as_str().unwrap_or_default().to_string(),
                summary: n["failureSummary"].as_str().unwrap_or_default().to_string(),
                html: html.chars().take(200).collect(),
            });
        }
    }
    out
}

impl Browser {
    /// Makes the pages see `scheme` as `prefers-color-scheme` (Chromium's media emulation over
    /// chromedriver's CDP bridge); it holds for this tab until changed, across page loads.
    pub fn set_color_scheme(&self, scheme: Scheme) {
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({
                "cmd": "Emulation.setEmulatedMedia",
                "params": {"features": [{"name": "prefers-color-scheme", "value": scheme.as_str()}]}
            })),
        );
        let dark = self.eval("return window.matchMedia('(prefers-color-scheme: dark)').matches;");
        assert_eq!(
            dark,
            json!(scheme == Scheme::Dark),
            "the emulated colour scheme did not take: wanted {scheme:?}"
        );
    }

    /// Waits (up to 20 s) until the page has loaded, htmx has started, every `hx-trigger="load"`
    /// part has been fetched and swapped in, and no htmx request is in flight.
    pub fn wait_settled(&self) {
        let script = "return document.readyState === 'complete'
            && (!document.querySelector('[hx-get], [hx-post]') || !!window.htmx)
            && !document.querySelector('[hx-trigger=\"load\"]')
            && !document.querySelector('.htmx-request');";
        super::wait_for(Duration::from_secs(20), "the page to settle", || {
            (self.eval(script) == json!(true)).then_some(())
        });
    }

    /// Runs axe-core (tests/a11y, the version of its lock) on the current page with the WCAG 2.x
    /// A and AA rules ([`WCAG_TAGS`]) and returns every violation, one per element.
    ///
    /// The page is settled first ([`Browser::wait_settled`]) and held still while axe runs: its
    /// htmx refreshes are held back, so no swap lands mid-check. axe-core is injected through
    /// WebDriver, which the page's Content-Security-Policy does not govern.
    pub fn axe(&self) -> Vec<Violation> {
        self.audit().violations
    }

    /// [`Browser::axe`] with the checks axe-core could not decide.
    pub fn audit(&self) -> Audit {
        let source = axe_source();
        self.wait_settled();
        self.call("POST", "/timeouts", Some(json!({ "script": 120_000 })));
        // Inject axe-core once per page, and a hold on htmx requests while it runs.
        let injected = self.call(
            "POST",
            "/execute/sync",
            Some(json!({
                "script": format!(
                    "if (!window.axe) {{ {source}\n }}
                    if (!window.__rqdashAxeHold) {{
                        window.__rqdashAxeHold = {{ on: false }};
                        document.addEventListener('htmx:beforeRequest', function (e) {{
                            if (window.__rqdashAxeHold.on) e.preventDefault();
                        }});
                    }}
                    window.__rqdashAxeHold.on = true;
                    return window.axe ? window.axe.version : null;"
                ),
                "args": []
            })),
        );
        assert!(
            injected.as_str().is_some_and(|v| v.starts_with("4.14.")),
            "axe-core 4.14 did not load into the page: {injected}"
        );
        // A request that left before the hold may still be landing.
        self.wait_settled();
        let run = r#"
            var done = arguments[arguments.length - 1];
            var keep = function (rules) {
                return rules.map(function (r) {
                    return { id: r.id, impact: r.impact, help: r.help, nodes: r.nodes.map(function (n) {
                        return { impact: n.impact, target: n.target, html: n.html, failureSummary: n.failureSummary };
                    }) };
                });
            };
            window.axe.run(document, {
                runOnly: { type: 'tag', values: arguments[0] },
                resultTypes: ['violations', 'incomplete']
            }).then(function (r) {
                window.__rqdashAxeHold.on = false;
                done({ violations: keep(r.violations), incomplete: keep(r.incomplete) });
            }).catch(function (e) {
                window.__rqdashAxeHold.on = false;
                done({ error: String(e && e.stack || e) });
            });"#;
        let r = self.call(
            "POST",
            "/execute/async",
            Some(json!({ "script": run, "args": [WCAG_TAGS] })),
        );
        assert!(r["error"].is_null(), "axe-core failed: {}", r["error"]);
        Audit {
            violations: violations(&r["violations"]),
            incomplete: violations(&r["incomplete"]),
        }
    }
}

/// What [`Browser::phone_layout`] found wrong on a page.
#[derive(Clone, Debug, Default)]
pub struct LayoutFaults {
    /// How many CSS px the page is wider than the window (0 when it fits).
    pub overflow: i64,
    /// Names broken over lines other than after a `:`, a `/` or at a space ("defaul|t").
    pub broken_names: Vec<String>,
    /// Rows of the card tables that are not cards (cells side by side, or wider than the window).
    pub not_cards: Vec<String>,
    /// How many names and card rows were looked at.
    pub names_seen: usize,
    /// How many card rows were looked at.
    pub cards_seen: usize,
}

impl Browser {
    /// Checks the layout of the current page for a narrow screen: the page's horizontal
    /// overflow; every element matching `names` (queue and worker names), each broken over
    /// lines only after a `:` or `/` (or at a space), measured character by character with
    /// `Range.getClientRects`; and every body row of the tables matching `cards`, whose cells
    /// must stack (same left edge, each below the one before, none past the window's edge).
    pub fn phone_layout(&self, names: &str, cards: &str) -> LayoutFaults {
        let v = self.eval(&format!(
            r#"
            var names = {names}, cards = {cards};
            var out = {{ overflow: document.documentElement.scrollWidth - window.innerWidth,
                        broken: [], notCards: [], names: 0, cards: 0 }};
            if (names) document.querySelectorAll(names).forEach(function (el) {{
                if (!el.getClientRects().length) return;
                out.names++;
                var chars = [], w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), n;
                while ((n = w.nextNode())) {{
                    for (var i = 0; i < n.data.length; i++) {{
                        var r = document.createRange();
                        r.setStart(n, i);
                        r.setEnd(n, i + 1);
                        var rs = r.getClientRects();
                        if (rs.length) chars.push({{ c: n.data[i], top: rs[0].top, h: rs[0].height }});
                    }}
                }}
                for (var k = 1; k < chars.length; k++) {{
                    var a = chars[k - 1], b = chars[k];
                    if (b.top > a.top + a.h / 2 && !/[:\/\s]/.test(a.c) && !/\s/.test(b.c)) {{
                        out.broken.push(el.textContent.trim() + ' (between ' + a.c + ' and ' + b.c + ')');
                    }}
                }}
            }});
            if (cards) document.querySelectorAll(cards).forEach(function (t) {{
                t.querySelectorAll(':scope > tbody > tr').forEach(function (tr) {{
                    var cells = Array.from(tr.children).filter(function (c) {{ return c.getClientRects().length; }});
                    if (cells.length < 2) return;
                    out.cards++;
                    var left = cells[0].getBoundingClientRect().left, bottom = -1e9;
                    cells.forEach(function (c, i) {{
                        var r = c.getBoundingClientRect();
                        if (Math.abs(r.left - left) > 1 || r.top < bottom - 1 || r.right > window.innerWidth + 1) {{
                            out.notCards.push('#' + t.id + ' row ' + tr.rowIndex + ' cell ' + i + ' at ' +
                                Math.round(r.left) + ',' + Math.round(r.top) + ' to ' + Math.round(r.right));
                        }}
                        bottom = r.bottom;
                    }});
                }});
            }});
            return out;"#,
            names = json!(names),
            cards = json!(cards),
        ));
        let strings = |k: &str| -> Vec<String> {
            v[k].as_array()
                .into_iter()
                .flatten()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        };
        LayoutFaults {
            overflow: v["overflow"].as_i64().unwrap_or(i64::MAX),
            broken_names: strings("broken"),
            not_cards: strings("notCards"),
            names_seen: v["names"].as_u64().unwrap_or(0) as usize,
            cards_seen: v["cards"].as_u64().unwrap_or(0) as usize,
        }
    }

    /// Saves a PNG of the whole page, beyond the window's height, to `path` (Chromium's
    /// `Page.captureScreenshot` over chromedriver's CDP bridge).
    pub fn screenshot_full(&self, path: &std::path::Path) {
        let size = self.eval(
            "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight];",
        );
        let v = self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({
                "cmd": "Page.captureScreenshot",
                "params": {
                    "format": "png", "captureBeyondViewport": true,
                    "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
                }
            })),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(v["data"].as_str().unwrap_or_default())
            .expect("screenshot is base64");
        if let Some(d) = path.parent() {
            let _ = std::fs::create_dir_all(d);
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    /// How many lines the text of each element matching `css` takes (distinct line tops of its
    /// characters), with the element's text.
    pub fn text_lines(&self, css: &str) -> Vec<(String, usize)> {
        let v = self.eval(&format!(
            r#"return Array.from(document.querySelectorAll({})).map(function (el) {{
                var tops = [], w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), n;
                while ((n = w.nextNode())) {{
                    for (var i = 0; i < n.data.length; i++) {{
                        if (/\s/.test(n.data[i])) continue;
                        var r = document.createRange();
                        r.setStart(n, i);
                        r.setEnd(n, i + 1);
                        var rs = r.getClientRects();
                        if (rs.length && !tops.some(function (t) {{ return Math.abs(t - rs[0].top) < rs[0].height / 2; }})) tops.push(rs[0].top);
                    }}
                }}
                return [el.textContent.trim(), tops.length];
            }});"#,
            json!(css)
        ));
        v.as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p[0].as_str().unwrap_or_default().to_string(),
                    p[1].as_u64().unwrap_or(0) as usize,
                )
            })
            .collect()
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
