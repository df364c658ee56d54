//! Numbers and times for people: thousands separators, plurals, relative times with the exact
//! time on hover, registry scores, and the date formats rq-dashboard's JSON uses.
//!
//! Everything for people goes through the current language's catalogue ([`crate::i18n`]); the
//! JSON formats ([`isoformat`], [`http_date`]) never do.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::i18n;
use crate::rq::model::SchedulerLock;

/// Formats a count with the language's thousands separator ("12,345").
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let sep = i18n::t("num.thousands_sep");
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// A count and its noun, singular or plural ("1 job", "2,000 jobs"), in the current language:
/// the catalogue's `plural.<many>_one` / `plural.<many>_other` (spaces as `_`) with `{n}`,
/// else the English words given.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    let key = format!(
        "plural.{}_{}",
        many.replace(' ', "_"),
        if n == 1 { "one" } else { "other" }
    );
    let count = thousands(n);
    match i18n::try_t(&key) {
        Some(text) => text.replace("{n}", &count),
        None => format!("{count} {}", if n == 1 { one } else { many }),
    }
}

/// Who holds a queue's scheduler lock, in the current language: "name on host (pid 42)", as much
/// as is known (the English is [`SchedulerLock::describe`]'s).
pub fn scheduler_holder(l: &SchedulerLock) -> String {
    let name = &l.holder;
    match (&l.hostname, l.pid) {
        (Some(h), Some(p)) => i18n::tf(
            "scheduler.host_pid",
            &[("name", name), ("host", h), ("pid", &p)],
        ),
        (Some(h), None) => i18n::tf("scheduler.host", &[("name", name), ("host", h)]),
        (None, Some(p)) => i18n::tf("scheduler.pid", &[("name", name), ("pid", &p)]),
        (None, None) => name.clone(),
    }
}

/// A time shown relative to now, with the exact UTC time on hover.
#[derive(Debug, Clone)]
pub struct TimeCell {
    /// RFC 3339, for the `datetime` attribute.
    pub iso: String,
    /// Exact UTC time, for the tooltip.
    pub exact: String,
    /// Relative text ("5 min ago", "in 2 h").
    pub rel: String,
}

/// Formats a duration in seconds compactly ("42 s", "5 min", "3 h", "2 d").
pub fn human_secs(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (key, n) = match s {
        0..=59 => ("time.s", s),
        60..=3599 => ("time.min", s / 60),
        3600..=86_399 => ("time.h", s / 3600),
        _ => ("time.d", s / 86_400),
    };
    i18n::tf(key, &[("n", &n)])
}

/// Formats a job duration in seconds with sub-second precision, in the current language
/// ("3 ms", "0.42 s", "12.5 s", "4.2 min", "1.5 h").
pub fn human_duration(secs: f64) -> String {
    let (key, n) = match secs {
        s if s < 0.1 => ("time.ms", format!("{:.0}", s * 1000.0)),
        s if s < 10.0 => ("time.s", format!("{s:.2}")),
        s if s < 60.0 => ("time.s", format!("{s:.1}")),
        s if s < 3600.0 => ("time.min", format!("{:.1}", s / 60.0)),
        s => ("time.h", format!("{:.1}", s / 3600.0)),
    };
    i18n::tf(key, &[("n", &n)])
}

/// Builds a [`TimeCell`] relative to `now`.
pub fn time_cell(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<TimeCell> {
    let t = t?;
    let d = (now - t).num_seconds();
    let rel = if d.abs() < 1 {
        i18n::t("time.just_now").to_string()
    } else if d > 0 {
        i18n::tf("time.ago", &[("d", &human_secs(d))])
    } else {
        i18n::tf("time.in", &[("d", &human_secs(d))])
    };
    Some(TimeCell {
        iso: t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        exact: t.format("%Y-%m-%d %H:%M:%S%.6f UTC").to_string(),
        rel,
    })
}

/// A registry score as a time (scores are epoch seconds), or its raw value when not a time.
pub fn score_cell(score: Option<f64>, now: DateTime<Utc>) -> Option<ScoreCell> {
    let s = score?;
    if s.is_infinite() {
        return Some(ScoreCell::Text(
            if s > 0.0 {
                i18n::t("time.never")
            } else {
                "-inf"
            }
            .into(),
        ));
    }
    if s < 0.0 {
        return Some(ScoreCell::Text(i18n::t("time.never_kept").into()));
    }
    match crate::rq::model::from_epoch_secs(s).and_then(|t| time_cell(Some(t), now)) {
        Some(t) => Some(ScoreCell::Time(t)),
        None => Some(ScoreCell::Text(format!("{s}"))),
    }
}

/// How a registry score is displayed.
#[derive(Debug, Clone)]
pub enum ScoreCell {
    /// A time.
    Time(TimeCell),
    /// A special value.
    Text(String),
}

/// Python's `datetime.isoformat()` of an aware UTC time, as rq-dashboard serializes job dates.
pub fn isoformat(t: Option<DateTime<Utc>>) -> Value {
    match t {
        None => Value::Null,
        Some(t) if t.timestamp_subsec_micros() == 0 => {
            Value::String(t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        }
        Some(t) => Value::String(t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()),
    }
}

/// Flask's JSON form of a datetime (an HTTP date), as rq-dashboard serializes worker dates.
pub fn http_date(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        Value::String(t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
    })
}

/// A name (queue, worker) as HTML that wraps only after a `:` or a `/`: each part up to and
/// including a separator stays on one line (`<span class="nb">`, `white-space: nowrap`), with a
/// `<wbr>` between parts, so "reports:eu/ünïcode" may wrap as "reports:" "eu/" "ünïcode" but never
/// inside a word or at a hyphen. The text is HTML-escaped: output it with `|safe`. Its text
/// content is the name unchanged.
pub fn breakable(name: &str) -> String {
    use askama::filters::Escaper as _;
    let mut out = String::with_capacity(name.len() + 32);
    let mut rest = name;
    while !rest.is_empty() {
        let end = rest.find([':', '/']).map_or(rest.len(), |i| i + 1);
        let (part, tail) = rest.split_at(end);
        if !out.is_empty() {
            out.push_str("<wbr>");
        }
        out.push_str("<span class=\"nb\">");
        // Writing to a String cannot fail.
        let _ = askama::filters::Html.write_escaped_str(&mut out, part);
        out.push_str("</span>");
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_break_only_after_a_colon_or_a_slash_and_stay_escaped() {
        assert_eq!(breakable("default"), "<span class=\"nb\">default</span>");
        assert_eq!(
            breakable("reports:eu/ünï code"),
            "<span class=\"nb\">reports:</span><wbr><span class=\"nb\">eu/</span><wbr><span class=\"nb\">ünï code</span>"
        );
        assert_eq!(
            breakable("<b>x</b>"),
            "<span class=\"nb\">&#60;b&#62;x&#60;/</span><wbr><span class=\"nb\">b&#62;</span>"
        );
        assert_eq!(breakable(""), "");
        assert_eq!(
            breakable("a::"),
            "<span class=\"nb\">a:</span><wbr><span class=\"nb\">:</span>"
        );
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc::now();
        let t = time_cell(Some(now - chrono::Duration::seconds(300)), now).unwrap();
        assert_eq!(t.rel, "5 min ago");
        let t = time_cell(Some(now + chrono::Duration::seconds(7200)), now).unwrap();
        assert_eq!(t.rel, "in 2 h");
    }

    #[test]
    fn a_scheduler_holder_reads_as_the_model_says_in_english() {
        let l = SchedulerLock {
            holder: "s1".into(),
            hostname: Some("h".into()),
            pid: Some(42),
        };
        assert_eq!(scheduler_holder(&l), l.describe());
        for (host, pid) in [
            (None, Some(7)),
            (Some("h2".to_string()), None),
            (None, None),
        ] {
            let m = SchedulerLock {
                holder: "s2".into(),
                hostname: host,
                pid,
            };
            assert_eq!(scheduler_holder(&m), m.describe());
        }
        let zh = i18n::Lang::from_code("zh-CN").unwrap();
        assert_eq!(
            i18n::sync_scope(zh, || scheduler_holder(&l)),
            "s1（主机 h，PID 42）"
        );
    }

    #[test]
    fn relative_times_and_counts_follow_the_language() {
        let zh = i18n::Lang::from_code("zh-CN").unwrap();
        i18n::sync_scope(zh, || {
            let now = Utc::now();
            let t = time_cell(Some(now - chrono::Duration::seconds(180)), now).unwrap();
            assert_eq!(t.rel, "3 分钟前");
            let t = time_cell(Some(now + chrono::Duration::seconds(7200)), now).unwrap();
            assert_eq!(t.rel, "2 小时后");
            assert_eq!(plural(3, "worker", "workers"), "3 个工作进程");
            assert_eq!(thousands(1_234_567), "1,234,567");
        });
    }

    #[test]
    fn counts_read_naturally() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(plural(1, "worker", "workers"), "1 worker");
        assert_eq!(plural(0, "worker", "workers"), "0 workers");
        assert_eq!(plural(1000, "job", "jobs"), "1,000 jobs");
    }
}
