//! Long lists stay light: the overview's queues and the workers are filtered, sorted and paged on
//! the server, from the URL, with the totals still covering everything.

use std::time::Duration;

use crate::support::html::{attrs, count, text};
use crate::support::{wait_for, Rq, TestApp, TestRedis};

fn queue_names(doc: &scraper::Html) -> Vec<String> {
    attrs(doc, "#queues tbody tr[data-queue]", "data-queue")
}

#[test]
fn the_queue_list_filters_sorts_and_pages_from_the_url() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    for (q, n) in [
        ("mail-high", 3),
        ("mail-low", 1),
        ("reports", 2),
        ("zz-idle", 0),
    ] {
        if n > 0 {
            rq.enqueue(&redis.url(), q, n);
        }
    }
    // An empty queue RQ still lists: enqueue, then empty it through RQ's API.
    rq.enqueue(&redis.url(), "zz-idle", 1);
    rq.act(&redis.url(), &["--action", "empty", "--queue", "zz-idle"]);
    let app = TestApp::for_redis(&redis.url());

    let all = app.html("/0/view/queues");
    assert_eq!(
        queue_names(&all),
        ["mail-high", "mail-low", "reports", "zz-idle"]
    );
    let filtered = app.html("/0/view/queues?q=MAIL");
    assert_eq!(queue_names(&filtered), ["mail-high", "mail-low"]);
    assert_eq!(text(&filtered, "#queues-shown"), "2 of 4 queues");
    // The totals row still counts every queue.
    assert_eq!(
        text(&filtered, "tfoot td[data-registry=queued]"),
        "6",
        "totals cover every queue"
    );
    // Sorted by the queued count, most first.
    let sorted = app.html("/0/view/queues?sort=queued&dir=desc");
    assert_eq!(
        queue_names(&sorted)[..3],
        ["mail-high", "reports", "mail-low"]
    );
    assert_eq!(
        attrs(&sorted, "th[aria-sort=descending] a", "href").len(),
        1
    );
    // Hide empty queues.
    let busy = app.html("/0/view/queues?hide_empty=1");
    assert!(!queue_names(&busy).contains(&"zz-idle".to_string()));
    // Pages: two per page.
    let p2 = app.html("/0/view/queues?per_page=2&page=2");
    assert_eq!(queue_names(&p2), ["reports", "zz-idle"]);
    assert!(text(&p2, "#queues-shown").starts_with("3–4 of 4 matching queues"));
    // The live fragment keeps the same view.
    let frag = app.get("/0/fragments/overview?q=rep");
    let doc = scraper::Html::parse_fragment(&frag.text());
    assert_eq!(queue_names(&doc), ["reports"]);
    let hx = attrs(&doc, "#overview", "hx-get");
    assert!(hx[0].ends_with("/0/fragments/overview?q=rep"), "{hx:?}");
}

#[test]
fn the_worker_list_filters_by_name_host_queue_and_state() {
    let redis = TestRedis::start();
    let rq = Rq::new("2.12.0");
    let _a = rq.idle_worker(&redis.url(), "alpha", "w-alpha");
    let _b = rq.idle_worker(&redis.url(), "beta", "w-beta");
    let app = TestApp::for_redis(&redis.url());
    // Both registered and idle (a worker says "started" for a moment first).
    wait_for(Duration::from_secs(30), "both workers idle", || {
        let w = app.json("/0/data/workers.json");
        let ws = w["workers"].as_array().cloned().unwrap_or_default();
        (ws.len() == 2 && ws.iter().all(|w| w["state"] == "idle")).then_some(())
    });
    let names = |path: &str| {
        attrs(
            &app.html(path),
            "#worker-list tr[data-worker]",
            "data-worker",
        )
    };
    assert_eq!(names("/0/view/workers?q=alpha"), ["w-alpha"]);
    assert_eq!(names("/0/view/workers?q=beta"), ["w-beta"]);
    assert_eq!(names("/0/view/workers?q=idle").len(), 2);
    let host = app.json("/0/data/workers.json")["workers"][0]["hostname"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(names(&format!("/0/view/workers?q={host}")).len(), 2);
    assert_eq!(
        names("/0/view/workers?sort=name&dir=desc"),
        ["w-beta", "w-alpha"]
    );
    assert_eq!(
        count(
            &app.html("/0/view/workers?q=nobody"),
            "#worker-list tr[data-worker]"
        ),
        0
    );
}

#[test]
fn hostile_list_parameters_get_a_clear_answer() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").enqueue(&redis.url(), "q", 1);
    let app = TestApp::for_redis(&redis.url());
    // Regex characters and unicode are plain text; nothing matches, nothing breaks.
    for q in [".%2A%5B%28", "%E4%B8%AD%E6%96%87", "%3Cscript%3E"] {
        let r = app.get(&format!("/0/view/queues?q={q}"));
        assert_eq!(r.status, 200, "{q}");
        assert!(!r.text().contains("<script>"), "{q}");
    }
    let long = "x".repeat(1000);
    for (path, needle) in [
        (format!("/0/view/queues?q={long}"), "at most 200"),
        ("/0/view/queues?sort=nope".to_string(), "cannot sort by"),
        ("/0/view/workers?page=0".to_string(), "invalid page"),
        (
            "/0/view/queues?per_page=99999".to_string(),
            "invalid page size",
        ),
    ] {
        let r = app.get(&path);
        assert_eq!(r.status, 400, "{path}");
        assert!(r.text().contains(needle), "{path}");
    }
}
