//! Hostile job data is shown as text, never run; GETs never write.

use crate::support::html::{count, text};
use crate::support::{Seeded, TestApp};

pub fn hostile_text_stays_text(version: &'static str) {
    let env = Seeded::new(version);
    for path in [
        "/0/view/jobs/default/finished/50/asc/1",
        "/0/view/jobs/default/failed/50/asc/1",
        "/0/view/job/job-hostile",
        "/0/view/job/job-failed-1",
        "/0/fragments/jobs/default/failed/50/asc/1",
    ] {
        let r = env.app.get(path);
        assert_eq!(r.status, 200, "{path}");
        let body = r.text();
        assert!(
            !body.contains("<img src=x"),
            "RQ {version}: raw <img> in {path}"
        );
        assert!(
            !body.contains("<script>alert"),
            "RQ {version}: raw <script> in {path}"
        );
        let doc = scraper::Html::parse_document(&body);
        assert_eq!(count(&doc, "img"), 0, "RQ {version}: {path}");
        // Only our own two scripts (htmx and app.js) on full pages; none in fragments.
        assert!(count(&doc, "script") <= 2, "RQ {version}: {path}");
        assert_eq!(count(&doc, "[onerror]"), 0, "RQ {version}: {path}");
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("script-src 'self'"), "{path}: CSP {csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    // The payloads are visible as text.
    let doc = env.app.html("/0/view/job/job-hostile");
    assert_eq!(
        text(&doc, "#job-description"),
        "<img src=x onerror=alert(1)>"
    );
}

per_rq_version!(
    hostile_text_is_escaped,
    crate::security::hostile_text_stays_text
);

/// Commands the dashboard may send: reads only.
const READ_COMMANDS: [&str; 29] = [
    "smembers",
    "sismember",
    "exists",
    "llen",
    "lrange",
    "lindex",
    "zcard",
    "zcount",
    "zscore",
    "get",
    "scard",
    "sscan",
    "zrange",
    "zrevrange",
    "zrangebyscore",
    "zrevrangebyscore",
    "hstrlen",
    "echo",
    "hget",
    "hmget",
    "hgetall",
    "hexists",
    "xrevrange",
    "ttl",
    "ping",
    "client",
    "hello",
    "select",
    "info",
];

#[test]
fn browsing_every_page_sends_no_write_command() {
    let mut env = Seeded::new("2.12.0");
    // The history's background writes (its own keys, see history.rs) are not browsing: keep
    // it in memory here so any write seen comes from a page.
    let mut settings = rqdash::config::Settings::for_url(&env.redis.url());
    settings.history_in_redis = false;
    env.app = TestApp::spawn(settings);
    let mut c = env.redis.conn();
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    for path in [
        "/",
        "/0/view/workers",
        "/0/data/queues.json",
        "/0/data/workers.json",
        "/0/view/jobs/default/failed/8/asc/1",
        "/0/view/jobs/default/started/8/dsc/1",
        "/0/view/jobs/default/queued/8/dsc/1",
        "/0/data/jobs/default/finished/8/asc/1.json",
        "/0/view/job/job-failed-1",
        "/0/view/job/job-queued-1",
        "/0/data/job/job-deferred.json",
        "/0/view/job/no-such-job",
        "/0/fragments/overview",
        "/0/view/cron",
        "/0/data/cron.json",
        "/0/view/groups",
        "/0/data/groups.json",
        "/0/view/rate-limits",
        "/0/data/rate_limits.json",
        "/0/view/failures/default",
        "/0/view/search?exc=Error&q=boom&func=fail",
        "/0/fragments/search?registry=finished&worker=w",
        "/healthz",
    ] {
        env.app.get(path);
    }
    // Searches scan in the background: wait until each has read everything.
    for query in [
        "exc=Error&q=boom&func=fail",
        "registry=finished&worker=w",
        "queue=*&registry=queued&since=2020-01-01",
    ] {
        crate::support::wait_for(
            std::time::Duration::from_secs(30),
            "the search to complete",
            || {
                (env.app.json(&format!("/0/data/search.json?{query}"))["complete"] == true)
                    .then_some(())
            },
        );
    }
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut c)
        .unwrap();
    let used: Vec<String> = info
        .lines()
        .filter_map(|l| l.strip_prefix("cmdstat_"))
        .filter_map(|l| l.split(':').next())
        .map(|s| s.split('|').next().unwrap().to_string())
        .filter(|s| s != "config")
        .collect();
    for cmd in &used {
        assert!(
            READ_COMMANDS.contains(&cmd.as_str()),
            "the dashboard sent {cmd} while only browsing (all: {used:?})"
        );
    }
    assert!(
        used.iter().any(|c| c == "hmget"),
        "the pages did read: {used:?}"
    );
}
