//! Webhook delivery, shared by the alerts ([`crate::alerts`]) and the audit trail
//! ([`crate::audit`]): one thread per webhook with a bounded queue ([`QUEUE`] messages; past
//! that a message is dropped and logged). Each POST of JSON has a [`TIMEOUT`] and is tried up to
//! [`ATTEMPTS`] times with doubling pauses from one second, so a webhook that hangs or fails
//! delays only its own later messages. A webhook's URL is logged as its host only (Slack,
//! Mattermost and Discord keep the token in the path).

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::time::Duration;

/// How long one POST may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// How many times a message is tried.
pub const ATTEMPTS: u32 = 5;
/// How many messages wait for one webhook at most.
pub const QUEUE: usize = 1000;

/// Webhooks, each with its delivery thread.
pub struct Webhooks {
    hooks: Vec<(String, SyncSender<String>)>,
    what: &'static str,
}

impl Webhooks {
    /// Starts a delivery thread for each of `urls`; `what` (`alerts`, `audit`) names them in
    /// the log.
    pub fn new(urls: &[String], what: &'static str) -> Webhooks {
        let hooks = urls
            .iter()
            .map(|url| {
                let (tx, rx) = sync_channel::<String>(QUEUE);
                let u = url.clone();
                std::thread::Builder::new()
                    .name("rqdash-webhook".into())
                    .spawn(move || deliver(&u, what, rx))
                    .expect("a thread for a webhook");
                (url.clone(), tx)
            })
            .collect();
        Webhooks { hooks, what }
    }

    /// How many webhooks there are.
    pub fn len(&self) -> usize {
        self.hooks.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// Queues `json` for every webhook; how many took it.
    pub fn send(&self, json: &str) -> usize {
        let mut n = 0;
        for (url, tx) in &self.hooks {
            let shown = crate::config::access::mask_webhook(url);
            match tx.try_send(json.to_string()) {
                Ok(()) => n += 1,
                Err(TrySendError::Full(_)) => {
                    tracing::warn!(webhook = %shown, "{}: the webhook's queue is full; a message was dropped", self.what)
                }
                Err(TrySendError::Disconnected(_)) => {
                    tracing::warn!(webhook = %shown, "{}: the webhook's thread has ended", self.what)
                }
            }
        }
        n
    }
}

/// The HTTP client of the dashboard's outgoing calls (webhooks, the OpenID provider): native
/// TLS, `timeout` for a whole call. For `oauth`, a redirect is answered as it is (never
/// followed: no request is sent where a provider's answer points) and every status is an
/// answer, not an error.
pub fn agent(timeout: Duration, oauth: bool) -> ureq::Agent {
    use ureq::tls::{TlsConfig, TlsProvider};
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .tls_config(
            TlsConfig::builder()
                .provider(TlsProvider::NativeTls)
                .build(),
        );
    if oauth {
        config = config.max_redirects(0).http_status_as_error(false);
    }
    config.build().into()
}

/// Posts every message of `rx` to `url`, each tried up to [`ATTEMPTS`] times.
fn deliver(url: &str, what: &str, rx: std::sync::mpsc::Receiver<String>) {
    let agent = agent(TIMEOUT, false);
    let shown = crate::config::access::mask_webhook(url);
    for body in rx {
        let mut pause = Duration::from_secs(1);
        for attempt in 1..=ATTEMPTS {
            let r = agent
                .post(url)
                .header("Content-Type", "application/json")
                .send(body.as_bytes());
            match r {
                Ok(_) => break,
                Err(e) if attempt == ATTEMPTS => {
                    tracing::warn!(webhook = %shown, error = %e, attempts = ATTEMPTS, "{what}: a message could not be delivered; it is dropped");
                }
                Err(e) => {
                    tracing::info!(webhook = %shown, error = %e, attempt, "{what}: webhook failed; trying again");
                    std::thread::sleep(pause);
                    pause *= 2;
                }
            }
        }
    }
}
