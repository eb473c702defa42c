//! `decisions.mask`: attribute paths whose values are never recorded.
//!
//! A masked value can reach a record three ways: as a value in the trace (a `when` read
//! it), through a template into the answer or the REST form, or inside a reason. The trace
//! is masked by path, so it still says which rule read what; everything else is masked by
//! value, wherever the value appears, so that no way of copying it is missed.

use percent_encoding::utf8_percent_encode;
use serde_json::Value;

use crate::callback::AssignmentCallback;
use crate::rules::Trial;
use crate::rules::template::URL_COMPONENT;

/// What a masked value is replaced by.
pub const MASKED: &str = "<masked>";

/// The masked paths, as `decisions.mask` names them (`task.caller_name`, `worker.email`).
#[derive(Debug, Clone, Default)]
pub struct Mask {
    paths: Vec<String>,
}

/// The values one callback holds at the masked paths.
#[derive(Debug, Clone, Default)]
pub struct Masked {
    /// Longest first, so that a value holding another is replaced whole: each value, and a
    /// string also as JSON writes it inside a string.
    values: Vec<String>,
    /// Strings as a URL a template filled, or a form body, writes them, where that differs.
    encoded: Vec<String>,
}

impl Mask {
    /// Paths already checked by the settings (`task.` or `worker.` and a name).
    pub fn new(paths: Vec<String>) -> Self {
        Self { paths }
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Whether `printed`, a path as the trace prints it, is a masked path or under one.
    pub fn covers(&self, printed: &str) -> bool {
        self.paths.iter().any(|path| {
            printed.strip_prefix(path.as_str()).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')
            })
        })
    }

    /// The values `callback` holds at the masked paths, as text and as JSON, every string
    /// inside an object or list too.
    pub fn values_of(&self, callback: &AssignmentCallback) -> Masked {
        let mut values = Vec::new();
        let mut encoded = Vec::new();
        for path in &self.paths {
            let (root, rest) = match path.split_once('.') {
                Some(("task", rest)) => (&callback.task_attributes, rest),
                Some(("worker", rest)) => (&callback.worker_attributes, rest),
                _ => continue,
            };
            let found = rest.split('.').try_fold(root, |value, key| value.get(key));
            if let Some(value) = found {
                collect(value, &mut values, &mut encoded);
            }
        }
        values.retain(|value| !value.is_empty());
        values.sort_by_key(|value| std::cmp::Reverse(value.len()));
        values.dedup();
        encoded.retain(|form| !values.contains(form));
        encoded.sort_by_key(|form| std::cmp::Reverse(form.len()));
        encoded.dedup();
        Masked { values, encoded }
    }

    /// Replaces the values the trace shows at masked paths.
    pub fn trials(&self, trials: &mut [Trial<'_>]) {
        for trial in trials {
            let Some(when) = trial.when.as_mut() else {
                continue;
            };
            for reason in &mut when.reasons {
                let sides = std::iter::once(&mut reason.left)
                    .chain(reason.comparison.as_mut().map(|(_, right)| right));
                for side in sides {
                    if side.path.as_deref().is_some_and(|path| self.covers(path)) {
                        side.value = MASKED.to_owned();
                    }
                }
            }
        }
    }
}

impl Masked {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every masked value replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for value in self.values.iter().chain(&self.encoded) {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), MASKED);
            }
        }
        text
    }

    /// `value` with every masked value replaced in its strings, and a number or boolean
    /// equal to one replaced whole.
    pub fn scrub_json(&self, value: &mut Value) {
        match value {
            Value::String(text) => *text = self.scrub(text),
            Value::Array(items) => items.iter_mut().for_each(|item| self.scrub_json(item)),
            Value::Object(fields) => fields.values_mut().for_each(|item| self.scrub_json(item)),
            Value::Number(_) | Value::Bool(_) => {
                if self.values.contains(&value.to_string()) {
                    *value = Value::String(MASKED.to_owned());
                }
            }
            Value::Null => {}
        }
    }
}

/// Every value under `value` as text: a string as itself (and JSON-escaped, as it appears
/// inside JSON), anything else as compact JSON, and the strings within.
fn collect(value: &Value, out: &mut Vec<String>, encoded: &mut Vec<String>) {
    match value {
        Value::Null => {}
        Value::String(text) => {
            out.push(text.clone());
            let escaped = Value::String(text.clone()).to_string();
            let escaped = &escaped[1..escaped.len() - 1];
            if escaped != text {
                out.push(escaped.to_owned());
            }
            for form in [
                utf8_percent_encode(text, URL_COMPONENT).to_string(),
                form_urlencoded(text),
            ] {
                if form != *text {
                    encoded.push(form);
                }
            }
        }
        Value::Array(items) => {
            out.push(value.to_string());
            items.iter().for_each(|item| collect(item, out, encoded));
        }
        Value::Object(fields) => {
            out.push(value.to_string());
            fields.values().for_each(|item| collect(item, out, encoded));
        }
        Value::Number(_) | Value::Bool(_) => out.push(value.to_string()),
    }
}

/// `text` as `application/x-www-form-urlencoded` writes a value.
fn form_urlencoded(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|pair| pair[1..].to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
