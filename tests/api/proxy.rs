//! Behind a real nginx: under `--url-prefix`, and under a prefix announced by
//! `X-Forwarded-Prefix`, every link, asset, htmx call and redirect keeps the prefix.

use crate::support::browser::Browser;
use crate::support::nginx::Nginx;
use crate::support::{http, wait_for, Rq, TestApp, TestRedis};
use rqdash::config::Settings;
use std::time::Duration;

/// Every URL the page points at (links, assets, forms, htmx).
fn urls(body: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(body);
    let mut out = Vec::new();
    for attr in ["href", "src", "action", "hx-get", "hx-post", "formaction"] {
        let sel = scraper::Selector::parse(&format!("[{attr}]")).unwrap();
        for e in doc.select(&sel) {
            out.push(e.value().attr(attr).unwrap().to_string());
        }
    }
    out
}

fn assert_prefixed(body: &str, prefix: &str, page: &str) {
    let all = urls(body);
    assert!(all.len() > 5, "{page}: found only {all:?}");
    for u in all {
        assert!(
            u.starts_with(&format!("{prefix}/")),
            "{page}: {u} lacks {prefix}"
        );
    }
}

#[test]
fn everything_keeps_the_prefix_behind_nginx() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let mut s1 = Settings::for_url(&redis.url());
    s1.url_prefix = "/rq".into();
    s1.poll_interval = Duration::from_millis(1000);
    s1.snapshot_ttl = Duration::from_millis(900);
    let app1 = TestApp::spawn(s1);
    let mut s2 = Settings::for_url(&redis.url());
    s2.trust_proxy = true;
    let app2 = TestApp::spawn(s2);
    let port = |a: &TestApp| a.address.rsplit(':').next().unwrap().to_string();
    let nginx = Nginx::start(&format!(
        "  location /rq/ {{ proxy_pass http://127.0.0.1:{}; proxy_set_header Host $http_host; }}\n\
           location /dash/ {{ proxy_pass http://127.0.0.1:{}/; proxy_set_header Host $http_host; proxy_set_header X-Forwarded-Prefix /dash; }}",
        port(&app1),
        port(&app2)
    ));

    for (prefix, spoof) in [("/rq", true), ("/dash", false)] {
        for page in [
            "/0/view/queues",
            "/0/view/jobs/default/failed/8/asc/1",
            "/0/view/job/job-failed-1",
            "/0/view/workers",
            "/0/view/failures/default",
        ] {
            let mut headers = vec![];
            if spoof {
                // Not trusted there: ignored.
                headers.push(("X-Forwarded-Prefix", "/evil"));
            }
            let r = http::request(
                "GET",
                &format!("{}{prefix}{page}", nginx.address),
                &headers,
                None,
            );
            assert_eq!(r.status, 200, "{prefix}{page}: {}", r.text());
            assert_prefixed(&r.text(), prefix, &format!("{prefix}{page}"));
        }
        let frag = http::get(&format!("{}{prefix}/0/fragments/overview", nginx.address));
        assert_prefixed(&frag.text(), prefix, "fragment");
        let css = http::get(&format!("{}{prefix}/static/app.css", nginx.address));
        assert_eq!(css.status, 200);
        // An htmx action answers with a redirect that keeps the prefix.
        let origin = nginx.address.clone();
        let r = http::request(
            "POST",
            &format!(
                "{}{prefix}/0/job/job-failed-{}/requeue",
                nginx.address,
                if spoof { 1 } else { 2 }
            ),
            &[
                ("HX-Request", "true"),
                ("Origin", &origin),
                ("Sec-Fetch-Site", "same-origin"),
            ],
            Some(b""),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let to = r.header("hx-redirect").unwrap_or_default().to_string();
        assert!(
            to.starts_with(&format!("{prefix}/0/view/job/")),
            "redirect {to}"
        );
        // A plain form post redirects within the prefix too.
        let r = http::request(
            "POST",
            &format!("{}{prefix}/0/suspend", nginx.address),
            &[("Accept", "text/html"), ("Origin", &origin)],
            Some(b""),
        );
        assert_eq!(r.status, 303);
        assert!(r
            .header("location")
            .unwrap()
            .starts_with(&format!("{prefix}/")));
    }

    // In a browser, through nginx: assets load and htmx polls the prefixed fragment.
    let browser = Browser::start();
    browser.goto(&format!("{}/rq/0/view/queues", nginx.address));
    assert_eq!(
        browser.eval("return typeof window.htmx;"),
        "object",
        "htmx loaded"
    );
    wait_for(Duration::from_secs(10), "a poll through the proxy", || {
        let v = browser.eval(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/rq/0/fragments/overview')).length;",
        );
        (v.as_u64().unwrap_or(0) > 0).then_some(())
    });
}
