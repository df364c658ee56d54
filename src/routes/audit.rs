//! The audit trail: its page, the page's live fragment, `audit.json` and `audit.csv`, for
//! viewers with the audit permission ([`crate::views::layout::Perms::audit`]).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use serde_json::json;

use crate::audit::{self, Filter};
use crate::error::AppError;
use crate::http::extract::Instance;
use crate::http::respond::Kind;
use crate::i18n;
use crate::views::audit::{lost_sentence, AuditList, AuditPage, FilterForm};
use crate::views::format::thousands;

/// Entries per page (and the default of `limit`).
const PER_PAGE: usize = 50;
/// The most entries `limit` may ask for.
const MAX_LIMIT: usize = 1000;

/// The query's pairs.
fn query(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

fn get<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A stream id as `before` takes it (`<ms>-<seq>`), or a 400.
fn before_of(q: &[(String, String)]) -> Result<Option<String>, AppError> {
    match get(q, "before") {
        None => Ok(None),
        Some(b) => {
            let ok = b
                .split_once('-')
                .is_some_and(|(ms, seq)| ms.parse::<u64>().is_ok() && seq.parse::<u64>().is_ok());
            if ok {
                Ok(Some(b.to_string()))
            } else {
                Err(AppError::BadRequest(format!(
                    "“before” must be an entry id like 1765123456789-0, not “{}”",
                    crate::rq::decode::truncate(b, 60)
                )))
            }
        }
    }
}

/// The filter, or a 400 with the sentence; and refuses viewers without the permission.
fn checked(inst: &Instance, q: &[(String, String)]) -> Result<Filter, AppError> {
    // The trail names every queue's actions.
    inst.viewer.require_view_everywhere()?;
    if !inst.viewer.perms.audit {
        return Err(AppError::Forbidden(i18n::t("audit.forbidden").to_string()));
    }
    Filter::from_query(q).map_err(AppError::BadRequest)
}

async fn list(inst: &Instance, q: &[(String, String)]) -> Result<(Filter, AuditList), AppError> {
    let filter = checked(inst, q)?;
    let before = before_of(q)?;
    let page = audit::read(&inst.repo, inst.n, &filter, before.as_deref(), PER_PAGE).await?;
    let list = AuditList::new(
        &page.entries,
        &inst.urls,
        &filter,
        before.as_deref(),
        page.next.as_deref(),
        inst.state.poll_ms(),
    );
    Ok((filter, list))
}

/// `GET /{n}/view/audit?user=&action=&queue=&since=&until=&before=`.
pub async fn page(inst: Instance, req: HttpRequest) -> HttpResponse {
    let r = async {
        let q = query(&req);
        let (filter, list) = list(&inst, &q).await?;
        let held = inst.repo.audit_len().await?;
        let s = &inst.state.settings;
        let fq = filter.query();
        Ok(AuditPage {
            layout: inst.layout("audit", i18n::t("nav.audit")),
            form: FilterForm {
                user: filter.user.clone(),
                action: filter.action.clone(),
                queue: filter.queue.clone(),
                since: get(&q, "since").unwrap_or_default().to_string(),
                until: get(&q, "until").unwrap_or_default().to_string(),
            },
            list,
            json_url: inst.urls.audit_data("json", &fq),
            csv_url: inst.urls.audit_data("csv", &fq),
            lost: inst.state.audit.lost(inst.n).as_ref().map(lost_sentence),
            unauthenticated: match inst.state.audit.unauthenticated(inst.n) {
                0 => None,
                k => Some(i18n::tf("audit.unauthenticated", &[("n", &thousands(k))])),
            },
            held: i18n::tf(
                "audit.held",
                &[
                    ("n", &thousands(held)),
                    ("max", &thousands(s.audit_max_entries)),
                    ("days", &(s.audit_max_age.as_secs() / 86_400).to_string()),
                ],
            ),
        }
        .render()?)
    }
    .await;
    inst.page(r)
}

/// `GET /{n}/fragments/audit?…`: the first page, polled by the audit page.
pub async fn fragment(inst: Instance, req: HttpRequest) -> HttpResponse {
    let r = async {
        let (_, list) = list(&inst, &query(&req)).await?;
        Ok(list.render()?)
    }
    .await;
    inst.fragment(r)
}

/// `GET /{n}/data/audit.json?user=&action=&queue=&since=&until=&before=&limit=`: `entries[]`
/// newest first, `next` (pass it as `before` for the older page; null at the end), `scanned`.
pub async fn json(inst: Instance, req: HttpRequest) -> HttpResponse {
    let r = async {
        let q = query(&req);
        let filter = checked(&inst, &q)?;
        let before = before_of(&q)?;
        let limit = match get(&q, "limit") {
            None => PER_PAGE,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_LIMIT).contains(l))
                .ok_or_else(|| AppError::BadRequest(format!("“limit” must be 1 to {MAX_LIMIT}")))?,
        };
        let page = audit::read(&inst.repo, inst.n, &filter, before.as_deref(), limit).await?;
        let next = page.next.as_ref().map(|id| {
            let mut fq = filter.query();
            if !fq.is_empty() {
                fq.push('&');
            }
            fq.push_str(&serde_urlencoded::to_string([("before", id)]).unwrap_or_default());
            inst.urls.audit_data("json", &fq)
        });
        Ok(crate::http::respond::json(&json!({
            "entries": page.entries,
            "next": page.next,
            "next_url": next,
            "scanned": page.scanned,
        })))
    }
    .await;
    inst.answer(Kind::Json, r)
}

/// `GET /{n}/data/audit.csv?…`: every matching entry (the whole trail at most), newest first.
pub async fn csv(inst: Instance, req: HttpRequest) -> HttpResponse {
    let r = async {
        let q = query(&req);
        let filter = checked(&inst, &q)?;
        let mut before = before_of(&q)?;
        let mut entries = Vec::new();
        loop {
            let page =
                audit::read(&inst.repo, inst.n, &filter, before.as_deref(), MAX_LIMIT).await?;
            entries.extend(page.entries);
            match page.next {
                Some(n) if entries.len() < inst.state.settings.audit_max_entries as usize => {
                    before = Some(n)
                }
                _ => break,
            }
        }
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"rqdash-audit-{}.csv\"", inst.n),
            ))
            .body(audit::csv(&entries)))
    }
    .await;
    inst.answer(Kind::Json, r)
}
