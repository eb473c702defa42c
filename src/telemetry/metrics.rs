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
struct SkipLabels {
    rule: Arc<String>,
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
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
    log_lines_dropped: Counter,
    /// Two scrapes at once must not both add the same dropped lines.
    syncing: std::sync::Mutex<()>,
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
            "Rules-file reloads (SIGHUP) by outcome (success, failure)",
            reloads.clone(),
        );
        let rules_skipped = Family::<SkipLabels, Counter>::default();
        registry.register(
            "rules_skipped",
            "Rules whose `when` held but that could not answer, by rule and reason (no_value, \
             not_text, invalid_value)",
            rules_skipped.clone(),
        );
        let log_lines_dropped = Counter::default();
        registry.register(
            "log_lines_dropped",
            "Log lines dropped because the log sink (stdout) did not keep up",
            log_lines_dropped.clone(),
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
            log_lines_dropped,
            syncing: std::sync::Mutex::default(),
        }
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

    pub fn reload(&self, outcome: &'static str) {
        self.reloads.get_or_create(&OutcomeLabel { outcome }).inc();
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
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_their_labels() {
        let metrics = Metrics::new();
        metrics.callback(
            &CallbackLabels {
                rule: Arc::new("vip".to_owned()),
                instruction: "accept",
                delivery: "inline",
                outcome: "answered",
            },
            Duration::from_micros(80),
        );
        metrics.signature_failure("mismatch");
        let text = metrics.render();
        assert!(text.contains(
            "assignment_router_callbacks_total{rule=\"vip\",instruction=\"accept\",delivery=\"inline\",outcome=\"answered\"} 1"
        ), "{text}");
        assert!(text.contains("assignment_router_signature_failures_total{reason=\"mismatch\"} 1"));
        assert!(text.contains("assignment_router_callback_duration_seconds_count 1"));
    }
}
