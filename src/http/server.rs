//! The two listeners: the callback listener and the admin listener (probes and metrics), with
//! the limits that bound slow, idle and too many clients.

use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header::ALLOW;
use actix_web::{App, HttpResponse, HttpServer, web};

use super::connection_watch::Watcher;
use super::{assignment, decisions, events, health, metrics, request_id};
use crate::settings::{ServerSettings, Settings};
use crate::state::AppState;

/// A listener that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address}: {source}")]
pub struct BindError {
    address: String,
    source: io::Error,
}

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
/// `TcpListener::bind` asks for 128; actix's `backlog` applies to the addresses it binds, so
/// the listeners are bound by actix. The kernel caps it at somaxconn.
const BACKLOG: u32 = 1024;

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

/// How many workers answer callbacks: one per CPU the process may use (actix's default).
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

impl ConnectionLimits {
    fn new(server: &ServerSettings) -> Self {
        let workers = workers();
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

/// Both listeners, bound and ready to be run.
pub struct Listeners {
    pub servers: Vec<Server>,
    /// The callback listener's port (the one bound, when the settings asked for 0).
    pub port: u16,
    pub admin_port: u16,
    /// Connections the callback listener holds open at once: `server.max_connections`
    /// rounded up to a multiple of the worker count, since actix bounds each worker.
    pub max_connections: usize,
}

/// Binds both listeners (port 0 picks a free port) and prepares their servers; nothing is
/// served until the servers are run.
pub fn listen(settings: &Settings, state: Arc<AppState>) -> Result<Listeners, BindError> {
    let state = web::Data::from(state);
    let callback_path = settings.callback.path.clone();
    let events_path = settings.callback.events_path.clone();
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
            .configure(|config| configure(config, &callback_path, events_path.as_deref()))
    })
    .on_connect(move |connection, data| watcher.on_connect(connection, data))
    .workers(limits.workers)
    .max_connections(limits.per_worker)
    .client_request_timeout(limits.head_timeout)
    .client_disconnect_timeout(DISCONNECT_TIMEOUT)
    .keep_alive(limits.keep_alive)
    .shutdown_timeout(settings.server.shutdown_grace_secs)
    // The application stops both listeners on SIGTERM/SIGINT (`app::signals`), with
    // handlers registered before it says it is listening.
    .disable_signals()
    .backlog(BACKLOG)
    .bind((settings.server.host.as_str(), settings.server.port))
    .map_err(|source| bind_error(&settings.server.host, settings.server.port, source))?;
    let port = bound_port(&callback.addrs());

    let admin_state = state;
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
    .shutdown_timeout(settings.server.shutdown_grace_secs)
    .disable_signals()
    .backlog(BACKLOG)
    .bind((settings.admin.host.as_str(), settings.admin.port))
    .map_err(|source| bind_error(&settings.admin.host, settings.admin.port, source))?;
    let admin_port = bound_port(&admin.addrs());

    Ok(Listeners {
        servers: vec![callback.run(), admin.run()],
        port,
        admin_port,
        max_connections: limits.max_connections(),
    })
}

/// The callback listener's routes, shared by the service and the tests.
pub fn configure(config: &mut web::ServiceConfig, callback_path: &str, events_path: Option<&str>) {
    config
        .route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .service(
            web::resource(callback_path)
                .route(web::post().to(assignment::receive))
                .default_service(web::to(method_not_allowed)),
        );
    if let Some(events_path) = events_path {
        config.service(
            web::resource(events_path)
                .route(web::post().to(events::receive))
                .default_service(web::to(method_not_allowed)),
        );
    }
}

/// The admin listener's routes.
pub fn configure_admin(config: &mut web::ServiceConfig) {
    config
        .route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(metrics::scrape))
        .route(
            "/decisions/{reservation_sid}",
            web::get().to(decisions::lookup),
        );
}

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((ALLOW, "POST"))
        .content_type("text/plain; charset=utf-8")
        .body("this path takes POST only\n")
}

fn bind_error(host: &str, port: u16, source: io::Error) -> BindError {
    BindError {
        address: format!("{host}:{port}"),
        source,
    }
}

/// The port of the first address bound (they share it unless the settings asked for 0).
fn bound_port(addresses: &[SocketAddr]) -> u16 {
    addresses.first().map_or(0, SocketAddr::port)
}
