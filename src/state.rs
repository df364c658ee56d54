//! Application state shared by all handlers: the settings and one repository per Redis instance.

use std::sync::Arc;

use crate::config::Settings;
use crate::error::AppError;
use crate::rq::{Keys, Repository};
use crate::tasks::Tasks;
use crate::views::{InstanceLink, Layout, Urls};

/// Built once at start-up; handlers get it as `web::Data<AppState>`.
#[derive(Debug)]
pub struct AppState {
    /// The validated settings.
    pub settings: Settings,
    /// One repository per `--redis-url`, in order.
    pub instances: Vec<Arc<Repository>>,
    /// Bulk tasks of this process.
    pub tasks: Tasks,
    /// The anti-CSRF token forms and htmx requests carry (random per process).
    pub csrf_token: String,
    /// Answers rendered from the shared snapshot.
    pub renders: crate::render_cache::RenderCache,
    /// Count history per instance.
    pub history: Vec<crate::history::History>,
}

fn settings_history(n: usize) -> Vec<crate::history::History> {
    (0..n).map(|_| crate::history::History::default()).collect()
}

/// Returns 32 random hex characters from the OS.
fn random_token() -> String {
    use std::io::Read;
    let mut buf = [0u8; 16];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok();
    if !ok {
        // No /dev/urandom: fall back to the hasher's per-process random keys.
        use std::hash::{BuildHasher, Hasher};
        for chunk in buf.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

impl AppState {
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
                            .with_snapshot_ttl(settings.snapshot_ttl),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let n_instances = settings.redis.len();
        Ok(AppState {
            settings,
            instances,
            tasks: Tasks::default(),
            csrf_token: random_token(),
            renders: Default::default(),
            history: settings_history(n_instances),
        })
    }

    /// Returns instance `n`.
    ///
    /// # Errors
    /// `NotFound` when there is no such instance.
    pub fn instance(&self, n: usize) -> Result<&Repository, AppError> {
        self.instances.get(n).map(|r| r.as_ref()).ok_or_else(|| {
            AppError::NotFound(format!(
                "there is no Redis instance #{n}: this dashboard has {} (numbered from 0)",
                self.instances.len()
            ))
        })
    }

    /// Returns URL builders for instance `n`.
    pub fn urls(&self, n: usize) -> Urls {
        Urls {
            base: self.base(),
            n,
        }
    }

    /// The path prefix of every link: a trusted proxy's `X-Forwarded-Prefix`, then
    /// `--url-prefix`.
    pub fn base(&self) -> String {
        format!(
            "{}{}",
            crate::request_ctx::current().forwarded_prefix,
            self.settings.url_prefix
        )
    }

    /// Returns the layout of a page of instance `n` (falls back to instance 0 for labels when `n`
    /// does not exist, so error pages still render).
    pub fn layout(&self, n: usize, nav: &'static str, title: impl Into<String>) -> Layout {
        let shown = if n < self.instances.len() { n } else { 0 };
        Layout {
            base: self.base(),
            urls: self.urls(shown),
            label: self.instances[shown].label().to_string(),
            instances: self
                .instances
                .iter()
                .enumerate()
                .map(|(i, r)| InstanceLink {
                    index: i,
                    label: r.label().to_string(),
                    url: self.urls(i).overview(),
                    current: i == shown,
                })
                .collect(),
            poll_ms: self.settings.poll_interval.as_millis() as u64,
            version: env!("CARGO_PKG_VERSION"),
            asset_version: format!("{:016x}", crate::routes::assets::ASSET_VERSION),
            redis_version: self.instances[shown].versions().0,
            rq_versions: self.instances[shown].versions().1,
            nav,
            title: title.into(),
            csrf_token: self.csrf_token.clone(),
            read_only: !self.perms().act,
            can_delete: self.perms().delete,
        }
    }

    /// What the configuration allows.
    pub fn perms(&self) -> crate::views::Perms {
        let viewer_only = crate::request_ctx::current().read_only;
        crate::views::Perms {
            act: !self.settings.read_only && !viewer_only,
            delete: !self.settings.read_only && !viewer_only && !self.settings.disable_delete,
        }
    }

    /// Poll interval in milliseconds.
    pub fn poll_ms(&self) -> u64 {
        self.settings.poll_interval.as_millis() as u64
    }
}
