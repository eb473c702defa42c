//! A decision record as an operator reads it in a terminal (`assignment-router decisions`):
//! the same words as `explain`, so a decision looked up afterwards reads like one explained
//! beforehand.
//!
//! Records quote what TaskRouter sent (attribute values in the trace, templated form values),
//! so control characters are shown escaped: a Task's attributes cannot move the cursor or
//! recolour the operator's terminal.

use std::borrow::Cow;

use super::record::{DecisionRecord, OutcomeRecord, UpdateRecord};

/// The record, one line per element, with no line breaks inside a line.
pub fn lines(record: &DecisionRecord) -> Vec<String> {
    let mut lines = Vec::new();
    lines.push(heading(record));
    lines.push(format!("decided at {}", clean(&record.decided_at)));
    lines.push(parties(record));
    lines.push(format!("revision {}", clean(&record.revision)));
    lines.push(format!("answer: {}", clean(&record.answer.to_string())));
    for (key, value) in record.form.iter().flatten() {
        lines.push(format!("send {}={}", clean(key), clean(value)));
    }
    if !record.trace.is_empty() {
        lines.push("rules tried:".to_owned());
        lines.extend(
            record
                .trace
                .iter()
                .map(|line| format!("    {}", clean(line))),
        );
    }
    if !record.shadows.is_empty() {
        lines.push("shadow rules:".to_owned());
        lines.extend(
            record
                .shadows
                .iter()
                .map(|line| format!("    {}", clean(line))),
        );
    }
    if let Some(update) = &record.update {
        push_update(&mut lines, update);
    }
    if record.outcomes.is_empty() {
        lines.push("outcome: none yet".to_owned());
    }
    lines.extend(record.outcomes.iter().map(outcome_line));
    lines
}

/// `reservation WR…: rule "x" answered accept (inline)`: what was decided, by whom.
fn heading(record: &DecisionRecord) -> String {
    // `default` is the rules file's `[default]`, not a rule of that name: `explain` says
    // "default: answers (no rule did)" for it, and the heading says the same.
    let by = if record.rule == "default" {
        "no rule answered, the default".to_owned()
    } else {
        format!("rule \"{}\"", clean(&record.rule))
    };
    format!(
        "reservation {}: {by} answered {} ({})",
        clean(&record.reservation_sid),
        clean(&record.instruction),
        clean(&record.delivery)
    )
}

fn parties(record: &DecisionRecord) -> String {
    let workflow = match &record.workflow_sid {
        Some(sid) => clean(sid).into_owned(),
        None => "not given".to_owned(),
    };
    format!(
        "task {}, worker {}, workspace {}, workflow {workflow}",
        clean(&record.task_sid),
        clean(&record.worker_sid),
        clean(&record.workspace_sid)
    )
}

/// `update: landed after 2 attempts, at …`, or `update: pending, 1 attempt so far`, then the
/// last error (or why it moved on) indented under it.
fn push_update(lines: &mut Vec<String>, update: &UpdateRecord) {
    let attempts = match update.attempts {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    };
    let state = state_words(&update.state);
    let line = match (&update.ended_at, update.state.as_str()) {
        (_, "pending") => format!("update: pending, {attempts} so far"),
        // The store holds only that it was sent, not how it went.
        (_, "sent_from_memory") => format!("update: {state}"),
        (Some(ended), _) => format!("update: {state} after {attempts}, at {}", clean(ended)),
        (None, _) => format!("update: {state} after {attempts}"),
    };
    lines.push(line);
    if let Some(detail) = &update.detail {
        lines.push(format!("    {}", clean(detail)));
    }
}

/// The update's state in words: `moved_on` reads "moved on". A state this version does not
/// know (a newer service) is shown as it came.
fn state_words(state: &str) -> Cow<'_, str> {
    match state {
        "moved_on" => Cow::Borrowed("moved on (the Reservation had ended)"),
        "final_error" => Cow::Borrowed("failed for good"),
        "expired" => Cow::Borrowed("expired (its deadline passed)"),
        "dropped" => Cow::Borrowed("dropped"),
        "sent_from_memory" => Cow::Borrowed(
            "sent from memory while the shared store was away (its attempts and end are in the \
             log of the replica that decided it)",
        ),
        other => clean(other),
    }
}

fn outcome_line(outcome: &OutcomeRecord) -> String {
    format!(
        "outcome: {} at {} (after {})",
        clean(&outcome.outcome),
        clean(&outcome.at),
        elapsed(outcome.after_ms)
    )
}

/// Milliseconds as an operator says them: `340 ms`, `1.2 s`, `2 min 5 s`, `3 h 10 min`.
fn elapsed(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{}.{} s", ms / 1_000, ms % 1_000 / 100),
        60_000..3_600_000 => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1_000),
        _ => format!("{} h {} min", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// The text with control characters escaped (`\n`, `\u{1b}`), so one record line stays one
/// terminal line and carries no terminal escape sequence.
fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests;
