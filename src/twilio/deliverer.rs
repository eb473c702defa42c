//! Delivering Reservation updates in the background, after the callback has its answer.
//!
//! Each update is retried on 429, 5xx, timeouts and refused connections, with exponential
//! backoff and jitter (or the `Retry-After` Twilio asks for), until it lands, meets a
//! final answer, or its deadline passes. At most `max_in_flight` requests are out at once,
//! and at most `max_pending` updates wait; every update ends in exactly one log line.
//! Past half of `max_pending`, REST callbacks wait for room before they are answered
//! ([`Deliverer::wait_for_room`]): taking decisions faster than they can be sent only
//! lengthens a queue whose end misses its deadline, and the other half stays for what cannot
//! wait (updates taken over from the store, and those of callbacks that waited in vain).
//!
//! With a shared store, a [`Journal`] hears of each durable update's failed attempts and of
//! its end, and an update taken over from another replica, or decided while the store was
//! away, is first checked with Twilio (`reconcile`): one that is no longer pending is not sent.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

use crate::instruction::InstructionKind;
use crate::telemetry::events::{CallbackHeld, UpdateEnded, UpdateOutcome};
use crate::telemetry::metrics::Metrics;
use crate::telemetry::throttle::Throttle;
use crate::twilio::client::{AttemptError, Landed, ReservationTarget, TwilioClient};

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Less time than this left before the deadline is not worth a request: it could not get
/// an answer back, yet it might still reach Twilio and take effect while being reported as
/// expired.
const MIN_ATTEMPT: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Callbacks waiting for room are logged this often, at most (counted always).
const HOLD_LOG_EVERY: Duration = Duration::from_secs(60);

/// One Reservation update to deliver.
#[derive(Debug, Clone)]
pub struct Update {
    pub target: ReservationTarget,
    pub rule: String,
    pub instruction: InstructionKind,
    /// The form, urlencoded ([`crate::twilio::client::encode`]).
    pub body: String,
    /// When the rule decided it: the landing latency is counted from here.
    pub decided_at: SystemTime,
    /// No request is started after this. Wall-clock time, so that it is the same on
    /// whichever replica finishes the update.
    pub deadline: SystemTime,
    /// Requests already made for it (by another replica, or before a restart).
    pub attempts: u32,
    /// Kept in the shared store: the [`Journal`] hears how it goes.
    pub durable: bool,
    /// Taken over from a replica that may have sent it, or decided while the shared store
    /// was away (another replica may have sent it): ask Twilio whether the Reservation is
    /// still pending before sending it.
    pub reconcile: bool,
}

/// Where a durable update's progress is written (the shared store's outbox). The futures are
/// awaited by the update's own task, so a drain at shutdown waits for them too.
pub trait Journal: Send + Sync + Debug {
    /// An attempt failed and another comes after `retry_in`.
    fn attempted(
        &self,
        update: &Update,
        attempts: u32,
        retry_in: Duration,
        reason: &str,
    ) -> BoxFuture<'static, ()>;
    /// The update ended; `outcome` is one of [`UpdateOutcome::label`]'s.
    fn ended(
        &self,
        update: &Update,
        attempts: u32,
        outcome: &'static str,
        detail: Option<String>,
    ) -> BoxFuture<'static, ()>;
    /// The update was not taken (the deliverer is full): someone must take it later.
    fn deferred(&self, update: &Update);
    /// Where the update stands in the store, asked before each retry: a TaskRouter event
    /// heard by another replica may have ended it as moved on, or another replica taken it
    /// over (this one's lease ran out: it stalled, or the store was away). A store that does
    /// not answer counts as [`Standing::Held`].
    fn standing(&self, update: &Update) -> BoxFuture<'static, Standing>;
    /// Another replica holds the update now and sends it: this one stops, and writes
    /// nothing of it, since the row is that replica's.
    fn handed_over(&self, update: &Update);
}

/// Where an update this replica is sending stands in the shared store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Still pending, and this replica's to send.
    Held,
    /// Ended (an event said the Reservation moved on).
    Ended,
    /// Pending, held by another replica, which took it over.
    HeldElsewhere,
}

/// Hears how every update goes, durable or not: the decision records.
pub trait UpdateLog: Send + Sync + Debug {
    /// An attempt failed; another may come.
    fn attempted(&self, update: &Update, attempts: u32, reason: &str);
    /// The update ended; `outcome` is one of [`UpdateOutcome::label`]'s.
    fn ended(&self, update: &Update, attempts: u32, outcome: &'static str, detail: Option<&str>);
}

/// Reservations TaskRouter said have moved on before their update started here, so that it
/// ends at once when it does. Bounded: the oldest are forgotten first.
const EARLY_STOPS: usize = 10_000;

/// Why an update in progress must stop, once an event says so.
#[derive(Debug)]
struct Stop {
    task_sid: String,
    reason: Mutex<Option<String>>,
    notify: Notify,
}

impl Stop {
    fn reason(&self) -> Option<String> {
        self.reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set(&self, why: &str) {
        *self
            .reason
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(why.to_owned());
        // Wakes the update's task whether it is waiting for a turn or sleeping out a
        // backoff; one sending a request finishes it first (it may already be at Twilio).
        self.notify.notify_one();
    }
}

/// The updates in progress here, and the early stops.
#[derive(Debug, Default)]
struct Stops {
    active: HashMap<String, Arc<Stop>>,
    early: HashSet<String>,
    early_order: VecDeque<String>,
}

/// How delivery is bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests to Twilio out at once.
    pub max_in_flight: usize,
    /// Updates accepted but not yet ended; more are refused (and logged).
    pub max_pending: usize,
    /// From the decision: stop retrying after this.
    pub deadline: Duration,
}

/// Why an update was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} reservation updates are already pending")]
pub struct Full(pub usize);

/// Hands updates to background tasks and can wait for them at shutdown.
#[derive(Debug, Clone)]
pub struct Deliverer {
    client: Arc<TwilioClient>,
    in_flight: Arc<Semaphore>,
    pending: Arc<AtomicUsize>,
    idle: Arc<Notify>,
    /// Woken, one callback at a time, as updates end while callbacks wait for room.
    room: Arc<Notify>,
    /// Callbacks waiting for room now.
    holding: Arc<AtomicUsize>,
    /// Callbacks waiting for room are logged at most once a minute.
    hold_log: Arc<Throttle>,
    limits: Limits,
    metrics: Arc<Metrics>,
    /// Set once, when the service has a shared store.
    journal: Arc<OnceLock<Arc<dyn Journal>>>,
    /// Set once, at start: the decision records.
    log: Arc<OnceLock<Arc<dyn UpdateLog>>>,
    stops: Arc<Mutex<Stops>>,
    /// The delivery thread's runtime ([`crate::runtime`]). Not actix's per-worker
    /// runtimes: those are dropped, with every task on them, when the listeners stop, and
    /// updates must outlive that to be drained at shutdown.
    runtime: tokio::runtime::Handle,
}

/// An update's task: ends it in the pending count however the task ends.
struct PendingGuard(Deliverer);

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.ended_one();
    }
}

/// A callback waiting for room, counted however its wait ends (a cancelled request too).
struct Holding<'a>(&'a AtomicUsize);

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Deliverer {
    /// Updates run on `runtime`, which must outlive the listeners for a drain to work.
    pub fn new(
        client: TwilioClient,
        limits: Limits,
        metrics: Arc<Metrics>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            metrics,
            runtime,
            client: Arc::new(client),
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            pending: Arc::new(AtomicUsize::new(0)),
            idle: Arc::new(Notify::new()),
            room: Arc::new(Notify::new()),
            holding: Arc::default(),
            hold_log: Arc::new(Throttle::new(HOLD_LOG_EVERY)),
            journal: Arc::default(),
            log: Arc::default(),
            stops: Arc::default(),
            limits,
        }
    }

    /// Durable updates are journaled from now on. A second journal is ignored.
    pub fn set_journal(&self, journal: Arc<dyn Journal>) {
        let _ = self.journal.set(journal);
    }

    /// Every update's progress is logged here from now on. A second log is ignored.
    pub fn set_log(&self, log: Arc<dyn UpdateLog>) {
        let _ = self.log.set(log);
    }

    /// Ends the update of this Reservation as moved on: at once when it is waiting, after
    /// its request when one is out. One not started yet ends as soon as it starts. Whether
    /// an update in progress here was stopped.
    pub fn stop(&self, reservation_sid: &str, why: &str) -> bool {
        let mut stops = self.lock_stops();
        if let Some(stop) = stops.active.get(reservation_sid) {
            stop.set(why);
            return true;
        }
        if stops.early.insert(reservation_sid.to_owned()) {
            stops.early_order.push_back(reservation_sid.to_owned());
            while stops.early_order.len() > EARLY_STOPS {
                if let Some(oldest) = stops.early_order.pop_front() {
                    stops.early.remove(&oldest);
                }
            }
        }
        false
    }

    /// As [`Deliverer::stop`], for every update in progress of this Task; how many.
    pub fn stop_task(&self, task_sid: &str, why: &str) -> usize {
        let stops = self.lock_stops();
        let mut stopped = 0;
        for stop in stops
            .active
            .values()
            .filter(|stop| stop.task_sid == task_sid)
        {
            stop.set(why);
            stopped += 1;
        }
        stopped
    }

    fn lock_stops(&self) -> std::sync::MutexGuard<'_, Stops> {
        self.stops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers `update` as in progress; `None` when an event already said it moved on.
    fn start(&self, update: &Update) -> Result<Arc<Stop>, String> {
        let sid = &update.target.reservation_sid;
        let mut stops = self.lock_stops();
        if stops.early.remove(sid) {
            stops.early_order.retain(|early| early != sid);
            return Err(
                "TaskRouter said the reservation had moved on before it was sent".to_owned(),
            );
        }
        let stop = Arc::new(Stop {
            task_sid: update.target.task_sid.clone(),
            reason: Mutex::new(None),
            notify: Notify::new(),
        });
        stops.active.insert(sid.clone(), stop.clone());
        Ok(stop)
    }

    fn finish(&self, update: &Update) {
        self.lock_stops()
            .active
            .remove(&update.target.reservation_sid);
    }

    /// How many more updates would be taken now.
    pub fn room(&self) -> usize {
        self.limits.max_pending.saturating_sub(self.pending())
    }

    fn journal(&self, update: &Update) -> Option<&Arc<dyn Journal>> {
        self.journal.get().filter(|_| update.durable)
    }

    /// Updates accepted and not yet ended.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Below this many pending updates a REST callback is answered at once: half of
    /// `max_pending` (see the module).
    fn admit_below(&self) -> usize {
        (self.limits.max_pending / 2).max(1)
    }

    /// Waits, up to `within`, until fewer than half of `max_pending` updates are pending;
    /// `true` at once while they are, `false` when `within` ran out first. Each update that
    /// ends lets one waiting callback go, so that the callbacks taken match the updates sent.
    /// A soft bound: callbacks let go together may each add an update.
    pub async fn wait_for_room(&self, within: Duration) -> bool {
        let admit_below = self.admit_below();
        if self.pending() < admit_below {
            return true;
        }
        let started = Instant::now();
        let room = self.wait_below(admit_below, started + within).await;
        CallbackHeld {
            waited: started.elapsed(),
            room,
            pending: self.pending(),
        }
        .emit(&self.metrics, self.hold_log.allows());
        room
    }

    async fn wait_below(&self, admit_below: usize, until: Instant) -> bool {
        self.holding.fetch_add(1, Ordering::SeqCst);
        let _held = Holding(&self.holding);
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if self.pending.load(Ordering::SeqCst) < admit_below {
                return true;
            }
            if tokio::time::timeout_at(until, room).await.is_err() {
                return self.pending() < admit_below;
            }
        }
    }

    /// Starts delivering `update` in the background; returns at once.
    pub fn submit(&self, update: Update) -> Result<(), Full> {
        let taken = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limits.max_pending).then_some(n + 1)
            });
        let Ok(before) = taken else {
            let max_pending = self.limits.max_pending;
            match self.journal(&update) {
                // Still in the store: another turn, here or on another replica, sends it.
                Some(journal) => journal.deferred(&update),
                None => {
                    event(&update, 0, UpdateOutcome::Dropped { max_pending }).emit(&self.metrics);
                    if let Some(log) = self.log.get() {
                        log.ended(&update, 0, "dropped", Some("the deliverer was full"));
                    }
                }
            }
            return Err(Full(max_pending));
        };
        self.metrics.updates_pending(before + 1);
        let task = PendingGuard(self.clone());
        self.runtime.spawn(async move {
            task.0.deliver(update).await;
        });
        Ok(())
    }

    /// An update ended: out of the pending count, waking a waiting callback or drain.
    fn ended_one(&self) {
        // SeqCst here and in `wait_below`: of a callback starting to wait and an update
        // ending, at least one sees the other, so no callback waits for a room it missed.
        let left = self.pending.fetch_sub(1, Ordering::SeqCst) - 1;
        self.metrics.updates_pending(left);
        // Only while callbacks wait: a wake-up takes a lock.
        if left < self.admit_below() && self.holding.load(Ordering::SeqCst) > 0 {
            self.room.notify_one();
        }
        if left == 0 {
            self.idle.notify_waiters();
        }
    }

    /// Waits up to `grace` for every pending update to end; returns how many had not.
    pub async fn drain(&self, grace: Duration) -> usize {
        let until = Instant::now() + grace;
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Register before reading the count, so a wake-up between the two is not lost.
            idle.as_mut().enable();
            if self.pending() == 0 {
                return 0;
            }
            if tokio::time::timeout_at(until, idle).await.is_err() {
                return self.pending();
            }
        }
    }

    async fn deliver(&self, update: Update) {
        let (attempts, ended) = match self.start(&update) {
            Ok(stop) => {
                let ended = self.attempt_until_ended(&update, &stop).await;
                self.finish(&update);
                ended
            }
            Err(why) => (update.attempts, Ended::Stopped(why)),
        };
        let outcome = ended.outcome();
        let label = outcome.label();
        event(&update, attempts, outcome).emit(&self.metrics);
        if let Some(log) = self.log.get() {
            log.ended(&update, attempts, label, ended.detail().as_deref());
        }
        if let Some(journal) = self.journal(&update) {
            if matches!(ended, Ended::HandedOver) {
                journal.handed_over(&update);
            } else {
                journal
                    .ended(&update, attempts, label, ended.detail())
                    .await;
            }
        }
    }

    /// Sends `update` until it lands, meets a final answer or runs out of time; returns the
    /// requests made (with those made before it came here) and how it ended.
    async fn attempt_until_ended(&self, update: &Update, stop: &Stop) -> (u32, Ended) {
        let deadline = Instant::now()
            + update
                .deadline
                .duration_since(SystemTime::now())
                .unwrap_or_default();
        let mut attempts = update.attempts;
        let mut reconcile = update.reconcile;
        loop {
            if let Some(why) = stop.reason() {
                return (attempts, Ended::Stopped(why));
            }
            if attempts > update.attempts
                && let Some(journal) = self.journal(update)
            {
                match journal.standing(update).await {
                    Standing::Held => {}
                    Standing::Ended => {
                        let why = "the shared store says it ended (another replica heard that \
                                   the reservation moved on)";
                        return (attempts, Ended::Stopped(why.to_owned()));
                    }
                    Standing::HeldElsewhere => return (attempts, Ended::HandedOver),
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let acquired = tokio::select! {
                acquired = tokio::time::timeout(remaining, self.in_flight.acquire()) => acquired,
                () = stop.notify.notified() => continue,
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            let permit = match acquired {
                // The semaphore is never closed, so waiting ends in a permit or the deadline.
                Ok(Ok(permit)) if remaining >= MIN_ATTEMPT => permit,
                _ => {
                    let last_error = "no turn came before the deadline".to_owned();
                    return (attempts, Ended::Expired(last_error));
                }
            };
            attempts += 1;
            let in_flight = self.metrics.update_attempt();
            let result = if reconcile {
                self.client
                    .reservation_status(&update.target, remaining)
                    .await
                    .map(Checked::Status)
            } else {
                self.client
                    .update_reservation(&update.target, &update.body, remaining)
                    .await
                    .map(Checked::Landed)
            };
            drop(in_flight);
            drop(permit);
            let (reason, retry_after) = match result {
                Ok(Checked::Status(status)) if status == "pending" => {
                    // Still waiting for this update: send it now.
                    reconcile = false;
                    continue;
                }
                Ok(Checked::Status(status)) => {
                    let message = format!("the reservation is already {status}");
                    return (attempts, Ended::Settled(message));
                }
                Ok(Checked::Landed(landed)) => {
                    let unconfirmed = match landed {
                        Landed::Unconfirmed { status } => Some(status),
                        Landed::Confirmed => None,
                    };
                    let latency = SystemTime::now()
                        .duration_since(update.decided_at)
                        .unwrap_or_default();
                    return (
                        attempts,
                        Ended::Landed {
                            latency,
                            unconfirmed,
                        },
                    );
                }
                Err(AttemptError::Retryable {
                    reason,
                    retry_after,
                }) => (reason, retry_after),
                Err(error) => return (attempts, Ended::Refused(error)),
            };
            let wait = retry_after.unwrap_or_else(|| backoff(attempts));
            if Instant::now() + wait >= deadline {
                return (attempts, Ended::Expired(reason));
            }
            tracing::debug!(
                reservation_sid = %update.target.reservation_sid,
                attempts,
                reason = %reason,
                wait_ms = wait.as_millis() as u64,
                "reservation update will be retried"
            );
            if let Some(log) = self.log.get() {
                log.attempted(update, attempts, &reason);
            }
            if let Some(journal) = self.journal(update) {
                journal.attempted(update, attempts, wait, &reason).await;
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                // Checked at the top of the loop.
                () = stop.notify.notified() => {}
            }
        }
    }
}

/// Why an update handed over to another replica ended here.
const HANDED_OVER: &str = "another replica took it over (the lease here ran out) and sends it";

/// How an update's attempts ended.
enum Ended {
    Landed {
        latency: Duration,
        unconfirmed: Option<u16>,
    },
    /// A final answer from Twilio (moved on, refused, redirected).
    Refused(AttemptError),
    /// Checked before sending again: the Reservation is no longer pending (the message
    /// says its state).
    Settled(String),
    /// A TaskRouter event said the Reservation moved on (the message says which).
    Stopped(String),
    /// Another replica took the update over (this one's lease ran out: it stalled, or the
    /// store was away) and sends it: this one sends no more.
    HandedOver,
    Expired(String),
}

impl Ended {
    fn outcome(&self) -> UpdateOutcome<'_> {
        match self {
            Ended::Landed {
                latency,
                unconfirmed,
            } => UpdateOutcome::Landed {
                latency: *latency,
                unconfirmed: *unconfirmed,
            },
            Ended::Refused(error) => final_outcome(error),
            Ended::Settled(message) => UpdateOutcome::MovedOn {
                status: 200,
                message,
            },
            // No answer from Twilio said so: an event did.
            Ended::Stopped(message) => UpdateOutcome::MovedOn { status: 0, message },
            Ended::HandedOver => UpdateOutcome::MovedOn {
                status: 0,
                message: HANDED_OVER,
            },
            Ended::Expired(last_error) => UpdateOutcome::Expired { last_error },
        }
    }

    /// What the shared store keeps as the update's last error.
    fn detail(&self) -> Option<String> {
        match self {
            Ended::Landed { .. } => None,
            Ended::Refused(error) => Some(error.to_string()),
            Ended::Settled(message) | Ended::Stopped(message) => Some(message.clone()),
            Ended::HandedOver => Some(HANDED_OVER.to_owned()),
            Ended::Expired(last_error) => Some(last_error.clone()),
        }
    }
}

/// What one request told: the Reservation's status (a check before sending again), or that
/// the update landed.
enum Checked {
    Status(String),
    Landed(Landed),
}

/// A random wait between half and all of an exponentially growing ceiling ("equal
/// jitter"): spread out, yet never much shorter than the backoff intends.
fn backoff(attempts: u32) -> Duration {
    let ceiling = FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1)))
        .min(MAX_BACKOFF);
    let millis = ceiling.as_millis() as u64;
    Duration::from_millis(fastrand::u64(millis / 2..=millis))
}

/// The event for `update`, ended after `attempts` requests.
fn event<'a>(update: &'a Update, attempts: u32, outcome: UpdateOutcome<'a>) -> UpdateEnded<'a> {
    UpdateEnded {
        reservation_sid: &update.target.reservation_sid,
        rule: &update.rule,
        instruction: update.instruction.name(),
        attempts,
        outcome,
    }
}

/// How an attempt that will not be retried ended the update.
fn final_outcome(error: &AttemptError) -> UpdateOutcome<'_> {
    match error {
        AttemptError::MovedOn { status, message } => UpdateOutcome::MovedOn {
            status: *status,
            message,
        },
        AttemptError::Final {
            status,
            code,
            message,
            more_info,
        } => UpdateOutcome::FinalError {
            status: *status,
            code: *code,
            message: message.as_deref(),
            more_info: more_info.as_deref(),
        },
        AttemptError::Redirected { status, origin } => UpdateOutcome::Redirected {
            status: *status,
            origin,
        },
        AttemptError::Retryable { reason, .. } => UpdateOutcome::Expired { last_error: reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_under_its_ceiling() {
        for attempts in 1..20 {
            let ceiling = FIRST_BACKOFF
                .saturating_mul(2u32.saturating_pow(attempts - 1))
                .min(MAX_BACKOFF);
            let wait = backoff(attempts);
            assert!(
                wait <= ceiling && wait >= ceiling / 2,
                "{attempts}: {wait:?}"
            );
        }
    }
}
