//! Job lists: order and content against RQ, exact pagination, expired ids.

use crate::support::html::{attrs, count, text};
use crate::support::{seg, Rq, Seeded, TestApp, TestRedis};
use serde_json::Value;

use crate::support::REGISTRIES;

fn ids_of(v: &Value) -> Vec<String> {
    v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect()
}

pub fn lists_match_rq(version: &'static str) {
    let env = Seeded::new(version);
    let oracle = env.oracle();
    for (queue, q) in oracle["queues"].as_object().unwrap() {
        for r in REGISTRIES {
            let want: Vec<String> = q["ids"][r]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect();
            let asc = env
                .app
                .json(&format!("/0/data/jobs/{}/{r}/500/asc/1.json", seg(queue)));
            assert_eq!(ids_of(&asc), want, "RQ {version}: {queue}/{r} ascending");
            assert_eq!(asc["total_items"].as_u64(), Some(want.len() as u64));
            let dsc = env
                .app
                .json(&format!("/0/data/jobs/{}/{r}/500/dsc/1.json", seg(queue)));
            let mut rev = want.clone();
            rev.reverse();
            assert_eq!(ids_of(&dsc), rev, "RQ {version}: {queue}/{r} descending");
            let doc = env
                .app
                .html(&format!("/0/view/jobs/{}/{r}/500/asc/1", seg(queue)));
            assert_eq!(
                attrs(&doc, "tr[data-job-id]", "data-job-id"),
                want,
                "RQ {version}: {queue}/{r} on the page"
            );
            // Rows carry RQ's own view of each job.
            for j in asc["jobs"].as_array().unwrap() {
                let id = j["id"].as_str().unwrap();
                let o = &oracle["jobs"][id];
                assert_eq!(j["status"], o["status"], "RQ {version}: status of {id}");
                assert_eq!(
                    j["description"], o["description"],
                    "RQ {version}: description of {id}"
                );
                assert_eq!(
                    j["exc_info"], o["exc_info"],
                    "RQ {version}: exc_info of {id}"
                );
            }
        }
    }
    // The job at the front of the queue is first.
    let q = env.app.json("/0/data/jobs/default/queued/8/asc/1.json");
    assert_eq!(ids_of(&q)[0], env.seed["ids"]["front"].as_str().unwrap());
    // Failed rows show the last line of the traceback.
    let doc = env.app.html("/0/view/jobs/default/failed/8/asc/1");
    let exc = text(&doc, "tr[data-job-id=\"job-failed-1\"] td.exc");
    assert_eq!(exc, "ValueError: boom <script>alert(1)</script>");
}

per_rq_version!(job_lists_match_rq, crate::jobs::lists_match_rq);

#[test]
fn pages_are_exact_and_disjoint_in_both_orders() {
    // Arrange: 57 queued jobs written by real RQ.
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let ids = rq.enqueue(&redis.url(), "many", 57);
    let app = TestApp::for_redis(&redis.url());

    for (order, expected) in [
        ("asc", ids.clone()),
        ("dsc", ids.iter().rev().cloned().collect()),
    ] {
        let mut seen = Vec::new();
        for page in 1..=6 {
            let v = app.json(&format!("/0/data/jobs/many/queued/10/{order}/{page}.json"));
            let got = ids_of(&v);
            assert_eq!(
                got.len(),
                if page == 6 { 7 } else { 10 },
                "{order} page {page}"
            );
            assert_eq!(v["pagination"]["num_pages"], 6);
            seen.extend(got);
        }
        assert_eq!(
            seen, expected,
            "{order}: pages cover every job exactly once, in order"
        );
        // Past the last page: an empty page that says so, not an error and not a repeat.
        let v = app.json(&format!("/0/data/jobs/many/queued/10/{order}/7.json"));
        assert!(ids_of(&v).is_empty());
        let doc = app.html(&format!("/0/view/jobs/many/queued/10/{order}/7"));
        assert_eq!(count(&doc, "tr[data-job-id]"), 0);
        assert!(text(&doc, "p.banner").contains("past the last page"));
    }
    // The pager links to the last page and to its neighbours.
    let doc = app.html("/0/view/jobs/many/queued/10/asc/3");
    assert_eq!(
        attrs(&doc, "a[rel=last]", "href"),
        vec!["/0/view/jobs/many/queued/10/asc/6"]
    );
    assert_eq!(
        attrs(&doc, "a[rel=prev]", "href"),
        vec!["/0/view/jobs/many/queued/10/asc/2"]
    );
    assert_eq!(
        attrs(&doc, "a[rel=next]", "href"),
        vec!["/0/view/jobs/many/queued/10/asc/4"]
    );
    assert_eq!(text(&doc, "#range"), "21–30 of 57 in queued");
}

#[test]
fn ids_whose_hash_expired_are_listed_as_missing() {
    let env = Seeded::new("2.12.0");
    // What a `ttl` expiring in the queue leaves behind: the id stays in the list.
    let mut c = env.redis.conn();
    let _: () = redis::cmd("DEL")
        .arg("rq:job:job-queued-1")
        .query(&mut c)
        .unwrap();
    let v = env.app.json("/0/data/jobs/default/queued/8/asc/1.json");
    let row = v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == "job-queued-1")
        .expect("the expired id is still listed");
    assert_eq!(row["missing"], true);
    let doc = env.app.html("/0/view/jobs/default/queued/8/asc/1");
    assert_eq!(count(&doc, "tr.missing[data-job-id=\"job-queued-1\"]"), 1);
    // And the dashboard did not remove it (rq-dashboard LREMs it on read).
    let len: i64 = redis::cmd("LLEN")
        .arg("rq:queue:default")
        .query(&mut c)
        .unwrap();
    assert_eq!(len, 2);
}

#[test]
fn an_unregistered_queue_gives_an_empty_list_with_a_note() {
    let env = Seeded::new("2.12.0");
    let doc = env.app.html("/0/view/jobs/nope/queued/8/asc/1");
    assert!(text(&doc, "p.banner").contains("No queue named"));
}
