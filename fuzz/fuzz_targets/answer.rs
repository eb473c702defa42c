//! Answer serialisation for arbitrary decisions: every instruction with arbitrary field
//! values writes JSON that parses back, and a REST form that encodes.
#![no_main]

use assignment_router::instruction::inline;
use assignment_router::instruction::{FieldKind, InstructionKind};
use assignment_router::instruction::Rendered;
use assignment_router::instruction::rest_form;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, Vec<(u8, String, i64, bool)>)| {
    let (which, values) = input;
    let kind = InstructionKind::ALL[usize::from(which) % InstructionKind::ALL.len()];
    let specs = kind.fields();
    if specs.is_empty() {
        return;
    }
    let fields: Vec<_> = values
        .into_iter()
        .map(|(index, text, number, flag)| {
            let spec = &specs[usize::from(index) % specs.len()];
            let value = match spec.kind {
                FieldKind::Integer { .. } => Rendered::Integer(number),
                FieldKind::Bool => Rendered::Bool(flag),
                FieldKind::Events(_) => Rendered::Events(vec![text]),
                _ => Rendered::Text(text),
            };
            (spec, value)
        })
        .collect();
    let json = inline::inline(kind, &fields);
    let parsed: serde_json::Value = serde_json::from_slice(&json).expect("the answer is JSON");
    assert_eq!(parsed["instruction"], kind.name());
    let form = rest_form::build(kind, &fields);
    assert!(!form.is_empty());
});
