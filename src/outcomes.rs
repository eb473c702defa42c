//! What TaskRouter's events tell (§10.1 of the design): each Reservation outcome tied back to
//! the rule that decided it, and pending updates stopped once their Reservation has moved on.
//!
//! Events come after their answer (`204`) has gone out, so nothing here delays TaskRouter.

use std::time::SystemTime;

use crate::callback::event::{EventKind, ReservationEvent, WorkspaceEvent};
use crate::decisions::Outcome;
use crate::recording::{self, Recorder};
use crate::store::SharedStore;
use crate::telemetry::metrics::Metrics;
use crate::twilio::deliverer::Deliverer;

/// The outcome a Reservation event reports, if it is one records keep.
pub fn outcome_of(kind: EventKind) -> Option<Outcome> {
    use ReservationEvent as R;
    match kind {
        EventKind::Reservation(event) => match event {
            R::Accepted => Some(Outcome::Accepted),
            R::Rejected => Some(Outcome::Rejected),
            R::Timeout => Some(Outcome::Timeout),
            R::Canceled => Some(Outcome::Canceled),
            R::Rescinded => Some(Outcome::Rescinded),
            R::Wrapup => Some(Outcome::Wrapup),
            R::Completed => Some(Outcome::Completed),
            R::Created | R::Failed => None,
        },
        _ => None,
    }
}

/// Acts on one signed event that arrived `at`.
pub async fn take(
    event: WorkspaceEvent,
    at: SystemTime,
    recorder: &Recorder,
    deliverer: Option<&Deliverer>,
    metrics: &Metrics,
) {
    let label = event.kind.label();
    metrics.event(label);
    if event.kind.moves_on() {
        stop_updates(&event, label, deliverer, recorder.store()).await;
    }
    if let (Some(outcome), Some(sid)) = (outcome_of(event.kind), &event.reservation_sid) {
        recording::tie(recorder, sid, outcome, at).await;
    }
}

/// Ends the pending updates the event makes pointless, here and in the shared store.
async fn stop_updates(
    event: &WorkspaceEvent,
    label: &'static str,
    deliverer: Option<&Deliverer>,
    store: Option<&SharedStore>,
) {
    let why = format!("TaskRouter's {label} event: the reservation has moved on");
    let reservation = match event.kind {
        EventKind::Task(_) => None,
        _ => event.reservation_sid.as_deref(),
    };
    let task = match event.kind {
        EventKind::Task(_) => event.task_sid.as_deref(),
        _ => None,
    };
    if let Some(deliverer) = deliverer {
        match (reservation, task) {
            (Some(sid), _) => {
                deliverer.stop(sid, &why);
            }
            (None, Some(task_sid)) => {
                deliverer.stop_task(task_sid, &why);
            }
            (None, None) => {}
        }
    }
    if let Some(store) = store
        && let Err(error) = store.end_moved_on(reservation, task, &why).await
    {
        // The holder still stops at its next retry if it is this replica; another replica's
        // update runs on until Twilio's answer or its deadline ends it.
        tracing::warn!(
            error = %error,
            event = label,
            "a pending update could not be ended in the shared store"
        );
    }
}

#[cfg(test)]
mod tests;
