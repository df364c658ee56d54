//! Static assets (see [`crate::assets`]) and the favicon.

use actix_web::{web, HttpResponse};

use crate::assets;

fn serve(file: &str) -> HttpResponse {
    match assets::lookup(file) {
        Some((body, ctype)) => HttpResponse::Ok()
            .content_type(ctype)
            // URLs carry the version (htmx in its name, ours as ?v=), so they can be cached long.
            .insert_header(("Cache-Control", "public, max-age=86400"))
            .body(body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such asset"),
    }
}

/// `GET /static/{file}`.
pub async fn asset(file: web::Path<String>) -> HttpResponse {
    serve(&file)
}

/// `GET /favicon.ico`: browsers ask for it regardless; answer with the SVG icon.
pub async fn favicon() -> HttpResponse {
    serve("favicon.svg")
}
