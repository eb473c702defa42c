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
mod tests {
    use super::*;
    use crate::instruction::InstructionKind;
    use serde_json::json;

    fn spec(kind: InstructionKind, key: &str) -> &'static FieldSpec {
        kind.fields().iter().find(|f| f.key == key).unwrap()
    }

    #[test]
    fn writes_every_value_kind_as_taskrouter_expects() {
        let kind = InstructionKind::Dequeue;
        let fields = vec![
            (spec(kind, "from"), Rendered::Text("+1 \"555\"".to_owned())),
            (spec(kind, "timeout"), Rendered::Integer(30)),
            (
                spec(kind, "status_callback_events"),
                Rendered::Events(vec!["answered".to_owned(), "completed".to_owned()]),
            ),
        ];
        let body: serde_json::Value = serde_json::from_slice(&inline(kind, &fields)).unwrap();
        assert_eq!(
            body,
            json!({"instruction":"dequeue","from":"+1 \"555\"","timeout":30,
                   "status_callback_events":"answered,completed"})
        );
    }

    #[test]
    fn booleans_are_json_booleans() {
        let kind = InstructionKind::Call;
        let fields = vec![(spec(kind, "accept"), Rendered::Bool(true))];
        assert_eq!(
            inline(kind, &fields),
            br#"{"instruction":"call","accept":true}"#.to_vec()
        );
    }
}
