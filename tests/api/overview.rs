//! The overview page and `queues.json` against RQ's own counts.

use crate::support::html::{count, css_str, text, texts};
use crate::support::{seg, Seeded};
use serde_json::Value;

use crate::support::REGISTRIES;

fn json_count(q: &Value, registry: &str) -> u64 {
    let field = if registry == "queued" {
        "count".to_string()
    } else {
        format!("{registry}_job_registry_count")
    };
    q[&field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} missing in {q}"))
}

pub fn counts_match_rq(version: &'static str) {
    // Arrange
    let env = Seeded::new(version);
    let oracle = env.oracle();
    let expected = oracle["queues"].as_object().unwrap();

    // Act
    let json = env.app.json("/0/data/queues.json");
    let doc = env.app.html("/0/view/queues");

    // Assert: the same queues, in name order, with the same counts in JSON and on the page.
    let names: Vec<&str> = json["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    let mut want: Vec<&str> = expected.keys().map(String::as_str).collect();
    want.sort();
    assert_eq!(names, want, "RQ {version}: queue names");
    for q in json["queues"].as_array().unwrap() {
        let name = q["name"].as_str().unwrap();
        for r in REGISTRIES {
            let want = expected[name][r].as_u64().unwrap();
            assert_eq!(
                json_count(q, r),
                want,
                "RQ {version}: {name}/{r} in queues.json"
            );
            let cell = text(
                &doc,
                &format!(
                    "tr[data-queue=\"{}\"] td[data-registry=\"{r}\"]",
                    css_str(name)
                ),
            );
            assert_eq!(
                cell,
                want.to_string(),
                "RQ {version}: {name}/{r} on the page"
            );
        }
        let ready = oracle["ready_registries"]
            .get(name)
            .and_then(|r| r["count"].as_u64())
            .unwrap_or(0);
        assert_eq!(
            q["ready_job_registry_count"].as_u64(),
            Some(ready),
            "RQ {version}: {name}/ready"
        );
    }
    // The totals row adds up.
    for r in REGISTRIES {
        let sum: u64 = expected.values().map(|q| q[r].as_u64().unwrap()).sum();
        let cell = text(&doc, &format!("tr.total td[data-registry=\"{r}\"]"));
        assert_eq!(cell, sum.to_string(), "RQ {version}: total {r}");
    }
    // Every count links to its list, with the queue name encoded as one path segment.
    let odd = "a/b:c ünï";
    let links = crate::support::html::attrs(
        &doc,
        &format!(
            "tr[data-queue=\"{}\"] td[data-registry=\"failed\"] a",
            css_str(odd)
        ),
        "href",
    );
    assert_eq!(
        links,
        vec![format!("/0/view/jobs/{}/failed/8/asc/1", seg(odd))]
    );
    // The oldest queued job's age is shown for a non-empty queue.
    assert_eq!(
        count(&doc, "tr[data-queue=\"default\"] td.age time"),
        1,
        "RQ {version}: oldest-queued age"
    );
}

per_rq_version!(overview_counts_match_rq, crate::overview::counts_match_rq);

#[test]
fn the_polled_fragment_is_the_table_without_the_layout() {
    let env = Seeded::new("2.12.0");
    let r = env.app.get("/0/fragments/overview");
    assert_eq!(r.status, 200);
    let body = r.text();
    assert!(!body.contains("<html"), "fragment has no layout");
    let doc = scraper::Html::parse_fragment(&body);
    assert_eq!(count(&doc, "section#overview[hx-get][hx-trigger]"), 1);
    assert_eq!(
        texts(
            &doc,
            "tr[data-queue=\"default\"] td[data-registry=\"failed\"]"
        ),
        vec!["2"]
    );
}

#[test]
fn the_root_url_and_rq_dashboard_aliases_show_the_overview() {
    let env = Seeded::new("2.12.0");
    for path in ["/", "/0", "/0/", "/0/view", "/0/view/queues"] {
        let doc = env.app.html(path);
        assert_eq!(count(&doc, "table#queues"), 1, "{path}");
    }
}

#[test]
fn suspension_is_shown() {
    let redis = crate::support::TestRedis::start();
    crate::support::Rq::new("2.12.0").seed(&redis.url());
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.snapshot_ttl = std::time::Duration::ZERO;
    let env = crate::support::TestApp::spawn(s);
    let env = Env { app: env, redis };
    assert_eq!(count(&env.app.html("/0/view/queues"), "#suspended"), 0);
    // `rq suspend` sets this key.
    let mut c = env.redis.conn();
    let _: () = redis::cmd("SET")
        .arg("rq:suspended")
        .arg(1)
        .query(&mut c)
        .unwrap();
    assert_eq!(count(&env.app.html("/0/view/queues"), "#suspended"), 1);
    assert_eq!(env.app.json("/0/data/queues.json")["suspended"], true);
}

struct Env {
    app: crate::support::TestApp,
    redis: crate::support::TestRedis,
}

#[test]
fn many_viewers_share_one_read_of_redis() {
    let mut env = Seeded::new("2.12.0");
    // The background loop (snapshot, history, rules) reads Redis on its own schedule: once at
    // start, then every 30 s or more, so it stays out of the count; the shared read lives 3 s.
    let mut settings = rqdash::config::Settings::for_url(&env.redis.url());
    settings.poll_interval = std::time::Duration::from_secs(30);
    settings.snapshot_ttl = std::time::Duration::from_secs(3);
    settings.history_interval = std::time::Duration::from_secs(60);
    settings.alert_interval = std::time::Duration::from_secs(60);
    env.app = crate::support::TestApp::spawn(settings);
    env.redis.wait_history_started();
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let mut c = env.redis.conn();
    // One read, to learn what a snapshot costs.
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    env.app.json("/0/data/queues.json");
    let one = total_calls(&mut c);
    assert!(one > 0);
    // Twenty viewers at once, on every page and JSON built from the overview.
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    std::thread::scope(|s| {
        for i in 0..20 {
            let app = &env.app;
            s.spawn(move || {
                let path = [
                    "/0/data/queues.json",
                    "/0/fragments/overview",
                    "/0/data/workers.json",
                    "/0/view/workers",
                ][i % 4];
                assert_eq!(app.get(path).status, 200);
            });
        }
    });
    let twenty = total_calls(&mut c);
    assert!(
        twenty <= one,
        "20 viewers cost {twenty} Redis calls, one cost {one}: the snapshot is shared"
    );
}

fn total_calls(c: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query(c).unwrap();
    info.lines()
        .filter(|l| {
            l.starts_with("cmdstat_")
                && !l.starts_with("cmdstat_config")
                && !l.starts_with("cmdstat_info")
        })
        .filter_map(|l| l.split("calls=").nth(1))
        .filter_map(|v| v.split(',').next())
        .filter_map(|v| v.parse::<u64>().ok())
        .sum()
}

#[test]
fn an_empty_redis_says_what_to_do_next_and_offers_no_suspend() {
    let redis = crate::support::TestRedis::start();
    let app = crate::support::TestApp::for_redis(&redis.url());
    let doc = app.html("/0/view/queues");
    let hint = text(&doc, "#no-queues");
    assert!(hint.contains("No queues yet"), "{hint}");
    assert!(hint.contains("enqueue a job with RQ"), "{hint}");
    assert!(hint.contains("rq worker"), "{hint}");
    // Nothing to suspend: no workers.
    assert!(!texts(&doc, "#overview-actions button")
        .iter()
        .any(|b| b.contains("Suspend")));
    assert!(text(&doc, "#workers-summary").starts_with("0 workers"));
    // Before two minutes of samples, the charts say since when they collect.
    let notes = texts(&doc, ".charts .collecting");
    assert_eq!(notes.len(), 4, "{notes:?}");
    assert!(notes[0].starts_with("collecting since "), "{notes:?}");
    assert_eq!(count(&doc, ".charts svg"), 0);
}

#[test]
fn one_worker_is_one_worker_and_a_zero_failed_total_is_not_red() {
    let redis = crate::support::TestRedis::start();
    let rq = crate::support::Rq::new("2.12.0");
    rq.enqueue(&redis.url(), "default", 1);
    let _worker = rq.idle_worker(&redis.url(), "other", "solo");
    let app = crate::support::TestApp::for_redis(&redis.url());
    let summary = crate::support::wait_for(
        std::time::Duration::from_secs(20),
        "the worker to register",
        || {
            let s = text(&app.html("/0/view/queues"), "#workers-summary");
            s.starts_with("1 worker").then_some(s)
        },
    );
    assert!(summary.starts_with("1 worker:"), "{summary}");
    let doc = app.html("/0/view/queues");
    // With workers, suspending is offered.
    assert!(texts(&doc, "#overview-actions button")
        .iter()
        .any(|b| b.contains("Suspend")));
    // Failed counts of 0, in the rows and the totals, carry the muted `zero` class.
    assert_eq!(count(&doc, "tfoot td.failed.zero"), 1);
    assert_eq!(count(&doc, "tbody td.failed:not(.zero)"), 0);
}
