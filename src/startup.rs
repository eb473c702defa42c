//! Building the service from its settings, and running it.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header::ALLOW;
use actix_web::{App, HttpResponse, HttpServer, web};
use arc_swap::ArcSwap;
use tokio::signal::unix::{SignalKind, signal};

use crate::configuration::Settings;
use crate::delivery::{Deliverer, Limits};
use crate::metrics::Metrics;
use crate::recent::RecentDecisions;
use crate::request_id;
use crate::routes::{assignment, health, metrics};
use crate::rules::{self, RulesError};
use crate::signature::Verifier;
use crate::state::AppState;
use crate::twilio_client::{ClientError, TwilioClient};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// Distinct Reservations remembered for de-duplication. Only REST decisions are kept, for
/// `twilio.update_deadline_secs`; a few hundred bytes each.
const RECENT_CAPACITY: usize = 50_000;

/// The running service: the callback listener, the admin listener, and the deliverer of
/// REST updates.
pub struct Application {
    port: u16,
    admin_port: u16,
    servers: Vec<Server>,
    state: web::Data<AppState>,
    grace: Duration,
}

impl Application {
    /// Loads the rules, binds both listeners (port 0 picks a free port) and prepares the
    /// servers. Nothing is served until [`Application::run_until_stopped`].
    pub fn build(settings: &Settings) -> Result<Self, StartupError> {
        let rules = rules::load(&settings.rules.path)?;
        for warning in &rules.warnings {
            tracing::warn!(file = %settings.rules.path.display(), "{warning}");
        }
        let verifier = if settings.callback.verify_signature {
            Some(Verifier::new(
                &settings.callback.public_url,
                settings.signing_tokens(),
            ))
        } else {
            tracing::warn!(
                "callback.verify_signature = false: callbacks are NOT checked to come from \
                 Twilio; never run like this where the internet can reach the service"
            );
            None
        };
        tracing::info!(
            rules = rules.len(),
            file = %settings.rules.path.display(),
            "rules loaded"
        );
        let metrics = Arc::new(Metrics::new());
        metrics.rules_loaded(rules.rules().count());
        let deliverer = match TwilioClient::new(&settings.twilio) {
            Ok(client) => Some(Deliverer::new(
                client,
                Limits {
                    max_in_flight: settings.twilio.max_in_flight,
                    max_pending: settings.twilio.max_pending_updates,
                    deadline: Duration::from_secs(settings.twilio.update_deadline_secs),
                },
                metrics.clone(),
            )),
            // Only an error when a rule needs it: inline-only deployments need no REST
            // credentials.
            Err(error) if rules.uses_rest() => return Err(error.into()),
            Err(_) => None,
        };
        let state = web::Data::new(AppState {
            rules: ArcSwap::from_pointee(rules),
            rules_path: settings.rules.path.clone(),
            verifier,
            max_body_bytes: settings.callback.max_body_bytes,
            deliverer,
            recent: RecentDecisions::new(
                RECENT_CAPACITY,
                Duration::from_secs(settings.twilio.update_deadline_secs),
            ),
            metrics,
        });
        let grace = settings.server.shutdown_grace_secs;
        let (listener, port) = bind(&settings.server.host, settings.server.port)?;
        let (admin_listener, admin_port) = bind(&settings.admin.host, settings.admin.port)?;
        let callback_path = settings.callback.path.clone();

        let callback_state = state.clone();
        let callback = HttpServer::new(move || {
            App::new()
                .wrap_fn(request_id::tag)
                .app_data(callback_state.clone())
                .configure(|config| configure(config, &callback_path))
        })
        .shutdown_timeout(grace)
        .listen(listener)
        .map_err(|source| bind_error(&settings.server.host, port, source))?
        .run();

        let admin_state = state.clone();
        let admin = HttpServer::new(move || {
            App::new()
                .wrap_fn(request_id::tag)
                .app_data(admin_state.clone())
                .configure(configure_admin)
        })
        .workers(1)
        .shutdown_timeout(grace)
        .listen(admin_listener)
        .map_err(|source| bind_error(&settings.admin.host, admin_port, source))?
        .run();

        Ok(Self {
            port,
            admin_port,
            servers: vec![callback, admin],
            state,
            grace: Duration::from_secs(grace),
        })
    }

    /// The callback listener's port (useful when the settings asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, lets in-flight requests finish
    /// and pending REST updates land, each for up to `server.shutdown_grace_secs`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // Both listeners must be polled at once: spawn every server before awaiting any.
        let servers: Vec<_> = self.servers.into_iter().map(tokio::spawn).collect();
        let reloader = tokio::spawn(reload_on_sighup(self.state.clone()));
        for server in servers {
            server.await.map_err(std::io::Error::other)??;
        }
        reloader.abort();
        if let Some(deliverer) = &self.state.deliverer {
            let pending = deliverer.pending();
            if pending > 0 {
                tracing::info!(pending, "waiting for pending reservation updates");
            }
            let left = deliverer.drain(self.grace).await;
            if left > 0 {
                tracing::error!(
                    left,
                    "stopping with reservation updates undelivered: the grace period ended"
                );
            } else if pending > 0 {
                tracing::info!("every pending reservation update ended");
            }
        }
        Ok(())
    }
}

/// The callback listener's routes, shared by the service and the tests.
pub fn configure(config: &mut web::ServiceConfig, callback_path: &str) {
    config
        .route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .service(
            web::resource(callback_path)
                .route(web::post().to(assignment::receive))
                .default_service(web::to(method_not_allowed)),
        );
}

/// The admin listener's routes.
pub fn configure_admin(config: &mut web::ServiceConfig) {
    config
        .route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(metrics::scrape));
}

/// Re-reads the rules file on every SIGHUP, for as long as the service runs.
async fn reload_on_sighup(state: web::Data<AppState>) {
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::error!("cannot listen for SIGHUP: rules can only change with a restart");
        return;
    };
    while hangups.recv().await.is_some() {
        let file = state.rules_path.display().to_string();
        match state.reload_rules() {
            Ok(count) => tracing::info!(%file, rules = count, "rules reloaded"),
            Err(error) => {
                for problem in &error.problems {
                    tracing::error!(%file, "{problem}");
                }
                tracing::error!(
                    %file,
                    problems = error.problems.len(),
                    "rules not reloaded: the rules in force stay"
                );
            }
        }
    }
}

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((ALLOW, "POST"))
        .content_type("text/plain; charset=utf-8")
        .body("the assignment callback takes POST only\n")
}

fn bind(host: &str, port: u16) -> Result<(TcpListener, u16), StartupError> {
    let listener =
        TcpListener::bind((host, port)).map_err(|source| bind_error(host, port, source))?;
    let port = listener
        .local_addr()
        .map_err(|source| bind_error(host, port, source))?
        .port();
    Ok((listener, port))
}

fn bind_error(host: &str, port: u16, source: std::io::Error) -> StartupError {
    StartupError::Bind {
        address: format!("{host}:{port}"),
        source,
    }
}
