//! Integration tests: each test starts its own redis-server on a free port, fills it with real RQ
//! (1.16.2, 2.12.0 and 3.0.0, from `scripts/setup-rq-venvs.sh`) and compares what the dashboard
//! shows with what RQ's own Python API reports for the same data.

mod support;

/// Generates one test per RQ version calling `$check(version)`.
macro_rules! per_rq_version {
    ($name:ident, $check:path) => {
        mod $name {
            #[test]
            fn rq_1_16_2() {
                $check("1.16.2")
            }
            #[test]
            fn rq_2_12_0() {
                $check("2.12.0")
            }
            #[test]
            fn rq_3_0_0() {
                $check("3.0.0")
            }
        }
    };
}

mod accessibility;
mod action_safety;
mod actions;
mod alerts;
mod audit;
mod browser;
mod browser_newer;
mod bulk;
mod cli;
mod concurrency;
mod connections;
mod demo;
mod errors;
mod forged;
mod grafana;
mod harness;
mod health;
mod history;
mod hostile;
mod http_layer;
mod i18n;
mod job_detail;
mod jobs;
mod lists;
mod newer;
mod oidc_provider;
mod operations;
mod outages;
mod overview;
mod policy;
mod proxy;
mod readme;
mod redaction;
mod replicas;
mod search;
mod security;
mod sentinel;
mod source_layout;
mod sso;
mod users;
mod workers;
