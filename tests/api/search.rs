//! Search: every kind of criterion finds exactly what RQ's own API finds in data written by real
//! RQ workers (functions, exception types and messages, argument text, workers, times, across
//! two queues); acting on all matches moves exactly those jobs and a real worker runs them; hostile
//! input gets a clear answer.

use crate::support::{html, wait_for, Rq, TestApp, TestRedis};
use rqdash::config::Settings;
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;

/// The query string of `fields`.
fn qs(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

/// Polls the search's JSON until it is complete; returns the last answer (with every id).
/// A search kept from before is scanned again (`fresh=1`).
fn complete(app: &TestApp, fields: &[(&str, &str)]) -> Value {
    let path = format!("/0/data/search.json?{}&per_page=500", qs(fields));
    let first = app.json(&format!("{path}&fresh=1"));
    if first["complete"] == true {
        return first;
    }
    wait_for(Duration::from_secs(60), "the search to complete", || {
        let v = app.json(&path);
        assert_ne!(v["state"], "failed", "{v}");
        (v["complete"] == true).then_some(v)
    })
}

fn ids(v: &Value) -> Vec<String> {
    v["ids"]
        .as_array()
        .unwrap_or_else(|| panic!("no ids in {v}"))
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect()
}

/// The search `fields` gives what RQ's API gives, newest first.
fn agrees(app: &TestApp, rq: &Rq, url: &str, fields: &[(&str, &str)]) -> Vec<String> {
    let got = complete(app, fields);
    let want = rq.search_oracle(url, fields);
    let (g, w) = (ids(&got), ids(&want));
    assert_eq!(
        got["total"], want["total"],
        "total of {fields:?}: {got}\noracle: {want}"
    );
    assert_eq!(
        g.iter().collect::<HashSet<_>>(),
        w.iter().collect::<HashSet<_>>(),
        "ids of {fields:?}"
    );
    let times: Vec<f64> = g
        .iter()
        .map(|id| want["times"][id].as_f64().unwrap_or(0.0))
        .collect();
    assert!(
        times.windows(2).all(|t| t[0] >= t[1]),
        "newest first for {fields:?}: {times:?}"
    );
    assert_eq!(got["scanned"], got["to_scan"], "{got}");
    g
}

fn every_kind_of_search_agrees_with_rq(version: &'static str) {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new(version);
    let seed = rq.search_seed(&url);
    let app = TestApp::for_redis(&url);
    let split = seed["split"].as_str().unwrap();
    let regexy = "price [x] $5.* (ünï✓)";
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("exc", "TimeoutError")],
        vec![("exc", "PARTNER API timed out")],
        vec![("exc", "LookupError: no address for user-2")],
        vec![("exc", "disk full"), ("queue", "search-a")],
        vec![("func", "rqdash_jobs.notify")],
        vec![("func", "charge"), ("queue", "search-b")],
        vec![("q", "order-")],
        vec![("q", "nightly")],
        vec![("q", "channel='sms'")],
        vec![("q", regexy)],
        vec![("exc", ".*")],
        vec![("worker", "search-w2")],
        vec![("worker", "search-w1-2"), ("exc", "timeout")],
        vec![("since", split)],
        vec![("until", split), ("func", "fail")],
        vec![("registry", "finished")],
        vec![("registry", "finished"), ("queue", "search-b")],
    ];
    let mut nonempty = 0;
    for fields in &cases {
        if !agrees(&app, &rq, &url, fields).is_empty() {
            nonempty += 1;
        }
    }
    assert!(nonempty >= cases.len() - 3, "the cases find something");
    // The criteria that are found only in argument text and regex characters as plain text.
    assert_eq!(complete(&app, &[("q", "order-")])["total"], 2);
    assert_eq!(complete(&app, &[("q", regexy)])["total"], 2);
    // A regex would match every exception; as plain text, only the messages holding ".*".
    assert_eq!(complete(&app, &[("exc", ".*")])["total"], 2);

    // Pages over the matches, newest first.
    let all = ids(&complete(&app, &[("exc", "Error")]));
    assert!(all.len() > 6, "{all:?}");
    let p2 = app.json(&format!(
        "/0/data/search.json?{}&per_page=3&page=2",
        qs(&[("exc", "Error")])
    ));
    assert_eq!(ids(&p2), all[3..6].to_vec());
    assert!(
        p2["poll"]
            .as_str()
            .unwrap()
            .contains("/0/data/search.json?"),
        "{p2}"
    );

    // The page: the form prefilled from the URL, the usual rows linking to each job.
    complete(&app, &[("func", "notify")]);
    let doc = app.html(&format!("/0/view/search?{}", qs(&[("func", "notify")])));
    assert_eq!(
        html::attrs(&doc, "input[name=func]", "value"),
        vec!["notify"]
    );
    let rows = html::attrs(&doc, "#job-list tbody tr[data-job-id]", "data-job-id");
    let want = ids(&rq.search_oracle(&url, &[("func", "notify")]));
    assert_eq!(
        rows.iter().collect::<HashSet<_>>(),
        want.iter().collect::<HashSet<_>>()
    );
    assert_eq!(html::text(&doc, "#search-total"), want.len().to_string());
    for link in html::attrs(&doc, "#job-list td.id a", "href") {
        assert!(link.starts_with("/0/view/job/"), "{link}");
    }
}

per_rq_version!(
    every_search_kind_finds_what_rq_finds,
    crate::search::every_kind_of_search_agrees_with_rq
);

#[test]
fn requeueing_every_match_moves_exactly_those_jobs_and_a_real_worker_runs_them() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.search_seed(&url);
    let app = TestApp::for_redis(&url);
    let fields = [("exc", "TimeoutError")];
    let failed_before: HashSet<String> = ids(&rq.search_oracle(&url, &[])).into_iter().collect();
    let matched = agrees(&app, &rq, &url, &fields);
    assert_eq!(matched.len(), 10);

    // The confirmation carries the count it showed; a different one is refused, nothing moves.
    let path = format!("/0/search/requeue?{}", qs(&fields));
    let r = app.post(&format!("{path}&expect=3"), &[]);
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.json()["message"].as_str().unwrap().contains("not the 3"));
    assert_eq!(ids(&rq.search_oracle(&url, &fields)).len(), 10);

    // The page's button says how many and which search.
    let doc = app.html(&format!("/0/view/search?{}", qs(&fields)));
    let labels = html::texts(&doc, "#search-actions button");
    assert!(
        labels.contains(&"Requeue 10 jobs".to_string()),
        "{labels:?}"
    );

    let v = app.act(&format!("{path}&expect=10"));
    assert_eq!(v["count"], 10, "{v}");
    assert_eq!(v["kept"], 0, "{v}");
    let jobs = rq.search_jobs(&url, &matched);
    for id in &matched {
        assert_eq!(jobs[id]["status"], "queued", "{id}: {jobs}");
    }
    let failed_after: HashSet<String> = ids(&rq.search_oracle(&url, &[])).into_iter().collect();
    let expected: HashSet<String> = failed_before
        .difference(&matched.iter().cloned().collect())
        .cloned()
        .collect();
    assert_eq!(
        failed_after, expected,
        "exactly the matches left the failed registry"
    );

    // The search was used up: acting again needs a new, complete search.
    let r = app.post(&path, &[]);
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(complete(&app, &fields)["total"], 0);

    // A real worker runs them (and they fail again, as `charge` always does).
    rq.burst(&url, &["search-a", "search-b"]);
    let jobs = rq.search_jobs(&url, &matched);
    for id in &matched {
        assert_eq!(jobs[id]["status"], "failed", "{id}: {jobs}");
        assert_eq!(jobs[id]["results"], 2, "ran twice: {id}: {jobs}");
    }

    // Acting on matches that changed meanwhile: they are left alone and counted as such.
    let again = agrees(&app, &rq, &url, &fields);
    assert_eq!(again.len(), 10);
    rq.act(&url, &["--action", "requeue", "--id", &again[0]]);
    let v = app.act(&format!("{path}&expect=10"));
    assert_eq!(
        (v["count"].as_u64(), v["kept"].as_u64()),
        (Some(9), Some(1)),
        "{v}"
    );
}

#[test]
fn hostile_search_input_gets_a_clear_answer_never_a_500() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.search_seed(&url);
    let app = TestApp::for_redis(&url);
    // Within the HTTP layer's limit on a request line (past it actix itself answers a bare 400).
    let huge = "x".repeat(20_000);
    for (query, status) in [
        (qs(&[("q", &huge)]), 400),
        (qs(&[("exc", "a\u{1}b")]), 400),
        (qs(&[("since", "yesterday")]), 400),
        (qs(&[("since", "2030-01-02"), ("until", "2030-01-01")]), 400),
        (qs(&[("registry", "nope")]), 400),
        ("exc=a&exc=b".to_string(), 400),
        ("page=0".to_string(), 400),
        ("per_page=100000".to_string(), 400),
        (qs(&[("queue", "no-such-queue")]), 404),
        ("q=%ff%fe".to_string(), 200),
        (qs(&[("q", "(?i)^.*$|\\d+[")]), 200),
        (qs(&[("q", "日本語 ✓ 🙂")]), 200),
        (String::new(), 200),
    ] {
        let r = app.get(&format!("/0/data/search.json?{query}"));
        assert_eq!(
            r.status,
            status,
            "{}: {}",
            crate::support::seg(&query[..query.len().min(60)]),
            r.text()
        );
        let v = r.json();
        if status != 200 {
            assert_eq!(v["status"], "error", "{v}");
            assert!(!v["message"].as_str().unwrap().is_empty(), "{v}");
        }
    }
    // The page says what is wrong, with the form still there.
    let r = app.get("/0/view/search?since=yesterday");
    assert_eq!(r.status, 400);
    let doc = scraper::Html::parse_document(&r.text());
    assert!(html::text(&doc, "#search-problem").contains("yesterday"));
    assert_eq!(
        html::attrs(&doc, "input[name=since]", "value"),
        vec!["yesterday"]
    );
    // Every GET answers HEAD.
    assert_eq!(app.head("/0/data/search.json?exc=x").status, 200);
    assert_eq!(app.head("/0/view/search").status, 200);
    // Unknown verbs, and no verb on a search that was never run.
    let r = app.post("/0/search/explode?exc=x", &[]);
    assert_eq!(r.status, 404, "{}", r.text());
    let r = app.post(
        &format!("/0/search/requeue?{}", qs(&[("exc", "never searched")])),
        &[],
    );
    assert_eq!(r.status, 409, "{}", r.text());
}

#[test]
fn read_only_and_disable_delete_refuse_acting_on_matches() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.search_seed(&url);
    let mut s = Settings::for_url(&url);
    s.disable_delete = true;
    let app = TestApp::spawn(s);
    complete(&app, &[("exc", "TimeoutError")]);
    let r = app.post("/0/search/delete?exc=TimeoutError", &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    let doc = app.html("/0/view/search?exc=TimeoutError");
    let labels = html::texts(&doc, "#search-actions button");
    assert_eq!(labels, vec!["Requeue 10 jobs".to_string()]);

    let mut s = Settings::for_url(&url);
    s.read_only = true;
    let app = TestApp::spawn(s);
    complete(&app, &[("exc", "TimeoutError")]);
    let r = app.post("/0/search/requeue?exc=TimeoutError", &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    let doc = app.html("/0/view/search?exc=TimeoutError");
    assert_eq!(html::count(&doc, "#search-actions button"), 0);
    assert_eq!(
        ids(&rq.search_oracle(&url, &[("exc", "TimeoutError")])).len(),
        10
    );
}

/// The JSON of a search page's URL, complete.
fn follow(app: &TestApp, page_url: &str) -> Value {
    let (path, query) = page_url.split_once('?').unwrap();
    assert_eq!(path, "/0/view/search", "{page_url}");
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    complete(app, &fields)
}

#[test]
fn search_entries_lead_to_the_searches_they_promise() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    let seed = rq.search_seed(&url);
    let app = TestApp::for_redis(&url);

    // The header, on every page.
    let doc = app.html("/0/view/queues");
    assert_eq!(
        html::attrs(&doc, "nav a[data-nav=search]", "href"),
        vec!["/0/view/search"]
    );

    // The failed list's search box searches that queue's failures.
    let doc = app.html("/0/view/jobs/search-a/failed/8/asc/1");
    assert_eq!(
        html::attrs(&doc, "#search-box", "action"),
        vec!["/0/view/search"]
    );
    assert_eq!(
        html::attrs(&doc, "#search-box input[name=queue]", "value"),
        vec!["search-a"]
    );
    assert_eq!(
        html::attrs(&doc, "#search-box input[name=registry]", "value"),
        vec!["failed"]
    );
    assert_eq!(html::count(&doc, "#search-box input[name=exc]"), 1);
    let doc = app.html("/0/view/jobs/search-a/finished/8/asc/1");
    assert_eq!(html::count(&doc, "#search-box"), 0);

    // "Find similar" on each failure group finds that group's jobs.
    let doc = app.html("/0/view/failures/search-a");
    let counts = html::texts(&doc, "#failure-groups td.count");
    let links = html::attrs(&doc, "#failure-groups a.similar", "href");
    assert_eq!(counts.len(), 3, "charge, notify, disk full: {counts:?}");
    assert_eq!(links.len(), counts.len());
    for (count, link) in counts.iter().zip(&links) {
        let v = follow(&app, link);
        assert_eq!(v["total"].to_string(), *count, "{link}: {v}");
    }

    // "Same function" and "same exception" on a job page.
    let id = seed["1"]["charge"][0].as_str().unwrap();
    let doc = app.html(&format!("/0/view/job/{id}"));
    let same_func = html::attrs(&doc, "#same-function", "href");
    let v = follow(&app, &same_func[0]);
    let want = rq.search_oracle(&url, &[("func", "rqdash_jobs.charge")]);
    assert_eq!(v["total"], want["total"], "{v}");
    assert_eq!(v["total"], 10);
    let same_exc = html::attrs(&doc, "#same-exception", "href");
    let v = follow(&app, &same_exc[0]);
    assert_eq!(ids(&v), vec![id.to_string()], "that exact message: {v}");
}

#[test]
fn canceling_and_deleting_every_match_and_stopping_a_search() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.search_seed(&url);
    let waiting = rq.enqueue(&url, "search-c", 3);
    let app = TestApp::for_redis(&url);

    // Cancel every queued job of a queue nobody works on.
    let fields = [
        ("queue", "search-c"),
        ("registry", "queued"),
        ("func", "add"),
    ];
    assert_eq!(agrees(&app, &rq, &url, &fields).len(), 3);
    let doc = app.html(&format!("/0/view/search?{}", qs(&fields)));
    let labels = html::texts(&doc, "#search-actions button");
    assert!(labels.contains(&"Cancel 3 jobs".to_string()), "{labels:?}");
    assert!(
        !labels.iter().any(|l| l.starts_with("Requeue")),
        "{labels:?}"
    );
    let v = app.act(&format!("/0/search/cancel?{}&expect=3", qs(&fields)));
    assert_eq!(
        (v["count"].as_u64(), v["kept"].as_u64()),
        (Some(3), Some(0)),
        "{v}"
    );
    let jobs = rq.search_jobs(&url, &waiting);
    for id in &waiting {
        assert_eq!(jobs[id]["status"], "canceled", "{jobs}");
    }

    // Delete every finished `add` job: RQ no longer finds them.
    let fields = [("registry", "finished"), ("func", "add")];
    let finished = agrees(&app, &rq, &url, &fields);
    assert_eq!(finished.len(), 2);
    let v = app.act(&format!("/0/search/delete?{}", qs(&fields)));
    assert_eq!(v["count"], 2, "{v}");
    let jobs = rq.search_jobs(&url, &finished);
    assert!(finished.iter().all(|id| jobs[id].is_null()), "{jobs}");
    assert_eq!(rq.search_oracle(&url, &fields)["total"], 0);

    // Stopping forgets the search; the next request scans anew.
    let fields = [("exc", "LookupError")];
    let before = complete(&app, &fields);
    let v = app.act(&format!("/0/search/stop?{}", qs(&fields)));
    assert_eq!(v["stopped"], true, "{v}");
    let v = app.act(&format!("/0/search/stop?{}", qs(&fields)));
    assert_eq!(v["stopped"], false, "nothing left to stop: {v}");
    let after = app.json(&format!("/0/data/search.json?{}", qs(&fields)));
    assert_ne!(after["started_at"], before["started_at"]);
}

#[test]
fn in_chromium_a_search_is_typed_watched_and_its_matches_requeued_after_confirming() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.search_seed(&url);
    let app = TestApp::for_redis(&url);
    let want = ids(&rq.search_oracle(&url, &[("exc", "TimeoutError")]));
    assert_eq!(want.len(), 10);
    let b = crate::support::browser::Browser::start();
    b.goto(&format!("{}/0/view/search", app.address));
    // Type the query and submit the form, as a person would.
    b.eval(
        "var f = document.querySelector('#search-form input[name=exc]'); f.value = 'TimeoutError'; return true;",
    );
    b.click("#search-form button[type=submit]");
    // Progress shows while it runs; the exact total once complete, without a reload.
    crate::support::wait_for(
        std::time::Duration::from_secs(30),
        "the search to complete on the page",
        || (b.text("#search-state").as_deref() == Some("complete")).then_some(()),
    );
    assert_eq!(b.text("#search-total").as_deref(), Some("10"));
    let shown = b.eval(
        "return Array.from(document.querySelectorAll('#job-list tr[data-job-id]')).map(function (r) { return r.getAttribute('data-job-id'); });",
    );
    let shown: Vec<String> = serde_json::from_value(shown).unwrap();
    assert_eq!(shown, want, "newest first, as RQ's own API finds them");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    b.screenshot(&dir.join("search.png"));
    // Requeue them all: the confirmation says how many and which search.
    b.click("#search-actions button");
    let question = crate::support::wait_for(
        std::time::Duration::from_secs(10),
        "the confirmation",
        || b.dialog_text(),
    );
    assert!(question.contains("10"), "{question}");
    assert!(
        question.to_lowercase().contains("timeouterror"),
        "{question}"
    );
    b.accept_dialog();
    crate::support::wait_for(
        std::time::Duration::from_secs(30),
        "the matches to be requeued",
        || {
            let jobs = rq.search_jobs(&url, &want);
            want.iter()
                .all(|id| jobs[id]["status"] == "queued")
                .then_some(())
        },
    );
    assert!(ids(&rq.search_oracle(&url, &[("exc", "TimeoutError")])).is_empty());
}

/// A registry big enough to be scanned in stripes, with RQ's second-resolution scores tying
/// across the stripes' boundaries: every entry is counted once, and matches among the oldest
/// entries are found as surely as among the newest.
#[test]
fn a_striped_scan_counts_every_entry_once_and_finds_the_oldest_matches() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    // The oldest: real failures of one kind, by a real worker.
    let old = rq.enqueue_call(&redis.url(), "striped", "charge", &["cust-old", "1"], 3);
    rq.burst(&redis.url(), &["striped"]);
    // Then 4,000 newer failed `add` jobs (RQ's own API, pipelined: many share a score).
    rq.make_jobs(&redis.url(), "striped", 4000, "bulk-", true);
    let mut s = rqdash::config::Settings::for_url(&redis.url());
    s.snapshot_ttl = Duration::ZERO;
    let app = TestApp::spawn(s);
    let all = complete(&app, &[("queue", "striped"), ("func", "add")]);
    assert_eq!(all["total"], 4000, "{}", all["total"]);
    assert_eq!(all["scanned"], 4003, "{}", all["scanned"]);
    let oldest = complete(&app, &[("queue", "striped"), ("exc", "TimeoutError")]);
    assert_eq!(oldest["total"], 3);
    let mut got = ids(&oldest);
    got.sort();
    let mut want = old.clone();
    want.sort();
    assert_eq!(got, want);
    // A job whose hash is gone (its registry entry and results stream left behind) is no match.
    let _: () = redis::cmd("DEL")
        .arg(format!("rq:job:{}", old[0]))
        .query(&mut redis.conn())
        .unwrap();
    let after = complete(&app, &[("queue", "striped"), ("exc", "TimeoutError")]);
    assert_eq!(after["total"], 2, "{after}");
    assert!(!ids(&after).contains(&old[0]));
}
