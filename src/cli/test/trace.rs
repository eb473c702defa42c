//! The trace of a failed case: each schedule at the case's instant, each rule tried and why
//! it answered, did not match or was skipped, then the answer, in `explain`'s words (from the
//! rules' own `explain`), so that a failure reads the same as `explain` on that callback.

use jiff::Timestamp;

use crate::callback::AssignmentCallback;
use crate::cli::explain;
use crate::rules::RuleSet;
use crate::rules::trace;

/// The trace, one line each; reasons are indented under their rule.
pub fn lines(rules: &RuleSet, callback: &AssignmentCallback, at: Timestamp) -> Vec<String> {
    let mut lines = vec![format!("at {at}")];
    lines.extend(explain::schedule_lines(rules, at));
    let (trials, decision) = rules.explain(callback, at);
    lines.extend(trace::trial_lines(&trials));
    lines.push(format!(
        "answer: 200 application/json {}",
        String::from_utf8_lossy(&decision.answer)
    ));
    if let Some(form) = &decision.update_form {
        lines.push("then: the Reservation update, with the form".to_owned());
        for (key, value) in trace::redacted(form) {
            lines.push(format!("    {key}={value}"));
        }
    }
    // Shadow rules last: tried after the answer, never answering.
    lines.extend(trace::shadow_lines(&rules.explain_shadows(callback, at)));
    lines
}
