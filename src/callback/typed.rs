//! The assignment callback TaskRouter POSTs, typed.
//!
//! Built only from verified pairs (see [`super::verified`]). Unknown fields are kept out of the
//! typed form (they were still signed, with every other pair).

use serde_json::{Map, Value};

use super::verified::Verified;

/// Why a signed callback cannot be routed. Its `Display` is the one-line 400 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the callback has no {0}")]
    Missing(&'static str),
    #[error("{0} is not a number")]
    NotANumber(&'static str),
    #[error("{field} is not a JSON object: {reason}")]
    NotAnObject { field: &'static str, reason: String },
    /// The signature sorts repeated values before signing, so with two copies of a field
    /// swapping them keeps the signature valid while changing which one a reader takes.
    #[error("the callback has {0} more than once")]
    Repeated(&'static str),
    /// The same two, for a Workspace event ([`super::event`]).
    #[error("the event has no {0}")]
    EventMissing(&'static str),
    #[error("the event has {0} more than once")]
    EventRepeated(&'static str),
}

/// One assignment callback: the documented parameters, with both attribute sets parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentCallback {
    pub reservation_sid: String,
    pub task_sid: String,
    pub worker_sid: String,
    pub workspace_sid: String,
    pub account_sid: Option<String>,
    pub workflow_sid: Option<String>,
    pub task_queue_sid: Option<String>,
    /// Format not documented by Twilio, so it is kept as text.
    pub timestamp: Option<String>,
    /// Seconds, per the Task resource's `age` (the callback page does not say).
    pub task_age: Option<f64>,
    pub task_priority: Option<f64>,
    /// Always a JSON object (empty when TaskRouter sent none).
    pub task_attributes: Value,
    /// Always a JSON object (empty when TaskRouter sent none).
    pub worker_attributes: Value,
}

#[derive(Default)]
struct Fields {
    reservation_sid: Option<String>,
    task_sid: Option<String>,
    worker_sid: Option<String>,
    workspace_sid: Option<String>,
    account_sid: Option<String>,
    workflow_sid: Option<String>,
    task_queue_sid: Option<String>,
    timestamp: Option<String>,
    task_age: Option<String>,
    task_priority: Option<String>,
    task_attributes: Option<String>,
    worker_attributes: Option<String>,
}

impl AssignmentCallback {
    /// Types the decoded form pairs, once their signature held. A documented field given
    /// twice is refused: TaskRouter sends each once, and which copy counts must not depend on
    /// their order (see [`CallbackError::Repeated`]). Unknown fields are ignored.
    pub fn from_verified(pairs: Verified<Vec<(String, String)>>) -> Result<Self, CallbackError> {
        let mut fields = Fields::default();
        for (key, value) in pairs.into_inner() {
            let (name, slot) = match key.as_str() {
                "ReservationSid" => ("ReservationSid", &mut fields.reservation_sid),
                "TaskSid" => ("TaskSid", &mut fields.task_sid),
                "WorkerSid" => ("WorkerSid", &mut fields.worker_sid),
                "WorkspaceSid" => ("WorkspaceSid", &mut fields.workspace_sid),
                "AccountSid" => ("AccountSid", &mut fields.account_sid),
                "WorkflowSid" => ("WorkflowSid", &mut fields.workflow_sid),
                "TaskQueueSid" => ("TaskQueueSid", &mut fields.task_queue_sid),
                "Timestamp" => ("Timestamp", &mut fields.timestamp),
                "TaskAge" => ("TaskAge", &mut fields.task_age),
                "TaskPriority" => ("TaskPriority", &mut fields.task_priority),
                "TaskAttributes" => ("TaskAttributes", &mut fields.task_attributes),
                "WorkerAttributes" => ("WorkerAttributes", &mut fields.worker_attributes),
                _ => continue,
            };
            if slot.is_some() {
                return Err(CallbackError::Repeated(name));
            }
            *slot = Some(value);
        }
        Ok(Self {
            reservation_sid: required(fields.reservation_sid, "ReservationSid")?,
            task_sid: required(fields.task_sid, "TaskSid")?,
            worker_sid: required(fields.worker_sid, "WorkerSid")?,
            workspace_sid: required(fields.workspace_sid, "WorkspaceSid")?,
            account_sid: fields.account_sid,
            workflow_sid: fields.workflow_sid,
            task_queue_sid: fields.task_queue_sid,
            timestamp: fields.timestamp,
            task_age: number(fields.task_age, "TaskAge")?,
            task_priority: number(fields.task_priority, "TaskPriority")?,
            task_attributes: attributes(fields.task_attributes, "TaskAttributes")?,
            worker_attributes: attributes(fields.worker_attributes, "WorkerAttributes")?,
        })
    }
}

fn required(value: Option<String>, name: &'static str) -> Result<String, CallbackError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or(CallbackError::Missing(name))
}

fn number(value: Option<String>, name: &'static str) -> Result<Option<f64>, CallbackError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or(CallbackError::NotANumber(name)),
    }
}

fn attributes(value: Option<String>, field: &'static str) -> Result<Value, CallbackError> {
    let Some(text) = value.filter(|t| !t.trim().is_empty()) else {
        return Ok(Value::Object(Map::new()));
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(object @ Value::Object(_)) => Ok(object),
        Ok(_) => Err(CallbackError::NotAnObject {
            field,
            reason: "it is JSON, but not an object".to_owned(),
        }),
        // serde_json's message names the line and column, never the text itself.
        Err(error) => Err(CallbackError::NotAnObject {
            field,
            reason: error.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests;
