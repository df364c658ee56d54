//! Redaction: `--redact-key NAME` and `--redact-pattern REGEX` hide values of job data, which
//! then show as `[redacted]` on every page, fragment, JSON answer, export, webhook and audit
//! entry. This module is the one place that decides what is hidden ([`Redactor`]) and from whom
//! ([`Sight`]).
//!
//! What is hidden:
//! - **Keys** (`--redact-key`, case-insensitive): the whole value of a keyword argument, or of a
//!   dict entry at any depth (in arguments, keyword arguments, `meta`, return values, an object's
//!   state), whose name is one of the keys. In text RQ wrote from such values (a job's
//!   description `f(1, token='…')`, a traceback, a repr) the value after `name=`, `'name':` or
//!   `"name":` is hidden the same way.
//! - **Patterns** (`--redact-pattern`, the `regex` crate's syntax): every match inside any
//!   decoded string (arguments, results, `meta`, descriptions, tracebacks and exception
//!   messages, function names, the raw hash fields), and any number whose digits match.
//!
//! Who sees the values: with `--policy`, users whose roles grant `unredacted` on the job's
//! queue; without a policy, nobody (setting a redaction flag asks for it everywhere). What is
//! computed once for everyone (health problems and alerts, the timing statistics and `/metrics`,
//! task descriptions, the audit trail) is always redacted.
//!
//! Where it is applied: at the boundary between decoding and reading. The repository
//! ([`crate::rq::repository`]) returns jobs already redacted for the [`Sight`] its caller passes
//! (every read of job data for display takes one), the shared snapshot keeps the workers'
//! current jobs redacted for everyone (and the clear rows only for [`Sight`]s that may see them),
//! and a search scan, which reads raw candidates, matches each as its sight sees it
//! ([`crate::rq::search::SearchQuery::matches`]), so a search cannot test for a hidden value.
//! Shared caches are kept apart per sight ([`Sight::key`]).

use std::borrow::Cow;

use regex::Regex;
use serde_json::Value;

use crate::pickle::{PyValue, MAX_DEPTH};
use crate::rq::decode::{Call, Decoded};
use crate::rq::model::cron::CronJob;
use crate::rq::model::{JobDetail, JobSummary, ResultEntry};

/// What a hidden value shows as (defined beside the decoded values' own [`PyValue::Redacted`]).
pub use crate::pickle::REDACTED;

/// The hash fields holding a serialized payload: their raw previews are hidden whole, since a
/// serialized (pickled, compressed) value cannot be redacted in place. Their decoded, redacted
/// values are on the page.
const PAYLOAD_FIELDS: [&str; 3] = ["data", "meta", "result"];

/// The redaction rules (`--redact-key`, `--redact-pattern`), built once at start-up.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// The key names, lower-cased.
    keys: Vec<String>,
    /// Every pattern, alternated; `None` without patterns.
    patterns: Option<Regex>,
    /// What introduces a keyed value in text: `name=` and `'name':` / `"name":`.
    keyed: Option<Regex>,
}

impl Redactor {
    /// Builds the rules from the flags' values. Empty key names are ignored.
    ///
    /// # Errors
    /// A sentence naming the pattern that is not a valid regular expression, or that matches
    /// the empty text (it would hide nothing and mark everything).
    pub fn new(keys: &[String], patterns: &[String]) -> Result<Redactor, String> {
        let mut names: Vec<String> = keys
            .iter()
            .map(|k| k.trim().to_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        names.sort();
        names.dedup();
        for p in patterns {
            let re = Regex::new(p).map_err(|e| {
                format!(
                    "invalid --redact-pattern {p:?}: {}",
                    one_line(&e.to_string())
                )
            })?;
            if re.is_match("") {
                return Err(format!(
                    "--redact-pattern {p:?} matches the empty text: make it match at least one character"
                ));
            }
        }
        let alternation = |items: &mut dyn Iterator<Item = String>| {
            items
                .map(|p| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|")
        };
        let patterns = if patterns.is_empty() {
            None
        } else {
            Some(compile(&alternation(&mut patterns.iter().cloned()))?)
        };
        let keyed = if names.is_empty() {
            None
        } else {
            let all = alternation(&mut names.iter().map(|k| regex::escape(k)));
            // `name=` only for names a keyword argument can have. `(?i)` covers both branches.
            let idents = alternation(
                &mut names
                    .iter()
                    .filter(|k| k.chars().all(|c| c.is_alphanumeric() || c == '_'))
                    .map(|k| regex::escape(k)),
            );
            let mut re = format!(r#"(?i)['"](?:{all})['"]\s*:"#);
            if !idents.is_empty() {
                re.push_str(&format!(r"|\b(?:{idents})\s*="));
            }
            Some(compile(&re)?)
        };
        Ok(Redactor {
            keys: names,
            patterns,
            keyed,
        })
    }

    /// Whether any rule is set (without one, nothing is ever hidden).
    pub fn is_active(&self) -> bool {
        !self.keys.is_empty() || self.patterns.is_some()
    }

    /// Whether `name` is one of the keys (case-insensitive).
    pub fn is_key(&self, name: &str) -> bool {
        !self.keys.is_empty() && self.keys.contains(&name.to_lowercase())
    }

    /// `s` with every keyed value and every pattern match replaced by `[redacted]`.
    pub fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let keyed = self.mask_keyed(s);
        let masked = match self.mask_patterns(&keyed) {
            Cow::Owned(o) => Some(o),
            Cow::Borrowed(_) => None,
        };
        let masked = masked.map_or(keyed, Cow::Owned);
        let cut = match self.mask_cuts(&masked) {
            Cow::Owned(o) => Some(o),
            Cow::Borrowed(_) => None,
        };
        cut.map_or(masked, Cow::Owned)
    }

    /// Hides the word a cut went through: text cut short (`…` at its end or start, or RQ's
    /// `...` after an argument's repr) may end inside a value that a pattern would have found
    /// whole.
    fn mask_cuts<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if self.patterns.is_none() {
            return Cow::Borrowed(s);
        }
        let delim = |c: char| c.is_whitespace() || "'\"()[]{},=:".contains(c);
        let mut words: Vec<(usize, usize)> = Vec::new();
        let mut word_before = |end: usize| {
            let start = s[..end]
                .char_indices()
                .rev()
                .find(|(_, c)| delim(*c))
                .map_or(0, |(i, c)| i + c.len_utf8());
            if start < end {
                words.push((start, end));
            }
        };
        for (i, _) in s.match_indices("...") {
            let after = s[i + 3..].trim_start_matches(['\'', '"']);
            if after.is_empty() || after.starts_with([',', ')']) {
                word_before(i);
            }
        }
        if let Some(head) = s.strip_suffix('…') {
            word_before(head.len());
        }
        if let Some(rest) = s.strip_prefix('…') {
            let len = rest.find(delim).unwrap_or(rest.len());
            if len > 0 {
                words.push((s.len() - rest.len(), s.len() - rest.len() + len));
            }
        }
        if words.is_empty() {
            return Cow::Borrowed(s);
        }
        words.sort_unstable();
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for (start, end) in words {
            if start < last {
                continue;
            }
            out.push_str(&s[last..start]);
            out.push_str(REDACTED);
            last = end;
        }
        out.push_str(&s[last..]);
        Cow::Owned(out)
    }

    /// Redacts a string in place.
    pub fn text_in(&self, s: &mut String) {
        if let Cow::Owned(t) = self.text(s) {
            *s = t;
        }
    }

    /// Replaces every (non-empty) pattern match.
    fn mask_patterns<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let Some(re) = &self.patterns else {
            return Cow::Borrowed(s);
        };
        let mut out = String::new();
        let mut last = 0;
        for m in re.find_iter(s).filter(|m| !m.is_empty()) {
            out.push_str(&s[last..m.start()]);
            out.push_str(REDACTED);
            last = m.end();
        }
        if last == 0 {
            return Cow::Borrowed(s);
        }
        out.push_str(&s[last..]);
        Cow::Owned(out)
    }

    /// Replaces the value after each `name=`, `'name':` or `"name":` of a key.
    fn mask_keyed<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let Some(re) = &self.keyed else {
            return Cow::Borrowed(s);
        };
        let mut out = String::new();
        let (mut last, mut pos) = (0, 0);
        while let Some(m) = re.find_at(s, pos) {
            pos = m.end();
            // `name == value` compares; it is no keyword argument.
            if m.as_str().ends_with('=') && s[pos..].starts_with('=') {
                pos += 1;
                continue;
            }
            let start = pos + (s.len() - pos - s[pos..].trim_start().len());
            let end = value_end(s.as_bytes(), start);
            if end > start && &s[start..end] != REDACTED {
                out.push_str(&s[last..start]);
                out.push_str(REDACTED);
                last = end;
            }
            pos = end.max(pos);
            if pos >= s.len() {
                break;
            }
        }
        if last == 0 {
            return Cow::Borrowed(s);
        }
        out.push_str(&s[last..]);
        Cow::Owned(out)
    }

    /// Whether a pattern matches the text of a number.
    fn hides_number(&self, text: &str) -> bool {
        self.patterns.as_ref().is_some_and(|re| re.is_match(text))
    }

    /// Redacts a decoded pickle in place.
    pub fn py(&self, v: &mut PyValue) {
        self.py_at(v, 0);
    }

    fn py_at(&self, v: &mut PyValue, depth: usize) {
        if depth > MAX_DEPTH {
            // Deeper than any walk shows it; nothing checked is shown.
            *v = PyValue::Redacted;
            return;
        }
        let hidden_number = match &*v {
            PyValue::Int(i) => self.hides_number(&i.to_string()),
            PyValue::BigInt(s) => self.hides_number(s),
            PyValue::Float(_) => self.hides_number(&v.repr(100)),
            _ => false,
        };
        if hidden_number {
            *v = PyValue::Redacted;
            return;
        }
        match v {
            PyValue::Str(s) | PyValue::Global(s) => self.text_in(s),
            PyValue::Bytes(b) => self.bytes(b),
            PyValue::List(items)
            | PyValue::Tuple(items)
            | PyValue::Set(items)
            | PyValue::FrozenSet(items) => {
                for x in items {
                    self.py_at(x, depth + 1);
                }
            }
            PyValue::Dict(items) => {
                for (k, x) in items {
                    let keyed = match &*k {
                        PyValue::Str(name) => self.is_key(name),
                        PyValue::Bytes(b) => std::str::from_utf8(b).is_ok_and(|n| self.is_key(n)),
                        _ => false,
                    };
                    if keyed {
                        *x = PyValue::Redacted;
                    } else {
                        self.py_at(x, depth + 1);
                    }
                    self.py_at(k, depth + 1);
                }
            }
            PyValue::Object { class, args, state } => {
                self.text_in(class);
                for x in args {
                    self.py_at(x, depth + 1);
                }
                if let Some(st) = state {
                    self.py_at(st, depth + 1);
                }
            }
            PyValue::None
            | PyValue::Bool(_)
            | PyValue::Int(_)
            | PyValue::BigInt(_)
            | PyValue::Float(_)
            | PyValue::Redacted => {}
        }
    }

    /// Redacts a byte string: as text when it is UTF-8; else, when a pattern matches its lossy
    /// reading, it is hidden whole.
    fn bytes(&self, b: &mut Vec<u8>) {
        match std::str::from_utf8(b) {
            Ok(t) => {
                if let Cow::Owned(t) = self.text(t) {
                    *b = t.into_bytes();
                }
            }
            Err(_) => {
                if matches!(self.text(&String::from_utf8_lossy(b)), Cow::Owned(_)) {
                    *b = REDACTED.as_bytes().to_vec();
                }
            }
        }
    }

    /// Redacts a decoded JSON document in place.
    pub fn json(&self, v: &mut Value) {
        self.json_at(v, 0);
    }

    fn json_at(&self, v: &mut Value, depth: usize) {
        if depth > MAX_DEPTH {
            *v = Value::String(REDACTED.into());
            return;
        }
        match v {
            Value::String(s) => self.text_in(s),
            Value::Number(n) if self.hides_number(&n.to_string()) => {
                *v = Value::String(REDACTED.into());
            }
            Value::Array(items) => {
                for x in items {
                    self.json_at(x, depth + 1);
                }
            }
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if self.is_key(k) {
                        *x = Value::String(REDACTED.into());
                    } else {
                        self.json_at(x, depth + 1);
                    }
                }
                if m.keys()
                    .any(|k| matches!(self.mask_patterns(k), Cow::Owned(_)))
                {
                    *m = std::mem::take(m)
                        .into_iter()
                        .map(|(k, x)| (self.mask_patterns(&k).into_owned(), x))
                        .collect();
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Redacts a decoded payload in place.
    pub fn decoded(&self, d: &mut Decoded) {
        match d {
            Decoded::Pickle(v) => self.py(v),
            Decoded::Json(v) => self.json(v),
            Decoded::Text(t) => self.text_in(t),
            Decoded::Opaque { reason, .. } => self.text_in(reason),
        }
    }

    /// Redacts a job call: a keyword argument named by a key is hidden whole.
    pub fn call(&self, c: &mut Call) {
        self.text_in(&mut c.func_name);
        if let Some(i) = &mut c.instance {
            self.text_in(i);
        }
        for a in &mut c.args {
            self.decoded(a);
        }
        for (k, v) in &mut c.kwargs {
            if self.is_key(k) {
                *v = Decoded::Pickle(PyValue::Redacted);
            } else {
                self.decoded(v);
            }
            self.text_in(k);
        }
    }

    /// Redacts a list row: its description and traceback.
    pub fn summary(&self, j: &mut JobSummary) {
        for t in [&mut j.description, &mut j.exc_info].into_iter().flatten() {
            self.text_in(t);
        }
    }

    /// Redacts a results-stream entry: its return value and traceback.
    pub fn result(&self, r: &mut ResultEntry) {
        if let Some(v) = &mut r.return_value {
            self.decoded(v);
        }
        if let Some(t) = &mut r.exc_string {
            self.text_in(t);
        }
    }

    /// Redacts everything the job page shows of a job's data. The raw previews of the
    /// serialized payloads (`data`, `meta`, `result`) are hidden whole.
    pub fn detail(&self, j: &mut JobDetail) {
        for t in [&mut j.description, &mut j.call_error, &mut j.hash_exc_info]
            .into_iter()
            .flatten()
        {
            self.text_in(t);
        }
        if let Some(c) = &mut j.call {
            self.call(c);
        }
        for d in [&mut j.meta, &mut j.legacy_result].into_iter().flatten() {
            self.decoded(d);
        }
        for r in &mut j.results {
            self.result(r);
        }
        for (_, name) in &mut j.callbacks {
            self.text_in(name);
        }
        for (field, preview) in &mut j.raw_fields {
            if PAYLOAD_FIELDS.contains(&field.as_str()) {
                *preview = REDACTED.to_string();
            } else {
                self.text_in(preview);
            }
        }
    }

    /// Redacts a cron job: its function and the arguments RQ saved for display.
    pub fn cron_job(&self, j: &mut CronJob) {
        self.text_in(&mut j.func_name);
        for t in [&mut j.args, &mut j.kwargs].into_iter().flatten() {
            match serde_json::from_str::<Value>(t) {
                Ok(mut v) => {
                    self.json(&mut v);
                    *t = v.to_string();
                }
                Err(_) => self.text_in(t),
            }
        }
    }

    /// Free text as records others read keep it (the audit trail's target and message, a
    /// task's description): [`Redactor::text`], and, while any rule is set, the search texts
    /// that look into job data (`q=`, `exc=` of a search's URL or form) hidden whole (see
    /// [`crate::rq::search::SearchQuery::recorded_description`]).
    pub fn recorded<'a>(&self, s: &'a str) -> Cow<'a, str> {
        static SEARCH_TEXT: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
            Regex::new(r"(^|[?&;\s])((?:q|exc)=)[^&\s]+").expect("a valid expression")
        });
        let t = self.text(s);
        if !self.is_active() || !SEARCH_TEXT.is_match(&t) {
            return t;
        }
        let masked = SEARCH_TEXT.replace_all(&t, format!("${{1}}${{2}}{REDACTED}").as_str());
        Cow::Owned(masked.into_owned())
    }
}

/// Compiles a regular expression built from the flags.
fn compile(re: &str) -> Result<Regex, String> {
    Regex::new(re).map_err(|e| format!("the redaction rules: {}", one_line(&e.to_string())))
}

/// An error message of the `regex` crate (which draws the pattern over several lines) on one
/// line.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the value starting at `from` ends in repr-like text: after a quoted string, a balanced
/// bracket, or else at a `,`, a newline or a closing bracket at its own level. Trailing spaces
/// are left out.
fn value_end(b: &[u8], from: usize) -> usize {
    let mut depth = 0usize;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                i = string_end(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => break,
            b')' | b']' | b'}' => depth -= 1,
            b',' | b'\n' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    while i > from && b[i - 1].is_ascii_whitespace() {
        i -= 1;
    }
    i
}

/// The index after the closing quote of the string literal whose quote is at `at` (the end of
/// the text when it is not closed); backslash escapes are skipped.
fn string_end(b: &[u8], at: usize) -> usize {
    let q = b[at];
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == q => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

mod sight;
#[cfg(test)]
mod tests;

pub use sight::Sight;
