use super::*;

fn spec(kind: InstructionKind, key: &str) -> &'static FieldSpec {
    kind.fields().iter().find(|f| f.key == key).unwrap()
}

#[test]
fn accept_is_a_reservation_status() {
    assert_eq!(
        build(InstructionKind::Accept, &[]),
        [("ReservationStatus", "accepted".to_owned())]
    );
}

#[test]
fn reject_names_the_worker_activity() {
    let kind = InstructionKind::Reject;
    let sid = "WAfedcba9876543210fedcba9876543210".to_owned();
    let fields = [(spec(kind, "activity_sid"), Rendered::Text(sid.clone()))];
    assert_eq!(
        build(kind, &fields),
        [
            ("ReservationStatus", "rejected".to_owned()),
            ("WorkerActivitySid", sid)
        ]
    );
}

#[test]
fn lists_repeat_their_key_and_booleans_and_numbers_are_words() {
    let kind = InstructionKind::Conference;
    let fields = [
        (
            spec(kind, "from"),
            Rendered::Text("+15005550006".to_owned()),
        ),
        (spec(kind, "timeout"), Rendered::Integer(20)),
        (spec(kind, "end_conference_on_exit"), Rendered::Bool(true)),
        (
            spec(kind, "conference_status_callback_event"),
            Rendered::Events(vec!["start".to_owned(), "end".to_owned()]),
        ),
    ];
    assert_eq!(
        build(kind, &fields),
        [
            ("Instruction", "conference".to_owned()),
            ("From", "+15005550006".to_owned()),
            ("Timeout", "20".to_owned()),
            ("EndConferenceOnExit", "true".to_owned()),
            ("ConferenceStatusCallbackEvent", "start".to_owned()),
            ("ConferenceStatusCallbackEvent", "end".to_owned()),
        ]
    );
}
