//! `GET /metrics`: Prometheus text format with rq-exporter's metric names and labels, so existing
//! Grafana dashboards keep working, plus queue latency, suspension and Redis reachability.
//!
//! Built from the shared snapshot of each instance: a scrape costs Redis nothing extra while
//! anyone is looking at the dashboard, and one snapshot read otherwise.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use std::fmt::Write;

use crate::rq::model::Registry;
use crate::state::AppState;

/// Escapes a label value (backslash, double quote, newline).
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    lines: String,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Family {
        Family {
            name,
            kind,
            help,
            lines: String::new(),
        }
    }

    fn add(&mut self, labels: &[(&str, &str)], value: f64) {
        let l: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
            .collect();
        if l.is_empty() {
            let _ = writeln!(self.lines, "{} {}", self.name, value);
        } else {
            let _ = writeln!(self.lines, "{}{{{}}} {}", self.name, l.join(","), value);
        }
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        out.push_str(&self.lines);
    }
}

/// The statuses `rq_jobs` reports, as rq-exporter names them, with their registry.
const JOB_STATUSES: [(&str, Registry); 7] = [
    ("queued", Registry::Queued),
    ("started", Registry::Started),
    ("finished", Registry::Finished),
    ("failed", Registry::Failed),
    ("deferred", Registry::Deferred),
    ("scheduled", Registry::Scheduled),
    ("canceled", Registry::Canceled),
];

/// `GET /metrics`.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // Every queue's series: not for a viewer whose roles see some queues only.
    if crate::http::viewer::Viewer::current(&state).limited_view() {
        return HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("/metrics shows every queue, and your roles let you view some queues only.\n");
    }
    let mut workers = Family::new("rq_workers", "gauge", "RQ workers");
    let mut success = Family::new(
        "rq_workers_success_total",
        "counter",
        "RQ workers success count",
    );
    let mut failed = Family::new(
        "rq_workers_failed_total",
        "counter",
        "RQ workers fail count",
    );
    let mut working = Family::new(
        "rq_workers_working_time_total",
        "counter",
        "RQ workers spent seconds",
    );
    let mut jobs = Family::new("rq_jobs", "gauge", "RQ jobs by state");
    let mut latency = Family::new(
        "rq_queue_latency_seconds",
        "gauge",
        "Age of the oldest queued job of each queue, in seconds (0 when empty)",
    );
    let mut suspended = Family::new(
        "rq_workers_suspended",
        "gauge",
        "1 while workers are suspended (rq suspend)",
    );
    let mut up = Family::new(
        "rqdash_redis_up",
        "gauge",
        "1 when the Redis instance answers",
    );
    let mut problems = Family::new(
        "rqdash_problems",
        "gauge",
        "Problems the health rules see now, by rule, queue and severity",
    );
    let mut finished_total = Family::new(
        "rqdash_jobs_finished_total",
        "counter",
        "Jobs finished per queue since the dashboard's history began, from the workers' counters",
    );
    let mut failed_total = Family::new(
        "rqdash_jobs_failed_total",
        "counter",
        "Jobs failed per queue since the dashboard's history began, from the workers' counters",
    );
    let mut runtime = Family::new(
        "rq_job_runtime_seconds",
        "summary",
        "Job runtime (started to ended) per queue and function over the last hour (quantiles only: the window slides)",
    );
    let mut wait = Family::new(
        "rq_job_wait_seconds",
        "summary",
        "Job wait (enqueued to started) per queue and function over the last hour",
    );
    let several = state.instances.len() > 1;
    let now = Utc::now();
    for (i, repo) in state.instances.iter().enumerate() {
        let inst = i.to_string();
        // With several instances, every series says which one it is from.
        let with = |l: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
            let mut v: Vec<(&'static str, String)> =
                l.iter().map(|(k, v)| (*k, v.to_string())).collect();
            if several {
                v.push(("rq_instance", inst.clone()));
            }
            v
        };
        let add = |f: &mut Family, l: &[(&'static str, &str)], value: f64| {
            let owned = with(l);
            let borrowed: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
            f.add(&borrowed, value);
        };
        let snap = match repo.snapshot().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "metrics: instance {i} is unavailable");
                add(&mut up, &[], 0.0);
                continue;
            }
        };
        add(&mut up, &[], 1.0);
        let o = &snap.overview;
        for w in &o.workers {
            let queues = w.queues.join(",");
            add(
                &mut workers,
                &[("name", &w.name), ("state", &w.state), ("queues", &queues)],
                1.0,
            );
            let l = [("name", w.name.as_str()), ("queues", queues.as_str())];
            add(&mut success, &l, w.successful_job_count as f64);
            add(&mut failed, &l, w.failed_job_count as f64);
            add(&mut working, &l, w.total_working_time);
        }
        for q in &o.queues {
            for (status, reg) in JOB_STATUSES {
                add(
                    &mut jobs,
                    &[("queue", &q.name), ("status", status)],
                    q.count(reg) as f64,
                );
            }
            let age = q.oldest_enqueued_at.map_or(0.0, |t| {
                ((now - t).num_milliseconds().max(0) as f64) / 1000.0
            });
            add(&mut latency, &[("queue", &q.name)], age);
        }
        add(&mut suspended, &[], if o.suspended { 1.0 } else { 0.0 });
        let h = &state.history[i];
        // Every queue, from 0: a counter that appears late loses its first increase in rate().
        let counted: std::collections::HashMap<String, (u64, u64)> = h
            .totals()
            .into_iter()
            .map(|(q, f, x)| (q, (f, x)))
            .collect();
        // Until this process has read them, say nothing: a 0 would look like a counter reset.
        for q in o.queues.iter().filter(|_| h.totals_known()) {
            let (f, x) = counted.get(&q.name).copied().unwrap_or_default();
            add(&mut finished_total, &[("queue", &q.name)], f as f64);
            add(&mut failed_total, &[("queue", &q.name)], x as f64);
        }
        for r in h
            .timing
            .rows_per_queue(crate::history::timing::Window::Hour)
        {
            let q = r.queue.clone().unwrap_or_default();
            let l = [("queue", q.as_str()), ("func", r.func_name.as_str())];
            for (p, v) in [
                ("0.5", r.runtime_p50_s),
                ("0.95", r.runtime_p95_s),
                ("0.99", r.runtime_p99_s),
            ] {
                if let Some(v) = v {
                    add(&mut runtime, &[l[0], l[1], ("quantile", p)], v);
                }
            }
            for (p, v) in [("0.5", r.wait_p50_s), ("0.95", r.wait_p95_s)] {
                if let Some(v) = v {
                    add(&mut wait, &[l[0], l[1], ("quantile", p)], v);
                }
            }
        }
        match super::health::problems_as_read(&state, i).await {
            Ok(found) => {
                // One series per rule, queue and severity: several workers' problems add up.
                let mut counts = std::collections::BTreeMap::new();
                for p in &found {
                    let key = (
                        p.rule,
                        p.queue.clone().unwrap_or_default(),
                        p.severity.as_str(),
                    );
                    *counts.entry(key).or_insert(0.0) += 1.0;
                }
                for ((rule, queue, severity), n) in counts {
                    add(
                        &mut problems,
                        &[("rule", rule), ("queue", &queue), ("severity", severity)],
                        n,
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: problems of instance {i} unknown"),
        }
    }
    let mut out = String::new();
    for f in [
        &workers,
        &success,
        &failed,
        &working,
        &jobs,
        &latency,
        &suspended,
        &up,
        &problems,
        &finished_total,
        &failed_total,
        &runtime,
        &wait,
    ] {
        f.write(&mut out);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn families_print_help_type_and_samples() {
        let mut f = Family::new("rq_jobs", "gauge", "RQ jobs by state");
        f.add(&[("queue", "q\"1"), ("status", "failed")], 3.0);
        let mut out = String::new();
        f.write(&mut out);
        assert_eq!(
            out,
            "# HELP rq_jobs RQ jobs by state\n# TYPE rq_jobs gauge\nrq_jobs{queue=\"q\\\"1\",status=\"failed\"} 3\n"
        );
    }
}
