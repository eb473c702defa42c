//! Routing rules: loaded and checked once, then evaluated for every callback.
//!
//! Rules are tried top to bottom; the first whose `when` holds and whose templates all
//! resolve answers; otherwise `[default]` answers.

pub mod cases;
pub mod context;
pub mod expression;
pub mod file;
pub mod lints;
pub mod lookup;
pub mod problem;
pub mod schedule;
pub mod template;
pub mod trace;

use std::sync::Arc;

use bytes::Bytes;

use jiff::Timestamp;

use crate::callback::AssignmentCallback;
use crate::instruction::{
    FieldKind, FieldSpec, InstructionKind, Rendered, check_text, inline, rest_form,
};
use context::{CallbackContext, Schedules};
use expression::Expr;
use lookup::Lookups;
use template::Template;

pub use file::{RulesError, load};
pub use problem::{Place, Problem};

/// How an instruction reaches TaskRouter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// In the callback's answer, as JSON.
    Inline,
    /// The answer is `{}`; the Reservation is then updated through the REST API.
    Rest,
}

impl Delivery {
    pub fn name(self) -> &'static str {
        match self {
            Delivery::Inline => "inline",
            Delivery::Rest => "rest",
        }
    }
}

/// Whether a rule answers callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// It answers when its `when` holds and its templates fill (the default).
    Live,
    /// `mode = "shadow"`: evaluated after the answer is chosen, counted and logged as what
    /// it would have answered, never answering (for trying a rule in production).
    Shadow,
}

/// A field's value as written in the rules file, checked.
#[derive(Debug, Clone)]
pub enum FieldValue {
    Text(Template),
    Integer(i64),
    Bool(bool),
    Events(Vec<String>),
}

/// One compiled rule (or the default, named `default`).
#[derive(Debug)]
pub struct Rule {
    pub name: String,
    /// The name again, shared: the metrics label of every callback this rule answers.
    pub label: Arc<String>,
    pub when: Option<Expr>,
    pub instruction: InstructionKind,
    pub delivery: Delivery,
    pub mode: Mode,
    pub fields: Vec<(&'static FieldSpec, FieldValue)>,
    /// The fields and answer body, worked out once at load when no field holds a template.
    literal_fields: Option<Vec<(&'static FieldSpec, Rendered)>>,
    static_answer: Option<Bytes>,
}

/// The outcome of the rules for one callback.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'r> {
    /// The rule's name, or `default`.
    pub rule: &'r str,
    /// The same name, shared (no copy per callback).
    pub label: Arc<String>,
    pub instruction: InstructionKind,
    pub delivery: Delivery,
    /// The callback's answer body: the instruction's JSON, or `{}`.
    pub answer: Bytes,
    /// For REST delivery: the form of the Reservation update to send.
    pub update_form: Option<Vec<(&'static str, String)>>,
    /// Rules whose `when` held but that were skipped before this one answered, for the
    /// caller to log and count (empty, and not allocated, on the usual path).
    pub skipped: Vec<Skipped>,
}

/// What a shadow rule whose `when` held would have done.
#[derive(Debug, Clone)]
pub struct ShadowVerdict<'r> {
    /// The rule's name, shared: the metrics label.
    pub rule: Arc<String>,
    /// The answer it would have given, or why it could not have answered.
    pub outcome: Result<Decision<'r>, Skip>,
}

/// One rule tried by [`RuleSet::explain`].
#[derive(Debug, Clone)]
pub struct Trial<'r> {
    pub rule: &'r str,
    /// How its `when` came out; `None` when it has none.
    pub when: Option<expression::Explanation>,
    /// Why it could not answer although its `when` held.
    pub skip: Option<Skip>,
}

impl Trial<'_> {
    /// Whether this rule gave the answer.
    pub fn answered(&self) -> bool {
        self.skip.is_none() && self.when.as_ref().is_none_or(|w| w.matched)
    }
}

/// Why a matching rule could not answer this callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub field: &'static str,
    pub path: Option<String>,
    pub reason: String,
    /// The reason as a fixed metrics label: `no_value`, `not_text` (a template's path had no
    /// printable value) or `invalid_value` (the filled-in value does not fit the field).
    pub label: &'static str,
}

/// A rule whose `when` held but which could not answer, so the next rule was tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The rule's name, shared: the metrics label.
    pub rule: Arc<String>,
    pub skip: Skip,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(path) => write!(f, "field `{}`: `{path}` {}", self.field, self.reason),
            None => write!(f, "field `{}`: {}", self.field, self.reason),
        }
    }
}

/// The rules in force: every rule in file order, then the default.
#[derive(Debug)]
pub struct RuleSet {
    /// The live rules, in file order.
    rules: Vec<Rule>,
    /// The shadow rules, in file order: kept apart, so that choosing the answer never
    /// looks at them.
    shadows: Vec<Rule>,
    default: Rule,
    schedules: Schedules,
    lookups: Lookups,
    /// Things that load but are likely mistakes (shown by `check`, logged at start).
    pub warnings: Vec<Problem>,
    /// The list and map files the set was loaded from, absolute: what a reload watches
    /// besides the rules file.
    files: Vec<std::path::PathBuf>,
    /// A hash of the files this set was loaded from ([`file::load`]); empty for a set
    /// parsed from text.
    revision: String,
}

impl Rule {
    fn new(
        name: String,
        when: Option<Expr>,
        instruction: InstructionKind,
        delivery: Delivery,
        fields: Vec<(&'static FieldSpec, FieldValue)>,
    ) -> Self {
        let mut rule = Self {
            label: Arc::new(name.clone()),
            name,
            when,
            instruction,
            delivery,
            mode: Mode::Live,
            fields,
            literal_fields: None,
            static_answer: None,
        };
        let literal: Option<Vec<_>> = rule
            .fields
            .iter()
            .map(|(spec, value)| Some((*spec, value.literal()?)))
            .collect();
        rule.static_answer = literal.as_deref().map(|fields| rule.answer_for(fields));
        rule.literal_fields = literal;
        rule
    }

    /// The rule, in `mode`.
    pub fn in_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Fills in every template; the first that cannot be filled skips the rule.
    pub fn render(
        &self,
        context: &CallbackContext<'_>,
    ) -> Result<Vec<(&'static FieldSpec, Rendered)>, Skip> {
        self.fields
            .iter()
            .map(|(spec, value)| Ok((*spec, value.render(spec, context)?)))
            .collect()
    }

    /// This rule's decision for one callback, or why it cannot answer it.
    fn try_decide(&self, context: &CallbackContext<'_>) -> Result<Decision<'_>, Skip> {
        let sends_update =
            self.delivery == Delivery::Rest && self.instruction != InstructionKind::Defer;
        if let (Some(answer), Some(fields)) = (&self.static_answer, &self.literal_fields) {
            let update_form = sends_update.then(|| rest_form::build(self.instruction, fields));
            return Ok(self.decision(answer.clone(), update_form));
        }
        let fields = self.render(context)?;
        let update_form = sends_update.then(|| rest_form::build(self.instruction, &fields));
        Ok(self.decision(self.answer_for(&fields), update_form))
    }

    /// The callback's answer: the inline JSON, or `{}` when the instruction goes over REST
    /// or is `defer`.
    fn answer_for(&self, fields: &[(&'static FieldSpec, Rendered)]) -> Bytes {
        if self.delivery == Delivery::Rest || self.instruction == InstructionKind::Defer {
            Bytes::from_static(inline::EMPTY)
        } else {
            inline::inline(self.instruction, fields).into()
        }
    }

    /// The schedules this rule reads, in `when` and in templates.
    pub fn schedules(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.when.as_ref().map(Expr::schedules).unwrap_or_default();
        for (_, value) in &self.fields {
            if let FieldValue::Text(template) = value {
                names.extend(template.paths().iter().filter_map(|p| p.schedule_name()));
            }
        }
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Whether any field holds a template, so that the rule can be skipped.
    pub fn holds_templates(&self) -> bool {
        self.fields
            .iter()
            .any(|(_, value)| matches!(value, FieldValue::Text(template) if !template.is_static()))
    }

    /// Whether the rule sends a REST update (and so is remembered per Reservation).
    pub fn sends_update(&self) -> bool {
        self.delivery == Delivery::Rest && self.instruction != InstructionKind::Defer
    }

    /// The URL fields whose values are templates: what they insert is percent-encoded
    /// (see [`Template::render_url`]).
    pub fn templated_url_fields(&self) -> Vec<&'static str> {
        self.fields
            .iter()
            .filter(|(spec, value)| {
                spec.kind == FieldKind::Url
                    && matches!(value, FieldValue::Text(template) if !template.is_static())
            })
            .map(|(spec, _)| spec.key)
            .collect()
    }

    /// Whether `when` holds (an absent `when` always does).
    pub fn matches(&self, context: &CallbackContext<'_>) -> bool {
        self.when.as_ref().is_none_or(|expr| expr.evaluate(context))
    }
}

impl FieldValue {
    /// The value when it holds no template.
    fn literal(&self) -> Option<Rendered> {
        Some(match self {
            FieldValue::Text(template) => Rendered::Text(template.as_static()?.to_owned()),
            FieldValue::Integer(n) => Rendered::Integer(*n),
            FieldValue::Bool(b) => Rendered::Bool(*b),
            FieldValue::Events(events) => Rendered::Events(events.clone()),
        })
    }

    fn render(&self, spec: &FieldSpec, context: &CallbackContext<'_>) -> Result<Rendered, Skip> {
        Ok(match self {
            FieldValue::Text(template) => {
                let rendered = if spec.kind == FieldKind::Url {
                    template.render_url(context)
                } else {
                    template.render(context)
                };
                let text = rendered.map_err(|missing| Skip {
                    field: spec.key,
                    path: Some(missing.path),
                    reason: missing.reason.to_owned(),
                    label: missing.label,
                })?;
                // A literal was checked at load; a filled-in template is checked now, so a
                // bad value skips the rule instead of reaching TaskRouter.
                if !template.is_static()
                    && let Some(reason) = check_rendered(spec.kind, &text)
                {
                    return Err(Skip {
                        field: spec.key,
                        path: None,
                        reason,
                        label: "invalid_value",
                    });
                }
                Rendered::Text(text.into_owned())
            }
            FieldValue::Integer(n) => Rendered::Integer(*n),
            FieldValue::Bool(b) => Rendered::Bool(*b),
            FieldValue::Events(events) => Rendered::Events(events.clone()),
        })
    }
}

fn check_rendered(kind: FieldKind, text: &str) -> Option<String> {
    check_text(kind, text).map(|reason| format!("the filled-in value {reason}"))
}

impl RuleSet {
    pub fn new(
        rules: Vec<Rule>,
        default: Rule,
        schedules: Schedules,
        warnings: Vec<Problem>,
    ) -> Self {
        let (shadows, rules) = rules
            .into_iter()
            .partition(|rule| rule.mode == Mode::Shadow);
        Self {
            rules,
            shadows,
            default,
            schedules,
            lookups: Lookups::default(),
            warnings,
            files: Vec::new(),
            revision: String::new(),
        }
    }

    /// The set, reading these lists and maps, loaded from these files.
    pub fn with_lookups(mut self, lookups: Lookups, files: Vec<std::path::PathBuf>) -> Self {
        self.lookups = lookups;
        self.files = files;
        self
    }

    /// The list and map files this set was loaded from (absolute paths), besides the rules
    /// file itself.
    /// The set as loaded from these files' contents, named by `revision`.
    pub fn with_revision(mut self, revision: String) -> Self {
        self.revision = revision;
        self
    }

    /// The revision decision records name: a hash of the files loaded.
    pub fn revision(&self) -> &str {
        &self.revision
    }

    pub fn files(&self) -> &[std::path::PathBuf] {
        &self.files
    }

    /// The live rules in order, then the default.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().chain(std::iter::once(&self.default))
    }

    /// The shadow rules, in order.
    pub fn shadows(&self) -> &[Rule] {
        &self.shadows
    }

    /// What each shadow rule whose `when` holds would have answered (or why it could not),
    /// in order. Evaluated on its own, after the answer is chosen.
    pub fn shadow(&self, callback: &AssignmentCallback, now: Timestamp) -> Vec<ShadowVerdict<'_>> {
        let context = &CallbackContext::new(callback, &self.schedules, &self.lookups, now);
        self.shadows
            .iter()
            .filter(|rule| rule.matches(context))
            .map(|rule| ShadowVerdict {
                rule: rule.label.clone(),
                outcome: rule.try_decide(context),
            })
            .collect()
    }

    /// As [`RuleSet::shadow`], with every shadow rule's trial, matched or not.
    pub fn explain_shadows(
        &self,
        callback: &AssignmentCallback,
        now: Timestamp,
    ) -> Vec<(Trial<'_>, Option<Decision<'_>>)> {
        let context = &CallbackContext::new(callback, &self.schedules, &self.lookups, now);
        self.shadows
            .iter()
            .map(|rule| {
                let when = rule.when.as_ref().map(|expr| expr.explain(context));
                if when.as_ref().is_some_and(|w| !w.matched) {
                    let trial = Trial {
                        rule: &rule.name,
                        when,
                        skip: None,
                    };
                    return (trial, None);
                }
                match rule.try_decide(context) {
                    Ok(decision) => (
                        Trial {
                            rule: &rule.name,
                            when,
                            skip: None,
                        },
                        Some(decision),
                    ),
                    Err(skip) => (
                        Trial {
                            rule: &rule.name,
                            when,
                            skip: Some(skip),
                        },
                        None,
                    ),
                }
            })
            .collect()
    }

    /// Picks the answer for one callback at `now` (the clock schedules are read against).
    /// Never fails: a rule that cannot answer is skipped (and listed in the decision's
    /// `skipped`), and the default always answers because it holds no templates.
    pub fn decide(&self, callback: &AssignmentCallback, now: Timestamp) -> Decision<'_> {
        let context = &CallbackContext::new(callback, &self.schedules, &self.lookups, now);
        let mut skipped = Vec::new();
        for rule in &self.rules {
            if !rule.matches(context) {
                continue;
            }
            match rule.try_decide(context) {
                Ok(decision) => return decision.after(skipped),
                Err(skip) => skipped.push(Skipped {
                    rule: rule.label.clone(),
                    skip,
                }),
            }
        }
        // The loader refuses templates in `[default]`, so it always answers.
        let decision = self.default.try_decide(context).unwrap_or_else(|_| {
            self.default
                .decision(Bytes::from_static(inline::EMPTY), None)
        });
        decision.after(skipped)
    }

    /// As [`RuleSet::decide`], also telling for every rule tried why it answered or not.
    /// Evaluates every branch of every expression, so it is for tools, not the request path.
    pub fn explain(
        &self,
        callback: &AssignmentCallback,
        now: Timestamp,
    ) -> (Vec<Trial<'_>>, Decision<'_>) {
        let context = &CallbackContext::new(callback, &self.schedules, &self.lookups, now);
        let mut trials = Vec::new();
        for rule in &self.rules {
            let when = rule.when.as_ref().map(|expr| expr.explain(context));
            if when.as_ref().is_some_and(|w| !w.matched) {
                trials.push(Trial {
                    rule: &rule.name,
                    when,
                    skip: None,
                });
                continue;
            }
            match rule.try_decide(context) {
                Ok(decision) => {
                    trials.push(Trial {
                        rule: &rule.name,
                        when,
                        skip: None,
                    });
                    return (trials, decision);
                }
                Err(skip) => trials.push(Trial {
                    rule: &rule.name,
                    when,
                    skip: Some(skip),
                }),
            }
        }
        trials.push(Trial {
            rule: &self.default.name,
            when: None,
            skip: None,
        });
        (trials, self.decide(callback, now))
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The schedules defined, by name, in name order.
    pub fn schedules(&self) -> Vec<(&str, &schedule::Schedule)> {
        let mut all: Vec<_> = self
            .schedules
            .iter()
            .map(|(name, schedule)| (name.as_str(), schedule))
            .collect();
        all.sort_by_key(|(name, _)| *name);
        all
    }

    /// The rules in force, in words: "no rules and a default", "1 rule and a default", …
    pub fn count_in_words(&self) -> String {
        let live = match self.rules.len() {
            0 => "no rules".to_owned(),
            1 => "1 rule".to_owned(),
            n => format!("{n} rules"),
        };
        match self.shadows.len() {
            0 => format!("{live} and a default"),
            1 => format!("{live}, 1 shadow rule and a default"),
            n => format!("{live}, {n} shadow rules and a default"),
        }
    }

    /// Whether any rule (or the default) sends a REST update.
    pub fn uses_rest(&self) -> bool {
        self.rules().any(|rule| {
            rule.delivery == Delivery::Rest && rule.instruction != InstructionKind::Defer
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl Rule {
    fn decision(
        &self,
        answer: Bytes,
        update_form: Option<Vec<(&'static str, String)>>,
    ) -> Decision<'_> {
        Decision {
            rule: &self.name,
            label: self.label.clone(),
            instruction: self.instruction,
            delivery: self.delivery,
            answer,
            update_form,
            skipped: Vec::new(),
        }
    }
}

impl Decision<'_> {
    fn after(mut self, skipped: Vec<Skipped>) -> Self {
        self.skipped = skipped;
        self
    }
}
