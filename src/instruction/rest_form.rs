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
mod tests;
