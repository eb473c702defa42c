//! A decision's trace in `explain`'s words: each rule tried and why it answered or not, and
//! each shadow rule's verdict. `explain`, `test`'s failure traces and decision records all
//! write it with these functions, so the three read the same.

use super::{Decision, Trial};

/// Shadow rules tried after the answer, each with what it would have answered.
pub type Shadows<'r> = [(Trial<'r>, Option<Decision<'r>>)];

/// Form fields whose values are passwords: shown as a placeholder, because `explain`'s
/// output ends up in terminals, tickets and CI logs.
const SECRET_FIELDS: &[&str] = &["SipAuthPassword"];

/// Each rule tried, in `explain`'s words: its verdict, then its reasons indented under it.
/// `test` prints a failed case's trace with the same lines.
pub fn trial_lines(trials: &[Trial<'_>]) -> Vec<String> {
    let mut lines = Vec::new();
    for trial in trials {
        let verdict = if trial.answered() {
            "answers"
        } else if trial.skip.is_some() {
            "matched, but is skipped"
        } else {
            "does not match"
        };
        if trial.rule == "default" && trial.when.is_none() && trial.answered() {
            lines.push("default: answers (no rule did)".to_owned());
        } else {
            lines.push(format!("rule \"{}\": {verdict}", trial.rule));
        }
        push_reasons(&mut lines, trial);
    }
    lines
}

fn push_reasons(lines: &mut Vec<String>, trial: &Trial<'_>) {
    if let Some(when) = &trial.when {
        lines.extend(when.reasons.iter().map(|reason| format!("    {reason}")));
    }
    if let Some(skip) = &trial.skip {
        lines.push(format!("    {skip}"));
    }
}

/// Each shadow rule tried, and what it would have answered, in `explain`'s words.
pub fn shadow_lines(shadows: &Shadows<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    for (trial, decision) in shadows {
        let verdict = match (decision, &trial.skip) {
            (Some(decision), _) => format!(
                "would answer {} ({}), but shadow rules never answer",
                decision.instruction,
                decision.delivery.name()
            ),
            (None, Some(_)) => "matched, but would be skipped".to_owned(),
            (None, None) => "does not match".to_owned(),
        };
        lines.push(format!("shadow rule \"{}\": {verdict}", trial.rule));
        push_reasons(&mut lines, trial);
        if let Some(decision) = decision {
            lines.push(format!(
                "    would answer: {}",
                String::from_utf8_lossy(&decision.answer)
            ));
            for (key, value) in decision
                .update_form
                .as_deref()
                .map(redacted)
                .unwrap_or_default()
            {
                lines.push(format!("    would send {key}={value}"));
            }
        }
    }
    lines
}

/// The form with password values replaced by their length (for `test`'s traces too).
pub fn redacted(form: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    form.iter()
        .map(|(key, value)| {
            if SECRET_FIELDS.contains(key) {
                (
                    *key,
                    format!("<{} characters, not shown>", value.chars().count()),
                )
            } else {
                (*key, value.clone())
            }
        })
        .collect()
}
