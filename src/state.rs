//! Application state shared by all handlers: the settings and one repository per Redis instance.

use std::sync::Arc;

use crate::config::Settings;
use crate::error::AppError;
use crate::rq::{Keys, Repository};
use crate::views::{InstanceLink, Layout, Urls};

/// Built once at start-up; handlers get it as `web::Data<AppState>`.
#[derive(Debug)]
pub struct AppState {
    /// The validated settings.
    pub settings: Settings,
    /// One repository per `--redis-url`, in order.
    pub instances: Vec<Arc<Repository>>,
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
                .map(Arc::new)
            })
            .collect::<Result<_, _>>()?;
        Ok(AppState {
            settings,
            instances,
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
            base: self.settings.url_prefix.clone(),
            n,
        }
    }

    /// Returns the layout of a page of instance `n` (falls back to instance 0 for labels when `n`
    /// does not exist, so error pages still render).
    pub fn layout(&self, n: usize, nav: &'static str, title: impl Into<String>) -> Layout {
        let shown = if n < self.instances.len() { n } else { 0 };
        Layout {
            base: self.settings.url_prefix.clone(),
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
            nav,
            title: title.into(),
        }
    }

    /// Poll interval in milliseconds.
    pub fn poll_ms(&self) -> u64 {
        self.settings.poll_interval.as_millis() as u64
    }
}
