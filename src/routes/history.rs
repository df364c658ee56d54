//! The history and the timing statistics: the charts and functions fragments the overview and
//! queue pages poll, `history.json` and `stats.json`. All answer from this process's memory
//! (the mirror of Redis, see [`crate::history`]), so they cost Redis nothing.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use crate::error::AppError;
use crate::history::timing::Window;
use crate::history::{Mode, Range};
use crate::http::extract::Instance;
use crate::views::charts::{charts, ChartSet, RangeLink};
use crate::views::functions::FunctionsView;

/// Query of the charts fragment and `history.json`.
#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    /// A queue (none: all queues).
    pub queue: Option<String>,
    /// `1h`, `24h` (default), `7d`, `90d`.
    pub range: Option<String>,
}

/// Query of the functions fragment and `stats.json`.
#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    /// A queue (none: all queues, merged per function).
    pub queue: Option<String>,
    /// `1h`, `24h` (default), `7d`.
    pub window: Option<String>,
    /// Column to sort by (the fragment).
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub dir: Option<String>,
}

fn range_of(s: Option<&str>) -> Result<Range, AppError> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(Range::Day),
        Some(s) => Range::parse(s).ok_or_else(|| {
            AppError::BadRequest(format!("unknown range {s:?}: use 1h, 24h, 7d or 90d"))
        }),
    }
}

fn window_of(s: Option<&str>) -> Result<Window, AppError> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(Window::Day),
        Some(s) => Window::parse(s).ok_or_else(|| {
            AppError::BadRequest(format!("unknown window {s:?}: use 1h, 24h or 7d"))
        }),
    }
}

fn queue_of(q: &Option<String>) -> Option<&str> {
    q.as_deref().filter(|q| !q.is_empty())
}

/// What the history note says about where the numbers come from, and the warning when the
/// history fell back to memory.
fn note(mode: &Mode, range: Range) -> (String, Option<String>) {
    let per = crate::i18n::t(match range.resolution() {
        crate::history::Resolution::Minute => "charts.minute",
        crate::history::Resolution::Hour => "charts.hour",
    });
    let key = match mode {
        Mode::Redis => "charts.note_redis",
        Mode::Memory => "charts.note_memory",
        Mode::Fallback(_) => "charts.note_fallback",
    };
    let warning = match mode {
        Mode::Fallback(why) => Some(crate::i18n::tf("charts.fallback", &[("why", why)])),
        _ => None,
    };
    (crate::i18n::tf(key, &[("per", &per)]), warning)
}

/// The charts of a queue (`None`: all) over `range`.
pub fn chart_set(inst: &Instance, queue: Option<&str>, range: Range) -> ChartSet {
    let h = &inst.state.history[inst.n];
    let now = chrono::Utc::now().timestamp();
    // Every queue's totals include queues hidden from a viewer whose roles see some only.
    let pts = if queue.is_none() && inst.viewer.limited_view() {
        Default::default()
    } else {
        h.points(queue, range, now)
    };
    let (note, warning) = note(&h.mode(), range);
    let charts = charts(&pts, range.resolution(), range.as_str(), now);
    let open = charts
        .iter()
        .any(|c| c.lines.iter().any(|l| !l.open.is_empty()))
        .then(|| {
            crate::i18n::t(match range.resolution() {
                crate::history::Resolution::Minute => "charts.open_minute",
                crate::history::Resolution::Hour => "charts.open_hour",
            })
            .to_string()
        });
    ChartSet {
        charts,
        ranges: Range::ALL
            .into_iter()
            .map(|r| RangeLink {
                label: r.as_str(),
                url: inst.urls.charts_fragment(queue, r.as_str()),
                current: r == range,
            })
            .collect(),
        url: inst.urls.charts_fragment(queue, range.as_str()),
        note,
        warning,
        open,
    }
}

/// Refuses a queue hidden from the viewer (404), and every queue's figures to a viewer whose
/// roles see some queues only.
fn scope(inst: &Instance, queue: Option<&str>) -> Result<(), AppError> {
    match queue {
        Some(q) => inst.viewer.require_view(q),
        None => inst.viewer.require_view_everywhere(),
    }
}

/// The functions table of a queue (`None`: all) over `window`.
pub fn functions_view(
    inst: &Instance,
    queue: Option<&str>,
    window: Window,
    sort: &str,
    desc: bool,
) -> FunctionsView {
    let rows = if queue.is_none() && inst.viewer.limited_view() {
        Default::default()
    } else {
        inst.state.history[inst.n].timing.rows(window, queue)
    };
    FunctionsView::new(rows, &inst.urls, queue, window, sort, desc)
}

/// The functions table rendered for a page (24 hours, busiest first).
pub fn functions_html(inst: &Instance, queue: Option<&str>) -> Result<String, AppError> {
    Ok(functions_view(inst, queue, Window::Day, "count", true).render()?)
}

/// `GET /{n}/fragments/charts?queue=&range=`.
pub async fn charts_fragment(inst: Instance, q: web::Query<HistoryQuery>) -> HttpResponse {
    let r = scope(&inst, queue_of(&q.queue))
        .and_then(|()| range_of(q.range.as_deref()))
        .and_then(|range| {
            let charts = chart_set(&inst, queue_of(&q.queue), range);
            Ok(crate::views::charts::ChartsFragment { charts }.render()?)
        });
    inst.fragment(r)
}

/// `GET /{n}/fragments/functions?queue=&window=&sort=&dir=`.
pub async fn functions_fragment(inst: Instance, q: web::Query<StatsQuery>) -> HttpResponse {
    let r = scope(&inst, queue_of(&q.queue))
        .and_then(|()| window_of(q.window.as_deref()))
        .and_then(|w| {
            let desc = q.dir.as_deref() != Some("asc");
            Ok(functions_view(
                &inst,
                queue_of(&q.queue),
                w,
                q.sort.as_deref().unwrap_or("count"),
                desc,
            )
            .render()?)
        });
    inst.fragment(r)
}

/// `GET /{n}/data/history.json?queue=&range=`: `points[]` with `t`, `finished`, `failed`
/// (failed attempts, retried ones included), `retried` (of those, the ones RQ retries),
/// `queued`, `started`, `latency_s`, and the `resolution`.
pub async fn json(inst: Instance, q: web::Query<HistoryQuery>) -> HttpResponse {
    let r = scope(&inst, queue_of(&q.queue)).and_then(|()| range_of(q.range.as_deref())).map(|range| {
        let h = &inst.state.history[inst.n];
        let now = chrono::Utc::now().timestamp();
        let queue = queue_of(&q.queue);
        let points: Vec<_> = h
            .points(queue, range, now)
            .iter()
            .map(|p| {
                json!({
                    "t": p.t,
                    "finished": p.finished,
                    "failed": p.failed,
                    "retried": p.retried,
                    "queued": p.queued,
                    "started": p.started,
                    "latency_s": p.latency,
                })
            })
            .collect();
        let mode = h.mode();
        json!({
            "queue": queue,
            "range": range.as_str(),
            "resolution": range.resolution().as_str(),
            "storage": match &mode { Mode::Redis => "redis", _ => "memory" },
            "fallback_reason": match &mode { Mode::Fallback(w) => Some(w.clone()), _ => None },
            "totals": {
                "finished": points.iter().map(|p| p["finished"].as_u64().unwrap_or(0)).sum::<u64>(),
                "failed": points.iter().map(|p| p["failed"].as_u64().unwrap_or(0)).sum::<u64>(),
                "retried": points.iter().map(|p| p["retried"].as_u64().unwrap_or(0)).sum::<u64>(),
            },
            "points": points,
        })
    });
    inst.json(r)
}

/// `GET /{n}/data/stats.json?queue=&window=`: `functions[]` with `func_name`, `count`,
/// `failed`, `runtime_p50_s`, `runtime_p95_s`, `runtime_p99_s`, `runtime_mean_s`,
/// `wait_p50_s`, `wait_p95_s` (seconds; `null` without samples).
pub async fn stats_json(inst: Instance, q: web::Query<StatsQuery>) -> HttpResponse {
    let r = scope(&inst, queue_of(&q.queue))
        .and_then(|()| window_of(q.window.as_deref()))
        .map(|w| {
            let queue = queue_of(&q.queue);
            let rows = inst.state.history[inst.n].timing.rows(w, queue);
            json!({ "queue": queue, "window": w.as_str(), "functions": rows })
        });
    inst.json(r)
}
