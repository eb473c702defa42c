//! Building the service from its settings, and running it: the rules, the REST deliverer,
//! the shared store's outbox, the shared state and both listeners; reloads (SIGHUP, and the
//! watch of the rules files), and the drain at shutdown.

mod reload;
mod signals;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use arc_swap::ArcSwap;

use self::signals::Signals;
use self::watch::{Snapshot, Watch};
use crate::callback::diagnosis;
use crate::callback::signature::Verifier;
use crate::decisions::mask::Mask;
use crate::dedupe::RecentDecisions;
use crate::http::server::{self, BindError};
use crate::outbox::{DecisionStore, Outbox};
use crate::recording::{RecordedUpdates, Recorder};
use crate::rules::{self, RuleSet, RulesError};
use crate::runtime::{BackgroundRuntime, DELIVERY_NICENESS};
use crate::settings::Settings;
use crate::state::AppState;
use crate::store::{self, SharedStore};
use crate::telemetry::metrics::{Metrics, RuleSeries};
use crate::twilio::client::{ClientError, TwilioClient};
use crate::twilio::deliverer::{Deliverer, Limits};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("cannot start the REST delivery thread: {0}")]
    DeliveryThread(std::io::Error),
    #[error("cannot start the shared store's thread: {0}")]
    StoreThread(std::io::Error),
    #[error("cannot start the decision recorder's thread: {0}")]
    RecorderThread(std::io::Error),
    #[error(transparent)]
    Store(#[from] store::ConfigError),
    #[error(
        "store.url names a shared store, but no REST credentials are configured: the store \
         only keeps REST updates (set TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or \
         TWILIO_API_KEY with TWILIO_API_SECRET; or leave store.url empty)"
    )]
    StoreWithoutRest,
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error("cannot listen for signals (SIGTERM, SIGINT, SIGHUP): {0}")]
    Signals(std::io::Error),
}

/// How long start waits for the shared store's schema before serving without it (decisions
/// are then delivered from memory until the store answers).
const MIGRATE_AT_START: Duration = Duration::from_secs(5);

/// How long shutdown waits for the last decision records to reach the shared store: the
/// recorder's queue and one batch take well under a second when the store answers.
const RECORDS_SETTLE: Duration = Duration::from_secs(2);

/// Distinct Reservations remembered for de-duplication. Only REST decisions are kept, for
/// `twilio.update_deadline_secs`; a few hundred bytes each.
const RECENT_CAPACITY: usize = 50_000;

/// The running service: the callback listener, the admin listener, and the deliverer of
/// REST updates.
pub struct Application {
    port: u16,
    admin_port: u16,
    servers: Vec<Server>,
    state: Arc<AppState>,
    grace: Duration,
    max_connections: usize,
    signals: Signals,
    /// `None` when `rules.watch` is off: only SIGHUP reloads then.
    watch: Option<Watch>,
    /// Stopped explicitly at shutdown, before the outbox releases its leases.
    delivery_runtime: Option<BackgroundRuntime>,
    /// Declared last: the outbox's queries run on it until the very end.
    _store_runtime: Option<BackgroundRuntime>,
}

impl Application {
    /// Loads the rules, binds both listeners (port 0 picks a free port) and prepares the
    /// servers. Nothing is served until [`Application::run_until_stopped`].
    pub fn build(settings: &Settings) -> Result<Self, StartupError> {
        // Before the read, so that a change made while it reads is still seen afterwards.
        let before_load = settings
            .rules
            .watch
            .then(|| Snapshot::take(std::slice::from_ref(&settings.rules.path)));
        let rules = rules::load(&settings.rules.path)?;
        for warning in &rules.warnings {
            tracing::warn!(file = %settings.rules.path.display(), "{warning}");
        }
        let verifier = if settings.callback.verify_signature {
            let urls = settings.callback_urls();
            for url in urls.iter().filter(|url| url.contains('#')) {
                tracing::info!(
                    url = %diagnosis::masked_url(url),
                    "a callback URL holds a #fragment (Twilio's connection overrides): it is \
                     left out of the signature, as Twilio leaves it out"
                );
            }
            Some(Verifier::new(&urls, settings.signing_tokens()))
        } else {
            tracing::warn!(
                "callback.verify_signature = false: callbacks are NOT checked to come from \
                 Twilio; never run like this where the internet can reach the service"
            );
            None
        };
        // Counted as a reload counts them (`rules reloaded`), and as `rules_loaded` does.
        tracing::info!(
            rules = rules.rules().count(),
            file = %settings.rules.path.display(),
            "rules loaded"
        );
        let metrics = Arc::new(Metrics::new());
        metrics.rules_loaded(rules.rules().count());
        metrics.follow_rules(&rule_series(&rules));
        let (deliverer, delivery_runtime) = match TwilioClient::new(&settings.twilio) {
            Ok(client) => {
                let runtime = BackgroundRuntime::start("rest-delivery", DELIVERY_NICENESS)
                    .map_err(StartupError::DeliveryThread)?;
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
        let (store, store_runtime) = match (&settings.store.url, &deliverer) {
            (None, _) => (DecisionStore::Memory, None),
            (Some(_), None) => return Err(StartupError::StoreWithoutRest),
            (Some(url), Some(deliverer)) => {
                let runtime = BackgroundRuntime::start("shared-store", 0)
                    .map_err(StartupError::StoreThread)?;
                let store = SharedStore::open(
                    url,
                    settings.store.max_connections,
                    u32::try_from(server::workers()).unwrap_or(u32::MAX),
                    runtime.handle(),
                    metrics.clone(),
                )?;
                let outbox = Arc::new(Outbox::new(
                    store,
                    deliverer.clone(),
                    Duration::from_secs(settings.store.lease_secs),
                    settings.decisions.keep_hours,
                    settings.store.claim_waits_for_disk,
                    metrics.clone(),
                    &runtime.handle(),
                ));
                deliverer.set_journal(Arc::new(outbox.clone()));
                start_outbox(&outbox, &runtime);
                (DecisionStore::Shared(outbox), Some(runtime))
            }
        };
        let mask = Mask::new(settings.decisions.mask.clone());
        let recorder = Recorder::start(
            settings.decisions.keep,
            mask.clone(),
            store
                .shared()
                .zip(store_runtime.as_ref())
                .map(|(outbox, runtime)| (outbox.store().clone(), runtime.handle())),
            metrics.clone(),
        )
        .map_err(StartupError::RecorderThread)?;
        if let Some(deliverer) = &deliverer {
            deliverer.set_log(Arc::new(RecordedUpdates(recorder.book().clone())));
        }
        let events_verifier = settings
            .events_url()
            .filter(|_| settings.callback.verify_signature)
            .map(|url| {
                tracing::info!(
                    path = settings.callback.events_path.as_deref().unwrap_or_default(),
                    url = %diagnosis::masked_url(&url),
                    "TaskRouter's events are taken: their signatures are checked against this URL"
                );
                Verifier::new(std::slice::from_ref(&url), settings.signing_tokens())
            });
        let watch = before_load
            .map(|before| Watch::new(&before, watch::paths(&settings.rules.path, &rules)));
        let state = Arc::new(AppState {
            rules: ArcSwap::from_pointee(rules),
            rules_path: settings.rules.path.clone(),
            verifier,
            max_body_bytes: settings.callback.max_body_bytes,
            deliverer,
            recent: RecentDecisions::new(
                RECENT_CAPACITY,
                Duration::from_secs(settings.twilio.update_deadline_secs),
            ),
            update_deadline: Duration::from_secs(settings.twilio.update_deadline_secs),
            store,
            recorder,
            mask,
            events_verifier,
            admin_token: settings.admin.bearer_token.clone(),
            metrics,
        });
        let signals = Signals::register().map_err(StartupError::Signals)?;
        let listeners = server::listen(settings, state.clone())?;
        Ok(Self {
            port: listeners.port,
            admin_port: listeners.admin_port,
            servers: listeners.servers,
            state,
            grace: Duration::from_secs(settings.server.shutdown_grace_secs),
            max_connections: listeners.max_connections,
            signals,
            watch,
            delivery_runtime,
            _store_runtime: store_runtime,
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
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let Signals { mut stop, hangup } = self.signals;
        let handles: Vec<ServerHandle> = self.servers.iter().map(Server::handle).collect();
        // Both listeners must be polled at once: spawn every server before awaiting any.
        let servers: Vec<_> = self.servers.into_iter().map(tokio::spawn).collect();
        let reloader = tokio::spawn(reload::run(self.state.clone(), hangup, self.watch));
        let stopper = tokio::spawn(async move {
            let signal = stop.requested().await;
            tracing::info!(
                signal,
                "stopping: no new connections; answers in flight and pending updates finish"
            );
            // Each stop is sent at once; both listeners then finish their in-flight requests
            // for up to `server.shutdown_grace_secs`.
            let stops: Vec<_> = handles.iter().map(|handle| handle.stop(true)).collect();
            for stop in stops {
                stop.await;
            }
        });
        for server in servers {
            server.await.map_err(std::io::Error::other)??;
        }
        stopper.abort();
        reloader.abort();
        if let Some(outbox) = self.state.store.shared() {
            // What is left in the store is for the replicas that keep running.
            outbox.stop_taking();
        }
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
        // Nothing is sent after this: an update whose lease is given up next must not also
        // be on its way from here.
        drop(self.delivery_runtime.take());
        if self.state.store.shared().is_some() {
            // The last answers' records are on their way to the store: its thread stops
            // when this returns.
            let left = self.state.recorder.settle(RECORDS_SETTLE).await;
            if left > 0 {
                tracing::warn!(
                    left,
                    "stopping before every decision record reached the shared store"
                );
            }
        }
        if let Some(outbox) = self.state.store.shared() {
            let released = outbox.close().await;
            if released > 0 {
                tracing::info!(
                    released,
                    "released the leases of unfinished updates: another replica takes them now"
                );
            }
        }
        Ok(())
    }
}

/// Applies the schema (waiting a few seconds for a store that is slow to come up), then runs
/// the outbox's background work on the store's thread. Blocks the caller for at most
/// [`MIGRATE_AT_START`]: this is start-up.
fn start_outbox(outbox: &Arc<Outbox>, runtime: &BackgroundRuntime) {
    let (done, migrated) = std::sync::mpsc::channel();
    let first = outbox.clone();
    runtime.handle().spawn(async move {
        let result = first.migrate(MIGRATE_AT_START).await;
        let _ = done.send(result);
        tokio::spawn(first.clone().confirm_forever());
        first.run().await;
    });
    tracing::info!(
        store = outbox.target(),
        holder = outbox.holder(),
        lease_secs = outbox.lease().as_secs(),
        "REST decisions are kept in the shared store"
    );
    match migrated.recv_timeout(MIGRATE_AT_START + Duration::from_secs(1)) {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(
            error = %error,
            "the shared store is not ready: serving anyway, with REST updates sent from \
             memory until it answers (tried again every few seconds)"
        ),
        Err(_) => tracing::error!(
            "the shared store did not answer in time: serving anyway, with REST updates sent \
             from memory until it answers"
        ),
    }
}

/// The series each rule in force can move, for the metrics to hold at 0 from start.
fn rule_series(rules: &RuleSet) -> Vec<RuleSeries> {
    rules
        .rules()
        .map(|rule| RuleSeries {
            rule: rule.label.clone(),
            instruction: rule.instruction.name(),
            delivery: rule.delivery.name(),
            answers_duplicates: rule.sends_update(),
            can_be_skipped: rule.holds_templates(),
        })
        .collect()
}
