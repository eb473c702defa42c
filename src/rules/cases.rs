//! Rule test cases (`assignment-router test`): a cases file of `[[cases]]`, each a callback
//! (task and worker attributes, callback parameters, an optional clock) and what the rules
//! must make of it.
//!
//! The file is read from the TOML parser's spanned tree rather than through serde, so that
//! every problem names its case, its key and its line, and every problem is reported at once:
//! a cases file is checked in full, and against the rules, before any case runs.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::{Map, Value};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Delivery, RuleSet};
use crate::callback::AssignmentCallback;
use crate::callback::form;
use crate::callback::verified::Verified;
use crate::instruction::{InstructionKind, quote_list};

/// One case: a callback, the instant it is decided at, and what is expected of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub name: String,
    /// Its place in the file, from 1: what its filled-in SIDs are made of.
    pub number: usize,
    /// The line its table starts on.
    pub line: usize,
    /// The clock for schedules; `None` for the instant the run started.
    pub at: Option<Timestamp>,
    /// `TaskAttributes`, as the JSON object TaskRouter would send.
    pub task: Value,
    /// `WorkerAttributes`, as the JSON object TaskRouter would send.
    pub worker: Value,
    /// The callback parameters given, as form fields, in file order.
    pub params: Vec<(String, String)>,
    /// The callback all that makes, SIDs filled in, typed as a live one is.
    pub callback: AssignmentCallback,
    pub expect: Expect,
}

/// What a case expects; an absent key is not compared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    /// The rule that answers, or `default`.
    pub rule: Option<Named>,
    pub instruction: Option<InstructionKind>,
    pub delivery: Option<Delivery>,
    /// Rules that must have been skipped (their `when` held, a template could not be
    /// filled); an empty list: no rule was.
    pub skipped: Option<Vec<Named>>,
    /// Instruction fields by their rules-file names (`to`, `timeout`, …), compared with the
    /// answer as it would be sent.
    pub fields: Vec<(String, Expected)>,
    /// REST form fields by their exact names (`DequeueFrom`, …), each with every value it
    /// must carry, in order (lists are repeated keys over REST).
    pub form: Vec<(String, Vec<String>)>,
    /// Shadow rules (`mode = "shadow"`) that would have answered, exactly these (they never
    /// do); an empty list: none would have.
    pub shadow: Option<Vec<Named>>,
}

/// A rule name as written in a case, with its line: checked against the rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub line: usize,
}

/// An expected instruction field, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Text(String),
    Integer(i64),
    Bool(bool),
    List(Vec<String>),
}

/// Where in a cases file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whose {
    /// The file as a whole (its syntax, its top-level keys).
    File,
    /// A case: its name, or its place (from 1) when it has no usable name.
    Case { number: usize, name: Option<String> },
}

/// One thing wrong with a cases file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseProblem {
    pub line: usize,
    pub whose: Whose,
    /// The key the problem is in, dotted from the case (`expect.rule`, `params.TaskAge`).
    pub field: Option<String>,
    pub message: String,
    /// The source line and a caret under the spot, for TOML syntax errors.
    pub snippet: Option<String>,
}

/// Why a cases file cannot be run: every problem found in it.
#[derive(Debug)]
pub struct CasesError {
    pub file: PathBuf,
    /// In line order. A problem with line 0 is about the file as a whole (it cannot be read).
    pub problems: Vec<CaseProblem>,
}

/// The SIDs a callback carries, with their prefixes: those a case does not give are filled
/// in with well-shaped ones.
const SIDS: [(&str, &str); 7] = [
    ("AccountSid", "AC"),
    ("WorkspaceSid", "WS"),
    ("WorkflowSid", "WW"),
    ("TaskQueueSid", "WQ"),
    ("WorkerSid", "WK"),
    ("TaskSid", "WT"),
    ("ReservationSid", "WR"),
];

const CASE_KEYS: &str = "`name`, `at`, `task`, `worker`, `params` and `expect`";

/// The callback's form fields, as TaskRouter would send them: the parameters given, every
/// SID not given (the case's number in hex, so each case has its own), and the attributes as
/// JSON.
fn form_of(
    number: usize,
    task: &Value,
    worker: &Value,
    params: &[(String, String)],
) -> Vec<(String, String)> {
    let given = |field: &str| params.iter().any(|(key, _)| key == field);
    let mut pairs = Vec::with_capacity(SIDS.len() + 2 + params.len());
    for (field, prefix) in SIDS {
        if !given(field) {
            pairs.push((field.to_owned(), format!("{prefix}{number:032x}")));
        }
    }
    for (field, attributes) in [("TaskAttributes", task), ("WorkerAttributes", worker)] {
        if !given(field) {
            pairs.push((field.to_owned(), attributes.to_string()));
        }
    }
    pairs.extend(params.iter().cloned());
    pairs
}

/// The callback those fields make, encoded as a form and read back the way the service
/// reads a live one once its signature holds (offline there is no signature to check).
fn callback_of(pairs: &[(String, String)]) -> Result<AssignmentCallback, String> {
    let body = serde_urlencoded::to_string(pairs).map_err(|e| e.to_string())?;
    let pairs = form::parse(body.as_bytes()).map_err(|e| e.to_string())?;
    AssignmentCallback::from_verified(Verified::unchecked(pairs)).map_err(|e| e.to_string())
}

/// Reads the cases file at `path` and checks it in full, against `rules` too.
pub fn load(path: &Path, rules: &RuleSet) -> Result<Vec<Case>, CasesError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        // Named as the operator can find it, whatever the working directory was.
        let tried = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        CasesError {
            file: tried,
            problems: vec![CaseProblem {
                line: 0,
                whose: Whose::File,
                field: None,
                message: format!("cannot read: {e}"),
                snippet: None,
            }],
        }
    })?;
    parse(&text, rules).map_err(|problems| CasesError {
        file: path.to_path_buf(),
        problems,
    })
}

/// Checks the text of a cases file, and the rule names it gives against `rules`; on
/// failure, every problem found, in line order.
pub fn parse(text: &str, rules: &RuleSet) -> Result<Vec<Case>, Vec<CaseProblem>> {
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(error) => return Err(vec![syntax_problem(text, &error)]),
    };
    let mut reader = Reader {
        text,
        problems: Vec::new(),
    };
    let cases = reader.document(document.get_ref());
    let mut problems = reader.problems;
    problems.extend(check_names(&cases, rules));
    if problems.is_empty() {
        return Ok(cases);
    }
    problems.sort_by_key(|problem| problem.line);
    Err(problems)
}

/// Checks the rule names the cases give against the rules they are run with: a name that is
/// no rule of the file is a mistake in the case, not a failure of the rules.
fn check_names(cases: &[Case], rules: &RuleSet) -> Vec<CaseProblem> {
    let names: Vec<&str> = rules.rules().map(|rule| rule.name.as_str()).collect();
    let shadows: Vec<&str> = rules
        .shadows()
        .iter()
        .map(|rule| rule.name.as_str())
        .collect();
    let unknown = |named: &Named| !names.contains(&named.name.as_str());
    let mut problems = Vec::new();
    for case in cases {
        let whose = Whose::Case {
            number: case.number,
            name: Some(case.name.clone()),
        };
        let mut refuse = |named: &Named, field: &str, message: String| {
            problems.push(CaseProblem {
                line: named.line,
                whose: whose.clone(),
                field: Some(field.to_owned()),
                message,
                snippet: None,
            });
        };
        if let Some(rule) = case.expect.rule.as_ref().filter(|rule| unknown(rule)) {
            refuse(rule, "expect.rule", no_such_rule(&rule.name, &names));
        }
        for shadow in case.expect.shadow.iter().flatten() {
            if !shadows.contains(&shadow.name.as_str()) {
                let message = if shadows.is_empty() {
                    format!(
                        "`{}` is no shadow rule: the rules file has none",
                        shadow.name
                    )
                } else {
                    format!(
                        "`{}` is no shadow rule of the rules file: expected {}",
                        shadow.name,
                        shadows.join(", ")
                    )
                };
                refuse(shadow, "expect.shadow", message);
            }
        }
        for skipped in case.expect.skipped.iter().flatten() {
            if skipped.name == "default" {
                refuse(
                    skipped,
                    "expect.skipped",
                    "the default is never skipped: it holds no templates".to_owned(),
                );
            } else if unknown(skipped) {
                refuse(
                    skipped,
                    "expect.skipped",
                    no_such_rule(&skipped.name, &names),
                );
            }
        }
    }
    problems
}

fn no_such_rule(name: &str, names: &[&str]) -> String {
    format!(
        "`{name}` is no rule of the rules file: expected {}",
        quote_list(names)
    )
}

fn syntax_problem(text: &str, error: &toml::de::Error) -> CaseProblem {
    let message = error.message().trim_end();
    let Some(span) = error.span() else {
        return CaseProblem {
            line: 1,
            whose: Whose::File,
            field: None,
            message: format!("not valid TOML: {message}"),
            snippet: None,
        };
    };
    let start = span.start.min(text.len());
    let before = text.get(..start).unwrap_or(text);
    let line = line_at(text, start);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let source_line = text[line_start..].lines().next().unwrap_or("");
    CaseProblem {
        line,
        whose: Whose::File,
        field: None,
        message: format!("not valid TOML at column {column}: {message}"),
        snippet: Some(format!("{source_line}\n{}^", " ".repeat(column - 1))),
    }
}

/// The line (from 1) the byte at `offset` is on.
fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

type Entry<'t, 'i> = (
    &'t Spanned<std::borrow::Cow<'i, str>>,
    &'t Spanned<DeValue<'i>>,
);

/// A table's entries in the order they are written.
fn entries<'t, 'i>(table: &'t DeTable<'i>) -> Vec<Entry<'t, 'i>> {
    let mut entries: Vec<Entry<'t, 'i>> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

fn find<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(name, _)| name.get_ref() == key)
        .map(|(_, value)| value)
}

/// A case's name, when it has a usable one.
fn name_of(item: &Spanned<DeValue<'_>>) -> Option<String> {
    let DeValue::Table(table) = item.get_ref() else {
        return None;
    };
    match find(table, "name")?.get_ref() {
        DeValue::String(name) if !name.trim().is_empty() => Some(name.to_string()),
        _ => None,
    }
}

struct Reader<'t> {
    text: &'t str,
    problems: Vec<CaseProblem>,
}

impl Reader<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        line_at(self.text, span.start)
    }

    fn problem(
        &mut self,
        span: Range<usize>,
        whose: &Whose,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        self.problems.push(CaseProblem {
            line: self.line(span),
            whose: whose.clone(),
            field: field.map(str::to_owned),
            message: message.into(),
            snippet: None,
        });
    }

    fn document(&mut self, document: &DeTable<'_>) -> Vec<Case> {
        for (key, _) in entries(document) {
            if key.get_ref() != "cases" {
                self.problem(
                    key.span(),
                    &Whose::File,
                    None,
                    format!(
                        "unknown key `{}`: a cases file holds only [[cases]]",
                        key.get_ref()
                    ),
                );
            }
        }
        let items = match find(document, "cases") {
            Some(value) => match value.get_ref() {
                DeValue::Array(items) if !items.is_empty() => items,
                DeValue::Array(_) => {
                    self.problem(
                        value.span(),
                        &Whose::File,
                        Some("cases"),
                        "holds no case: write each case as [[cases]] with a `name` and an `expect`",
                    );
                    return Vec::new();
                }
                _ => {
                    self.problem(
                        value.span(),
                        &Whose::File,
                        Some("cases"),
                        "must be an array of tables: write each case as [[cases]]",
                    );
                    return Vec::new();
                }
            },
            None => {
                self.problem(
                    0..0,
                    &Whose::File,
                    None,
                    "no cases: write each case as [[cases]] with a `name` and an `expect`",
                );
                return Vec::new();
            }
        };
        let mut cases = Vec::new();
        let mut first_lines: HashMap<String, usize> = HashMap::new();
        for (index, item) in items.iter().enumerate() {
            let number = index + 1;
            if let Some(name) = name_of(item) {
                let line = self.line(item.span());
                if let Some(first) = first_lines.get(&name) {
                    let whose = Whose::Case {
                        number,
                        name: Some(name.clone()),
                    };
                    self.problem(
                        item.span(),
                        &whose,
                        Some("name"),
                        format!(
                            "the case on line {first} has this name already; names must be unique"
                        ),
                    );
                } else {
                    first_lines.insert(name, line);
                }
            }
            cases.extend(self.case(number, item));
        }
        cases
    }

    fn case(&mut self, number: usize, item: &Spanned<DeValue<'_>>) -> Option<Case> {
        let line = self.line(item.span());
        let DeValue::Table(table) = item.get_ref() else {
            let whose = Whose::Case { number, name: None };
            self.problem(
                item.span(),
                &whose,
                None,
                "must be a table: write [[cases]]",
            );
            return None;
        };
        let given_name = find(table, "name");
        let name = name_of(item);
        let whose = Whose::Case {
            number,
            name: name.clone(),
        };
        match (&name, given_name) {
            (Some(_), _) => {}
            (None, Some(value)) => {
                self.problem(
                    value.span(),
                    &whose,
                    Some("name"),
                    "must be a non-empty string",
                );
            }
            (None, None) => self.problem(
                item.span(),
                &whose,
                Some("name"),
                "missing: every case needs a name, to be told apart in the results",
            ),
        }
        let before = self.problems.len();
        let mut at = None;
        let mut task = None;
        let mut worker = None;
        let mut params = Vec::new();
        let mut expect = None;
        for (key, value) in entries(table) {
            match key.get_ref().as_ref() {
                "name" => {}
                "at" => at = self.at(&whose, value),
                "task" => task = self.attributes(&whose, "task", value),
                "worker" => worker = self.attributes(&whose, "worker", value),
                "params" => params = self.params(&whose, value),
                "expect" => expect = self.expect(&whose, value),
                other => self.problem(
                    key.span(),
                    &whose,
                    Some(other),
                    format!("unknown key `{other}`: a case takes {CASE_KEYS}"),
                ),
            }
        }
        if find(table, "expect").is_none() {
            self.problem(
                item.span(),
                &whose,
                Some("expect"),
                "missing: say what the case expects, e.g. expect = { rule = \"spanish-billing\" }",
            );
        }
        for (field, attributes, key) in [
            ("TaskAttributes", &task, "task"),
            ("WorkerAttributes", &worker, "worker"),
        ] {
            if attributes.is_some() && params.iter().any(|(given, _)| given == field) {
                self.problem(
                    item.span(),
                    &whose,
                    Some(&format!("params.{field}")),
                    format!("given twice: as `{key}` and as `params.{field}`; keep one"),
                );
            }
        }
        if self.problems.len() > before {
            return None;
        }
        let task = task.unwrap_or_else(|| Value::Object(Map::new()));
        let worker = worker.unwrap_or_else(|| Value::Object(Map::new()));
        let callback = match callback_of(&form_of(number, &task, &worker, &params)) {
            Ok(callback) => callback,
            Err(reason) => {
                self.problem(
                    item.span(),
                    &whose,
                    Some("params"),
                    format!("TaskRouter's callback would be refused (400): {reason}"),
                );
                return None;
            }
        };
        Some(Case {
            name: name?,
            number,
            line,
            at,
            task,
            worker,
            params,
            callback,
            expect: expect?,
        })
    }

    fn at(&mut self, whose: &Whose, value: &Spanned<DeValue<'_>>) -> Option<Timestamp> {
        const EXAMPLE: &str = "e.g. \"2026-12-01T10:00:00-05:00\" or \"2026-12-01T15:00:00Z\"";
        let text = match value.get_ref() {
            DeValue::String(text) => text.to_string(),
            DeValue::Datetime(datetime) if datetime.offset.is_some() => datetime.to_string(),
            DeValue::Datetime(datetime) => {
                self.problem(
                    value.span(),
                    whose,
                    Some("at"),
                    format!(
                        "`{datetime}` has no UTC offset, so it names no instant: add one ({EXAMPLE})"
                    ),
                );
                return None;
            }
            _ => {
                self.problem(
                    value.span(),
                    whose,
                    Some("at"),
                    format!("must be an RFC 3339 instant ({EXAMPLE})"),
                );
                return None;
            }
        };
        match text.parse::<Timestamp>() {
            Ok(at) => Some(at),
            Err(_) => {
                self.problem(
                    value.span(),
                    whose,
                    Some("at"),
                    format!("`{text}` is not an RFC 3339 instant with an offset ({EXAMPLE})"),
                );
                None
            }
        }
    }

    fn attributes(
        &mut self,
        whose: &Whose,
        key: &str,
        value: &Spanned<DeValue<'_>>,
    ) -> Option<Value> {
        if !matches!(value.get_ref(), DeValue::Table(_)) {
            self.problem(
                value.span(),
                whose,
                Some(key),
                format!("must be a table of attributes, e.g. {key} = {{ language = \"es\" }}"),
            );
            return None;
        }
        self.json(whose, key, value)
    }

    /// A TOML value as the JSON TaskRouter would send: datetimes become strings.
    fn json(&mut self, whose: &Whose, field: &str, value: &Spanned<DeValue<'_>>) -> Option<Value> {
        Some(match value.get_ref() {
            DeValue::String(text) => Value::String(text.to_string()),
            DeValue::Integer(_) => Value::from(self.integer(whose, field, value)?),
            DeValue::Float(float) => {
                match float
                    .as_str()
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                {
                    Some(number) => Value::Number(number),
                    None => {
                        self.problem(
                            value.span(),
                            whose,
                            Some(field),
                            "JSON has no infinite or NaN numbers",
                        );
                        return None;
                    }
                }
            }
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(datetime) => Value::String(datetime.to_string()),
            DeValue::Array(items) => {
                let mut array = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    array.push(self.json(whose, &format!("{field}[{index}]"), item)?);
                }
                Value::Array(array)
            }
            DeValue::Table(table) => {
                let mut object = Map::new();
                for (key, item) in entries(table) {
                    let path = format!("{field}.{}", key.get_ref());
                    object.insert(key.get_ref().to_string(), self.json(whose, &path, item)?);
                }
                Value::Object(object)
            }
        })
    }

    fn integer(&mut self, whose: &Whose, field: &str, value: &Spanned<DeValue<'_>>) -> Option<i64> {
        let DeValue::Integer(integer) = value.get_ref() else {
            return None;
        };
        let parsed = i64::from_str_radix(integer.as_str(), integer.radix()).ok();
        if parsed.is_none() {
            self.problem(
                value.span(),
                whose,
                Some(field),
                format!("{integer} is too large a number"),
            );
        }
        parsed
    }

    fn params(&mut self, whose: &Whose, value: &Spanned<DeValue<'_>>) -> Vec<(String, String)> {
        let DeValue::Table(table) = value.get_ref() else {
            self.problem(
                value.span(),
                whose,
                Some("params"),
                "must be a table of callback parameters, e.g. params = { TaskAge = 12 }",
            );
            return Vec::new();
        };
        let mut params = Vec::new();
        for (key, value) in entries(table) {
            let key = key.get_ref().to_string();
            let field = format!("params.{key}");
            let text = match (key.as_str(), value.get_ref()) {
                (_, DeValue::Integer(_)) => {
                    self.integer(whose, &field, value).map(|n| n.to_string())
                }
                (_, DeValue::Float(float)) => match float.as_str().parse::<f64>() {
                    Ok(number) if number.is_finite() => Some(number.to_string()),
                    _ => {
                        self.problem(value.span(), whose, Some(&field), "must be a finite number");
                        None
                    }
                },
                ("TaskAge" | "TaskPriority", _) => {
                    self.problem(value.span(), whose, Some(&field), "must be a number");
                    None
                }
                (_, DeValue::String(text)) => Some(text.to_string()),
                (_, DeValue::Boolean(b)) => Some(b.to_string()),
                (_, DeValue::Datetime(datetime)) => Some(datetime.to_string()),
                (_, DeValue::Array(_) | DeValue::Table(_)) => {
                    self.problem(
                        value.span(),
                        whose,
                        Some(&field),
                        "must be a string, a number or true/false: a form field is one value",
                    );
                    None
                }
            };
            if let Some(text) = text {
                params.push((key, text));
            }
        }
        params
    }

    fn expect(&mut self, whose: &Whose, value: &Spanned<DeValue<'_>>) -> Option<Expect> {
        let DeValue::Table(table) = value.get_ref() else {
            self.problem(
                value.span(),
                whose,
                Some("expect"),
                "must be a table, e.g. expect = { rule = \"spanish-billing\" }",
            );
            return None;
        };
        let mut expect = Expect::default();
        let mut field_lines = Vec::new();
        for (key, item) in entries(table) {
            let key_name = key.get_ref().as_ref();
            let field = format!("expect.{key_name}");
            match key_name {
                "rule" => expect.rule = self.rule_name(whose, &field, item),
                "instruction" => expect.instruction = self.instruction(whose, &field, item),
                "delivery" => {
                    expect.delivery = match item.get_ref() {
                        DeValue::String(name) if name == "inline" => Some(Delivery::Inline),
                        DeValue::String(name) if name == "rest" => Some(Delivery::Rest),
                        _ => {
                            self.problem(
                                item.span(),
                                whose,
                                Some(&field),
                                "must be \"inline\" or \"rest\"",
                            );
                            None
                        }
                    }
                }
                "skipped" => expect.skipped = self.skipped(whose, &field, item),
                "shadow" => expect.shadow = self.skipped(whose, &field, item),
                "form" => expect.form = self.form(whose, item),
                other if is_field_key(other) => {
                    if let Some(expected) = self.expected(whose, &field, item) {
                        field_lines.push(key.span());
                        expect.fields.push((other.to_owned(), expected));
                    }
                }
                other => self.problem(
                    key.span(),
                    whose,
                    Some(&field),
                    format!(
                        "unknown key `{other}`: `expect` takes `rule`, `instruction`, \
                         `delivery`, `skipped`, `shadow`, `form` and the fields of an instruction by \
                         their rules-file names (`to`, `from`, `timeout`, …)"
                    ),
                ),
            }
        }
        if let Some(instruction) = expect.instruction {
            for ((key, _), span) in expect.fields.iter().zip(field_lines) {
                if !instruction.fields().iter().any(|spec| spec.key == key) {
                    let message = without_field(instruction, key);
                    self.problem(span, whose, Some(&format!("expect.{key}")), message);
                }
            }
        }
        if table.is_empty() {
            self.problem(
                value.span(),
                whose,
                Some("expect"),
                "expects nothing, so the case could never fail: name at least the rule",
            );
        }
        Some(expect)
    }

    fn rule_name(
        &mut self,
        whose: &Whose,
        field: &str,
        item: &Spanned<DeValue<'_>>,
    ) -> Option<Named> {
        match item.get_ref() {
            DeValue::String(name) if !name.trim().is_empty() => Some(Named {
                name: name.to_string(),
                line: self.line(item.span()),
            }),
            _ => {
                self.problem(
                    item.span(),
                    whose,
                    Some(field),
                    "must be a rule's name, or \"default\"",
                );
                None
            }
        }
    }

    fn instruction(
        &mut self,
        whose: &Whose,
        field: &str,
        item: &Spanned<DeValue<'_>>,
    ) -> Option<InstructionKind> {
        let kind = item.get_ref().as_str().and_then(InstructionKind::parse);
        if kind.is_none() {
            let names: Vec<&str> = InstructionKind::ALL.iter().map(|k| k.name()).collect();
            self.problem(
                item.span(),
                whose,
                Some(field),
                format!("must be one of {}", quote_list(&names)),
            );
        }
        kind
    }

    fn skipped(
        &mut self,
        whose: &Whose,
        field: &str,
        item: &Spanned<DeValue<'_>>,
    ) -> Option<Vec<Named>> {
        let DeValue::Array(items) = item.get_ref() else {
            self.problem(
                item.span(),
                whose,
                Some(field),
                "must be a list of rule names",
            );
            return None;
        };
        let mut names = Vec::with_capacity(items.len());
        for name in items {
            names.push(self.rule_name(whose, field, name)?);
        }
        Some(names)
    }

    fn form(&mut self, whose: &Whose, item: &Spanned<DeValue<'_>>) -> Vec<(String, Vec<String>)> {
        let DeValue::Table(table) = item.get_ref() else {
            self.problem(
                item.span(),
                whose,
                Some("expect.form"),
                "must be a table of REST form fields, e.g. form = { DequeueFrom = \"+15005550006\" }",
            );
            return Vec::new();
        };
        let mut form = Vec::new();
        for (key, value) in entries(table) {
            let field = format!("expect.form.{}", key.get_ref());
            let values = match value.get_ref() {
                DeValue::Array(items) => items
                    .iter()
                    .map(|item| self.form_value(whose, &field, item))
                    .collect::<Option<Vec<String>>>(),
                _ => self
                    .form_value(whose, &field, value)
                    .map(|value| vec![value]),
            };
            if let Some(values) = values {
                form.push((key.get_ref().to_string(), values));
            }
        }
        form
    }

    fn form_value(
        &mut self,
        whose: &Whose,
        field: &str,
        item: &Spanned<DeValue<'_>>,
    ) -> Option<String> {
        match item.get_ref() {
            DeValue::String(text) => Some(text.to_string()),
            DeValue::Integer(_) => self.integer(whose, field, item).map(|n| n.to_string()),
            DeValue::Boolean(b) => Some(b.to_string()),
            _ => {
                self.problem(
                    item.span(),
                    whose,
                    Some(field),
                    "must be a string, a whole number, true/false, or a list of them (a \
                     repeated key)",
                );
                None
            }
        }
    }

    fn expected(
        &mut self,
        whose: &Whose,
        field: &str,
        item: &Spanned<DeValue<'_>>,
    ) -> Option<Expected> {
        let expected = match item.get_ref() {
            DeValue::String(text) => Expected::Text(text.to_string()),
            DeValue::Integer(_) => Expected::Integer(self.integer(whose, field, item)?),
            DeValue::Boolean(b) => Expected::Bool(*b),
            DeValue::Array(items) => {
                let list: Option<Vec<String>> = items
                    .iter()
                    .map(|item| item.get_ref().as_str().map(str::to_owned))
                    .collect();
                match list {
                    Some(list) => Expected::List(list),
                    None => {
                        self.problem(item.span(), whose, Some(field), "must be a list of strings");
                        return None;
                    }
                }
            }
            _ => {
                self.problem(
                    item.span(),
                    whose,
                    Some(field),
                    "must be a string, a whole number, true/false or a list of strings",
                );
                return None;
            }
        };
        Some(expected)
    }
}

/// Whether some instruction has a field with this rules-file name.
fn is_field_key(key: &str) -> bool {
    InstructionKind::ALL
        .iter()
        .any(|kind| kind.fields().iter().any(|spec| spec.key == key))
}

fn without_field(instruction: InstructionKind, key: &str) -> String {
    let keys: Vec<String> = instruction
        .fields()
        .iter()
        .map(|spec| format!("`{}`", spec.key))
        .collect();
    if keys.is_empty() {
        format!("the case expects `{instruction}`, which has no fields, so no `{key}`")
    } else {
        format!(
            "the case expects `{instruction}`, which has no `{key}`: it has {}",
            keys.join(", ")
        )
    }
}

impl fmt::Display for Whose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Whose::File => Ok(()),
            Whose::Case {
                name: Some(name), ..
            } => write!(f, "case \"{name}\""),
            Whose::Case { number, name: None } => write!(f, "case #{number}"),
        }
    }
}

impl fmt::Display for CaseProblem {
    /// `case "NAME": field `x`: message`, then the snippet indented.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.whose != Whose::File {
            write!(f, "{}: ", self.whose)?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(snippet) = &self.snippet {
            for line in snippet.lines() {
                write!(f, "\n    {line}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for CasesError {
    /// As `check` lists a rules file's problems: a count, then `FILE:LINE: problem` each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        let count = self.problems.len();
        write!(
            f,
            "{file}: {count} problem{}",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            match problem.line {
                0 => write!(f, "\n{file}: {problem}")?,
                line => write!(f, "\n{file}:{line}: {problem}")?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for CasesError {}

#[cfg(test)]
mod tests;
