//! The database edge: the shared PostgreSQL store, which makes a fleet of replicas one
//! system (§8 of the design). sqlx lives here and nowhere else.
//!
//! Claims run on the thread that answers the callback, with a pool of that thread's own
//! (`store/thread_pools.rs`); everything else runs on the store's own runtime ([`crate::runtime`]),
//! whichever thread asks. Either way a pooled connection belongs to one live runtime, and a
//! caller that gives up (a claim past its 500 ms) cancels its query instead of leaving it to
//! finish unseen.

pub mod decisions;
pub mod migrations;
mod thread_pools;
pub mod updates;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use self::thread_pools::{ThreadPools, split_connections};
use crate::telemetry::metrics::Metrics;

/// How long a query waits for a free connection (or a new one) before it fails. Past the
/// claim's 500 ms the caller has given up anyway; background work retries on its next turn.
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);
/// The longest any one operation may take before it is given up (and cancelled): a store
/// that hangs must not stall the background work that renews leases. Migrations may lock and
/// rewrite tables, so they get longer.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
const MIGRATION_TIMEOUT: Duration = Duration::from_secs(60);
/// A pooled connection idle longer than this is pinged before it is used.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(5);

/// Why the store cannot be used as configured: the service does not start.
#[derive(Debug, thiserror::Error)]
#[error("setting `store.url`: not a PostgreSQL URL this service can use: {0}")]
pub struct ConfigError(String);

/// An operation that failed. Names what was asked and why, never the URL or its password.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the shared store ({target}) could not {what}: {reason}")]
pub struct StoreError {
    pub operation: &'static str,
    what: &'static str,
    target: String,
    reason: String,
    conflict: bool,
}

impl StoreError {
    /// The server answered, and called the statement off because it crossed another
    /// transaction (a deadlock, a serialization failure): the store is up, its connections
    /// are sound, and the same work may succeed when it is done again.
    pub fn is_conflict(&self) -> bool {
        self.conflict
    }
}

/// Why an operation failed, before it is named: the reason in words, and whether it was a
/// conflict (see [`StoreError::is_conflict`]).
struct Failure {
    reason: String,
    conflict: bool,
}

impl Failure {
    fn of(error: &sqlx::Error) -> Self {
        Self {
            reason: plain(error),
            conflict: is_conflict(error),
        }
    }
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Self {
            reason,
            conflict: false,
        }
    }
}

/// The PostgreSQL pool, and the runtime its connections live on. Cheap to clone. `Debug`
/// shows where it points, without credentials.
#[derive(Clone)]
pub struct SharedStore {
    pool: PgPool,
    options: PgConnectOptions,
    runtime: Handle,
    metrics: Arc<Metrics>,
    target: Arc<str>,
    /// Claims' pools, one per answering thread.
    thread_pools: Arc<ThreadPools>,
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl SharedStore {
    /// The pool for `url` on `runtime`. Connects lazily: a store that is down at start is
    /// not a reason to refuse callbacks, only a URL that cannot work is. `sslmode` and the
    /// other parameters are read as libpq reads them; TLS is rustls.
    pub fn open(
        url: &SecretString,
        max_connections: u32,
        answering_threads: u32,
        runtime: Handle,
        metrics: Arc<Metrics>,
    ) -> Result<Self, ConfigError> {
        let options = options(url)?;
        let target = describe_target(&options);
        // The pool's upkeep tasks start on the store's runtime, as its connections do.
        let _entered = runtime.enter();
        let (each_thread, own) = split_connections(max_connections, answering_threads);
        let pool = pool_options(own).connect_lazy_with(options.clone());
        Ok(Self {
            pool,
            options: options.clone(),
            runtime,
            metrics,
            target: target.into(),
            thread_pools: Arc::new(ThreadPools::new(each_thread, options)),
        })
    }

    /// `host:port/database`, for log lines.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// An error about this store, for a failure found outside a query.
    pub fn error(&self, operation: &'static str, what: &'static str, reason: &str) -> StoreError {
        StoreError {
            operation,
            what,
            target: self.target.to_string(),
            reason: reason.to_owned(),
            conflict: false,
        }
    }

    /// The error for an operation given up after `waited`: timed and counted here, since
    /// the operation's own measurement was cancelled with it.
    pub fn timed_out(
        &self,
        operation: &'static str,
        what: &'static str,
        waited: Duration,
    ) -> StoreError {
        self.metrics.store_operation(operation, waited, false);
        self.thread_pools.start_over();
        self.error(operation, what, "no answer in time")
    }

    /// Applies the embedded migrations (see [`migrations`]). When no connection could be
    /// had, one is tried on its own to say why (the pool only says that it timed out).
    pub async fn migrate(&self) -> Result<migrations::Applied, StoreError> {
        let result = self
            .run("migrate", "apply its schema migrations", migrations::apply)
            .await;
        match result {
            Err(mut error) if error.reason == POOL_TIMED_OUT => {
                let options = self.options.clone();
                let tried = self.runtime.spawn(async move {
                    use sqlx::Connection;
                    let connect = sqlx::PgConnection::connect_with(&options);
                    match tokio::time::timeout(Duration::from_secs(5), connect).await {
                        Ok(Ok(connection)) => {
                            let _ = connection.close().await;
                            None
                        }
                        Ok(Err(cause)) => Some(plain(&cause)),
                        Err(_) => Some("no answer within 5 s".to_owned()),
                    }
                });
                if let Ok(Some(cause)) = tried.await {
                    error.reason = cause;
                }
                Err(error)
            }
            other => other,
        }
    }

    /// Runs `work` on the store's runtime, timed and counted under `operation`. Dropping
    /// the returned future cancels the work.
    async fn run<T, F>(
        &self,
        operation: &'static str,
        what: &'static str,
        work: impl FnOnce(PgPool) -> F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, sqlx::Error>> + Send + 'static,
    {
        let started = Instant::now();
        let mut task = AbortOnDrop(self.runtime.spawn(work(self.pool.clone())));
        let limit = if operation == "migrate" {
            MIGRATION_TIMEOUT
        } else {
            OPERATION_TIMEOUT
        };
        let result = match tokio::time::timeout(limit, &mut task.0).await {
            Ok(Ok(result)) => result.map_err(|error| Failure::of(&error)),
            Ok(Err(_)) => Err(Failure::from("the store's thread stopped".to_owned())),
            Err(_) => Err(Failure::from(format!(
                "no answer within {} s",
                limit.as_secs()
            ))),
        };
        self.finish(operation, what, started, result)
    }

    /// Runs `work` on the calling thread with its own pool where it has one (an answering
    /// worker), else as [`Self::run`] does. Dropping the returned future cancels the work.
    async fn run_here<T, F>(
        &self,
        operation: &'static str,
        what: &'static str,
        work: impl FnOnce(PgPool) -> F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, sqlx::Error>> + Send + 'static,
    {
        let Some(pool) = self.thread_pools.here() else {
            return self.run(operation, what, work).await;
        };
        let started = Instant::now();
        let result = match tokio::time::timeout(OPERATION_TIMEOUT, work(pool)).await {
            Ok(result) => result.map_err(|error| Failure::of(&error)),
            Err(_) => Err(Failure::from(format!(
                "no answer within {} s",
                OPERATION_TIMEOUT.as_secs()
            ))),
        };
        self.finish(operation, what, started, result)
    }

    /// Times and counts an operation, and names the store in its error.
    fn finish<T>(
        &self,
        operation: &'static str,
        what: &'static str,
        started: Instant,
        result: Result<T, Failure>,
    ) -> Result<T, StoreError> {
        self.metrics
            .store_operation(operation, started.elapsed(), result.is_ok());
        // A conflict came over a sound connection: the claims' connections need not be made
        // again, which would cost the next claims a connect each.
        if result.as_ref().is_err_and(|failure| !failure.conflict) {
            self.thread_pools.start_over();
        }
        result.map_err(|failure| StoreError {
            operation,
            what,
            target: self.target.to_string(),
            reason: failure.reason,
            conflict: failure.conflict,
        })
    }
}

/// The pool's settings, for the store's pool and the answering threads' alike.
pub(super) fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // A connection idle for a while may have gone bad (the server restarted): it is
        // pinged before a claim uses it. One in steady use is not, which saves a round
        // trip per claim; if it has broken, that one query fails and the connection goes.
        .test_before_acquire(false)
        .before_acquire(|connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for < PING_IF_IDLE_FOR {
                    return Ok(true);
                }
                sqlx::Connection::ping(connection).await.map(|()| true)
            })
        })
        .idle_timeout(Duration::from_secs(300))
}

const POOL_TIMED_OUT: &str =
    "no connection within 500 ms (the store is down, unreachable or overloaded)";

/// Cancels a spawned query when whoever awaited it gives up.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Where `url` points (`host:port/database`), once it is known to be a URL the store can
/// use: what `check` says of it.
pub fn check_url(url: &SecretString) -> Result<String, ConfigError> {
    options(url).map(|options| describe_target(&options))
}

fn options(url: &SecretString) -> Result<PgConnectOptions, ConfigError> {
    Ok(PgConnectOptions::from_str(url.expose_secret())
        .map_err(|error| ConfigError(plain(&error)))?
        .application_name("assignment-router"))
}

/// `host:port/database` (or the socket folder): where the store is, with no user or password.
fn describe_target(options: &PgConnectOptions) -> String {
    let database = options.get_database().unwrap_or("postgres");
    match options.get_socket() {
        Some(socket) => format!("{}/{database}", socket.display()),
        None => format!("{}:{}/{database}", options.get_host(), options.get_port()),
    }
}

/// Whether PostgreSQL called the statement off for crossing another transaction:
/// `deadlock_detected` (40P01) or `serialization_failure` (40001).
fn is_conflict(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database)
        if matches!(database.code().as_deref(), Some("40P01" | "40001")))
}

/// sqlx's error in words. Its messages name the server's complaint (`password authentication
/// failed for user "router"`, `connection refused`), never the password or the URL.
fn plain(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::PoolTimedOut => POOL_TIMED_OUT.to_owned(),
        sqlx::Error::Database(database) => database.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        // sqlx wraps these twice, and names libpq's `sslmode` by its own field name.
        sqlx::Error::Configuration(inner) => {
            let text = inner.to_string();
            let mut text = text.as_str();
            while let Some(rest) = text.strip_prefix("error with configuration: ") {
                text = rest;
            }
            text.replace("`ssl_mode`", "sslmode")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
