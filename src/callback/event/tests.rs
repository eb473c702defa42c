use super::*;

const WR: &str = "WR0123456789abcdef0123456789abcdef";
const WT: &str = "WT0123456789abcdef0123456789abcdef";

fn pairs(list: &[(&str, &str)]) -> Verified<Vec<(String, String)>> {
    Verified::unchecked(
        list.iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
    )
}

/// The event types the service acts on, as TaskRouter spells them (events reference §2.1,
/// §2.2), with the kind each must be typed as.
fn acted_on() -> Vec<(&'static str, EventKind)> {
    use ReservationEvent as R;
    vec![
        ("reservation.created", EventKind::Reservation(R::Created)),
        ("reservation.accepted", EventKind::Reservation(R::Accepted)),
        ("reservation.rejected", EventKind::Reservation(R::Rejected)),
        ("reservation.timeout", EventKind::Reservation(R::Timeout)),
        ("reservation.canceled", EventKind::Reservation(R::Canceled)),
        (
            "reservation.rescinded",
            EventKind::Reservation(R::Rescinded),
        ),
        ("reservation.wrapup", EventKind::Reservation(R::Wrapup)),
        (
            "reservation.completed",
            EventKind::Reservation(R::Completed),
        ),
        ("reservation.failed", EventKind::Reservation(R::Failed)),
        ("task.canceled", EventKind::Task(TaskEvent::Canceled)),
        ("task.completed", EventKind::Task(TaskEvent::Completed)),
        ("task.deleted", EventKind::Task(TaskEvent::Deleted)),
        (
            "task.system-deleted",
            EventKind::Task(TaskEvent::SystemDeleted),
        ),
    ]
}

/// Every kind there is.
fn every_kind() -> Vec<EventKind> {
    let mut kinds: Vec<EventKind> = acted_on().into_iter().map(|(_, kind)| kind).collect();
    kinds.extend([EventKind::Other, EventKind::Unknown]);
    kinds
}

/// TaskRouter's other documented types (events reference §2.2, §2.3), written out here
/// rather than read from the module, so that a type dropped from its list is noticed.
const DOCUMENTED_OTHERS: &[&str] = &[
    "task.created",
    "task.updated",
    "task.wrapup",
    "task.transfer-initiated",
    "task.transfer-attempt-failed",
    "task.transfer-failed",
    "task.transfer-canceled",
    "task.transfer-completed",
    "activity.created",
    "activity.updated",
    "activity.deleted",
    "task-channel.created",
    "task-channel.updated",
    "task-channel.deleted",
    "task-queue.created",
    "task-queue.deleted",
    "task-queue.entered",
    "task-queue.timeout",
    "task-queue.moved",
    "task-queue.expression.updated",
    "worker.created",
    "worker.activity.update",
    "worker.attributes.update",
    "worker.capacity.update",
    "worker.channel.availability.update",
    "worker.deleted",
    "workflow.created",
    "workflow.updated",
    "workflow.deleted",
    "workflow.target-matched",
    "workflow.entered",
    "workflow.timeout",
    "workflow.skipped",
    "workspace.created",
    "workspace.updated",
    "workspace.deleted",
];

#[test]
fn each_event_acted_on_is_typed_as_its_kind_and_labelled_by_its_own_name() {
    for (event_type, expected) in acted_on() {
        // Act
        let kind = EventKind::of(event_type);

        // Assert
        assert_eq!(kind, expected, "{event_type}");
        assert_eq!(kind.label(), event_type, "{event_type}");
    }
}

#[test]
fn each_reservation_event_is_typed_with_its_sids() {
    for (event_type, expected) in acted_on() {
        if !event_type.starts_with("reservation.") {
            continue;
        }
        // Arrange
        let form = pairs(&[
            ("EventType", event_type),
            ("ReservationSid", WR),
            ("TaskSid", WT),
        ]);

        // Act
        let event = WorkspaceEvent::from_verified(form);

        // Assert
        assert_eq!(
            event,
            Ok(WorkspaceEvent {
                kind: expected,
                reservation_sid: Some(WR.to_owned()),
                task_sid: Some(WT.to_owned()),
            }),
            "{event_type}"
        );
    }
}

#[test]
fn each_task_event_acted_on_is_typed_from_its_task_sid_alone() {
    for (event_type, expected) in acted_on() {
        if !event_type.starts_with("task.") {
            continue;
        }
        // Arrange
        let form = pairs(&[("EventType", event_type), ("TaskSid", WT)]);

        // Act
        let event = WorkspaceEvent::from_verified(form);

        // Assert
        assert_eq!(
            event,
            Ok(WorkspaceEvent {
                kind: expected,
                reservation_sid: None,
                task_sid: Some(WT.to_owned()),
            }),
            "{event_type}"
        );
    }
}

#[test]
fn a_reservation_failed_event_needs_no_worker() {
    // Arrange: `reservation.failed` carries no Worker fields (events reference §2.1).
    let form = pairs(&[
        ("EventType", "reservation.failed"),
        ("ReservationSid", WR),
        ("TaskSid", WT),
        ("TaskQueueSid", "WQ0123456789abcdef0123456789abcdef"),
    ]);

    // Act
    let event = WorkspaceEvent::from_verified(form).unwrap();

    // Assert
    assert_eq!(event.kind, EventKind::Reservation(ReservationEvent::Failed));
}

#[test]
fn every_other_documented_type_is_other() {
    for event_type in DOCUMENTED_OTHERS {
        // Act
        let kind = EventKind::of(event_type);

        // Assert
        assert_eq!(kind, EventKind::Other, "{event_type}");
        assert_eq!(kind.label(), "other", "{event_type}");
    }
}

#[test]
fn the_module_lists_no_other_type_the_service_acts_on() {
    // Arrange: an acted-on type in the list of others would hide nothing today (`of`
    // matches it first), but would the day it is reordered.
    let acted: Vec<&str> = acted_on().into_iter().map(|(name, _)| name).collect();

    for event_type in OTHER_TYPES {
        // Assert
        assert!(!acted.contains(event_type), "{event_type}");
        assert!(DOCUMENTED_OTHERS.contains(event_type), "{event_type}");
    }
    assert_eq!(OTHER_TYPES.len(), DOCUMENTED_OTHERS.len());
}

#[test]
fn an_other_event_needs_neither_sid() {
    // Arrange
    let form = pairs(&[
        ("EventType", "worker.activity.update"),
        ("WorkerSid", "WK0123456789abcdef0123456789abcdef"),
    ]);

    // Act
    let event = WorkspaceEvent::from_verified(form);

    // Assert
    assert_eq!(
        event,
        Ok(WorkspaceEvent {
            kind: EventKind::Other,
            reservation_sid: None,
            task_sid: None,
        })
    );
}

#[test]
fn undocumented_types_are_unknown() {
    let unknown = [
        "reservation.exploded",
        "reservation.",
        "reservation",
        "Reservation.Accepted",
        "RESERVATION.ACCEPTED",
        "task.Canceled",
        " reservation.accepted",
        "reservation.accepted ",
        "task.transferred",
        "worker.activity",
        "other",
        "unknown",
        "x",
    ];
    for event_type in unknown {
        // Act
        let kind = EventKind::of(event_type);

        // Assert
        assert_eq!(kind, EventKind::Unknown, "{event_type:?}");
        assert_eq!(kind.label(), "unknown", "{event_type:?}");
    }
}

#[test]
fn an_undocumented_type_is_typed_as_unknown_without_sids() {
    // Arrange: no sid is required of a type nothing is done with.
    let form = pairs(&[("EventType", "reservation.exploded")]);

    // Act
    let event = WorkspaceEvent::from_verified(form);

    // Assert
    assert_eq!(
        event,
        Ok(WorkspaceEvent {
            kind: EventKind::Unknown,
            reservation_sid: None,
            task_sid: None,
        })
    );
}

#[test]
fn an_oversized_type_is_unknown_whatever_it_starts_with() {
    for start in ["reservation.accepted", "task.canceled", "worker.created"] {
        // Arrange: longer than any type TaskRouter sends, and without the sids a
        // Reservation or Task event needs: it is counted, not refused.
        let event_type = format!("{start}.{}", "x".repeat(MAX_EVENT_TYPE));
        let form = pairs(&[("EventType", event_type.as_str())]);

        // Act
        let event = WorkspaceEvent::from_verified(form);

        // Assert
        assert_eq!(
            event.map(|event| event.kind),
            Ok(EventKind::Unknown),
            "{start}"
        );
    }
}

#[test]
fn every_documented_type_fits_the_longest_kept() {
    // Assert: a type longer than the bound would be counted as unknown.
    for event_type in acted_on()
        .into_iter()
        .map(|(name, _)| name)
        .chain(DOCUMENTED_OTHERS.iter().copied())
    {
        assert!(event_type.len() <= MAX_EVENT_TYPE, "{event_type}");
    }
}

#[test]
fn an_event_without_its_type_is_refused() {
    let forms = [
        pairs(&[("ReservationSid", WR), ("TaskSid", WT)]),
        pairs(&[("EventType", ""), ("ReservationSid", WR), ("TaskSid", WT)]),
        pairs(&[]),
    ];
    for form in forms {
        // Act
        let event = WorkspaceEvent::from_verified(form);

        // Assert
        assert_eq!(event, Err(CallbackError::EventMissing("EventType")));
    }
}

#[test]
fn a_reservation_event_without_its_reservation_sid_is_refused() {
    for (event_type, _) in acted_on() {
        if !event_type.starts_with("reservation.") {
            continue;
        }
        for form in [
            pairs(&[("EventType", event_type), ("TaskSid", WT)]),
            pairs(&[
                ("EventType", event_type),
                ("ReservationSid", ""),
                ("TaskSid", WT),
            ]),
        ] {
            // Act
            let event = WorkspaceEvent::from_verified(form);

            // Assert
            assert_eq!(
                event,
                Err(CallbackError::EventMissing("ReservationSid")),
                "{event_type}"
            );
        }
    }
}

#[test]
fn a_task_event_without_its_task_sid_is_refused() {
    for (event_type, _) in acted_on() {
        if !event_type.starts_with("task.") {
            continue;
        }
        for form in [
            pairs(&[("EventType", event_type), ("ReservationSid", WR)]),
            pairs(&[("EventType", event_type), ("TaskSid", "")]),
        ] {
            // Act
            let event = WorkspaceEvent::from_verified(form);

            // Assert
            assert_eq!(
                event,
                Err(CallbackError::EventMissing("TaskSid")),
                "{event_type}"
            );
        }
    }
}

#[test]
fn an_empty_sid_is_no_sid() {
    // Arrange
    let form = pairs(&[
        ("EventType", "reservation.accepted"),
        ("ReservationSid", WR),
        ("TaskSid", ""),
    ]);

    // Act
    let event = WorkspaceEvent::from_verified(form).unwrap();

    // Assert
    assert_eq!(event.task_sid, None);
    assert_eq!(event.reservation_sid.as_deref(), Some(WR));
}

#[test]
fn a_field_read_given_twice_is_refused_naming_it() {
    let cases = [
        (
            "EventType",
            pairs(&[
                ("EventType", "reservation.accepted"),
                ("ReservationSid", WR),
                ("EventType", "reservation.rejected"),
            ]),
        ),
        (
            "ReservationSid",
            pairs(&[
                ("EventType", "reservation.accepted"),
                ("ReservationSid", WR),
                ("ReservationSid", "WRfedcba9876543210fedcba9876543210"),
            ]),
        ),
        (
            "TaskSid",
            pairs(&[
                ("EventType", "task.canceled"),
                ("TaskSid", WT),
                ("TaskSid", WT),
            ]),
        ),
        (
            // Even an empty first copy: which copy counts must not depend on their order.
            "ReservationSid",
            pairs(&[
                ("ReservationSid", ""),
                ("EventType", "reservation.accepted"),
                ("ReservationSid", WR),
            ]),
        ),
        (
            // Even for a type nothing is done with.
            "EventType",
            pairs(&[
                ("EventType", "worker.created"),
                ("EventType", "worker.created"),
            ]),
        ),
    ];
    for (name, form) in cases {
        // Act
        let event = WorkspaceEvent::from_verified(form);

        // Assert
        assert_eq!(event, Err(CallbackError::EventRepeated(name)), "{name}");
    }
}

#[test]
fn the_refusals_say_what_is_wrong_in_the_event() {
    // Assert: the Display is what an operator reads.
    assert_eq!(
        CallbackError::EventMissing("ReservationSid").to_string(),
        "the event has no ReservationSid"
    );
    assert_eq!(
        CallbackError::EventRepeated("EventType").to_string(),
        "the event has EventType more than once"
    );
}

#[test]
fn unknown_fields_are_ignored_even_when_repeated() {
    // Arrange: the documented fields the service does not read, a new one, and one twice.
    let form = pairs(&[
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("WorkspaceSid", "WS0123456789abcdef0123456789abcdef"),
        ("EventType", "reservation.timeout"),
        ("EventDescription", "Reservation timed out"),
        ("ResourceType", "reservation"),
        ("ResourceSid", WR),
        ("ReservationSid", WR),
        ("TaskAttributes", "{\"caller\":\"+15005550006\"}"),
        ("SomethingNew", "1"),
        ("SomethingNew", "2"),
        ("eventtype", "task.canceled"),
    ]);

    // Act
    let event = WorkspaceEvent::from_verified(form);

    // Assert
    assert_eq!(
        event,
        Ok(WorkspaceEvent {
            kind: EventKind::Reservation(ReservationEvent::Timeout),
            reservation_sid: Some(WR.to_owned()),
            task_sid: None,
        })
    );
}

#[test]
fn moves_on_exactly_when_the_reservation_ended_unaccepted_or_its_task_is_gone() {
    use ReservationEvent as R;
    let moving_on = [
        EventKind::Reservation(R::Rejected),
        EventKind::Reservation(R::Timeout),
        EventKind::Reservation(R::Canceled),
        EventKind::Reservation(R::Rescinded),
        EventKind::Reservation(R::Failed),
        EventKind::Task(TaskEvent::Canceled),
        EventKind::Task(TaskEvent::Deleted),
        EventKind::Task(TaskEvent::SystemDeleted),
    ];
    for kind in every_kind() {
        // Act
        let moves_on = kind.moves_on();

        // Assert
        assert_eq!(moves_on, moving_on.contains(&kind), "{kind:?}");
    }
}

#[test]
fn acceptance_and_completion_do_not_move_on() {
    use ReservationEvent as R;
    // Assert: these follow this service's own update, whose end says how it went.
    for kind in [
        EventKind::Reservation(R::Created),
        EventKind::Reservation(R::Accepted),
        EventKind::Reservation(R::Wrapup),
        EventKind::Reservation(R::Completed),
        EventKind::Task(TaskEvent::Completed),
        EventKind::Other,
        EventKind::Unknown,
    ] {
        assert!(!kind.moves_on(), "{kind:?}");
    }
}
