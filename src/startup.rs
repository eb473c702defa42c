//! Building the service from its settings, and running it.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header::ALLOW;
use actix_web::{App, HttpResponse, HttpServer, web};
use arc_swap::ArcSwap;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::signal::unix::{SignalKind, signal};

use crate::configuration::{ServerSettings, Settings};
use crate::connection_watch::Watcher;
use crate::delivery::{Deliverer, Limits};
use crate::delivery_runtime::DeliveryRuntime;
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
    #[error("cannot start the REST delivery thread: {0}")]
    DeliveryThread(std::io::Error),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// Distinct Reservations remembered for de-duplication. Only REST decisions are kept, for
/// `twilio.update_deadline_secs`; a few hundred bytes each.
const RECENT_CAPACITY: usize = 50_000;

/// The admin listener serves probes and scrapes, a handful of clients: a flood of connections
/// to it must not cost more than this.
const ADMIN_MAX_CONNECTIONS: usize = 256;

/// How long a connection answered before its body was read (a 408, a 413) goes on reading and
/// discarding what the client still sends before it is closed, and how long any closing
/// connection gets to shut down. actix's default, made explicit: it bounds a body trickler's
/// connection after its 408.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Connections the kernel holds for a listener until the service accepts them: room for a
/// burst, and for those waiting while `server.max_connections` are open. std's
/// `TcpListener::bind` asks for 128, and actix's own `backlog` only applies to addresses
/// actix binds itself, so the listeners are made here. The kernel caps it at somaxconn.
const BACKLOG: i32 = 1024;

/// How the listeners bound slow, idle and too many clients; from `[server]`.
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    /// Callback-listener workers: one per CPU the process may use (actix's own default,
    /// made explicit because the connection bound is divided among them).
    workers: usize,
    /// actix counts connections per worker; `server.max_connections` is for all of them.
    per_worker: usize,
    head_timeout: Duration,
    keep_alive: Duration,
}

impl ConnectionLimits {
    fn new(server: &ServerSettings) -> Self {
        let workers = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self {
            workers,
            per_worker: server.max_connections.div_ceil(workers),
            head_timeout: Duration::from_millis(server.request_head_timeout_ms),
            keep_alive: Duration::from_secs(server.keep_alive_secs),
        }
    }

    /// The bound in force: `server.max_connections` rounded up to a multiple of the workers.
    fn max_connections(&self) -> usize {
        self.per_worker * self.workers
    }
}

/// The running service: the callback listener, the admin listener, and the deliverer of
/// REST updates.
pub struct Application {
    port: u16,
    admin_port: u16,
    servers: Vec<Server>,
    state: web::Data<AppState>,
    grace: Duration,
    max_connections: usize,
    /// Declared last: dropped after everything that may still hand it an update.
    _delivery_runtime: Option<DeliveryRuntime>,
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
        let (deliverer, delivery_runtime) = match TwilioClient::new(&settings.twilio) {
            Ok(client) => {
                let runtime = DeliveryRuntime::start().map_err(StartupError::DeliveryThread)?;
                let deliverer = Deliverer::new(
                    client,
                    Limits {
                        max_in_flight: settings.twilio.max_in_flight,
                        max_pending: settings.twilio.max_pending_updates,
                        deadline: Duration::from_secs(settings.twilio.update_deadline_secs),
                    },
                    metrics.clone(),
                    runtime.handle(),
                );
                (Some(deliverer), Some(runtime))
            }
            // Only an error when a rule needs it: inline-only deployments need no REST
            // credentials.
            Err(error) if rules.uses_rest() => return Err(error.into()),
            Err(_) => (None, None),
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
        let limits = ConnectionLimits::new(&settings.server);
        tracing::info!(
            workers = limits.workers,
            max_connections = limits.max_connections(),
            request_head_timeout_ms = settings.server.request_head_timeout_ms,
            keep_alive_secs = settings.server.keep_alive_secs,
            "callback listener limits"
        );

        // actix times only the first request head of a connection; the watch bounds the rest.
        let watcher = Watcher::new(limits.head_timeout, limits.keep_alive);

        let callback_state = state.clone();
        let callback = HttpServer::new(move || {
            App::new()
                .wrap_fn(request_id::tag)
                .app_data(callback_state.clone())
                .configure(|config| configure(config, &callback_path))
        })
        .on_connect(move |connection, data| watcher.on_connect(connection, data))
        .workers(limits.workers)
        .max_connections(limits.per_worker)
        .client_request_timeout(limits.head_timeout)
        .client_disconnect_timeout(DISCONNECT_TIMEOUT)
        .keep_alive(limits.keep_alive)
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
        .on_connect(move |connection, data| watcher.on_connect(connection, data))
        .workers(1)
        .max_connections(ADMIN_MAX_CONNECTIONS)
        .client_request_timeout(limits.head_timeout)
        .client_disconnect_timeout(DISCONNECT_TIMEOUT)
        .keep_alive(limits.keep_alive)
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
            max_connections: limits.max_connections(),
            _delivery_runtime: delivery_runtime,
        })
    }

    /// The callback listener's port (useful when the settings asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    /// Connections the callback listener holds open at once: `server.max_connections`
    /// rounded up to a multiple of the worker count, since actix bounds each worker.
    pub fn max_connections(&self) -> usize {
        self.max_connections
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

/// Listens on the first address `host` resolves to that can be bound, as std's
/// `TcpListener::bind` does, with a [`BACKLOG`] of our choosing.
fn bind(host: &str, port: u16) -> Result<(TcpListener, u16), StartupError> {
    let failed = |source| bind_error(host, port, source);
    let mut last_error = io::Error::new(
        io::ErrorKind::InvalidInput,
        "the host resolves to no address",
    );
    for address in (host, port).to_socket_addrs().map_err(failed)? {
        match listen(address) {
            Ok(listener) => {
                let port = listener.local_addr().map_err(failed)?.port();
                return Ok((listener, port));
            }
            Err(error) => last_error = error,
        }
    }
    Err(failed(last_error))
}

fn listen(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    // As std does: a restart may bind while the last run's connections are in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

fn bind_error(host: &str, port: u16, source: std::io::Error) -> StartupError {
    StartupError::Bind {
        address: format!("{host}:{port}"),
        source,
    }
}
