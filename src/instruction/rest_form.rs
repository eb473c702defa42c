//! The form a Reservation update sends to Twilio's REST API, field for field as Twilio's own
//! helper libraries send it (`reference/taskrouter.md` §2.9, §3.3 and §3.6).

use crate::instruction::Rendered;
use crate::instruction::{FieldSpec, InstructionKind};

/// The form pairs for `instruction` with these fields, in order. `accept` and `reject` set
/// `ReservationStatus`; every other instruction is `Instruction=<name>` plus its fields under
/// their REST names. Lists become repeated keys, booleans `true`/`false`, integers decimal;
/// absent values are simply not there.
pub fn build(
    instruction: InstructionKind,
    fields: &[(&'static FieldSpec, Rendered)],
) -> Vec<(&'static str, String)> {
    let mut form = Vec::with_capacity(fields.len() + 1);
    match instruction {
        InstructionKind::Accept => form.push(("ReservationStatus", "accepted".to_owned())),
        InstructionKind::Reject => form.push(("ReservationStatus", "rejected".to_owned())),
        other => form.push(("Instruction", other.name().to_owned())),
    }
    for (spec, value) in fields {
        match value {
            Rendered::Text(text) => form.push((spec.rest, text.clone())),
            Rendered::Integer(n) => form.push((spec.rest, n.to_string())),
            Rendered::Bool(b) => form.push((spec.rest, b.to_string())),
            Rendered::Events(events) => {
                form.extend(events.iter().map(|event| (spec.rest, event.clone())));
            }
        }
    }
    form
}

#[cfg(test)]
mod tests {
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
}
