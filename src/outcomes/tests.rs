use super::*;
use crate::callback::event::TaskEvent;
use crate::telemetry::metrics::RESERVATION_OUTCOMES;

#[test]
fn each_reservation_outcome_event_gives_its_outcome() {
    use ReservationEvent as R;
    let cases = [
        (R::Accepted, Outcome::Accepted),
        (R::Rejected, Outcome::Rejected),
        (R::Timeout, Outcome::Timeout),
        (R::Canceled, Outcome::Canceled),
        (R::Rescinded, Outcome::Rescinded),
        (R::Wrapup, Outcome::Wrapup),
        (R::Completed, Outcome::Completed),
    ];
    for (event, expected) in cases {
        // Act
        let outcome = outcome_of(EventKind::Reservation(event));

        // Assert
        assert_eq!(outcome, Some(expected), "{event:?}");
    }
}

#[test]
fn an_outcome_is_named_after_its_event() {
    use ReservationEvent as R;
    for event in [
        R::Accepted,
        R::Rejected,
        R::Timeout,
        R::Canceled,
        R::Rescinded,
        R::Wrapup,
        R::Completed,
    ] {
        // Arrange
        let kind = EventKind::Reservation(event);

        // Act
        let outcome = outcome_of(kind).unwrap();

        // Assert: `reservation.timeout` is the outcome `timeout`.
        assert_eq!(
            Some(outcome.label()),
            kind.label().strip_prefix("reservation."),
            "{event:?}"
        );
    }
}

#[test]
fn created_failed_task_and_other_events_give_no_outcome() {
    for kind in [
        EventKind::Reservation(ReservationEvent::Created),
        EventKind::Reservation(ReservationEvent::Failed),
        EventKind::Task(TaskEvent::Canceled),
        EventKind::Task(TaskEvent::Completed),
        EventKind::Task(TaskEvent::Deleted),
        EventKind::Task(TaskEvent::SystemDeleted),
        EventKind::Other,
        EventKind::Unknown,
    ] {
        // Act
        let outcome = outcome_of(kind);

        // Assert
        assert_eq!(outcome, None, "{kind:?}");
    }
}

#[test]
fn every_outcome_is_reached_by_some_event() {
    // Arrange
    let reached: Vec<Outcome> = [
        "reservation.accepted",
        "reservation.rejected",
        "reservation.timeout",
        "reservation.canceled",
        "reservation.rescinded",
        "reservation.wrapup",
        "reservation.completed",
    ]
    .into_iter()
    .filter_map(|event_type| outcome_of(EventKind::of(event_type)))
    .collect();

    // Assert
    assert_eq!(reached, Outcome::ALL);
}

#[test]
fn the_outcomes_are_the_metrics_outcomes_in_the_same_order() {
    // Act
    let labels: Vec<&str> = Outcome::ALL.into_iter().map(Outcome::label).collect();

    // Assert: the series made at 0 are exactly those the events can move.
    assert_eq!(labels, RESERVATION_OUTCOMES);
}

#[test]
fn each_outcome_label_names_it_back() {
    for outcome in Outcome::ALL {
        // Act
        let named = Outcome::from_label(outcome.label());

        // Assert
        assert_eq!(named, Some(outcome), "{outcome:?}");
    }
    assert_eq!(Outcome::from_label("failed"), None);
    assert_eq!(Outcome::from_label("Accepted"), None);
}

/// Kept here, not beside the event's type: `callback/` may not know the metrics.
#[test]
fn every_counted_event_type_is_the_label_of_its_own_kind() {
    use crate::telemetry::metrics::EVENT_TYPES;
    for event_type in EVENT_TYPES {
        // Act
        let kind = match event_type {
            "other" => EventKind::of("worker.activity.update"),
            "unknown" => EventKind::of("no.such-event"),
            named => EventKind::of(named),
        };

        // Assert
        assert_eq!(kind.label(), event_type);
    }
}
