//! Roles (`--policy`): every action route × {anonymous, viewer, eu-operator, admin} on data
//! written by real RQ. Each answer is checked, and where the action is refused RQ's keys are
//! exactly as before. The eu-operator's buttons follow the queue; a search-wide requeue by the
//! eu-operator moves eu-* jobs only; and the policy is re-read when its file changes.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::process::TempDir;
use crate::support::snapshot::{snapshot, Val};
use crate::support::{http, wait_for, Rq, TestApp, TestRedis};

const POLICY: &str = r#"
default_roles = []

[[role]]
name = "viewer"
actions = ["view"]
users = ["vic", "bob"]

[[role]]
name = "eu-viewer"
actions = ["view"]
queues = ["eu-*"]
users = ["liv"]

[[role]]
name = "auditor"
actions = ["audit"]
users = ["liv"]

[[role]]
name = "eu-operator"
actions = ["view", "requeue", "cancel", "delete", "bulk"]
queues = ["eu-*", "billing"]
users = ["bob"]
groups = ["ops-eu"]

[[role]]
name = "admin"
actions = "*"
users = ["ada"]
"#;

/// A dashboard on `url` behind a trusted proxy's user header, with [`POLICY`] in a file of its
/// own (its folder, its path).
fn spawn(url: &str) -> (TempDir, std::path::PathBuf, TestApp) {
    let dir = TempDir::new("policy");
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, POLICY).unwrap();
    let cli = <rqdash::config::Cli as clap::Parser>::parse_from([
        "rqdash",
        "-u",
        url,
        "-p",
        "0",
        "--http-workers",
        "1",
        "--auth-header",
        "X-Forwarded-User",
        "--trust-proxy",
        "--groups-header",
        "X-Forwarded-Groups",
        "--policy",
        path.to_str().unwrap(),
    ]);
    let mut s = rqdash::config::Settings::from_cli(cli).unwrap();
    s.snapshot_ttl = Duration::ZERO;
    (dir, path, TestApp::spawn(s))
}

/// RQ's keys (the dashboard's own `rqdash:` keys, such as the audit trail, left out), without
/// TTLs.
fn rq_keys(redis: &TestRedis) -> BTreeMap<String, Val> {
    snapshot(redis)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("rqdash:"))
        .map(|(k, (v, _))| (k, v))
        .collect()
}

fn status(redis: &TestRedis, id: &str) -> String {
    redis::cmd("HGET")
        .arg(format!("rq:job:{id}"))
        .arg("status")
        .query::<Option<String>>(&mut redis.conn())
        .unwrap()
        .unwrap_or_default()
}

/// Whether `who` may do `perm` on `queue` (`None`: every queue) under [`POLICY`].
fn may(who: &str, perm: &str, queue: Option<&str>) -> bool {
    match who {
        "ada" => true,
        "bob" => {
            ["requeue", "cancel", "delete", "bulk"].contains(&perm)
                && queue.is_some_and(|q| q.starts_with("eu-"))
        }
        _ => false,
    }
}

struct Route {
    path: String,
    body: String,
    /// The permissions it needs, on `queue`.
    perms: &'static [&'static str],
    queue: Option<&'static str>,
    /// The answers when allowed (a target that does not exist answers 404).
    ok: &'static [u16],
}

fn routes(k: usize) -> Vec<Route> {
    let r = |path: String, perms, queue, ok| Route {
        path,
        body: String::new(),
        perms,
        queue,
        ok,
    };
    let mut v = vec![
        r(
            format!("/0/job/eu-f-{k}/requeue"),
            &["requeue"],
            Some("eu-1"),
            &[200],
        ),
        r(
            format!("/0/job/us-f-{k}/requeue"),
            &["requeue"],
            Some("us-1"),
            &[200],
        ),
        r(
            format!("/0/job/eu-q-{k}/cancel"),
            &["cancel"],
            Some("eu-1"),
            &[200],
        ),
        r(
            format!("/0/job/us-q-{k}/delete"),
            &["delete"],
            Some("us-1"),
            &[200],
        ),
        r(
            "/0/requeue/us-1".to_string(),
            &["requeue", "bulk"],
            Some("us-1"),
            &[200, 202],
        ),
        r(
            "/0/queue/eu-1/compact".to_string(),
            &["admin"],
            Some("eu-1"),
            &[200, 202],
        ),
        r(
            "/0/queue/us-1/clean".to_string(),
            &["admin"],
            Some("us-1"),
            &[200, 202],
        ),
        r(
            "/0/queue/us-1/deferred/empty".to_string(),
            &["empty", "bulk"],
            Some("us-1"),
            &[200, 202],
        ),
        r("/0/suspend".into(), &["suspend"], None, &[200]),
        r("/0/resume".into(), &["suspend"], None, &[200]),
        r(
            "/0/worker/nobody/shutdown".into(),
            &["suspend"],
            None,
            &[404],
        ),
        r(
            "/0/groups/no-group/requeue".into(),
            &["requeue", "bulk"],
            None,
            &[404],
        ),
        r(
            "/0/failures/eu-1/no-key/requeue".into(),
            &["requeue", "bulk"],
            Some("eu-1"),
            &[404],
        ),
    ];
    v.push(Route {
        path: "/0/jobs/delete".into(),
        body: format!("ids=eu-f-{}&queue=eu-1&registry=failed", 4 + k),
        perms: &["delete", "bulk"],
        queue: Some("eu-1"),
        ok: &[200, 202],
    });
    v
}

fn post(app: &TestApp, route: &Route, who: &str) -> http::Response {
    let mut h = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Origin", app.address.as_str()),
    ];
    if who != "anonymous" {
        h.push(("X-Forwarded-User", who));
    }
    http::request(
        "POST",
        &format!("{}{}", app.address, route.path),
        &h,
        Some(route.body.as_bytes()),
    )
}

fn get(app: &TestApp, path: &str, who: &str) -> http::Response {
    http::request(
        "GET",
        &format!("{}{path}", app.address),
        &[("X-Forwarded-User", who)],
        None,
    )
}

/// Where the buttons of `path` post, as `who` sees it.
fn buttons(app: &TestApp, path: &str, who: &str) -> Vec<String> {
    let r = get(app, path, who);
    assert_eq!(r.status, 200, "{path} as {who}: {}", r.text());
    let doc = scraper::Html::parse_document(&r.text());
    let mut all = crate::support::html::attrs(&doc, "form.act", "action");
    all.extend(crate::support::html::attrs(
        &doc,
        "button[formaction]",
        "formaction",
    ));
    all
}

#[test]
fn every_action_route_answers_each_role_and_refusals_leave_redis_alone() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    for (queue, prefix, failed) in [
        ("eu-1", "eu-f-", true),
        ("us-1", "us-f-", true),
        ("eu-1", "eu-q-", false),
        ("us-1", "us-q-", false),
    ] {
        rq.make_jobs(&url, queue, 8, prefix, failed);
    }
    let (_dir, _, app) = spawn(&url);

    // Buttons follow the queue: bob acts on eu-1's failed jobs, not on us-1's, and has no
    // every-queue button; vic has none.
    let eu = buttons(&app, "/0/view/jobs/eu-1/failed/20/asc/1", "bob");
    assert!(eu.iter().any(|a| a.ends_with("/0/requeue/eu-1")), "{eu:?}");
    assert!(eu.iter().any(|a| a.ends_with("/0/jobs/delete")), "{eu:?}");
    assert!(
        !eu.iter().any(|a| a.contains("/empty")),
        "bob may not empty: {eu:?}"
    );
    let us = buttons(&app, "/0/view/jobs/us-1/failed/20/asc/1", "bob");
    assert!(us.is_empty(), "{us:?}");
    let job = buttons(&app, "/0/view/job/eu-f-7", "bob");
    assert!(
        job.iter().any(|a| a.ends_with("/job/eu-f-7/requeue")),
        "{job:?}"
    );
    assert!(buttons(&app, "/0/view/job/us-f-7", "bob").is_empty());
    assert!(
        buttons(&app, "/0/view/queues", "bob").is_empty(),
        "no every-queue button"
    );
    assert!(buttons(&app, "/0/view/jobs/eu-1/failed/20/asc/1", "vic").is_empty());
    assert!(!buttons(&app, "/0/view/queues", "ada").is_empty());
    // Nobody without a role gets in; the audit trail is ada's only.
    assert_eq!(get(&app, "/0/view/queues", "eve").status, 403);
    assert!(get(&app, "/0/view/queues", "eve")
        .text()
        .contains("no role"));
    assert_eq!(get(&app, "/0/data/audit.json", "bob").status, 403);
    assert_eq!(get(&app, "/0/data/audit.json", "ada").status, 200);

    for (k, who) in ["anonymous", "vic", "bob", "ada"].into_iter().enumerate() {
        for route in routes(k) {
            let before = rq_keys(&redis);
            let r = post(&app, &route, who);
            let allowed = route.perms.iter().all(|p| may(who, p, route.queue));
            let what = format!("POST {} {} as {who}", route.path, route.body);
            if allowed {
                assert!(
                    route.ok.contains(&r.status),
                    "{what}: {} {}",
                    r.status,
                    r.text()
                );
            } else {
                assert_eq!(r.status, 403, "{what}: {}", r.text());
                if who == "bob" {
                    let missing = route
                        .perms
                        .iter()
                        .find(|p| !may(who, p, route.queue))
                        .unwrap();
                    assert!(
                        r.text().contains(missing),
                        "{what} names “{missing}”: {}",
                        r.text()
                    );
                }
                assert_eq!(rq_keys(&redis), before, "{what}: Redis changed");
            }
        }
        if who == "bob" {
            assert_eq!(status(&redis, "eu-f-2"), "queued", "bob requeued an eu job");
            assert_eq!(status(&redis, "eu-q-2"), "canceled");
            assert_eq!(
                status(&redis, "eu-f-6"),
                "",
                "bob deleted a selected eu job"
            );
            for i in 0..8 {
                assert_eq!(status(&redis, &format!("us-f-{i}")), "failed", "us-f-{i}");
            }
            // A row whose form names an eu queue for a us job: left alone.
            let lie = Route {
                path: "/0/jobs/cancel".into(),
                body: "ids=us-q-7&queue=eu-1&registry=queued".into(),
                perms: &[],
                queue: None,
                ok: &[],
            };
            let r = post(&app, &lie, "bob");
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(r.json()["count"], 0, "{}", r.text());
            assert_eq!(status(&redis, "us-q-7"), "queued");
        }
    }
    assert_eq!(status(&redis, "us-f-3"), "queued", "ada requeued us-1");
}

#[test]
fn a_search_wide_requeue_by_an_eu_operator_moves_eu_jobs_only_and_the_policy_is_re_read() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("3.0.0");
    rq.make_jobs(&url, "eu-west", 5, "eu-", true);
    rq.make_jobs(&url, "us-east", 5, "us-", true);
    let (_dir, path, app) = spawn(&url);
    let search = "queue=*&registry=failed";
    let done = wait_for(Duration::from_secs(30), "the search", || {
        let v = get(
            &app,
            &format!("/0/data/search.json?{search}&per_page=100"),
            "bob",
        )
        .json();
        (v["complete"] == true).then_some(v)
    });
    assert_eq!(done["total"], 10);
    let r = http::request(
        "POST",
        &format!("{}/0/search/requeue?{search}&expect=10", app.address),
        &[
            ("Origin", app.address.as_str()),
            ("X-Forwarded-User", "bob"),
        ],
        Some(b""),
    );
    assert!(r.status == 200 || r.status == 202, "{}", r.text());
    wait_for(Duration::from_secs(30), "bob's requeue", || {
        (0..5)
            .all(|i| status(&redis, &format!("eu-{i}")) == "queued")
            .then_some(())
    });
    for i in 0..5 {
        assert_eq!(status(&redis, &format!("us-{i}")), "failed", "us-{i}");
    }

    // vic may only look; after the file changes, vic may requeue us-* jobs.
    let vic = |id: &str| {
        http::request(
            "POST",
            &format!("{}/0/job/{id}/requeue", app.address),
            &[
                ("Origin", app.address.as_str()),
                ("X-Forwarded-User", "vic"),
            ],
            Some(b""),
        )
        .status
    };
    assert_eq!(vic("us-0"), 403);
    // A group from the proxy binds a role: carl of ops-eu may requeue eu jobs, not us ones.
    let carl = |id: &str, groups: &str| {
        http::request(
            "POST",
            &format!("{}/0/job/{id}/requeue", app.address),
            &[
                ("Origin", app.address.as_str()),
                ("X-Forwarded-User", "carl"),
                ("X-Forwarded-Groups", groups),
            ],
            Some(b""),
        )
        .status
    };
    rq.make_jobs(&url, "eu-west", 1, "eu-late-", true);
    assert_eq!(carl("us-1", "ops-eu"), 403, "no role on us-*");
    assert_eq!(carl("eu-late-0", "ops-us, staff"), 403, "no role at all");
    assert_eq!(status(&redis, "eu-late-0"), "failed");
    assert_eq!(carl("eu-late-0", "staff, ops-eu"), 200);
    assert_eq!(status(&redis, "eu-late-0"), "queued");
    std::fs::write(
        &path,
        POLICY.replace(
            "actions = [\"view\"]\nusers = [\"vic\", \"bob\"]",
            "actions = [\"view\", \"requeue\"]\nqueues = [\"us-*\"]\nusers = [\"vic\", \"bob\"]",
        ),
    )
    .unwrap();
    wait_for(Duration::from_secs(10), "the policy to be re-read", || {
        (vic("us-0") == 200).then_some(())
    });
    assert_eq!(status(&redis, "us-0"), "queued");
    assert_eq!(vic("eu-0"), 403, "still not eu");
}

#[test]
fn a_queue_a_role_may_not_view_is_absent_everywhere() {
    let redis = TestRedis::start();
    let url = redis.url();
    let rq = Rq::new("2.12.0");
    rq.make_jobs(&url, "eu-1", 3, "eu-f-", true);
    rq.make_jobs(&url, "us-1", 5, "us-f-", true);
    rq.make_jobs(&url, "us-1", 2, "us-q-", false);
    let (_dir, _, app) = spawn(&url);
    let ok = |path: &str| {
        let r = get(&app, path, "liv");
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        r.text()
    };
    // The overview, queues.json and workers.json know eu-1 only, and its totals are eu-1's.
    let page = ok("/0/view/queues");
    assert!(
        page.contains("eu-1") && !page.contains("us-1"),
        "the overview names us-1"
    );
    let q: serde_json::Value = serde_json::from_str(&ok("/0/data/queues.json")).unwrap();
    let names: Vec<&str> = q["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["eu-1"]);
    let doc = scraper::Html::parse_document(&page);
    let total: Vec<String> = doc
        .select(&scraper::Selector::parse("tr.total td[data-registry=\"failed\"]").unwrap())
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(total, vec!["3".to_string()], "eu-1's 3 failed jobs, not 8");
    // us-1's lists, jobs, failures, history and searches answer as if it did not exist.
    for path in [
        "/0/view/jobs/us-1/failed/20/asc/1",
        "/0/data/jobs/us-1/failed/20/asc/1.json",
        "/0/view/job/us-f-1",
        "/0/data/job/us-f-1.json",
        "/0/view/failures/us-1",
        "/0/data/history.json?queue=us-1",
        "/0/data/search.json?queue=us-1&registry=failed",
    ] {
        let r = get(&app, path, "liv");
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert!(
            !r.text().contains("us-f-1") || path.contains("us-f-1"),
            "{path}"
        );
    }
    assert_eq!(get(&app, "/0/view/job/eu-f-1", "liv").status, 200);
    // Pages that mix every queue are refused, with a sentence; the search form offers eu-1 only.
    for path in [
        "/0/view/groups",
        "/0/data/cron.json",
        "/0/view/rate-limits",
        "/0/data/history.json",
        "/0/data/search.json?queue=*&registry=failed",
        "/metrics",
        "/all",
        "/0/data/audit.json",
    ] {
        let r = get(&app, path, "liv");
        assert_eq!(r.status, 403, "{path}: {}", r.text());
        assert!(
            r.text().contains("some queues only"),
            "{path}: {}",
            r.text()
        );
    }
    let search = ok("/0/view/search");
    assert!(search.contains("eu-1") && !search.contains("us-1"));
    // vic, who may view every queue, still sees both.
    let r = get(&app, "/0/view/queues", "vic");
    assert!(r.text().contains("us-1"));
}
