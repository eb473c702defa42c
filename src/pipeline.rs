//! One callback from raw body bytes to answer bytes: form, signature, typed callback, rules,
//! answer, and for REST rules the update to claim (with a shared store) and hand to the
//! deliverer once the answer is out. No web types, so the whole path is benchmarked and
//! tested on its own.
//!
//! Nothing about the callback is evaluated before its signature holds.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use jiff::Timestamp;

use crate::callback::event::WorkspaceEvent;
use crate::callback::form::{self, FormError};
use crate::callback::signature::{SignatureError, SignatureHeader};
use crate::callback::verified::Verified;
use crate::callback::{AssignmentCallback, CallbackError};
use crate::decisions::build::Decided;
use crate::dedupe::Remembered;
use crate::outbox::Claim;
use crate::rules::{RuleSet, Skipped};
use crate::state::AppState;
use crate::telemetry::events::{RuleSkipped, ShadowMatched};
use crate::twilio::client::{self, ReservationTarget};
use crate::twilio::deliverer::Update;

/// The longest a REST callback waits for room in a busy deliverer. With the claim's 500 ms,
/// an answer still leaves TaskRouter's 5-second window more than two thirds unused.
const ROOM_WAIT: Duration = Duration::from_millis(250);

/// Why a callback got no instruction. `Display` is the one-line body of a 4xx (403s have
/// none); neither `Display` nor `Debug` ever holds a signature or a token. Each one's HTTP
/// status and metrics label are in one table, `http::refusal`.
#[derive(Debug, thiserror::Error)]
pub enum AssignmentError {
    #[error("the body must be application/x-www-form-urlencoded")]
    UnsupportedMediaType,
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the body could not be read: {0}")]
    Unreadable(String),
    #[error("the body took longer than {0} seconds to arrive")]
    TooSlow(u64),
    #[error(transparent)]
    Form(#[from] FormError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Callback(#[from] CallbackError),
}

/// An answered callback: the body to send, and what to log and count.
#[derive(Debug)]
pub struct Answered {
    pub answer: Bytes,
    pub callback: AssignmentCallback,
    pub rule: Arc<String>,
    pub instruction: &'static str,
    pub delivery: &'static str,
    /// `answered`, or `duplicate` for a Reservation already decided.
    pub outcome: &'static str,
    /// For a REST rule, the update to [`deliver`]: claimed for this Reservation already, so
    /// it must not be dropped.
    pub update: Option<Update>,
    /// Rules that matched but were skipped (a template without a usable value), to be
    /// logged and counted.
    pub skipped: Vec<Skipped>,
    /// What the shadow rules and the decision record need once the answer is on its way
    /// ([`Answered::finish`]); `None` for a repeat, which has its record already.
    pub follow_up: Option<FollowUp>,
}

/// The rules and clock a decision was made with, kept past its answer.
#[derive(Debug)]
pub struct FollowUp {
    rules: Arc<RuleSet>,
    now: Timestamp,
    decided_at: SystemTime,
}

impl Answered {
    /// Once logged: the answer to send, the update to hand to the deliverer, and what is
    /// left to do after the answer is written ([`follow_up`]).
    pub fn finish(self) -> (Bytes, Option<Update>, Option<Decided>) {
        let decided = self.follow_up.map(|follow_up| Decided {
            rules: follow_up.rules,
            callback: self.callback,
            now: follow_up.now,
            decided_at: follow_up.decided_at,
            rule: self.rule,
            instruction: self.instruction,
            delivery: self.delivery,
            answer: self.answer.clone(),
        });
        (self.answer, self.update, decided)
    }
}

/// Runs one callback's body through the service, at `now` (for schedules).
pub fn process(
    state: &AppState,
    body: &[u8],
    query: Option<&str>,
    signature: SignatureHeader<'_>,
    now: Timestamp,
) -> Result<Answered, AssignmentError> {
    let pairs = form::parse(body)?;
    let pairs = match &state.verifier {
        Some(verifier) => verifier.verify(query, pairs, signature)?,
        // `callback.verify_signature = false`: warned about at start.
        None => Verified::unchecked(pairs),
    };
    let callback = AssignmentCallback::from_verified(pairs)?;
    if let Some(previous) = state.recent.get(&callback.reservation_sid) {
        return Ok(repeat(previous, callback));
    }
    // This callback finishes on the rules it started with, whatever a reload does meanwhile.
    let rules = state.rules.load_full();
    let decision = rules.decide(&callback, now);
    let rule = decision.label.clone();
    let decided_at = SystemTime::now();
    let instruction = decision.instruction.name();
    let delivery = decision.delivery.name();
    let update = match decision.update_form {
        None => None,
        Some(form) => {
            let remembered = Remembered {
                answer: decision.answer.clone(),
                rule: rule.clone(),
                instruction,
                delivery,
            };
            // Claimed atomically: of two callbacks racing for one Reservation, one sends.
            if let Some(previous) = state.recent.claim(&callback.reservation_sid, remembered) {
                return Ok(repeat(previous, callback));
            }
            Some(Update {
                target: ReservationTarget {
                    workspace_sid: callback.workspace_sid.clone(),
                    worker_sid: callback.worker_sid.clone(),
                    task_sid: callback.task_sid.clone(),
                    reservation_sid: callback.reservation_sid.clone(),
                },
                rule: rule.to_string(),
                instruction: decision.instruction,
                body: client::encode(&form),
                decided_at,
                deadline: decided_at + state.update_deadline,
                attempts: 0,
                durable: false,
                reconcile: false,
            })
        }
    };
    let answer = decision.answer;
    let skipped = decision.skipped;
    Ok(Answered {
        answer,
        callback,
        rule,
        instruction,
        delivery,
        outcome: "answered",
        update,
        skipped,
        follow_up: Some(FollowUp {
            rules,
            now,
            decided_at,
        }),
    })
}

/// Checks one of TaskRouter's events, from body bytes to the typed event, as a callback is
/// checked: form syntax, then the signature (against the Event Callback URL), then the
/// fields the service reads. Nothing about it is acted on here.
pub fn process_event(
    state: &AppState,
    body: &[u8],
    query: Option<&str>,
    signature: SignatureHeader<'_>,
) -> Result<WorkspaceEvent, AssignmentError> {
    let pairs = form::parse(body)?;
    let pairs = match &state.events_verifier {
        Some(verifier) => verifier.verify(query, pairs, signature)?,
        // `callback.verify_signature = false`: warned about at start.
        None => Verified::unchecked(pairs),
    };
    Ok(WorkspaceEvent::from_verified(pairs)?)
}

/// Once the answer is written: the shadow rules, then the decision's record, handed to the
/// recorder. Neither delays the answer.
pub fn follow_up(state: &AppState, decided: Decided) {
    if !decided.rules.shadows().is_empty() {
        shadow(state, &decided);
    }
    state.recorder.record(decided);
}

/// Evaluates the shadow rules of one answered callback, logging and counting what each
/// that matched would have answered (with `decisions.mask`'s values masked, as records
/// have them).
fn shadow(state: &AppState, decided: &Decided) {
    let Decided {
        rules,
        callback,
        now,
        rule: answered_by,
        ..
    } = decided;
    let masked = state.mask.values_of(callback);
    for verdict in rules.shadow(callback, *now) {
        match verdict.outcome {
            Ok(decision) => {
                // Masked value by value before encoding: encoded, a value no longer reads
                // as itself.
                let would_send = decision.update_form.as_deref().map(|form| {
                    let form: Vec<(&'static str, String)> = form
                        .iter()
                        .map(|(key, value)| (*key, masked.scrub(value)))
                        .collect();
                    client::encode(&form)
                });
                ShadowMatched {
                    rule: &verdict.rule,
                    reservation_sid: &callback.reservation_sid,
                    instruction: decision.instruction.name(),
                    delivery: decision.delivery.name(),
                    would_answer: &masked.scrub(&String::from_utf8_lossy(&decision.answer)),
                    would_send: would_send.as_deref(),
                    answered_by,
                }
                .emit(&state.metrics);
            }
            Err(skip) => RuleSkipped {
                rule: &verdict.rule,
                field: skip.field,
                path: skip.path.as_deref(),
                reason: &skip.reason,
                label: skip.label,
            }
            .emit(&state.metrics),
        }
    }
}

/// Claims a REST decision in the store before its answer goes out (fleet-wide, with the
/// shared store): a Reservation another replica claimed first is answered as a duplicate,
/// with no update. Inline answers, and every answer with the memory store, return at once.
pub async fn claim(state: &AppState, answered: &mut Answered) {
    let Some(update) = answered.update.as_mut() else {
        return;
    };
    if let Some(deliverer) = &state.deliverer {
        // A deliverer past its half holds the answer until an update ends (see
        // `Deliverer::wait_for_room`), so that this replica takes REST decisions only as fast
        // as it sends them. Past the wait the update goes on regardless: into the store for a
        // later turn, or into the half kept for such updates.
        deliverer.wait_for_room(ROOM_WAIT).await;
    }
    if state.store.claim(update).await == Claim::Lost {
        tracing::info!(
            "reservation already claimed by another replica: answering as before, sending \
             nothing"
        );
        answered.update = None;
        answered.outcome = "duplicate";
    }
}

/// Hands a REST update to the deliverer, which sends it in the background.
pub fn deliver(state: &AppState, update: Update) {
    match &state.deliverer {
        // A full queue is logged by the deliverer; TaskRouter still gets its answer and
        // re-routes the Task when the Reservation times out.
        Some(deliverer) => {
            let _ = deliverer.submit(update);
        }
        None => tracing::error!(
            reservation_sid = %update.target.reservation_sid,
            "a REST rule matched but no REST credentials are configured; nothing was sent"
        ),
    }
}

/// The answer given the first time this Reservation was decided; no second update.
fn repeat(previous: Remembered, callback: AssignmentCallback) -> Answered {
    tracing::info!("reservation already decided: answering as before, sending nothing");
    Answered {
        answer: previous.answer,
        callback,
        rule: previous.rule,
        instruction: previous.instruction,
        delivery: previous.delivery,
        outcome: "duplicate",
        update: None,
        skipped: Vec::new(),
        follow_up: None,
    }
}
