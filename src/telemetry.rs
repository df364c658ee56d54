//! Logging setup: `tracing` to stderr as text or JSON lines (`--log-format`), level from
//! `RUST_LOG` (default `info`, or `debug` with `--verbose`).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (JSON lines with `json`); later calls do nothing.
pub fn init(verbose: bool, json: bool) {
    let default = if verbose { "info,rqdash=debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}
