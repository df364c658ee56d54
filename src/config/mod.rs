//! Command-line flags and environment variables, compatible with rq-dashboard, validated once
//! into [`Settings`].
//!
//! Every flag also reads `RQ_DASHBOARD_<FLAG>` (e.g. `RQ_DASHBOARD_REDIS_URL`), as rq-dashboard's
//! click options do. Invalid configuration is reported as one line by `main`.

use clap::Parser;
use std::time::Duration;

pub mod access;
mod cli;

pub use access::mask_url;
pub use cli::{Cli, Command};
pub mod policy;
pub mod users;
pub mod watched;

/// How long a new process waits before the silence of the rules that keep what they know in its
/// memory ([`crate::alerts::MEMORY_RULES`]) resolves an alert: `failure_rate` wants 30 minutes of
/// history. The default of [`Settings::alert_warm_up`].
pub const ALERT_WARM_UP: Duration = Duration::from_secs(35 * 60);

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One Redis instance to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTarget {
    /// The URL as given (may hold a password: never show it).
    pub url: String,
    /// The URL with credentials masked, for display.
    pub label: String,
}

/// Basic-auth credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.username)
    }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Redis instances, in the order given.
    pub redis: Vec<RedisTarget>,
    /// Listen address.
    pub bind: String,
    /// Listen port (0 picks a free one, for tests).
    pub port: u16,
    /// URL prefix: empty, or `/a/b` without a trailing slash.
    pub url_prefix: String,
    /// Basic auth, when enabled.
    pub auth: Option<Credentials>,
    /// The read-only credential, when set.
    pub readonly_auth: Option<Credentials>,
    /// The trusted user-name header, when set.
    pub auth_header: Option<String>,
    /// The trusted proxy's groups header (`--groups-header`), when set.
    pub groups_header: Option<String>,
    /// Roles (`--policy`), when set.
    pub policy: Option<std::sync::Arc<watched::Watched<policy::Policy>>>,
    /// What redaction hides (`--redact-key`, `--redact-pattern`; inactive without them).
    pub redactor: std::sync::Arc<crate::redact::Redactor>,
    /// Local users (`--users-file`), when set.
    pub users: Option<std::sync::Arc<users::UsersFile>>,
    /// Single sign-on (`--oidc-issuer`), when set.
    pub oidc: Option<std::sync::Arc<crate::oidc::Oidc>>,
    /// /healthz and /metrics need no authentication.
    pub public_probes: bool,
    /// Trust X-Forwarded-Prefix, X-Forwarded-For and the auth header, from the trusted proxies.
    pub trust_proxy: bool,
    /// The proxies whose forwarded headers are believed (`--trusted-proxies`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Host names answered to besides localhost, IP addresses, the bind name and the public
    /// URL's host (`--allowed-hosts`).
    pub allowed_hosts: Vec<String>,
    /// `text` or `json` logs.
    pub log_json: bool,
    /// Poll interval of the live parts.
    pub poll_interval: Duration,
    /// Destructive actions refused.
    pub disable_delete: bool,
    /// All actions refused.
    pub read_only: bool,
    /// RQ key prefix.
    pub key_prefix: String,
    /// Try JSON before pickle.
    pub json: bool,
    /// Timeout of each Redis call.
    pub redis_timeout: Duration,
    /// RQ major version forced by `--rq-version`.
    pub rq_version: Option<u8>,
    /// How long an overview snapshot is shared.
    pub snapshot_ttl: Duration,
    /// HTTP worker threads.
    pub http_workers: usize,
    /// Log every request.
    pub verbose: bool,
    /// The secret replicas share (`--secret-key`), if given.
    pub secret_key: Option<Secret>,
    /// Health rules' thresholds and silences.
    pub thresholds: crate::health::Thresholds,
    /// Webhooks that hear problems start and end.
    pub alert_webhooks: Vec<String>,
    /// Where audit-trail entries are forwarded (`--audit-webhook`).
    pub audit_webhooks: Vec<String>,
    /// The most entries the audit trail keeps (`--audit-max-entries`).
    pub audit_max_entries: u64,
    /// How long the audit trail keeps an entry (`--audit-max-days`).
    pub audit_max_age: Duration,
    /// How often the rules run in the background.
    pub alert_interval: Duration,
    /// The dashboard's public address for links, when given.
    pub public_url: Option<String>,
    /// Whether the history is kept in Redis (`--history redis`).
    pub history_in_redis: bool,
    /// How often the history counts.
    pub history_interval: Duration,
    /// How long a new process waits before its memory-kept rules' silence resolves an alert
    /// ([`ALERT_WARM_UP`]; tests shorten it).
    pub alert_warm_up: Duration,
}

/// The path of an `http(s)://` URL, without a trailing slash (`/dash` of
/// `https://rq.example.com/dash/`; empty for the root).
fn url_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("");
    path.trim_end_matches('/').to_string()
}

/// The single sign-on settings (`--oidc-*`), checked: an issuer needs a client id, a public URL
/// (for the redirect) and a secret key (for the session cookie).
fn oidc_from_cli(
    cli: &Cli,
    secret: Option<&Secret>,
    public_url: Option<&str>,
) -> Result<Option<std::sync::Arc<crate::oidc::Oidc>>, String> {
    let Some(issuer) = cli
        .oidc_issuer
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty())
    else {
        return Ok(None);
    };
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
        return Err(format!(
            "invalid --oidc-issuer {issuer:?}: give the provider's issuer URL, like https://login.example.com/realms/ops"
        ));
    }
    let client_id = cli
        .oidc_client_id
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or("--oidc-issuer needs --oidc-client-id: the id this dashboard is registered under at the provider")?;
    let public_url = public_url.ok_or(
        "--oidc-issuer needs --public-url: the address users open (the provider sends them back to <public url>/auth/callback)",
    )?;
    let secret = secret.ok_or(
        "--oidc-issuer needs --secret-key: it seals the session cookie, so every replica and a restart accept it",
    )?;
    let client_secret = match (&cli.oidc_client_secret, &cli.oidc_client_secret_file) {
        (_, Some(f)) => Some(
            std::fs::read_to_string(f)
                .map(|s| s.trim().to_string())
                .map_err(|e| {
                    format!("cannot read --oidc-client-secret-file {}: {e}", f.display())
                })?,
        ),
        (s, None) => s.clone(),
    }
    .filter(|s| !s.is_empty());
    if !(1..=24 * 90).contains(&cli.oidc_session_hours) {
        return Err("--oidc-session-hours must be between 1 and 2160 (90 days)".into());
    }
    let scopes = cli
        .oidc_scopes
        .split([' ', ','])
        .filter(|s| !s.is_empty() && *s != "openid")
        .map(str::to_string)
        .collect();
    let cfg = crate::oidc::Config {
        issuer: issuer.to_string(),
        client_id,
        client_secret,
        groups_claim: cli.oidc_groups_claim.trim().to_string(),
        scopes,
        session: Duration::from_secs(cli.oidc_session_hours * 3600),
        public_url: public_url.to_string(),
        cookie_path: url_path(public_url),
    };
    Ok(Some(std::sync::Arc::new(crate::oidc::Oidc::new(
        cfg, &secret.0,
    ))))
}

impl Settings {
    /// Validates the command line.
    ///
    /// # Errors
    /// One line saying what is wrong and how to fix it.
    pub fn from_cli(cli: Cli) -> Result<Settings, String> {
        let urls: Vec<String> = cli
            .redis_url
            .iter()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        if urls.is_empty() {
            return Err("--redis-url is empty: give at least one Redis URL".into());
        }
        let mut redis = Vec::new();
        for url in urls {
            let label = mask_url(&url);
            match crate::rq::repository::sentinel::parse(&url) {
                Some(r) => {
                    r.map_err(|e| format!("invalid --redis-url {label}: {e}"))?;
                }
                None => {
                    redis::Client::open(url.as_str())
                        .map_err(|e| format!("invalid --redis-url {label}: {e}"))?;
                }
            }
            redis.push(RedisTarget { url, label });
        }
        let mut prefix = cli.url_prefix.trim().trim_end_matches('/').to_string();
        if !prefix.is_empty() && !prefix.starts_with('/') {
            prefix.insert(0, '/');
        }
        if prefix.contains(['?', '#', ' ', '"', '\'', '<', '>']) {
            return Err(format!(
                "invalid --url-prefix {prefix:?}: use a plain path like /rq"
            ));
        }
        let read_file = |p: &std::path::Path, flag: &str| -> Result<String, String> {
            std::fs::read_to_string(p)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| format!("cannot read {flag} {}: {e}", p.display()))
        };
        let secret_key = match (&cli.secret_key, &cli.secret_key_file) {
            (_, Some(f)) => Some(read_file(f, "--secret-key-file")?),
            (s, None) => s.clone(),
        };
        if let Some(s) = &secret_key {
            if s.chars().count() < 16 {
                return Err("--secret-key must be at least 16 characters long: make a random one, e.g. `openssl rand -hex 32`".into());
            }
        }
        let secret_key = secret_key.map(Secret);
        let mut thresholds = crate::health::Thresholds::default();
        if let Some(f) = &cli.alert_rules {
            let text = std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read --alert-rules {}: {e}", f.display()))?;
            thresholds
                .apply_toml(&text)
                .map_err(|e| format!("--alert-rules {}: {e}", f.display()))?;
        }
        for v in cli.alert_oldest_queued.iter().filter(|v| !v.is_empty()) {
            let (queue, secs) = match v.rsplit_once('=') {
                Some((q, s)) => (Some(q), s),
                None => (None, v.as_str()),
            };
            let secs: i64 = secs.trim().parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                format!("invalid --alert-oldest-queued “{v}”: give seconds, or QUEUE=SECONDS")
            })?;
            match queue {
                Some(q) => {
                    thresholds
                        .oldest_queued_by_queue
                        .insert(q.to_string(), secs);
                }
                None => thresholds.oldest_queued_secs = secs,
            }
        }
        for r in cli.alert_disable.iter().filter(|r| !r.is_empty()) {
            if !crate::health::RULES.contains(&r.as_str()) {
                return Err(format!(
                    "unknown rule “{r}” in --alert-disable: use one of {}",
                    crate::health::RULES.join(", ")
                ));
            }
            thresholds.disabled.push(r.clone());
        }
        let alert_webhooks: Vec<String> = cli
            .alert_webhook
            .iter()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        let audit_webhooks: Vec<String> = cli
            .audit_webhook
            .iter()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        for (flag, urls) in [
            ("--alert-webhook", &alert_webhooks),
            ("--audit-webhook", &audit_webhooks),
        ] {
            for u in urls {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(format!(
                        "invalid {flag} {}: give an http:// or https:// URL",
                        mask_url(u)
                    ));
                }
            }
        }
        if !(100..=10_000_000).contains(&cli.audit_max_entries) {
            return Err("--audit-max-entries must be between 100 and 10,000,000".into());
        }
        if !(1..=3650).contains(&cli.audit_max_days) {
            return Err("--audit-max-days must be between 1 and 3650".into());
        }
        if !(1..=60).contains(&cli.history_interval) {
            return Err("--history-interval must be between 1 and 60 seconds".into());
        }
        if !(1..=3600).contains(&cli.alert_interval) {
            return Err("--alert-interval must be between 1 and 3600 seconds".into());
        }
        let public_url = cli
            .public_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        if let Some(u) = &public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(format!(
                    "invalid --public-url {u:?}: give the address users open, like https://rq.example.com"
                ));
            }
        }
        let oidc = oidc_from_cli(&cli, secret_key.as_ref(), public_url.as_deref())?;
        let password = match (&cli.password, &cli.password_file) {
            (_, Some(f)) => Some(read_file(f, "--password-file")?),
            (p, None) => p.clone(),
        };
        let auth = match (cli.username, password) {
            (Some(u), Some(p)) if !u.is_empty() => Some(Credentials {
                username: u,
                password: p,
            }),
            (Some(_), None) | (None, Some(_)) => {
                return Err("--username and --password must be given together".into())
            }
            _ => None,
        };
        let ro_password = match (&cli.readonly_password, &cli.readonly_password_file) {
            (_, Some(f)) => Some(read_file(f, "--readonly-password-file")?),
            (p, None) => p.clone(),
        };
        let readonly_auth = match (cli.readonly_username, ro_password) {
            (Some(u), Some(p)) if !u.is_empty() => Some(Credentials {
                username: u,
                password: p,
            }),
            (Some(_), None) | (None, Some(_)) => {
                return Err(
                    "--readonly-username and --readonly-password must be given together".into(),
                )
            }
            _ => None,
        };
        let redactor = std::sync::Arc::new(crate::redact::Redactor::new(
            &cli.redact_key,
            &cli.redact_pattern,
        )?);
        let policy = match &cli.policy {
            Some(p) => {
                let w = watched::Watched::open(p, "policy", policy::parse)?;
                if w.get().limits_view() {
                    tracing::info!("--policy: a role limits `view` to some queues; pages that mix every queue's data (groups, cron, rate limits, tasks, /metrics) are refused to its users");
                }
                Some(std::sync::Arc::new(w))
            }
            None => None,
        };
        let users = match &cli.users_file {
            Some(p) => Some(users::UsersFile::open(p)?),
            None => None,
        };
        if readonly_auth.is_some() && auth.is_none() && users.is_none() {
            return Err("--readonly-username needs --username/--password as well (otherwise everyone may act anyway)".into());
        }
        if readonly_auth
            .as_ref()
            .zip(auth.as_ref())
            .is_some_and(|(r, a)| r.username == a.username)
        {
            return Err("--readonly-username must differ from --username".into());
        }
        let auth_header = cli.auth_header.filter(|h| !h.trim().is_empty());
        if auth_header.is_some() && !cli.trust_proxy {
            return Err("--auth-header believes a header your proxy sets: add --trust-proxy (and --trusted-proxies with the proxy's address when it is not on this host), and make the proxy overwrite the header".into());
        }
        let trusted_proxies = access::parse_proxies(&cli.trusted_proxies)?;
        let allowed_hosts = access::parse_hosts(&cli.allowed_hosts)?;
        let groups_header = cli.groups_header.filter(|h| !h.trim().is_empty());
        for h in auth_header.iter().chain(groups_header.iter()) {
            if actix_web::http::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
                return Err(format!(
                    "invalid header name {h:?} (--auth-header or --groups-header): give one like X-Forwarded-User"
                ));
            }
        }
        let log_json = match cli.log_format.as_str() {
            "text" => false,
            "json" => true,
            other => return Err(format!("invalid --log-format {other:?}: use text or json")),
        };
        if cli.poll_interval < 250 {
            return Err(format!(
                "--poll-interval {} is too short: use at least 250 ms",
                cli.poll_interval
            ));
        }
        if cli.redis_timeout == 0 || cli.redis_timeout > 60_000 {
            return Err("--redis-timeout must be between 1 and 60000 ms".into());
        }
        let key_prefix = cli.key_prefix.trim().to_string();
        if key_prefix.is_empty() || key_prefix.contains(char::is_whitespace) {
            return Err(format!(
                "invalid --key-prefix {key_prefix:?}: RQ's default is rq"
            ));
        }
        if let Some(v) = cli.rq_version {
            if !(1..=3).contains(&v) {
                return Err(format!("--rq-version {v} is not supported: use 1, 2 or 3"));
            }
        }
        let http_workers = match cli.http_workers {
            Some(0) => return Err("--http-workers must be at least 1".into()),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        Ok(Settings {
            redis,
            bind: cli.bind,
            port: cli.port,
            url_prefix: prefix,
            auth,
            readonly_auth,
            auth_header,
            groups_header,
            policy,
            redactor,
            users,
            oidc,
            public_probes: cli.public_probes,
            trust_proxy: cli.trust_proxy,
            trusted_proxies,
            allowed_hosts,
            log_json,
            poll_interval: Duration::from_millis(cli.poll_interval),
            disable_delete: cli.disable_delete,
            read_only: cli.read_only,
            key_prefix,
            json: cli.json,
            redis_timeout: Duration::from_millis(cli.redis_timeout),
            rq_version: cli.rq_version,
            snapshot_ttl: Duration::from_millis(
                cli.snapshot_ttl
                    .unwrap_or(cli.poll_interval * 9 / 10)
                    .min(60_000),
            ),
            http_workers,
            verbose: cli.verbose,
            secret_key,
            thresholds,
            alert_webhooks,
            audit_webhooks,
            audit_max_entries: cli.audit_max_entries,
            audit_max_age: Duration::from_secs(cli.audit_max_days * 86_400),
            alert_interval: Duration::from_secs(cli.alert_interval),
            public_url,
            history_in_redis: cli.history == "redis",
            history_interval: Duration::from_secs(cli.history_interval),
            alert_warm_up: ALERT_WARM_UP,
        })
    }

    /// Settings for one Redis URL with every other value at its default, listening on a free
    /// port of 127.0.0.1 (for tests and embedding).
    pub fn for_url(url: &str) -> Settings {
        let cli = Cli::parse_from(["rqdash", "-u", url, "-p", "0", "--http-workers", "1"]);
        Settings::from_cli(cli).expect("default settings are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, String> {
        let mut all = vec!["rqdash"];
        all.extend_from_slice(args);
        Settings::from_cli(Cli::try_parse_from(all).map_err(|e| e.to_string())?)
    }

    #[test]
    fn redaction_flags_fail_in_one_line_or_give_the_settings_their_rules() {
        let e = parse(&["--redact-pattern", "a(b"]).unwrap_err();
        assert!(e.starts_with("invalid --redact-pattern \"a(b\""), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let s = parse(&["--redact-key", "Token,pw", "--redact-key", "x"]).unwrap();
        assert!(s.redactor.is_key("TOKEN") && s.redactor.is_key("pw") && s.redactor.is_key("x"));
        assert!(!parse(&[]).unwrap().redactor.is_active());
    }

    #[test]
    fn defaults_match_rq_dashboard_except_the_bind_address() {
        let s = parse(&[]).unwrap();
        assert_eq!(s.port, 9181);
        assert_eq!(s.bind, "127.0.0.1");
        assert_eq!(s.poll_interval, Duration::from_millis(2500));
        assert_eq!(s.redis[0].url, "redis://127.0.0.1:6379");
        assert_eq!(s.key_prefix, "rq");
    }

    #[test]
    fn credentials_are_masked_in_labels() {
        assert_eq!(
            mask_url("redis://u:p@h:1/0"),
            "redis://***:***@h:1/0".to_string()
        );
        assert_eq!(mask_url("redis://h:1"), "redis://h:1");
    }

    #[test]
    fn a_secret_key_is_long_enough_and_never_shown() {
        assert!(parse(&["--secret-key", "short"])
            .unwrap_err()
            .contains("at least 16"));
        let s = parse(&["--secret-key", "0123456789abcdef0123"]).unwrap();
        assert!(!format!("{s:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn bad_values_give_one_clear_line() {
        assert!(parse(&["-u", "http://x"])
            .unwrap_err()
            .contains("invalid --redis-url"));
        assert!(parse(&["--poll-interval", "0"])
            .unwrap_err()
            .contains("too short"));
        assert!(parse(&["--username", "a"])
            .unwrap_err()
            .contains("together"));
    }

    #[test]
    fn url_prefix_is_normalised() {
        assert_eq!(parse(&["--url-prefix", "rq/"]).unwrap().url_prefix, "/rq");
        assert_eq!(parse(&["--url-prefix", "/"]).unwrap().url_prefix, "");
    }

    #[test]
    fn several_urls_can_be_repeated() {
        let s = parse(&["-u", "redis://a:1", "-u", "unix:///tmp/r.sock"]).unwrap();
        assert_eq!(s.redis.len(), 2);
    }
}
