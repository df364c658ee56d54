//! Pages in a real headless Chromium.

use crate::support::browser::{Browser, Scheme};
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

    // A queue with a long name and a worker on it, then the overview, workers and health pages
    // at 390 px in both colour schemes: they fit, names break only after ":" or "/", and the
    // health and worker rows are cards (label: value lines).
    let long = "reports:eu/ünïcode";
    env.rq.enqueue(&env.redis.url(), long, 2);
    let _worker = env
        .rq
        .idle_worker(&env.redis.url(), long, "reports-eu-worker-1");
    let names = ".qname";
    for scheme in Scheme::BOTH {
        browser.set_color_scheme(scheme);
        for (page, cards, ready) in [
            ("queues", "", format!("#queues tr[data-queue=\"{long}\"]")),
            (
                "workers",
                "#worker-list",
                "#worker-list tr[data-worker=\"reports-eu-worker-1\"]".to_string(),
            ),
            ("health", "#problems", "#problems tr[data-rule]".to_string()),
        ] {
            wait_for(
                Duration::from_secs(30),
                &format!("{ready} on {page}"),
                || {
                    browser.goto(&format!("{}/0/view/{page}", env.app.address));
                    browser.wait_settled();
                    (browser.eval(&format!(
                        "return !!document.querySelector({});",
                        serde_json::json!(ready)
                    )) == true)
                        .then_some(())
                },
            );
            let shown = if page == "queues" { "overview" } else { page };
            let shot = format!("phone-{shown}-{}.png", scheme.as_str());
            browser.screenshot_full(&screenshot_dir().join(&shot));
            let f = browser.phone_layout(names, cards);
            assert!(
                f.overflow <= 0,
                "{page} is wider than a phone by {} px",
                f.overflow
            );
            assert!(
                f.broken_names.is_empty(),
                "{page}: names broken mid-word: {:?}",
                f.broken_names
            );
            assert!(f.names_seen > 0, "{page}: no name looked at");
            if !cards.is_empty() {
                assert!(f.cards_seen > 0, "{page}: no card looked at");
                assert!(
                    f.not_cards.is_empty(),
                    "{page}: rows that are not cards: {:?}",
                    f.not_cards
                );
            }
        }
    }
}

#[test]
fn the_search_form_lines_up_and_a_chinese_failed_list_keeps_times_on_one_line() {
    let env = Seeded::new("2.12.0");
    // A failure with a long message and description, which squeezes the other columns.
    let long = "the partner API answered 503 Service Unavailable after three retries with backoff; giving up on this batch of customer invoices for now";
    env.rq
        .enqueue_call(&env.redis.url(), "default", "fail", &[long], 1);
    env.rq.burst(&env.redis.url(), &["default"]);
    let browser = Browser::start_with_size(1400, 900);
    // The failed list in Chinese at 1400 px: relative times ("7 秒前") and worker names stay on
    // one line.
    browser.goto(&format!(
        "{}/lang/zh-CN?next=/0/view/jobs/default/failed/8/asc/1",
        env.app.address
    ));
    assert_eq!(
        browser.eval("return document.documentElement.lang;"),
        "zh-CN"
    );
    let cells = browser.text_lines("#job-list time, #job-list td.worker");
    assert!(cells.iter().any(|(t, _)| t.contains("前")), "{cells:?}");
    assert!(cells.iter().all(|(_, n)| *n == 1), "wrapped: {cells:?}");
    // Whatever the other columns hold, the stylesheet keeps them whole.
    let wrappable = browser.eval(
        "return Array.from(document.querySelectorAll('#job-list time, #job-list td.worker'))
            .filter(function (e) { return getComputedStyle(e).whiteSpace !== 'nowrap'; })
            .map(function (e) { return e.textContent; });",
    );
    assert_eq!(wrappable, serde_json::json!([]), "may wrap");
    browser.screenshot(&screenshot_dir().join("failed-list-zh.png"));

    // The search form, in both languages: the labels of a row start at the same height (the
    // select's too), and the time fields are wide enough for their placeholders.
    for lang in ["en", "zh-CN"] {
        browser.goto(&format!(
            "{}/lang/{lang}?next=/0/view/search",
            env.app.address
        ));
        let misaligned = browser.eval(
            "var ls = Array.from(document.querySelectorAll('#search-form label')).map(function (l) {
                var r = l.getBoundingClientRect();
                return { text: l.firstChild.textContent.trim(), top: r.top, bottom: r.bottom };
            });
            var bad = [];
            ls.forEach(function (a) { ls.forEach(function (b) {
                var sameRow = a.top < b.bottom && b.top < a.bottom;
                if (sameRow && Math.abs(a.top - b.top) > 1) bad.push(a.text + ' ' + a.top + ' / ' + b.text + ' ' + b.top);
            }); });
            return bad;",
        );
        assert_eq!(
            misaligned,
            serde_json::json!([]),
            "{lang}: labels not level"
        );
        let cut = browser.eval(
            "var ctx = document.createElement('canvas').getContext('2d');
            return Array.from(document.querySelectorAll('#search-form input[placeholder]')).filter(function (i) {
                var cs = getComputedStyle(i);
                ctx.font = cs.font;
                var room = i.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
                return ctx.measureText(i.placeholder).width > room;
            }).map(function (i) { return i.name + ': ' + i.placeholder; });",
        );
        assert_eq!(cut, serde_json::json!([]), "{lang}: placeholders cut off");
        browser.screenshot(&screenshot_dir().join(format!("search-form-{lang}.png")));
    }
}

#[test]
fn the_redis_unavailable_page_says_what_to_do_and_recovers_by_itself() {
    let mut redis = TestRedis::start();
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.snapshot_ttl = Duration::ZERO;
    s.poll_interval = Duration::from_millis(1000);
    let app = TestApp::spawn(s);
    // An error that will not pass by itself leads back to the queues.
    let r = app.get("/0/view/job/no-such-job");
    assert_eq!(r.status, 404);
    let missing = scraper::Html::parse_document(&r.text());
    assert_eq!(
        crate::support::html::attrs(&missing, "#error-back", "href"),
        vec!["/0/view/queues"]
    );
    assert_eq!(crate::support::html::count(&missing, "#error-again"), 0);
    redis.stop();
    let b = Browser::start();
    let asked = "/0/view/queues?q=de&hide_empty=1";
    b.goto(&format!("{}{asked}", app.address));
    let heading = b.text("#error h1").unwrap_or_default();
    assert!(heading.starts_with("Redis is unavailable"), "{heading}");
    // "Try again" asks for the same page (the queues would fail the same way).
    assert_eq!(b.text("#error-again").as_deref(), Some("Try again"));
    assert_eq!(
        b.eval("return document.querySelector('#error-again').getAttribute('href');"),
        asked
    );
    assert!(b.text("#error-back").is_none());
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
