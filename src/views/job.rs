//! The job page (`/<n>/view/job/<id>`): the decoded call, times, fields, traceback, results,
//! dependencies and dependents, raw hash fields, and the buttons the job's status allows.

use crate::i18n;
use askama::Template;
use chrono::Utc;

use super::buttons::{execution_stop, job_actions, ActionButton};
use super::format::{human_secs, plural, time_cell, TimeCell};
use super::jobs::status_of;
use super::layout::Layout;
use super::urls::Urls;
use crate::rq::decode::{Decoded, MAX_REPR};
use crate::rq::model::{JobDetail, Registry, RelatedJob};
use crate::rq::search::{SearchForm, MAX_CRITERION};

/// A related job with its link.
#[derive(Debug, Clone)]
pub struct RelatedRow {
    /// Id.
    pub id: String,
    /// Its page.
    pub url: String,
    /// Status, or `expired` when its hash is gone.
    pub status: String,
    /// CSS token.
    pub status_css: &'static str,
}

/// One results-stream entry for display.
#[derive(Debug, Clone)]
pub struct ResultRow {
    /// Type name.
    pub kind: String,
    /// When written.
    pub created: Option<TimeCell>,
    /// Return value repr.
    pub value: Option<String>,
    /// Traceback.
    pub exc: Option<String>,
    /// Worker.
    pub worker: String,
    /// Execution id.
    pub execution_id: String,
    /// Duration of the execution.
    pub duration: Option<String>,
}

/// A label and a value for the detail table.
#[derive(Debug, Clone)]
pub struct Field {
    /// Label.
    pub name: String,
    /// Value.
    pub value: String,
    /// Where the value links to, if anywhere.
    pub url: Option<String>,
}

/// One live execution of the job (RQ 2.0+).
#[derive(Debug, Clone)]
pub struct ExecutionRow {
    /// Execution id.
    pub id: String,
    /// Its worker.
    pub worker: String,
    /// When it started.
    pub started: Option<TimeCell>,
    /// Its last heartbeat.
    pub heartbeat: Option<TimeCell>,
    /// When RQ will count it abandoned.
    pub deadline: Option<TimeCell>,
    /// Stop this execution.
    pub stop: Option<ActionButton>,
}

/// `/<n>/view/job/<id>`.
#[derive(Template)]
#[template(path = "job/show.html")]
pub struct JobDetailPage {
    /// Layout.
    pub layout: Layout,
    /// Id.
    pub id: String,
    /// Status.
    pub status: String,
    /// Status CSS token.
    pub status_css: &'static str,
    /// Description.
    pub description: String,
    /// Origin queue and its list URL.
    pub origin: Option<(String, String)>,
    /// Function name.
    pub func_name: String,
    /// Call string, when decodable.
    pub call: Option<String>,
    /// Why data was not decodable.
    pub call_error: Option<String>,
    /// Args reprs.
    pub args: Vec<String>,
    /// Kwargs (name, repr).
    pub kwargs: Vec<(String, String)>,
    /// Instance repr for method jobs.
    pub instance: Option<String>,
    /// Meta repr.
    pub meta: Option<String>,
    /// Latest return value repr.
    pub result: Option<String>,
    /// Full traceback.
    pub exc_info: Option<String>,
    /// Times.
    pub times: Vec<(String, Option<TimeCell>)>,
    /// Other fields (timeouts, TTLs, retries, worker, group, callbacks).
    pub fields: Vec<Field>,
    /// Worker name and its workers-page link.
    pub worker: Option<String>,
    /// Dependencies.
    pub dependencies: Vec<RelatedRow>,
    /// Dependents.
    pub dependents: Vec<RelatedRow>,
    /// Results stream entries.
    pub results: Vec<ResultRow>,
    /// Live executions.
    pub executions: Vec<ExecutionRow>,
    /// Raw hash fields.
    pub raw: Vec<(String, String)>,
    /// Actions for this job's state.
    pub actions: Vec<ActionButton>,
    /// Jobs of the same function in the same registry of every queue.
    pub same_function: Option<String>,
    /// Failed jobs of every queue with the same exception (last traceback line).
    pub same_exception: Option<String>,
    /// Whether redaction hides this job's values from the viewer (a note says so).
    pub redacted: bool,
}

fn related(rows: &[RelatedJob], urls: &Urls) -> Vec<RelatedRow> {
    rows.iter()
        .map(|r| {
            let (status, status_css) = match &r.status {
                Some(s) => (s.to_string(), s.css()),
                None => ("expired".to_string(), "missing"),
            };
            RelatedRow {
                id: r.id.clone(),
                url: urls.job(&r.id),
                status,
                status_css,
            }
        })
        .collect()
}

fn repr(d: &Decoded) -> String {
    d.repr(MAX_REPR)
}

impl JobDetailPage {
    /// Builds the job page; `redacted` says the viewer sees `j` redacted ([`crate::redact`]).
    pub fn new(layout: Layout, j: &JobDetail, redacted: bool) -> JobDetailPage {
        let now = Utc::now();
        let urls = layout.urls.clone();
        let (status, status_css) = status_of(&j.status);
        let mut fields = Vec::new();
        let mut push = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                fields.push(Field {
                    name: name.to_string(),
                    value: v.clone(),
                    url: None,
                });
            }
        };
        push("timeout (s)", &j.timeout);
        push("result TTL (s)", &j.result_ttl);
        push("failure TTL (s)", &j.failure_ttl);
        push("TTL (s)", &j.ttl);
        push("retries left", &j.retries_left);
        push("retry intervals", &j.retry_intervals);
        push("number of retries", &j.number_of_retries);
        let when = |t| {
            time_cell(t, now).map_or_else(String::new, |c| {
                i18n::tf("job.next_run", &[("rel", &c.rel), ("exact", &c.exact)])
            })
        };
        if let Some((attempt, left)) = j.attempt() {
            let scheduled = j.status.as_ref().map(|s| s.as_str()) == Some("scheduled");
            let mut value = match (attempt, left) {
                (Some(k), Some(l)) => {
                    i18n::tf("job.attempt_of", &[("k", &k), ("of", &(k + l.max(0)))])
                }
                (Some(k), None) => i18n::tf("job.attempt", &[("k", &k)]),
                (None, Some(l)) if scheduled => i18n::tf(
                    "job.retrying",
                    &[("n", &plural(l.max(0) as u64, "more retry", "more retries"))],
                ),
                // Not "up to 0 retries": the retries are used up (or there were none).
                (None, Some(l)) if l <= 0 => i18n::t("job.no_retries_left").to_string(),
                (None, Some(l)) => i18n::tf(
                    "job.up_to",
                    &[("n", &plural(l.max(0) as u64, "retry", "retries"))],
                ),
                (None, None) => String::new(),
            };
            if scheduled {
                value.push_str(&when(j.scheduled_for));
            }
            fields.push(Field {
                name: "retries".into(),
                value,
                url: None,
            });
        }
        if let Some(left) = j.repeats_left {
            fields.push(Field {
                name: "repeats".into(),
                value: i18n::tf(
                    "job.repeats",
                    &[
                        ("run", &j.results.len().max(1)),
                        ("left", &plural(left.max(0) as u64, "repeat", "repeats")),
                        ("next", &when(j.scheduled_for)),
                    ],
                ),
                url: None,
            });
        }
        if let Some(key) = &j.rate_limit_key {
            fields.push(Field {
                name: "rate limit".into(),
                value: match j.rate_limit_concurrency {
                    Some(c) => i18n::tf("job.rate_limit", &[("key", key), ("c", &c)]),
                    None => key.clone(),
                },
                url: Some(urls.rate_limit(key)),
            });
        }
        if let Some(g) = j.group_id.as_ref().filter(|g| !g.is_empty()) {
            fields.push(Field {
                name: "group".into(),
                value: g.clone(),
                url: Some(urls.group(g)),
            });
        }
        if let Some(c) = &j.cron_job {
            fields.push(Field {
                name: "cron job".into(),
                value: c.clone(),
                url: Some(urls.cron()),
            });
        }
        fields.push(Field {
            name: "key expires".into(),
            value: match j.key_ttl {
                -1 => i18n::t("time.never").into(),
                t if t < 0 => "—".into(),
                t => i18n::tf("job.expires_in", &[("d", &human_secs(t)), ("t", &t)]),
            },
            url: None,
        });
        for (k, v) in &j.callbacks {
            fields.push(Field {
                name: format!("{k} callback"),
                value: v.clone(),
                url: None,
            });
        }
        let results = j
            .results
            .iter()
            .map(|r| ResultRow {
                kind: r.kind.as_str().to_string(),
                created: time_cell(r.created_at, now),
                value: r.return_value.as_ref().map(repr),
                exc: r.exc_string.clone(),
                worker: r.worker_name.clone().unwrap_or_default(),
                execution_id: r.execution_id.clone().unwrap_or_default(),
                duration: match (r.execution_started_at, r.execution_ended_at) {
                    (Some(a), Some(b)) => Some(format!(
                        "{:.3} s",
                        (b - a).num_microseconds().unwrap_or(0) as f64 / 1e6
                    )),
                    _ => None,
                },
            })
            .collect();
        JobDetailPage {
            id: j.id.clone(),
            status,
            status_css,
            description: j.description.clone().unwrap_or_default(),
            origin: j
                .origin
                .clone()
                .map(|o| (o.clone(), urls.jobs_default(&o, Registry::Queued))),
            func_name: j
                .call
                .as_ref()
                .map(|c| c.func_name.clone())
                .unwrap_or_default(),
            call: j.call.as_ref().map(|c| c.call_string(2000)),
            call_error: j.call_error.clone(),
            args: j
                .call
                .as_ref()
                .map(|c| c.args.iter().map(repr).collect())
                .unwrap_or_default(),
            kwargs: j
                .call
                .as_ref()
                .map(|c| c.kwargs.iter().map(|(k, v)| (k.clone(), repr(v))).collect())
                .unwrap_or_default(),
            instance: j.call.as_ref().and_then(|c| c.instance.clone()),
            meta: j.meta.as_ref().map(repr),
            result: j.return_value().map(repr),
            exc_info: j.exc_info().map(str::to_string),
            same_function: j.call.as_ref().map(|c| {
                let registry = j
                    .status
                    .as_ref()
                    .map_or(Registry::Failed, |s| Registry::for_status(s.as_str()));
                urls.search(
                    &SearchForm {
                        queue: "*".into(),
                        registry: registry.as_str().into(),
                        func: c.func_name.chars().take(MAX_CRITERION).collect(),
                        ..SearchForm::default()
                    },
                    1,
                )
            }),
            same_exception: j
                .exc_info()
                .map(crate::rq::decode::last_line)
                .filter(|l| !l.is_empty())
                .map(|l| {
                    urls.search(
                        &SearchForm {
                            queue: "*".into(),
                            registry: Registry::Failed.as_str().into(),
                            exc: l.chars().take(MAX_CRITERION).collect(),
                            ..SearchForm::default()
                        },
                        1,
                    )
                }),
            times: vec![
                ("created".into(), time_cell(j.created_at, now)),
                ("enqueued".into(), time_cell(j.enqueued_at, now)),
                ("started".into(), time_cell(j.started_at, now)),
                ("ended".into(), time_cell(j.ended_at, now)),
                ("last heartbeat".into(), time_cell(j.last_heartbeat, now)),
            ],
            fields,
            worker: j.worker_name.clone(),
            dependencies: related(&j.dependencies, &urls),
            dependents: related(&j.dependents, &urls),
            results,
            executions: j
                .executions
                .iter()
                .map(|e| ExecutionRow {
                    id: e.id.clone(),
                    worker: e.worker_name.clone().unwrap_or_default(),
                    started: time_cell(e.created_at, now),
                    heartbeat: time_cell(e.last_heartbeat, now),
                    deadline: time_cell(e.deadline, now),
                    stop: execution_stop(&urls, layout.perms, &j.id, &e.id),
                })
                .collect(),
            raw: j.raw_fields.clone(),
            redacted,
            actions: job_actions(
                &layout.urls,
                layout.perms,
                &j.id,
                j.status.as_ref().map(|s| s.as_str()).unwrap_or(""),
                j.origin.as_deref().unwrap_or(""),
            ),
            layout,
        }
    }
}
