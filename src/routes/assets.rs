//! Static assets, compiled into the binary so it runs without a source tree beside it.

use actix_web::{web, HttpResponse};

const HTMX: &str = include_str!("../../static/vendor/htmx-2.0.11/htmx.min.js");
const CSS: &str = include_str!("../../static/app.css");
const JS: &str = include_str!("../../static/app.js");
const FAVICON: &str = include_str!("../../static/favicon.svg");

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

/// `GET /static/{file}`.
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    let (body, ctype) = match file.as_str() {
        "htmx-2.0.11.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        "favicon.svg" => (FAVICON, "image/svg+xml"),
        _ => {
            return HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body("no such asset")
        }
    };
    HttpResponse::Ok()
        .content_type(ctype)
        // URLs carry the version (htmx in its name, ours as ?v=), so they can be cached long.
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(body)
}

/// `GET /favicon.ico`: browsers ask for it regardless; answer with the SVG icon.
pub async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(FAVICON)
}
