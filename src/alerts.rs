//! Alerts: each health problem is sent to the webhooks (`--alert-webhook`) once when it starts
//! and once when it is resolved, as a JSON POST that Slack and Mattermost show as it is (`text`).
//!
//! - **When**: every instance's background loop ([`crate::startup`]) evaluates the rules every
//!   `--alert-interval`, whether or not anyone has a page open, and hands the problems to
//!   [`Alerts::observe`]. Pages never wait for it.
//! - **Once**: the problems announced and not yet resolved are kept in Redis under the
//!   dashboard's own key ([`crate::rq::keys::Keys::dash_alerts_open`]), so a restart or another
//!   replica repeats nothing. Only the replica that holds the `alerts` lease sends; the others
//!   stay quiet. Where Redis refuses the dashboard's writes (a read-only user, a replica) each
//!   replica keeps that set in its own memory and sends by itself, as the issue asks.
//! - **Delivery**: by [`crate::webhooks`]: a thread per webhook with a bounded queue, each POST
//!   tried a few times, so a webhook that hangs or fails delays only its own later notices.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::health::{Problem, Severity};
use crate::rq::Repository;
use crate::webhooks::Webhooks;

/// How long the alert lease lasts at least unless renewed (renewed every round; it lasts three
/// rounds when they are longer apart).
pub const LEASE: Duration = Duration::from_secs(60);
/// The rules that keep what they know in the process's memory: a new process waits
/// [`crate::config::ALERT_WARM_UP`] (`failure_rate` wants 30 minutes of history) before their
/// silence means "resolved".
pub const MEMORY_RULES: [&str; 5] = [
    "failure_rate",
    "failure_burst",
    "worker_not_taking_jobs",
    "maintenance_behind",
    "intermediate_stuck",
];

/// What a webhook receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `started` or `resolved`.
    pub status: String,
    /// The rule (see [`crate::health::RULES`]).
    pub rule: String,
    /// `warning` or `critical`.
    pub severity: Severity,
    /// What is (or was) wrong, in a sentence.
    pub message: String,
    /// The queue it concerns.
    pub queue: Option<String>,
    /// The worker it concerns.
    pub worker: Option<String>,
    /// The job it concerns.
    pub job: Option<String>,
    /// Since when it has been seen.
    pub since: Option<DateTime<Utc>>,
    /// When it was seen gone (for `resolved`).
    pub resolved_at: Option<DateTime<Utc>>,
    /// The dashboard instance (the index of its `--redis-url`).
    pub instance: usize,
    /// The dashboard page that shows it.
    pub link: String,
    /// One line for chat tools (Slack, Mattermost show it as it is).
    pub text: String,
}

impl Notice {
    fn started(p: &Problem, instance: usize, link: String) -> Notice {
        let what = p
            .queue
            .as_deref()
            .map(|q| format!(" (queue {q})"))
            .unwrap_or_default();
        Notice {
            status: "started".into(),
            rule: p.rule.to_string(),
            severity: p.severity,
            message: p.message.clone(),
            queue: p.queue.clone(),
            worker: p.worker.clone(),
            job: p.job.clone(),
            since: p.since,
            resolved_at: None,
            instance,
            text: format!(
                "[rqdash {}] {}{what}: {} {link}",
                p.severity.as_str(),
                p.rule,
                p.message
            ),
            link,
        }
    }

    fn resolved(mut self, now: DateTime<Utc>) -> Notice {
        self.status = "resolved".into();
        self.resolved_at = Some(now);
        self.text = format!(
            "[rqdash resolved] {}: {} {}",
            self.rule, self.message, self.link
        );
        self
    }
}

/// The webhooks and what has been announced.
pub struct Alerts {
    hooks: Webhooks,
    /// This process's id, for the lease.
    holder: String,
    /// Where links point: the dashboard's public address and URL prefix.
    public_url: String,
    /// Per instance, the announced and unresolved problems when Redis keeps none.
    memory: Mutex<HashMap<usize, HashMap<String, String>>>,
    /// Per instance, whether the fallback to memory was logged.
    said: Mutex<HashMap<usize, bool>>,
    /// How long the lease lasts.
    lease: Duration,
    /// When this process began, and how long its memory-kept rules need
    /// ([`crate::config::ALERT_WARM_UP`] unless the settings say otherwise).
    born: std::time::Instant,
    warm_up: Duration,
}

impl std::fmt::Debug for Alerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerts")
            .field("hooks", &self.hooks.len())
            .field("holder", &self.holder)
            .finish()
    }
}

impl Alerts {
    /// Starts one delivery thread per webhook URL; links point under `public_url`; rounds come
    /// every `interval`; memory-kept rules resolve nothing for `warm_up` after start.
    pub fn new(urls: &[String], public_url: &str, interval: Duration, warm_up: Duration) -> Alerts {
        let mut id = [0u8; 8];
        let _ = getrandom::fill(&mut id);
        let hooks = Webhooks::new(urls, "alerts");
        Alerts {
            hooks,
            holder: id.iter().map(|b| format!("{b:02x}")).collect(),
            public_url: public_url.trim_end_matches('/').to_string(),
            memory: Mutex::new(HashMap::new()),
            said: Mutex::new(HashMap::new()),
            lease: LEASE.max(interval * 3),
            born: std::time::Instant::now(),
            warm_up,
        }
    }

    /// Whether any webhook is configured.
    pub fn enabled(&self) -> bool {
        !self.hooks.is_empty()
    }

    /// Announces the problems of instance `n` that started since the last call and the ones
    /// resolved meanwhile (see the module doc for who sends). Returns how many notices were
    /// queued.
    pub async fn observe(&self, n: usize, repo: &Repository, problems: &[Problem]) -> usize {
        if !self.enabled() {
            return 0;
        }
        let now = Utc::now();
        let shared = match repo.take_lease("alerts", &self.holder, self.lease).await {
            Ok(true) => match repo.open_alerts().await {
                Ok(open) => {
                    if let Ok(mut m) = self.memory.lock() {
                        m.remove(&n);
                    }
                    Some(open)
                }
                Err(_) => return 0, // Redis is not answering: decide nothing now.
            },
            Ok(false) => return 0, // another replica sends
            // Only a refused write means "no shared state here"; a timeout or a lost
            // connection decides nothing this round.
            Err(e) if !e.is_refused_write() => return 0,
            Err(e) => {
                let first = self
                    .said
                    .lock()
                    .map(|mut s| !s.insert(n, true).unwrap_or(false))
                    .unwrap_or(false);
                if first {
                    tracing::warn!(instance = n, error = %e, "alerts: Redis refuses the dashboard's lease; this replica sends alerts by itself and remembers them in memory");
                }
                None
            }
        };
        let open = match &shared {
            Some(o) => o.clone(),
            None => self
                .memory
                .lock()
                .map(|m| m.get(&n).cloned().unwrap_or_default())
                .unwrap_or_default(),
        };
        let link = format!("{}/{n}/view/health", self.public_url);
        let mut opened = Vec::new();
        let mut sent = 0;
        for p in problems {
            let key = p.key();
            if open.contains_key(&key)
                || opened.len() + open.len() >= crate::rq::repository::dash::MAX_OPEN_ALERTS
            {
                continue;
            }
            let notice = Notice::started(p, n, link.clone());
            let json = serde_json::to_string(&notice).unwrap_or_default();
            sent += self.send(&json);
            opened.push((key, json));
        }
        let current: std::collections::HashSet<String> =
            problems.iter().map(Problem::key).collect();
        let mut closed = Vec::new();
        let warm = self.born.elapsed() >= self.warm_up;
        for (key, json) in &open {
            if current.contains(key) {
                continue;
            }
            // A new process's memory-kept rules are silent until they have learnt enough.
            let rule = key.split('|').next().unwrap_or("");
            if !warm && MEMORY_RULES.contains(&rule) {
                continue;
            }
            if let Ok(notice) = serde_json::from_str::<Notice>(json) {
                sent +=
                    self.send(&serde_json::to_string(&notice.resolved(now)).unwrap_or_default());
            }
            closed.push(key.clone());
        }
        if opened.is_empty() && closed.is_empty() {
            return 0;
        }
        match shared {
            Some(_) => {
                if let Err(e) = repo.update_open_alerts(&opened, &closed).await {
                    tracing::warn!(instance = n, error = %e, "alerts: could not record what was announced; it may be announced again");
                }
            }
            None => {
                if let Ok(mut m) = self.memory.lock() {
                    let mine = m.entry(n).or_default();
                    for k in &closed {
                        mine.remove(k);
                    }
                    mine.extend(opened);
                }
            }
        }
        sent
    }

    /// Queues `json` for every webhook; how many took it.
    fn send(&self, json: &str) -> usize {
        self.hooks.send(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refused_write_means_no_shared_state() {
        use crate::rq::RepoError;
        let ro = RepoError::Redis(
            "r".into(),
            "READONLY You can't write against a read only replica.".into(),
        );
        let acl = RepoError::Redis("r".into(), "NOPERM this user has no permissions".into());
        assert!(ro.is_refused_write() && acl.is_refused_write());
        assert!(!RepoError::Timeout("r".into(), 2000).is_refused_write());
        assert!(!RepoError::Unavailable("r".into(), "refused".into()).is_refused_write());
    }

    #[test]
    fn a_notice_says_what_and_where_and_its_resolution_keeps_it() {
        let p = Problem {
            rule: "queue_without_worker",
            severity: Severity::Critical,
            message: "3 jobs waiting in “x”".into(),
            queue: Some("x".into()),
            worker: None,
            job: None,
            since: Some(Utc::now()),
            subject: None,
            text: None,
        };
        let n = Notice::started(&p, 0, "http://h/0/view/health".into());
        assert_eq!(n.status, "started");
        assert!(
            n.text.contains("critical")
                && n.text.contains("3 jobs waiting")
                && n.text.contains("http://h/0/view/health"),
            "{}",
            n.text
        );
        let json = serde_json::to_string(&n).unwrap();
        let back: Notice = serde_json::from_str(&json).unwrap();
        let r = back.resolved(Utc::now());
        assert_eq!(r.status, "resolved");
        assert_eq!(r.queue.as_deref(), Some("x"));
        assert!(r.resolved_at.is_some() && r.text.starts_with("[rqdash resolved]"));
    }
}
