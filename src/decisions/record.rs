//! One decision record, as it is served (JSON) and stored.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// What was decided for one Reservation. Times are RFC 3339 in UTC, with milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub decided_at: String,
    pub reservation_sid: String,
    pub task_sid: String,
    pub worker_sid: String,
    pub workspace_sid: String,
    pub workflow_sid: Option<String>,
    /// The rule that answered, or `default`.
    pub rule: String,
    pub instruction: String,
    /// `inline` or `rest`.
    pub delivery: String,
    /// The callback's answer as sent: the instruction's JSON, or `{}`.
    pub answer: serde_json::Value,
    /// For a REST rule, the update's form (passwords replaced by their length).
    pub form: Option<Vec<(String, String)>>,
    /// The rules' revision: a hash of the rules file and the list and map files it read.
    pub revision: String,
    /// Every rule tried, in `explain`'s words: why each earlier rule did not answer.
    pub trace: Vec<String>,
    /// Each shadow rule's verdict, in `explain`'s words.
    pub shadows: Vec<String>,
    /// The REST update's attempts and end; `None` for an inline answer.
    pub update: Option<UpdateRecord>,
    /// TaskRouter's events for this Reservation, each outcome once, in the order they came.
    pub outcomes: Vec<OutcomeRecord>,
}

/// How a REST update went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRecord {
    /// Requests made for it so far.
    pub attempts: u32,
    /// `pending` while it is being tried, then `landed`, `moved_on`, `final_error`, `expired`
    /// or `dropped`.
    pub state: String,
    /// The last error, or why it moved on.
    pub detail: Option<String>,
    pub ended_at: Option<String>,
}

/// One outcome of the Reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    /// One of [`super::Outcome::label`]'s words.
    pub outcome: String,
    /// When the event arrived here.
    pub at: String,
    /// From the decision to the event's arrival, in milliseconds.
    pub after_ms: u64,
}

/// `at` as records write times: RFC 3339 in UTC with milliseconds (`2026-12-01T10:00:00.123Z`).
pub fn rfc3339_ms(at: SystemTime) -> String {
    match jiff::Timestamp::try_from(at) {
        Ok(at) => at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        // Outside jiff's range (years beyond ±9999): no clock reads that.
        Err(_) => String::from("1970-01-01T00:00:00.000Z"),
    }
}

/// How long after `from` the instant `to` came, 0 when it came before.
pub fn millis_between(from: SystemTime, to: SystemTime) -> u64 {
    to.duration_since(from).map_or(0, |after| {
        u64::try_from(after.as_millis()).unwrap_or(u64::MAX)
    })
}

#[cfg(test)]
mod tests;
