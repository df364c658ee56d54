//! RQ's cron (2.4+): the cron page, its polled fragment and `cron.json`.

use actix_web::HttpResponse;
use askama::Template;
use chrono::Utc;
use serde_json::{json, Value};

use crate::http::extract::Instance;
use crate::i18n;
use crate::rq::repository::cron::CronOverview;
use crate::views::cron::{CronFragment, CronPage, CronView};
use crate::views::format::isoformat;

/// The shared cron state as this viewer may see it (redacted, [`crate::redact`]).
async fn cron(inst: &Instance) -> Result<std::sync::Arc<CronOverview>, crate::error::AppError> {
    Ok(inst.repo.cron_shared().await?.seen_by(&inst.sight()))
}

/// `GET /{n}/view/cron`.
pub async fn page(inst: Instance) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let c = cron(&inst).await?;
        Ok(CronPage {
            layout: inst.layout("cron", i18n::t("nav.cron")),
            v: CronView::new(&c, &inst.urls, inst.poll_ms()),
        }
        .render()?)
    }
    .await;
    inst.page(r)
}

/// `GET /{n}/fragments/cron`.
pub async fn fragment(inst: Instance) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        let c = cron(&inst).await?;
        Ok(CronFragment {
            v: CronView::new(&c, &inst.urls, inst.poll_ms()),
        }
        .render()?)
    }
    .await;
    inst.fragment(r)
}

/// `GET /{n}/data/cron.json`.
pub async fn json(inst: Instance) -> HttpResponse {
    let r = async {
        inst.viewer.require_view_everywhere()?;
        Ok(cron_value(cron(&inst).await?.as_ref()))
    }
    .await;
    inst.json(r)
}

fn cron_value(c: &CronOverview) -> Value {
    let now = Utc::now();
    let schedulers: Vec<Value> = c
        .schedulers
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "hostname": s.hostname,
                "pid": s.pid,
                "config_file": s.config_file,
                "created_at": isoformat(s.created_at),
                "last_heartbeat": isoformat(s.last_heartbeat),
                "alive": s.alive(now),
                "cron_jobs": s.jobs.iter().map(|j| &j.name).collect::<Vec<_>>(),
                "problem": s.problem,
            })
        })
        .collect();
    let jobs: Vec<Value> = c
        .jobs
        .iter()
        .map(|j| {
            json!({
                "name": j.job.name,
                "func_name": j.job.func_name,
                "queue_name": j.job.queue_name,
                "cron": j.job.cron,
                "interval": j.job.interval,
                "next_enqueue_time": isoformat(j.job.next_enqueue_time),
                "latest_enqueue_time": isoformat(j.job.latest_enqueue_time.or(j.last_recorded)),
                "scheduler": (!j.job.scheduler.is_empty()).then_some(&j.job.scheduler),
                "scheduler_alive": j.scheduler_alive,
                "run_count": j.run_count,
                "missed_runs": j.missed,
                "utc_offset_seconds": j.utc_offset_secs,
                "late_seconds": j.late_secs,
                "runs": j.runs.iter().map(|r| json!({
                    "id": r.id,
                    "status": r.status.as_ref().map(|s| s.to_string()),
                    "enqueued_at": isoformat(r.enqueued_at),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let legacy: Vec<Value> = c
        .legacy
        .iter()
        .map(|j| {
            json!({
                "id": j.id,
                "next_run": isoformat(j.next_run),
                "queue_name": j.queue,
                "description": j.description,
                "interval": j.interval,
                "cron": j.cron,
                "repeat": j.repeat,
            })
        })
        .collect();
    json!({
        "schedulers": schedulers,
        "cron_jobs": jobs,
        "rq_scheduler_jobs": legacy,
        "rq_scheduler_total": c.legacy_total,
    })
}
