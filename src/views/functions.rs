//! The functions table (`templates/partials/functions.html`): per function, how many jobs ran
//! and failed and how long they ran and waited, over one window, sortable, with the slowest and
//! the most failing function named above it. Shown on the overview (all queues) and on each
//! queue's pages.

use askama::Template;

use super::format::human_duration;
use super::urls::Urls;
use crate::history::timing::{Row, Window};
use crate::i18n;

/// The sortable columns: query value and header's catalogue key.
pub const COLUMNS: [(&str, &str); 8] = [
    ("func", "functions.col_func"),
    ("count", "functions.col_count"),
    ("failed", "functions.col_failed"),
    ("runtime_p50", "functions.col_runtime_p50"),
    ("runtime_p95", "functions.col_runtime_p95"),
    ("runtime_p99", "functions.col_runtime_p99"),
    ("wait_p50", "functions.col_wait_p50"),
    ("wait_p95", "functions.col_wait_p95"),
];

/// A column header.
#[derive(Debug, Clone)]
pub struct Header {
    /// Its text.
    pub label: &'static str,
    /// The table sorted by it (the other way when it is the current sort).
    pub url: String,
    /// `ascending`/`descending` when it is the current sort.
    pub current: Option<&'static str>,
}

/// A row, formatted.
#[derive(Debug, Clone)]
pub struct FnRow {
    /// The function.
    pub func: String,
    /// Jobs.
    pub count: u64,
    /// Failed jobs.
    pub failed: u64,
    /// Failed share, e.g. `12%`.
    pub failed_pct: String,
    /// Runtime p50, p95, p99 and wait p50, p95, formatted (`–` without samples).
    pub times: [String; 5],
}

/// A window link.
#[derive(Debug, Clone)]
pub struct WindowLink {
    /// `1h`, `24h`, `7d`.
    pub label: &'static str,
    /// The table over that window.
    pub url: String,
    /// Whether it is shown.
    pub current: bool,
}

/// The table.
#[derive(Debug, Clone, Template)]
#[template(path = "partials/functions.html")]
pub struct FunctionsView {
    /// The fragment's URL (polled).
    pub url: String,
    /// The window links.
    pub windows: Vec<WindowLink>,
    /// The headers.
    pub headers: Vec<Header>,
    /// The rows.
    pub rows: Vec<FnRow>,
    /// "Slowest: …", when there are rows with runtimes.
    pub slowest: Option<String>,
    /// "Most failing: …", when some failed.
    pub most_failing: Option<String>,
    /// The window shown.
    pub window: &'static str,
}

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), human_duration)
}

impl FunctionsView {
    /// Builds the table of `rows` (one queue's or all) over `window`, sorted by `sort`.
    pub fn new(
        mut rows: Vec<Row>,
        urls: &Urls,
        queue: Option<&str>,
        window: Window,
        sort: &str,
        desc: bool,
    ) -> FunctionsView {
        let sort = COLUMNS
            .iter()
            .find(|(k, _)| *k == sort)
            .map_or("count", |(k, _)| k);
        let key = |r: &Row| -> f64 {
            match sort {
                "failed" => r.failed as f64,
                "runtime_p50" => r.runtime_p50_s.unwrap_or(-1.0),
                "runtime_p95" => r.runtime_p95_s.unwrap_or(-1.0),
                "runtime_p99" => r.runtime_p99_s.unwrap_or(-1.0),
                "wait_p50" => r.wait_p50_s.unwrap_or(-1.0),
                "wait_p95" => r.wait_p95_s.unwrap_or(-1.0),
                _ => r.count as f64,
            }
        };
        if sort == "func" {
            rows.sort_by(|a, b| a.func_name.cmp(&b.func_name));
        } else {
            rows.sort_by(|a, b| {
                key(a)
                    .total_cmp(&key(b))
                    .then(b.func_name.cmp(&a.func_name))
            });
        }
        if desc {
            rows.reverse();
        }
        let slowest = rows
            .iter()
            .filter(|r| r.runtime_p95_s.is_some())
            .max_by(|a, b| {
                a.runtime_p95_s
                    .unwrap_or(0.0)
                    .total_cmp(&b.runtime_p95_s.unwrap_or(0.0))
            })
            .map(|r| {
                i18n::tf(
                    "functions.slowest_value",
                    &[("func", &r.func_name), ("time", &secs(r.runtime_p95_s))],
                )
            });
        let most_failing = rows
            .iter()
            .filter(|r| r.failed > 0)
            .max_by(|a, b| {
                a.failed
                    .cmp(&b.failed)
                    .then(a.failure_ratio().total_cmp(&b.failure_ratio()))
            })
            .map(|r| {
                i18n::tf(
                    "functions.failing_value",
                    &[
                        ("func", &r.func_name),
                        ("n", &r.failed),
                        ("pct", &format!("{:.0}", r.failure_ratio() * 100.0)),
                    ],
                )
            });
        let w = window.as_str();
        let headers = COLUMNS
            .iter()
            .map(|(k, label)| {
                let current = *k == sort;
                // A first click sorts names up and numbers down.
                let next_desc = if current { !desc } else { *k != "func" };
                Header {
                    label: i18n::t(label),
                    url: urls.functions_fragment(queue, w, k, next_desc),
                    current: current.then_some(if desc { "descending" } else { "ascending" }),
                }
            })
            .collect();
        FunctionsView {
            url: urls.functions_fragment(queue, w, sort, desc),
            windows: Window::ALL
                .into_iter()
                .map(|x| WindowLink {
                    label: x.as_str(),
                    url: urls.functions_fragment(queue, x.as_str(), sort, desc),
                    current: x == window,
                })
                .collect(),
            headers,
            rows: rows
                .iter()
                .map(|r| FnRow {
                    func: r.func_name.clone(),
                    count: r.count,
                    failed: r.failed,
                    failed_pct: format!("{:.0}%", r.failure_ratio() * 100.0),
                    times: [
                        secs(r.runtime_p50_s),
                        secs(r.runtime_p95_s),
                        secs(r.runtime_p99_s),
                        secs(r.wait_p50_s),
                        secs(r.wait_p95_s),
                    ],
                })
                .collect(),
            slowest,
            most_failing,
            window: w,
        }
    }
}
