//! Logging setup: `tracing` to stderr, level from `RUST_LOG` (default `info`, or `debug` with
//! `--verbose`).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls do nothing.
pub fn init(verbose: bool) {
    let default = if verbose { "info,rqdash=debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
