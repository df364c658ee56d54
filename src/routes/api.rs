//! rq-dashboard-compatible JSON: same paths, same field names (rq-dashboard 0.9), plus a few
//! extra fields. Unlike rq-dashboard, errors are real status codes with a message.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::{AppError, Missing};
use crate::http::extract::Instance;
use crate::http::respond::Kind;
use crate::routes::jobs::ListPath;
use crate::rq::model::Registry;
use crate::rq::Snapshot;
use crate::views::format::{http_date, isoformat};
use crate::views::jobs::page_window;
use crate::views::urls::Urls;

const JSON: &str = "application/json";

/// `GET /{n}/data/token.json`: the viewer's form token, for a script that acts without a
/// browser's `Origin` header (it sends the token back as `X-CSRF-Token`). Another site's page
/// cannot read it: no CORS header is ever sent.
pub async fn token(inst: Instance) -> HttpResponse {
    let mut r = crate::http::respond::json(&json!({
        "csrf_token": inst.csrf_token(),
        "header": "X-CSRF-Token",
        "user": inst.viewer.user,
    }));
    r.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    r
}

/// `GET /{n}/data/queues.json`.
pub async fn queues(inst: Instance) -> HttpResponse {
    inst.cached(Kind::Json, "queues_json", String::new(), JSON, |snap| {
        Ok(queues_value(&inst.urls, snap).to_string())
    })
    .await
}

fn queues_value(urls: &Urls, snap: &Snapshot) -> Value {
    {
        let o = &snap.overview;
        let queues: Vec<Value> = o
            .queues
            .iter()
            .map(|q| {
                let mut m = Map::new();
                m.insert("name".into(), json!(q.name));
                m.insert("count".into(), json!(q.queued));
                m.insert(
                    "queued_url".into(),
                    json!(urls.jobs_default(&q.name, Registry::Queued)),
                );
                for r in &Registry::ALL[1..] {
                    m.insert(format!("{r}_job_registry_count"), json!(q.count(*r)));
                    m.insert(format!("{r}_url"), json!(urls.jobs_default(&q.name, *r)));
                }
                m.insert("oldest_enqueued_at".into(), isoformat(q.oldest_enqueued_at));
                m.insert(
                    "scheduler".into(),
                    json!(q.scheduler.as_ref().map(|s| &s.holder)),
                );
                m.insert(
                    "scheduler_host".into(),
                    json!(q.scheduler.as_ref().and_then(|s| s.hostname.as_ref())),
                );
                m.insert(
                    "scheduler_pid".into(),
                    json!(q.scheduler.as_ref().and_then(|s| s.scheduler_pid())),
                );
                m.insert("overdue_scheduled".into(), json!(q.overdue_scheduled));
                Value::Object(m)
            })
            .collect();
        json!({ "queues": queues, "suspended": o.suspended })
    }
}

/// `GET /{n}/data/workers.json`.
pub async fn workers(inst: Instance) -> HttpResponse {
    inst.cached(Kind::Json, "workers_json", String::new(), JSON, |snap| {
        Ok(workers_value(snap).to_string())
    })
    .await
}

fn workers_value(snap: &Snapshot) -> Value {
    {
        let (workers, jobs) = (&snap.overview.workers, &snap.current_jobs);
        let list: Vec<Value> = workers
            .iter()
            .map(|w| {
                let current = match w.current_job.as_ref() {
                    None => json!("idle"),
                    Some(id) => {
                        let j = jobs.get(id);
                        json!({
                            "job_id": id,
                            "description": j.and_then(|j| j.description.clone()),
                            "created_at": isoformat(j.and_then(|j| j.created_at)),
                            "call_string": j.and_then(|j| j.description.clone()),
                        })
                    }
                };
                json!({
                    "name": w.name,
                    "pid": w.pid,
                    "queues": w.queues,
                    "state": w.state,
                    "current_job": current,
                    "last_heartbeat": http_date(w.last_heartbeat),
                    "birth_date": http_date(w.birth),
                    "successful_job_count": w.successful_job_count,
                    "failed_job_count": w.failed_job_count,
                    "total_working_time": w.total_working_time,
                    "version": w.version.clone().unwrap_or_default(),
                    "python_version": w.python_version.clone().unwrap_or_default(),
                    "hostname": w.hostname,
                    "ip_address": w.ip_address,
                })
            })
            .collect();
        json!({ "workers": list })
    }
}

/// `GET /{n}/data/jobs/{queue}/{registry}/{per_page}/{order}/{page}.json`.
pub async fn jobs(inst: Instance, path: web::Path<ListPath>) -> HttpResponse {
    let r = async {
        let (queue, p) = path.parse(".json")?;
        inst.viewer.require_view(&queue)?;
        let page = inst
            .repo
            .list_jobs(&queue, p.registry, p.request(), &inst.sight())
            .await?;
        let urls = &inst.urls;
        let u = |k: u64| json!({ "url": urls.jobs(&queue, p.registry, p.per_page, p.desc, k) });
        let pages = p.pages(page.total);
        let jobs: Vec<Value> = page
            .jobs
            .iter()
            .map(|j| {
                json!({
                    "id": j.id,
                    "created_at": isoformat(j.created_at),
                    "started_at": isoformat(j.started_at),
                    "ended_at": isoformat(j.ended_at),
                    "exc_info": j.exc_info,
                    "description": j.description,
                    "status": j.status.as_ref().map(|s| s.to_string()),
                    "origin": j.origin,
                    "enqueued_at": isoformat(j.enqueued_at),
                    "worker_name": j.worker_name,
                    "missing": !j.exists,
                })
            })
            .collect();
        let mut pagination = Map::new();
        pagination.insert("current_page".into(), json!(p.page));
        pagination.insert("num_pages".into(), json!(pages));
        pagination.insert(
            "pages_in_window".into(),
            Value::Array(
                page_window(p.page, pages, 10)
                    .map(|k| {
                        json!({"number": k, "url": urls.jobs(&queue, p.registry, p.per_page, p.desc, k)})
                    })
                    .collect(),
            ),
        );
        if p.page < pages {
            pagination.insert("next_page".into(), u(p.page + 1));
        }
        if p.page > 1 {
            pagination.insert("prev_page".into(), u((p.page - 1).min(pages)));
        }
        pagination.insert("first_page".into(), u(1));
        pagination.insert("last_page".into(), u(pages));
        Ok(json!({
            "name": queue,
            "registry_name": p.registry.as_str(),
            "total_items": page.total,
            "problem": page.problem,
            "per_page": p.per_page,
            "order": if p.desc { "dsc" } else { "asc" },
            "jobs": jobs,
            "pagination": pagination,
        }))
    }
    .await;
    inst.json(r)
}

/// Path of a job's JSON.
#[derive(Debug, Deserialize)]
pub struct JobPath {
    id: String,
}

/// `GET /{n}/data/job/{id}.json`.
pub async fn job(inst: Instance, path: web::Path<JobPath>) -> HttpResponse {
    let r = async {
        let id = path.id.strip_suffix(".json").ok_or_else(|| {
            AppError::NotFound(Missing::Page, format!("no page at “{}”", path.id))
        })?;
        let j = inst
            .repo
            .job(id, &inst.sight())
            .await?
            .filter(|j| {
                j.origin
                    .as_deref()
                    .map_or(!inst.viewer.limited_view(), |q| inst.viewer.sees(q))
            })
            .ok_or_else(|| AppError::job_not_found(id))?;
        let meta = j.meta.as_ref().map_or(json!({}), |m| m.to_json());
        let mut m = Map::new();
        m.insert("id".into(), json!(j.id));
        m.insert("created_at".into(), isoformat(j.created_at));
        m.insert("enqueued_at".into(), isoformat(j.enqueued_at));
        m.insert("started_at".into(), isoformat(j.started_at));
        m.insert("ended_at".into(), isoformat(j.ended_at));
        m.insert("origin".into(), json!(j.origin));
        m.insert(
            "status".into(),
            json!(j.status.as_ref().map(|s| s.to_string())),
        );
        m.insert(
            "result".into(),
            j.return_value().map_or(Value::Null, |v| v.to_json()),
        );
        m.insert("exc_info".into(), json!(j.exc_info()));
        m.insert("description".into(), json!(j.description));
        m.insert("metadata".into(), json!(meta.to_string()));
        if !j.dependencies.is_empty() {
            m.insert(
                "depends_on".into(),
                json!(j.dependencies.iter().map(|d| &d.id).collect::<Vec<_>>()),
            );
            m.insert(
                "depends_on_status".into(),
                json!(j
                    .dependencies
                    .iter()
                    .map(|d| if d.status.is_some() {
                        "active"
                    } else {
                        "expired"
                    })
                    .collect::<Vec<_>>()),
            );
        }
        m.insert(
            "func_name".into(),
            json!(j.call.as_ref().map(|c| &c.func_name)),
        );
        m.insert(
            "args".into(),
            json!(j
                .call
                .as_ref()
                .map(|c| c.args.iter().map(|a| a.to_json()).collect::<Vec<_>>())),
        );
        m.insert(
            "kwargs".into(),
            json!(j.call.as_ref().map(|c| c
                .kwargs
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect::<Map<_, _>>())),
        );
        m.insert("worker_name".into(), json!(j.worker_name));
        m.insert("ttl".into(), json!(j.key_ttl));
        m.insert(
            "dependents".into(),
            json!(j
                .dependents
                .iter()
                .map(|d| json!({"id": d.id, "status": d.status.as_ref().map(|s| s.to_string())}))
                .collect::<Vec<_>>()),
        );
        m.insert(
            "results".into(),
            json!(j
                .results
                .iter()
                .map(|r| json!({
                    "type": r.kind.as_str(),
                    "created_at": isoformat(r.created_at),
                    "return_value": r.return_value.as_ref().map(|v| v.to_json()),
                    "exc_string": r.exc_string,
                    "worker_name": r.worker_name,
                    "execution_id": r.execution_id,
                }))
                .collect::<Vec<_>>()),
        );
        Ok(Value::Object(m))
    }
    .await;
    inst.json(r)
}
