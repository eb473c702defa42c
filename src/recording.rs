//! Keeping decision records (§10.2 of the design), off the answer path.
//!
//! The answer path hands each decision over a bounded channel and goes on: the recorder's
//! own thread, at the lowest CPU priority, works out the record (the `explain` trace, the masks) and keeps it in memory,
//! and with a shared store a writer on the store's thread sends records in batches. A full
//! channel or a failing store loses records, counted, never an answer.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, Instant, SystemTime};

use crate::decisions::book::RecordBook;
use crate::decisions::book::Tie;
use crate::decisions::build::{self, Decided};
use crate::decisions::mask::Mask;
use crate::decisions::record::rfc3339_ms;
use crate::decisions::{DecisionRecord, Outcome, UpdateRecord};
use crate::runtime::{self, RECORDER_NICENESS};
use crate::store::decisions::{OutcomeTie, RecordBatch, StoredRecord};
use crate::store::{SharedStore, StoreError};
use crate::telemetry::events::RecordsDropped;
use crate::telemetry::metrics::Metrics;
use crate::telemetry::throttle::Throttle;
use crate::twilio::deliverer::{Update, UpdateLog};

/// Decisions waiting for the recorder: half a second of a busy contact center's callbacks. Each
/// holds its callback (a few kilobytes), so this also bounds what a recorder starved of CPU
/// holds; past it, records are dropped and counted.
const WAITING: usize = 512;
/// How often the recorder looks for decisions when it has none: a record is there to be
/// looked up this long after its answer, at most.
const POLL: Duration = Duration::from_millis(5);
/// The recorder works for at most `WORK_PER_WINDOW` of every `WINDOW`, then sleeps out the
/// window: a quarter of one core, some ten thousand records a second in a release build, far
/// past the rate a Workspace's callbacks come at. The lowest CPU priority alone does not keep
/// it off the answers' cores: flat out, the scheduler gives it every instant nothing is
/// waiting to be answered, and with the shared store configured it took a sixth to a fifth of
/// the service's CPU (`load/store.py`). Past the bound, decisions wait in the channel, then
/// are dropped, counted and logged.
const WINDOW: Duration = Duration::from_millis(100);
const WORK_PER_WINDOW: Duration = Duration::from_millis(25);
/// The recorder gives up its core after this much work, for whatever else is waiting to run.
/// Without it, flat out, callbacks waited behind the recorder: in alternated 8-round runs of
/// `load/run.py`'s flat-out load the p99 was 2.8–3.8 ms against 1.2–2.0 ms without records,
/// and 7 rounds of 32 had 37–210 ms; yielding each 200 µs gave 1.6–3.0 ms, and none of the
/// rounds read one by one (22) above 7 ms.
/// A yield is one system call every five records or so (38 µs each in the benchmark).
const BURST: Duration = Duration::from_micros(200);
/// Records sent to the shared store in one statement, at most.
const BATCH: usize = 256;
/// How long the store's writer lets records gather before a statement that is not full. A
/// record is looked up in this replica's memory meanwhile; another replica sees it this much
/// later. At a thousand decisions a second this makes ten statements a second, not hundreds.
const GATHER: Duration = Duration::from_millis(100);
/// Records waiting for the store's writer, at most.
const STORE_WAITING: usize = 16_384;
/// How long the store's writer keeps trying a batch the store failed to take, and how long it
/// waits between tries. Past this the batch's records are kept in memory only, counted and
/// logged; the records behind it wait in the queue meanwhile (their bound, `STORE_WAITING`,
/// is several seconds of a busy contact center's decisions).
const WRITE_FOR: Duration = Duration::from_secs(5);
const RETRY_AFTER: Duration = Duration::from_millis(250);
/// How long a lookup waits for the shared store before answering from memory.
const LOOKUP_WAIT: Duration = Duration::from_secs(2);
/// Records dropped are logged at most this often at each place they are dropped.
const LOG_DROPS_EVERY: Duration = Duration::from_secs(60);
/// How often shutdown looks whether the records handed over have reached the store.
const SETTLE_POLL: Duration = Duration::from_millis(10);

/// Where decisions are recorded and looked up.
#[derive(Debug, Clone)]
pub struct Recorder {
    sender: SyncSender<Decided>,
    book: Arc<RecordBook>,
    store: Option<SharedStore>,
    metrics: Arc<Metrics>,
    /// For records dropped on the answer path.
    dropped: Arc<Throttle>,
    /// With a shared store: decisions handed over whose record has not yet been written
    /// there (or given up on), for shutdown to wait for before the store's thread stops.
    unsettled: Arc<AtomicUsize>,
}

impl Recorder {
    /// Starts the recorder's thread, keeping the last `keep` records in memory; with a
    /// store, also a writer on `store_runtime`.
    pub fn start(
        keep: usize,
        mask: Mask,
        store: Option<(SharedStore, tokio::runtime::Handle)>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Self> {
        let book = Arc::new(RecordBook::new(keep));
        let unsettled = Arc::new(AtomicUsize::new(0));
        let (sender, receiver) = mpsc::sync_channel(WAITING);
        let to_store = store.as_ref().map(|(shared, runtime)| {
            let (to_store, queue) = tokio::sync::mpsc::channel(STORE_WAITING);
            runtime.spawn(write(
                shared.clone(),
                queue,
                metrics.clone(),
                unsettled.clone(),
            ));
            to_store
        });
        let thread_book = book.clone();
        let thread_metrics = metrics.clone();
        let thread_unsettled = unsettled.clone();
        std::thread::Builder::new()
            .name("decision-records".into())
            .spawn(move || {
                runtime::lower_priority(RECORDER_NICENESS);
                let to_store = to_store.map(|sender| (sender, thread_unsettled));
                record_all(&receiver, &thread_book, &mask, to_store, &thread_metrics);
            })?;
        Ok(Self {
            sender,
            book,
            store: store.map(|(shared, _)| shared),
            metrics,
            dropped: Arc::new(Throttle::new(LOG_DROPS_EVERY)),
            unsettled,
        })
    }

    /// Hands one decision to the recorder; never waits.
    pub fn record(&self, decided: Decided) {
        // Only the store's records are worth waiting for at shutdown (memory's end with the
        // process), so without one the answer path pays nothing for this.
        let counted = self.store.is_some();
        if counted {
            self.unsettled.fetch_add(1, Ordering::Relaxed);
        }
        let why = match self.sender.try_send(decided) {
            Ok(()) => return,
            Err(TrySendError::Full(_)) => "the recorder is behind (its queue is full)",
            Err(TrySendError::Disconnected(_)) => "the recorder's thread has stopped",
        };
        if counted {
            self.unsettled.fetch_sub(1, Ordering::Relaxed);
        }
        RecordsDropped { count: 1, why }.emit(&self.metrics, self.dropped.allows());
    }

    /// Shutdown, once no more answers are given: waits up to `within` for the records handed
    /// over to reach the shared store, so that stopping the store's thread does not lose
    /// them. How many had not when it gave up.
    pub async fn settle(&self, within: Duration) -> usize {
        let until = Instant::now() + within;
        loop {
            let left = self.unsettled.load(Ordering::Relaxed);
            if left == 0 || Instant::now() >= until {
                return left;
            }
            tokio::time::sleep(SETTLE_POLL).await;
        }
    }

    /// The records kept in memory.
    pub fn book(&self) -> &Arc<RecordBook> {
        &self.book
    }

    /// The shared store, when records are kept there too.
    pub fn store(&self) -> Option<&SharedStore> {
        self.store.as_ref()
    }

    /// The record of this Reservation: from the shared store (which has every replica's
    /// outcomes and the update's progress), or from memory when there is none, it does not
    /// have it yet, or it does not answer.
    pub async fn lookup(&self, reservation_sid: &str) -> Option<DecisionRecord> {
        if let Some(store) = &self.store {
            let found = tokio::time::timeout(LOOKUP_WAIT, store.decision(reservation_sid)).await;
            match found {
                Ok(Ok(Some(record))) => return Some(record),
                Ok(Ok(None)) => {}
                Ok(Err(error)) => tracing::warn!(
                    error = %error,
                    "decision record looked up in memory: the shared store failed"
                ),
                Err(_) => tracing::warn!(
                    "decision record looked up in memory: the shared store did not answer"
                ),
            }
        }
        self.book.get(reservation_sid)
    }
}

/// The recorder's thread: builds each record and keeps it, until the service ends.
fn record_all(
    receiver: &Receiver<Decided>,
    book: &RecordBook,
    mask: &Mask,
    to_store: Option<(tokio::sync::mpsc::Sender<StoredRecord>, Arc<AtomicUsize>)>,
    metrics: &Metrics,
) {
    let dropped = Throttle::new(LOG_DROPS_EVERY);
    let mut budget = WorkBudget::new();
    loop {
        budget.wait_if_spent();
        let decided = match receiver.try_recv() {
            Ok(decided) => decided,
            // Polled, not waited on: a sender then never has to wake this thread, which would
            // cost each answer a system call.
            Err(TryRecvError::Empty) => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(TryRecvError::Disconnected) => return,
        };
        let started = Instant::now();
        let sender = to_store.as_ref().map(|(sender, _)| sender);
        let handed = record_one(&decided, book, mask, sender, metrics, &dropped);
        if let Some((_, unsettled)) = &to_store
            && !handed
        {
            // Nothing for the store's writer to settle: it is settled here.
            unsettled.fetch_sub(1, Ordering::Relaxed);
        }
        budget.spend(started.elapsed());
    }
}

/// Builds and keeps the record of one decision; whether it went to the store's writer.
fn record_one(
    decided: &Decided,
    book: &RecordBook,
    mask: &Mask,
    to_store: Option<&tokio::sync::mpsc::Sender<StoredRecord>>,
    metrics: &Metrics,
    dropped: &Throttle,
) -> bool {
    // A Reservation's first decision is its record; a later one (an inline rule decides
    // again for a repeated callback) is not worth a trace.
    if book.contains(&decided.callback.reservation_sid) {
        return false;
    }
    let record = build::record(decided, mask);
    // Encoded here, at this thread's low priority: the store's writer only sends it.
    let mut handed = false;
    if let Some(to_store) = to_store {
        match hand_to_store(to_store, &record) {
            Ok(()) => handed = true,
            Err(why) => RecordsDropped {
                count: 1,
                why: &why,
            }
            .emit(metrics, dropped.allows()),
        }
    }
    let late = book.insert(record, decided.decided_at);
    // With a shared store the store ties outcomes (and counts them): an early one is
    // only added to the memory record here.
    if to_store.is_none() {
        for late in late {
            metrics.reservation_outcome(&Arc::new(late.rule), late.outcome.label(), late.after);
        }
    }
    handed
}

/// Queues `record` for the store's writer; why not, when it could not be.
fn hand_to_store(
    to_store: &tokio::sync::mpsc::Sender<StoredRecord>,
    record: &DecisionRecord,
) -> Result<(), Cow<'static, str>> {
    use tokio::sync::mpsc::error::TrySendError;
    let stored = StoredRecord::encode(record.clone()).map_err(|error| {
        format!("a record could not be written out for the shared store ({error}); it is still in memory")
    })?;
    to_store.try_send(stored).map_err(|error| match error {
        TrySendError::Full(_) => {
            "the shared store's writer is behind (its queue is full); it is still in memory".into()
        }
        TrySendError::Closed(_) => {
            "the shared store's writer has stopped; it is still in memory".into()
        }
    })
}

/// How much of the current window the recorder has worked (wall time: preempted while working,
/// it counts that too, and backs off sooner on a busy machine, which is the point).
struct WorkBudget {
    window_started: Instant,
    worked: Duration,
    /// Work since the recorder last gave up its core.
    since_yield: Duration,
}

impl WorkBudget {
    fn new() -> Self {
        Self {
            window_started: Instant::now(),
            worked: Duration::ZERO,
            since_yield: Duration::ZERO,
        }
    }

    /// Counts one record's work; yields the core once a burst of work is done. The lowest
    /// priority does not do this by itself: a thread the scheduler has given a core keeps it
    /// for its slice, which is longer than a callback's answer.
    fn spend(&mut self, worked: Duration) {
        self.worked += worked;
        self.since_yield += worked;
        if self.since_yield >= BURST {
            std::thread::yield_now();
            self.since_yield = Duration::ZERO;
        }
    }

    /// Sleeps out the window once its work is spent; starts a new window when one is over.
    fn wait_if_spent(&mut self) {
        let elapsed = self.window_started.elapsed();
        if self.worked >= WORK_PER_WINDOW
            && let Some(rest) = WINDOW.checked_sub(elapsed)
        {
            std::thread::sleep(rest);
        }
        if self.window_started.elapsed() >= WINDOW {
            self.window_started = Instant::now();
            self.worked = Duration::ZERO;
        }
    }
}

/// The store's writer: sends what the recorder built, in batches.
async fn write(
    store: SharedStore,
    mut queue: tokio::sync::mpsc::Receiver<StoredRecord>,
    metrics: Arc<Metrics>,
    unsettled: Arc<AtomicUsize>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let dropped = Throttle::new(LOG_DROPS_EVERY);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        if batch.len() < BATCH {
            tokio::time::sleep(GATHER).await;
            while batch.len() < BATCH
                && let Ok(record) = queue.try_recv()
            {
                batch.push(record);
            }
        }
        let count = batch.len();
        let records = RecordBatch::new(std::mem::take(&mut batch));
        match write_batch(&store, &records).await {
            // Events that came before these records wait in the store for them.
            Ok(_) => {
                if let Err(error) = apply_early_outcomes(&store, &metrics, Some(&records)).await
                    && dropped.allows()
                {
                    tracing::warn!(
                        error = %error,
                        "early outcomes not yet added to their records: tried again shortly"
                    );
                }
            }
            Err(error) => {
                let why = format!("{error}; they are still in memory");
                RecordsDropped {
                    count: count as u64,
                    why: &why,
                }
                .emit(&metrics, dropped.allows());
            }
        }
        unsettled.fetch_sub(count, Ordering::Relaxed);
    }
}

/// Writes one batch of records, trying again for a while when the store fails: a store that
/// restarts, fails over, or has no free connection for a moment (two replicas flat out) then
/// loses none. Records that come meanwhile wait in the queue.
async fn write_batch(store: &SharedStore, batch: &RecordBatch) -> Result<u64, StoreError> {
    let until = Instant::now() + WRITE_FOR;
    loop {
        match store.write_decisions(batch).await {
            Err(_) if Instant::now() + RETRY_AFTER < until => {
                tokio::time::sleep(RETRY_AFTER).await;
            }
            result => return result,
        }
    }
}

/// Adds the outcomes that came before their records to the records now in the shared store
/// (those of `batch`, or any recent ones: see [`SharedStore::apply_early_outcomes`]), and
/// counts each for the rule that decided it (once fleet-wide: the store hands each to one
/// replica). The event was counted `not_decided` when it came, as in memory.
pub async fn apply_early_outcomes(
    store: &SharedStore,
    metrics: &Metrics,
    batch: Option<&RecordBatch>,
) -> Result<(), StoreError> {
    for late in store.apply_early_outcomes(batch).await? {
        metrics.reservation_outcome(&Arc::new(late.rule), late.outcome.label(), late.after);
    }
    Ok(())
}

/// The decision records hear how each update goes.
#[derive(Debug)]
pub struct RecordedUpdates(pub Arc<RecordBook>);

impl UpdateLog for RecordedUpdates {
    fn attempted(&self, update: &Update, attempts: u32, reason: &str) {
        self.0.update(
            &update.target.reservation_sid,
            UpdateRecord {
                attempts,
                state: "pending".to_owned(),
                detail: Some(reason.to_owned()),
                ended_at: None,
            },
        );
    }

    fn ended(&self, update: &Update, attempts: u32, outcome: &'static str, detail: Option<&str>) {
        self.0.update(
            &update.target.reservation_sid,
            UpdateRecord {
                attempts,
                state: outcome.to_owned(),
                detail: detail.map(str::to_owned),
                ended_at: Some(rfc3339_ms(SystemTime::now())),
            },
        );
    }
}

/// Ties `outcome` of a Reservation, arrived `at`, to its decision: in the shared store when
/// there is one (so that replicas hearing the same event count it once), else in memory.
/// The memory record is kept up to date either way, for lookups the store cannot answer.
pub async fn tie(recorder: &Recorder, reservation_sid: &str, outcome: Outcome, at: SystemTime) {
    let metrics = &recorder.metrics;
    let local = recorder.book.outcome(reservation_sid, outcome, at);
    let tie = match &recorder.store {
        None => local,
        Some(store) => match store.record_outcome(reservation_sid, outcome, at).await {
            Ok(OutcomeTie::Counted { rule, decided_at }) => Tie::Counted { rule, decided_at },
            Ok(OutcomeTie::Duplicate { .. }) => Tie::Duplicate,
            // Not in the store yet (its writer sends records a moment after the answer): the
            // store keeps the outcome and counts it when the record comes, whichever replica
            // writes it; memory's word here would count it a second time.
            Ok(OutcomeTie::NotDecided) => Tie::NotDecided,
            Err(error) => {
                tracing::warn!(
                    error = %error,
                    "reservation outcome tied in memory only: the shared store failed"
                );
                local
            }
        },
    };
    match tie {
        Tie::Counted { rule, decided_at } => {
            let after = at.duration_since(decided_at).unwrap_or_default();
            metrics.reservation_outcome(&Arc::new(rule), outcome.label(), after);
        }
        Tie::Duplicate => metrics.event_unmatched("duplicate"),
        Tie::NotDecided => metrics.event_unmatched("not_decided"),
    }
}

#[cfg(test)]
mod tests;
