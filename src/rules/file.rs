//! Reading a rules file and checking everything in it before any callback is answered.
//!
//! The TOML is read into a plain table and checked by hand rather than through
//! `deny_unknown_fields`, so that *every* problem is reported at once, each naming its rule
//! and field, instead of only the first one serde meets.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::context::Schedules;
use super::expression::{self, Expr, Lookup};
use super::lookup::{self, List, Lookups, Map};
use super::problem::{Place, Problem};
use super::schedule::Schedule;
use super::template::Template;
use super::{Delivery, FieldValue, Mode, Rule, RuleSet};
use crate::instruction::{FieldKind, FieldSpec, InstructionKind, check_text, quote_list};

/// Why a rules file cannot be used: every problem found in it.
#[derive(Debug)]
pub struct RulesError {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        write!(
            f,
            "{}: {count} problem{}",
            self.file.display(),
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n{}: {problem}", self.file.display())?;
        }
        Ok(())
    }
}

impl std::error::Error for RulesError {}

impl RulesError {
    /// A problem with the file as a whole.
    pub fn single(file: &Path, message: &str) -> Self {
        Self {
            file: file.to_path_buf(),
            problems: vec![Problem::new(&Place::File, None, message)],
        }
    }
}

/// Reads and checks the rules file at `path`.
pub fn load(path: &Path) -> Result<RuleSet, RulesError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        // Named as the operator can find it, whatever the working directory was.
        let tried = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        RulesError::single(&tried, &format!("cannot read: {e}"))
    })?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let parsed = parse_in(&text, folder).map(|rules| {
        let revision = revision(&text, rules.files());
        rules.with_revision(revision)
    });
    parsed.map_err(|problems| {
        if looks_like_settings(&text) {
            return RulesError::single(
                path,
                "this looks like a settings file, not a rules file: pass it with --config \
                 FILE (its `rules.path` names the rules file)",
            );
        }
        RulesError {
            file: path.to_path_buf(),
            problems,
        }
    })
}

/// The rules' revision, as decision records name it: the first 12 hex digits of a SHA-256
/// over the rules file and each list and map file it read, so that two replicas (or two
/// loads) with the same files give the same revision.
fn revision(text: &str, files: &[std::path::PathBuf]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(text.as_bytes());
    for file in files {
        // Read again: they loaded a moment ago; one that cannot be read now changes the
        // revision, which is the truth of what is in force.
        hash.update(file.as_os_str().as_encoded_bytes());
        hash.update(std::fs::read(file).unwrap_or_default());
    }
    hash.finalize()[..6]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A settings file has these sections and no `[default]`.
fn looks_like_settings(text: &str) -> bool {
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    !table.contains_key("default")
        && ["server", "callback", "twilio", "admin", "log"]
            .iter()
            .any(|section| table.contains_key(*section))
}

/// Checks the text of a rules file whose list and map files are relative to the working
/// directory; on failure, every problem found.
pub fn parse(text: &str) -> Result<RuleSet, Vec<Problem>> {
    parse_in(text, Path::new(""))
}

/// Checks the text of a rules file kept in `folder` (where its list and map files are
/// found); on failure, every problem found.
pub fn parse_in(text: &str, folder: &Path) -> Result<RuleSet, Vec<Problem>> {
    let table: Table = match text.parse() {
        Ok(table) => table,
        Err(error) => return Err(vec![toml_problem(text, &error)]),
    };
    let mut checker = Checker::new();
    let schedules = checker.schedules(&table);
    let (lookups, files) = checker.lookups(&table, folder);
    let rules = checker.rules(&table);
    let default = checker.default(&table);
    for key in table.keys() {
        match key.as_str() {
            "rules" | "default" | "schedules" | "lists" | "maps" => {}
            other => checker.problem(
                &Place::File,
                None,
                format!(
                    "unknown table `{other}`: a rules file holds [[rules]], [default], \
                     [schedules.NAME], [lists.NAME] and [maps.NAME]"
                ),
            ),
        }
    }
    checker.warn_unread_lookups();
    match default {
        Some(default) if checker.problems.is_empty() => {
            let mut set = RuleSet::new(rules, default, schedules, checker.warnings)
                .with_lookups(lookups, files);
            let lints = super::lints::lint(&set, text);
            set.warnings.extend(lints);
            Ok(set)
        }
        _ => Err(checker.problems),
    }
}

fn toml_problem(text: &str, error: &toml::de::Error) -> Problem {
    let message = error.message().to_owned();
    let Some(span) = error.span() else {
        return Problem::new(&Place::File, None, format!("not valid TOML: {message}"));
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let source_line = text[line_start..].lines().next().unwrap_or("");
    Problem::new(
        &Place::File,
        None,
        format!("not valid TOML at line {line}, column {column}: {message}"),
    )
    .with_snippet(format!("{source_line}\n{}^", " ".repeat(column - 1)))
}

/// What a rule and the default have in common: what to do, how, and with which values.
type RuleBody = (
    InstructionKind,
    Delivery,
    Vec<(&'static FieldSpec, FieldValue)>,
);

struct Checker {
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
    /// Every schedule the file declares, even one with problems of its own, so that a
    /// reference to it is not reported a second time.
    schedule_names: HashSet<String>,
    /// Every list and map the file declares (the same way), and whether a rule reads it.
    list_names: HashMap<String, bool>,
    map_names: HashMap<String, bool>,
}

impl Checker {
    fn new() -> Self {
        Self {
            problems: Vec::new(),
            warnings: Vec::new(),
            schedule_names: HashSet::new(),
            list_names: HashMap::new(),
            map_names: HashMap::new(),
        }
    }

    /// `[lists.NAME]` and `[maps.NAME]`, each with its file read and checked; and the files'
    /// absolute paths, for the reload to watch.
    fn lookups(&mut self, table: &Table, folder: &Path) -> (Lookups, Vec<PathBuf>) {
        let mut lookups = Lookups::default();
        let mut files = Vec::new();
        for kind in [Kind::List, Kind::Map] {
            let entries = match table.get(kind.root()) {
                None => continue,
                Some(Value::Table(entries)) => entries,
                Some(_) => {
                    self.problem(
                        &Place::File,
                        Some(kind.root()),
                        format!(
                            "`{}` must hold tables: write [{}.NAME] with `file = \"…\"`",
                            kind.root(),
                            kind.root()
                        ),
                    );
                    continue;
                }
            };
            for (name, entry) in entries {
                let place = kind.place(name);
                match kind {
                    Kind::List => self.list_names.insert(name.clone(), false),
                    Kind::Map => self.map_names.insert(name.clone(), false),
                };
                let Some(file) = self.lookup_file(&place, kind, entry) else {
                    continue;
                };
                let path = lookup::resolve(folder, file);
                let text = match std::fs::read_to_string(&path) {
                    Ok(text) if text.len() > lookup::MAX_FILE_BYTES => {
                        self.problem(
                            &place,
                            Some("file"),
                            format!(
                                "{} is larger than 4 GiB, the most a list or map may be",
                                path.display()
                            ),
                        );
                        continue;
                    }
                    Ok(text) => text,
                    Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
                        self.problem(
                            &place,
                            Some("file"),
                            format!("{} is not UTF-8 text", path.display()),
                        );
                        continue;
                    }
                    Err(error) => {
                        self.problem(
                            &place,
                            Some("file"),
                            format!("cannot read {}: {error}", path.display()),
                        );
                        continue;
                    }
                };
                match kind {
                    Kind::List => {
                        lookups.lists.insert(name.clone(), List::parse(name, &text));
                    }
                    Kind::Map => match Map::parse(&text) {
                        Ok(map) => {
                            lookups.maps.insert(name.clone(), map);
                        }
                        Err(rows) => {
                            for row in rows {
                                self.problem(
                                    &place,
                                    Some("file"),
                                    format!("{}: {row}", path.display()),
                                );
                            }
                        }
                    },
                }
                files.push(path);
            }
        }
        (lookups, files)
    }

    /// The `file` of a `[lists.NAME]` or `[maps.NAME]` table.
    fn lookup_file<'t>(&mut self, place: &Place, kind: Kind, entry: &'t Value) -> Option<&'t str> {
        let Value::Table(entry) = entry else {
            self.problem(
                place,
                None,
                format!(
                    "must be a table: write [{}.NAME] with `file = \"…\"`",
                    kind.root()
                ),
            );
            return None;
        };
        for key in entry.keys().filter(|key| *key != "file") {
            self.problem(
                place,
                Some(key),
                format!("unknown key `{key}`: a {} takes only `file`", kind.noun()),
            );
        }
        match entry.get("file") {
            Some(Value::String(file)) if !file.trim().is_empty() => Some(file),
            Some(_) => {
                self.problem(
                    place,
                    Some("file"),
                    format!(
                        "must be a path (a string), relative to the rules file's folder: {}",
                        kind.format()
                    ),
                );
                None
            }
            None => {
                self.problem(
                    place,
                    Some("file"),
                    format!(
                        "missing: the path of the {} file ({})",
                        kind.noun(),
                        kind.format()
                    ),
                );
                None
            }
        }
    }

    /// Checks that every list and map read is declared, and notes that it is read.
    fn check_lookup_names<'a>(
        &mut self,
        place: &Place,
        field: &str,
        reads: impl IntoIterator<Item = Lookup<'a>>,
    ) -> bool {
        let mut known = true;
        for read in reads {
            let (kind, name) = match read {
                Lookup::List(name) => (Kind::List, name),
                Lookup::Map(name) => (Kind::Map, name),
            };
            let names = match kind {
                Kind::List => &mut self.list_names,
                Kind::Map => &mut self.map_names,
            };
            if let Some(read) = names.get_mut(name) {
                *read = true;
                continue;
            }
            let mut declared: Vec<&str> = names.keys().map(String::as_str).collect();
            declared.sort_unstable();
            let hint = if declared.is_empty() {
                format!("the file declares no [{}.NAME]", kind.root())
            } else {
                format!("declared: {}", declared.join(", "))
            };
            self.problem(
                place,
                Some(field),
                format!("unknown {} `{name}` ({hint})", kind.noun()),
            );
            known = false;
        }
        known
    }

    /// A list or map that no rule reads is likely a rule forgotten or misnamed.
    fn warn_unread_lookups(&mut self) {
        let mut unread: Vec<(Kind, String)> = Vec::new();
        for (kind, names) in [(Kind::List, &self.list_names), (Kind::Map, &self.map_names)] {
            let mut names: Vec<&String> = names
                .iter()
                .filter(|(_, read)| !**read)
                .map(|(name, _)| name)
                .collect();
            names.sort_unstable();
            unread.extend(names.into_iter().map(|name| (kind, name.clone())));
        }
        for (kind, name) in unread {
            self.warnings.push(Problem::new(
                &kind.place(&name),
                None,
                format!(
                    "declared, but no rule reads it: remove it, or use `{}.{name}` in a rule's \
                     `when` or a template",
                    kind.root()
                ),
            ));
        }
    }

    fn schedules(&mut self, table: &Table) -> Schedules {
        let mut schedules = Schedules::new();
        let entries = match table.get("schedules") {
            None => return schedules,
            Some(Value::Table(entries)) => entries,
            Some(_) => {
                self.problem(
                    &Place::File,
                    Some("schedules"),
                    "`schedules` must hold tables: write [schedules.NAME]",
                );
                return schedules;
            }
        };
        for (name, entry) in entries {
            self.schedule_names.insert(name.clone());
            let place = Place::Schedule(name.clone());
            let Value::Table(entry) = entry else {
                self.problem(&place, None, "must be a table: write [schedules.NAME]");
                continue;
            };
            for key in entry.keys() {
                if !["timezone", "open", "closed_on"].contains(&key.as_str()) {
                    self.problem(
                        &place,
                        Some(key),
                        format!("unknown key `{key}`: a schedule takes `timezone`, `open` and `closed_on`"),
                    );
                }
            }
            let timezone = match entry.get("timezone") {
                Some(Value::String(zone)) => zone.clone(),
                Some(_) => {
                    self.problem(
                        &place,
                        Some("timezone"),
                        "must be a string (an IANA time zone)",
                    );
                    continue;
                }
                None => {
                    self.problem(
                        &place,
                        Some("timezone"),
                        "missing: an IANA time zone such as \"America/New_York\"",
                    );
                    continue;
                }
            };
            let Some(open) = self.strings(&place, "open", entry.get("open"), true) else {
                continue;
            };
            let Some(closed_on) = self.strings(&place, "closed_on", entry.get("closed_on"), false)
            else {
                continue;
            };
            match Schedule::parse(&timezone, &open, &closed_on) {
                Ok(schedule) => {
                    schedules.insert(name.clone(), schedule);
                }
                Err(problems) => {
                    // The field (with the entry's index) is named once, by the problem's place.
                    for problem in problems {
                        self.problem(&place, Some(&problem.field_place()), problem.message);
                    }
                }
            }
        }
        schedules
    }

    /// A list of strings; `required` lists must be present.
    fn strings(
        &mut self,
        place: &Place,
        key: &str,
        value: Option<&Value>,
        required: bool,
    ) -> Option<Vec<String>> {
        match value {
            None if !required => Some(Vec::new()),
            None => {
                self.problem(place, Some(key), "missing: a list of strings");
                None
            }
            Some(Value::Array(items)) => {
                let strings: Option<Vec<String>> = items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect();
                if strings.is_none() {
                    self.problem(place, Some(key), "must be a list of strings");
                }
                strings
            }
            Some(_) => {
                self.problem(place, Some(key), "must be a list of strings");
                None
            }
        }
    }

    fn check_schedule_names<'a>(
        &mut self,
        place: &Place,
        field: &str,
        names: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        let mut known = true;
        for name in names {
            if !self.schedule_names.contains(name) {
                let mut declared: Vec<&str> =
                    self.schedule_names.iter().map(String::as_str).collect();
                declared.sort_unstable();
                let hint = if declared.is_empty() {
                    "the file declares no [schedules.NAME]".to_owned()
                } else {
                    format!("declared: {}", declared.join(", "))
                };
                self.problem(
                    place,
                    Some(field),
                    format!("unknown schedule `{name}` ({hint})"),
                );
                known = false;
            }
        }
        known
    }

    fn problem(&mut self, place: &Place, field: Option<&str>, message: impl Into<String>) {
        self.problems.push(Problem::new(place, field, message));
    }

    fn rules(&mut self, table: &Table) -> Vec<Rule> {
        let entries = match table.get("rules") {
            None => return Vec::new(),
            Some(Value::Array(entries)) => entries,
            Some(_) => {
                self.problem(
                    &Place::File,
                    Some("rules"),
                    "`rules` must be an array of tables: write each rule as [[rules]]",
                );
                return Vec::new();
            }
        };
        let mut names = HashSet::new();
        let mut rules = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let number = index + 1;
            let Value::Table(entry) = entry else {
                let place = Place::Rule { number, name: None };
                self.problem(&place, None, "each rule must be a table ([[rules]])");
                continue;
            };
            let name = match entry.get("name") {
                Some(Value::String(name)) if !name.trim().is_empty() => Some(name.clone()),
                _ => None,
            };
            let place = Place::Rule {
                number,
                name: name.clone(),
            };
            match (&name, entry.get("name")) {
                (Some(name), _) if !names.insert(name.clone()) => self.problem(
                    &place,
                    Some("name"),
                    "another rule already has this name; names must be unique",
                ),
                (Some(_), _) => {}
                (None, None) => self.problem(&place, Some("name"), "every rule needs a name"),
                (None, Some(_)) => self.problem(&place, Some("name"), "must be a non-empty string"),
            }
            let when = self.when(&place, entry.get("when"));
            let mode = self.mode(&place, entry.get("mode"));
            if let Some(rule) = self.rule_body(&place, entry, &["name", "when", "mode"]) {
                let (instruction, delivery, fields) = rule;
                let rule = Rule::new(
                    name.unwrap_or_default(),
                    when,
                    instruction,
                    delivery,
                    fields,
                );
                rules.push(rule.in_mode(mode.unwrap_or(Mode::Live)));
            }
        }
        rules
    }

    fn default(&mut self, table: &Table) -> Option<Rule> {
        let place = Place::Default;
        let entry = match table.get("default") {
            Some(Value::Table(entry)) => entry,
            Some(_) => {
                self.problem(&place, None, "`default` must be a table: write [default]");
                return None;
            }
            None => {
                self.problem(
                    &Place::File,
                    Some("default"),
                    "a [default] table is required: it answers when no rule does \
                     (for example: [default] instruction = \"accept\")",
                );
                return None;
            }
        };
        for key in ["name", "when", "mode"] {
            if entry.contains_key(key) {
                self.problem(
                    &place,
                    Some(key),
                    format!("[default] takes no `{key}`: it answers whenever no rule does"),
                );
            }
        }
        let (instruction, delivery, fields) =
            self.rule_body(&place, entry, &["name", "when", "mode"])?;
        if fields
            .iter()
            .any(|(_, value)| matches!(value, FieldValue::Text(t) if !t.is_static()))
        {
            self.problem(
                &place,
                None,
                "[default] cannot hold templates: it must answer every callback, even one \
                 that lacks the values a template needs",
            );
            return None;
        }
        Some(Rule::new(
            "default".to_owned(),
            None,
            instruction,
            delivery,
            fields,
        ))
    }

    /// `mode`: `live` (the default) or `shadow`.
    fn mode(&mut self, place: &Place, value: Option<&Value>) -> Option<Mode> {
        match value? {
            Value::String(mode) if mode == "live" => Some(Mode::Live),
            Value::String(mode) if mode == "shadow" => Some(Mode::Shadow),
            _ => {
                self.problem(
                    place,
                    Some("mode"),
                    "must be \"live\" (the default: the rule answers) or \"shadow\" (it is \
                     evaluated and counted, and never answers)",
                );
                None
            }
        }
    }

    fn when(&mut self, place: &Place, value: Option<&Value>) -> Option<Expr> {
        let source = match value? {
            Value::String(source) => source,
            _ => {
                self.problem(
                    place,
                    Some("when"),
                    "must be a string holding an expression",
                );
                return None;
            }
        };
        match expression::parse(source) {
            Ok(expr) => {
                let known = self.check_schedule_names(place, "when", expr.schedules());
                let known = self.check_lookup_names(place, "when", expr.lookups()) && known;
                known.then_some(expr)
            }
            Err(error) => {
                self.problems.push(
                    Problem::new(place, Some("when"), error.to_string())
                        .with_snippet(error.snippet(source)),
                );
                None
            }
        }
    }

    /// `instruction`, `delivery` and the instruction's fields; `skip` lists keys handled by
    /// the caller.
    fn rule_body(&mut self, place: &Place, entry: &Table, skip: &[&str]) -> Option<RuleBody> {
        let instruction = self.instruction(place, entry.get("instruction"));
        let delivery = self.delivery(place, entry.get("delivery"), instruction);
        let mut fields = Vec::new();
        let mut complete = instruction.is_some() && delivery.is_some();
        for (key, value) in entry {
            if skip.contains(&key.as_str()) || key == "instruction" || key == "delivery" {
                continue;
            }
            let Some(instruction) = instruction else {
                continue;
            };
            let Some(spec) = instruction.fields().iter().find(|spec| spec.key == key) else {
                self.problem(place, Some(key), unknown_key_message(instruction, key));
                complete = false;
                continue;
            };
            match self.field(place, spec, value) {
                Some(value) => fields.push((spec, value)),
                None => complete = false,
            }
        }
        if let Some(instruction) = instruction {
            for spec in instruction.fields().iter().filter(|s| s.required) {
                if !entry.contains_key(spec.key) {
                    self.problem(
                        place,
                        Some(spec.key),
                        format!("`{instruction}` needs `{}`", spec.key),
                    );
                    complete = false;
                }
            }
            if instruction == InstructionKind::Dequeue && !entry.contains_key("from") {
                self.warnings.push(Problem::new(
                    place,
                    Some("from"),
                    "dequeue without `from`: TaskRouter then uses the number the caller \
                     dialled, and fails with error 40132 when the Task did not come from \
                     <Enqueue>; set the caller ID explicitly",
                ));
            }
        }
        // Keep the file's order of keys out of the answer: the table's order is the spec's.
        fields.sort_by_key(|(spec, _)| {
            instruction
                .map(|i| i.fields().iter().position(|s| s == *spec))
                .unwrap_or_default()
        });
        match (complete, instruction, delivery) {
            (true, Some(instruction), Some(delivery)) => Some((instruction, delivery, fields)),
            _ => None,
        }
    }

    fn instruction(&mut self, place: &Place, value: Option<&Value>) -> Option<InstructionKind> {
        let names: Vec<&str> = InstructionKind::ALL.iter().map(|k| k.name()).collect();
        match value {
            None => self.problem(
                place,
                Some("instruction"),
                format!("missing: one of {}", quote_list(&names)),
            ),
            Some(Value::String(name)) => match InstructionKind::parse(name) {
                Some(kind) => return Some(kind),
                None => self.problem(
                    place,
                    Some("instruction"),
                    format!("`{name}` is not one of {}", quote_list(&names)),
                ),
            },
            Some(_) => self.problem(
                place,
                Some("instruction"),
                format!("must be a string: one of {}", quote_list(&names)),
            ),
        }
        None
    }

    fn delivery(
        &mut self,
        place: &Place,
        value: Option<&Value>,
        instruction: Option<InstructionKind>,
    ) -> Option<Delivery> {
        let delivery = match value {
            None => Delivery::Inline,
            Some(Value::String(name)) if name == "inline" => Delivery::Inline,
            Some(Value::String(name)) if name == "rest" => Delivery::Rest,
            Some(_) => {
                self.problem(place, Some("delivery"), "must be \"inline\" or \"rest\"");
                return None;
            }
        };
        if instruction == Some(InstructionKind::Conference) && delivery == Delivery::Inline {
            // TaskRouter documents conference only as a REST instruction; its callback JSON
            // keys are not documented, so it is never answered inline.
            self.problem(
                place,
                Some("delivery"),
                "`conference` is only delivered over REST: set delivery = \"rest\"",
            );
            return None;
        }
        if instruction == Some(InstructionKind::Defer) && delivery == Delivery::Rest {
            self.warnings.push(Problem::new(
                place,
                Some("delivery"),
                "`defer` sends nothing, so delivery = \"rest\" has no effect",
            ));
        }
        Some(delivery)
    }

    fn field(&mut self, place: &Place, spec: &FieldSpec, value: &Value) -> Option<FieldValue> {
        let key = Some(spec.key);
        match (spec.kind, value) {
            (FieldKind::Integer { min, max }, Value::Integer(n)) => {
                if (min..=max).contains(n) {
                    return Some(FieldValue::Integer(*n));
                }
                self.problem(place, key, format!("{n} is out of range: {min} to {max}"));
            }
            (FieldKind::Integer { min, max }, _) => self.problem(
                place,
                key,
                format!("must be a whole number from {min} to {max}"),
            ),
            (FieldKind::Bool, Value::Boolean(b)) => return Some(FieldValue::Bool(*b)),
            (FieldKind::Bool, _) => self.problem(place, key, "must be true or false"),
            (FieldKind::Events(allowed), Value::Array(items)) => {
                return self.events(place, spec, allowed, items);
            }
            (FieldKind::Events(allowed), _) => self.problem(
                place,
                key,
                format!("must be a list of events from {}", quote_list(allowed)),
            ),
            // `beep = true` reads naturally; the API takes the word.
            (FieldKind::Choice(options), Value::Boolean(b)) if options.contains(&"true") => {
                return Some(FieldValue::Text(Template::literal(b.to_string())));
            }
            (kind, Value::String(text)) => return self.text(place, spec, kind, text),
            (_, _) => self.problem(place, key, "must be a string"),
        }
        None
    }

    fn text(
        &mut self,
        place: &Place,
        spec: &FieldSpec,
        kind: FieldKind,
        text: &str,
    ) -> Option<FieldValue> {
        let template = match Template::parse(text) {
            Ok(template) => template,
            Err(error) => {
                self.problems.push(
                    Problem::new(place, Some(spec.key), format!("template: {error}"))
                        .with_snippet(error.snippet(text)),
                );
                return None;
            }
        };
        let schedules: Vec<&str> = template
            .paths()
            .iter()
            .filter_map(|p| p.schedule_name())
            .collect();
        let lookups: Vec<Lookup<'_>> = template.paths().iter().filter_map(|p| p.lookup()).collect();
        let known = self.check_lookup_names(place, spec.key, lookups);
        if !self.check_schedule_names(place, spec.key, schedules) || !known {
            return None;
        }
        if let Some(literal) = template.as_static()
            && let Some(reason) = check_text(kind, literal)
        {
            self.problem(place, Some(spec.key), reason);
            return None;
        }
        Some(FieldValue::Text(template))
    }

    fn events(
        &mut self,
        place: &Place,
        spec: &FieldSpec,
        allowed: &[&str],
        items: &[Value],
    ) -> Option<FieldValue> {
        if items.is_empty() {
            self.problem(
                place,
                Some(spec.key),
                "lists no event: leave the key out to use TaskRouter's default",
            );
            return None;
        }
        let mut events = Vec::new();
        for item in items {
            match item {
                Value::String(event) if allowed.contains(&event.as_str()) => {
                    if !events.contains(event) {
                        events.push(event.clone());
                    }
                }
                other => {
                    let shown = other
                        .as_str()
                        .map_or_else(|| other.to_string(), str::to_owned);
                    self.problem(
                        place,
                        Some(spec.key),
                        format!("`{shown}` is not one of {}", quote_list(allowed)),
                    );
                    return None;
                }
            }
        }
        Some(FieldValue::Events(events))
    }
}

/// A list or a map, for the words of their problems.
#[derive(Debug, Clone, Copy)]
enum Kind {
    List,
    Map,
}

impl Kind {
    fn root(self) -> &'static str {
        match self {
            Kind::List => "lists",
            Kind::Map => "maps",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::List => "list",
            Kind::Map => "map",
        }
    }

    fn format(self) -> &'static str {
        match self {
            Kind::List => "one value per line",
            Kind::Map => "CSV rows `key,value`",
        }
    }

    fn place(self, name: &str) -> Place {
        match self {
            Kind::List => Place::List(name.to_owned()),
            Kind::Map => Place::Map(name.to_owned()),
        }
    }
}

fn unknown_key_message(instruction: InstructionKind, key: &str) -> String {
    let keys: Vec<&str> = instruction.fields().iter().map(|s| s.key).collect();
    if keys.is_empty() {
        format!("unknown key `{key}`: `{instruction}` takes no other keys")
    } else {
        format!(
            "unknown key `{key}`: `{instruction}` takes {}",
            keys.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

#[cfg(test)]
mod tests;
