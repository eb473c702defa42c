//! Prometheus metrics, served on the admin listener's `/metrics`.
//!
//! Label values stay bounded: rule names come from the rules file, instructions, deliveries
//! and outcomes from fixed sets, never from request data.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::writer;

/// The labels of one callback's outcome. Empty strings where a refused callback never got
/// that far.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallbackLabels {
    pub rule: Arc<String>,
    pub instruction: &'static str,
    pub delivery: &'static str,
    pub outcome: &'static str,
}

/// A rule skipped, and why (`no_value`, `not_text`, `invalid_value`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SkipLabels {
    rule: Arc<String>,
    reason: &'static str,
}

/// A shadow rule that would have answered, and with what.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ShadowLabels {
    rule: Arc<String>,
    instruction: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: &'static str,
}

/// A Reservation's outcome, tied back to the rule that decided it.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleOutcomeLabels {
    rule: Arc<String>,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabel {
    r#type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

/// What the service asks of the shared store, as `store_latency_seconds` and
/// `store_errors_total` label it.
pub const STORE_OPERATIONS: [&str; 13] = [
    "migrate", "claim", "confirm", "take", "renew", "attempt", "end", "release", "sweep", "record",
    "outcome", "look_up", "check",
];

/// The `outcome` of a refused callback, as `http::refusal` labels it (a test there keeps the
/// two in step). Their series exist from start, at 0.
pub const REFUSALS: [&str; 5] = [
    "unsupported_media_type",
    "payload_too_large",
    "request_timeout",
    "forbidden",
    "bad_request",
];

/// Why a signature was refused, as `SignatureError::reason` labels it.
pub const SIGNATURE_FAILURES: [&str; 5] = [
    "missing",
    "malformed",
    "mismatch",
    "body_hash_mismatch",
    "repeated",
];

/// How a Reservation update ends (`UpdateOutcome::label`).
pub const UPDATE_OUTCOMES: [&str; 5] = ["landed", "final_error", "moved_on", "expired", "dropped"];

/// How a Reservation ends, as TaskRouter's `reservation.*` events say (`Outcome::label`).
pub const RESERVATION_OUTCOMES: [&str; 7] = [
    "accepted",
    "rejected",
    "timeout",
    "canceled",
    "rescinded",
    "wrapup",
    "completed",
];

/// The `type` label of `events_total`: the event types the service acts on, `other` for
/// TaskRouter's other documented types, `unknown` for any type it does not document.
pub const EVENT_TYPES: [&str; 15] = [
    "reservation.created",
    "reservation.accepted",
    "reservation.rejected",
    "reservation.timeout",
    "reservation.canceled",
    "reservation.rescinded",
    "reservation.wrapup",
    "reservation.completed",
    "reservation.failed",
    "task.canceled",
    "task.completed",
    "task.deleted",
    "task.system-deleted",
    "other",
    "unknown",
];

/// Why an outcome was not counted: its Reservation was not decided here (or not yet), or
/// the same outcome of that Reservation was counted already (a duplicated event).
pub const UNMATCHED_REASONS: [&str; 2] = ["not_decided", "duplicate"];

/// Why a rule is skipped (`Skip::label`).
pub const SKIP_REASONS: [&str; 3] = ["no_value", "not_text", "invalid_value"];

/// A rule in force, as its series are labelled: what lets every series a rule can move exist
/// at 0 before its first callback, so that an alert on `increase()` sees the first one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSeries {
    pub rule: Arc<String>,
    pub instruction: &'static str,
    pub delivery: &'static str,
    /// It is remembered per Reservation (REST), so it can answer a duplicate.
    pub answers_duplicates: bool,
    /// It holds templates, so it can be skipped.
    pub can_be_skipped: bool,
}

impl RuleSeries {
    fn callbacks(&self) -> Vec<CallbackLabels> {
        let outcomes: &[&'static str] = if self.answers_duplicates {
            &["answered", "duplicate"]
        } else {
            &["answered"]
        };
        outcomes
            .iter()
            .map(|outcome| CallbackLabels {
                rule: self.rule.clone(),
                instruction: self.instruction,
                delivery: self.delivery,
                outcome,
            })
            .collect()
    }

    fn outcomes(&self) -> Vec<RuleOutcomeLabels> {
        RESERVATION_OUTCOMES
            .iter()
            .map(|outcome| RuleOutcomeLabels {
                rule: self.rule.clone(),
                outcome,
            })
            .collect()
    }

    fn skips(&self) -> Vec<SkipLabels> {
        if !self.can_be_skipped {
            return Vec::new();
        }
        SKIP_REASONS
            .iter()
            .map(|reason| SkipLabels {
                rule: self.rule.clone(),
                reason,
            })
            .collect()
    }
}

/// Every metric the service keeps. Cheap to share: each handle is reference-counted.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    callbacks: Family<CallbackLabels, Counter>,
    callback_seconds: Histogram,
    signature_failures: Family<ReasonLabel, Counter>,
    updates: Family<OutcomeLabel, Counter>,
    update_attempts: Counter,
    update_seconds: Histogram,
    updates_in_flight: Gauge,
    updates_pending: Gauge,
    rules_loaded: Gauge,
    reloads: Family<OutcomeLabel, Counter>,
    rules_skipped: Family<SkipLabels, Counter>,
    shadow_matches: Family<ShadowLabels, Counter>,
    log_lines_dropped: Counter,
    store_claims: Family<ResultLabel, Counter>,
    store_unavailable: Counter,
    store_claims_restored: Counter,
    store_errors: Family<OperationLabel, Counter>,
    store_up: Gauge,
    store_seconds: Family<OperationLabel, Histogram, fn() -> Histogram>,
    outbox_updates: Family<StateLabel, Gauge>,
    outbox_takeovers: Counter,
    events: Family<TypeLabel, Counter>,
    event_refusals: Family<OutcomeLabel, Counter>,
    events_unmatched: Family<ReasonLabel, Counter>,
    reservation_outcomes: Family<RuleOutcomeLabels, Counter>,
    outcome_seconds: Family<OutcomeLabel, Histogram, fn() -> Histogram>,
    records_dropped: Counter,
    callbacks_held: Family<OutcomeLabel, Counter>,
    outbox_deferrals: Counter,
    /// Two scrapes at once must not both add the same dropped lines.
    syncing: std::sync::Mutex<()>,
    /// The rules whose series exist now, so that a reload can drop those of rules gone.
    rules_in_force: std::sync::Mutex<Vec<RuleSeries>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("assignment_router");
        let callbacks = Family::<CallbackLabels, Counter>::default();
        registry.register(
            "callbacks",
            "Assignment callbacks by rule, instruction, delivery and outcome",
            callbacks.clone(),
        );
        // 50 µs to about 1.6 s: callbacks are answered in microseconds; anything near a
        // second is a problem to see.
        let callback_seconds = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "callback_duration_seconds",
            "Time from receiving a callback to its answer",
            callback_seconds.clone(),
        );
        let signature_failures = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "signature_failures",
            "Callbacks refused for their X-Twilio-Signature, by reason",
            signature_failures.clone(),
        );
        let updates = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "rest_updates",
            "Reservation updates ended, by outcome (landed, final_error, moved_on, expired, dropped)",
            updates.clone(),
        );
        let update_attempts = Counter::default();
        registry.register(
            "rest_update_attempts",
            "HTTP requests sent to Twilio for Reservation updates",
            update_attempts.clone(),
        );
        // 10 ms to about 160 s: a landed update may have waited out retries.
        let update_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 15));
        registry.register(
            "rest_update_duration_seconds",
            "Time from the decision to the update landing",
            update_seconds.clone(),
        );
        let updates_in_flight = Gauge::default();
        registry.register(
            "rest_updates_in_flight",
            "Reservation update requests out at Twilio now",
            updates_in_flight.clone(),
        );
        let updates_pending = Gauge::default();
        registry.register(
            "rest_updates_pending",
            "Reservation updates accepted and not yet ended (waiting, in flight or retrying)",
            updates_pending.clone(),
        );
        let rules_loaded = Gauge::default();
        registry.register(
            "rules_loaded",
            "Rules in force, the default included",
            rules_loaded.clone(),
        );
        let reloads = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "rule_reloads",
            "Rules-file reloads (SIGHUP or a watched file's change) by outcome (success, failure)",
            reloads.clone(),
        );
        let rules_skipped = Family::<SkipLabels, Counter>::default();
        registry.register(
            "rules_skipped",
            "Rules whose `when` held but that could not answer, by rule and reason (no_value, \
             not_text, invalid_value)",
            rules_skipped.clone(),
        );
        let shadow_matches = Family::<ShadowLabels, Counter>::default();
        registry.register(
            "shadow_matches",
            "Shadow rules (mode = \"shadow\") that would have answered, by rule and the \
             instruction they would have given; they never answer",
            shadow_matches.clone(),
        );
        let log_lines_dropped = Counter::default();
        registry.register(
            "log_lines_dropped",
            "Log lines dropped because the log sink (stdout) did not keep up",
            log_lines_dropped.clone(),
        );
        let store_claims = Family::<ResultLabel, Counter>::default();
        registry.register(
            "store_claims",
            "REST decisions claimed in the shared store, by result (won: this replica sends \
             the update; lost: another replica had claimed the Reservation)",
            store_claims.clone(),
        );
        let store_unavailable = Counter::default();
        registry.register(
            "store_unavailable",
            "REST decisions delivered from memory because the shared store did not claim \
             them within 500 ms",
            store_unavailable.clone(),
        );
        let store_claims_restored = Counter::default();
        registry.register(
            "store_claims_restored",
            "Claims this replica wrote again because the shared store no longer had them (its \
             server crashed before they reached its disk)",
            store_claims_restored.clone(),
        );
        let store_errors = Family::<OperationLabel, Counter>::default();
        registry.register(
            "store_errors",
            "Shared-store operations that failed or timed out, by operation",
            store_errors.clone(),
        );
        let store_up = Gauge::default();
        registry.register(
            "store_up",
            "1 while REST decisions are claimed in the shared store; 0 while it fails and they \
             are sent from memory, before its schema is in place, and with the memory store",
            store_up.clone(),
        );
        // 0.5 ms to about 4 s: a claim on a healthy local store takes a millisecond or two.
        let store_seconds: Family<OperationLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_5, 2.0, 14)));
        registry.register(
            "store_latency_seconds",
            "Time the shared store took per operation",
            store_seconds.clone(),
        );
        let outbox_updates = Family::<StateLabel, Gauge>::default();
        registry.register(
            "outbox_updates",
            "Pending updates in the shared store, fleet-wide: due (no replica holds them) or \
             leased (a replica is sending them)",
            outbox_updates.clone(),
        );
        let outbox_takeovers = Counter::default();
        registry.register(
            "outbox_takeovers",
            "Updates this replica took over from the shared store (their holder died, \
             stopped or restarted)",
            outbox_takeovers.clone(),
        );
        let events = Family::<TypeLabel, Counter>::default();
        registry.register(
            "events",
            "TaskRouter events received (signed), by type: those acted on by name, `other` \
             for TaskRouter's other types, `unknown` for types it does not document",
            events.clone(),
        );
        let event_refusals = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "event_refusals",
            "Event callbacks refused, by outcome (as callbacks are: forbidden, bad_request, …)",
            event_refusals.clone(),
        );
        let events_unmatched = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "events_unmatched",
            "Reservation outcomes not counted, by reason (not_decided: no decision of this \
             service is known for it; duplicate: that outcome was counted already)",
            events_unmatched.clone(),
        );
        let reservation_outcomes = Family::<RuleOutcomeLabels, Counter>::default();
        registry.register(
            "reservation_outcomes",
            "How Reservations this service decided ended, by the rule that decided them and \
             the outcome (accepted, rejected, timeout, canceled, rescinded, wrapup, completed)",
            reservation_outcomes.clone(),
        );
        // 100 ms to about 30 min: an agent accepts in seconds, a Reservation times out after
        // the Workflow's timeout (120 s by default), a call completes in minutes.
        let outcome_seconds: Family<OutcomeLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.1, 2.0, 15)));
        registry.register(
            "reservation_outcome_seconds",
            "Time from the decision to each outcome's event, by outcome",
            outcome_seconds.clone(),
        );
        let records_dropped = Counter::default();
        registry.register(
            "decision_records_dropped",
            "Decision records not kept: the recorder or the shared store's writer was full, \
             or the store failed to take them",
            records_dropped.clone(),
        );
        let callbacks_held = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "rest_callbacks_held",
            "REST callbacks that waited for the deliverer to have room before their answer \
             (it held half of twilio.max_pending_updates), by outcome (room: it had room within \
             the wait; full: it still had none, and the update was handed over regardless)",
            callbacks_held.clone(),
        );
        let outbox_deferrals = Counter::default();
        registry.register(
            "outbox_deferrals",
            "Updates the deliverer had no room for, left in the shared store for a later turn",
            outbox_deferrals.clone(),
        );
        Self {
            registry,
            callbacks,
            callback_seconds,
            signature_failures,
            updates,
            update_attempts,
            update_seconds,
            updates_in_flight,
            updates_pending,
            rules_loaded,
            reloads,
            rules_skipped,
            shadow_matches,
            log_lines_dropped,
            store_claims,
            store_unavailable,
            store_claims_restored,
            store_errors,
            store_up,
            store_seconds,
            outbox_updates,
            outbox_takeovers,
            events,
            event_refusals,
            events_unmatched,
            reservation_outcomes,
            outcome_seconds,
            records_dropped,
            callbacks_held,
            outbox_deferrals,
            syncing: std::sync::Mutex::default(),
            rules_in_force: std::sync::Mutex::default(),
        }
        .with_fixed_series()
    }

    /// Every series whose labels are known before any event, at 0: refusals, signature
    /// failures, update outcomes, reload outcomes.
    fn with_fixed_series(self) -> Self {
        for outcome in REFUSALS {
            let _ = self.callbacks.get_or_create(&CallbackLabels {
                rule: Arc::default(),
                instruction: "",
                delivery: "",
                outcome,
            });
        }
        for reason in SIGNATURE_FAILURES {
            let _ = self
                .signature_failures
                .get_or_create(&ReasonLabel { reason });
        }
        for outcome in UPDATE_OUTCOMES {
            let _ = self.updates.get_or_create(&OutcomeLabel { outcome });
        }
        for outcome in ["success", "failure"] {
            let _ = self.reloads.get_or_create(&OutcomeLabel { outcome });
        }
        for outcome in ["room", "full"] {
            let _ = self.callbacks_held.get_or_create(&OutcomeLabel { outcome });
        }
        for result in ["won", "lost"] {
            let _ = self.store_claims.get_or_create(&ResultLabel { result });
        }
        for operation in STORE_OPERATIONS {
            let _ = self
                .store_errors
                .get_or_create(&OperationLabel { operation });
            let _ = self
                .store_seconds
                .get_or_create(&OperationLabel { operation });
        }
        for state in ["due", "leased"] {
            let _ = self.outbox_updates.get_or_create(&StateLabel { state });
        }
        for r#type in EVENT_TYPES {
            let _ = self.events.get_or_create(&TypeLabel { r#type });
        }
        for outcome in REFUSALS {
            let _ = self.event_refusals.get_or_create(&OutcomeLabel { outcome });
        }
        for reason in UNMATCHED_REASONS {
            let _ = self.events_unmatched.get_or_create(&ReasonLabel { reason });
        }
        for outcome in RESERVATION_OUTCOMES {
            let _ = self
                .outcome_seconds
                .get_or_create(&OutcomeLabel { outcome });
        }
        self
    }

    /// Makes the series of `rules` exist (at 0 when new), and drops those of rules no longer
    /// in force: at start, and after each reload.
    pub fn follow_rules(&self, rules: &[RuleSeries]) {
        let mut in_force = self
            .rules_in_force
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for gone in in_force.iter().filter(|old| !rules.contains(old)) {
            for labels in gone.callbacks() {
                self.callbacks.remove(&labels);
            }
            for labels in gone.skips() {
                self.rules_skipped.remove(&labels);
            }
            for labels in gone.outcomes() {
                self.reservation_outcomes.remove(&labels);
            }
        }
        for rule in rules {
            for labels in rule.callbacks() {
                let _ = self.callbacks.get_or_create(&labels);
            }
            for labels in rule.skips() {
                let _ = self.rules_skipped.get_or_create(&labels);
            }
            for labels in rule.outcomes() {
                let _ = self.reservation_outcomes.get_or_create(&labels);
            }
        }
        *in_force = rules.to_vec();
    }

    pub fn callback(&self, labels: &CallbackLabels, took: Duration) {
        self.callbacks.get_or_create(labels).inc();
        self.callback_seconds.observe(took.as_secs_f64());
    }

    pub fn signature_failure(&self, reason: &'static str) {
        self.signature_failures
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// The number of updates pending, as the deliverer counts them.
    pub fn updates_pending(&self, count: usize) {
        self.updates_pending
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    pub fn update_ended(&self, outcome: &'static str) {
        self.updates.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub fn update_landed(&self, took: Duration) {
        self.update_seconds.observe(took.as_secs_f64());
    }

    /// Counts one request to Twilio; the returned guard keeps it in the in-flight gauge.
    pub fn update_attempt(&self) -> InFlight<'_> {
        self.update_attempts.inc();
        self.updates_in_flight.inc();
        InFlight(&self.updates_in_flight)
    }

    pub fn rules_loaded(&self, count: usize) {
        self.rules_loaded
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    pub fn rule_skipped(&self, rule: &Arc<String>, reason: &'static str) {
        self.rules_skipped
            .get_or_create(&SkipLabels {
                rule: rule.clone(),
                reason,
            })
            .inc();
    }

    pub fn shadow_matched(&self, rule: &Arc<String>, instruction: &'static str) {
        self.shadow_matches
            .get_or_create(&ShadowLabels {
                rule: rule.clone(),
                instruction,
            })
            .inc();
    }

    pub fn reload(&self, outcome: &'static str) {
        self.reloads.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// A claim in the shared store: `won` when this replica is the one to send the update.
    pub fn store_claimed(&self, won: bool) {
        let result = if won { "won" } else { "lost" };
        self.store_claims
            .get_or_create(&ResultLabel { result })
            .inc();
    }

    /// A REST decision delivered from memory: the store could not claim it in time.
    pub fn store_unavailable(&self) {
        self.store_unavailable.inc();
    }

    /// A REST callback that waited for room in the deliverer: `room` when it had some in time.
    pub fn callback_held(&self, room: bool) {
        let outcome = if room { "room" } else { "full" };
        self.callbacks_held
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    /// An update left in the shared store: the deliverer had no room for it.
    pub fn outbox_deferred(&self) {
        self.outbox_deferrals.inc();
    }

    /// Claims written again: the store had lost them.
    pub fn store_claims_restored(&self, count: u64) {
        self.store_claims_restored.inc_by(count);
    }

    /// One operation on the shared store, and whether it succeeded.
    pub fn store_operation(&self, operation: &'static str, took: Duration, succeeded: bool) {
        let labels = OperationLabel { operation };
        self.store_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        if !succeeded {
            self.store_errors.get_or_create(&labels).inc();
        }
    }

    /// Whether claims go to the shared store (`true`) or, while it fails, to memory: the
    /// outbox's own judgement, so that the gauge never says 1 while decisions are sent from
    /// memory (a bookkeeping statement that succeeds does not bring the claims back).
    pub fn store_up(&self, up: bool) {
        self.store_up.set(i64::from(up));
    }

    /// The outbox's pending updates, fleet-wide.
    pub fn outbox_depth(&self, due: i64, leased: i64) {
        for (state, count) in [("due", due), ("leased", leased)] {
            self.outbox_updates
                .get_or_create(&StateLabel { state })
                .set(count);
        }
    }

    pub fn outbox_takeover(&self) {
        self.outbox_takeovers.inc();
    }

    /// A signed event, by its `type` label ([`EVENT_TYPES`]).
    pub fn event(&self, r#type: &'static str) {
        self.events.get_or_create(&TypeLabel { r#type }).inc();
    }

    /// An event callback refused, by its refusal's `outcome` label ([`REFUSALS`]).
    pub fn event_refused(&self, outcome: &'static str) {
        self.event_refusals
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    /// A Reservation's outcome counted for the rule that decided it, `after` the decision.
    pub fn reservation_outcome(&self, rule: &Arc<String>, outcome: &'static str, after: Duration) {
        self.reservation_outcomes
            .get_or_create(&RuleOutcomeLabels {
                rule: rule.clone(),
                outcome,
            })
            .inc();
        self.outcome_seconds
            .get_or_create(&OutcomeLabel { outcome })
            .observe(after.as_secs_f64());
    }

    /// An outcome not counted, by reason ([`UNMATCHED_REASONS`]).
    pub fn event_unmatched(&self, reason: &'static str) {
        self.events_unmatched
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    pub fn records_dropped(&self, count: u64) {
        self.records_dropped.inc_by(count);
    }

    /// The Prometheus (OpenMetrics) text exposition.
    pub fn render(&self) -> String {
        // The log writer counts in a process-wide atomic (it runs before, and below, any
        // registry); bring this counter up to it.
        let _syncing = self
            .syncing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dropped = writer::dropped_lines();
        let counted = self.log_lines_dropped.get();
        if dropped > counted {
            self.log_lines_dropped.inc_by(dropped - counted);
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// One request to Twilio in flight; leaves the gauge when dropped.
pub struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests;
