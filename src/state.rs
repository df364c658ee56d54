//! Application state shared by all handlers, built once at start-up: the settings, one repository
//! per Redis instance, the bulk tasks, rendered answers and the count history. It holds data and
//! builds no views; what depends on the request (links, permissions) is worked out per request by
//! [`crate::http::extract`].

use std::sync::Arc;

use crate::config::Settings;
use crate::error::{AppError, Missing};
use crate::history::History;
use crate::render_cache::RenderCache;
use crate::rq::{Keys, Repository};
use crate::search::Searches;
use crate::tasks::Tasks;

/// Built once at start-up; handlers get it through the extractors.
#[derive(Debug)]
pub struct AppState {
    /// The validated settings.
    pub settings: Settings,
    /// One repository per `--redis-url`, in order.
    pub instances: Vec<Arc<Repository>>,
    /// Bulk tasks of this process.
    pub tasks: Tasks,
    /// Searches of this process (shared scans, kept briefly).
    pub searches: Searches,
    /// The key of the anti-CSRF tokens forms and htmx requests carry: derived from
    /// `--secret-key` (the same on every replica), else random per process.
    csrf_key: Vec<u8>,
    /// Answers rendered from the shared snapshot.
    pub renders: RenderCache,
    /// Count history per instance.
    pub history: Vec<History>,
    /// Since when each health problem has been seen.
    pub problems: crate::health::Tracker,
    /// What the failure-burst rule has learnt.
    pub bursts: crate::failure_watch::Bursts,
    /// What the stall rules remember.
    pub stalls: crate::stall_watch::StallWatch,
    /// The alert webhooks.
    pub alerts: crate::alerts::Alerts,
    /// The audit trail.
    pub audit: crate::audit::Audit,
}

/// The anti-CSRF key replicas sharing `secret` all derive: the same for each, across restarts.
fn key_from_secret(secret: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"rqdash csrf key v2\0");
    h.update(secret.as_bytes());
    h.finalize().to_vec()
}

/// The anti-CSRF token of `user` (`None`: anonymous) under `key`: an HMAC, so a token taken
/// from one user's page is worthless to another, and nobody without the key can make one.
pub fn csrf_token_under(key: &[u8], user: Option<&str>) -> String {
    use hmac::{Mac, SimpleHmac};
    let Ok(mut mac) = SimpleHmac::<sha2::Sha256>::new_from_slice(key) else {
        unreachable!("HMAC takes a key of any length")
    };
    mac.update(b"form\0");
    match user {
        Some(u) => {
            mac.update(b"user\0");
            mac.update(u.as_bytes());
        }
        None => mac.update(b"anonymous"),
    }
    mac.finalize().into_bytes()[..20]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// This process's name for leases: its host name and port (unique among live replicas; the
/// same after a restart in place).
fn lease_holder(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    format!("{}:{port}", host.trim())
}

/// Returns 32 random hex characters from the operating system.
fn random_key() -> Vec<u8> {
    let mut buf = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut buf) {
        // Without OS randomness the token would be guessable: refuse to make one up.
        panic!("the operating system gave no random bytes for the security token: {e}");
    }
    buf.to_vec()
}

impl AppState {
    /// The anti-CSRF token of `user`'s forms (`None`: anonymous).
    pub fn csrf_token(&self, user: Option<&str>) -> String {
        csrf_token_under(&self.csrf_key, user)
    }

    /// Builds the state; nothing connects yet.
    ///
    /// # Errors
    /// When a Redis URL is invalid (already checked by `Settings`).
    pub fn new(settings: Settings) -> Result<AppState, String> {
        let keys = Keys::new(&settings.key_prefix);
        let instances = settings
            .redis
            .iter()
            .map(|t| {
                Repository::new(
                    &t.url,
                    t.label.clone(),
                    keys.clone(),
                    settings.redis_timeout,
                    settings.json,
                )
                .map(|r| {
                    Arc::new(
                        r.with_rq_major(settings.rq_version)
                            .with_snapshot_ttl(settings.snapshot_ttl)
                            .with_redactor(settings.redactor.clone()),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let history = instances
            .iter()
            .map(|_| History::new(settings.history_in_redis, lease_holder(settings.port)))
            .collect();
        let public_url = settings.public_url.clone().unwrap_or_else(|| {
            let host = match settings.bind.as_str() {
                "0.0.0.0" | "::" | "" => std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|h| h.trim().to_string())
                    .unwrap_or_else(|_| "localhost".into()),
                b => b.to_string(),
            };
            format!("http://{host}:{}{}", settings.port, settings.url_prefix)
        });
        let alerts = crate::alerts::Alerts::new(
            &settings.alert_webhooks,
            &public_url,
            settings.alert_interval,
            settings.alert_warm_up,
        );
        let csrf_key = match &settings.secret_key {
            Some(s) => key_from_secret(&s.0),
            None => {
                tracing::info!("no --secret-key: this dashboard's forms work only with this process; give replicas one shared secret so each accepts the others' forms and a restart keeps open pages working");
                random_key()
            }
        };
        let audit = crate::audit::Audit::new(&settings);
        Ok(AppState {
            settings,
            instances,
            tasks: Tasks::default(),
            searches: Searches::default(),
            csrf_key,
            renders: RenderCache::default(),
            history,
            problems: Default::default(),
            bursts: Default::default(),
            stalls: Default::default(),
            alerts,
            audit,
        })
    }

    /// Returns instance `n`.
    ///
    /// # Errors
    /// `NotFound` when there is no such instance.
    pub fn instance(&self, n: usize) -> Result<&Arc<Repository>, AppError> {
        self.instances.get(n).ok_or_else(|| {
            AppError::NotFound(
                Missing::Instance,
                format!(
                    "there is no Redis instance #{n}: this dashboard has {} (numbered from 0)",
                    self.instances.len()
                ),
            )
        })
    }

    /// Poll interval in milliseconds.
    pub fn poll_ms(&self) -> u64 {
        self.settings.poll_interval.as_millis() as u64
    }
}
