//! The schema against the loader: the same keys for each instruction, the same values for
//! each key, and the same verdict on the same file.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::RULES_SCHEMA;
use crate::instruction::{FieldKind, FieldSpec, InstructionKind};
use crate::rules::file;

/// The keys a rule takes whatever its instruction (`[default]` refuses the first three).
const COMMON: [&str; 5] = ["name", "when", "mode", "instruction", "delivery"];

const DEFAULT: &str = "[default]\ninstruction = \"accept\"\n";

fn schema() -> Value {
    serde_json::from_str(RULES_SCHEMA).expect("schemas/rules.schema.json is not JSON")
}

fn body(schema: &Value) -> &Value {
    &schema["definitions"]["body"]
}

/// The `then` of the body's `if instruction == NAME` branch.
fn branch(schema: &Value, kind: InstructionKind) -> &Value {
    let branches: Vec<&Value> = body(schema)["allOf"]
        .as_array()
        .expect("definitions.body.allOf is a list of if/then branches")
        .iter()
        .filter(|branch| branch["if"]["properties"]["instruction"]["const"] == kind.name())
        .collect();
    assert_eq!(
        branches.len(),
        1,
        "`{kind}`: expected exactly one if/then branch in definitions.body.allOf"
    );
    &branches[0]["then"]
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn without_description(value: &Value) -> Value {
    let mut value = value.clone();
    if let Some(object) = value.as_object_mut() {
        object.remove("description");
    }
    value
}

/// What the schema says of a key of an instruction: the branch's own word for it when it
/// has one (`record` differs between instructions), else the body's.
fn field_schema<'a>(schema: &'a Value, kind: InstructionKind, key: &str) -> &'a Value {
    let own = &branch(schema, kind)["properties"][key];
    if own.is_null() {
        &body(schema)["properties"][key]
    } else {
        own
    }
}

/// The schema a field of this kind must have (descriptions aside).
fn expected(kind: FieldKind) -> Value {
    let template = json!({"$ref": "#/definitions/template"});
    match kind {
        FieldKind::Text => json!({"allOf": [{"$ref": "#/definitions/text"}]}),
        FieldKind::Url => json!({"allOf": [{"$ref": "#/definitions/url"}]}),
        FieldKind::Sid(prefix) => json!({"anyOf": [
            {"type": "string", "pattern": format!("^{prefix}[0-9a-fA-F]{{32}}$")},
            template,
        ]}),
        FieldKind::Choice(options) => {
            let mut values: Vec<Value> = options.iter().map(|option| json!(option)).collect();
            // The loader takes `beep = true` for "true" (file.rs, `Checker::field`).
            if options.contains(&"true") {
                values.extend([json!(true), json!(false)]);
            }
            json!({"anyOf": [{"enum": values}, template]})
        }
        FieldKind::Integer { min, max } => {
            json!({"type": "integer", "minimum": min, "maximum": max})
        }
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::Events(events) => {
            json!({"type": "array", "minItems": 1, "items": {"enum": events}})
        }
    }
}

#[test]
fn the_schema_is_a_draft_07_schema() {
    let schema = schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    if let Err(error) = jsonschema::draft7::meta::validate(&schema) {
        panic!("not a valid draft-07 schema: {error}");
    }
}

#[test]
fn the_schema_knows_every_instruction_and_no_other() {
    // Arrange
    let schema = schema();
    let names: Vec<&str> = InstructionKind::ALL
        .iter()
        .map(|kind| kind.name())
        .collect();
    // Act
    let allowed = strings(&body(&schema)["properties"]["instruction"]["enum"]);
    let branches: Vec<&str> = body(&schema)["allOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|branch| {
            branch["if"]["properties"]["instruction"]["const"]
                .as_str()
                .unwrap()
        })
        .collect();
    // Assert
    assert_eq!(allowed, names);
    assert_eq!(branches, names);
}

#[test]
fn each_instruction_takes_exactly_the_keys_of_its_field_specs() {
    let schema = schema();
    for kind in InstructionKind::ALL {
        let keys = strings(&branch(&schema, kind)["propertyNames"]["enum"]);
        let expected: Vec<&str> = COMMON
            .into_iter()
            .chain(kind.fields().iter().map(|spec| spec.key))
            .collect();
        assert_eq!(
            keys, expected,
            "`{kind}`: the keys its if/then branch allows differ from its FieldSpecs"
        );
    }
}

#[test]
fn the_body_describes_every_key_of_every_instruction_and_no_other() {
    // Arrange
    let schema = schema();
    let mut expected: BTreeSet<&str> = COMMON.into_iter().collect();
    for kind in InstructionKind::ALL {
        expected.extend(kind.fields().iter().map(|spec| spec.key));
    }
    // Act
    let properties = body(&schema)["properties"].as_object().unwrap();
    let keys: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
    // Assert
    assert_eq!(keys, expected);
    for (key, property) in properties {
        let description = property["description"].as_str().unwrap_or("");
        assert!(
            !description.is_empty(),
            "`{key}` has no description for editors to show"
        );
    }
}

#[test]
fn each_field_takes_the_values_its_spec_allows() {
    let schema = schema();
    for kind in InstructionKind::ALL {
        for spec in kind.fields() {
            let found = without_description(field_schema(&schema, kind, spec.key));
            assert_eq!(
                found,
                expected(spec.kind),
                "`{kind}`.`{}` ({:?})",
                spec.key,
                spec.kind
            );
        }
    }
}

#[test]
fn each_instruction_requires_the_keys_its_specs_require() {
    let schema = schema();
    for kind in InstructionKind::ALL {
        let then = branch(&schema, kind);
        let required: Vec<&str> = strings(&then["required"])
            .into_iter()
            .filter(|key| *key != "delivery")
            .collect();
        let expected: Vec<&str> = kind
            .fields()
            .iter()
            .filter(|spec| spec.required)
            .map(|spec| spec.key)
            .collect();
        assert_eq!(required, expected, "`{kind}`");
        // Only `conference` must be sent over REST (file.rs, `Checker::delivery`).
        let rest_only = kind == InstructionKind::Conference;
        assert_eq!(
            strings(&then["required"]).contains(&"delivery"),
            rest_only,
            "`{kind}`"
        );
        assert_eq!(then["properties"]["delivery"]["const"] == "rest", rest_only);
    }
}

// --- The same verdict as the loader ------------------------------------------------------

/// A folder holding the list and map files the cases name, removed at the end.
struct Folder(PathBuf);

impl Folder {
    fn new(test: &str) -> Folder {
        let path = std::env::temp_dir().join(format!(
            "assignment-router-schema-{test}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("vip.txt"), "+15005550006\n").unwrap();
        std::fs::write(
            path.join("managers.csv"),
            "key,value\n+15005550006,client:alice\n",
        )
        .unwrap();
        Folder(path)
    }

    /// Whether the loader takes `text` as a rules file in this folder (else its problems).
    fn load(&self, text: &str) -> Result<(), String> {
        let path = self.0.join("rules.toml");
        std::fs::write(&path, text).unwrap();
        file::load(&path)
            .map(|_| ())
            .map_err(|error| error.to_string())
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether the schema takes `text` (else what it says).
fn validate(validator: &jsonschema::Validator, text: &str) -> Result<(), String> {
    let table: toml::Table = text.parse().unwrap();
    let instance = serde_json::to_value(table).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// A rules file of one rule with this body, and the default.
fn rule(body: &str) -> String {
    format!("[[rules]]\nname = \"r\"\n{body}\n\n{DEFAULT}")
}

/// A rule of this instruction with every key it requires (a valid value), then `extra`.
fn rule_of(kind: InstructionKind, extra: &str) -> String {
    let mut body = format!("instruction = \"{kind}\"\n");
    if kind == InstructionKind::Conference {
        body.push_str("delivery = \"rest\"\n");
    }
    let extra_keys: Vec<&str> = extra
        .lines()
        .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim()))
        .collect();
    for spec in kind.fields().iter().filter(|spec| spec.required) {
        if !extra_keys.contains(&spec.key) {
            body.push_str(&format!("{} = {}\n", spec.key, good_values(spec)[0]));
        }
    }
    body.push_str(extra);
    rule(&body)
}

/// TOML values the loader takes for this field.
fn good_values(spec: &FieldSpec) -> Vec<String> {
    let quoted = |text: &str| format!("\"{text}\"");
    match spec.kind {
        FieldKind::Text => vec![
            quoted("+15005550006"),
            quoted("client:{{worker.contact_uri}}"),
        ],
        FieldKind::Sid(prefix) => vec![
            quoted(&format!("{prefix}0123456789abcdef0123456789ABCDEF")),
            quoted("{{task.sid}}"),
        ],
        FieldKind::Url => vec![
            quoted("https://example.com/twiml?a=1"),
            quoted("http://127.0.0.1:8080/twiml"),
            quoted("HTTPS://example.com"),
            quoted("{{task.url}}"),
            quoted("https://example.com/twiml?id={{task.id}}"),
        ],
        FieldKind::Choice(options) => {
            let mut values: Vec<String> = options.iter().map(|option| quoted(option)).collect();
            values.push(quoted("{{task.choice}}"));
            if options.contains(&"true") {
                values.extend(["true".to_owned(), "false".to_owned()]);
            }
            values
        }
        FieldKind::Integer { min, max } => {
            vec![
                min.to_string(),
                max.to_string(),
                ((min + max) / 2).to_string(),
            ]
        }
        FieldKind::Bool => vec!["true".to_owned(), "false".to_owned()],
        FieldKind::Events(events) => vec![
            format!("[{}]", quoted(events[0])),
            format!(
                "[{}]",
                events
                    .iter()
                    .map(|e| quoted(e))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!("[{0}, {0}]", quoted(events[0])),
        ],
    }
}

/// TOML values the loader refuses for this field.
fn bad_values(spec: &FieldSpec) -> Vec<String> {
    let quoted = |text: &str| format!("\"{text}\"");
    match spec.kind {
        FieldKind::Text => vec![quoted(""), "5".to_owned(), "true".to_owned()],
        FieldKind::Sid(prefix) => vec![
            quoted(&format!("{prefix}0123")),
            quoted(&format!("{prefix}0123456789abcdef0123456789abcdeg")),
            quoted("ZZ0123456789abcdef0123456789abcdef"),
            "5".to_owned(),
        ],
        FieldKind::Url => vec![
            quoted("ftp://example.com/twiml"),
            quoted("example.com/twiml"),
            quoted("https://"),
            quoted(""),
            "5".to_owned(),
        ],
        FieldKind::Choice(options) => {
            let mut values = vec![quoted("bogus"), "5".to_owned()];
            if !options.contains(&"true") {
                values.push("true".to_owned());
            }
            values
        }
        FieldKind::Integer { min, max } => vec![
            (min - 1).to_string(),
            (max + 1).to_string(),
            quoted(&min.to_string()),
            "true".to_owned(),
        ],
        FieldKind::Bool => vec![quoted("true"), "1".to_owned()],
        FieldKind::Events(events) => vec![
            "[]".to_owned(),
            "[\"bogus\"]".to_owned(),
            quoted(events[0]),
            "[5]".to_owned(),
        ],
    }
}

/// (what, the verdict both must reach, the file).
fn cases() -> Vec<(String, bool, String)> {
    let mut cases: Vec<(String, bool, String)> = Vec::new();
    let mut case = |what: &str, valid: bool, text: String| {
        cases.push((what.to_owned(), valid, text));
    };

    // Every value of every field, good and bad, in a rule of its instruction.
    for kind in InstructionKind::ALL {
        case(&format!("a bare `{kind}`"), true, rule_of(kind, ""));
        for spec in kind.fields() {
            for value in good_values(spec) {
                let what = format!("`{kind}` with {} = {value}", spec.key);
                case(
                    &what,
                    true,
                    rule_of(kind, &format!("{} = {value}\n", spec.key)),
                );
            }
            for value in bad_values(spec) {
                let what = format!("`{kind}` with {} = {value}", spec.key);
                case(
                    &what,
                    false,
                    rule_of(kind, &format!("{} = {value}\n", spec.key)),
                );
            }
        }
        for spec in kind.fields().iter().filter(|spec| spec.required) {
            let text = rule_of(kind, "").replace(&format!("\n{} = ", spec.key), "\n# = ");
            case(&format!("`{kind}` without {}", spec.key), false, text);
        }
        // A key of another instruction, or of none.
        let foreign = InstructionKind::ALL
            .iter()
            .flat_map(|other| other.fields())
            .find(|spec| !kind.fields().iter().any(|own| own.key == spec.key))
            .unwrap();
        let value = &good_values(foreign)[0];
        let text = rule_of(kind, &format!("{} = {value}\n", foreign.key));
        case(&format!("`{kind}` with {}", foreign.key), false, text);
        case(
            &format!("`{kind}` with an unknown key"),
            false,
            rule_of(kind, "colour = \"blue\"\n"),
        );
    }

    // The keys every rule has.
    case(
        "a rule without a name",
        false,
        "[[rules]]\ninstruction = \"accept\"\n\n[default]\ninstruction = \"accept\"\n".to_owned(),
    );
    case(
        "an empty name",
        false,
        rule("instruction = \"accept\"").replace("name = \"r\"", "name = \"\""),
    );
    case(
        "a blank name",
        false,
        rule("instruction = \"accept\"").replace("name = \"r\"", "name = \"  \""),
    );
    case(
        "a name that is a number",
        false,
        rule("instruction = \"accept\"").replace("name = \"r\"", "name = 5"),
    );
    case(
        "a `when`",
        true,
        rule("when = 'task.vip == true'\ninstruction = \"accept\""),
    );
    case(
        "an empty `when`",
        false,
        rule("when = ''\ninstruction = \"accept\""),
    );
    case(
        "a `when` that is not a string",
        false,
        rule("when = true\ninstruction = \"accept\""),
    );
    case("a rule without an instruction", false, rule("to = \"x\""));
    case(
        "an unknown instruction",
        false,
        rule("instruction = \"acept\""),
    );
    case(
        "an instruction that is not a string",
        false,
        rule("instruction = 1"),
    );
    case(
        "delivery = \"rest\"",
        true,
        rule("instruction = \"accept\"\ndelivery = \"rest\""),
    );
    case(
        "delivery = \"inline\"",
        true,
        rule("instruction = \"accept\"\ndelivery = \"inline\""),
    );
    case(
        "an unknown delivery",
        false,
        rule("instruction = \"accept\"\ndelivery = \"REST\""),
    );
    case(
        "`defer` over REST (a warning only)",
        true,
        rule("instruction = \"defer\"\ndelivery = \"rest\""),
    );
    case(
        "`conference` without delivery",
        false,
        rule("instruction = \"conference\""),
    );
    case(
        "`conference` inline",
        false,
        rule("instruction = \"conference\"\ndelivery = \"inline\""),
    );
    case(
        "`dequeue` without `from` (a warning only)",
        true,
        rule("instruction = \"dequeue\""),
    );
    case("no rules at all", true, DEFAULT.to_owned());
    case(
        "an empty list of rules",
        true,
        format!("rules = []\n{DEFAULT}"),
    );
    case(
        "rules that are not tables",
        false,
        format!("rules = [1]\n{DEFAULT}"),
    );
    case(
        "rules that are not a list",
        false,
        format!("rules = 1\n{DEFAULT}"),
    );

    // [default]
    case(
        "no [default]",
        false,
        "[[rules]]\nname = \"r\"\ninstruction = \"accept\"\n".to_owned(),
    );
    case(
        "[default] that is not a table",
        false,
        "default = \"accept\"\n".to_owned(),
    );
    case(
        "[default] with a name",
        false,
        format!("{DEFAULT}name = \"d\"\n"),
    );
    case(
        "[default] with a `when`",
        false,
        format!("{DEFAULT}when = 'true'\n"),
    );
    case(
        "[default] without an instruction",
        false,
        "[default]\ndelivery = \"rest\"\n".to_owned(),
    );
    case(
        "[default] with a template",
        false,
        "[default]\ninstruction = \"dequeue\"\nfrom = \"{{task.to}}\"\n".to_owned(),
    );
    case("[default] with literal values", true, "[default]\ninstruction = \"dequeue\"\nfrom = \"+15005550006\"\ntimeout = 20\nstatus_callback_events = [\"answered\"]\n".to_owned());
    case(
        "[default] as a conference",
        true,
        "[default]\ninstruction = \"conference\"\ndelivery = \"rest\"\nbeep = true\n".to_owned(),
    );
    case(
        "[default] with a key of another instruction",
        false,
        format!("{DEFAULT}activity_sid = \"WA0123456789abcdef0123456789abcdef\"\n"),
    );

    // The file as a whole.
    case(
        "an unknown table",
        false,
        format!("{DEFAULT}\n[settings]\nx = 1\n"),
    );
    case(
        "an unknown top-level key",
        false,
        format!("colour = \"blue\"\n{DEFAULT}"),
    );

    // [schedules.NAME]
    let schedule = |body: &str| format!("{DEFAULT}\n[schedules.business_hours]\n{body}\n");
    case(
        "a schedule",
        true,
        schedule(
            "timezone = \"America/New_York\"\nopen = [\"mon-fri 09:00-17:00\", \"sat 10:00-14:00\"]\nclosed_on = [\"2026-12-25\"]",
        ),
    );
    case(
        "windows in any case, lists, wrapping and midnight",
        true,
        schedule(
            "timezone = \"UTC\"\nopen = [\"Mon-FRI 09:00-17:00\", \"mon,wed,fri-sat 00:00-24:00\", \"fri-mon 22:00-02:00\", \" sun  08:00-09:30 \"]",
        ),
    );
    case(
        "a schedule without a time zone",
        false,
        schedule("open = [\"mon 09:00-17:00\"]"),
    );
    case(
        "a time zone that is not a string",
        false,
        schedule("timezone = 5\nopen = [\"mon 09:00-17:00\"]"),
    );
    case(
        "an empty time zone",
        false,
        schedule("timezone = \" \"\nopen = [\"mon 09:00-17:00\"]"),
    );
    case(
        "a schedule without windows",
        false,
        schedule("timezone = \"UTC\""),
    );
    case(
        "an empty list of windows",
        false,
        schedule("timezone = \"UTC\"\nopen = []"),
    );
    case(
        "windows that are not a list",
        false,
        schedule("timezone = \"UTC\"\nopen = \"mon 09:00-17:00\""),
    );
    case(
        "an hour of one digit",
        false,
        schedule("timezone = \"UTC\"\nopen = [\"mon 9:00-17:00\"]"),
    );
    case(
        "a day that is not a day",
        false,
        schedule("timezone = \"UTC\"\nopen = [\"funday 09:00-17:00\"]"),
    );
    case(
        "a window without days",
        false,
        schedule("timezone = \"UTC\"\nopen = [\"09:00-17:00\"]"),
    );
    case(
        "a window starting at 24:00",
        false,
        schedule("timezone = \"UTC\"\nopen = [\"mon 24:00-02:00\"]"),
    );
    case(
        "a time past 24:00",
        false,
        schedule("timezone = \"UTC\"\nopen = [\"mon 09:00-24:30\"]"),
    );
    case(
        "a window that is a number",
        false,
        schedule("timezone = \"UTC\"\nopen = [9]"),
    );
    case(
        "a closed date out of shape",
        false,
        schedule("timezone = \"UTC\"\nopen = [\"mon 09:00-17:00\"]\nclosed_on = [\"25/12/2026\"]"),
    );
    case(
        "a closed date in month 13",
        false,
        schedule("timezone = \"UTC\"\nopen = [\"mon 09:00-17:00\"]\nclosed_on = [\"2026-13-01\"]"),
    );
    case(
        "closed dates that are not a list",
        false,
        schedule("timezone = \"UTC\"\nopen = [\"mon 09:00-17:00\"]\nclosed_on = \"2026-12-25\""),
    );
    case(
        "an unknown key in a schedule",
        false,
        schedule("timezone = \"UTC\"\nopen = [\"mon 09:00-17:00\"]\nholidays = []"),
    );
    case(
        "schedules that are not tables",
        false,
        format!("{DEFAULT}\n[schedules]\nbusiness_hours = 1\n"),
    );

    // [lists.NAME] and [maps.NAME]
    for (root, file) in [("lists", "vip.txt"), ("maps", "managers.csv")] {
        let read = if root == "lists" {
            "when = 'task.from IN lists.x'"
        } else {
            "when = 'maps.x[task.from] != null'"
        };
        let with = |table: &str| {
            format!(
                "[[rules]]\nname = \"r\"\n{read}\ninstruction = \"accept\"\n\n{DEFAULT}\n{table}\n"
            )
        };
        case(
            &format!("[{root}.x]"),
            true,
            with(&format!("[{root}.x]\nfile = \"{file}\"")),
        );
        case(
            &format!("[{root}.x] without file"),
            false,
            with(&format!("[{root}.x]")),
        );
        case(
            &format!("[{root}.x] with another key"),
            false,
            with(&format!("[{root}.x]\nfile = \"{file}\"\nformat = \"csv\"")),
        );
        case(
            &format!("[{root}.x] with a file that is not a string"),
            false,
            with(&format!("[{root}.x]\nfile = 5")),
        );
        case(
            &format!("[{root}.x] with an empty file"),
            false,
            with(&format!("[{root}.x]\nfile = \" \"")),
        );
        case(
            &format!("{root}.x that is not a table"),
            false,
            with(&format!("[{root}]\nx = \"{file}\"")),
        );
        case(
            &format!("{root} that is not a table"),
            false,
            format!("{root} = 1\n{DEFAULT}"),
        );
    }

    // mode
    case(
        "mode = \"shadow\"",
        true,
        rule("instruction = \"accept\"\nmode = \"shadow\""),
    );
    case(
        "mode = \"live\"",
        true,
        rule("instruction = \"accept\"\nmode = \"live\""),
    );
    case(
        "an unknown mode",
        false,
        rule("instruction = \"accept\"\nmode = \"dry-run\""),
    );
    case(
        "a mode that is not a string",
        false,
        rule("instruction = \"accept\"\nmode = true"),
    );
    case(
        "[default] with a mode",
        false,
        format!("{DEFAULT}mode = \"shadow\"\n"),
    );

    cases
}

#[test]
fn the_schema_and_the_loader_agree_on_every_case() {
    // Arrange
    let validator = jsonschema::draft7::new(&schema()).unwrap();
    let folder = Folder::new("agree");
    let cases = cases();
    // Act
    let mut disagreements = Vec::new();
    for (what, valid, text) in &cases {
        let loader = folder.load(text);
        let schema = validate(&validator, text);
        if loader.is_ok() != *valid || schema.is_ok() != *valid {
            disagreements.push(format!(
                "{what}: expected {}\n  loader: {loader:?}\n  schema: {schema:?}\n  file:\n{text}",
                if *valid { "valid" } else { "refused" }
            ));
        }
    }
    // Assert
    assert!(cases.len() > 300, "only {} cases", cases.len());
    assert!(
        disagreements.is_empty(),
        "{} of {} cases:\n\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n\n")
    );
}

#[test]
fn what_only_check_catches_passes_the_schema_and_fails_the_loader() {
    // A schema checks shapes; these need the loader's own parsers, a time-zone database,
    // the file system or the whole file at once. `check` reports them.
    let schedule = |open: &str, extra: &str| {
        format!("{DEFAULT}\n[schedules.hours]\ntimezone = \"UTC\"\nopen = [\"{open}\"]\n{extra}\n")
    };
    let cases = [
        (
            "two rules of one name",
            format!(
                "[[rules]]\nname = \"a\"\ninstruction = \"accept\"\n\n{}",
                rule("instruction = \"accept\"").replace("\"r\"", "\"a\"")
            ),
        ),
        (
            "a `when` that does not parse",
            rule("when = 'task.x =='\ninstruction = \"accept\""),
        ),
        (
            "an undeclared schedule",
            rule("when = 'schedule.nope'\ninstruction = \"accept\""),
        ),
        (
            "an unclosed template",
            rule("instruction = \"dequeue\"\nto = \"{{task.to\""),
        ),
        (
            "a time zone that does not exist",
            format!(
                "{DEFAULT}\n[schedules.hours]\ntimezone = \"Mars/Olympus\"\nopen = [\"mon 09:00-17:00\"]\n"
            ),
        ),
        (
            "30 February",
            schedule("mon 09:00-17:00", "closed_on = [\"2026-02-30\"]"),
        ),
        ("a window of no length", schedule("mon 09:00-09:00", "")),
        ("a range of one day", schedule("mon-mon 09:00-17:00", "")),
        (
            "a list file that does not exist",
            format!(
                "{}\n[lists.x]\nfile = \"missing.txt\"\n",
                rule("when = 'task.from IN lists.x'\ninstruction = \"accept\"")
            ),
        ),
        // JSON Schema's "integer" takes 30.0; TOML keeps it a float, which the loader refuses.
        (
            "a timeout written as a float",
            rule("instruction = \"dequeue\"\ntimeout = 30.0"),
        ),
    ];
    let validator = jsonschema::draft7::new(&schema()).unwrap();
    let folder = Folder::new("check-only");
    for (what, text) in cases {
        assert_eq!(validate(&validator, &text), Ok(()), "{what}:\n{text}");
        assert!(
            folder.load(&text).is_err(),
            "{what}: the loader took it:\n{text}"
        );
    }
}

#[test]
fn what_expressions_cannot_read_fails_the_schema_though_the_loader_takes_it() {
    // `schedule.NAME`, `lists.NAME` and `maps.NAME` read only names of letters, digits and
    // `_`: a name with a `-` is declared but can never be used, so the schema says so early.
    let cases = [
        format!(
            "{DEFAULT}\n[schedules.business-hours]\ntimezone = \"UTC\"\nopen = [\"mon 09:00-17:00\"]\n"
        ),
        format!("{DEFAULT}\n[lists.vip-numbers]\nfile = \"vip.txt\"\n"),
    ];
    let validator = jsonschema::draft7::new(&schema()).unwrap();
    let folder = Folder::new("names");
    for text in cases {
        assert!(validate(&validator, &text).is_err(), "{text}");
        assert!(folder.load(&text).is_ok(), "{text}");
    }
}
