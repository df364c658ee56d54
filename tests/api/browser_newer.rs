//! The RQ 2.x/3.0 pages in a real headless Chromium, on data written by real RQ: cron, groups
//! (with an action clicked through its confirmation), rate limits, the job page's executions and
//! the overview's scheduler column; and names carrying HTML/JS that must stay text.

use crate::support::browser::{Browser, Scheme};
use crate::support::html::css_str;
use crate::support::process::signal;
use crate::support::{wait_for, Rq, TestApp, TestRedis};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

fn shot(browser: &Browser, name: &str) {
    browser.screenshot(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target/screenshots")
            .join(format!("{name}.png")),
    );
}

/// A dashboard that refreshes its live parts every second.
fn polling_app(url: &str) -> TestApp {
    let mut settings = rqdash::config::Settings::for_url(url);
    settings.poll_interval = Duration::from_millis(1000);
    settings.snapshot_ttl = Duration::from_millis(900);
    TestApp::spawn(settings)
}

/// `[attr="value"]` for any value.
fn with(attr: &str, value: &str) -> String {
    format!("[{attr}=\"{}\"]", css_str(value))
}

/// How many elements match `css`.
fn count(browser: &Browser, css: &str) -> i64 {
    browser
        .eval(&format!(
            "return document.querySelectorAll({}).length;",
            json!(css)
        ))
        .as_i64()
        .unwrap()
}

/// Whether the first element matching `css` has class `class` (panics if none matches).
fn has_class(browser: &Browser, css: &str, class: &str) -> bool {
    let v = browser.eval(&format!(
        "var e = document.querySelector({}); return e ? e.classList.contains({}) : null;",
        json!(css),
        json!(class)
    ));
    v.as_bool().unwrap_or_else(|| panic!("no element {css}"))
}

/// Texts (trimmed) of every element matching `css`, sorted.
fn texts(browser: &Browser, css: &str) -> Vec<String> {
    let v = browser.eval(&format!(
        "return Array.from(document.querySelectorAll({})).map(e => e.textContent.trim());",
        json!(css)
    ));
    let mut t: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

/// Waits until the first element matching `css` exists and its text satisfies `ok`.
fn wait_text(browser: &Browser, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    wait_for(Duration::from_secs(20), what, || {
        browser.text(css).filter(|t| ok(t))
    })
}

/// Waits for one live refresh of the page's polled part (an htmx swap).
fn wait_for_a_refresh(browser: &Browser) {
    browser.eval(
        "window.__swaps = 0; document.addEventListener('htmx:afterSwap', function () { window.__swaps++; }); return null;",
    );
    wait_for(Duration::from_secs(20), "a live refresh", || {
        (browser.eval("return window.__swaps;").as_i64() >= Some(1)).then_some(())
    });
}

/// Opens `path` on a phone-sized screen: nothing may be wider than the screen (tables scroll in
/// their own box).
fn fits_a_phone(phone: &Browser, app: &TestApp, path: &str, name: &str) {
    phone.goto(&format!("{}{path}", app.address));
    let overflow = phone.eval("return document.documentElement.scrollWidth - window.innerWidth;");
    shot(phone, name);
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "{path} is wider than a phone by {overflow} px"
    );
    // No button label is broken over lines.
    let wrapped = phone.eval(
        "return Array.from(document.querySelectorAll('main button')).filter(b => {
            if (!b.offsetParent) return false;
            var cs = getComputedStyle(b);
            var inner = b.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
            return inner > 1.5 * parseFloat(cs.lineHeight);
        }).map(b => b.textContent.trim());",
    );
    assert_eq!(wrapped, json!([]), "{path}: buttons whose label wraps");
}

#[test]
fn cron_page_shows_the_live_and_the_stale_schedulers() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let stale = rq.stale_cron(&redis.url(), 600);
    let live = rq.cron(&redis.url());
    let app = polling_app(&redis.url());
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/cron", app.address));

    // The live scheduler is alive; both stale ones are marked stale, the crashed one says why.
    let live_row = format!(
        "#cron-schedulers tr{}",
        with("data-scheduler", live.ready()["name"].as_str().unwrap())
    );
    assert_eq!(
        browser
            .text(&format!("{live_row} td:nth-child(2)"))
            .as_deref(),
        Some("alive")
    );
    assert!(!has_class(&browser, &live_row, "stale"));
    assert_eq!(
        browser
            .text(&format!("{live_row} td:nth-child(5)"))
            .as_deref(),
        live.ready()["config_file"].as_str()
    );
    for which in ["skewed", "crashed"] {
        let row = format!(
            "#cron-schedulers tr{}",
            with("data-scheduler", stale[which]["name"].as_str().unwrap())
        );
        assert_eq!(
            browser.text(&format!("{row} td:nth-child(2)")).as_deref(),
            Some("stale"),
            "{which}"
        );
        assert!(has_class(&browser, &row, "stale"), "{which}");
    }
    let crashed = format!(
        "#cron-schedulers tr{} td.name .warn",
        with("data-scheduler", stale["crashed"]["name"].as_str().unwrap())
    );
    assert!(browser.text(&crashed).unwrap().contains("expired"));

    // Both cron jobs of the live scheduler, with their schedules and the interval job's runs.
    let interval = live.ready()["interval_job"]["name"].as_str().unwrap();
    let minutely = live.ready()["cron_job"]["name"].as_str().unwrap();
    let tick = format!("#cron-jobs tr{}", with("data-cron-job", interval));
    let minute = format!("#cron-jobs tr{}", with("data-cron-job", minutely));
    let schedule = browser.text(&format!("{minute} td.schedule")).unwrap();
    assert!(schedule.starts_with("cron “* * * * *”"), "{schedule}");
    assert_eq!(
        browser.text(&format!("{tick} td.schedule")).as_deref(),
        Some("every 2 s")
    );
    assert!(count(&browser, &format!("{tick} td.runs a")) >= 1);
    // A cron string's schedule says, in a sentence, which zone its run times show.
    let note = browser
        .text(&format!("{minute} td.schedule .zone-note"))
        .unwrap();
    assert!(note.contains("UTC") && note.ends_with('.'), "{note}");

    // The runs are a strip of marks, one per run (at most 10), each a link to its job whose
    // label and tooltip say the id and status in words; with the count of runs beside them.
    wait_for(Duration::from_secs(30), "a run of the interval job", || {
        browser.goto(&format!("{}/0/view/cron", app.address));
        (count(&browser, &format!("{tick} td.runs a.run")) >= 1).then_some(())
    });
    // The scheduler paused (SIGSTOP), a burst worker runs every run queued so far (finished);
    // resumed, it enqueues the next (queued). A worker racing a live scheduler could fall behind
    // on a slow machine and leave only queued runs among the newest 10.
    let queue = live.ready()["queue"].as_str().unwrap();
    signal("STOP", &[live.pid()]);
    rq.burst(&redis.url(), &[queue]);
    signal("CONT", &[live.pid()]);
    wait_for(Duration::from_secs(30), "finished and queued runs", || {
        browser.goto(&format!("{}/0/view/cron", app.address));
        (count(&browser, &format!("{tick} td.runs a.run.st-finished")) >= 1
            && count(&browser, &format!("{tick} td.runs a.run.st-queued")) >= 1)
            .then_some(())
    });
    let marks = browser.eval(&format!(
        "return Array.from(document.querySelectorAll({})).map(function (a) {{
            var r = a.getBoundingClientRect();
            return {{ href: a.getAttribute('href'), label: a.getAttribute('aria-label'),
                     title: a.title, status: a.dataset.status, w: r.width, h: r.height,
                     text: a.textContent, mark: getComputedStyle(a, '::before').content }};
        }});",
        json!(format!("{tick} td.runs a.run"))
    ));
    let marks = marks.as_array().unwrap();
    assert!(marks.len() <= 10, "{marks:?}");
    for m in marks {
        let label = m["label"].as_str().unwrap();
        let href = m["href"].as_str().unwrap();
        let id = href.rsplit('/').next().unwrap();
        assert!(label.contains(id), "{m}");
        assert!(label.contains(m["status"].as_str().unwrap()), "{m}");
        assert_eq!(m["title"], m["label"], "{m}");
        assert_eq!(m["text"], "", "the mark's glyph is decoration: {m}");
        assert!(m["mark"].as_str().is_some_and(|c| c != "none"), "{m}");
        assert!(
            m["w"].as_f64().unwrap() <= 24.0 && m["h"].as_f64().unwrap() <= 24.0,
            "{m}"
        );
    }
    // Not told by colour alone: a finished and a queued run have different marks.
    let shape = |status: &str| {
        marks
            .iter()
            .find(|m| m["status"] == status)
            .map(|m| m["mark"].clone())
            .unwrap()
    };
    assert_ne!(shape("finished"), shape("queued"));
    let runs = browser.text(&format!("{tick} td.runs .run-count")).unwrap();
    assert!(runs.ends_with("runs recorded"), "{runs}");
    // Compact: the whole strip takes at most two lines of marks, not a line per run.
    let height = browser.eval(&format!(
        "return document.querySelector({}).getBoundingClientRect().height;",
        json!(format!("{tick} td.runs .run-strip"))
    ));
    assert!(
        height.as_f64().unwrap() <= 50.0,
        "the strip is {height} px tall"
    );

    // The table stays live: after a refresh the scheduler is still there and alive.
    wait_for_a_refresh(&browser);
    assert_eq!(
        browser
            .text(&format!("{live_row} td:nth-child(2)"))
            .as_deref(),
        Some("alive")
    );
    shot(&browser, "cron");

    // A run opens the job RQ spawned, which names its cron job.
    browser.click(&format!("{tick} td.runs a"));
    let field = wait_text(
        &browser,
        "td[data-field=\"cron job\"]",
        "the spawned job's page",
        |_| true,
    );
    assert_eq!(field, interval);
    shot(&browser, "cron-run-job");

    // In Chinese: the menu, the interval and the zone sentence are translated.
    browser.goto(&format!("{}/lang/zh-CN?next=/0/view/cron", app.address));
    assert_eq!(
        browser.text("header nav a[data-nav=\"cron\"]").as_deref(),
        Some("定时任务")
    );
    assert_eq!(
        browser.text(&format!("{tick} td.schedule")).as_deref(),
        Some("每 2 秒")
    );
    let note = browser
        .text(&format!("{minute} td.schedule .zone-note"))
        .unwrap();
    assert!(note.contains("UTC") && note.contains("解读"), "{note}");
    shot(&browser, "cron-zh");
    browser.goto(&format!("{}/lang/en?next=/0/view/cron", app.address));

    // A phone, light and dark: schedulers and cron jobs are cards, names stay whole.
    let phone = Browser::start_with_size(390, 844);
    for scheme in Scheme::BOTH {
        phone.set_color_scheme(scheme);
        fits_a_phone(
            &phone,
            &app,
            "/0/view/cron",
            &format!("cron-phone-{}", scheme.as_str()),
        );
        let f = phone.phone_layout(
            "#cron-jobs .qname, #cron-schedulers .qname",
            "#cron-schedulers, #cron-jobs",
        );
        assert!(f.broken_names.is_empty(), "{:?}", f.broken_names);
        assert!(f.names_seen >= 4, "{f:?}");
        assert!(f.cards_seen >= 4, "{f:?}");
        assert!(f.not_cards.is_empty(), "{:?}", f.not_cards);
        phone.screenshot_full(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
            "target/screenshots/phone-cron-{}.png",
            scheme.as_str()
        )));
    }
}

#[test]
fn groups_pages_and_requeue_failed_after_confirming() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    rq.groups(&redis.url());
    let app = TestApp::for_redis(&redis.url());
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/groups", app.address));

    // Every group RQ made, with its statuses as RQ counts them (an expired job as "expired").
    assert_eq!(count(&browser, "#groups tr[data-group]"), 4);
    let statuses = |g: &str| {
        texts(
            &browser,
            &format!("tr{} [data-status]", with("data-group", g)),
        )
    };
    assert_eq!(statuses("group-mixed"), ["2 failed", "2 finished"]);
    assert_eq!(statuses("group-all-ok"), ["1 expired", "3 finished"]);
    assert_eq!(statuses("group-pending"), ["2 queued"]);
    assert_eq!(statuses("group-two-queues"), ["1 finished", "1 queued"]);
    shot(&browser, "groups");

    // The group page, reached by its link, offers what fits: requeue the failed ones, delete.
    browser.click("tr[data-group=\"group-mixed\"] td.name a");
    wait_text(&browser, "#group-summary", "the group page", |t| {
        t.starts_with("4 jobs")
    });
    assert_eq!(
        texts(&browser, "#group-actions button"),
        ["Delete group", "Requeue failed"]
    );
    browser.click("#group-actions form[action$=\"/requeue\"] button");
    let question = wait_for(Duration::from_secs(10), "the confirmation", || {
        browser.dialog_text()
    });
    assert_eq!(question, "Requeue 2 failed jobs of group “group-mixed”?");
    browser.accept_dialog();
    wait_text(
        &browser,
        "#group-summary [data-status=\"queued\"]",
        "the page to show the requeued jobs",
        |t| t == "2 queued",
    );
    assert_eq!(
        count(&browser, "#group-summary [data-status=\"failed\"]"),
        0
    );
    assert_eq!(
        rq.groups_oracle(&redis.url())["groups"]["group-mixed"]["counts"],
        json!({"finished": 2, "queued": 2})
    );
    shot(&browser, "group-requeued");

    // A job of the group links back to it.
    browser.click("#job-list tr[data-job-id=\"group-mixed-fail-1\"] td.id a");
    let field = wait_text(
        &browser,
        "td[data-field=\"group\"] a",
        "the job page",
        |_| true,
    );
    assert_eq!(field, "group-mixed");
    shot(&browser, "group-job");

    let phone = Browser::start_with_size(390, 844);
    fits_a_phone(&phone, &app, "/0/view/groups", "groups-phone");
    fits_a_phone(&phone, &app, "/0/view/groups/group-mixed", "group-phone");
}

#[test]
fn rate_limits_show_a_leaked_slot() {
    let redis = TestRedis::start();
    let rq = Rq::new("3.0.0");
    let made = rq.rate_limits(&redis.url());
    let app = TestApp::for_redis(&redis.url());
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/rate-limits", app.address));

    let cell = |key: &str, css: &str| {
        browser
            .text(&format!("tr{} {css}", with("data-rate-limit", key)))
            .unwrap_or_default()
    };
    assert_eq!(count(&browser, "#rate-limits tr[data-rate-limit]"), 2);
    assert_eq!(
        (cell("api", "td.in-use"), cell("api", "td.waiting")),
        ("2".into(), "3".into())
    );
    assert_eq!(cell("api", "td.leaked"), "none");
    assert!(!has_class(
        &browser,
        "tr[data-rate-limit=\"api\"]",
        "problem"
    ));
    // The slot RQ leaked is flagged, named and linked.
    assert_eq!(
        made["rate_limits"]["leaky"]["leaked"],
        json!(["rl-leak-holder"])
    );
    assert_eq!(cell("leaky", "td.leaked a"), "rl-leak-holder");
    assert_eq!(
        (cell("leaky", "td.in-use"), cell("leaky", "td.waiting")),
        ("1".into(), "1".into())
    );
    assert!(has_class(
        &browser,
        "tr[data-rate-limit=\"leaky\"]",
        "problem"
    ));
    shot(&browser, "rate-limits");

    // The key's page: the leak in its summary, the job stuck behind it.
    browser.click("tr[data-rate-limit=\"leaky\"] td.name a");
    let summary = wait_text(&browser, "#rate-limit-summary", "the key's page", |_| true);
    assert!(summary.contains("1 in use, 1 waiting"), "{summary}");
    assert!(
        summary.contains("1 leaked (held by rl-leak-holder, no longer queued or running)"),
        "{summary}"
    );
    assert_eq!(
        browser
            .text("#rate-limit-summary a[href$=\"/job/rl-leak-holder\"]")
            .as_deref(),
        Some("rl-leak-holder")
    );
    assert_eq!(
        texts(&browser, "#job-list tr[data-job-id] td.id"),
        ["rl-leak-waiter"]
    );
    shot(&browser, "rate-limit");

    browser.click("#job-list tr[data-job-id=\"rl-leak-waiter\"] td.id a");
    let field = wait_text(
        &browser,
        "td[data-field=\"rate limit\"]",
        "the waiting job's page",
        |_| true,
    );
    assert_eq!(field, "leaky (at most 1 at a time)");
    assert_eq!(browser.text("#job-status").as_deref(), Some("rate_limited"));
    shot(&browser, "rate-limited-job");

    let phone = Browser::start_with_size(390, 844);
    fits_a_phone(&phone, &app, "/0/view/rate-limits", "rate-limits-phone");
    fits_a_phone(
        &phone,
        &app,
        "/0/view/rate-limits/leaky",
        "rate-limit-phone",
    );
}

#[test]
fn overview_warns_of_a_queue_without_a_scheduler() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let worker = rq.scheduler_worker(&redis.url(), &["sched"], "sched-w");
    let orphan = worker.ready()["orphan_queue"].as_str().unwrap().to_string();
    let oracle = rq.scheduler_oracle(&redis.url(), &["sched", &orphan]);
    let holder = oracle["queues"]["sched"]["lock_holder"].as_str().unwrap();
    let scheduler = &oracle["queues"]["sched"]["scheduler"];
    let (host, pid) = (scheduler["hostname"].as_str().unwrap(), &scheduler["pid"]);
    let app = polling_app(&redis.url());
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/queues", app.address));

    let badge = format!(
        "tr{} td.scheduler [data-stranded]",
        with("data-queue", &orphan)
    );
    let check = |browser: &Browser| {
        assert_eq!(
            browser.text(&badge).as_deref(),
            Some("1 overdue, no scheduler")
        );
        assert_eq!(
            browser.text(&format!("tr{} td.scheduler", with("data-queue", &orphan))),
            Some("– 1 overdue, no scheduler".to_string())
        );
        // The 32-hex-digit name, shortened to one line, then where it runs; all of it on hover.
        let short: String = holder.chars().take(8).collect();
        assert_eq!(
            browser
                .text("tr[data-queue=\"sched\"] td.scheduler")
                .as_deref(),
            Some(format!("{short}… {host} · pid {pid}").as_str())
        );
        assert_eq!(
            browser.eval(
                "return document.querySelector('tr[data-queue=\"sched\"] td.scheduler [title]').title;"
            ),
            json!(format!(
                "{holder} on {host} (pid {pid}) holds rq:scheduler-lock for this queue"
            ))
        );
        // The name, host and pid fit on one line (the test host's name is short).
        assert_eq!(
            browser.eval(
                "return document.querySelector('tr[data-queue=\"sched\"] td.scheduler .holder').getClientRects().length;"
            ),
            json!(1)
        );
        assert_eq!(
            count(browser, "tr[data-queue=\"sched\"] [data-stranded]"),
            0
        );
    };
    check(&browser);
    // Still so after a live refresh.
    wait_for_a_refresh(&browser);
    check(&browser);
    shot(&browser, "overview-scheduler");

    let phone = Browser::start_with_size(390, 844);
    fits_a_phone(&phone, &app, "/0/view/queues", "overview-scheduler-phone");
    drop(worker);
}

#[test]
fn job_page_lists_an_execution_and_stops_it_after_confirming() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let _busy = rq.busy_worker(&redis.url(), "busy", "job-busy");
    let oracle = rq.executions(&redis.url(), "job-busy");
    let exec = oracle["executions"][0]["id"].as_str().unwrap().to_string();
    let app = TestApp::for_redis(&redis.url());
    let browser = Browser::start();
    browser.goto(&format!("{}/0/view/job/job-busy", app.address));

    let row = format!("#job-executions tr{}", with("data-execution", &exec));
    assert_eq!(count(&browser, "#job-executions tr[data-execution]"), 1);
    assert_eq!(
        browser.text(&format!("{row} td:first-child")),
        Some(exec.clone())
    );
    if let Some(w) = oracle["worker_name"].as_str() {
        assert_eq!(
            browser.text(&format!("{row} td:nth-child(2)")).as_deref(),
            Some(w)
        );
    }
    assert_eq!(browser.text("#job-status").as_deref(), Some("started"));
    shot(&browser, "job-executions");
    let phone = Browser::start_with_size(390, 844);
    fits_a_phone(&phone, &app, "/0/view/job/job-busy", "job-executions-phone");
    phone.eval("document.getElementById('job-executions').scrollIntoView(); return null;");
    shot(&phone, "job-executions-phone-table");

    browser.click(&format!("{row} form.act button"));
    let question = wait_for(Duration::from_secs(10), "the confirmation", || {
        browser.dialog_text()
    });
    assert!(question.contains(&exec), "{question}");
    browser.accept_dialog();
    // The worker stops the job; the page shows it once reloaded.
    wait_for(
        Duration::from_secs(30),
        "the job to be shown stopped",
        || {
            browser.goto(&format!("{}/0/view/job/job-busy", app.address));
            matches!(
                browser.text("#job-status").as_deref(),
                Some("stopped" | "failed")
            )
            .then_some(())
        },
    );
    assert_eq!(count(&browser, "#job-executions tr[data-execution]"), 0);
    shot(&browser, "job-execution-stopped");
}

const GROUP: &str = "<img src=x onerror=alert(1)>";
const TEXT: &str = "<script>alert(2)</script>";
const KEY: &str = "\"><svg onload=alert(3)>";
const CRON_TICK: &str = "<img src=x onerror=alert(4)>tick";
const CRON_MINUTE: &str = "</td><script>alert(5)</script>";
const HOST: &str = "<iframe src=javascript:alert(6)></iframe>";
const CONFIG: &str = "\"><img src=x onerror=alert(7)>.py";
const LOCK: &str = "<svg onload=alert(8)>";

/// Nothing from the data became markup: no dialog, no element the payloads would make, no
/// inline script, no event-handler attribute.
fn inert(browser: &Browser, page: &str) {
    assert_eq!(browser.dialog_text(), None, "{page}: a dialog opened");
    assert_eq!(count(browser, "img, iframe"), 0, "{page}");
    assert_eq!(count(browser, "svg:not(.chart)"), 0, "{page}");
    assert_eq!(count(browser, "[onerror], [onload]"), 0, "{page}");
    assert_eq!(
        browser.eval("return Array.from(document.scripts).filter(s => !s.src).length;"),
        0,
        "{page}: an inline script"
    );
}

/// Raw, as RQ never writes it: a cron scheduler whose host, config path and cron job carry
/// markup, and a scheduler lock held by such a name.
fn write_raw(redis: &TestRedis) -> String {
    let mut c = redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let name = "evilhost:1:abcdef";
    let jobs = json!([{
        "func_name": TEXT, "name": "raw-cron-job", "queue_name": GROUP, "args": null,
        "kwargs": null, "interval": 60, "cron": null, "latest_enqueue_time": null,
        "next_enqueue_time": null, "result_ttl": 500
    }]);
    let _: () = redis::pipe()
        .cmd("ZADD")
        .arg("rq:cron_schedulers")
        .arg(now)
        .arg(name)
        .cmd("HSET")
        .arg(format!("rq:cron_scheduler:{name}"))
        .arg("name")
        .arg(name)
        .arg("hostname")
        .arg(HOST)
        .arg("pid")
        .arg("1")
        .arg("config_file")
        .arg(CONFIG)
        .arg("created_at")
        .arg("2026-01-01T00:00:00.000000Z")
        .arg("cron_jobs")
        .arg(jobs.to_string())
        .cmd("SET")
        .arg("rq:scheduler-lock:hostile-groups-pending")
        .arg(LOCK)
        .arg("EX")
        .arg(600)
        .query(&mut c)
        .unwrap();
    name.to_string()
}

#[test]
fn names_with_html_stay_text_and_run_nothing() {
    let redis = TestRedis::start();
    let rq = Rq::new("3.0.0");
    let made = rq.hostile_newer(&redis.url(), GROUP, KEY, TEXT);
    assert_eq!(made["rate_limit"]["leaked"], json!(["hostile-rl-holder"]));
    let cron = rq.cron_named(&redis.url(), CRON_TICK, CRON_MINUTE);
    let raw_scheduler = write_raw(&redis);
    let app = polling_app(&redis.url());
    let browser = Browser::start();
    let open = |path: &str| {
        browser.goto(&format!("{}{path}", app.address));
        inert(&browser, path);
    };

    // The overview (polled): the lock holder is text, shortened, and whole on hover.
    open("/0/view/queues");
    wait_for_a_refresh(&browser);
    inert(&browser, "/0/view/queues, refreshed");
    let cell = "tr[data-queue=\"hostile-groups-pending\"] td.scheduler";
    let shown = browser.text(cell).unwrap_or_default();
    let short: String = LOCK.chars().take(8).collect();
    assert!(shown.starts_with(&short), "{shown:?}");
    let title = browser.eval(&format!(
        "return document.querySelector({}).title;",
        json!(format!("{cell} [title]"))
    ));
    assert!(title.as_str().unwrap_or_default().contains(LOCK), "{title}");
    shot(&browser, "hostile-overview");

    // Cron (polled): RQ's cron job names, and the raw scheduler's host, config and job.
    open("/0/view/cron");
    wait_for_a_refresh(&browser);
    inert(&browser, "/0/view/cron, refreshed");
    for name in [CRON_TICK, CRON_MINUTE] {
        let cell = browser
            .text(&format!(
                "#cron-jobs tr{} td.name",
                with("data-cron-job", name)
            ))
            .unwrap_or_else(|| panic!("no row for cron job {name}"));
        assert!(cell.starts_with(name), "{cell}");
    }
    let raw = format!(
        "#cron-schedulers tr{}",
        with("data-scheduler", &raw_scheduler)
    );
    assert_eq!(
        browser.text(&format!("{raw} td:nth-child(3)")).as_deref(),
        Some(HOST)
    );
    assert_eq!(
        browser.text(&format!("{raw} td:nth-child(5)")).as_deref(),
        Some(CONFIG)
    );
    let raw_job = "#cron-jobs tr[data-cron-job=\"raw-cron-job\"]";
    assert_eq!(
        browser
            .text(&format!("{raw_job} td:nth-child(2)"))
            .as_deref(),
        Some(TEXT)
    );
    assert_eq!(
        browser
            .text(&format!("{raw_job} td:nth-child(3)"))
            .as_deref(),
        Some(GROUP)
    );
    shot(&browser, "hostile-cron");
    // A run of the hostile interval job names it on the job page.
    browser.click(&format!(
        "#cron-jobs tr{} td.runs a",
        with("data-cron-job", CRON_TICK)
    ));
    let field = wait_text(
        &browser,
        "td[data-field=\"cron job\"]",
        "a run's page",
        |_| true,
    );
    inert(&browser, "a cron run's job page");
    assert_eq!(field, CRON_TICK);
    drop(cron);

    // Groups: the name as text in the list, the group page, a job page and the confirmation.
    open("/0/view/groups");
    let row = format!("#groups tr{}", with("data-group", GROUP));
    assert_eq!(
        browser.text(&format!("{row} td.name")).as_deref(),
        Some(GROUP)
    );
    shot(&browser, "hostile-groups");
    browser.click(&format!("{row} td.name a"));
    wait_text(&browser, "#group-summary", "the group page", |_| true);
    inert(&browser, "the group page");
    assert_eq!(
        browser.text("h1").as_deref(),
        Some(format!("Group {GROUP}").as_str())
    );
    assert_eq!(
        browser.text("#job-list tr[data-job-id=\"hostile-group-fail\"] td.desc"),
        Some(format!("rqdash_jobs.fail('{TEXT}')"))
    );
    assert!(browser
        .text("#job-list tr[data-job-id=\"hostile-group-fail\"] td.exc")
        .unwrap()
        .contains(&format!("ValueError: {TEXT}")));
    shot(&browser, "hostile-group");
    browser.click("#group-actions form[action$=\"/cancel\"] button");
    let question = wait_for(Duration::from_secs(10), "the confirmation", || {
        browser.dialog_text()
    });
    assert_eq!(
        question,
        format!("Cancel 1 pending job of group “{GROUP}”? They move to their queue's canceled registry.")
    );
    browser.accept_dialog();
    wait_text(
        &browser,
        "#group-summary [data-status=\"canceled\"]",
        "the canceled job on the group page",
        |t| t == "1 canceled",
    );
    inert(&browser, "the group page after the action");
    assert_eq!(
        rq.groups_oracle(&redis.url())["groups"][GROUP]["counts"],
        json!({"finished": 1, "failed": 1, "canceled": 1})
    );
    open("/0/view/job/hostile-group-fail");
    assert_eq!(
        browser.text("td[data-field=\"group\"]").as_deref(),
        Some(GROUP)
    );
    assert!(browser
        .text("#job-exc")
        .unwrap()
        .contains(&format!("ValueError: {TEXT}")));

    // Rate limits: the key as text in the list, on its page and on a waiting job's page.
    open("/0/view/rate-limits");
    let row = format!("#rate-limits tr{}", with("data-rate-limit", KEY));
    assert_eq!(
        browser.text(&format!("{row} td.name")).as_deref(),
        Some(KEY)
    );
    assert_eq!(
        browser.text(&format!("{row} td.leaked a")).as_deref(),
        Some("hostile-rl-holder")
    );
    shot(&browser, "hostile-rate-limits");
    browser.click(&format!("{row} td.name a"));
    wait_text(&browser, "#rate-limit-summary", "the key's page", |_| true);
    inert(&browser, "the rate limit page");
    assert_eq!(
        browser.text("h1").as_deref(),
        Some(format!("Rate limit {KEY}").as_str())
    );
    assert_eq!(
        browser.text("#job-list tr[data-job-id=\"hostile-rl-waiter\"] td.desc"),
        Some(format!("rqdash_jobs.echo('{TEXT}')"))
    );
    shot(&browser, "hostile-rate-limit");
    open("/0/view/job/hostile-rl-waiter");
    assert_eq!(
        browser.text("td[data-field=\"rate limit\"]"),
        Some(format!("{KEY} (at most 1 at a time)"))
    );
}
