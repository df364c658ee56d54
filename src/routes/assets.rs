//! Static assets, compiled into the binary so it runs without a source tree beside it.

use actix_web::{web, HttpResponse};

const HTMX: &str = include_str!("../../static/vendor/htmx-2.0.11/htmx.min.js");
const CSS: &str = include_str!("../../static/app.css");
const JS: &str = include_str!("../../static/app.js");
const FAVICON: &str = include_str!("../../static/favicon.svg");

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
