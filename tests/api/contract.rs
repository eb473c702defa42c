//! Every Reservation update form the service can send, checked against Twilio's own OpenAPI
//! description of the Reservation update (`tests/data/twilio_taskrouter_v1.json`): each field
//! name must be one Twilio knows, and each value must fit its type, enum, pattern and format.

use std::collections::BTreeSet;

use assignment_router::instruction::Rendered;
use assignment_router::instruction::rest_form;
use assignment_router::instruction::{FieldKind, FieldSpec, InstructionKind};
use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Validator};
use serde_json::{Map, Value};

/// The two Reservation resources an update can go to (`twilio.reservation_endpoint`).
const OPERATIONS: [&str; 2] = ["UpdateWorkerReservation", "UpdateTaskReservation"];

const FORM_MEDIA_TYPE: &str = "application/x-www-form-urlencoded";

fn openapi() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/twilio_taskrouter_v1.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The form body schema of this operation, `$ref`s inlined, closed to unknown fields.
fn form_schema(document: &Value, operation_id: &str) -> Value {
    let operation = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .find(|operation| operation["operationId"] == operation_id)
        .unwrap_or_else(|| panic!("no operation `{operation_id}` in the OpenAPI document"));
    let schema = &operation["requestBody"]["content"][FORM_MEDIA_TYPE]["schema"];
    assert!(
        schema["properties"].is_object(),
        "`{operation_id}` has no {FORM_MEDIA_TYPE} body schema with properties"
    );
    let mut schema = inline_refs(document, schema, 0);
    schema["additionalProperties"] = Value::Bool(false);
    schema
}

/// `schema` with every local `$ref` replaced by what it points to.
fn inline_refs(document: &Value, schema: &Value, depth: usize) -> Value {
    assert!(depth < 32, "`$ref`s nested too deep (a cycle?)");
    match schema {
        Value::Object(object) => {
            if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                let pointer = reference
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("`{reference}` is not a local reference"));
                let target = document
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("`{reference}` points to nothing"));
                return inline_refs(document, target, depth + 1);
            }
            Value::Object(
                object
                    .iter()
                    .map(|(key, value)| (key.clone(), inline_refs(document, value, depth + 1)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| inline_refs(document, item, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// OpenAPI 3.0's Schema Object is a variant of JSON Schema draft 4 (wright-00).
fn validator_for(schema: &Value) -> Validator {
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
}

/// The form as Twilio reads it: a repeated key (or a list field) is an array, and a value of
/// an integer or boolean field is read as that type when it is one. A value that does not
/// read stays a string, so that the schema's type check reports it.
fn as_twilio_reads(form: &[(&str, String)], schema: &Value) -> Value {
    let mut object = Map::new();
    let keys: Vec<&str> = form.iter().fold(Vec::new(), |mut keys, (key, _)| {
        if !keys.contains(key) {
            keys.push(key);
        }
        keys
    });
    for key in keys {
        let values: Vec<&str> = form
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .collect();
        let property = &schema["properties"][key];
        let read = if property["type"] == "array" || values.len() > 1 {
            Value::Array(
                values
                    .iter()
                    .map(|value| Value::String((*value).to_owned()))
                    .collect(),
            )
        } else {
            scalar(property, values[0])
        };
        object.insert(key.to_owned(), read);
    }
    Value::Object(object)
}

fn scalar(property: &Value, value: &str) -> Value {
    let read = match property["type"].as_str() {
        Some("integer") => value.parse::<i64>().ok().map(Value::from),
        Some("boolean") => match value {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    read.unwrap_or_else(|| Value::String(value.to_owned()))
}

/// Every way `instance` breaks the schema, each naming the field and its value.
fn violations(validator: &Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .flat_map(|error| {
            let fields: Vec<String> = match error.kind() {
                ValidationErrorKind::AdditionalProperties { unexpected } => unexpected.clone(),
                _ => {
                    let path = error.instance_path().as_str();
                    vec![path.split('/').nth(1).unwrap_or_default().to_owned()]
                }
            };
            fields
                .into_iter()
                .map(|field| format!("`{field}` = {}: {error}", instance[&field]))
                .collect::<Vec<_>>()
        })
        .collect()
}

const PHONE_NUMBER: &str = "+15005550006";
const URL: &str = "https://example.com/twiml/status?task=WT0123456789abcdef0123456789abcdef&n=1";

/// Representative valid values of a field of this kind: every option of a choice, both ends
/// of a range, both booleans, the whole list of events.
fn samples(kind: FieldKind) -> Vec<Rendered> {
    match kind {
        FieldKind::Text => vec![Rendered::Text(PHONE_NUMBER.to_owned())],
        FieldKind::Sid(prefix) => vec![Rendered::Text(format!(
            "{prefix}0123456789abcdef0123456789ABCDEF"
        ))],
        FieldKind::Url => vec![Rendered::Text(URL.to_owned())],
        FieldKind::Choice(options) => options
            .iter()
            .map(|option| Rendered::Text((*option).to_owned()))
            .collect(),
        FieldKind::Integer { min, max } => vec![Rendered::Integer(min), Rendered::Integer(max)],
        FieldKind::Bool => vec![Rendered::Bool(true), Rendered::Bool(false)],
        FieldKind::Events(events) => vec![Rendered::Events(
            events.iter().map(|event| (*event).to_owned()).collect(),
        )],
    }
}

/// The fields of every form worth checking for this instruction: each form sets every field,
/// and together they use every sample of every field (always one form, even with no field).
fn field_sets(kind: InstructionKind) -> Vec<Vec<(&'static FieldSpec, Rendered)>> {
    let samples: Vec<(&'static FieldSpec, Vec<Rendered>)> = kind
        .fields()
        .iter()
        .map(|spec| (spec, samples(spec.kind)))
        .collect();
    let forms = samples.iter().map(|(_, s)| s.len()).max().unwrap_or(1);
    (0..forms)
        .map(|n| {
            samples
                .iter()
                .map(|(spec, values)| (*spec, values[n % values.len()].clone()))
                .collect()
        })
        .collect()
}

/// The instructions that send an update (`defer` sends nothing).
fn sending_instructions() -> impl Iterator<Item = InstructionKind> {
    InstructionKind::ALL
        .into_iter()
        .filter(|kind| *kind != InstructionKind::Defer)
}

#[test]
fn every_form_the_service_sends_fits_twilios_description_of_a_reservation_update() {
    // Arrange
    let document = openapi();
    let mut fields_checked = BTreeSet::new();
    let mut failures = Vec::new();
    for operation in OPERATIONS {
        let schema = form_schema(&document, operation);
        let validator = validator_for(&schema);
        for kind in sending_instructions() {
            for fields in field_sets(kind) {
                // Act
                let form = rest_form::build(kind, &fields);
                let instance = as_twilio_reads(&form, &schema);
                // Assert (collected, so that one run names every misfit)
                failures.extend(
                    violations(&validator, &instance)
                        .into_iter()
                        .map(|violation| format!("{operation}, `{kind}`: {violation}")),
                );
                fields_checked.extend(form.iter().map(|(key, _)| (kind.name(), *key)));
            }
        }
    }
    // Assert
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    for kind in sending_instructions() {
        for spec in kind.fields() {
            assert!(
                fields_checked.contains(&(kind.name(), spec.rest)),
                "`{kind}` field `{}` ({}) was never checked",
                spec.key,
                spec.rest
            );
        }
    }
}

#[test]
fn a_made_up_field_a_word_for_a_number_and_a_malformed_sid_each_break_the_contract() {
    // Arrange
    let document = openapi();
    let bad_forms: [(&str, Vec<(&str, String)>); 3] = [
        (
            "DequeueCallerName",
            vec![
                ("Instruction", "dequeue".to_owned()),
                ("DequeueFrom", PHONE_NUMBER.to_owned()),
                ("DequeueCallerName", "Alice".to_owned()),
            ],
        ),
        (
            "DequeueTimeout",
            vec![
                ("Instruction", "dequeue".to_owned()),
                ("DequeueTimeout", "soon".to_owned()),
            ],
        ),
        (
            "WorkerActivitySid",
            vec![
                ("ReservationStatus", "rejected".to_owned()),
                ("WorkerActivitySid", "WA0123456789abcdef".to_owned()),
            ],
        ),
    ];
    for operation in OPERATIONS {
        let schema = form_schema(&document, operation);
        let validator = validator_for(&schema);
        for (culprit, form) in &bad_forms {
            // Act
            let found = violations(&validator, &as_twilio_reads(form, &schema));
            // Assert
            assert!(
                !found.is_empty(),
                "{operation}: the contract let through {form:?}"
            );
            assert!(
                found
                    .iter()
                    .all(|v| v.starts_with(&format!("`{culprit}` ="))),
                "{operation}: expected only `{culprit}` to be blamed: {found:?}"
            );
        }
    }
}

#[test]
fn a_url_that_is_not_absolute_breaks_the_contract() {
    // Arrange
    let document = openapi();
    let schema = form_schema(&document, OPERATIONS[0]);
    let validator = validator_for(&schema);
    let form = [
        ("Instruction", "call".to_owned()),
        ("CallFrom", PHONE_NUMBER.to_owned()),
        ("CallUrl", "not a url".to_owned()),
    ];
    // Act
    let found = violations(&validator, &as_twilio_reads(&form, &schema));
    // Assert
    assert!(
        found.len() == 1 && found[0].starts_with("`CallUrl` ="),
        "format: uri is not checked: {found:?}"
    );
}
