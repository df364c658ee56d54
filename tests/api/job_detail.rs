//! Job details (JSON and page) against RQ's own view of every job.

use crate::support::html::{count, text, texts};
use crate::support::{seg, Rq, Seeded, TestApp, TestRedis};
use chrono::{DateTime, Utc};
use serde_json::Value;

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str().map(|s| {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("bad time {s}: {e}"))
            .with_timezone(&Utc)
    })
}

fn check_job(app: &TestApp, version: &str, id: &str, o: &Value, pickle: bool) {
    let j = app.json(&format!("/0/data/job/{}.json", seg(id)));
    let what = |f: &str| format!("RQ {version}: {f} of {id}");
    for f in [
        "status",
        "origin",
        "description",
        "exc_info",
        "func_name",
        "worker_name",
    ] {
        assert_eq!(j[f], o[f], "{}", what(f));
    }
    for f in ["created_at", "enqueued_at", "started_at", "ended_at"] {
        assert_eq!(time(&j[f]), time(&o[f]), "{}", what(f));
    }
    let deps: Vec<Value> = j
        .get("depends_on")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        Value::Array(deps),
        o["dependency_ids"],
        "{}",
        what("dependencies")
    );
    let meta: Value = serde_json::from_str(j["metadata"].as_str().unwrap()).unwrap();
    assert_eq!(meta, o["meta"], "{}", what("meta"));

    let doc = app.html(&format!("/0/view/job/{}", seg(id)));
    assert_eq!(text(&doc, "#job-id"), id);
    // Every label reads alike: "Queue", "Function", "Timeout (s)", "Key expires", "Last
    // heartbeat", never a lower-case one among capitalised ones.
    let labels = texts(&doc, "#job-fields th, #job-times th");
    assert!(labels.len() >= 8, "{labels:?}");
    for l in &labels {
        assert!(
            l.starts_with(|c: char| c.is_uppercase()),
            "{}: label {l:?} among {labels:?}",
            what("labels")
        );
    }
    assert_eq!(text(&doc, "#job-status"), o["status"].as_str().unwrap());
    assert_eq!(text(&doc, "#job-func"), o["func_name"].as_str().unwrap());
    assert_eq!(
        text(&doc, "#job-description"),
        o["description"].as_str().unwrap_or_default()
    );
    match o["exc_info"].as_str() {
        Some(e) => assert_eq!(text(&doc, "#job-exc"), e.trim(), "{}", what("traceback")),
        None => assert_eq!(count(&doc, "#job-exc"), 0, "{}", what("traceback")),
    }
    if pickle {
        // The safe pickle decoder renders values exactly as Python's repr does.
        let args: Vec<String> = o["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        assert_eq!(texts(&doc, "#job-args code.arg"), args, "{}", what("args"));
        let kwargs: Vec<String> = o["kwargs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
            .collect();
        assert_eq!(
            texts(&doc, "#job-kwargs code.kwarg"),
            kwargs,
            "{}",
            what("kwargs")
        );
        match o["result"].as_str() {
            Some(r) => assert_eq!(text(&doc, "#job-result"), r, "{}", what("result")),
            None => assert_eq!(count(&doc, "#job-result"), 0, "{}", what("result")),
        }
    }
}

pub fn details_match_rq(version: &'static str) {
    let env = Seeded::new(version);
    let oracle = env.oracle();
    let jobs = oracle["jobs"].as_object().unwrap();
    assert!(jobs.len() >= 10, "the scenario has jobs");
    for (id, o) in jobs {
        if o.is_null() {
            continue;
        }
        check_job(&env.app, version, id, o, true);
    }
    // Dependents and the status of dependencies.
    let doc = env.app.html("/0/view/job/job-queued-1");
    assert_eq!(texts(&doc, "#job-dependents a"), vec!["job-deferred"]);
    assert_eq!(texts(&doc, "#job-dependents .status"), vec!["deferred"]);
    let j = env.app.json("/0/data/job/job-deferred.json");
    assert_eq!(j["depends_on_status"], serde_json::json!(["active"]));
    // Every results-stream entry is listed, with its decoded value.
    let doc = env.app.html("/0/view/job/job-finished-1");
    assert_eq!(
        texts(&doc, "#job-results tbody td:first-child"),
        vec!["successful"]
    );
    assert_eq!(texts(&doc, "#job-results tbody code"), vec!["5"]);
}

per_rq_version!(job_details_match_rq, crate::job_detail::details_match_rq);

#[test]
fn json_serialized_jobs_are_decoded_too() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0").json_serializer();
    rq.seed(&redis.url());
    let oracle = rq.oracle(&redis.url());
    let mut settings = rqdash::config::Settings::for_url(&redis.url());
    settings.json = true;
    let app = TestApp::spawn(settings);
    for (id, o) in oracle["jobs"].as_object().unwrap() {
        if !o.is_null() {
            check_job(&app, "2.12.0 json", id, o, false);
        }
    }
    let j = app.json("/0/data/job/job-hostile.json");
    assert_eq!(j["result"], serde_json::json!({"k": [1, 2.5, null, true]}));
    assert_eq!(j["args"], serde_json::json!([{"k": [1, 2.5, null, true]}]));
}

#[test]
fn dependency_of_an_expired_job_is_marked_expired() {
    let env = Seeded::new("2.12.0");
    let mut c = env.redis.conn();
    let _: () = redis::cmd("DEL")
        .arg("rq:job:job-queued-1")
        .query(&mut c)
        .unwrap();
    let j = env.app.json("/0/data/job/job-deferred.json");
    assert_eq!(j["depends_on"], serde_json::json!(["job-queued-1"]));
    assert_eq!(j["depends_on_status"], serde_json::json!(["expired"]));
    let doc = env.app.html("/0/view/job/job-deferred");
    assert_eq!(texts(&doc, "#job-dependencies .status"), vec!["expired"]);
}
