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

/// One line of a chart: the closed intervals solid, and the interval still running (this
/// minute or hour so far) as a separate segment the page draws dashed and lighter, so a chart does
/// not seem to collapse at its right edge.
#[derive(Debug, Clone, Default)]
pub struct Line {
    /// CSS class of the line (`finished`, `failed`, `retried`, `queued`, `latency`).
    pub css: &'static str,
    /// The closed intervals' points (`x,y x,y …`), empty with fewer than two of them.
    pub points: String,
    /// The last closed point and the open interval's point, when the last interval is open.
    pub open: String,
}

/// A small chart for the page.
#[derive(Debug, Clone)]
pub struct Chart {
    /// What it shows.
    pub title: String,
    /// The range's total (finished, failed) or the latest value (queued, age), formatted.
    pub latest: String,
    /// A second figure beside it (the failed chart: how many more attempts were retried).
    pub aside: Option<String>,
    /// Its hover text: what the numbers count.
    pub help: Option<String>,
    /// CSS class of the chart (`finished`, `failed`, `queued`, `latency`).
    pub css: &'static str,
    /// Its lines, drawn on one scale.
    pub lines: Vec<Line>,
    /// Until two minutes are sampled there is no line to draw: when the sampling started.
    pub collecting: Option<String>,
}

/// Scales `values` (time, value; oldest first) into polyline points of a `width` × `height` box.
pub fn polyline(values: &[(i64, f64)], width: u32, height: u32) -> String {
    let max = values.iter().map(|v| v.1).fold(0.0_f64, f64::max);
    join(&scale(values, max, width, height))
}

/// Scales `values` into a `width` × `height` box whose top is `max` (at least 1); empty with
/// fewer than two values.
fn scale(values: &[(i64, f64)], max: f64, width: u32, height: u32) -> Vec<(f64, f64)> {
    if values.len() < 2 {
        return Vec::new();
    }
    let (t0, t1) = (values[0].0, values[values.len() - 1].0);
    let span = (t1 - t0).max(1) as f64;
    let max = max.max(1.0);
    let h = f64::from(height) - 2.0;
    values
        .iter()
        .map(|(t, v)| {
            let x = (*t - t0) as f64 / span * f64::from(width);
            (x, 1.0 + h - v / max * h)
        })
        .collect()
}

fn join(pts: &[(f64, f64)]) -> String {
    let mut out = String::new();
    if pts.len() < 2 {
        return out;
    }
    for (x, y) in pts {
        let _ = write!(out, "{x:.1},{y:.1} ");
    }
    out.trim_end().to_string()
}

/// What a line draws of a point.
type Measure<'a> = &'a dyn Fn(&Point) -> f64;

/// The lines of one chart on one scale: each of `series` (CSS class, value of a point), the
/// last point split off as the open segment when `open`.
fn lines(points: &[Point], open: bool, series: &[(&'static str, Measure<'_>)]) -> Vec<Line> {
    let max = series
        .iter()
        .flat_map(|(_, f)| points.iter().map(f))
        .fold(0.0_f64, f64::max);
    series
        .iter()
        .map(|(css, f)| {
            let v: Vec<(i64, f64)> = points.iter().map(|p| (p.t, f(p))).collect();
            let pts = scale(&v, max, WIDTH, HEIGHT);
            let (points, open) = if open && pts.len() >= 2 {
                let k = pts.len() - 1;
                // One closed point draws no line: the open segment alone shows.
                (join(&pts[..k]), join(&pts[k - 1..]))
            } else {
                (join(&pts), String::new())
            };
            Line { css, points, open }
        })
        .collect()
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
    /// Set when the last interval is still running: what its dashed end means.
    pub open: Option<String>,
}

/// The charts fragment (`templates/partials/charts.html` on its own).
#[derive(askama::Template)]
#[template(path = "partials/charts.html")]
pub struct ChartsFragment {
    /// The charts.
    pub charts: ChartSet,
}

/// The four charts (finished, failed, queued, oldest-queued age) of a series at resolution `r`
/// at epoch second `now`; finished and failed show their total over `range` (e.g. `24h`). The
/// failed chart splits the failed attempts into the jobs that failed for good and the attempts
/// RQ retried. The last point, when its interval is still running at `now`, is drawn apart.
pub fn charts(points: &[Point], r: Resolution, range: &str, now: i64) -> Vec<Chart> {
    let last = points.last().copied().unwrap_or_default();
    let open = points.last().is_some_and(|p| p.t + r.secs() > now);
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
    let for_good = |p: &Point| p.failed.saturating_sub(p.retried);
    let retried = sum(&|p| p.retried.min(p.failed));
    let chart = |title: String, latest: String, css: &'static str, lines: Vec<Line>| Chart {
        title,
        latest,
        aside: None,
        help: None,
        css,
        lines,
        collecting: collecting.clone(),
    };
    let one = |css: &'static str, f: &dyn Fn(&Point) -> f64| lines(points, open, &[(css, f)]);
    let mut failed = chart(
        crate::i18n::tf("charts.failed_per", &[("per", &per)]),
        in_range(sum(&for_good)),
        "failed",
        lines(
            points,
            open,
            &[
                ("failed", &|p: &Point| for_good(p) as f64),
                ("retried", &|p: &Point| p.retried.min(p.failed) as f64),
            ],
        ),
    );
    failed.aside = Some(crate::i18n::tf("charts.retried", &[("n", &retried)]));
    failed.help = Some(crate::i18n::t("charts.failed_help").to_string());
    vec![
        chart(
            crate::i18n::tf("charts.finished_per", &[("per", &per)]),
            in_range(sum(&|p| p.finished)),
            "finished",
            one("finished", &|p| p.finished as f64),
        ),
        failed,
        chart(
            crate::i18n::t("charts.queued").into(),
            last.queued.to_string(),
            "queued",
            one("queued", &|p| p.queued as f64),
        ),
        chart(
            crate::i18n::t("charts.oldest_queued").into(),
            human_secs(last.latency as i64),
            "latency",
            one("latency", &|p| p.latency as f64),
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
        let c = charts(&one, Resolution::Minute, "24h", one[0].t + 30);
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
        assert!(charts(&two, Resolution::Minute, "24h", two[1].t + 60)
            .iter()
            .all(|c| c.collecting.is_none() && !c.lines[0].points.is_empty()));
    }

    fn minutes(failed: &[(u64, u64)]) -> Vec<Point> {
        failed
            .iter()
            .enumerate()
            .map(|(i, (failed, retried))| Point {
                t: (29_000_000 + i as i64) * 60,
                finished: 4,
                failed: *failed,
                retried: *retried,
                queued: 2,
                ..Point::default()
            })
            .collect()
    }

    #[test]
    fn the_minute_still_running_is_drawn_apart() {
        let p = minutes(&[(0, 0), (0, 0), (0, 0)]);
        let last = p[2].t;
        // 20 s into the last minute: two closed points solid, then the open segment from the
        // last closed point to the right edge.
        for c in charts(&p, Resolution::Minute, "1h", last + 20) {
            for l in &c.lines {
                let closed: Vec<&str> = l.points.split(' ').collect();
                let open: Vec<&str> = l.open.split(' ').collect();
                assert_eq!(closed.len(), 2, "{} {}", c.css, l.css);
                assert!(closed[1].starts_with("120.0,"), "{closed:?}");
                assert_eq!(open.len(), 2, "{} {}", c.css, l.css);
                assert_eq!(open[0], closed[1]);
                assert!(open[1].starts_with("240.0,"), "{open:?}");
            }
        }
        // Once the minute is over, it is a point like the others.
        for c in charts(&p, Resolution::Minute, "1h", last + 60) {
            assert!(c
                .lines
                .iter()
                .all(|l| l.open.is_empty() && l.points.split(' ').count() == 3));
        }
        // Hours: the hour still running.
        let h: Vec<Point> = p
            .iter()
            .enumerate()
            .map(|(i, x)| Point {
                t: (500_000 + i as i64) * 3600,
                ..*x
            })
            .collect();
        let c = charts(&h, Resolution::Hour, "7d", h[2].t + 1800);
        assert!(!c[0].lines[0].open.is_empty());
    }

    #[test]
    fn the_failed_chart_tells_failed_for_good_from_retried() {
        // 9 failed attempts, 4 of them retried: 5 failed for good.
        let p = minutes(&[(3, 1), (6, 3), (0, 0)]);
        let c = charts(&p, Resolution::Minute, "1h", p[2].t + 60);
        let failed = &c[1];
        assert_eq!(failed.css, "failed");
        assert_eq!(failed.latest, "5 in 1h");
        assert_eq!(failed.aside.as_deref(), Some("+ 4 retried"));
        let css: Vec<&str> = failed.lines.iter().map(|l| l.css).collect();
        assert_eq!(css, ["failed", "retried"]);
        // One scale for both: 2 then 3 for good, 1 then 3 retried (3 at the top).
        assert_eq!(failed.lines[0].points, "0.0,13.7 120.0,1.0 240.0,39.0");
        assert_eq!(failed.lines[1].points, "0.0,26.3 120.0,1.0 240.0,39.0");
    }
}
