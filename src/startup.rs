//! Builds the HTTP server from [`Settings`]: binds the listener (port 0 works, for tests), creates
//! the shared state, starts the history samplers, mounts the route table under the URL prefix and
//! wraps it in the middleware.

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use std::net::TcpListener;

use crate::config::Settings;
use crate::http::middleware;
use crate::routes;
use crate::state::AppState;

/// A built, not yet running, dashboard.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds the listener and builds the server.
    ///
    /// # Errors
    /// When the address cannot be bound or a Redis URL is invalid.
    pub fn build(mut settings: Settings) -> std::io::Result<Application> {
        let listener = TcpListener::bind((settings.bind.as_str(), settings.port)).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on {}:{}: {e}", settings.bind, settings.port),
            )
        })?;
        let port = listener.local_addr()?.port();
        settings.port = port; // for links in alerts when --port is 0
        let workers = settings.http_workers;
        let prefix = settings.url_prefix.clone();
        let state = web::Data::new(
            AppState::new(settings)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        );
        for i in 0..state.instances.len() {
            actix_web::rt::spawn(sample(state.clone(), i));
        }
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PathConfig::default().error_handler(|e, _| {
                    actix_web::error::InternalError::from_response(
                        e.to_string(),
                        HttpResponse::BadRequest().body(format!("bad path: {e}")),
                    )
                    .into()
                }))
                .wrap(from_fn(middleware::guard))
                .service(web::scope(&prefix).configure(routes::configure))
                .default_service(web::to(|| async {
                    HttpResponse::NotFound()
                        .content_type("text/plain; charset=utf-8")
                        .body("Not found: no page at this address.")
                }))
        })
        .workers(workers)
        // Signals are ours ([`Application::run_until_stopped`]): actix's own handling makes
        // SIGINT a forced stop that drops the requests in flight.
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .listen(listener)?
        .run();
        Ok(Application { port, server })
    }

    /// Returns the port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the server handle (to spawn it or stop it).
    pub fn server(self) -> Server {
        self.server
    }

    /// Serves until SIGINT (Ctrl-C) or SIGTERM, either a graceful stop: no new
    /// connections, the requests in flight finish (for at most [`SHUTDOWN_GRACE_SECS`]), then it
    /// returns.
    ///
    /// # Errors
    /// When the server fails, or the signal handlers cannot be installed.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        use actix_web::rt::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            let name = tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
            tracing::info!(
                "{name}: stopping gracefully: no new connections, the requests in flight finish (at most {SHUTDOWN_GRACE_SECS} s)"
            );
            handle.stop(true).await;
        });
        self.server.await?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// How long a graceful stop waits for the requests in flight.
pub const SHUTDOWN_GRACE_SECS: u64 = 5;

/// Connects instance `i` in the background so the first page does not pay for it, then every
/// poll interval (at least every second) takes the shared snapshot; every `--history-interval`
/// it runs a history round ([`crate::history::recorder`]), and every `--alert-interval` the
/// health rules, whether or not anyone looks: the failure-burst rule learns from the failures,
/// `/metrics` stays current, and the alerts go out ([`crate::alerts`]).
async fn sample(state: web::Data<AppState>, i: usize) {
    let repo = state.instances[i].clone();
    let s = &state.settings;
    let every = s
        .poll_interval
        .max(std::time::Duration::from_secs(1))
        .min(s.alert_interval)
        .min(s.history_interval);
    // Renewed every round; a replica gone (or restarted: a new process is a new holder) hands
    // over within three rounds, at least 10 s. Two writers never count twice (the script
    // checks `seq`), so a short lease costs nothing but a wasted round.
    let lease = (s.history_interval * 3).max(std::time::Duration::from_secs(10));
    if let Err(e) = repo.ping().await {
        tracing::warn!(error = %e, "redis is not reachable yet; pages will say so until it is");
    }
    let mut next_history = std::time::Instant::now();
    // The first rules round one interval after start: the pages' first reads go first.
    let mut next_rules = std::time::Instant::now() + s.alert_interval;
    loop {
        if let Ok(snap) = repo.snapshot().await {
            let now = std::time::Instant::now();
            if now >= next_history {
                next_history = now + s.history_interval;
                state.history[i]
                    .recorder
                    .round(&repo, &state.history[i], &snap, lease)
                    .await;
            }
            if std::time::Instant::now() >= next_rules {
                next_rules = std::time::Instant::now() + s.alert_interval;
                let th = &s.thresholds;
                let now = chrono::Utc::now();
                state.bursts.observe(i, &repo, &snap, th, now).await;
                state.stalls.observe(i, &repo, &snap, th, now).await;
                if let Ok(problems) = crate::routes::health::problems_of(&state, i).await {
                    state.alerts.observe(i, &repo, &problems).await;
                }
            }
        }
        actix_web::rt::time::sleep(every).await;
    }
}
