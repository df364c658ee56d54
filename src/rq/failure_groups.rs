//! Failed jobs grouped by what went wrong: the exception type and a fingerprint of its message
//! (numbers, hex and ids replaced), so "Timeout after 31 s on host 10.0.0.7" and "... 12 s on host
//! 10.0.0.9" count as one problem.

use std::collections::HashMap;

use super::decode::{last_line, truncate};

/// One group of failures.
#[derive(Debug, Clone)]
pub struct Group {
    /// The fingerprint: exception type and normalised message.
    pub fingerprint: String,
    /// A stable id of the fingerprint, for URLs.
    pub key: String,
    /// An example of the real message.
    pub example: String,
    /// How many failed jobs are in the group.
    pub count: usize,
    /// The highest registry score in the group (the newest failure).
    pub newest_score: f64,
    /// The ids, newest first.
    pub ids: Vec<String>,
}

/// Normalises a failure line: runs of digits become `#`, hex literals and long hex or uuid-like
/// tokens become `…`, so messages that differ only by values group together.
pub fn fingerprint(line: &str) -> String {
    fn word(w: &str, out: &mut String) {
        let hexish = w.len() >= 8
            && w.chars().all(|c| c.is_ascii_hexdigit())
            && w.chars().any(|c| c.is_ascii_digit());
        if hexish || (w.starts_with("0x") && w.len() > 2) {
            out.push('…');
            return;
        }
        let mut in_digits = false;
        for c in w.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push('#');
                }
                in_digits = true;
            } else {
                in_digits = false;
                out.push(c);
            }
        }
    }
    let mut out = String::with_capacity(line.len());
    let mut start = None;
    for (i, c) in line.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else {
            if let Some(s) = start.take() {
                word(&line[s..i], &mut out);
            }
            out.push(c);
        }
    }
    if let Some(s) = start {
        word(&line[s..], &mut out);
    }
    if out.chars().count() > 300 {
        out = out.chars().take(300).collect::<String>() + "…";
    }
    out
}

/// A short stable id of a fingerprint (FNV-1a, hex).
pub fn key_of(fingerprint: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in fingerprint.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// Groups failures given as (id, score, traceback), newest group first.
pub fn group(failures: Vec<(String, f64, Option<String>)>) -> Vec<Group> {
    let mut groups: HashMap<String, Group> = HashMap::new();
    for (id, score, tb) in failures {
        let line = truncate(tb.as_deref().map(last_line).unwrap_or(""), 500);
        let fp = if line.is_empty() {
            "(no traceback recorded)".to_string()
        } else {
            fingerprint(&line)
        };
        let g = groups.entry(fp.clone()).or_insert_with(|| Group {
            key: key_of(&fp),
            fingerprint: fp,
            example: line.clone(),
            count: 0,
            newest_score: f64::NEG_INFINITY,
            ids: Vec::new(),
        });
        g.count += 1;
        g.ids.push(id);
        if score > g.newest_score {
            g.newest_score = score;
            g.example = line;
        }
    }
    let mut v: Vec<Group> = groups.into_values().collect();
    v.sort_by(|a, b| {
        b.newest_score
            .partial_cmp(&a.newest_score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.count.cmp(&a.count))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_do_not_split_groups() {
        assert_eq!(
            fingerprint("TimeoutError: gave up after 31 s on 10.0.0.7"),
            fingerprint("TimeoutError: gave up after 5 s on 10.0.0.19")
        );
        assert_eq!(
            fingerprint("KeyError: 'user-3f2a9c1e-77aa-4b1c-9d0e-1234567890ab'"),
            fingerprint("KeyError: 'user-0a2a9c1e-77aa-4b1c-9d0e-1234567890cd'")
        );
        assert_ne!(
            fingerprint("ValueError: boom"),
            fingerprint("TypeError: boom")
        );
    }

    #[test]
    fn groups_count_and_sort_newest_first() {
        let g = group(vec![
            (
                "a".into(),
                10.0,
                Some("Traceback\nValueError: x 1\n".into()),
            ),
            (
                "b".into(),
                30.0,
                Some("Traceback\nValueError: x 2\n".into()),
            ),
            ("c".into(), 20.0, Some("KeyError: 'k'".into())),
            ("d".into(), 5.0, None),
        ]);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].count, 2);
        assert_eq!(g[0].ids, vec!["a", "b"]);
        assert_eq!(g[0].example, "ValueError: x 2");
        assert_eq!(g[2].fingerprint, "(no traceback recorded)");
    }
}
