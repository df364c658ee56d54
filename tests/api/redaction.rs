//! Redaction (`--redact-key`, `--redact-pattern`) on secrets planted by real RQ (every version,
//! pickle and JSON) in a job's arguments, keyword arguments (nested too), meta, return value and
//! traceback, and in the description of the job a live worker runs: a user without `unredacted`
//! crawls every page,
//! fragment and JSON answer reachable from the overview (and the README's endpoints, `/metrics`,
//! exports) and never gets a secret, nor a search match for one; the alert and audit webhooks
//! never hear one, even of what an unredacted user did; a user granted `unredacted` sees them.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use crate::support::process::TempDir;
use crate::support::webhook::{Mode, Receiver};
use crate::support::{http, settings_from_flags, wait_for, Rq, TestApp, TestRedis, REGISTRIES};

/// Free text, found by the pattern below only.
const SECRET: &str = "sk-LEAK7f3a9c1e5d";
/// Under key names only, found by the keys below only.
const KEY_SECRET: &str = "KEYONLY-4242-zz";
/// What must never show, whole or in part (the secrets' distinctive parts).
const NEVER: [&str; 5] = [SECRET, KEY_SECRET, "sk-LEAK", "LEAK7f3a", "KEYONLY"];
/// A part of [`SECRET`] the pattern does not match by itself.
const SECRET_PART: &str = "7f3a9c1e";

/// vic may look (and read the trail, and requeue), never unredacted; ada may do anything.
const POLICY: &str = r#"role = [
  { name = "looker", actions = ["view", "audit", "requeue", "bulk"], users = ["vic"] },
  { name = "admin", actions = "*", users = ["ada"] },
]"#;

/// A dashboard with the rules, the policy, both webhooks and fast alert rounds, on a Redis where
/// the queue `secrets` already exists (so the failure-burst rule learns it before it fails).
struct Env {
    redis: TestRedis,
    rq: Rq,
    _dir: TempDir,
    app: TestApp,
    alerts: Receiver,
    audits: Receiver,
}

impl Env {
    /// With RQ `rq`, whose serializer `json` says (`--json` for the dashboard as well).
    fn start(rq: Rq, json: bool) -> Env {
        let redis = TestRedis::start();
        rq.enqueue(&redis.url(), "secrets", 1);
        let dir = TempDir::new("redaction");
        let policy = dir.path().join("policy.toml");
        std::fs::write(&policy, POLICY).unwrap();
        let (alerts, audits) = (Receiver::start(Mode::Ok), Receiver::start(Mode::Ok));
        let mut flags = vec![
            "--auth-header",
            "X-Forwarded-User",
            "--trust-proxy",
            "--policy",
            policy.to_str().unwrap(),
            "--redact-key",
            "API_KEY,password",
            "--redact-key",
            "token",
            "--redact-pattern",
            "sk-LEAK[0-9a-f]{10}",
            "--alert-webhook",
            &alerts.url,
            "--audit-webhook",
            &audits.url,
            "--alert-interval",
            "1",
        ];
        if json {
            flags.push("--json");
        }
        let mut s = settings_from_flags(&redis.url(), &flags);
        s.snapshot_ttl = Duration::ZERO;
        s.alert_warm_up = Duration::ZERO;
        s.thresholds.burst_min = 1;
        let app = TestApp::spawn(s);
        wait_for(Duration::from_secs(30), "the first round of rules", || {
            (!alerts
                .notices("started", "queue_without_worker", Some("secrets"))
                .is_empty())
            .then_some(())
        });
        Env {
            redis,
            rq,
            _dir: dir,
            app,
            alerts,
            audits,
        }
    }

    /// GET `path` as `user` (an htmx request when `htmx`).
    fn get(&self, user: &str, path: &str, htmx: bool) -> http::Response {
        let mut h = vec![("X-Forwarded-User", user)];
        if htmx {
            h.push(("HX-Request", "true"));
        }
        http::request("GET", &format!("{}{path}", self.app.address), &h, None)
    }

    /// POST `path` as `user`, as the dashboard's own page would.
    fn post(&self, user: &str, path: &str) -> http::Response {
        http::request(
            "POST",
            &format!("{}{path}", self.app.address),
            &[
                ("Origin", self.app.address.as_str()),
                ("X-Forwarded-User", user),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some(b""),
        )
    }

    /// The search's JSON as `user`, once complete.
    fn search(&self, user: &str, qs: &str) -> serde_json::Value {
        let path = format!("/0/data/search.json?{qs}&per_page=100");
        let first = self.get(user, &format!("{path}&fresh=1"), false);
        assert_eq!(first.status, 200, "{path}: {}", first.text());
        wait_for(Duration::from_secs(30), "the search", || {
            let v = self.get(user, &path, false).json();
            (v["complete"] == true).then_some(v)
        })
    }

    fn status(&self, id: &str) -> String {
        redis::cmd("HGET")
            .arg(format!("rq:job:{id}"))
            .arg("status")
            .query::<Option<String>>(&mut self.redis.conn())
            .unwrap()
            .unwrap_or_default()
    }
}

/// Which secret part `text` holds, if any.
fn leak(text: &str) -> Option<&'static str> {
    NEVER.into_iter().find(|s| text.contains(s))
}

fn qs(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

/// The same-site links of a page: `href`s, `hx-get`s and GET forms' actions (assets, language
/// switches and other sites left out).
fn links(html: &str) -> Vec<(String, bool)> {
    let doc = scraper::Html::parse_document(html);
    let mut out = Vec::new();
    for (css, attr, htmx) in [
        ("a[href]", "href", false),
        ("[hx-get]", "hx-get", true),
        ("form:not([method=post])[action]", "action", false),
    ] {
        let sel = scraper::Selector::parse(css).unwrap();
        for e in doc.select(&sel) {
            let Some(v) = e.value().attr(attr) else {
                continue;
            };
            let v = v.split('#').next().unwrap_or_default();
            if v.starts_with('/')
                && !v.starts_with("//")
                && !v.starts_with("/static/")
                && !v.starts_with("/lang/")
                && v != "/favicon.ico"
            {
                out.push((v.to_string(), htmx));
            }
        }
    }
    out
}

/// The endpoints the README lists, besides what the pages link to.
fn endpoints(ids: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = [
        "/",
        "/all",
        "/metrics",
        "/healthz",
        "/0/data/queues.json",
        "/0/data/workers.json",
        "/0/data/token.json",
        "/0/data/health.json",
        "/0/data/history.json",
        "/0/data/history.json?queue=secrets&range=1h",
        "/0/data/stats.json",
        "/0/data/stats.json?queue=secrets&window=1h",
        "/0/data/cron.json",
        "/0/data/groups.json",
        "/0/data/rate_limits.json",
        "/0/view/audit",
        "/0/data/audit.json",
        "/0/data/audit.csv",
        "/0/view/failures/secrets",
        "/0/view/workers",
        "/0/fragments/workers",
        "/0/view/health",
        "/0/fragments/functions?queue=secrets",
        "/0/fragments/charts",
        "/0/fragments/problems",
        "/0/view/job/secret-busy",
        "/0/data/job/secret-busy.json",
    ]
    .map(str::to_string)
    .to_vec();
    for r in REGISTRIES {
        for q in ["secrets", "secrets-busy"] {
            v.push(format!("/0/view/jobs/{q}/{r}/50/dsc/1"));
            v.push(format!("/0/fragments/jobs/{q}/{r}/50/dsc/1"));
            v.push(format!("/0/data/jobs/{q}/{r}/50/dsc/1.json"));
        }
    }
    for id in ids.as_object().unwrap().values() {
        let id = id.as_str().unwrap();
        v.push(format!("/0/view/job/{id}"));
        v.push(format!("/0/data/job/{id}.json"));
    }
    for registry in [
        "failed",
        "finished",
        "queued",
        "scheduled",
        "deferred",
        "started",
    ] {
        for text in [("q", SECRET_PART), ("exc", SECRET_PART), ("func", "reveal")] {
            let q = qs(&[("queue", "*"), ("registry", registry), text]);
            v.push(format!("/0/view/search?{q}"));
            v.push(format!("/0/fragments/search?{q}"));
            v.push(format!("/0/data/search.json?{q}"));
        }
    }
    v
}

fn crawl_as_a_viewer_without_unredacted_finds_no_secret(version: &'static str) {
    crawl_finds_no_secret(Env::start(Rq::new(version), false));
}

#[test]
fn a_viewer_without_unredacted_never_gets_a_secret_of_json_serialized_jobs() {
    crawl_finds_no_secret(Env::start(Rq::new("3.0.0").json_serializer(), true));
}

fn crawl_finds_no_secret(env: Env) {
    // Arrange: the secrets, a failure the burst rule reports, a worker running a secret job.
    let url = env.redis.url();
    let planted = env.rq.plant_secret(&url, SECRET, KEY_SECRET);
    let _busy = env.rq.secret_worker(&url, SECRET, KEY_SECRET);
    wait_for(Duration::from_secs(30), "the busy job to start", || {
        (env.status("secret-busy") == "started").then_some(())
    });
    wait_for(Duration::from_secs(30), "the failure burst's alert", || {
        env.alerts
            .notices("started", "failure_burst", Some("secrets"))
            .into_iter()
            .next()
    });

    // Act: crawl as vic, from the overview and the README's endpoints.
    let mut queue: VecDeque<(String, bool)> = endpoints(&planted["ids"])
        .into_iter()
        .map(|p| (p, false))
        .collect();
    let mut seen = BTreeSet::new();
    let mut redacted = BTreeSet::new();
    while let Some((path, htmx)) = queue.pop_front() {
        if seen.len() >= 2000 || !seen.insert(path.clone()) {
            continue;
        }
        let r = env.get("vic", &path, htmx);
        let body = r.text();
        // Assert: no answer holds a secret, whole or in part.
        assert_eq!(leak(&body), None, "GET {path} ({}): {body}", r.status);
        assert!(r.status < 500, "GET {path}: {} {body}", r.status);
        if body.contains("[redacted]") {
            redacted.insert(path.clone());
        }
        if r.header("content-type")
            .unwrap_or("")
            .starts_with("text/html")
        {
            queue.extend(links(&body));
        }
    }
    eprintln!("crawled {} URLs as vic", seen.len());
    assert!(seen.len() > 100, "{seen:?}");
    // Redaction did the work: every view of a planted value shows it hidden.
    for path in [
        "/0/view/job/secret-call",
        "/0/data/job/secret-call.json",
        "/0/view/job/secret-result",
        "/0/data/job/secret-result.json",
        "/0/view/job/secret-failure",
        "/0/view/job/secret-busy",
        "/0/view/workers",
        "/0/data/workers.json",
        "/0/view/failures/secrets",
        "/0/view/jobs/secrets/queued/50/dsc/1",
        "/0/view/jobs/secrets/failed/50/dsc/1",
        "/0/view/jobs/secrets/scheduled/50/dsc/1",
        "/0/view/jobs/secrets/deferred/50/dsc/1",
        "/0/data/jobs/secrets/finished/50/dsc/1.json",
        "/0/data/health.json",
    ] {
        assert!(redacted.contains(path), "{path} shows nothing redacted");
    }

    // A search for a secret finds nothing: its text is refused (shown back masked), a part of
    // it and the key-only secret match no job, whatever the field.
    for field in ["q", "exc"] {
        for path in [
            format!("/0/data/search.json?{}", qs(&[(field, SECRET)])),
            format!("/0/view/search?{}", qs(&[(field, SECRET)])),
            format!("/0/fragments/search?{}", qs(&[(field, SECRET)])),
        ] {
            let r = env.get("vic", &path, false);
            assert_eq!(r.status, 400, "{path}: {}", r.text());
            assert_eq!(leak(&r.text()), None, "{path}: {}", r.text());
        }
        for text in [SECRET_PART, KEY_SECRET] {
            for registry in ["failed", "finished", "queued", "scheduled", "deferred"] {
                let fields = qs(&[("registry", registry), (field, text)]);
                let v = env.search("vic", &fields);
                assert_eq!(v["total"], 0, "vic's search {fields}: {v}");
            }
        }
    }
    // ada, who may see them, finds them the same way: the searches above had something to find.
    let v = env.search("ada", &qs(&[("registry", "failed"), ("q", KEY_SECRET)]));
    assert_eq!(v["ids"], serde_json::json!(["secret-failure"]), "{v}");
    let v = env.search("ada", &qs(&[("registry", "queued"), ("q", SECRET_PART)]));
    assert_eq!(v["total"], 1, "{v}");
    // vic's refused search action is recorded with its text hidden.
    let r = env.post(
        "vic",
        &format!("/0/search/requeue?{}", qs(&[("q", SECRET)])),
    );
    assert_eq!(r.status, 400, "{}", r.text());

    // ada acts on what ada sees in clear: a failure group, then a search for the key secret.
    let page = env.get("ada", "/0/view/failures/secrets", false).text();
    let action = links_post(&page, "/0/failures/secrets/", "/requeue");
    let r = env.post("ada", &action);
    assert_eq!(r.status, 200, "{action}: {}", r.text());
    assert_eq!(env.status("secret-failure"), "queued");
    let fields = qs(&[("registry", "queued"), ("q", KEY_SECRET)]);
    let v = env.search("ada", &fields);
    assert!(v["total"].as_u64().unwrap() >= 1, "{v}");
    let r = env.post("ada", &format!("/0/search/delete?{fields}"));
    assert_eq!(r.status, 200, "{}", r.text());

    // The trail records it all with the secrets hidden: its page, JSON, CSV and webhook.
    let trail = wait_for(Duration::from_secs(30), "the trail's entries", || {
        let v = env.get("vic", "/0/data/audit.json?limit=100", false).json();
        (v["entries"].as_array().unwrap().len() >= 3).then_some(v)
    });
    for path in ["/0/view/audit", "/0/data/audit.csv", "/0/fragments/audit"] {
        let body = env.get("vic", path, false).text();
        assert_eq!(leak(&body), None, "{path}: {body}");
        // And what the entries link to: the tasks ada's actions ran, their jobs.
        for (link, htmx) in links(&body) {
            let body = env.get("vic", &link, htmx).text();
            assert_eq!(leak(&body), None, "{link}: {body}");
        }
    }
    assert_eq!(leak(&trail.to_string()), None, "{trail}");
    let hidden = |e: &serde_json::Value| e.to_string().contains("[redacted]");
    let entries = trail["entries"].as_array().unwrap();
    assert!(
        entries.iter().filter(|e| e["user"] == "ada").all(hidden),
        "{trail}"
    );
    wait_for(Duration::from_secs(30), "the audit webhook", || {
        (env.audits.bodies().len() >= 3).then_some(())
    });
    for hook in [&env.audits, &env.alerts] {
        for b in hook.bodies() {
            assert_eq!(leak(&b.to_string()), None, "{b}");
        }
    }
    let burst = &env
        .alerts
        .notices("started", "failure_burst", Some("secrets"))[0];
    assert!(burst.to_string().contains("[redacted]"), "{burst}");
}

/// The action of the POST form on `page` whose action starts with `prefix` and ends with
/// `suffix`.
fn links_post(page: &str, prefix: &str, suffix: &str) -> String {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse("form[method=post][action]").unwrap();
    doc.select(&sel)
        .filter_map(|f| f.value().attr("action"))
        .find(|a| a.starts_with(prefix) && a.ends_with(suffix))
        .unwrap_or_else(|| panic!("no form {prefix}…{suffix} on {page}"))
        .to_string()
}

per_rq_version!(
    a_viewer_without_unredacted_never_gets_a_secret_anywhere,
    crate::redaction::crawl_as_a_viewer_without_unredacted_finds_no_secret
);

#[test]
fn a_viewer_granted_unredacted_sees_the_values_on_the_job_pages() {
    let env = Env::start(Rq::new("2.12.0"), false);
    let url = env.redis.url();
    env.rq.plant_secret(&url, SECRET, KEY_SECRET);
    for (id, want) in [
        ("secret-call", &[SECRET, KEY_SECRET][..]),
        ("secret-result", &[SECRET, KEY_SECRET]),
        ("secret-failure", &[SECRET, KEY_SECRET]),
    ] {
        for path in [
            format!("/0/view/job/{id}"),
            format!("/0/data/job/{id}.json"),
        ] {
            let ada = env.get("ada", &path, false).text();
            let vic = env.get("vic", &path, false).text();
            for s in want {
                assert!(ada.contains(s), "ada sees {s} on {path}: {ada}");
            }
            assert_eq!(leak(&vic), None, "{path}: {vic}");
            assert!(vic.contains("[redacted]"), "{path}: {vic}");
        }
    }
    // The note on the page says why, to vic only.
    let note = "#job-redacted";
    let sel = scraper::Selector::parse(note).unwrap();
    let count = |user: &str| {
        scraper::Html::parse_document(&env.get(user, "/0/view/job/secret-call", false).text())
            .select(&sel)
            .count()
    };
    assert_eq!((count("vic"), count("ada")), (1, 0));
    // The same list rendered for each of them (answers are cached per viewer).
    let list = "/0/view/jobs/secrets/queued/50/dsc/1";
    assert!(env.get("ada", list, false).text().contains(SECRET));
    assert_eq!(leak(&env.get("vic", list, false).text()), None);
}
