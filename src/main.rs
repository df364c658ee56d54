//! The `rqdash` binary: parse flags, set up logging, serve. Everything else is in the library.

use clap::Parser;
use rqdash::config::{Cli, Command, Settings};
use rqdash::startup::Application;

#[actix_web::main]
async fn main() {
    let cli = Cli::parse();
    if let Some(Command::HashPassword { user, cost }) = &cli.command {
        std::process::exit(hash_password(user, *cost));
    }
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

/// `rqdash hash-password USER`: reads one line (the password) from standard input and prints
/// the users-file line. The exit status: 0, or 2 with a sentence on standard error.
fn hash_password(user: &str, cost: u32) -> i32 {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("rqdash: cannot read the password from standard input: {e}");
        return 2;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("rqdash: no password on standard input (e.g. `printf %s 'the password' | rqdash hash-password {user}`)");
        return 2;
    }
    match rqdash::config::users::entry(user, password, cost) {
        Ok(line) => {
            println!("{line}");
            0
        }
        Err(e) => {
            eprintln!("rqdash: {e}");
            2
        }
    }
}
