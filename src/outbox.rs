//! The durable outbox: REST decisions claimed fleet-wide in the shared store, and sent by
//! whichever replica holds them (§8 of the design).
//!
//! - A claim is written before the callback's `{}` goes out; the replica that wins it sends
//!   the update at once, holding a lease it renews while it works.
//! - Every replica polls for pending updates whose lease ran out (their holder died, stopped
//!   or restarted) and takes them over (`FOR UPDATE SKIP LOCKED`); the deliverer checks with
//!   Twilio before sending one again.
//! - A claim is committed before `{}` goes out, without waiting for the server's disk: other
//!   replicas see it at once, and a replica that dies leaves it with the server. Until it is
//!   on disk, the replica keeps a copy in memory; every [`CONFIRM_EVERY`] one statement has all
//!   of them on disk (its commit waits for the flush, which takes everything before it) and
//!   writes again any the server lost in a crash. Only the server and this replica failing
//!   together within that moment lose a claim, as only both copies going at once would.
//!   `store.claim_waits_for_disk` makes `{}` wait for the disk instead.
//! - When the store does not answer a claim within 500 ms, the update is sent from memory,
//!   as with no store at all, once Twilio says the Reservation is still pending: routing
//!   never waits on the database.

pub mod ends;

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use self::ends::Ends;
use crate::instruction::InstructionKind;
use crate::recording;
use crate::store::updates::{Ended, NewUpdate, StoredUpdate};
use crate::store::{SharedStore, StoreError};
use crate::telemetry::events::{
    ClaimsRestored, StoreFailed, StoreMigrated, UpdateDeferred, UpdateTakenOver,
};
use crate::telemetry::metrics::Metrics;
use crate::telemetry::throttle::Throttle;
use crate::twilio::client::ReservationTarget;
use crate::twilio::deliverer::{Deliverer, Journal, Standing, Update};

/// The longest a claim may hold up a callback's answer.
pub const CLAIM_TIMEOUT: Duration = Duration::from_millis(500);
/// How often the store's failures are logged, at most: counted always, but one line a
/// minute is enough to say that the store is down.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// Retention runs this often (and once the schema is known to be there).
const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// The depth gauges are read this often.
const DEPTH_EVERY: Duration = Duration::from_secs(5);
/// A store that is down at start is tried again this often.
const MIGRATE_RETRY: Duration = Duration::from_secs(2);
/// How often the background work asks a failing store again (its first question each turn
/// is the takeover poll), instead of the poll interval: connection refused is cheap to hear.
const RECHECK_WHILE_FAILING: Duration = Duration::from_millis(100);
/// Updates taken over per poll, at most.
const TAKE_AT_ONCE: usize = 200;
/// Updates sent from memory that wait for the store to come back, at most: a minute of a
/// busy contact center's REST decisions. Past it the oldest are forgotten first, since
/// TaskRouter's duplicates come within seconds.
const FROM_MEMORY_KEPT: usize = 20_000;
/// Updates sent from memory written to the store per statement.
const FROM_MEMORY_AT_ONCE: usize = 1_000;
/// How often the claims not yet known to be on disk are confirmed: the longest a claim is
/// only in the server's memory and this replica's, give or take one flush.
pub const CONFIRM_EVERY: Duration = Duration::from_millis(50);
/// Claims confirmed per statement, at most; more wait for the next turn.
const CONFIRM_AT_ONCE: usize = 2_000;

/// Where REST decisions are claimed and kept, chosen at start from `store.url`.
#[derive(Debug, Clone)]
pub enum DecisionStore {
    /// This process's memory: [`crate::dedupe`] makes the claim (within
    /// `pipeline::process`), and the deliverer holds the update until it ends. One replica.
    Memory,
    /// The shared PostgreSQL store: claimed fleet-wide, kept durably.
    Shared(Arc<Outbox>),
}

impl DecisionStore {
    /// Claims `update`'s Reservation before its `{}` is answered. The memory store's claim
    /// was made in memory already, so it has won by the time this is asked.
    pub async fn claim(&self, update: &mut Update) -> Claim {
        match self {
            DecisionStore::Memory => Claim::Won,
            DecisionStore::Shared(outbox) => outbox.claim(update).await,
        }
    }

    /// The shared store's outbox, if that is the store.
    pub fn shared(&self) -> Option<&Arc<Outbox>> {
        match self {
            DecisionStore::Memory => None,
            DecisionStore::Shared(outbox) => Some(outbox),
        }
    }
}

/// How a claim went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This replica sends the update.
    Won,
    /// Another replica claimed the Reservation first: answer `{}`, send nothing.
    Lost,
    /// The store did not answer in time: the update is sent from memory.
    Unavailable,
}

/// The outbox's side of the service: claims, takeovers, lease renewal, retention.
#[derive(Debug)]
pub struct Outbox {
    store: SharedStore,
    deliverer: Deliverer,
    metrics: Arc<Metrics>,
    /// This process among the replicas: `host:pid:random`, new at every start, so that a
    /// restarted replica takes over what its previous life held once those leases expire.
    holder: String,
    lease: Duration,
    keep_hours: u64,
    /// `store.claim_waits_for_disk`.
    claim_waits_for_disk: bool,
    /// Claims committed without waiting for the disk, kept until the store has them on disk.
    unconfirmed: Mutex<VecDeque<NewUpdate>>,
    /// The schema is known to be in place; until then claims go straight to memory.
    ready: AtomicBool,
    /// The store's last answer was a success. While it is not, claims go straight to memory
    /// rather than each waiting out its 500 ms; the background work, which keeps asking,
    /// sets it again as soon as the store answers.
    healthy: AtomicBool,
    /// Stops taking new updates (shutdown).
    closed: AtomicBool,
    /// Reservations this replica is sending, whose leases it renews.
    held: Mutex<HashSet<String>>,
    /// Updates sent from memory while the store was away, to be written to it once it
    /// answers, so that their duplicates find them claimed.
    from_memory: Mutex<VecDeque<NewUpdate>>,
    /// Ends of updates on their way to the store, in batches.
    ends: Ends,
    /// Store failures are logged at most once a minute.
    failure_log: Throttle,
    /// Updates left in the store for want of room are logged at most once a minute.
    deferral_log: Throttle,
}

impl Outbox {
    /// The outbox on `store`; its ends are written by a task on `runtime`, the store's.
    pub fn new(
        store: SharedStore,
        deliverer: Deliverer,
        lease: Duration,
        keep_hours: u64,
        claim_waits_for_disk: bool,
        metrics: Arc<Metrics>,
        runtime: &tokio::runtime::Handle,
    ) -> Self {
        Self {
            ends: Ends::start(store.clone(), runtime),
            store,
            deliverer,
            metrics,
            holder: holder_name(),
            lease,
            keep_hours,
            claim_waits_for_disk,
            unconfirmed: Mutex::default(),
            ready: AtomicBool::new(false),
            healthy: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            held: Mutex::default(),
            from_memory: Mutex::default(),
            failure_log: Throttle::new(LOG_EVERY),
            deferral_log: Throttle::new(LOG_EVERY),
        }
    }

    /// The store itself, for what else is kept there (decision records).
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// This replica's name in the store's `holder` column.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Where the store is (`host:port/database`).
    pub fn target(&self) -> &str {
        self.store.target()
    }

    /// Applies the schema, within `wait`. On failure the service still starts: a task keeps
    /// trying ([`Outbox::run`]), and decisions are delivered from memory until then.
    pub async fn migrate(&self, wait: Duration) -> Result<(), StoreError> {
        let migrated = tokio::time::timeout(wait, self.store.migrate()).await;
        match migrated {
            Ok(Ok(applied)) => {
                StoreMigrated {
                    target: self.store.target(),
                    applied: &applied.applied,
                    version: applied.version,
                }
                .emit();
                self.ready.store(true, Ordering::Release);
                self.succeeded();
                Ok(())
            }
            Ok(Err(error)) => Err(error),
            Err(_) => Err(self
                .store
                .timed_out("migrate", "apply its schema migrations", wait)),
        }
    }

    /// Claims `update`'s Reservation for this replica before its `{}` is answered. On `Won`
    /// the update is marked durable; on `Won` and `Unavailable` it must be delivered.
    pub async fn claim(&self, update: &mut Update) -> Claim {
        if !self.ready.load(Ordering::Acquire) {
            self.failed(&self.store.error(
                "claim",
                "claim a REST decision",
                "its schema is not in place yet (the store has not answered since start)",
            ));
            return self.unavailable(update);
        }
        if !self.healthy.load(Ordering::Acquire) {
            // Already logged when it failed; counted here, one per decision.
            return self.unavailable(update);
        }
        let sid = update.target.reservation_sid.clone();
        let claim = new_update(update);
        let kept = (!self.claim_waits_for_disk).then(|| claim.clone());
        let claimed = tokio::time::timeout(
            CLAIM_TIMEOUT,
            self.store
                .claim(claim, &self.holder, self.lease, self.claim_waits_for_disk),
        )
        .await;
        let error = match claimed {
            Ok(Ok(won)) => {
                self.succeeded();
                self.metrics.store_claimed(won);
                if !won {
                    return Claim::Lost;
                }
                if let Some(kept) = kept {
                    self.keep_unconfirmed(kept);
                }
                self.hold(&sid);
                update.durable = true;
                return Claim::Won;
            }
            Ok(Err(error)) => error,
            // Dropping the claim's future cancelled its query.
            Err(_) => self
                .store
                .timed_out("claim", "claim a REST decision", CLAIM_TIMEOUT),
        };
        self.failed(&error);
        // This replica sends the update from memory, and says so to the store at once rather
        // than at the next write-back: should the claim have committed all the same, its row
        // is ended as sent from memory, so no other replica takes it over; should it not have,
        // an ended row is written, so a late commit changes nothing. Either way a duplicate
        // finds it claimed. A note that fails is written by the write-back; a row that escapes
        // both is taken over after its lease and checked with Twilio before it is sent.
        let store = self.store.clone();
        let holder = self.holder.clone();
        let row = [new_update(update)];
        tokio::spawn(async move {
            let _ = store.note_sent_from_memory(&row, &holder).await;
        });
        self.unavailable(update)
    }

    /// The update goes from memory, unclaimed: counted, and checked with Twilio before it is
    /// sent. Without the store no replica knows what another decided, so a duplicate callback
    /// at a second replica (TaskRouter's retry, or the fallback URL, seconds later) would
    /// send its update again; the check finds the Reservation accepted by then and sends
    /// nothing. It costs a `GET` per update, only while the store is away. Two duplicates
    /// at the same moment can still both find it pending: the store is what orders them.
    /// Once the store answers again the update is written to it as sent from memory, so a
    /// duplicate that comes after that finds it claimed.
    fn unavailable(&self, update: &mut Update) -> Claim {
        self.metrics.store_unavailable();
        update.reconcile = true;
        let mut waiting = self
            .from_memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if waiting.len() >= FROM_MEMORY_KEPT {
            waiting.pop_front();
        }
        waiting.push_back(new_update(update));
        Claim::Unavailable
    }

    /// Writes the updates sent from memory while the store was away, a batch at a time; what
    /// the store does not take waits for its next answer.
    async fn write_from_memory(&self) {
        loop {
            let batch: Vec<NewUpdate> = {
                let mut waiting = self
                    .from_memory
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let take = waiting.len().min(FROM_MEMORY_AT_ONCE);
                waiting.drain(..take).collect()
            };
            if batch.is_empty() {
                return;
            }
            match self.store.note_sent_from_memory(&batch, &self.holder).await {
                Ok(written) => {
                    self.succeeded();
                    tracing::info!(
                        sent_from_memory = batch.len(),
                        written,
                        "wrote the updates sent from memory while the shared store was away: \
                         their duplicates now find them claimed (`written` leaves out those \
                         noted already)"
                    );
                }
                Err(error) => {
                    self.failed(&error);
                    let mut waiting = self
                        .from_memory
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let room = FROM_MEMORY_KEPT.saturating_sub(waiting.len());
                    // Back in front, in their order: older than anything decided since.
                    for update in batch.into_iter().take(room).rev() {
                        waiting.push_front(update);
                    }
                    return;
                }
            }
        }
    }

    /// Keeps `claim`, committed without waiting for the disk, until it is confirmed there.
    fn keep_unconfirmed(&self, claim: NewUpdate) {
        let mut unconfirmed = self
            .unconfirmed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Only while confirmations fail and claims still succeed, which the first failure
        // ends (claims then go to memory): the oldest have been with the server longest.
        if unconfirmed.len() >= FROM_MEMORY_KEPT {
            unconfirmed.pop_front();
        }
        unconfirmed.push_back(claim);
    }

    /// Confirms the claims kept so far on disk, writing again those the store lost (see the
    /// module). `true` when the store confirmed them all (or there were none).
    pub async fn confirm_claims(&self) -> bool {
        loop {
            let batch: Vec<NewUpdate> = {
                let mut unconfirmed = self
                    .unconfirmed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let take = unconfirmed.len().min(CONFIRM_AT_ONCE);
                unconfirmed.drain(..take).collect()
            };
            if batch.is_empty() {
                return true;
            }
            match self
                .store
                .confirm_claims(&batch, &self.holder, self.lease)
                .await
            {
                Ok(0) => self.succeeded(),
                Ok(restored) => {
                    self.succeeded();
                    ClaimsRestored {
                        count: restored,
                        confirmed: batch.len(),
                    }
                    .emit(&self.metrics);
                }
                Err(error) => {
                    // A store that cannot confirm cannot be trusted with new claims either:
                    // they go to memory until it answers, and these are tried again.
                    self.failed(&error);
                    let mut unconfirmed = self
                        .unconfirmed
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    for claim in batch.into_iter().rev() {
                        unconfirmed.push_front(claim);
                    }
                    return false;
                }
            }
        }
    }

    /// Confirms claims every [`CONFIRM_EVERY`], until the process ends.
    pub async fn confirm_forever(self: Arc<Self>) {
        let mut every = tokio::time::interval(CONFIRM_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.confirm_claims().await;
        }
    }

    /// The background work, until the process ends: finishing migrations the store was
    /// down for, taking over updates whose holder is gone, renewing this replica's
    /// leases, counting the outbox and deleting old rows.
    pub async fn run(self: Arc<Self>) {
        let poll = poll_interval(self.lease);
        let renew_every = self.lease / 3;
        let mut next_renew = Instant::now() + renew_every;
        let mut next_depth = Instant::now();
        let mut next_sweep = Instant::now();
        loop {
            if !self.ready.load(Ordering::Acquire) {
                if let Err(error) = self.migrate(MIGRATE_RETRY * 5).await {
                    self.failed(&error);
                    tokio::time::sleep(MIGRATE_RETRY).await;
                    continue;
                }
                next_sweep = Instant::now();
            }
            if !self.closed.load(Ordering::Acquire) {
                self.take_over().await;
            }
            if self.healthy.load(Ordering::Acquire) {
                self.write_from_memory().await;
            }
            let now = Instant::now();
            if now >= next_renew {
                self.renew().await;
                next_renew = now + renew_every;
            }
            if now >= next_depth {
                match self.store.depth().await {
                    Ok(depth) => {
                        self.succeeded();
                        self.metrics.outbox_depth(depth.due, depth.leased);
                    }
                    Err(error) => self.failed(&error),
                }
                // The records' writer adds early outcomes after each batch; this finds those
                // whose event and record crossed, and ages out the rest, when no batch comes.
                if let Err(error) =
                    recording::apply_early_outcomes(&self.store, &self.metrics, None).await
                {
                    self.failed(&error);
                }
                next_depth = now + DEPTH_EVERY;
            }
            if now >= next_sweep {
                match self.store.sweep(self.keep_hours).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(
                        deleted,
                        keep_hours = self.keep_hours,
                        "deleted ended updates past their retention from the shared store"
                    ),
                    Err(error) => self.failed(&error),
                }
                match self.store.sweep_decisions(self.keep_hours).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(
                        deleted,
                        keep_hours = self.keep_hours,
                        "deleted decision records past their retention from the shared store"
                    ),
                    Err(error) => self.failed(&error),
                }
                next_sweep = now + SWEEP_EVERY;
            }
            // While the store fails, claims go to memory without asking it: the sooner this
            // loop finds it answering again, the sooner decisions are fleet-wide again (and a
            // duplicate callback at another replica is not sent twice).
            let healthy = self.healthy.load(Ordering::Acquire);
            tokio::time::sleep(if healthy { poll } else { RECHECK_WHILE_FAILING }).await;
        }
    }

    /// Shutdown: no more takeovers; the leases of whatever this replica still holds are
    /// given up, so another replica takes those updates at once.
    pub async fn close(&self) -> u64 {
        self.closed.store(true, Ordering::Release);
        // Claims kept only in memory must reach the disk before this replica goes.
        if !self.confirm_claims().await {
            tracing::error!(
                "could not confirm this replica's last claims on the shared store's disk: \
                 a crash of its server now would lose those it had not flushed"
            );
        }
        // Ends first: an update that ended here must not be left to look pending.
        self.ends.flush(ends::WRITE_FOR).await;
        if self.healthy.load(Ordering::Acquire) {
            self.write_from_memory().await;
        }
        // Everything this replica holds in the store is in `held` (a claim that timed out
        // was noted as sent from memory; one whose note failed is taken over after its lease
        // and checked with Twilio), so with nothing there the store need not be asked.
        if self.held_now().is_empty() {
            return 0;
        }
        match self.store.release(&self.holder, None).await {
            Ok(released) => released,
            Err(error) => {
                tracing::error!(
                    error = %error,
                    "could not release this replica's leases: other replicas take those \
                     updates over when the leases expire"
                );
                0
            }
        }
    }

    /// Stops taking over updates (the listeners are stopping).
    pub fn stop_taking(&self) {
        self.closed.store(true, Ordering::Release);
    }

    async fn take_over(&self) {
        let room = self.deliverer.room().min(TAKE_AT_ONCE);
        if room == 0 {
            return;
        }
        let taken = match self.store.take_due(&self.holder, room, self.lease).await {
            Ok(taken) => taken,
            Err(error) => return self.failed(&error),
        };
        self.succeeded();
        for stored in taken {
            if !self.hold(&stored.reservation_sid) {
                // Still being sent here (its lease lapsed while the store was away): the
                // take only renewed it.
                continue;
            }
            UpdateTakenOver {
                reservation_sid: &stored.reservation_sid,
                previous_holder: stored.previous_holder.as_deref(),
                attempts: stored.attempts,
            }
            .emit(&self.metrics);
            let _ = self.deliverer.submit(taken_over(stored));
        }
    }

    async fn renew(&self) {
        let held: Vec<String> = self.held_now().into_iter().collect();
        if held.is_empty() {
            return;
        }
        match self.store.renew(&self.holder, held, self.lease).await {
            Ok(_) => self.succeeded(),
            Err(error) => self.failed(&error),
        }
    }

    /// Adds `reservation_sid` to what this replica holds; `false` when it was already.
    fn hold(&self, reservation_sid: &str) -> bool {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(reservation_sid.to_owned())
    }

    fn release_hold(&self, reservation_sid: &str) {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(reservation_sid);
    }

    fn held_now(&self) -> HashSet<String> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The store answered: claims may use it again.
    fn succeeded(&self) {
        let was_healthy = self.healthy.swap(true, Ordering::AcqRel);
        // After the flag, so `store_up` never reads 1 while claims still go to memory.
        self.metrics.store_up(self.ready.load(Ordering::Acquire));
        if !was_healthy {
            tracing::info!(
                store = self.store.target(),
                "the shared store answers again: REST decisions are claimed fleet-wide again"
            );
        }
    }

    /// Marks the store as failing, and logs it at most once a minute. Only what claims
    /// depend on (the claim itself, and the background work that polls the store) sends
    /// claims to memory: bookkeeping that falls behind under load must not, and neither
    /// must a conflict (a lease renewal chosen as a deadlock's victim): the server answered,
    /// and sending claims to memory would open the one window in which a duplicate reaching
    /// two replicas at once is sent twice. The work is done again on its next turn.
    fn failed(&self, error: &StoreError) {
        if !error.is_conflict() && !matches!(error.operation, "attempt" | "end" | "release") {
            self.healthy.store(false, Ordering::Release);
            self.metrics.store_up(false);
        }
        if !self.failure_log.allows() {
            return;
        }
        StoreFailed {
            operation: error.operation,
            error,
        }
        .emit();
    }
}

impl Journal for Arc<Outbox> {
    fn attempted(
        &self,
        update: &Update,
        attempts: u32,
        retry_in: Duration,
        reason: &str,
    ) -> BoxFuture<'static, ()> {
        let this = self.clone();
        let sid = update.target.reservation_sid.clone();
        let reason = reason.to_owned();
        async move {
            let written = this
                .store
                .record_attempt(&sid, &this.holder, attempts, retry_in, &reason)
                .await;
            match written {
                Ok(()) => this.succeeded(),
                Err(error) => this.failed(&error),
            }
        }
        .boxed()
    }

    fn ended(
        &self,
        update: &Update,
        attempts: u32,
        outcome: &'static str,
        detail: Option<String>,
    ) -> BoxFuture<'static, ()> {
        let this = self.clone();
        let sid = update.target.reservation_sid.clone();
        async move {
            this.release_hold(&sid);
            let ended = Ended {
                reservation_sid: sid,
                state: outcome,
                attempts,
                last_error: detail,
            };
            // Left pending when it cannot be written, its lease runs out and another replica
            // takes it: that one checks with Twilio first, so it is not sent twice.
            match this.ends.end(ended).await {
                Ok(()) => this.succeeded(),
                Err(error) => this.failed(&error),
            }
        }
        .boxed()
    }

    fn standing(&self, update: &Update) -> BoxFuture<'static, Standing> {
        let this = self.clone();
        let sid = update.target.reservation_sid.clone();
        async move {
            match this.store.pending_holder(&sid).await {
                Ok(None) => Standing::Ended,
                Ok(Some(Some(holder))) if holder != this.holder => Standing::HeldElsewhere,
                // This replica's, or released (at shutdown): still this one's to finish
                // until another takes it.
                Ok(Some(_)) | Err(_) => Standing::Held,
            }
        }
        .boxed()
    }

    fn handed_over(&self, update: &Update) {
        self.release_hold(&update.target.reservation_sid);
    }

    fn deferred(&self, update: &Update) {
        let this = self.clone();
        let sid = update.target.reservation_sid.clone();
        this.release_hold(&sid);
        UpdateDeferred {
            reservation_sid: &sid,
        }
        .emit(&this.metrics, this.deferral_log.allows());
        tokio::spawn(async move {
            if let Err(error) = this.store.release(&this.holder, Some(vec![sid])).await {
                this.failed(&error);
            }
        });
    }
}

/// `update` as the store keeps it.
fn new_update(update: &Update) -> NewUpdate {
    NewUpdate {
        reservation_sid: update.target.reservation_sid.clone(),
        workspace_sid: update.target.workspace_sid.clone(),
        worker_sid: update.target.worker_sid.clone(),
        task_sid: update.target.task_sid.clone(),
        rule: update.rule.clone(),
        instruction: update.instruction.name(),
        body: update.body.clone(),
        decided_at: update.decided_at,
        deadline: update.deadline,
    }
}

/// An update from the store, to be checked with Twilio before it is sent again.
fn taken_over(stored: StoredUpdate) -> Update {
    Update {
        target: ReservationTarget {
            workspace_sid: stored.workspace_sid,
            worker_sid: stored.worker_sid,
            task_sid: stored.task_sid,
            reservation_sid: stored.reservation_sid,
        },
        rule: stored.rule,
        // Written by this service; an instruction a newer version added reads as `defer`,
        // which only names it in logs and metrics.
        instruction: InstructionKind::parse(&stored.instruction).unwrap_or(InstructionKind::Defer),
        body: stored.body,
        decided_at: stored.decided_at,
        deadline: stored.deadline,
        attempts: stored.attempts,
        durable: true,
        reconcile: true,
    }
}

/// A few polls per lease: an expired lease is noticed within a quarter of it.
fn poll_interval(lease: Duration) -> Duration {
    (lease / 4).clamp(Duration::from_millis(100), Duration::from_secs(2))
}

fn holder_name() -> String {
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    format!("{host}:{}:{:04x}", std::process::id(), fastrand::u16(..))
}
