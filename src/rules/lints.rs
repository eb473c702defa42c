//! Lints: what a rules file may say that loads and runs, but is most likely a mistake.
//!
//! A lint is a warning, never a problem: the file is used as written. `check` prints each one
//! (and exits 1 with `--deny-warnings`); the service logs them at start and on reload. Every
//! lint names its rule (both rules, where two are involved) and the line the file gives it on.
//!
//! - A rule after one that always answers never answers.
//! - A `when` the same as an earlier rule's (after normalising) answers only when that rule is
//!   skipped.
//! - A `when` that reads nothing from the callback is always true or always false.
//! - `reject` without `activity_sid` leaves the Worker available, so the Task comes straight
//!   back to it.
//! - A schedule no rule reads.

use std::cell::OnceCell;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use serde_json::Value;
use toml::de::{DeTable, DeValue};

use super::expression::{Context, Expr, Param, ParamValue};
use super::problem::{Place, Problem};
use super::{Mode, Rule, RuleSet};
use crate::instruction::InstructionKind;

/// The warnings for `set`, loaded from `text` (read again only to find lines, and only when
/// there is a warning to place or shadow rules to put back in order): each rule's in file
/// order, then the default's, then the schedules'.
pub fn lint(set: &RuleSet, text: &str) -> Vec<Problem> {
    let lines = LazyLines {
        text,
        lines: OnceCell::new(),
    };
    let mut warnings = Vec::new();
    lint_rules(set, &lines, &mut warnings);
    if lacks_activity(&set.default) {
        warnings.push(reject_without_activity(
            &Place::Default,
            lines.get().default_instruction,
        ));
    }
    lint_schedules(set, &lines, &mut warnings);
    warnings
}

fn lint_rules(set: &RuleSet, lines: &LazyLines<'_>, warnings: &mut Vec<Problem>) {
    // The set keeps live and shadow rules apart; the warnings follow the file's order (a rule
    // whose place is not found keeps its place in the set, after the others).
    let mut in_file_order: Vec<&Rule> = set.rules.iter().chain(&set.shadows).collect();
    if !set.shadows.is_empty() {
        in_file_order.sort_by_key(|rule| lines.get().rule(&rule.name).number.unwrap_or(usize::MAX));
    }
    // The first rule that answers every callback: no rule after it is ever reached.
    let mut first_always: Option<&Rule> = None;
    // Each normalised `when`, with the first rule that can answer with it.
    let mut whens: HashMap<String, &Rule> = HashMap::new();
    for (index, rule) in in_file_order.into_iter().enumerate() {
        // Its lines, looked up only for a warning.
        let at = || lines.get().rule(&rule.name);
        let place = Place::Rule {
            number: index + 1,
            name: Some(rule.name.clone()),
        };
        let constant = rule.when.as_ref().and_then(constant_value);
        if let Some(value) = constant {
            warnings.push(constant_when(&place, rule, at().when, value));
        }
        if gives_answers(rule) {
            if let Some(earlier) = first_always {
                warnings.push(unreachable(&place, rule, at().start, earlier, lines.get()));
            } else if let (Some(when), None) = (&rule.when, constant) {
                // A constant `when` is reported above; the same constant again says nothing
                // more. The printer's canonical form sees past case, `=` and `==`, quotes,
                // spacing and redundant parentheses.
                match whens.entry(when.to_string()) {
                    Entry::Occupied(earlier) => {
                        warnings.push(same_when(
                            &place,
                            rule,
                            at().when,
                            earlier.get(),
                            lines.get(),
                        ));
                    }
                    Entry::Vacant(first) => {
                        first.insert(rule);
                    }
                }
            }
            if first_always.is_none() && answers_always(rule) {
                first_always = Some(rule);
            }
        }
        if lacks_activity(rule) {
            warnings.push(reject_without_activity(&place, at().instruction));
        }
    }
}

fn lint_schedules(set: &RuleSet, lines: &LazyLines<'_>, warnings: &mut Vec<Problem>) {
    let read: HashSet<&str> = set
        .rules()
        .chain(&set.shadows)
        .flat_map(Rule::schedules)
        .collect();
    for (name, _) in set.schedules() {
        if !read.contains(name) {
            warnings.push(Problem::new(
                &Place::Schedule(name.to_owned()),
                None,
                format!(
                    "{}declared, but no rule reads it: remove it, or use \
                     `schedule.{name}` in a rule's `when`",
                    line_prefix(lines.get().schedules.get(name).copied())
                ),
            ));
        }
    }
}

/// Whether the rule can be the one that answers.
// shadow rules: a `mode = "shadow"` rule is evaluated after the answer is chosen and never
// gives it, so this is false for one: it neither hides the rules after it, nor is hidden
// itself (it is evaluated whatever answered), nor makes a later `when` a repeat (trying a
// new instruction under a live rule's `when` is what shadow rules are for). The lints about
// one rule alone (a constant `when`, `reject` without `activity_sid`) apply to it as to any.
fn gives_answers(rule: &Rule) -> bool {
    rule.mode == Mode::Live
}

/// Whether the rule answers every callback it is tried on: its `when` always holds and it has
/// no template that could lack a value and skip it.
fn answers_always(rule: &Rule) -> bool {
    gives_answers(rule)
        && rule
            .when
            .as_ref()
            .is_none_or(|when| constant_value(when) == Some(true))
        && !rule.holds_templates()
}

/// The value of an expression that reads no path (only literals), which is the same for
/// every callback. Only whole expressions: a constant child inside an `AND` or `OR` that also
/// reads the callback (`task.vip OR true`) is not looked for.
fn constant_value(when: &Expr) -> Option<bool> {
    when.paths().is_empty().then(|| when.evaluate(&NoCallback))
}

fn lacks_activity(rule: &Rule) -> bool {
    rule.instruction == InstructionKind::Reject
        && !rule
            .fields
            .iter()
            .any(|(spec, _)| spec.key == "activity_sid")
}

fn constant_when(place: &Place, rule: &Rule, line: Option<usize>, value: bool) -> Problem {
    let message = if value {
        "its `when` reads nothing from the callback, so it is always true: leave `when` out \
         to match every callback"
            .to_owned()
    } else {
        format!(
            "its `when` reads nothing from the callback and is always false, so \"{}\" never \
             matches",
            rule.name
        )
    };
    Problem::new(place, None, format!("{}{message}", line_prefix(line)))
}

fn unreachable(
    place: &Place,
    rule: &Rule,
    line: Option<usize>,
    earlier: &Rule,
    lines: &Lines,
) -> Problem {
    let why = if earlier.when.is_some() {
        "its `when` is always true and it has no template"
    } else {
        "it has no `when` and no template"
    };
    Problem::new(
        place,
        None,
        format!(
            "{}never answers: rule \"{}\"{} answers every callback first, as {why}; move \
             \"{}\" above it, or give \"{}\" a `when` that can be false",
            line_prefix(line),
            earlier.name,
            line_note(lines.rule(&earlier.name).start),
            rule.name,
            earlier.name,
        ),
    )
}

fn same_when(
    place: &Place,
    rule: &Rule,
    line: Option<usize>,
    earlier: &Rule,
    lines: &Lines,
) -> Problem {
    let outcome = if earlier.holds_templates() {
        format!(
            "so \"{}\" answers only when \"{}\" is skipped (a template of \"{}\" has no value)",
            rule.name, earlier.name, earlier.name
        )
    } else {
        format!(
            "and \"{}\" has no template that could skip it, so \"{}\" never answers",
            earlier.name, rule.name
        )
    };
    Problem::new(
        place,
        None,
        format!(
            "{}its `when` is the same as rule \"{}\"'s{}, {outcome}",
            line_prefix(line),
            earlier.name,
            line_note(lines.rule(&earlier.name).when),
        ),
    )
}

fn reject_without_activity(place: &Place, line: Option<usize>) -> Problem {
    Problem::new(
        place,
        None,
        format!(
            "{}`reject` without `activity_sid`: the Worker keeps its Activity, so while it is \
             available TaskRouter can offer it the Task straight back (and cancels a Task \
             after 1,000 rejections); set `activity_sid` to an unavailable Activity (WA…)",
            line_prefix(line)
        ),
    )
}

/// `line 12: `, the start of a message about that line, or nothing when it is not known.
fn line_prefix(line: Option<usize>) -> String {
    line.map(|line| format!("line {line}: "))
        .unwrap_or_default()
}

/// ` (line 5)`, after the name of another rule, or nothing when it is not known.
fn line_note(line: Option<usize>) -> String {
    line.map(|line| format!(" (line {line})"))
        .unwrap_or_default()
}

/// A context with nothing in it, for expressions that read nothing.
struct NoCallback;

static NOTHING: Value = Value::Null;

impl Context for NoCallback {
    fn task(&self) -> &Value {
        &NOTHING
    }

    fn worker(&self) -> &Value {
        &NOTHING
    }

    fn param(&self, _param: Param) -> Option<ParamValue<'_>> {
        None
    }

    fn schedule_open(&self, _name: &str) -> bool {
        false
    }
}

/// Where the file gives what the lints point at, found by reading the text again with
/// positions: the checked rule set keeps none. A line that cannot be found is left out of the
/// message, never guessed.
#[derive(Default)]
struct Lines {
    rules: HashMap<String, RuleLines>,
    default_instruction: Option<usize>,
    schedules: HashMap<String, usize>,
}

/// Where one rule is: its place among the rules (1-based), and the lines of its
/// `[[rules]]` header, its `when` and its `instruction`.
#[derive(Default, Clone, Copy)]
struct RuleLines {
    number: Option<usize>,
    start: Option<usize>,
    when: Option<usize>,
    instruction: Option<usize>,
}

/// The rules text's lines, read at the first warning that needs one.
struct LazyLines<'t> {
    text: &'t str,
    lines: OnceCell<Lines>,
}

impl LazyLines<'_> {
    fn get(&self) -> &Lines {
        self.lines.get_or_init(|| Lines::read(self.text))
    }
}

impl Lines {
    fn read(text: &str) -> Self {
        let mut lines = Self::default();
        // The text was read once already, so this holds; if it did not, there are no lines.
        let Ok(document) = DeTable::parse(text) else {
            return lines;
        };
        // Where each line ends, so that an offset's line is a binary search, not a count
        // from the top of the file for every key.
        let ends: Vec<usize> = text.match_indices('\n').map(|(at, _)| at).collect();
        let line = |offset: usize| {
            (offset <= text.len()).then(|| ends.partition_point(|end| *end < offset) + 1)
        };
        for (key, value) in document.get_ref() {
            match (key.get_ref().as_ref(), value.get_ref()) {
                ("rules", DeValue::Array(entries)) => {
                    for (index, entry) in entries.iter().enumerate() {
                        let DeValue::Table(table) = entry.get_ref() else {
                            continue;
                        };
                        let Some(DeValue::String(name)) = value_of(table, "name") else {
                            continue;
                        };
                        let rule = RuleLines {
                            number: Some(index + 1),
                            start: line(entry.span().start),
                            when: key_offset(table, "when").and_then(line),
                            instruction: key_offset(table, "instruction").and_then(line),
                        };
                        lines.rules.insert(name.to_string(), rule);
                    }
                }
                ("default", DeValue::Table(table)) => {
                    lines.default_instruction = key_offset(table, "instruction").and_then(line);
                }
                ("schedules", DeValue::Table(table)) => {
                    for (name, _) in table {
                        if let Some(at) = line(name.span().start) {
                            lines.schedules.insert(name.get_ref().to_string(), at);
                        }
                    }
                }
                _ => {}
            }
        }
        lines
    }

    fn rule(&self, name: &str) -> RuleLines {
        self.rules.get(name).copied().unwrap_or_default()
    }
}

fn value_of<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t DeValue<'i>> {
    table
        .iter()
        .find(|(name, _)| name.get_ref() == key)
        .map(|(_, value)| value.get_ref())
}

fn key_offset(table: &DeTable<'_>, key: &str) -> Option<usize> {
    table
        .iter()
        .find(|(name, _)| name.get_ref() == key)
        .map(|(name, _)| name.span().start)
}

#[cfg(test)]
mod tests;
