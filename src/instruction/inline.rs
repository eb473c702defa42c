//! The body of a callback's answer: the instruction as TaskRouter's JSON, or `{}`.
//!
//! Written by hand rather than through a map so that keys come out in a fixed order
//! (`instruction` first) without building an intermediate value for every callback.

use crate::instruction::FieldSpec;
use crate::instruction::InstructionKind;
use crate::instruction::Rendered;

/// The answer that tells TaskRouter to wait: the Reservation is settled some other way.
pub const EMPTY: &[u8] = b"{}";

/// `{"instruction":"…", key: value, …}` with the callback JSON's key names. Lists are
/// comma-joined (TaskRouter's `status_callback_events` is one string); booleans and numbers
/// are JSON booleans and numbers.
pub fn inline(instruction: InstructionKind, fields: &[(&'static FieldSpec, Rendered)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + 48 * fields.len());
    out.extend_from_slice(b"{\"instruction\":\"");
    out.extend_from_slice(instruction.name().as_bytes());
    out.push(b'"');
    for (spec, value) in fields {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(spec.key.as_bytes());
        out.extend_from_slice(b"\":");
        match value {
            Rendered::Text(text) => write_string(&mut out, text),
            Rendered::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Rendered::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Rendered::Events(events) => write_string(&mut out, &events.join(",")),
        }
    }
    out.push(b'}');
    out
}

fn write_string(out: &mut Vec<u8>, text: &str) {
    // serde_json's escaping into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

#[cfg(test)]
mod tests;
