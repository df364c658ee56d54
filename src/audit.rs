//! The audit trail: who did what, where, and how it went, for every action, refused ones too.
//!
//! - **What**: an [`Entry`] per POST action: time, user, roles, the user's groups, client
//!   address, action, instance, queue, target (a job id, the selected ids, a group, a worker, a
//!   task, or a search's query), count affected, outcome (`done`, `started` for a background
//!   task, `refused`, `failed`), HTTP status, task id and the message shown.
//! - **Where**: appended to the stream `rqdash:<prefix>:audit` of the instance acted on
//!   ([`crate::rq::keys::Keys::dash_audit`]), so every replica writes and reads one trail. It is
//!   capped at `--audit-max-entries` (100,000 by default) and `--audit-max-days` (90): each
//!   append trims exactly with `MAXLEN` and `MINID`. An entry takes about 250 bytes in Redis, so the
//!   default cap is about 25 MB (`bench/audit.py` measures it, into `bench/audit.md`).
//! - **When Redis refuses the write** (read-only user, replica, out of memory): the action has
//!   already happened and stands; the entry goes to the log (target `rqdash::audit`, as every
//!   entry does anyway) and the audit page warns, naming the error and how many were lost.
//! - **Forwarded** to `--audit-webhook` URLs as they happen, like the alerts
//!   ([`crate::webhooks`]): `{"text": "…", "entry": {…}}`.
//!
//! Reading: [`Filter`] (user, action, queue, time range) over `XREVRANGE` pages, newest first,
//! for the Audit page, `audit.json` and `audit.csv`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::config::Settings;
use crate::rq::model::RawHash;
use crate::rq::{RepoError, Repository};
use crate::webhooks::Webhooks;

/// How many entries one request reads at most while looking for matches (then it answers with
/// what it found and a cursor to go on).
pub const SCAN_LIMIT: usize = 20_000;
/// The most characters of one free-text field of an entry.
pub const FIELD_CHARS: usize = 300;
/// Entries read per round trip.
const BATCH: usize = 500;

/// One audit-trail entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The stream id (empty until written).
    pub id: String,
    /// When, RFC 3339 in UTC with milliseconds.
    pub time: String,
    /// Who: the signed-in user, or `anonymous`.
    pub user: String,
    /// Their roles (`operator`, `viewer`).
    pub roles: Vec<String>,
    /// Their groups (from `--groups-header`).
    pub groups: Vec<String>,
    /// The client's address.
    pub address: String,
    /// What: `requeue`, `delete`, `empty`, `search:requeue`, …
    pub action: String,
    /// The instance acted on.
    pub instance: usize,
    /// The queue, when the action names one.
    pub queue: Option<String>,
    /// What it was aimed at: a job id, selected ids, a group, a worker, a task, a search query.
    pub target: String,
    /// How many jobs it affected (or, for a background task, planned).
    pub count: Option<u64>,
    /// `done`, `started` (a background task), `refused` or `failed`.
    pub outcome: String,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The background task it started.
    pub task: Option<u64>,
    /// The message shown to the user.
    pub message: String,
}

/// The outcome word of an answer's status.
pub fn outcome_of(status: u16) -> &'static str {
    match status {
        202 => "started",
        200..=299 | 303 => "done",
        400 | 401 | 403 => "refused",
        _ => "failed",
    }
}

impl Entry {
    /// The stream fields (time comes from the stream id).
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("time", self.time.clone()),
            ("user", self.user.clone()),
            ("roles", self.roles.join(",")),
            ("address", self.address.clone()),
            ("action", self.action.clone()),
            ("target", self.target.clone()),
            ("outcome", self.outcome.clone()),
            ("status", self.status.to_string()),
            ("message", self.message.clone()),
        ];
        if !self.groups.is_empty() {
            f.push(("groups", self.groups.join(",")));
        }
        if let Some(q) = &self.queue {
            f.push(("queue", q.clone()));
        }
        if let Some(c) = self.count {
            f.push(("count", c.to_string()));
        }
        if let Some(t) = self.task {
            f.push(("task", t.to_string()));
        }
        f
    }

    /// An entry read back from the stream of instance `n`.
    fn from_stream(id: String, h: &RawHash, n: usize) -> Entry {
        let s = |k: &str| {
            h.get(k)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default()
        };
        let list = |k: &str| {
            s(k).split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let time = match s("time") {
            t if !t.is_empty() => t,
            _ => id_ms(&id)
                .and_then(|ms| Utc.timestamp_millis_opt(ms as i64).single())
                .map(rfc3339)
                .unwrap_or_default(),
        };
        Entry {
            time,
            user: s("user"),
            roles: list("roles"),
            groups: list("groups"),
            address: s("address"),
            action: s("action"),
            instance: n,
            queue: Some(s("queue")).filter(|q| !q.is_empty()),
            target: s("target"),
            count: s("count").parse().ok(),
            outcome: s("outcome"),
            status: s("status").parse().unwrap_or(0),
            task: s("task").parse().ok(),
            message: s("message"),
            id,
        }
    }

    /// Cuts every free-text field to [`FIELD_CHARS`] characters, so one request cannot write a
    /// large entry (a form body may be 256 KiB).
    fn bound(&mut self) {
        for f in [
            &mut self.user,
            &mut self.address,
            &mut self.action,
            &mut self.target,
            &mut self.message,
        ] {
            if f.chars().count() > FIELD_CHARS {
                *f = crate::rq::decode::truncate(f, FIELD_CHARS).to_string();
            }
        }
        if let Some(q) = &mut self.queue {
            if q.chars().count() > FIELD_CHARS {
                *q = crate::rq::decode::truncate(q, FIELD_CHARS).to_string();
            }
        }
        self.roles.truncate(20);
        self.groups.truncate(20);
        for g in self.roles.iter_mut().chain(self.groups.iter_mut()) {
            if g.chars().count() > FIELD_CHARS {
                *g = crate::rq::decode::truncate(g, FIELD_CHARS);
            }
        }
    }

    /// One line for people (the webhook's `text`).
    pub fn line(&self) -> String {
        let mut l = format!(
            "rqdash audit: {} {} {}",
            self.user, self.outcome, self.action
        );
        if let Some(q) = &self.queue {
            l.push_str(&format!(" on queue {q}"));
        }
        if !self.target.is_empty() {
            l.push_str(&format!(" ({})", self.target));
        }
        if let Some(c) = self.count {
            l.push_str(&format!(": {c} job(s)"));
        }
        l.push_str(&format!(
            " [instance {}, from {}]",
            self.instance, self.address
        ));
        l
    }
}

/// The epoch milliseconds of a stream id.
fn id_ms(id: &str) -> Option<u64> {
    id.split('-').next()?.parse().ok()
}

/// A time as the trail writes it.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What the trail could not write, per instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// When the first unwritten entry was.
    pub since: String,
    /// How many entries were not written.
    pub count: u64,
    /// Redis's last refusal.
    pub error: String,
}

/// The audit trail's settings, webhooks and the entries it could not write.
pub struct Audit {
    /// What redaction hides ([`crate::redact`]): the trail is read by people it may apply to.
    redactor: std::sync::Arc<crate::redact::Redactor>,
    max_len: u64,
    max_age: Duration,
    hooks: Webhooks,
    lost: Mutex<HashMap<usize, Lost>>,
    unauthenticated: Mutex<HashMap<usize, u64>>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("max_len", &self.max_len)
            .field("max_age", &self.max_age)
            .field("hooks", &self.hooks.len())
            .finish()
    }
}

impl Audit {
    /// The trail as `settings` configure it.
    pub fn new(settings: &Settings) -> Audit {
        Audit {
            redactor: settings.redactor.clone(),
            max_len: settings.audit_max_entries,
            max_age: settings.audit_max_age,
            hooks: Webhooks::new(&settings.audit_webhooks, "audit"),
            lost: Mutex::new(HashMap::new()),
            unauthenticated: Mutex::new(HashMap::new()),
        }
    }

    /// Redacts an entry's free text (target and message) as every record is: before it is
    /// logged, written or forwarded ([`crate::redact::Redactor::recorded`]).
    pub fn redact(&self, e: &mut Entry) {
        for f in [&mut e.target, &mut e.message] {
            if let std::borrow::Cow::Owned(t) = self.redactor.recorded(f) {
                *f = t;
            }
        }
    }

    /// Counts a POST to instance `n` refused before sign-in (logged, not in the trail).
    pub fn count_unauthenticated(&self, n: usize) {
        if let Ok(mut m) = self.unauthenticated.lock() {
            *m.entry(n).or_default() += 1;
        }
    }

    /// How many POSTs to instance `n` were refused before sign-in since this process started.
    pub fn unauthenticated(&self, n: usize) -> u64 {
        self.unauthenticated
            .lock()
            .map_or(0, |m| m.get(&n).copied().unwrap_or(0))
    }

    /// Appends `entry` to instance `n`'s trail and forwards it to the webhooks. A refused write
    /// is logged with the whole entry and remembered for the audit page's warning.
    pub async fn record(&self, repo: &Repository, n: usize, mut entry: Entry) {
        let now = Utc::now();
        entry.instance = n;
        entry.bound();
        if entry.time.is_empty() {
            entry.time = rfc3339(now);
        }
        let min_ms =
            (now.timestamp_millis().max(0) as u64).saturating_sub(self.max_age.as_millis() as u64);
        match repo
            .append_audit(&entry.fields(), self.max_len, min_ms)
            .await
        {
            Ok(id) => entry.id = id,
            Err(e) => {
                let json = serde_json::to_string(&entry).unwrap_or_default();
                tracing::warn!(target: "rqdash::audit", instance = n, error = %e, entry = %crate::config::access::log_safe(&json), "the audit trail refused this entry; it is only in this log");
                if let Ok(mut l) = self.lost.lock() {
                    let lost = l.entry(n).or_insert_with(|| Lost {
                        since: entry.time.clone(),
                        count: 0,
                        error: String::new(),
                    });
                    lost.count += 1;
                    lost.error = e.to_string();
                }
            }
        }
        if !self.hooks.is_empty() {
            let body = serde_json::json!({ "text": entry.line(), "entry": entry });
            self.hooks.send(&body.to_string());
        }
    }

    /// What instance `n`'s trail could not write since this process started.
    pub fn lost(&self, n: usize) -> Option<Lost> {
        self.lost.lock().ok().and_then(|l| l.get(&n).cloned())
    }
}

/// Which entries to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Exactly this user.
    pub user: String,
    /// This action, or actions of which it is a part (`requeue` matches `search:requeue`).
    pub action: String,
    /// Exactly this queue.
    pub queue: String,
    /// Not before (epoch ms).
    pub since: Option<u64>,
    /// Not after (epoch ms).
    pub until: Option<u64>,
}

/// A time given in a filter: RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` (UTC), or epoch
/// seconds; `end` makes a bare date mean its last millisecond.
pub fn parse_time(s: &str, end: bool) -> Result<u64, String> {
    let s = s.trim();
    let t = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&Utc)
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        if end {
            t + chrono::Duration::milliseconds(86_400_000 - 1)
        } else {
            t
        }
    } else if let Some(t) = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    {
        t.and_utc()
    } else if let Ok(secs) = s.parse::<u64>() {
        return Ok(secs.saturating_mul(1000));
    } else {
        return Err(format!(
            "“{}” is not a time: give 2026-12-07, 2026-12-07T16:30 (UTC), an RFC 3339 time or epoch seconds",
            crate::rq::decode::truncate(s, 60)
        ));
    };
    Ok(t.timestamp_millis().max(0) as u64)
}

impl Filter {
    /// The filter of a query string's `user`, `action`, `queue`, `since` and `until`.
    ///
    /// # Errors
    /// A sentence when a time cannot be read.
    pub fn from_query(q: &[(String, String)]) -> Result<Filter, String> {
        let get = |k: &str| {
            q.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let time = |k: &str, end: bool| match get(k) {
            v if v.is_empty() => Ok(None),
            v => parse_time(&v, end).map(Some),
        };
        Ok(Filter {
            user: get("user"),
            action: get("action"),
            queue: get("queue"),
            since: time("since", false)?,
            until: time("until", true)?,
        })
    }

    /// Whether `e` passes.
    pub fn matches(&self, e: &Entry) -> bool {
        (self.user.is_empty() || e.user == self.user)
            && (self.queue.is_empty() || e.queue.as_deref() == Some(self.queue.as_str()))
            && (self.action.is_empty()
                || e.action == self.action
                || e.action.split([':', '-']).any(|p| p == self.action))
    }

    /// The query string of this filter (for links to other pages and the exports).
    pub fn query(&self) -> String {
        let mut q = Vec::new();
        for (k, v) in [
            ("user", &self.user),
            ("action", &self.action),
            ("queue", &self.queue),
        ] {
            if !v.is_empty() {
                q.push((k, v.clone()));
            }
        }
        for (k, v) in [("since", self.since), ("until", self.until)] {
            if let Some(ms) = v.and_then(|ms| Utc.timestamp_millis_opt(ms as i64).single()) {
                q.push((k, rfc3339(ms)));
            }
        }
        serde_urlencoded::to_string(q).unwrap_or_default()
    }
}

/// A page of entries, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// The entries.
    pub entries: Vec<Entry>,
    /// Where the next (older) page starts: an exclusive stream id, when there may be more.
    pub next: Option<String>,
    /// How many entries were read to find these.
    pub scanned: usize,
}

/// Up to `limit` entries of instance `n`'s trail that pass `filter`, newest first, older than
/// `before` (a stream id, exclusive) when given.
///
/// # Errors
/// When Redis does not answer.
pub async fn read(
    repo: &Repository,
    n: usize,
    filter: &Filter,
    before: Option<&str>,
    limit: usize,
) -> Result<Page, RepoError> {
    let mut end = match (before, filter.until) {
        (Some(b), _) => format!("({b}"),
        (None, Some(u)) => u.to_string(),
        (None, None) => "+".to_string(),
    };
    if let (Some(b), Some(u)) = (before.and_then(id_ms), filter.until) {
        if u < b {
            end = u.to_string();
        }
    }
    let start = filter.since.map_or("-".to_string(), |s| s.to_string());
    let mut page = Page::default();
    loop {
        let batch = repo.read_audit(&end, &start, BATCH).await?;
        let full = batch.len() == BATCH;
        for (id, h) in batch {
            page.scanned += 1;
            end = format!("({id}");
            let e = Entry::from_stream(id, &h, n);
            if filter.matches(&e) {
                page.entries.push(e);
                if page.entries.len() == limit {
                    page.next = Some(page.entries[limit - 1].id.clone());
                    return Ok(page);
                }
            }
        }
        if !full {
            return Ok(page);
        }
        if page.scanned >= SCAN_LIMIT {
            page.next = Some(end.trim_start_matches('(').to_string());
            return Ok(page);
        }
    }
}

/// The columns of `audit.csv`, in order.
pub const CSV_COLUMNS: [&str; 14] = [
    "time", "user", "roles", "groups", "address", "action", "instance", "queue", "target", "count",
    "outcome", "status", "task", "message",
];

/// A cell that a spreadsheet would take for a formula gets a leading `'`.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// `entries` as CSV, with a header row ([`CSV_COLUMNS`]).
pub fn csv(entries: &[Entry]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(CSV_COLUMNS);
    for e in entries {
        let row = [
            e.time.clone(),
            e.user.clone(),
            e.roles.join(","),
            e.groups.join(","),
            e.address.clone(),
            e.action.clone(),
            e.instance.to_string(),
            e.queue.clone().unwrap_or_default(),
            e.target.clone(),
            e.count.map(|c| c.to_string()).unwrap_or_default(),
            e.outcome.clone(),
            e.status.to_string(),
            e.task.map(|t| t.to_string()).unwrap_or_default(),
            e.message.clone(),
        ];
        let _ = w.write_record(row.iter().map(|c| cell(c)));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_every_documented_form() {
        assert_eq!(parse_time("1700000000", false).unwrap(), 1_700_000_000_000);
        let day = parse_time("2026-12-07", false).unwrap();
        assert_eq!(parse_time("2026-12-07", true).unwrap(), day + 86_399_999);
        assert_eq!(parse_time("2026-12-07T00:00", false).unwrap(), day);
        assert_eq!(parse_time("2026-12-07T01:00:00+01:00", false).unwrap(), day);
        assert!(parse_time("yesterday", false)
            .unwrap_err()
            .contains("not a time"));
    }

    #[test]
    fn filters_match_exact_users_and_queues_and_action_parts() {
        let e = Entry {
            user: "ann".into(),
            action: "search:requeue".into(),
            queue: Some("eu-1".into()),
            ..Entry::default()
        };
        let f = |user: &str, action: &str, queue: &str| Filter {
            user: user.into(),
            action: action.into(),
            queue: queue.into(),
            ..Filter::default()
        };
        assert!(f("", "", "").matches(&e));
        assert!(f("ann", "requeue", "eu-1").matches(&e));
        assert!(f("", "search:requeue", "").matches(&e));
        assert!(!f("an", "", "").matches(&e));
        assert!(!f("", "requ", "").matches(&e));
        assert!(!f("", "", "eu").matches(&e));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let e = Entry {
            user: "=cmd()".into(),
            message: "a, \"b\"\nc".into(),
            ..Entry::default()
        };
        let text = csv(&[e]);
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let row = r.records().next().unwrap().unwrap();
        assert_eq!(&row[1], "'=cmd()");
        assert_eq!(&row[13], "a, \"b\"\nc");
    }
}
