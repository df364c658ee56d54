//! `GET /healthz`: 200 when every Redis answers, 503 saying which does not.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

/// Pings every instance; answers 200 `{"status": "ok"}` or 503 with the failures.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let mut failures = Vec::new();
    for (i, repo) in state.instances.iter().enumerate() {
        if let Err(e) = repo.ping().await {
            failures.push(json!({ "instance": i, "error": e.to_string() }));
        }
    }
    if failures.is_empty() {
        HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "status": "ok", "instances": state.instances.len() }))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "status": "unavailable", "failures": failures }))
    }
}
