//! Live workers (one busy mid-job, one idle) against RQ's own view.

use crate::support::html::texts;
use crate::support::{wait_for, Rq, TestApp, TestRedis};
use std::time::Duration;

pub fn workers_match_rq(version: &'static str) {
    // Arrange: a worker running a long job and an idle one, both real RQ workers.
    let redis = TestRedis::start();
    let rq = Rq::new(version);
    let _busy = rq.busy_worker(&redis.url(), "busy", "job-busy");
    let _idle = rq.idle_worker(&redis.url(), "idle-q", "idle-worker");
    let mut c = redis.conn();
    redis.wait_field("rq:job:job-busy", "status", "started");
    wait_for(Duration::from_secs(30), "both workers to register", || {
        let n: i64 = redis::cmd("SCARD").arg("rq:workers").query(&mut c).ok()?;
        (n == 2).then_some(())
    });
    redis.wait_field("rq:worker:idle-worker", "state", "idle");
    let oracle = rq.oracle(&redis.url());
    let app = TestApp::for_redis(&redis.url());

    // Act
    let json = app.json("/0/data/workers.json");
    let doc = app.html("/0/view/workers");

    // Assert
    let got = json["workers"].as_array().unwrap();
    let want = oracle["workers"].as_array().unwrap();
    assert_eq!(got.len(), want.len(), "RQ {version}: worker count");
    for w in want {
        let name = w["name"].as_str().unwrap();
        let g = got
            .iter()
            .find(|g| g["name"] == w["name"])
            .unwrap_or_else(|| panic!("RQ {version}: worker {name} missing"));
        for f in [
            "state",
            "queues",
            "pid",
            "hostname",
            "successful_job_count",
            "failed_job_count",
            "version",
        ] {
            assert_eq!(g[f], w[f], "RQ {version}: {f} of {name}");
        }
        match w["current_job_id"].as_str() {
            Some(id) => {
                assert_eq!(
                    g["current_job"]["job_id"], id,
                    "RQ {version}: current job of {name}"
                );
                assert_eq!(
                    texts(&doc, &format!("tr[data-worker=\"{name}\"] td.current a")),
                    vec![id.to_string()]
                );
            }
            None => assert_eq!(g["current_job"], "idle", "RQ {version}: {name} is idle"),
        }
    }
    // The started job shows in its queue's started registry, as RQ counts it.
    let q = app.json("/0/data/queues.json");
    let busy = q["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "busy")
        .unwrap();
    assert_eq!(
        busy["started_job_registry_count"], oracle["queues"]["busy"]["started"],
        "RQ {version}: started count"
    );
    let started = app.json("/0/data/jobs/busy/started/8/asc/1.json");
    assert_eq!(started["jobs"][0]["id"], "job-busy");
    assert_eq!(started["jobs"][0]["status"], "started");
    // The overview summarises them.
    let ov = app.html("/0/view/queues");
    let summary = texts(&ov, "#workers-summary").join(" ");
    assert!(
        summary.contains("1 busy, 1 idle"),
        "RQ {version}: {summary}"
    );
}

per_rq_version!(live_workers_match_rq, crate::workers::workers_match_rq);
