//! A decision record, built from a decision after its answer has gone out.
//!
//! The answer path hands over what it already has (the rules it decided with, the callback,
//! the clock, the answer); the trace is worked out here, on the recorder's thread, by the
//! same `explain` the command line uses. The rules set is the one the decision used, so the
//! trace is the decision's own even across a reload.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use jiff::Timestamp;
use serde_json::Value;

use super::mask::Mask;
use super::record::rfc3339_ms;
use super::{DecisionRecord, UpdateRecord};
use crate::callback::AssignmentCallback;
use crate::rules::RuleSet;
use crate::rules::trace::{redacted, shadow_lines, trial_lines};

/// One answered decision, as the answer path hands it over.
#[derive(Debug)]
pub struct Decided {
    pub rules: Arc<RuleSet>,
    pub callback: AssignmentCallback,
    /// The clock the rules were read at.
    pub now: Timestamp,
    pub decided_at: SystemTime,
    pub rule: Arc<String>,
    pub instruction: &'static str,
    pub delivery: &'static str,
    pub answer: Bytes,
}

/// The record of `decided`, with the values at `mask`'s paths left out.
pub fn record(decided: &Decided, mask: &Mask) -> DecisionRecord {
    let Decided {
        rules,
        callback,
        now,
        ..
    } = decided;
    let masked = mask.values_of(callback);
    let (mut trials, decision) = rules.explain(callback, *now);
    mask.trials(&mut trials);
    let mut shadows = if rules.shadows().is_empty() {
        Vec::new()
    } else {
        rules.explain_shadows(callback, *now)
    };
    for (trial, _) in &mut shadows {
        mask.trials(std::slice::from_mut(trial));
    }
    let scrub = |lines: Vec<String>| -> Vec<String> {
        if masked.is_empty() {
            lines
        } else {
            lines.iter().map(|line| masked.scrub(line)).collect()
        }
    };
    let mut answer = serde_json::from_slice::<Value>(&decided.answer)
        .unwrap_or(Value::Object(Default::default()));
    masked.scrub_json(&mut answer);
    let form = decision.update_form.as_deref().map(|form| {
        redacted(form)
            .into_iter()
            .map(|(key, value)| (key.to_owned(), masked.scrub(&value)))
            .collect()
    });
    let rest = decided.delivery == "rest";
    DecisionRecord {
        decided_at: rfc3339_ms(decided.decided_at),
        reservation_sid: callback.reservation_sid.clone(),
        task_sid: callback.task_sid.clone(),
        worker_sid: callback.worker_sid.clone(),
        workspace_sid: callback.workspace_sid.clone(),
        workflow_sid: callback.workflow_sid.clone(),
        rule: decided.rule.to_string(),
        instruction: decided.instruction.to_owned(),
        delivery: decided.delivery.to_owned(),
        answer,
        form: if rest { form } else { None },
        revision: rules.revision().to_owned(),
        trace: scrub(trial_lines(&trials)),
        shadows: scrub(shadow_lines(&shadows)),
        update: rest.then(|| UpdateRecord {
            attempts: 0,
            state: "pending".to_owned(),
            detail: None,
            ended_at: None,
        }),
        outcomes: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
