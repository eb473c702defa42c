//! One case run: its callback decided by the rules' `decide`, the function a live callback
//! goes through once its signature holds, and the decision compared with what the case
//! expects. A failed case also gets the trace `explain` would print for it.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::trace;
use crate::instruction::{FieldKind, FieldSpec};
use crate::rules::cases::{Case, Expect, Expected};
use crate::rules::{Decision, RuleSet};

/// What one case came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub line: usize,
    /// The clock the case was decided at.
    pub at: Timestamp,
    /// The rule that answered, or `default`.
    pub rule: String,
    pub instruction: &'static str,
    pub delivery: &'static str,
    /// The rules skipped before it answered, in order.
    pub skipped: Vec<String>,
    /// Empty when the case passed.
    pub mismatches: Vec<Mismatch>,
    /// For a failed case, the rules tried and the answer, as `explain` prints them.
    pub trace: Vec<String>,
}

/// One expected key that the decision does not bear out.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// As the case writes it: `rule`, `to`, `form.DequeueFrom`, …
    pub key: String,
    pub expected: Value,
    /// `None`: the answer has no such field.
    pub actual: Option<Value>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Fields whose values are passwords: compared, but never printed, since test output ends up
/// in CI logs (as `explain` never prints them either).
const SECRET_FIELDS: &[&str] = &["sip_auth_password", "form.SipAuthPassword"];

/// Decides the case's callback at `at` and compares the decision with the case.
pub fn run(case: &Case, rules: &RuleSet, at: Timestamp) -> Outcome {
    let decision = rules.decide(&case.callback, at);
    let mut mismatches = compare(&case.expect, &decision);
    if let Some(expected) = &case.expect.shadow {
        // Shadow rules never answer: what they would have done is evaluated on its own, as
        // the service does after an answer.
        let mut actual: Vec<String> = rules
            .shadow(&case.callback, at)
            .into_iter()
            .filter(|verdict| verdict.outcome.is_ok())
            .map(|verdict| verdict.rule.to_string())
            .collect();
        let mut expected: Vec<String> = expected.iter().map(|named| named.name.clone()).collect();
        actual.sort_unstable();
        expected.sort_unstable();
        if actual != expected {
            mismatches.push(Mismatch {
                key: "shadow".to_owned(),
                expected: Value::from(expected),
                actual: Some(Value::from(actual)),
            });
        }
    }
    let trace = if mismatches.is_empty() {
        Vec::new()
    } else {
        trace::lines(rules, &case.callback, at)
    };
    Outcome {
        name: case.name.clone(),
        line: case.line,
        at,
        rule: decision.rule.to_owned(),
        instruction: decision.instruction.name(),
        delivery: decision.delivery.name(),
        skipped: decision
            .skipped
            .iter()
            .map(|skipped| skipped.rule.to_string())
            .collect(),
        mismatches,
        trace,
    }
}

/// Every expected key the decision does not bear out, in the order: rule, instruction,
/// delivery, skipped, the instruction's fields, the REST form's fields.
pub fn compare(expect: &Expect, decision: &Decision<'_>) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    let mut differ = |key: &str, expected: Value, actual: Option<Value>| {
        if actual.as_ref() != Some(&expected) {
            mismatches.push(redacted(Mismatch {
                key: key.to_owned(),
                expected,
                actual,
            }));
        }
    };
    let actual_skipped: Vec<&str> = decision.skipped.iter().map(|s| s.rule.as_str()).collect();
    if let Some(rule) = &expect.rule {
        differ("rule", text(&rule.name), Some(text(decision.rule)));
    }
    if let Some(instruction) = expect.instruction {
        differ(
            "instruction",
            text(instruction.name()),
            Some(text(decision.instruction.name())),
        );
    }
    if let Some(delivery) = expect.delivery {
        differ(
            "delivery",
            text(delivery.name()),
            Some(text(decision.delivery.name())),
        );
    }
    if let Some(expected) = &expect.skipped {
        // The rules listed must have been skipped (others may have been too); an empty list
        // says that none was. Compared as lists only when that does not hold.
        let held = if expected.is_empty() {
            actual_skipped.is_empty()
        } else {
            expected
                .iter()
                .all(|named| actual_skipped.contains(&named.name.as_str()))
        };
        if !held {
            let expected: Vec<&str> = expected.iter().map(|named| named.name.as_str()).collect();
            differ(
                "skipped",
                Value::from(expected),
                Some(Value::from(actual_skipped)),
            );
        }
    }
    let answer: Option<Map<String, Value>> = serde_json::from_slice(&decision.answer).ok();
    for (key, expected) in &expect.fields {
        let spec = decision
            .instruction
            .fields()
            .iter()
            .find(|spec| spec.key == key);
        match &decision.update_form {
            // Over REST: the form field under its REST name, every value it is sent with.
            Some(form) => {
                let actual = spec.and_then(|spec| values(form_values(form, spec.rest)));
                differ(key, rest_expected(expected, spec), actual);
            }
            // Inline (or `{}`): the answer's JSON field of the same name.
            None => {
                let actual = answer.as_ref().and_then(|answer| answer.get(key)).cloned();
                differ(key, inline_expected(expected), actual);
            }
        }
    }
    for (key, expected) in &expect.form {
        let actual = decision
            .update_form
            .as_ref()
            .and_then(|form| values(form_values(form, key)));
        let expected = values(expected.iter().map(String::as_str).collect())
            .unwrap_or_else(|| Value::Array(Vec::new()));
        differ(&format!("form.{key}"), expected, actual);
    }
    mismatches
}

fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

fn form_values<'f>(form: &'f [(&'static str, String)], key: &str) -> Vec<&'f str> {
    form.iter()
        .filter(|(name, _)| *name == key)
        .map(|(_, value)| value.as_str())
        .collect()
}

/// A form field's values as shown and compared: one value as a string, a repeated key as a
/// list, an absent one as nothing.
fn values(values: Vec<&str>) -> Option<Value> {
    match values.as_slice() {
        [] => None,
        [one] => Some(text(one)),
        _ => Some(Value::from(values)),
    }
}

/// An expected field as the inline JSON answer carries it: lists comma-joined, as
/// `status_callback_events` is sent.
fn inline_expected(expected: &Expected) -> Value {
    match expected {
        Expected::Text(value) => text(value),
        Expected::Integer(n) => Value::from(*n),
        Expected::Bool(b) => Value::Bool(*b),
        Expected::List(items) => text(&items.join(",")),
    }
}

/// An expected field as the REST form carries it: text, lists as repeated keys (a
/// comma-joined list of events too, as written for inline answers).
fn rest_expected(expected: &Expected, spec: Option<&FieldSpec>) -> Value {
    let listed: Vec<String> = match expected {
        Expected::Text(value) if spec.is_some_and(|s| matches!(s.kind, FieldKind::Events(_))) => {
            value
                .split(',')
                .map(|item| item.trim().to_owned())
                .collect()
        }
        Expected::Text(value) => vec![value.clone()],
        Expected::Integer(n) => vec![n.to_string()],
        Expected::Bool(b) => vec![b.to_string()],
        Expected::List(items) => items.clone(),
    };
    values(listed.iter().map(String::as_str).collect()).unwrap_or_else(|| Value::Array(Vec::new()))
}

fn redacted(mut mismatch: Mismatch) -> Mismatch {
    if SECRET_FIELDS.contains(&mismatch.key.as_str()) {
        mismatch.expected = hidden(&mismatch.expected);
        mismatch.actual = mismatch.actual.as_ref().map(hidden);
    }
    mismatch
}

fn hidden(value: &Value) -> Value {
    let length = value.as_str().map_or(0, |text| text.chars().count());
    text(&format!("<{length} characters, not shown>"))
}

#[cfg(test)]
mod tests;
