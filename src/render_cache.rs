//! Rendered answers built from the shared snapshot (overview, workers and their JSON), kept
//! until the snapshot changes, with a gzip copy for browsers.
//!
//! The snapshot already makes Redis cost independent of the number of viewers; this makes the
//! CPU cost independent too: 50 browsers and a JSON scraper polling the same instance cause one
//! render per snapshot, not one per request.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use flate2::{write::GzEncoder, Compression};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::AppError;
use crate::i18n::Lang;
use crate::rq::Snapshot;
use crate::views::layout::Perms;

/// One rendered answer.
#[derive(Debug)]
pub struct Rendered {
    /// The body.
    pub body: Bytes,
    /// The body, gzip-compressed: made on the first request that accepts gzip (profiling showed
    /// eager compression cost a fifth of the CPU for clients that never ask for it).
    gzip: OnceLock<Bytes>,
    /// Its content type.
    pub content_type: &'static str,
}

type Entry = (Arc<Snapshot>, Arc<Rendered>);
/// Instance, view, its variant (e.g. a list's filter and page), the viewer's link prefix and
/// permissions (links and buttons differ by them), the language it is written in, the
/// signed-in user (a page carries the user's own form token and name), and what redaction
/// hides from them ([`crate::redact::Sight::key`]: an answer with values shown never reaches a
/// viewer they are hidden from).
pub type Key = (
    usize,
    &'static str,
    String,
    String,
    Perms,
    Lang,
    Option<String>,
    String,
);

/// The most renderings kept; past that the oldest snapshot's are dropped first (all at once:
/// they would be re-rendered on the next snapshot anyway).
const MAX_ENTRIES: usize = 256;

/// Rendered answers per (instance, view), each tied to the snapshot it was rendered from.
#[derive(Debug, Default)]
pub struct RenderCache {
    map: Mutex<HashMap<Key, Entry>>,
}

impl RenderCache {
    /// Returns the answer for `key` rendered from `snap`, rendering it only when
    /// the cached one came from another snapshot.
    ///
    /// # Errors
    /// When rendering fails.
    pub fn get_or_render(
        &self,
        key: Key,
        snap: &Arc<Snapshot>,
        content_type: &'static str,
        render: impl FnOnce() -> Result<String, AppError>,
    ) -> Result<Arc<Rendered>, AppError> {
        if let Ok(map) = self.map.lock() {
            if let Some((s, r)) = map.get(&key) {
                if Arc::ptr_eq(s, snap) {
                    return Ok(r.clone());
                }
            }
        }
        let body = render()?;
        let r = Arc::new(Rendered {
            body: Bytes::from(body),
            gzip: OnceLock::new(),
            content_type,
        });
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MAX_ENTRIES {
                // Filtered views come and go: keep only what belongs to the current snapshot.
                map.retain(|_, (s, _)| Arc::ptr_eq(s, snap));
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
            }
            map.insert(key, (snap.clone(), r.clone()));
        }
        Ok(r)
    }
}

impl Rendered {
    /// The gzip-compressed body (compressed once, then shared); `None` if compression failed.
    pub fn gzip(&self) -> Option<&Bytes> {
        if let Some(g) = self.gzip.get() {
            return Some(g);
        }
        let mut gz = GzEncoder::new(Vec::with_capacity(self.body.len() / 4), Compression::fast());
        gz.write_all(&self.body).ok()?;
        let g = Bytes::from(gz.finish().ok()?);
        Some(self.gzip.get_or_init(|| g))
    }
}

fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

/// Answers with a rendered body, gzip-compressed when the client accepts it.
pub fn respond(req: &HttpRequest, r: &Rendered) -> HttpResponse {
    let mut b = HttpResponse::Ok();
    b.content_type(r.content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Accept-Encoding"));
    match accepts_gzip(req).then(|| r.gzip()).flatten() {
        Some(g) => b
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(g.clone()),
        None => b.body(r.body.clone()),
    }
}
