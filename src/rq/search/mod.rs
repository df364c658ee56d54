//! Search of jobs as pure values: the validated query, what a job must carry to be judged, and the
//! judgement. No I/O here: [`crate::rq::repository::search`] reads the candidates, [`crate::search`]
//! runs the scan in the background.
//!
//! Every text criterion is a plain, case-insensitive substring (no regular expressions: `.*`
//! means a dot and a star). Several criteria combine with AND. What each one looks at:
//!
//! - `func`: the function name decoded from the job's `data` (dotted, e.g. `app.tasks.send`);
//! - `exc`: the last non-empty line of the latest traceback (`Type: message`), from the results
//!   stream (RQ 1.12+) or the job hash's `exc_info`;
//! - `q`: the description, and the repr of every argument and keyword argument (`name=value`)
//!   decoded by the safe decoder ([`crate::rq::decode`], never executed);
//! - `worker`: the job's `worker_name`;
//! - `since` / `until`: the job's time, which is `ended_at` when it has one, else `enqueued_at`,
//!   else `created_at` (not the registry score, whose meaning differs per registry: an expiry for
//!   failed and finished jobs). Both bounds are inclusive.
//!
//! Under redaction rules ([`crate::redact`]), `func`, `exc` and `q` look at the job as the viewer
//! sees it, so a value hidden from them is never found.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::error::AppError;
use crate::redact::Redactor;
use crate::rq::decode::{self, Call};
use crate::rq::model::Registry;

/// The longest text a criterion may hold, in characters.
pub const MAX_CRITERION: usize = 500;

/// The registries a search may scan.
pub const SEARCHABLE: [Registry; 7] = [
    Registry::Failed,
    Registry::Finished,
    Registry::Canceled,
    Registry::Scheduled,
    Registry::Deferred,
    Registry::Started,
    Registry::Queued,
];

/// A validated, normalised search. Two queries that mean the same thing are equal (same
/// [`SearchQuery::key`]), so viewers of the same search share one scan.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchQuery {
    /// One queue, or `None` for every queue (`*`).
    pub queue: Option<String>,
    /// The registry scanned in each queue.
    pub registry: Registry,
    /// Function name contains (lower-cased).
    pub func: Option<String>,
    /// Last traceback line contains (lower-cased).
    pub exc: Option<String>,
    /// Description or argument text contains (lower-cased).
    pub q: Option<String>,
    /// Worker name contains (lower-cased).
    pub worker: Option<String>,
    /// Job time at or after, in epoch microseconds.
    pub since: Option<i64>,
    /// Job time at or before, in epoch microseconds.
    pub until: Option<i64>,
    /// `func`, `exc`, `q` and `worker` as typed, for showing them back.
    pub typed: Typed,
}

/// The text criteria of a search as typed (trimmed), in the order func, exc, q, worker. Left
/// out of equality and hashing: queries that differ only in case are the same search.
#[derive(Debug, Clone, Default)]
pub struct Typed(pub [String; 4]);

impl PartialEq for Typed {
    fn eq(&self, _: &Typed) -> bool {
        true
    }
}

impl Eq for Typed {}

impl std::hash::Hash for Typed {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// The raw query-string fields of a search, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct SearchForm {
    /// Queue name or `*`.
    #[serde(default)]
    pub queue: String,
    /// Registry name.
    #[serde(default)]
    pub registry: String,
    /// Function name.
    #[serde(default)]
    pub func: String,
    /// Exception text.
    #[serde(default)]
    pub exc: String,
    /// Description and argument text.
    #[serde(default)]
    pub q: String,
    /// Worker name.
    #[serde(default)]
    pub worker: String,
    /// Lower time bound.
    #[serde(default)]
    pub since: String,
    /// Upper time bound.
    #[serde(default)]
    pub until: String,
}

fn criterion(name: &str, v: &str) -> Result<Option<String>, AppError> {
    let v = v.trim();
    if v.chars().count() > MAX_CRITERION {
        return Err(AppError::BadRequest(format!(
            "the “{name}” text is {} characters long: at most {MAX_CRITERION}",
            v.chars().count()
        )));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(AppError::BadRequest(format!(
            "the “{name}” text holds control characters: type plain text"
        )));
    }
    Ok((!v.is_empty()).then(|| v.to_lowercase()))
}

/// Parses a time bound: epoch seconds (`1764547200`, `1764547200.5`), an RFC 3339 / ISO 8601
/// date-time (`2026-12-01T10:00:00Z`, `2026-12-01T10:00:00+02:00`, `2026-12-01T10:00` as UTC) or
/// a date (`2026-12-01`, midnight UTC). Returns epoch microseconds.
///
/// # Errors
/// `BadRequest` saying what is accepted.
pub fn parse_time(name: &str, v: &str) -> Result<Option<i64>, AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let bad = || {
        AppError::BadRequest(format!(
            "“{}” is not a time for “{name}”: use ISO 8601 (2026-12-01T10:00:00Z, 2026-12-01) or epoch seconds",
            decode::truncate(v, 60)
        ))
    };
    if let Ok(secs) = v.parse::<f64>() {
        if !secs.is_finite() || secs.abs() > 1e11 {
            return Err(bad());
        }
        return Ok(Some((secs * 1e6).round() as i64));
    }
    let t: DateTime<Utc> = if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        t.with_timezone(&Utc)
    } else if let Some(t) = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
    {
        Utc.from_utc_datetime(&t)
    } else if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).ok_or_else(bad)?)
    } else {
        return Err(bad());
    };
    Ok(Some(t.timestamp_micros()))
}

impl SearchForm {
    /// The fields as typed, with what `r` hides masked: to show a search back to a viewer the
    /// redaction rules apply to (the text of the form, never the search run).
    pub fn masked(&self, r: &Redactor) -> SearchForm {
        let mut f = self.clone();
        for t in [&mut f.func, &mut f.exc, &mut f.q] {
            r.text_in(t);
        }
        f
    }

    /// Validates and normalises the form.
    ///
    /// # Errors
    /// `BadRequest` naming the field that is wrong and what it accepts.
    pub fn parse(&self) -> Result<SearchQuery, AppError> {
        let queue = match self.queue.trim() {
            "" | "*" => None,
            q if q.chars().count() > MAX_CRITERION => {
                return Err(AppError::BadRequest(format!(
                    "the queue name is longer than {MAX_CRITERION} characters"
                )))
            }
            // Queue names are exact (RQ's own), not lower-cased.
            q => Some(q.to_string()),
        };
        let registry = match self.registry.trim() {
            "" => Registry::Failed,
            r => Registry::parse(r)
                .filter(|r| SEARCHABLE.contains(r))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "unknown registry “{}”: use one of {}",
                        decode::truncate(r, 60),
                        SEARCHABLE.map(|r| r.as_str()).join(", ")
                    ))
                })?,
        };
        let q = SearchQuery {
            queue,
            registry,
            func: criterion("func", &self.func)?,
            exc: criterion("exc", &self.exc)?,
            q: criterion("q", &self.q)?,
            worker: criterion("worker", &self.worker)?,
            since: parse_time("since", &self.since)?,
            until: parse_time("until", &self.until)?,
            typed: Typed(
                [&self.func, &self.exc, &self.q, &self.worker].map(|v| v.trim().to_string()),
            ),
        };
        if let (Some(s), Some(u)) = (q.since, q.until) {
            if s > u {
                return Err(AppError::BadRequest(
                    "“since” is after “until”: nothing can match".into(),
                ));
            }
        }
        Ok(q)
    }
}

impl SearchQuery {
    /// The normalised form, for sharing scans and for URLs: the same search always gives the
    /// same key.
    pub fn key(&self) -> String {
        let mut f = self.to_form();
        f.registry = self.registry.as_str().into();
        f.func = self.func.clone().unwrap_or_default();
        f.exc = self.exc.clone().unwrap_or_default();
        f.q = self.q.clone().unwrap_or_default();
        f.worker = self.worker.clone().unwrap_or_default();
        serde_urlencoded::to_string(&f).unwrap_or_default()
    }

    /// The query as form fields again, the text as typed (times as RFC 3339 UTC), to prefill the
    /// form and to build links.
    pub fn to_form(&self) -> SearchForm {
        let time = |t: Option<i64>| {
            t.and_then(DateTime::<Utc>::from_timestamp_micros)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                .unwrap_or_default()
        };
        SearchForm {
            queue: self.queue.clone().unwrap_or_else(|| "*".into()),
            registry: self.registry.as_str().into(),
            func: self.typed.0[0].clone(),
            exc: self.typed.0[1].clone(),
            q: self.typed.0[2].clone(),
            worker: self.typed.0[3].clone(),
            since: time(self.since),
            until: time(self.until),
        }
    }

    /// What this search is, for people: `failed jobs of every queue with exc “timeout”`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} jobs of {}",
            self.registry,
            match &self.queue {
                Some(q) => format!("queue “{q}”"),
                None => "every queue".into(),
            }
        );
        let f = self.to_form();
        let mut parts = Vec::new();
        for (k, v) in [
            ("function", &f.func),
            ("exception", &f.exc),
            ("text", &f.q),
            ("worker", &f.worker),
            ("since", &f.since),
            ("until", &f.until),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k} “{v}”"));
            }
        }
        if !parts.is_empty() {
            s.push_str(" with ");
            s.push_str(&parts.join(", "));
        }
        s
    }

    /// The text criterion `r` would hide, masked; `None` when there is none. A search for hidden
    /// text finds nothing for a viewer the rules apply to, and answering it would show the text
    /// back.
    pub fn hidden_text(&self, r: &Redactor) -> Option<String> {
        self.typed.0[..3].iter().find_map(|t| match r.text(t) {
            std::borrow::Cow::Owned(masked) => Some(masked),
            std::borrow::Cow::Borrowed(_) => None,
        })
    }

    /// What this search is, for records others read (task descriptions, the audit trail):
    /// while a redaction rule is set, the free texts that look into job data (`q`, `exc`) are
    /// hidden whole, since a value typed by someone who may see it cannot be told from any other
    /// text; the function name is redacted.
    pub fn recorded_description(&self, r: &Redactor) -> String {
        let mut q = self.clone();
        if r.is_active() {
            for i in [1, 2] {
                if !q.typed.0[i].is_empty() {
                    q.typed.0[i] = crate::redact::REDACTED.into();
                }
            }
            r.text_in(&mut q.typed.0[0]);
        }
        q.describe()
    }

    /// What a candidate must carry for this search.
    pub fn needs(&self) -> Needs {
        Needs {
            data: self.func.is_some() || self.q.is_some(),
            exc: self.exc.is_some(),
            description: self.q.is_some(),
            worker: self.worker.is_some(),
        }
    }

    /// Whether `c` matches every criterion. With `redactor` (the viewer may not see this job's
    /// values, [`crate::redact::Sight::hides`]) the text criteria look at the redacted job, as
    /// the viewer would see it: a hidden value is never found.
    pub fn matches(&self, c: &Candidate, json_first: bool, redactor: Option<&Redactor>) -> bool {
        if !c.exists {
            return false;
        }
        let has = |hay: &str, needle: &str| hay.to_lowercase().contains(needle);
        if let Some(w) = &self.worker {
            if !c.worker.as_deref().is_some_and(|x| has(x, w)) {
                return false;
            }
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = c.time.map(|t| t.timestamp_micros()) else {
                return false;
            };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
                return false;
            }
        }
        if let Some(e) = &self.exc {
            let line = c
                .traceback
                .as_deref()
                .map(|t| seen(redactor, crate::rq::decode::last_line(t)));
            if !line.is_some_and(|l| has(&l, e)) {
                return false;
            }
        }
        if self.func.is_none() && self.q.is_none() {
            return true;
        }
        let call = c
            .data
            .as_deref()
            .and_then(|d| decode::job_data(d, json_first).ok())
            .map(|mut call| {
                if let Some(r) = redactor {
                    r.call(&mut call);
                }
                call
            });
        if let Some(f) = &self.func {
            if !call.as_ref().is_some_and(|call| has(&call.func_name, f)) {
                return false;
            }
        }
        if let Some(q) = &self.q {
            let in_desc = c
                .description
                .as_deref()
                .is_some_and(|d| has(&seen(redactor, d), q));
            if !in_desc && !call.as_ref().is_some_and(|call| args_contain(call, q)) {
                return false;
            }
        }
        true
    }
}

/// `t` as a viewer sees it: redacted by `redactor` when the rules apply to them.
fn seen<'a>(redactor: Option<&Redactor>, t: &'a str) -> std::borrow::Cow<'a, str> {
    redactor.map_or(std::borrow::Cow::Borrowed(t), |r| r.text(t))
}

/// Whether any argument's repr (or `name=repr` of a keyword argument) contains `needle`
/// (lower-cased).
fn args_contain(call: &Call, needle: &str) -> bool {
    call.args
        .iter()
        .any(|a| a.repr(decode::MAX_REPR).to_lowercase().contains(needle))
        || call.kwargs.iter().any(|(k, v)| {
            format!("{k}={}", v.repr(decode::MAX_REPR))
                .to_lowercase()
                .contains(needle)
        })
}

/// Which expensive fields a scan must read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    /// The job's `data` (function and arguments).
    pub data: bool,
    /// The latest traceback's last line.
    pub exc: bool,
    /// The description.
    pub description: bool,
    /// The worker's name.
    pub worker: bool,
}

/// What a scan read about one job of a registry.
#[derive(Debug, Clone, Default)]
pub struct Candidate {
    /// The job id.
    pub id: String,
    /// Whether the job hash exists: has `data` when that was read, else `created_at` or `status`
    /// (which RQ writes whenever it saves a job).
    pub exists: bool,
    /// The description.
    pub description: Option<String>,
    /// The worker name.
    pub worker: Option<String>,
    /// The job's time (see the module doc).
    pub time: Option<DateTime<Utc>>,
    /// The last line of the latest traceback (`Type: message`), when asked for.
    pub traceback: Option<String>,
    /// The raw `data` field, when asked for.
    pub data: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests;
