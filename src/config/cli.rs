//! The raw command line: every flag, its `RQ_DASHBOARD_*` variable and its default, as clap
//! parses them (validated into [`super::Settings`]).

use clap::builder::FalseyValueParser;
use clap::Parser;

/// The raw command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "rqdash",
    version,
    about = "A fast, safe web dashboard for RQ (Python Redis Queue), compatible with rq-dashboard",
    after_help = "Every option can also be set with the environment variable shown in brackets."
)]
pub struct Cli {
    /// Redis URL (redis://, rediss://, unix://, redis+sentinel://host:26379/service_name); repeat
    /// for several instances. In the environment, separate several URLs with spaces.
    #[arg(
        short = 'u',
        long = "redis-url",
        env = "RQ_DASHBOARD_REDIS_URL",
        value_delimiter = ' ',
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: Vec<String>,

    /// Address to listen on. Use 0.0.0.0 to accept connections from other hosts (put it behind
    /// authentication or a proxy first).
    #[arg(
        short = 'b',
        long,
        env = "RQ_DASHBOARD_BIND",
        default_value = "127.0.0.1"
    )]
    pub bind: String,

    /// Port to listen on.
    #[arg(short = 'p', long, env = "RQ_DASHBOARD_PORT", default_value_t = 9181)]
    pub port: u16,

    /// Path prefix the dashboard is served under, e.g. /rq behind a reverse proxy.
    #[arg(long, env = "RQ_DASHBOARD_URL_PREFIX", default_value = "")]
    pub url_prefix: String,

    /// HTTP basic auth user name (auth is off unless both user name and password are set).
    #[arg(long, env = "RQ_DASHBOARD_USERNAME")]
    pub username: Option<String>,

    /// HTTP basic auth password.
    #[arg(long, env = "RQ_DASHBOARD_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,

    /// Read the password from this file instead (so it never shows in `ps`).
    #[arg(long, env = "RQ_DASHBOARD_PASSWORD_FILE", conflicts_with = "password")]
    pub password_file: Option<std::path::PathBuf>,

    /// A second user name that may look but not act.
    #[arg(long, env = "RQ_DASHBOARD_READONLY_USERNAME")]
    pub readonly_username: Option<String>,

    /// The read-only user's password.
    #[arg(long, env = "RQ_DASHBOARD_READONLY_PASSWORD", hide_env_values = true)]
    pub readonly_password: Option<String>,

    /// Read the read-only user's password from this file.
    #[arg(
        long,
        env = "RQ_DASHBOARD_READONLY_PASSWORD_FILE",
        conflicts_with = "readonly_password"
    )]
    pub readonly_password_file: Option<std::path::PathBuf>,

    /// Trust this request header (e.g. X-Forwarded-User) as the user name, set by an
    /// authenticating reverse proxy (needs --trust-proxy; believed only from --trusted-proxies,
    /// and never over a password login). Requests without it are refused.
    #[arg(long, env = "RQ_DASHBOARD_AUTH_HEADER")]
    pub auth_header: Option<String>,

    /// Local users: an htpasswd file of bcrypt entries (`htpasswd -nB USER`, or `rqdash
    /// hash-password USER`), re-read when it changes. Its users sign in with basic auth.
    #[arg(long, env = "RQ_DASHBOARD_USERS_FILE")]
    pub users_file: Option<std::path::PathBuf>,

    /// The header (e.g. X-Forwarded-Groups) in which the trusted proxy names the user's groups,
    /// comma-separated (with --auth-header; believed from --trusted-proxies only).
    #[arg(long, env = "RQ_DASHBOARD_GROUPS_HEADER", requires = "auth_header")]
    pub groups_header: Option<String>,

    /// Roles: a TOML file of roles, each granting actions on queue patterns to users and groups
    /// (see the README), re-read when it changes. Without it the full login may do everything
    /// and the read-only login views.
    #[arg(long, env = "RQ_DASHBOARD_POLICY")]
    pub policy: Option<std::path::PathBuf>,

    /// Hide the value of every keyword argument and dict key (at any depth, in arguments,
    /// keyword arguments, meta and results) of this name, case-insensitive: it shows as
    /// `[redacted]` to everyone but users granted `unredacted` by --policy. Repeat, or separate
    /// names with commas.
    #[arg(
        long = "redact-key",
        env = "RQ_DASHBOARD_REDACT_KEY",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub redact_key: Vec<String>,

    /// Hide every match of this regular expression (Rust `regex` syntax) in any decoded string of
    /// job data, tracebacks included; repeat for several (the variable holds one: join several
    /// with `|`).
    #[arg(
        long = "redact-pattern",
        env = "RQ_DASHBOARD_REDACT_PATTERN",
        value_name = "REGEX"
    )]
    pub redact_pattern: Vec<String>,

    /// Leave /healthz and /metrics open when authentication is on (for probes and scrapers).
    #[arg(long, env = "RQ_DASHBOARD_PUBLIC_PROBES", value_parser = FalseyValueParser::new(), default_value_t = false, num_args = 0, default_missing_value = "true")]
    pub public_probes: bool,

    /// Trust X-Forwarded-Prefix (the path a reverse proxy serves the dashboard under),
    /// X-Forwarded-For (the client address in the audit log) and --auth-header, from the
    /// addresses of --trusted-proxies only. Only behind a proxy that sets (overwrites) them.
    #[arg(long, env = "RQ_DASHBOARD_TRUST_PROXY", value_parser = FalseyValueParser::new(), default_value_t = false, num_args = 0, default_missing_value = "true")]
    pub trust_proxy: bool,

    /// The addresses of the trusted proxies (CIDR ranges or addresses, comma-separated): their
    /// forwarded headers are believed with --trust-proxy, anyone else's are ignored.
    #[arg(
        long = "trusted-proxies",
        env = "RQ_DASHBOARD_TRUSTED_PROXIES",
        value_delimiter = ',',
        default_value = crate::config::access::DEFAULT_TRUSTED_PROXIES
    )]
    pub trusted_proxies: Vec<String>,

    /// Host names the dashboard answers to besides localhost, IP addresses, names without a dot,
    /// the bind name and the --public-url host (comma-separated; `*` for any). A request for another name is
    /// refused, so a web page cannot reach the dashboard through DNS rebinding.
    #[arg(
        long = "allowed-hosts",
        env = "RQ_DASHBOARD_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// Log format: text or json.
    #[arg(long, env = "RQ_DASHBOARD_LOG_FORMAT", default_value = "text")]
    pub log_format: String,

    /// How often pages refresh their live parts, in milliseconds.
    #[arg(
        long,
        visible_alias = "interval",
        env = "RQ_DASHBOARD_POLL_INTERVAL",
        default_value_t = 2500
    )]
    pub poll_interval: u64,

    /// Refuse deleting jobs and emptying registries.
    #[arg(long, env = "RQ_DASHBOARD_DISABLE_DELETE", value_parser = FalseyValueParser::new(), default_value_t = false, num_args = 0, default_missing_value = "true")]
    pub disable_delete: bool,

    /// Refuse every action: a dashboard that only looks.
    #[arg(long, env = "RQ_DASHBOARD_READ_ONLY", value_parser = FalseyValueParser::new(), default_value_t = false, num_args = 0, default_missing_value = "true")]
    pub read_only: bool,

    /// RQ's key prefix (RQ 3's RQ_KEY_PREFIX); RQ 1.x and 2.x always use "rq".
    #[arg(long, env = "RQ_DASHBOARD_KEY_PREFIX", default_value = "rq")]
    pub key_prefix: String,

    /// Jobs use RQ's JSONSerializer (payloads are sniffed either way; this decides which decoder
    /// is tried first).
    #[arg(short = 'j', long, env = "RQ_DASHBOARD_JSON", value_parser = FalseyValueParser::new(), default_value_t = false, num_args = 0, default_missing_value = "true")]
    pub json: bool,

    /// The RQ major version that writes the data (1, 2 or 3), where actions differ between
    /// versions. Default: detected from the workers' reported versions and the data.
    #[arg(long, env = "RQ_DASHBOARD_RQ_VERSION")]
    pub rq_version: Option<u8>,

    /// How long one read of the overview and workers is shared by every viewer and JSON client,
    /// in milliseconds (default: 90% of the poll interval; 0 reads Redis on every request).
    #[arg(long, env = "RQ_DASHBOARD_SNAPSHOT_TTL")]
    pub snapshot_ttl: Option<u64>,

    /// Timeout of every Redis call, in milliseconds.
    #[arg(long, env = "RQ_DASHBOARD_REDIS_TIMEOUT", default_value_t = 2000)]
    pub redis_timeout: u64,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "RQ_DASHBOARD_HTTP_WORKERS")]
    pub http_workers: Option<usize>,

    /// A command instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Do not serve: ask the dashboard configured by these flags for /healthz and exit 0 when it
    /// is healthy (for container health checks).
    #[arg(long)]
    pub healthcheck: bool,

    /// Log every request.
    #[arg(short = 'v', long, env = "RQ_DASHBOARD_VERBOSE", value_parser = FalseyValueParser::new(), default_value_t = false, num_args = 0, default_missing_value = "true")]
    pub verbose: bool,

    /// A secret shared by every replica (at least 16 characters): their forms and live updates
    /// then work whichever replica answers, and a restart does not invalidate open pages.
    #[arg(long, env = "RQ_DASHBOARD_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Health rules: how long the oldest queued job may wait, in seconds, before it is a problem.
    /// `QUEUE=SECS` sets it for one queue; repeat for several.
    /// (Default 600; flags win over `--alert-rules`.)
    #[arg(
        long = "alert-oldest-queued",
        env = "RQ_DASHBOARD_ALERT_OLDEST_QUEUED",
        value_delimiter = ' '
    )]
    pub alert_oldest_queued: Vec<String>,

    /// Health rules to turn off (e.g. `redis_evicting`); repeat for several.
    #[arg(
        long = "alert-disable",
        env = "RQ_DASHBOARD_ALERT_DISABLE",
        value_delimiter = ' '
    )]
    pub alert_disable: Vec<String>,

    /// Health rules' thresholds, per-queue settings and silences from a TOML file (see the
    /// README's "Health rules and alerts"); flags given as well win over it.
    #[arg(long = "alert-rules", env = "RQ_DASHBOARD_ALERT_RULES")]
    pub alert_rules: Option<std::path::PathBuf>,

    /// POST each problem as JSON to this URL when it starts and when it is resolved (Slack and
    /// Mattermost incoming webhooks show its `text`); repeat for several, or separate them with
    /// spaces in the environment variable.
    #[arg(
        long = "alert-webhook",
        env = "RQ_DASHBOARD_ALERT_WEBHOOK",
        value_delimiter = ' '
    )]
    pub alert_webhook: Vec<String>,

    /// Forward every audit-trail entry (each action, refused ones too) to this URL as a JSON POST
    /// with a `text` line (as the alerts are sent); repeat for several.
    #[arg(
        long = "audit-webhook",
        env = "RQ_DASHBOARD_AUDIT_WEBHOOK",
        value_delimiter = ' '
    )]
    pub audit_webhook: Vec<String>,

    /// The most entries the audit trail (`rqdash:<prefix>:audit`) keeps; older ones go first.
    #[arg(
        long = "audit-max-entries",
        env = "RQ_DASHBOARD_AUDIT_MAX_ENTRIES",
        default_value_t = 100_000
    )]
    pub audit_max_entries: u64,

    /// How many days the audit trail keeps an entry.
    #[arg(
        long = "audit-max-days",
        env = "RQ_DASHBOARD_AUDIT_MAX_DAYS",
        default_value_t = 90
    )]
    pub audit_max_days: u64,

    /// How often the health rules run for alerts and `/metrics`, in seconds, whether or not a
    /// page is open.
    #[arg(
        long = "alert-interval",
        env = "RQ_DASHBOARD_ALERT_INTERVAL",
        default_value_t = 15
    )]
    pub alert_interval: u64,

    /// Where the count history and timing statistics are kept: `redis` (under the dashboard's
    /// own `rqdash:` keys, shared by replicas, surviving restarts; it falls back to memory when
    /// Redis refuses writes) or `memory` (this process only, lost on restart).
    #[arg(
        long = "history",
        env = "RQ_DASHBOARD_HISTORY",
        default_value = "redis",
        value_parser = ["redis", "memory"]
    )]
    pub history: String,

    /// How often the history counts, in seconds (1–60).
    #[arg(
        long = "history-interval",
        env = "RQ_DASHBOARD_HISTORY_INTERVAL",
        default_value_t = 5
    )]
    pub history_interval: u64,

    /// The dashboard's address as its users reach it (e.g. `https://rq.example.com/dash`), for the
    /// links in alerts; by default `http://<host>:<port><url prefix>`.
    #[arg(long = "public-url", env = "RQ_DASHBOARD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Read the shared secret from this file instead (so it never shows in `ps`).
    #[arg(
        long,
        env = "RQ_DASHBOARD_SECRET_KEY_FILE",
        conflicts_with = "secret_key"
    )]
    pub secret_key_file: Option<std::path::PathBuf>,

    /// Sign users in with OpenID Connect at this issuer (e.g. `https://login.example.com/realms/x`);
    /// needs `--oidc-client-id`, `--public-url` (the redirect is `<public url>/auth/callback`) and
    /// `--secret-key` (it seals the session cookie, so every replica accepts it).
    #[arg(long, env = "RQ_DASHBOARD_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// The client id this dashboard is registered under at the OpenID provider.
    #[arg(long, env = "RQ_DASHBOARD_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    /// The client secret given by the OpenID provider.
    #[arg(long, env = "RQ_DASHBOARD_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,

    /// Read the client secret from this file instead (so it never shows in `ps`).
    #[arg(
        long,
        env = "RQ_DASHBOARD_OIDC_CLIENT_SECRET_FILE",
        conflicts_with = "oidc_client_secret"
    )]
    pub oidc_client_secret_file: Option<std::path::PathBuf>,

    /// The ID-token claim (or userinfo claim) holding the user's groups, matched by the policy's
    /// `groups`.
    #[arg(long, env = "RQ_DASHBOARD_OIDC_GROUPS_CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,

    /// The scopes asked for, space- or comma-separated (`openid` is always asked for).
    #[arg(
        long,
        env = "RQ_DASHBOARD_OIDC_SCOPES",
        default_value = "openid profile email groups"
    )]
    pub oidc_scopes: String,

    /// How long a single sign-on session lasts, in hours, before the user signs in again.
    #[arg(long, env = "RQ_DASHBOARD_OIDC_SESSION_HOURS", default_value_t = 12)]
    pub oidc_session_hours: u64,
}

/// Commands other than serving the dashboard.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Print a --users-file line for USER (bcrypt), the password read from standard input
    /// (one line), e.g. `rqdash hash-password ann >> users`.
    HashPassword {
        /// The user name.
        user: String,
        /// bcrypt's cost (4 to 31): each step doubles the time a check takes.
        #[arg(long, default_value_t = 12)]
        cost: u32,
    },
}
