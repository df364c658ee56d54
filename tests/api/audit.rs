//! The audit trail: two replicas write one trail, refused actions (a read-only login, a missing
//! form token) are recorded too (a POST with no login only logged and counted), filters and exports agree, the read-only login may not
//! read it, the stream stays within its caps, entries reach the audit webhook, and a Redis that
//! refuses the trail's writes lets the action proceed and warns on the page.

use serde_json::Value;
use std::time::Duration;

use rqdash::config::{Credentials, Settings};

use crate::support::http::basic;
use crate::support::webhook::{Mode, Receiver};
use crate::support::{http, wait_for, Rq, TestApp, TestRedis};

fn settings(url: &str) -> Settings {
    let mut s = Settings::for_url(url);
    s.auth = Some(Credentials {
        username: "ops".into(),
        password: "ops-password".into(),
    });
    s.readonly_auth = Some(Credentials {
        username: "viewer".into(),
        password: "viewer-password".into(),
    });
    s.auth_header = Some("X-Forwarded-User".into());
    s.groups_header = Some("X-Forwarded-Groups".into());
    s.trust_proxy = true;
    s
}

/// GET `path` as `headers` say, expecting `status`; the body as JSON when it is JSON.
fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> http::Response {
    http::request("GET", &format!("{}{path}", app.address), headers, None)
}

/// The trail as `audit.json` gives it to alice.
fn entries(app: &TestApp, query: &str) -> Vec<Value> {
    let r = get(
        app,
        &format!("/0/data/audit.json{query}"),
        &[("X-Forwarded-User", "alice")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["entries"].as_array().unwrap().clone()
}

fn xlen(redis: &TestRedis) -> u64 {
    redis::cmd("XLEN")
        .arg("rqdash:rq:audit")
        .query(&mut redis.conn())
        .unwrap()
}

#[test]
fn two_replicas_write_one_trail_with_refusals_filters_and_exports() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let hook = Receiver::start(Mode::Ok);
    let mut sa = settings(&redis.url());
    sa.audit_webhooks = vec![hook.url.clone()];
    let a = TestApp::spawn(sa);
    let b = TestApp::spawn(settings(&redis.url()));
    let alice = [
        ("X-Forwarded-User", "alice"),
        ("X-Forwarded-Groups", "ops-eu, billing"),
    ];
    let r = a.post("/0/job/job-failed-1/requeue", &alice);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = b.post(
        "/0/queue/default/finished/empty",
        &[("X-Forwarded-User", "bob")],
    );
    assert!(r.status == 200 || r.status == 202, "{}", r.text());
    // Refused: the read-only login, no login at all, a POST with no token and no Origin.
    let viewer = basic("viewer", "viewer-password");
    let r = a.post("/0/job/job-failed-2/requeue", &[("Authorization", &viewer)]);
    assert_eq!(r.status, 403);
    let r = http::request(
        "POST",
        &format!("{}/0/job/job-failed-2/delete", b.address),
        &[],
        Some(b""),
    );
    assert_eq!(r.status, 401);
    let r = http::request(
        "POST",
        &format!("{}/0/job/job-failed-2/delete", a.address),
        &[("X-Forwarded-User", "mallory")],
        Some(b""),
    );
    assert_eq!(r.status, 403);
    let status: Option<String> = redis::cmd("HGET")
        .arg("rq:job:job-failed-2")
        .arg("status")
        .query(&mut redis.conn())
        .unwrap();
    assert_eq!(
        status.as_deref(),
        Some("failed"),
        "refusals changed nothing"
    );

    // Both replicas read the same four entries, newest first; the POST without a login is
    // only logged and counted (nobody may flood the trail from outside).
    let all = wait_for(Duration::from_secs(10), "four audit entries", || {
        let e = entries(&b, "");
        (e.len() == 4).then_some(e)
    });
    assert_eq!(entries(&a, ""), all);
    let by = |user: &str| -> Value { all.iter().find(|e| e["user"] == user).unwrap().clone() };
    let al = by("alice");
    assert_eq!(al["action"], "requeue");
    assert_eq!(al["queue"], "default");
    assert_eq!(al["target"], "job job-failed-1");
    assert_eq!(al["count"], 1);
    assert_eq!(al["outcome"], "done");
    assert_eq!(al["address"], "127.0.0.1");
    assert_eq!(al["groups"], serde_json::json!(["ops-eu", "billing"]));
    let bo = by("bob");
    assert_eq!(bo["action"], "empty");
    assert_eq!(bo["queue"], "default");
    assert!(bo["count"].as_u64().is_some(), "{bo}");
    let vi = by("viewer");
    assert_eq!(
        (vi["outcome"].as_str(), vi["status"].as_u64()),
        (Some("refused"), Some(403))
    );
    assert!(vi["message"].as_str().unwrap().contains("read-only"));
    assert!(all.iter().all(|e| e["user"] != "anonymous"));
    let counted = scraper::Html::parse_document(&get(&b, "/0/view/audit", &alice).text())
        .select(&scraper::Selector::parse("#audit-unauthenticated").unwrap())
        .map(|e| e.text().collect::<String>())
        .collect::<Vec<_>>();
    assert_eq!(counted.len(), 1);
    assert!(counted[0].contains(": 1."), "{counted:?}");
    let ma = by("mallory");
    assert!(ma["message"].as_str().unwrap().contains("token"), "{ma}");
    let times: Vec<&str> = all.iter().map(|e| e["time"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(times, sorted, "newest first");

    // Filters.
    assert_eq!(entries(&a, "?user=alice").len(), 1);
    assert_eq!(
        entries(&a, "?action=requeue").len(),
        2,
        "alice's and the viewer's"
    );
    assert_eq!(entries(&a, "?queue=default").len(), 2, "alice's and bob's");
    assert_eq!(entries(&a, "?until=2000-01-01").len(), 0);
    assert_eq!(entries(&a, "?since=2000-01-01T00:00").len(), 4);
    let r = get(&a, "/0/data/audit.json?since=yesterday", &alice);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("not a time"));
    // Pages: two, then two, with a cursor.
    let r = get(&a, "/0/data/audit.json?limit=2", &alice).json();
    assert_eq!(r["entries"].as_array().unwrap().len(), 2);
    let next = r["next"].as_str().unwrap();
    let rest = entries(&a, &format!("?before={next}"));
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0], all[2]);

    // The CSV export has the same rows.
    let r = get(&a, "/0/data/audit.csv?action=requeue", &alice);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("time,user,roles,groups,address,action"));
    assert!(text.contains("alice") && text.contains("viewer"));

    // The page: rows linking to the job and the queue; no Audit for the read-only login.
    let page = get(&a, "/0/view/audit", &alice);
    assert_eq!(page.status, 200);
    let doc = scraper::Html::parse_document(&page.text());
    let links = crate::support::html::attrs(&doc, "#audit a[href]", "href");
    assert!(
        links
            .iter()
            .any(|h| h.ends_with("/0/view/job/job-failed-1")),
        "{links:?}"
    );
    assert!(
        links.iter().any(|h| h.contains("/0/view/jobs/default/")),
        "{links:?}"
    );
    assert_eq!(
        crate::support::html::attrs(&doc, "#audit tbody tr[data-entry]", "data-entry").len(),
        4
    );
    assert_eq!(
        get(&a, "/0/data/audit.json", &[("Authorization", &viewer)]).status,
        403
    );
    assert_eq!(
        get(&a, "/0/view/audit", &[("Authorization", &viewer)]).status,
        403
    );
    let vdoc = scraper::Html::parse_document(
        &get(&a, "/0/view/queues", &[("Authorization", &viewer)]).text(),
    );
    assert!(crate::support::html::attrs(&vdoc, "a[data-nav=audit]", "href").is_empty());

    // Replica a's webhook heard what a recorded (alice, the viewer, mallory), with a text line.
    let heard = wait_for(Duration::from_secs(10), "three audit notices", || {
        let b = hook.bodies();
        (b.len() == 3).then_some(b)
    });
    assert!(heard
        .iter()
        .all(|b| b["text"].as_str().unwrap().starts_with("rqdash audit:")));
    let users: Vec<&str> = heard
        .iter()
        .map(|b| b["entry"]["user"].as_str().unwrap())
        .collect();
    assert!(users.contains(&"alice") && users.contains(&"viewer") && users.contains(&"mallory"));
}

#[test]
fn the_trail_stays_within_its_caps_and_a_refusing_redis_lets_actions_proceed() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    // An entry older than the age cap, planted in the stream.
    redis::cmd("XADD")
        .arg("rqdash:rq:audit")
        .arg("1000-0")
        .arg("user")
        .arg("ancient")
        .query::<String>(&mut redis.conn())
        .unwrap();
    let mut s = Settings::for_url(&redis.url());
    s.audit_max_entries = 100;
    s.audit_max_age = Duration::from_secs(86_400);
    let app = TestApp::spawn(s);
    for i in 0..150 {
        let r = app.post(&format!("/0/job/no-such-job-{i}/requeue"), &[]);
        assert_eq!(r.status, 404);
    }
    let newest = wait_for(Duration::from_secs(10), "the last entry", || {
        let e = app.json("/0/data/audit.json?limit=1");
        let e = e["entries"][0].clone();
        (e["target"] == "job no-such-job-149").then_some(e)
    });
    assert_eq!(newest["outcome"], "failed");
    assert_eq!(xlen(&redis), 100, "capped by length");
    assert!(app.json("/0/data/audit.json?user=ancient")["entries"]
        .as_array()
        .unwrap()
        .is_empty());
    let all = app.json("/0/data/audit.json?limit=1000");
    assert_eq!(all["entries"].as_array().unwrap().len(), 100);
    assert_eq!(all["entries"][99]["target"], "job no-such-job-50");
    drop(app);

    // A Redis user that may not write the trail: the action still happens, the page warns.
    redis::cmd("ACL")
        .arg("SETUSER")
        .arg("noaudit")
        .arg("on")
        .arg(">noaudit-pw")
        .arg("~*")
        .arg("&*")
        .arg("+@all")
        .arg("-xadd")
        .query::<()>(&mut redis.conn())
        .unwrap();
    let url = redis
        .url()
        .replace("redis://", "redis://noaudit:noaudit-pw@");
    let app = TestApp::spawn(Settings::for_url(&url));
    let r = app.post("/0/job/job-failed-1/requeue", &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let status: Option<String> = redis::cmd("HGET")
        .arg("rq:job:job-failed-1")
        .arg("status")
        .query(&mut redis.conn())
        .unwrap();
    assert_eq!(status.as_deref(), Some("queued"), "the action proceeded");
    let warning = wait_for(Duration::from_secs(10), "the audit page's warning", || {
        let page = app.html("/0/view/audit");
        let w: Vec<String> = page
            .select(&scraper::Selector::parse("#audit-lost").unwrap())
            .map(|e| e.text().collect())
            .collect();
        w.into_iter().next()
    });
    assert!(warning.contains(": 1."), "one entry lost: {warning}");
    assert!(
        warning.contains("NOPERM") || warning.to_lowercase().contains("permission"),
        "{warning}"
    );
    assert_eq!(xlen(&redis), 100, "nothing was written");
}
