//! The language switcher: `GET /lang/{code}?next=<path>` sets the `lang` cookie and sends the
//! viewer back to the page they were on (a path on this site only: never an open redirect).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::http::viewer::Viewer;
use crate::i18n::{Lang, COOKIE};
use crate::state::AppState;

/// The query of the switcher's link.
#[derive(Debug, Deserialize)]
pub struct Next {
    /// Where to go back to.
    next: Option<String>,
}

/// Whether `next` is a path on this site under `base`: absolute, not scheme- or
/// protocol-relative (`//host`, `/\host`), no control characters.
pub fn safe_next(next: &str, base: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && (base.is_empty() || next == base || next.starts_with(&format!("{base}/")))
}

/// `GET /lang/{code}`: sets the cookie (Path = the URL prefix, SameSite=Lax, a year) and
/// redirects to `next`, or to the overview when `next` is missing or not a path of this site.
/// An unknown language is a 404.
pub async fn switch(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    q: web::Query<Next>,
) -> HttpResponse {
    let viewer = Viewer::current(&state);
    let Some(lang) = Lang::from_code(&code) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body("no such language");
    };
    let target = q
        .next
        .as_deref()
        .filter(|n| safe_next(n, &viewer.base))
        .map_or_else(|| viewer.urls(0).overview(), str::to_string);
    let path = if viewer.base.is_empty() {
        "/"
    } else {
        viewer.base.as_str()
    };
    let secure = req.connection_info().scheme() == "https";
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::SET_COOKIE,
            format!(
                "{COOKIE}={}; Path={path}; Max-Age=31536000; SameSite=Lax{}",
                lang.code(),
                if secure { "; Secure" } else { "" }
            ),
        ))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_site_paths_are_followed() {
        for ok in ["/0/view/queues", "/0/view/job/x?y=1", "/"] {
            assert!(safe_next(ok, ""), "{ok}");
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "evil",
            "",
            "/a b",
            "/\r\nSet-Cookie: x",
            "javascript:alert(1)",
        ] {
            assert!(!safe_next(bad, ""), "{bad}");
        }
        assert!(safe_next("/rq/0/view/queues", "/rq"));
        assert!(!safe_next("/other/0/view/queues", "/rq"));
        assert!(!safe_next("/rqx", "/rq"));
    }
}
