//! Pages in a real headless Chromium.

use crate::support::browser::Browser;
use crate::support::{wait_for, Rq, Seeded, TestApp, TestRedis};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

#[test]
fn the_overview_count_follows_real_rq_without_a_reload() {
    // Arrange: a queue with one job, a dashboard polling every second.
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    rq.enqueue(&redis.url(), "live", 1);
    let mut settings = rqdash::config::Settings::for_url(&redis.url());
    settings.poll_interval = Duration::from_millis(1000);
    settings.snapshot_ttl = Duration::from_millis(900);
    let app = TestApp::spawn(settings);
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/queues", app.address));
    let cell = "tr[data-queue=\"live\"] td[data-registry=\"queued\"]";
    assert_eq!(browser.text(cell).as_deref(), Some("1"));
    assert_eq!(
        browser
            .text("tr.total td[data-registry=\"queued\"]")
            .as_deref(),
        Some("1")
    );
    // A marker that a reload would wipe.
    browser.eval("window.__rqdash_marker = 42; return null;");

    // Act: real RQ enqueues two more jobs.
    rq.enqueue(&redis.url(), "live", 2);
    let enqueued = Instant::now();

    // Assert: the count on screen changes within two poll intervals (plus slack for a loaded
    // machine), and the page was not reloaded.
    wait_for(
        Duration::from_millis(2 * 1000 + 1500),
        "the count to reach 3 on screen",
        || (browser.text(cell).as_deref() == Some("3")).then_some(()),
    );
    eprintln!(
        "count updated {} ms after the enqueue",
        enqueued.elapsed().as_millis()
    );
    assert_eq!(
        browser.eval("return window.__rqdash_marker;"),
        42,
        "the page was reloaded"
    );
    browser.screenshot(&screenshot_dir().join("overview.png"));
}

#[test]
fn hostile_job_data_runs_no_script_in_the_browser() {
    let env = Seeded::new("2.12.0");
    let browser = Browser::start();
    for path in [
        "/0/view/jobs/default/finished/50/asc/1",
        "/0/view/jobs/default/failed/50/asc/1",
        "/0/view/job/job-hostile",
        "/0/view/job/job-failed-1",
    ] {
        browser.goto(&format!("{}{path}", env.app.address));
        // An alert() would make every WebDriver command fail with "unexpected alert open".
        assert_eq!(
            browser.eval("return document.querySelectorAll('img').length;"),
            0,
            "{path}"
        );
        assert_eq!(
            browser.eval("return document.querySelectorAll('script').length;"),
            2,
            "{path}"
        );
    }
    assert_eq!(
        browser
            .text("#job-exc")
            .map(|t| t.contains("ValueError: boom <script>alert(1)</script>")),
        Some(true)
    );
    browser.screenshot(&screenshot_dir().join("job-failed.png"));
    browser.goto(&format!(
        "{}/0/view/jobs/default/failed/8/asc/1",
        env.app.address
    ));
    browser.screenshot(&screenshot_dir().join("failed-list.png"));
}

#[test]
fn the_jump_box_opens_a_job() {
    let env = Seeded::new("2.12.0");
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/queues", env.app.address));
    browser.eval("document.getElementById('jump-id').value = 'job-failed-2'; return null;");
    browser.click(".jump button");
    wait_for(Duration::from_secs(10), "the job page", || {
        (browser.text("#job-id").as_deref() == Some("job-failed-2")).then_some(())
    });
}

#[test]
fn requeue_from_the_job_page_after_confirming() {
    let env = Seeded::new("2.12.0");
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/job/job-failed-1", env.app.address));
    assert_eq!(browser.text("#job-status").as_deref(), Some("failed"));
    browser.click("#job-actions form.act:first-of-type button");
    let question = wait_for(Duration::from_secs(10), "the confirmation", || {
        browser.dialog_text()
    });
    assert_eq!(
        question,
        "Requeue job job-failed-1 at the end of queue “default”?"
    );
    browser.accept_dialog();
    wait_for(
        Duration::from_secs(10),
        "the page to show the job queued",
        || (browser.text("#job-status").as_deref() == Some("queued")).then_some(()),
    );
    browser.screenshot(&screenshot_dir().join("job-requeued.png"));
    // It left the failed list.
    browser.goto(&format!(
        "{}/0/view/jobs/default/failed/8/asc/1",
        env.app.address
    ));
    assert_eq!(
        browser
            .eval(r#"return document.querySelectorAll('tr[data-job-id="job-failed-1"]').length;"#),
        0
    );
    assert_eq!(
        browser
            .eval(r#"return document.querySelectorAll('tr[data-job-id="job-failed-2"]').length;"#),
        1
    );
    assert_eq!(env.oracle()["jobs"]["job-failed-1"]["status"], "queued");
}

#[test]
fn keyboard_shortcuts_and_a_phone_sized_layout() {
    let env = Seeded::new("2.12.0");
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/queues", env.app.address));
    let key = |k: &str| {
        browser.eval(&format!(
            "document.body.dispatchEvent(new KeyboardEvent('keydown', {{key: {k:?}, bubbles: true}})); return null;"
        ));
    };
    key("?");
    assert_eq!(
        browser.eval("return document.getElementById('shortcuts').open;"),
        true,
        "? opens the help"
    );
    browser.eval("document.getElementById('shortcuts').close(); return null;");
    key("/");
    assert_eq!(
        browser.eval("return document.activeElement.id;"),
        "jump-id",
        "/ focuses the jump box"
    );
    browser.eval("document.activeElement.blur(); return null;");
    key("r");
    assert_eq!(
        browser.eval("return document.getElementById('paused').hidden;"),
        false,
        "r pauses"
    );
    key("r");
    key("g");
    key("w");
    wait_for(
        Duration::from_secs(10),
        "g w to open the workers page",
        || (browser.eval("return location.pathname;") == "/0/view/workers").then_some(()),
    );
    // A phone: nothing wider than the screen but the scrollable tables.
    browser.eval("return null;");
    let browser = Browser::start_with_size(390, 844);
    browser.goto(&format!("{}/0/view/queues", env.app.address));
    let overflow = browser.eval("return document.documentElement.scrollWidth - window.innerWidth;");
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page fits a phone: {overflow}"
    );
    browser.screenshot(&screenshot_dir().join("phone-overview.png"));
}

#[test]
fn the_redis_unavailable_page_says_what_to_do_and_recovers_by_itself() {
    let mut redis = TestRedis::start();
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.snapshot_ttl = Duration::ZERO;
    s.poll_interval = Duration::from_millis(1000);
    let app = TestApp::spawn(s);
    redis.stop();
    let b = Browser::start();
    b.goto(&format!("{}/0/view/queues", app.address));
    let heading = b.text("#error h1").unwrap_or_default();
    assert!(heading.starts_with("Redis is unavailable"), "{heading}");
    let hints = b.text("#error-hints").unwrap_or_default();
    assert!(hints.contains("--redis-url"), "{hints}");
    assert!(hints.contains("redis-server"), "{hints}");
    assert!(hints.contains("scripts/demo.sh"), "{hints}");
    assert!(b.text("#error-retry").is_some());
    b.screenshot(&screenshot_dir().join("redis-unavailable.png"));
    // Redis comes back: the page reloads by itself, no click and no reload from the test.
    redis.restart();
    wait_for(
        Duration::from_secs(30),
        "the page to recover by itself",
        || b.text("#queues").map(|_| ()),
    );
    assert!(b.text("#error").is_none());
}

#[test]
fn the_audit_page_lists_actions_live_and_links_each_to_its_job() {
    let env = Seeded::new("2.12.0");
    let mut settings = rqdash::config::Settings::for_url(&env.redis.url());
    settings.poll_interval = Duration::from_millis(1000);
    let app = TestApp::spawn(settings);
    assert_eq!(app.post("/0/job/job-failed-1/requeue", &[]).status, 200);
    assert_eq!(app.post("/0/job/no-such-job/delete", &[]).status, 404);
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/audit", app.address));
    let rows = "#audit tbody tr[data-entry]";
    assert_eq!(
        browser.eval(&format!(
            "return document.querySelectorAll('{rows}').length;"
        )),
        2
    );
    // A new action appears without a reload.
    browser.eval("window.__rqdash_marker = 7; return null;");
    assert_eq!(app.post("/0/job/job-failed-2/requeue", &[]).status, 200);
    wait_for(Duration::from_secs(10), "the third entry on screen", || {
        (browser.eval(&format!(
            "return document.querySelectorAll('{rows}').length;"
        )) == 3)
            .then_some(())
    });
    assert_eq!(browser.eval("return window.__rqdash_marker;"), 7);
    browser.screenshot(&screenshot_dir().join("audit.png"));
    browser.click("#audit a[href$='/view/job/job-failed-2']");
    wait_for(Duration::from_secs(10), "the job page", || {
        browser
            .text("h1")
            .filter(|t| t.contains("job-failed-2"))
            .map(|_| ())
    });
}

#[test]
fn a_redacted_job_page_shows_each_hidden_value_as_redacted() {
    // Arrange: secrets planted by real RQ in a job's arguments, keyword arguments, meta and
    // return value; redaction rules and no policy, so nobody sees them.
    let (secret, key_secret) = ("sk-LEAK7f3a9c1e5d", "KEYONLY-4242-zz");
    let redis = TestRedis::start();
    Rq::new("2.12.0").plant_secret(&redis.url(), secret, key_secret);
    let rules = [
        "--redact-key",
        "api_key,password,token",
        "--redact-pattern",
        "sk-LEAK[0-9a-f]{10}",
    ];
    let app = TestApp::spawn(crate::support::settings_from_flags(&redis.url(), &rules));
    let browser = Browser::start_with_size(1366, 1500);

    // Act
    browser.goto(&format!("{}/0/view/job/secret-result", app.address));

    // Assert: the values read as [redacted] where they were; the rest of the job is as it was.
    let text = browser
        .eval("return document.body.innerText;")
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !text.contains(secret) && !text.contains(key_secret),
        "{text}"
    );
    for id in ["#job-args", "#job-kwargs", "#job-result", "#job-meta"] {
        let shown = browser.text(id).unwrap_or_default();
        assert!(shown.contains("[redacted]"), "{id}: {shown}");
    }
    let kwargs = browser.text("#job-kwargs").unwrap_or_default();
    assert!(kwargs.contains("api_key=[redacted]"), "{kwargs}");
    assert!(kwargs.contains("'name': 'ann'"), "{kwargs}");
    assert!(browser.text("#job-redacted").is_some());
    browser.screenshot(&screenshot_dir().join("redacted-job.png"));
}
