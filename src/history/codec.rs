//! The packed text of a series' points in Redis: one hash field per queue (`""` for the total)
//! in a key per hour (minute points) or per day (hour points); the field holds
//! `o,finished,failed,queued,started,latency,retried;` per point, `o` being the minute of the
//! hour or the hour of the day (`retried` came later: a point without it retried none). Only
//! intervals with a sample have a point. The Redis script that writes
//! it is in [`crate::rq::repository::history`].
//!
//! A point is at most about 60 bytes, so a queue takes at most 60 × 60 bytes per hour key and
//! 24 × 60 per day key: about 170 KB for its 48 hours of minutes, 130 KB for its 90 days of
//! hours; a quiet queue far less.

use super::Point;

/// Parses a field of a key whose first interval starts at epoch second `base`, intervals being
/// `span` seconds. Malformed points are skipped.
pub fn parse(text: &str, base: i64, span: i64) -> Vec<Point> {
    // The same interval twice (a clock stepped back, or two writers' clocks apart): one point,
    // the counts added, the later gauges kept.
    let mut out: Vec<Point> = Vec::new();
    for p in parse_each(text, base, span) {
        match out.iter_mut().find(|q| q.t == p.t) {
            Some(q) => {
                q.finished += p.finished;
                q.failed += p.failed;
                q.retried += p.retried;
                q.queued = p.queued;
                q.started = p.started;
                q.latency = p.latency;
            }
            None => out.push(p),
        }
    }
    out
}

fn parse_each(text: &str, base: i64, span: i64) -> impl Iterator<Item = Point> + '_ {
    text.split(';').filter_map(move |p| {
        let mut n = p.split(',').map(|v| v.trim().parse::<u64>().ok());
        let o = n.next()??;
        let mut v = [0u64; 5];
        for slot in &mut v {
            *slot = n.next()??;
        }
        // Written by an older rqdash: no `retried`.
        let retried = match n.next() {
            None => 0,
            Some(r) => r?,
        };
        Some(Point {
            t: base + o as i64 * span,
            finished: v[0],
            failed: v[1],
            retried: retried.min(v[1]),
            queued: v[2],
            started: v[3],
            latency: v[4],
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_and_garbage_is_skipped() {
        let p = parse("0,1,2,3,4,5;7,10,0,1,0,9;x,1;3,1,1;", 3600, 60);
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[1],
            Point {
                t: 3600 + 420,
                finished: 10,
                failed: 0,
                retried: 0,
                queued: 1,
                started: 0,
                latency: 9
            }
        );
        // With the retried attempts, added up like the other counts.
        let r = parse("2,0,5,0,0,0,3;2,0,2,1,0,0,2;", 0, 60);
        assert_eq!((r[0].failed, r[0].retried, r[0].queued), (7, 5, 1));
        assert!(parse("", 0, 60).is_empty());
        let twice = parse("1,2,0,5,0,0;1,3,1,7,0,0;", 0, 60);
        assert_eq!(twice.len(), 1);
        assert_eq!(
            (twice[0].finished, twice[0].failed, twice[0].queued),
            (5, 1, 7)
        );
    }
}
