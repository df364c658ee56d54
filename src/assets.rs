//! The static files (stylesheet, script, vendored htmx, icon), compiled into the binary so it
//! runs without a source tree beside it, and the content hash put in their URLs.

const HTMX: &str = include_str!("../static/vendor/htmx-2.0.11/htmx.min.js");
const CSS: &str = include_str!("../static/app.css");
const JS: &str = include_str!("../static/app.js");
const FAVICON: &str = include_str!("../static/favicon.svg");

/// FNV-1a over bytes, usable in constants.
const fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x100000001b3);
        i += 1;
    }
    h
}

/// A hash of the stylesheet and script, put in their URLs (`?v=`) so browsers never keep a
/// stale copy after an upgrade while caching them for a day otherwise.
pub const ASSET_VERSION: u64 = fnv1a(JS.as_bytes(), fnv1a(CSS.as_bytes(), 0xcbf29ce484222325));

/// Returns a static file's content and content type by name.
pub fn lookup(file: &str) -> Option<(&'static str, &'static str)> {
    Some(match file {
        "htmx-2.0.11.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        "favicon.svg" => (FAVICON, "image/svg+xml"),
        _ => return None,
    })
}
