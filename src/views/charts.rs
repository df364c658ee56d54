//! The history charts: small line charts drawn as inline SVG by `templates/partials/charts.html`
//! from the points computed here (numbers only; no JavaScript charting).

use std::fmt::Write;

use super::format::human_secs;
use crate::history::{Point, Resolution};
use crate::i18n;

/// Width of a chart, in SVG units.
pub const WIDTH: u32 = 240;
/// Height of a chart, in SVG units.
pub const HEIGHT: u32 = 40;

/// A small chart for the page.
#[derive(Debug, Clone)]
pub struct Chart {
    /// What it shows.
    pub title: String,
    /// The range's total (finished, failed) or the latest value (queued, age), formatted.
    pub latest: String,
    /// CSS class of the line (`finished`, `failed`, `queued`, `latency`).
    pub css: &'static str,
    /// The polyline's points (`x,y x,y …`), empty with fewer than two points.
    pub points: String,
    /// Until two minutes are sampled there is no line to draw: when the sampling started.
    pub collecting: Option<String>,
}

/// Scales `values` (time, value; oldest first) into polyline points of a `width` × `height` box.
pub fn polyline(values: &[(i64, f64)], width: u32, height: u32) -> String {
    let mut pts = String::new();
    if values.len() < 2 {
        return pts;
    }
    let (t0, t1) = (values[0].0, values[values.len() - 1].0);
    let span = (t1 - t0).max(1) as f64;
    let max = values.iter().map(|v| v.1).fold(0.0_f64, f64::max).max(1.0);
    let h = f64::from(height) - 2.0;
    for (t, v) in values {
        let x = (*t - t0) as f64 / span * f64::from(width);
        let y = 1.0 + h - v / max * h;
        let _ = write!(pts, "{x:.1},{y:.1} ");
    }
    pts.trim_end().to_string()
}

/// A link to another chart range.
#[derive(Debug, Clone)]
pub struct RangeLink {
    /// `1h`, `24h`, `7d`, `90d`.
    pub label: &'static str,
    /// The charts fragment of that range.
    pub url: String,
    /// Whether it is the one shown.
    pub current: bool,
}

/// The charts of one series over one range, with the links to the other ranges.
#[derive(Debug, Clone)]
pub struct ChartSet {
    /// The four charts.
    pub charts: Vec<Chart>,
    /// The ranges.
    pub ranges: Vec<RangeLink>,
    /// The fragment URL of the range shown (polled).
    pub url: String,
    /// Where the numbers come from and how exact they are.
    pub note: String,
    /// Set when the history is kept in memory only: why.
    pub warning: Option<String>,
}

/// The charts fragment (`templates/partials/charts.html` on its own).
#[derive(askama::Template)]
#[template(path = "partials/charts.html")]
pub struct ChartsFragment {
    /// The charts.
    pub charts: ChartSet,
}

/// The four charts (finished, failed, queued, oldest-queued age) of a series at resolution `r`;
/// finished and failed show their total over `range` (e.g. `24h`).
pub fn charts(points: &[Point], r: Resolution, range: &str) -> Vec<Chart> {
    let series = |f: &dyn Fn(&Point) -> f64| -> String {
        let v: Vec<(i64, f64)> = points.iter().map(|p| (p.t, f(p))).collect();
        polyline(&v, WIDTH, HEIGHT)
    };
    let last = points.last().copied().unwrap_or_default();
    let collecting = (points.len() < 2).then(|| {
        let since = points
            .first()
            .and_then(|p| chrono::DateTime::from_timestamp(p.t, 0))
            .unwrap_or_else(chrono::Utc::now);
        crate::i18n::tf(
            "charts.collecting",
            &[("time", &since.format("%H:%M").to_string())],
        )
    });
    let per = match r {
        Resolution::Minute => crate::i18n::t("charts.per_min"),
        Resolution::Hour => crate::i18n::t("charts.per_hour"),
    };
    let sum = |f: &dyn Fn(&Point) -> u64| points.iter().map(f).sum::<u64>();
    let in_range = |n: u64| crate::i18n::tf("charts.in_range", &[("n", &n), ("range", &range)]);
    let chart = |title: String, latest: String, css: &'static str, points: String| Chart {
        title,
        latest,
        css,
        points,
        collecting: collecting.clone(),
    };
    vec![
        chart(
            crate::i18n::tf("charts.finished_per", &[("per", &per)]),
            in_range(sum(&|p| p.finished)),
            "finished",
            series(&|p| p.finished as f64),
        ),
        chart(
            crate::i18n::tf("charts.failed_per", &[("per", &per)]),
            in_range(sum(&|p| p.failed)),
            "failed",
            series(&|p| p.failed as f64),
        ),
        chart(
            crate::i18n::t("charts.queued").into(),
            last.queued.to_string(),
            "queued",
            series(&|p| p.queued as f64),
        ),
        chart(
            crate::i18n::t("charts.oldest_queued").into(),
            human_secs(last.latency as i64),
            "latency",
            series(&|p| p.latency as f64),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polylines_scale_into_the_box() {
        assert_eq!(
            polyline(&[(0, 0.0), (1, 5.0), (2, 10.0)], 100, 20),
            "0.0,19.0 50.0,10.0 100.0,1.0"
        );
        assert_eq!(polyline(&[(0, 3.0)], 100, 20), "");
    }

    #[test]
    fn charts_say_since_when_they_collect_until_there_is_a_line() {
        let one = [Point {
            t: (29_000_000 + 75) * 60,
            ..Point::default()
        }];
        let c = charts(&one, Resolution::Minute, "24h");
        assert_eq!(c.len(), 4);
        assert!(c[0]
            .collecting
            .as_deref()
            .unwrap()
            .starts_with("collecting since "));
        let two = [
            one[0],
            Point {
                t: one[0].t + 60,
                ..one[0]
            },
        ];
        assert!(charts(&two, Resolution::Minute, "24h")
            .iter()
            .all(|c| c.collecting.is_none() && !c.points.is_empty()));
    }
}
