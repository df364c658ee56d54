//! Broken and hostile data in Redis, as other programs or old RQ versions may leave it: every
//! page and JSON answer stays up (no 5xx), shows what it can, and runs nothing.

use crate::support::process::TempDir;
use crate::support::{seg, Rq, TestApp, TestRedis};
use serde_json::Value;
use std::os::unix::process::CommandExt;

/// Writes the hostile data. The fixture's temp folder is `tmp`, where the pickle that must never
/// run would create its file.
fn fixture(redis: &TestRedis, tmp: &TempDir) -> Value {
    let out = std::process::Command::new(format!(
        "{}/.venv/rq-2.12.0/bin/python",
        env!("CARGO_MANIFEST_DIR")
    ))
    .arg(format!(
        "{}/tests/py/rqfixture.py",
        env!("CARGO_MANIFEST_DIR")
    ))
    .args(["hostile", "--url", &redis.url()])
    .current_dir(format!("{}/tests/py", env!("CARGO_MANIFEST_DIR")))
    .env("TMPDIR", tmp.path())
    .process_group(0)
    .output()
    .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every GET path a user could reach for this data.
fn paths(v: &Value) -> Vec<String> {
    let mut p: Vec<String> = [
        "/",
        "/0/view/workers",
        "/0/data/queues.json",
        "/0/data/workers.json",
        "/metrics",
        "/all",
        "/0/fragments/overview",
        "/0/fragments/workers",
        "/healthz",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut queues: Vec<String> = v["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q.as_str().unwrap().to_string())
        .collect();
    queues.push("garbage-member-without-prefix".into());
    for q in &queues {
        for r in crate::support::REGISTRIES.iter().chain(&["ready"]) {
            for o in ["asc", "dsc"] {
                p.push(format!("/0/view/jobs/{}/{r}/8/{o}/1", seg(q)));
                p.push(format!("/0/data/jobs/{}/{r}/500/{o}/1.json", seg(q)));
            }
        }
        p.push(format!("/0/view/failures/{}", seg(q)));
    }
    let mut ids: Vec<String> = v["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect();
    ids.extend(["wrongtype", "no-hash-here", "huge-fields", "evil-pickle"].map(String::from));
    for id in &ids {
        p.push(format!("/0/view/job/{}", seg(id)));
        p.push(format!("/0/data/job/{}.json", seg(id)));
    }
    p
}

#[test]
fn broken_and_hostile_data_never_breaks_a_page_or_runs_anything() {
    let redis = TestRedis::start();
    let tmp = TempDir::new("hostile");
    let v = fixture(&redis, &tmp);
    let pwned = v["pwned_file"].as_str().unwrap().to_string();
    assert!(
        pwned.starts_with(&tmp.path().display().to_string()),
        "the pickle's file is in this test's temp dir: {pwned}"
    );
    assert!(!std::path::Path::new(&pwned).exists(), "{pwned}");
    let app = TestApp::for_redis(&redis.url());
    let mut failures = Vec::new();
    for path in paths(&v) {
        let r = app.get(&path);
        if r.status >= 500 {
            failures.push(format!(
                "{path}: {} {}",
                r.status,
                r.text().chars().take(300).collect::<String>()
            ));
        }
        if r.body.len() > 2 * 1024 * 1024 {
            failures.push(format!("{path}: a {} byte answer", r.body.len()));
        }
        if r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
        {
            let doc = scraper::Html::parse_document(&r.text());
            let sel = scraper::Selector::parse("img, script:not([src]), [onerror]").unwrap();
            if doc.select(&sel).next().is_some() {
                failures.push(format!("{path}: hostile markup became markup"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        !std::path::Path::new(&pwned).exists(),
        "a pickle in Redis ran a command"
    );

    // What can be shown is shown, the rest is marked.
    let doc = app.html("/0/view/job/evil-pickle");
    let call_error = crate::support::html::texts(&doc, "#job-fields td.warn");
    assert!(
        call_error.iter().any(|t| t.contains("not an RQ job call")),
        "{call_error:?}"
    );
    assert!(crate::support::html::text(&doc, "#job-result").contains("os.system"));
    let doc = app.html("/0/view/jobs/stringy/queued/8/asc/1");
    assert!(crate::support::html::text(&doc, "p.banner").contains("not a list"));
    let j = app.json("/0/data/job/huge-fields.json");
    assert_eq!(j["status"], "exploded");
    assert!(
        j["description"].as_str().unwrap().len() < 200_000,
        "huge fields are cut"
    );
    let q = app.json("/0/data/queues.json");
    assert!(q["queues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["name"] == "stringy"));
}

#[test]
fn rq_still_works_on_the_hostile_data_after_browsing() {
    // Browsing wrote nothing that could confuse RQ: its own API still reads the good queues.
    let redis = TestRedis::start();
    let tmp = TempDir::new("hostile");
    fixture(&redis, &tmp);
    let app = TestApp::for_redis(&redis.url());
    app.get("/0/view/jobs/hostile/queued/8/asc/1");
    let rq = Rq::new("2.12.0");
    rq.enqueue(&redis.url(), "after", 1);
    rq.burst(&redis.url(), &["after"]);
    assert_eq!(
        app.json("/0/data/jobs/after/finished/8/asc/1.json")["total_items"],
        1
    );
}

#[test]
fn payloads_in_every_field_run_no_script_in_chromium() {
    let redis = TestRedis::start();
    let tmp = TempDir::new("hostile");
    let v = fixture(&redis, &tmp);
    let app = TestApp::for_redis(&redis.url());
    let browser = crate::support::browser::Browser::start();
    let xss = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    let mut pages = vec![
        "/0/view/queues".to_string(),
        "/0/view/workers".to_string(),
        format!("/0/view/jobs/{}/queued/8/asc/1", seg(xss)),
        "/0/view/jobs/hostile/queued/50/asc/1".to_string(),
        "/0/view/jobs/hostile-failed/failed/8/asc/1".to_string(),
        "/0/view/failures/hostile-failed".to_string(),
        "/0/view/job/hostile-fails".to_string(),
        format!("/0/view/job/{}", seg(xss)),
    ];
    for id in v["ids"].as_array().unwrap() {
        pages.push(format!("/0/view/job/{}", seg(id.as_str().unwrap())));
    }
    for p in &pages {
        browser.goto(&format!("{}{p}", app.address));
        // An alert() or confirm() would make this call fail with "unexpected alert open".
        let imgs = browser.eval("return document.querySelectorAll('img').length;");
        assert_eq!(imgs, 0, "{p}");
        let inline =
            browser.eval("return Array.from(document.scripts).filter(s => !s.src).length;");
        assert_eq!(inline, 0, "{p}: an inline script");
        assert_eq!(browser.dialog_text(), None, "{p}: a dialog opened");
    }
    // The payloads are on screen as text.
    browser.goto(&format!(
        "{}/0/view/job/{}",
        app.address,
        seg(v["ids"][0].as_str().unwrap())
    ));
    assert_eq!(browser.text("#job-description").as_deref(), Some(xss));
}
