//! Accessibility: axe-core (tests/a11y, its locked 4.14.x) checks every page of the dashboard
//! against WCAG 2.0, 2.1 and 2.2 A and AA ([`WCAG_TAGS`]) in headless Chromium, in the light and
//! the dark colour scheme, on data written by real RQ; a single violation fails. A planted
//! violation shows the check can fail.
//!
//! One Chromium and one Redis serve nearly every page: each page is loaded once and checked in
//! both schemes (the scheme is switched in place; app.css has no transitions to wait for).

use crate::support::browser::{Browser, Scheme, Violation, WCAG_TAGS};
use crate::support::{settings_from_flags, wait_for, Rq, TestApp, TestRedis, REGISTRIES};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots/a11y")
}

/// The dark-mode screenshots taken along the way (to look at the fixes by eye): the page, and the
/// element scrolled into view first ("" for the top).
const SHOTS: [(&str, &str); 11] = [
    ("overview", ""),
    ("overview", "#workers-summary"),
    ("job failed", ""),
    ("jobs default failed", ""),
    ("search with results", ""),
    ("workers", ""),
    ("health", ""),
    ("cron", ""),
    ("rate limit", ""),
    ("audit", ""),
    ("redacted job", ""),
];

/// A URL of 127.0.0.1 where nothing listens (a Redis that is down).
fn dead_url(scheme: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("{scheme}://127.0.0.1:{port}")
}

/// Every page checked, with its violations per scheme.
struct Tally<'a> {
    browser: &'a Browser,
    rows: Vec<(String, usize, usize)>,
    found: Vec<String>,
    undecided: usize,
}

impl<'a> Tally<'a> {
    fn new(browser: &'a Browser) -> Tally<'a> {
        Tally {
            browser,
            rows: Vec::new(),
            found: Vec::new(),
            undecided: 0,
        }
    }

    /// Checks what the browser shows now, in both schemes (the page is not reloaded).
    fn check_here(&mut self, name: &str) {
        let b = self.browser;
        // Closed <details> hide their content from the check: open them all.
        b.eval("document.querySelectorAll('details').forEach(function (d) { d.open = true; }); return null;");
        let mut counts = [0; 2];
        for (i, scheme) in Scheme::BOTH.into_iter().enumerate() {
            b.set_color_scheme(scheme);
            let audit = b.audit();
            counts[i] = audit.violations.len();
            for v in &audit.violations {
                self.found
                    .push(format!("{name} [{}]: {v}", scheme.as_str()));
            }
            for v in audit
                .incomplete
                .iter()
                .filter(|v| v.rule == "color-contrast")
            {
                self.undecided += 1;
                eprintln!(
                    "{name} [{}]: axe-core could not decide: {}",
                    scheme.as_str(),
                    v.target.join(" ")
                );
            }
            if scheme == Scheme::Dark {
                for (k, (_, css)) in SHOTS.iter().filter(|s| s.0 == name).enumerate() {
                    b.eval(&format!(
                        "var e = {css:?} && document.querySelector({css:?}); if (e) e.scrollIntoView(); else window.scrollTo(0, 0); return null;"
                    ));
                    let file = format!(
                        "{}-dark{}.png",
                        name.replace(' ', "-"),
                        ["", "-2"][k.min(1)]
                    );
                    b.screenshot(&shots().join(file));
                }
            }
        }
        b.set_color_scheme(Scheme::Light);
        eprintln!(
            "a11y: {name}: {} light, {} dark ({})",
            counts[0],
            counts[1],
            b.eval("return location.pathname + location.search;")
        );
        self.rows.push((name.to_string(), counts[0], counts[1]));
    }

    /// Whether the page shows an error or a sign-in message instead of its content.
    fn is_message(&self) -> bool {
        self.browser.eval(
            "return !!(document.getElementById('error') || document.getElementById('auth-message'));",
        ) == json!(true)
    }

    /// Opens `url`, which must show its page (not an error), and checks it.
    fn check(&mut self, name: &str, url: &str) {
        self.browser.goto(url);
        assert!(!self.is_message(), "{name}: {url} shows an error page");
        self.check_here(name);
    }

    /// Opens `url`, which must show an error or sign-in message, and checks it.
    fn check_message(&mut self, name: &str, url: &str) {
        self.browser.goto(url);
        assert!(self.is_message(), "{name}: {url} shows no error page");
        self.check_here(name);
    }

    /// Prints the counts per page and fails with every violation found.
    fn finish(self) {
        let total: usize = self.rows.iter().map(|r| r.1 + r.2).sum();
        eprintln!("a11y: {} pages or states checked", self.rows.len());
        eprintln!("a11y: {:<44} {:>5} {:>5}", "page", "light", "dark");
        for (name, light, dark) in &self.rows {
            eprintln!("a11y: {name:<44} {light:>5} {dark:>5}");
        }
        eprintln!(
            "a11y: {total} violations in all; {} contrast checks axe-core left undecided",
            self.undecided
        );
        assert!(
            self.found.is_empty(),
            "{total} accessibility violations ({:?}):\n{}",
            WCAG_TAGS,
            self.found.join("\n")
        );
    }
}

/// Waits until `css` matches an element.
fn wait_css(b: &Browser, css: &str, what: &str) {
    wait_for(Duration::from_secs(30), what, || {
        (b.eval(&format!("return !!document.querySelector({});", json!(css))) == json!(true))
            .then_some(())
    });
}

/// Waits for one htmx swap of the page's polled parts.
fn wait_for_a_refresh(b: &Browser) {
    b.eval(
        "window.__swaps = 0; document.addEventListener('htmx:afterSwap', function () { window.__swaps++; }); return null;",
    );
    wait_for(Duration::from_secs(30), "a live refresh", || {
        (b.eval("return window.__swaps;").as_i64() >= Some(1)).then_some(())
    });
}

#[test]
fn every_page_in_both_colour_schemes_has_no_accessibility_violation() {
    // Arrange: one Redis holding what real RQ writes: the seed (every job state), groups, rate
    // limits (3.0), retries, a planted secret, registries RQ's maintenance has not cleaned, a live
    // and two stale `rq cron`, a busy worker with an execution and an idle one; a second database
    // for a second instance, with RQ 3.0's busy worker.
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.seed(&url);
    rq.groups(&url);
    rq.retries(&url);
    rq.maintenance_lag(&url, 3600);
    rq.stale_cron(&url, 600);
    rq.plant_secret(&url, "sk-LEAK7f3a9c1e5d", "KEYONLY-4242-zz");
    Rq::new("3.0.0").rate_limits(&url);
    let cron = rq.cron(&url);
    let busy = rq.busy_worker(&url, "busy", "job-busy");
    rq.executions(&url, "job-busy");
    let _idle = rq.idle_worker(&url, "idle", "a11y-idle-worker");
    let second = format!("{}/1", url.trim_end_matches("/0"));
    Rq::new("2.12.0").enqueue(&second, "elsewhere", 2);
    // RQ 3.0's busy worker there (its fixed name would clash with the 2.12 one in db 0).
    let rq3 = Rq::new("3.0.0");
    let busy3 = rq3.busy_worker(&second, "busy3", "job-busy-3");
    rq3.executions(&second, "job-busy-3");

    let mut s = rqdash::config::Settings::for_url(&url);
    s.history_interval = Duration::from_secs(1);
    s.poll_interval = Duration::from_millis(2000);
    let app = TestApp::spawn(s);
    redis.wait_history_started();
    // Work done while the history runs: charts with points, a functions table with failures.
    rq.enqueue(&url, "work", 3);
    rq.enqueue_call(&url, "work", "fail", &["a11y failure"], 2);
    rq.burst(&url, &["work"]);
    // (The charts draw lines from their second minute on; until then they say since when they
    // collect: the text axe-core checks is the same.)
    wait_for(Duration::from_secs(60), "function timings", || {
        let page = app.get("/0/view/queues").text();
        page.contains("id=\"functions-table\"").then_some(())
    });
    // Audit entries (one refused) and a bulk task.
    assert_eq!(app.post("/0/job/job-failed-2/requeue", &[]).status, 200);
    assert_eq!(app.post("/0/job/no-such-job/delete", &[]).status, 404);
    let task = app.act("/0/requeue/work");
    let task = task["task"]
        .as_u64()
        .unwrap_or_else(|| panic!("no task in {task}"));
    let run = cron.ready()["interval_run_ids"][0]
        .as_str()
        .expect("a cron run")
        .to_string();

    let redacting = TestApp::spawn(settings_from_flags(
        &url,
        &[
            "--redact-key",
            "api_key,password,token",
            "--redact-pattern",
            "sk-LEAK[0-9a-f]{10}",
        ],
    ));
    let mut two = rqdash::config::Settings::for_url(&url);
    two.redis
        .extend(rqdash::config::Settings::for_url(&second).redis);
    let two = TestApp::spawn(two);
    let mut down = rqdash::config::Settings::for_url(&dead_url("redis"));
    down.poll_interval = Duration::from_secs(600);
    let down = TestApp::spawn(down);
    let sso_dir = crate::support::process::TempDir::new("a11y-sso");
    let sso_port = crate::sso::free_port();
    let sso = crate::sso::dashboard(
        &url,
        sso_port,
        &dead_url("http"),
        "rqdash",
        crate::sso::SECRET,
        &sso_dir,
    );

    let browser = Browser::start();
    let mut t = Tally::new(&browser);
    let at = |path: &str| format!("{}{path}", app.address);

    // Act and assert, page by page.
    t.check("root", &at("/"));
    t.check("overview", &at("/0/view/queues"));
    wait_for_a_refresh(&browser);
    t.check_here("overview, refreshed");
    browser.click(".chart-ranges a[href*=\"range=7d\"]");
    wait_css(
        &browser,
        ".chart-ranges a[aria-current][href*=\"range=7d\"]",
        "the 7-day charts",
    );
    browser.click("#functions h2 .choices a[href*=\"window=1h\"]");
    wait_css(
        &browser,
        "#functions h2 .choices a[aria-current][href*=\"window=1h\"]",
        "the functions of the last hour",
    );
    t.check_here("overview, other chart range and window");
    browser.eval("document.getElementById('shortcuts').showModal(); return null;");
    t.check_here("overview, shortcuts open");
    t.check(
        "overview filtered",
        &at("/0/view/queues?q=def&hide_empty=1&sort=failed&dir=desc"),
    );
    t.check("overview, no match", &at("/0/view/queues?q=zzz-none"));
    t.check("jobs index", &at("/0/view/jobs"));
    for reg in REGISTRIES.iter().chain(&["ready"]) {
        t.check(
            &format!("jobs default {reg}"),
            &at(&format!("/0/view/jobs/default/{reg}/8/asc/1")),
        );
    }
    t.check(
        "jobs busy started",
        &at("/0/view/jobs/busy/started/8/desc/1"),
    );
    t.check("jobs work failed", &at("/0/view/jobs/work/failed/1/desc/2"));
    t.check(
        "jobs groups failed",
        &at("/0/view/jobs/groups/failed/8/asc/1"),
    );
    t.check("jobs rl queued", &at("/0/view/jobs/rl/queued/8/asc/1"));
    t.check(
        "jobs lagging maintenance",
        &at("/0/view/jobs/lagging/failed/8/asc/1"),
    );
    t.check(
        "jobs odd queue",
        &at(&format!(
            "/0/view/jobs/{}/queued/8/asc/1",
            crate::support::seg("a/b:c ünï")
        )),
    );
    for (name, id) in [
        ("job finished", "job-finished-1"),
        ("job failed", "job-failed-1"),
        ("job requeued", "job-failed-2"),
        ("job scheduled", "job-scheduled"),
        ("job deferred", "job-deferred"),
        ("job queued", "job-queued-1"),
        ("job canceled", "job-to-cancel"),
        ("job with meta", "job-meta"),
        ("job hostile", "job-hostile"),
        ("job with executions", "job-busy"),
        ("job rate limited", "rl-leak-waiter"),
        ("job in a group", "group-mixed-fail-1"),
        ("job retrying", "retry-failing"),
        ("job cron run", run.as_str()),
    ] {
        t.check(
            name,
            &at(&format!("/0/view/job/{}", crate::support::seg(id))),
        );
    }
    t.check("failures", &at("/0/view/failures/default"));
    t.check("failures work", &at("/0/view/failures/work"));
    t.check("search empty", &at("/0/view/search"));
    browser.goto(&at("/0/view/search?func=add"));
    wait_css(
        &browser,
        "#search-results:not([data-state=\"running\"])",
        "the search to end",
    );
    t.check_here("search with results");
    t.check(
        "search, no match",
        &at("/0/view/search?exc=zzz-no-such-text"),
    );
    t.check("search, bad input", &at("/0/view/search?since=not-a-time"));
    t.check(
        "search failed in queue",
        &at("/0/view/search?queue=default&registry=failed&exc=Error"),
    );
    t.check("workers", &at("/0/view/workers"));
    t.check("health", &at("/0/view/health"));
    t.check("audit", &at("/0/view/audit"));
    t.check("task", &at(&format!("/0/tasks/{task}")));
    t.check("cron", &at("/0/view/cron"));
    t.check("groups", &at("/0/view/groups"));
    t.check("group", &at("/0/view/groups/group-mixed"));
    t.check(
        "group with an expired job",
        &at("/0/view/groups/group-all-ok"),
    );
    t.check("rate limits", &at("/0/view/rate-limits"));
    t.check("rate limit", &at("/0/view/rate-limits/leaky"));
    t.check_message("job not found", &at("/0/view/job/no-such-job"));
    t.check(
        "jobs of an unknown queue",
        &at("/0/view/jobs/no-such-queue/queued/8/asc/1"),
    );
    t.check(
        "failures of an unknown queue",
        &at("/0/view/failures/no-such-queue"),
    );
    t.check_message("no such instance", &at("/7/view/queues"));
    t.check_message("sign-in not set up", &at("/auth/login"));
    app.act("/0/suspend");
    t.check("overview, workers suspended", &at("/0/view/queues"));
    t.check("workers, suspended", &at("/0/view/workers"));
    app.act("/0/resume");
    browser.goto(&at("/lang/zh-CN?next=/0/view/queues"));
    t.check_here("overview zh-CN");
    t.check("job failed zh-CN", &at("/0/view/job/job-failed-1"));
    t.check(
        "jobs failed zh-CN",
        &at("/0/view/jobs/default/failed/8/asc/1"),
    );
    t.check("search zh-CN", &at("/0/view/search?func=add"));
    browser.goto(&at("/lang/en?next=/0/view/queues"));
    t.check(
        "redacted job",
        &format!("{}/0/view/job/secret-result", redacting.address),
    );
    t.check("all instances", &format!("{}/all", two.address));
    t.check(
        "overview of two instances",
        &format!("{}/1/view/queues", two.address),
    );
    t.check(
        "job with executions, RQ 3.0",
        &format!("{}/1/view/job/job-busy-3", two.address),
    );
    wait_css(
        &browser,
        "#job-executions tr[data-execution]",
        "RQ 3.0's execution on the job page",
    );
    t.check_message(
        "redis unavailable",
        &format!("{}/0/view/queues", down.address),
    );
    t.check_message("signed out", &format!("{}/auth/signed-out", sso.address));
    t.check_message(
        "sign-in refused, provider down",
        &format!("{}/auth/login", sso.address),
    );
    t.check_message(
        "sign-in refused, bad callback",
        &format!("{}/auth/callback?code=x&state=y", sso.address),
    );
    drop(busy);
    drop(busy3);
    drop(cron);
    t.finish();
}

#[test]
fn a_planted_violation_fails_the_check() {
    // Arrange: a page with none (the Redis-unavailable page: no Redis needed).
    let app = TestApp::spawn({
        let mut s = rqdash::config::Settings::for_url(&dead_url("redis"));
        s.poll_interval = Duration::from_secs(600);
        s
    });
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/queues", app.address));
    let base: Vec<Violation> = browser.axe();
    assert!(base.is_empty(), "{base:?}");

    // Act: grey text on grey, an image with no text, a link told apart by colour alone (styled
    // through the DOM: the page's Content-Security-Policy ignores style attributes in markup).
    browser.eval(
        "var p = document.createElement('p');
         p.id = 'planted-contrast'; p.style.color = '#999'; p.style.background = '#aaa';
         p.textContent = 'hard to read';
         var img = document.createElement('img');
         img.id = 'planted-img'; img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
         var q = document.createElement('p');
         q.style.color = '#333'; q.style.background = '#fff';
         var a = document.createElement('a');
         a.id = 'planted-link'; a.href = '#x'; a.textContent = 'a link';
         a.style.textDecoration = 'none'; a.style.color = '#555';
         q.append('Some words around ', a, ' in a sentence.');
         document.querySelector('main').append(p, img, q);
         return null;",
    );

    // Assert: each is reported, by rule and element, in both schemes.
    for scheme in Scheme::BOTH {
        browser.set_color_scheme(scheme);
        let found = browser.axe();
        let has = |rule: &str, id: &str| {
            found
                .iter()
                .any(|v| v.rule == rule && v.target.iter().any(|t| t.contains(id)))
        };
        assert!(has("color-contrast", "#planted-contrast"), "{found:#?}");
        assert!(has("image-alt", "#planted-img"), "{found:#?}");
        assert!(has("link-in-text-block", "#planted-link"), "{found:#?}");
        assert_eq!(found.len(), 3, "{scheme:?}: {found:#?}");
    }
}
