//! The `rqdash` binary: parse flags, set up logging, serve. Everything else is in the library.

use clap::Parser;
use rqdash::config::{Cli, Settings};
use rqdash::startup::Application;

#[actix_web::main]
async fn main() {
    let cli = Cli::parse();
    let healthcheck = cli.healthcheck;
    let settings = match Settings::from_cli(cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rqdash: {e}");
            std::process::exit(2);
        }
    };
    if healthcheck {
        match rqdash::healthcheck::healthcheck(&settings) {
            Ok(()) => std::process::exit(0),
            Err(e) => {
                eprintln!("rqdash: unhealthy: {e}");
                std::process::exit(1);
            }
        }
    }
    rqdash::telemetry::init(settings.verbose, settings.log_json);
    let bind = settings.bind.clone();
    let prefix = settings.url_prefix.clone();
    let app = match Application::build(settings) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rqdash: {e}");
            std::process::exit(1);
        }
    };
    tracing::info!("rqdash listening on http://{bind}:{}{prefix}/", app.port());
    if let Err(e) = app.run_until_stopped().await {
        eprintln!("rqdash: {e}");
        std::process::exit(1);
    }
}
