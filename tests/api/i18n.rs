//! The interface in English and Simplified Chinese, on real RQ data: the language each page and
//! polled fragment comes in (`Accept-Language`, then the `lang` cookie over it), the switcher's
//! cookie and its same-site redirects, JSON that never changes with the viewer's language, and
//! the Chinese pages in a real headless Chromium (screenshots in `target/screenshots/i18n-*.png`).

use crate::support::browser::Browser;
use crate::support::http::{self, Response};
use crate::support::{wait_for, Seeded, TestApp};
use std::path::PathBuf;
use std::time::Duration;

const ZH: &str = "zh-CN,zh;q=0.9,en;q=0.8";
const EN: &str = "en-US,en;q=0.9";

/// The overview, the page of a job real RQ failed, and the failed list.
const PAGES: [(&str, &str); 3] = [
    ("overview", "/0/view/queues"),
    ("job", "/0/view/job/job-failed-1"),
    ("failed", "/0/view/jobs/default/failed/8/asc/1"),
];

fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    http::request("GET", &format!("{}{path}", app.address), headers, None)
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The page without the language switcher, whose entries are each in their own language.
fn without_switcher(body: &str) -> String {
    match (
        body.find("<nav class=\"languages\""),
        body.find("</footer>"),
    ) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &body[..a], &body[b..]),
        _ => body.to_string(),
    }
}

fn assert_english(what: &str, r: &Response) {
    assert_eq!(r.status, 200, "{what}: {}", r.text());
    let body = r.text();
    if body.contains("<html") {
        assert!(body.contains("<html lang=\"en\">"), "{what}: <html lang>");
    }
    let rest = without_switcher(&body);
    let cjk: String = rest.chars().filter(|c| has_cjk(&c.to_string())).collect();
    assert!(cjk.is_empty(), "{what}: Chinese on an English page: {cjk}");
}

fn assert_chinese(what: &str, r: &Response, words: &[&str]) {
    assert_eq!(r.status, 200, "{what}: {}", r.text());
    let body = r.text();
    if body.contains("<html") {
        assert!(
            body.contains("<html lang=\"zh-CN\">"),
            "{what}: <html lang>"
        );
    }
    for w in words {
        assert!(body.contains(w), "{what}: “{w}” missing");
    }
}

/// What each page must say in Chinese (fixed words of its layout and data's statuses).
fn chinese_words(page: &str) -> &'static [&'static str] {
    match page {
        "overview" => &["队列", "工作进程", "合计", "失败", "键盘快捷键"],
        "job" => &["任务", "回溯", "函数", ">失败<", "创建"],
        _ => &["队列", "失败", "异常", "按异常分组", "每页"],
    }
}

pub fn check(version: &'static str) {
    let env = Seeded::new(version);
    let app = &env.app;
    for (page, path) in PAGES {
        let what = format!("RQ {version}: {page}");
        let zh = get(app, path, &[("Accept-Language", ZH)]);
        assert_chinese(&what, &zh, chinese_words(page));
        let vary = zh.header("vary").unwrap_or_default().to_string();
        assert!(
            vary.contains("Accept-Language") && vary.contains("Cookie"),
            "{what}: Vary is “{vary}”"
        );
        // Job data stays as RQ wrote it: the traceback's text is there, untranslated.
        if page == "job" {
            assert!(zh.text().contains("second failure") || zh.text().contains("boom"));
        }

        assert_english(&what, &get(app, path, &[("Accept-Language", EN)]));
        assert_english(&what, &get(app, path, &[]));
        // The cookie wins over the header, both ways.
        assert_english(
            &what,
            &get(app, path, &[("Accept-Language", ZH), ("Cookie", "lang=en")]),
        );
        assert_chinese(
            &what,
            &get(
                app,
                path,
                &[("Accept-Language", EN), ("Cookie", "theme=x; lang=zh-CN")],
            ),
            chinese_words(page),
        );
    }

    // The polled fragments come in the page's language, one after the other from the same
    // snapshot: the rendered-answer cache never hands one language's rendering to the other.
    for path in [
        "/0/fragments/overview",
        "/0/fragments/jobs/default/failed/8/asc/1",
    ] {
        for _ in 0..2 {
            let zh = get(
                app,
                path,
                &[("Accept-Language", ZH), ("HX-Request", "true")],
            );
            assert_chinese(path, &zh, &["失败"]);
            let en = get(
                app,
                path,
                &[("Accept-Language", EN), ("HX-Request", "true")],
            );
            assert_english(path, &en);
            let cookie = get(
                app,
                path,
                &[("Cookie", "lang=zh-CN"), ("HX-Request", "true")],
            );
            assert_chinese(path, &cookie, &["失败"]);
        }
    }

    // Health problems: English in JSON and for English viewers, Chinese for Chinese ones.
    let zh = get(app, "/0/fragments/problems", &[("Accept-Language", ZH)]);
    assert_chinese("problems panel", &zh, &["没有在线的工作进程监听该队列"]);
    let en = get(app, "/0/fragments/problems", &[("Accept-Language", EN)]);
    assert_english("problems panel", &en);
    assert!(en.text().contains("no live worker listens to it"));
    let json = get(app, "/0/data/health.json", &[("Cookie", "lang=zh-CN")]);
    assert!(json.text().contains("no live worker listens to it") && !has_cjk(&json.text()));

    // JSON never changes with the viewer's language.
    for path in [
        "/0/data/queues.json",
        "/0/data/jobs/default/failed/8/asc/1.json",
        "/0/data/job/job-failed-1.json",
    ] {
        let zh = get(
            app,
            path,
            &[("Accept-Language", ZH), ("Cookie", "lang=zh-CN")],
        );
        let en = get(app, path, &[("Accept-Language", EN)]);
        assert_eq!(zh.status, 200, "{path}: {}", zh.text());
        assert!(!has_cjk(&zh.text()), "{path}: Chinese in JSON");
        assert_eq!(en.status, 200, "{path}: {}", en.text());
        if path.contains("/jobs/") {
            assert_eq!(zh.json(), en.json(), "{path}");
        }
    }
}

per_rq_version!(pages_and_fragments_follow_the_language, crate::i18n::check);

#[test]
fn the_switcher_sets_the_cookie_and_goes_back_to_same_site_paths_only() {
    let env = Seeded::new("2.12.0");
    let app = &env.app;
    let r = get(
        app,
        "/lang/zh-CN?next=%2F0%2Fview%2Fjob%2Fjob-failed-1",
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/0/view/job/job-failed-1"));
    let cookie = r.header("set-cookie").unwrap_or_default().to_string();
    for part in ["lang=zh-CN", "Path=/", "SameSite=Lax", "Max-Age=31536000"] {
        assert!(cookie.contains(part), "Set-Cookie “{cookie}” lacks {part}");
    }
    assert_eq!(r.header("cache-control"), Some("no-store"));

    for bad in [
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example%2Fx",
        "%2F%5Cevil.example",
        "javascript%3Aalert(1)",
        "%2F0%2Fview%0D%0ASet-Cookie%3A%20x%3D1",
        "",
    ] {
        let r = get(app, &format!("/lang/en?next={bad}"), &[]);
        assert_eq!(r.status, 303, "{bad}");
        assert_eq!(
            r.header("location"),
            Some("/0/view/queues"),
            "next={bad} must not be followed"
        );
    }
    assert_eq!(
        get(app, "/lang/en", &[]).header("location"),
        Some("/0/view/queues")
    );
    assert_eq!(get(app, "/lang/xx-klingon?next=%2F", &[]).status, 404);

    // The footer links to both languages, each coming back to the page it is on.
    let page = get(app, "/0/view/job/job-failed-1", &[("Accept-Language", ZH)]).text();
    assert!(
        page.contains("href=\"/lang/en?next=%2F0%2Fview%2Fjob%2Fjob-failed-1\""),
        "switcher link to English missing"
    );
    assert!(page.contains(">English</a>") && page.contains(">简体中文</a>"));
}

#[test]
fn the_switcher_keeps_to_the_url_prefix() {
    let env = Seeded::new("2.12.0");
    let mut settings = rqdash::config::Settings::for_url(&env.redis.url());
    settings.url_prefix = "/rq".into();
    let app = TestApp::spawn(settings);
    let r = get(&app, "/rq/lang/zh-CN?next=%2Frq%2F0%2Fview%2Fworkers", &[]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/rq/0/view/workers"));
    assert!(r
        .header("set-cookie")
        .unwrap_or_default()
        .contains("Path=/rq;"));
    // A path outside the prefix is another site's business.
    let r = get(&app, "/rq/lang/zh-CN?next=%2Fother%2Fpage", &[]);
    assert_eq!(r.header("location"), Some("/rq/0/view/queues"));
    let page = get(&app, "/rq/0/view/workers", &[("Cookie", "lang=zh-CN")]);
    assert_chinese("prefixed workers page", &page, &["工作进程"]);
}

fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

#[test]
fn chinese_pages_render_in_chromium() {
    let env = Seeded::new("2.12.0");
    let app = &env.app;
    let browser = Browser::start();
    // Through the footer's switcher, as a person would: English first, then 简体中文.
    browser.goto(&format!("{}/0/view/queues", app.address));
    assert_eq!(browser.eval("return document.documentElement.lang;"), "en");
    browser.click("footer nav.languages a[hreflang=\"zh-CN\"]");
    wait_for(Duration::from_secs(10), "the page in Chinese", || {
        (browser.eval("return document.documentElement.lang;") == "zh-CN").then_some(())
    });
    // The words app.js writes come in the page's language too.
    let paused = browser.eval(
        "document.dispatchEvent(new KeyboardEvent('keydown', {key: 'r'})); \
         return document.getElementById('paused').textContent;",
    );
    assert_eq!(paused, "（刷新已暂停：按 r 恢复）");
    browser.eval("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'r'})); return null;");
    for (name, path) in PAGES {
        browser.goto(&format!("{}{path}", app.address));
        assert_eq!(
            browser.eval("return document.documentElement.lang;"),
            "zh-CN",
            "{name}"
        );
        let h1 = browser.text("h1").unwrap_or_default();
        assert!(has_cjk(&h1), "{name}: h1 “{h1}” is not Chinese");
        // A live poll later, the page is still Chinese (fragments come in its language).
        browser.eval("document.body.dispatchEvent(new Event('rqdash:refresh')); return null;");
        std::thread::sleep(Duration::from_millis(600));
        let footer = browser.text("footer").unwrap_or_default();
        assert!(footer.contains("毫秒刷新"), "{name}: footer “{footer}”");
        browser.screenshot(&screenshot_dir().join(format!("i18n-{name}.png")));
    }
    // And back to English from the footer.
    browser.click("footer nav.languages a[hreflang=\"en\"]");
    wait_for(Duration::from_secs(10), "the page in English", || {
        (browser.eval("return document.documentElement.lang;") == "en").then_some(())
    });
    let h1 = browser.text("h1").unwrap_or_default();
    assert!(h1.starts_with("Queue") && !has_cjk(&h1), "h1 “{h1}”");
}
