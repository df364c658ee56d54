//! The history charts: small line charts drawn as inline SVG by `templates/partials/charts.html`
//! from the points computed here (numbers only; no JavaScript charting).

use std::fmt::Write;

use super::format::human_secs;
use crate::history::Point;

/// Width of a chart, in SVG units.
pub const WIDTH: u32 = 240;
/// Height of a chart, in SVG units.
pub const HEIGHT: u32 = 40;

/// A small chart for the page.
#[derive(Debug, Clone)]
pub struct Chart {
    /// What it shows.
    pub title: String,
    /// The latest value, formatted.
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

/// The four charts (finished/min, failed/min, queued, oldest-queued age) of a series.
pub fn charts(points: &[Point]) -> Vec<Chart> {
    let series = |f: &dyn Fn(&Point) -> f64| -> String {
        let v: Vec<(i64, f64)> = points.iter().map(|p| (p.minute, f(p))).collect();
        polyline(&v, WIDTH, HEIGHT)
    };
    let last = points.last().copied().unwrap_or_default();
    let collecting = (points.len() < 2).then(|| {
        let since = points
            .first()
            .and_then(|p| chrono::DateTime::from_timestamp(p.minute * 60, 0))
            .unwrap_or_else(chrono::Utc::now);
        crate::i18n::tf(
            "charts.collecting",
            &[("time", &since.format("%H:%M").to_string())],
        )
    });
    let chart = |title: &str, latest: String, css: &'static str, points: String| Chart {
        title: crate::i18n::t(title).into(),
        latest,
        css,
        points,
        collecting: collecting.clone(),
    };
    vec![
        chart(
            "charts.finished_per_min",
            last.finished.to_string(),
            "finished",
            series(&|p| f64::from(p.finished)),
        ),
        chart(
            "charts.failed_per_min",
            last.failed.to_string(),
            "failed",
            series(&|p| f64::from(p.failed)),
        ),
        chart(
            "charts.queued",
            last.queued.to_string(),
            "queued",
            series(&|p| f64::from(p.queued)),
        ),
        chart(
            "charts.oldest_queued",
            human_secs(i64::from(last.latency)),
            "latency",
            series(&|p| f64::from(p.latency)),
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
            minute: 29_000_000 + 75,
            ..Point::default()
        }];
        let c = charts(&one);
        assert_eq!(c.len(), 4);
        assert!(c[0]
            .collecting
            .as_deref()
            .unwrap()
            .starts_with("collecting since "));
        let two = [
            one[0],
            Point {
                minute: one[0].minute + 1,
                ..one[0]
            },
        ];
        assert!(charts(&two)
            .iter()
            .all(|c| c.collecting.is_none() && !c.points.is_empty()));
    }
}
