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
