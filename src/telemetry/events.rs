//! The service's operational events, one type each: emitting one writes its log line and
//! updates its counters together, so a new outcome is one edit here and an event can never be
//! logged without being counted, or counted without being logged.
//!
//! Events carry plain values (strings, numbers, labels), not the types of the modules that
//! emit them, so that telemetry depends on nothing above it.

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use super::metrics::{CallbackLabels, Metrics, RuleSeries};

/// A callback answered with an instruction (or `{}`), for the first time or as a duplicate.
#[derive(Debug)]
pub struct CallbackAnswered<'a> {
    pub request_id: &'a str,
    /// Twilio's `I-Twilio-Idempotency-Token`, when the request had one.
    pub idempotency_token: Option<&'a str>,
    pub task_sid: &'a str,
    pub reservation_sid: &'a str,
    pub worker_sid: &'a str,
    pub rule: &'a Arc<String>,
    pub instruction: &'static str,
    pub delivery: &'static str,
    /// `answered`, or `duplicate` for a Reservation already decided.
    pub outcome: &'static str,
    pub took: Duration,
}

impl CallbackAnswered<'_> {
    pub fn emit(self, metrics: &Metrics) {
        // The callback's span is made once its fields are known, so it is formatted once.
        tracing::info_span!(
            "callback",
            request_id = self.request_id,
            idempotency_token = self.idempotency_token,
            task_sid = self.task_sid,
            reservation_sid = self.reservation_sid,
            worker_sid = self.worker_sid,
            rule = self.rule.as_str(),
            instruction = self.instruction,
            delivery = self.delivery,
            outcome = self.outcome,
        )
        .in_scope(|| tracing::info!("callback answered"));
        let labels = CallbackLabels {
            rule: self.rule.clone(),
            instruction: self.instruction,
            delivery: self.delivery,
            outcome: self.outcome,
        };
        metrics.callback(&labels, self.took);
    }
}

/// A rule whose `when` held was skipped: a template had no usable value, so the next rule
/// was tried.
#[derive(Debug)]
pub struct RuleSkipped<'a> {
    pub rule: &'a Arc<String>,
    pub field: &'static str,
    /// The template's path, when the value was missing (not when it did not fit the field).
    pub path: Option<&'a str>,
    pub reason: &'a str,
    /// `no_value`, `not_text` or `invalid_value`: the counter's label.
    pub label: &'static str,
}

impl RuleSkipped<'_> {
    pub fn emit(self, metrics: &Metrics) {
        tracing::warn!(
            rule = self.rule.as_str(),
            field = self.field,
            path = self.path.unwrap_or(""),
            reason = self.reason,
            "rule skipped: a template has no usable value"
        );
        metrics.rule_skipped(self.rule, self.label);
    }
}

/// A shadow rule's `when` held and its templates filled: what it would have answered. It
/// did not answer; the live rules did.
#[derive(Debug)]
pub struct ShadowMatched<'a> {
    pub rule: &'a Arc<String>,
    pub reservation_sid: &'a str,
    pub instruction: &'static str,
    pub delivery: &'static str,
    /// The callback's answer it would have given (inline JSON, or `{}`).
    pub would_answer: &'a str,
    /// For REST delivery, the Reservation update's form it would have sent.
    pub would_send: Option<&'a str>,
    /// The rule that did answer.
    pub answered_by: &'a str,
}

impl ShadowMatched<'_> {
    pub fn emit(self, metrics: &Metrics) {
        tracing::info!(
            rule = self.rule.as_str(),
            reservation_sid = self.reservation_sid,
            instruction = self.instruction,
            delivery = self.delivery,
            would_answer = self.would_answer,
            would_send = self.would_send.unwrap_or(""),
            answered_by = self.answered_by,
            "shadow rule matched: this is what it would have answered (it did not answer)"
        );
        metrics.shadow_matched(self.rule, self.instruction);
    }
}

/// A callback refused before it got an instruction.
pub struct CallbackRefused<'a> {
    /// An assignment callback, or one of TaskRouter's events (the Event Callback URL's):
    /// each has its own span name, log line and counter.
    pub event: bool,
    pub request_id: &'a str,
    /// Twilio's `I-Twilio-Idempotency-Token`, when the request had one.
    pub idempotency_token: Option<&'a str>,
    /// The refusal's fixed label (`forbidden`, `bad_request`, …): the span's `outcome` and
    /// the metrics label.
    pub outcome: &'static str,
    /// What was wrong, in one line; never a signature, a token or the body.
    pub reason: &'a dyn Display,
    /// For a refused signature, why (`missing`, `malformed`, `mismatch`, …).
    pub signature_failure: Option<&'static str>,
    /// For a refused signature, what to check.
    pub diagnosis: Option<SignatureDiagnosis<'a>>,
    pub took: Duration,
}

/// Beside a refused signature: the URLs it was checked against and where the request said it
/// was sent. Never the signature, the body or a token.
#[derive(Debug, Clone, Copy)]
pub struct SignatureDiagnosis<'a> {
    /// The configured URLs, passwords masked.
    pub urls_tried: &'a str,
    /// The `Host` header and the path, as received.
    pub host: &'a str,
    pub path: &'a str,
    /// One sentence when scheme, host or port differ from the configured URL.
    pub hint: Option<&'a str>,
}

impl CallbackRefused<'_> {
    pub fn emit(self, metrics: &Metrics) {
        let span = if self.event {
            tracing::info_span!(
                "event",
                request_id = self.request_id,
                idempotency_token = self.idempotency_token,
                outcome = self.outcome
            )
        } else {
            tracing::info_span!(
                "callback",
                request_id = self.request_id,
                idempotency_token = self.idempotency_token,
                outcome = self.outcome
            )
        };
        let message = if self.event {
            "event refused"
        } else {
            "callback refused"
        };
        span.in_scope(|| match &self.diagnosis {
            None => tracing::warn!(reason = %self.reason, "{message}"),
            Some(diagnosis) => tracing::warn!(
                reason = %self.reason,
                urls_tried = diagnosis.urls_tried,
                host = diagnosis.host,
                path = diagnosis.path,
                hint = diagnosis.hint,
                "{message}"
            ),
        });
        if let Some(reason) = self.signature_failure {
            metrics.signature_failure(reason);
        }
        if self.event {
            metrics.event_refused(self.outcome);
            return;
        }
        let labels = CallbackLabels {
            rule: Arc::default(),
            instruction: "",
            delivery: "",
            outcome: self.outcome,
        };
        metrics.callback(&labels, self.took);
    }
}

/// A Reservation update that ended, one way or another.
#[derive(Debug)]
pub struct UpdateEnded<'a> {
    pub reservation_sid: &'a str,
    pub rule: &'a str,
    pub instruction: &'static str,
    /// Requests sent to Twilio for it.
    pub attempts: u32,
    pub outcome: UpdateOutcome<'a>,
}

/// How a Reservation update ended. Each variant is one value of the `rest_updates` counter's
/// `outcome` label.
#[derive(Debug)]
pub enum UpdateOutcome<'a> {
    /// Twilio took it. `unconfirmed` holds the status of a success answer that was not the
    /// Reservation (a proxy, or a wrong `twilio.api_base_url`, answered instead).
    Landed {
        latency: Duration,
        unconfirmed: Option<u16>,
    },
    /// Twilio says the Reservation is no longer pending: TaskRouter has moved on.
    MovedOn { status: u16, message: &'a str },
    /// Twilio refused it, and another try would get the same answer.
    FinalError {
        status: u16,
        code: Option<i64>,
        message: Option<&'a str>,
        more_info: Option<&'a str>,
    },
    /// Twilio's API (or what answered in its place) redirected it; redirects are never
    /// followed, so this is final. `origin` is where the redirect pointed.
    Redirected { status: u16, origin: &'a str },
    /// Its deadline passed before it landed.
    Expired { last_error: &'a str },
    /// Never started: `max_pending` updates were already pending.
    Dropped { max_pending: usize },
}

impl UpdateOutcome<'_> {
    /// The `outcome` label of the log line and of the counter.
    pub fn label(&self) -> &'static str {
        match self {
            UpdateOutcome::Landed { .. } => "landed",
            UpdateOutcome::MovedOn { .. } => "moved_on",
            UpdateOutcome::FinalError { .. } | UpdateOutcome::Redirected { .. } => "final_error",
            UpdateOutcome::Expired { .. } => "expired",
            UpdateOutcome::Dropped { .. } => "dropped",
        }
    }
}

impl UpdateEnded<'_> {
    pub fn emit(self, metrics: &Metrics) {
        let outcome = self.outcome.label();
        metrics.update_ended(outcome);
        let (reservation_sid, rule, instruction, attempts) = (
            self.reservation_sid,
            self.rule,
            self.instruction,
            self.attempts,
        );
        match self.outcome {
            UpdateOutcome::Landed {
                latency,
                unconfirmed,
            } => {
                metrics.update_landed(latency);
                if let Some(status) = unconfirmed {
                    // Not retried: the update may well have been applied. But Twilio always
                    // answers with the Reservation, so something else answered.
                    tracing::warn!(
                        reservation_sid = %reservation_sid,
                        status,
                        "Twilio's answer to a reservation update was a success status without \
                         the Reservation: check twilio.api_base_url and any proxy in between"
                    );
                }
                tracing::info!(
                    reservation_sid = %reservation_sid,
                    rule = %rule,
                    instruction,
                    outcome,
                    attempts,
                    latency_ms = latency.as_millis() as u64,
                    "reservation update landed"
                );
            }
            UpdateOutcome::MovedOn { status, message } => tracing::info!(
                reservation_sid = %reservation_sid,
                rule = %rule,
                instruction,
                outcome,
                attempts,
                status,
                message = %message,
                "reservation update not applied: the reservation has moved on"
            ),
            UpdateOutcome::FinalError {
                status,
                code,
                message,
                more_info,
            } => tracing::error!(
                reservation_sid = %reservation_sid,
                rule = %rule,
                instruction,
                outcome,
                attempts,
                status,
                code = code.unwrap_or_default(),
                message = message.unwrap_or(""),
                more_info = more_info.unwrap_or(""),
                "reservation update refused by Twilio"
            ),
            UpdateOutcome::Redirected { status, origin } => tracing::error!(
                reservation_sid = %reservation_sid,
                rule = %rule,
                instruction,
                outcome,
                attempts,
                status,
                redirect_origin = origin,
                "reservation update refused: the API answered with a redirect, which is never \
                 followed (it would send the credentials elsewhere); check twilio.api_base_url"
            ),
            UpdateOutcome::Expired { last_error } => tracing::error!(
                reservation_sid = %reservation_sid,
                rule = %rule,
                instruction,
                outcome,
                attempts,
                last_error = %last_error,
                "reservation update expired: its deadline passed before it landed"
            ),
            UpdateOutcome::Dropped { max_pending } => tracing::error!(
                reservation_sid = %reservation_sid,
                rule = %rule,
                instruction,
                outcome,
                "reservation update dropped: {max_pending} updates already pending"
            ),
        }
    }
}

/// The log sink took lines again after the writer had to drop some (it never waits for the
/// sink). Counted as the lines are dropped (`log_lines_dropped_total`); this is the line that
/// says so in the log itself.
#[derive(Debug)]
pub struct LogLinesLost {
    pub lost: u64,
}

impl LogLinesLost {
    pub fn emit(self) {
        tracing::warn!(
            lost = self.lost,
            "lost {} log lines: the log sink (stdout) did not keep up, and logging never \
             holds up answers",
            self.lost
        );
    }
}

/// The rules file was read again and its rules are now in force.
#[derive(Debug)]
pub struct RulesReloaded<'a> {
    pub file: &'a str,
    /// What started it: `SIGHUP`, or the files the watch saw change.
    pub trigger: &'a str,
    /// Rules in force, the default included.
    pub rules: usize,
    /// Their series: those of new rules appear at 0, those of rules gone are dropped.
    pub series: &'a [RuleSeries],
}

impl RulesReloaded<'_> {
    pub fn emit(self, metrics: &Metrics) {
        metrics.rules_loaded(self.rules);
        metrics.follow_rules(self.series);
        metrics.reload("success");
        tracing::info!(
            file = %self.file,
            trigger = %self.trigger,
            rules = self.rules,
            "rules reloaded"
        );
    }
}

/// The rules file was read again and refused: the rules in force stay.
#[derive(Debug)]
pub struct RulesNotReloaded<'a, P> {
    pub file: &'a str,
    /// What started it, as for [`RulesReloaded`].
    pub trigger: &'a str,
    pub problems: &'a [P],
}

impl<P: Display> RulesNotReloaded<'_, P> {
    pub fn emit(self, metrics: &Metrics) {
        metrics.reload("failure");
        for problem in self.problems {
            tracing::error!(file = %self.file, "{problem}");
        }
        tracing::error!(
            file = %self.file,
            trigger = %self.trigger,
            problems = self.problems.len(),
            "rules not reloaded: the rules in force stay"
        );
    }
}

/// Decision records not kept: counted every time (`decision_records_dropped_total`), logged
/// only when the caller's throttle allows (a full queue repeats for every decision).
#[derive(Debug)]
pub struct RecordsDropped<'a> {
    pub count: u64,
    /// Why, in the operator's words.
    pub why: &'a str,
}

impl RecordsDropped<'_> {
    pub fn emit(self, metrics: &Metrics, log: bool) {
        metrics.records_dropped(self.count);
        if log {
            tracing::warn!(
                records = self.count,
                "decision records not kept: {}; answers are not affected \
                 (decision_records_dropped_total counts every one; this is logged at most \
                 once a minute)",
                self.why
            );
        }
    }
}

/// The shared store failed an operation (logged at most once a minute by the caller; every
/// failure is counted where the operation is timed).
#[derive(Debug)]
pub struct StoreFailed<'a> {
    pub operation: &'static str,
    pub error: &'a dyn std::error::Error,
}

impl StoreFailed<'_> {
    pub fn emit(self) {
        tracing::error!(
            operation = self.operation,
            "{}; callbacks are still answered, and REST updates are sent from memory until it \
             answers again (this is logged at most once a minute)",
            self.error
        );
    }
}

/// The shared store's schema was checked at start, and brought up to date if it was behind.
#[derive(Debug)]
pub struct StoreMigrated<'a> {
    /// Where the store is (`host:port/database`).
    pub target: &'a str,
    pub applied: &'a [(i32, &'static str)],
    pub version: i32,
}

impl StoreMigrated<'_> {
    pub fn emit(self) {
        for (version, name) in self.applied {
            tracing::info!(
                store = self.target,
                version,
                name,
                "applied schema migration"
            );
        }
        tracing::info!(
            store = self.target,
            schema_version = self.version,
            "shared store ready: REST decisions are claimed fleet-wide"
        );
    }
}

/// A pending update whose holder's lease ran out was taken over by this replica.
#[derive(Debug)]
pub struct UpdateTakenOver<'a> {
    pub reservation_sid: &'a str,
    /// The replica that held it (`host:pid:…`), if one did.
    pub previous_holder: Option<&'a str>,
    pub attempts: u32,
}

impl UpdateTakenOver<'_> {
    pub fn emit(self, metrics: &Metrics) {
        metrics.outbox_takeover();
        tracing::info!(
            reservation_sid = self.reservation_sid,
            previous_holder = self.previous_holder.unwrap_or(""),
            attempts = self.attempts,
            "took over a pending reservation update; checking with Twilio before sending it"
        );
    }
}

/// A REST callback that waited for the deliverer to have room before its answer: the
/// replica is taking decisions faster than it sends their updates.
pub struct CallbackHeld {
    pub waited: std::time::Duration,
    /// It had room within the wait; otherwise its update was handed over regardless.
    pub room: bool,
    pub pending: usize,
}

impl CallbackHeld {
    /// Counted always; logged when `log` (at most once a minute, by the caller's throttle).
    pub fn emit(self, metrics: &Metrics, log: bool) {
        metrics.callback_held(self.room);
        if log {
            tracing::warn!(
                waited_ms = u64::try_from(self.waited.as_millis()).unwrap_or(u64::MAX),
                room = self.room,
                pending = self.pending,
                "REST callbacks wait for the deliverer: it holds half of \
                 twilio.max_pending_updates, so decisions are taken only as fast as their \
                 updates are sent (rest_callbacks_held_total counts every one; this is \
                 logged at most once a minute)"
            );
        }
    }
}

/// An update the deliverer had no room for, left in the shared store, where the next turn
/// here or on another replica takes it.
pub struct UpdateDeferred<'a> {
    pub reservation_sid: &'a str,
}

impl UpdateDeferred<'_> {
    /// Counted always; logged when `log` (at most once a minute, by the caller's throttle).
    pub fn emit(self, metrics: &Metrics, log: bool) {
        metrics.outbox_deferred();
        if log {
            tracing::warn!(
                reservation_sid = %self.reservation_sid,
                "the deliverer is full: the update stays in the shared store for a later turn \
                 (outbox_deferrals_total counts every one; this is logged at most once a minute)"
            );
        }
    }
}

/// Claims the shared store no longer had (its server crashed before they reached its disk),
/// written again by the replica that made them: held by it, so sent or taken over as before.
pub struct ClaimsRestored {
    pub count: u64,
    /// Claims the same statement confirmed, those included.
    pub confirmed: usize,
}

impl ClaimsRestored {
    pub fn emit(self, metrics: &Metrics) {
        metrics.store_claims_restored(self.count);
        tracing::warn!(
            restored = self.count,
            confirmed = self.confirmed,
            "the shared store had lost claims this replica made (its server restarted before \
             they reached its disk): written again, held by this replica"
        );
    }
}

#[cfg(test)]
mod tests;
