use super::*;

fn problems(text: &str) -> Vec<String> {
    parse(text)
        .err()
        .unwrap_or_else(|| panic!("expected problems in:\n{text}"))
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn assert_problem(text: &str, expected: &str) {
    let found = problems(text);
    assert!(
        found.iter().any(|p| p.contains(expected)),
        "expected a problem containing {expected:?}, found {found:#?}"
    );
}

const DEFAULT: &str = "\n[default]\ninstruction = \"accept\"\n";

fn with_rule(body: &str) -> String {
    format!("[[rules]]\nname = \"r\"\n{body}\n{DEFAULT}")
}

#[test]
fn a_good_file_loads_with_its_rules_in_order() {
    let rules = parse(&format!(
        "[[rules]]\nname = \"a\"\nwhen = 'task.x == 1'\ninstruction = \"reject\"\n\
             [[rules]]\nname = \"b\"\ninstruction = \"defer\"\n{DEFAULT}"
    ))
    .unwrap();
    let names: Vec<&str> = rules.rules().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "default"]);
}

#[test]
fn each_load_time_check_names_its_rule_and_field() {
    let cases = [
        (
            "instruction = \"accept\"\nactivity_sid = \"WA1\"",
            "rule \"r\", field `activity_sid`: unknown key",
        ),
        (
            "instruction = \"call\"\nurl = \"https://x.example\"",
            "field `from`: `call` needs `from`",
        ),
        (
            "instruction = \"redirect\"\nurl = \"https://x.example\"",
            "field `call_sid`: `redirect` needs `call_sid`",
        ),
        (
            "instruction = \"reject\"\nactivity_sid = \"WA123\"",
            "field `activity_sid`: `WA123` is not a SID",
        ),
        (
            "instruction = \"call\"\nfrom = \"+1\"\nurl = \"ftp://x\"",
            "field `url`: `ftp://x` is not an absolute",
        ),
        (
            "instruction = \"dequeue\"\nrecord = \"always\"",
            "field `record`: `always` is not one of",
        ),
        (
            "instruction = \"dequeue\"\ntimeout = 0",
            "field `timeout`: 0 is out of range: 1 to 999",
        ),
        (
            "instruction = \"dequeue\"\ntimeout = \"30\"",
            "field `timeout`: must be a whole number",
        ),
        (
            "instruction = \"call\"\nfrom = \"+1\"\nurl = \"https://x.example\"\naccept = \"yes\"",
            "field `accept`: must be true or false",
        ),
        (
            "instruction = \"dequeue\"\nstatus_callback_events = [\"done\"]",
            "`done` is not one of",
        ),
        (
            "instruction = \"dequeue\"\nstatus_callback_events = []",
            "lists no event",
        ),
        (
            "instruction = \"conference\"\ndelivery = \"rest\"\nmax_participants = 1",
            "1 is out of range: 2 to 250",
        ),
        (
            "instruction = \"conference\"\ndelivery = \"rest\"\nregion = \"mars\"",
            "`mars` is not one of",
        ),
        (
            "instruction = \"conference\"",
            "`conference` is only delivered over REST",
        ),
        (
            "instruction = \"accept\"\ndelivery = \"email\"",
            "must be \"inline\" or \"rest\"",
        ),
        (
            "instruction = \"acept\"",
            "field `instruction`: `acept` is not one of",
        ),
        (
            "when = 'task.x =='\ninstruction = \"accept\"",
            "field `when`: line 1, column 10",
        ),
        (
            "when = 'languge == \"es\"'\ninstruction = \"accept\"",
            "unknown name `languge`",
        ),
        (
            "when = 'schedule.open'\ninstruction = \"accept\"",
            "unknown schedule `open`",
        ),
        (
            "instruction = \"dequeue\"\nfrom = \"{{task.from\"",
            "field `from`: template:",
        ),
    ];
    for (body, expected) in cases {
        assert_problem(&with_rule(body), expected);
    }
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let text = format!(
        "[[rules]]\nname = \"a\"\ninstruction = \"acept\"\n\
             [[rules]]\nname = \"a\"\ninstruction = \"dequeue\"\ntimeout = 5000\nfoo = 1\n\
             [[rules]]\ninstruction = \"accept\"\n{DEFAULT}\n[extra]\n"
    );
    let found = problems(&text);
    assert_eq!(found.len(), 6, "{found:#?}");
}

#[test]
fn the_default_is_required_and_takes_no_name_when_or_templates() {
    assert_problem(
        "[[rules]]\nname = \"a\"\ninstruction = \"accept\"\n",
        "[default] table is required",
    );
    assert_problem(
        "[default]\nname = \"d\"\nwhen = '1 == 1'\ninstruction = \"accept\"\n",
        "[default], field `when`: [default] takes no `when`",
    );
    assert_problem(
        "[default]\ninstruction = \"dequeue\"\nfrom = \"{{task.from}}\"\n",
        "[default] cannot hold templates",
    );
}

#[test]
fn rule_names_must_be_unique() {
    let text = format!(
        "[[rules]]\nname = \"a\"\ninstruction = \"accept\"\n\
             [[rules]]\nname = \"a\"\ninstruction = \"defer\"\n{DEFAULT}"
    );
    assert_problem(
        &text,
        "rule \"a\", field `name`: another rule already has this name",
    );
}

#[test]
fn toml_syntax_errors_give_the_line_and_column() {
    assert_problem("[[rules]\nname = 1\n", "not valid TOML at line 1");
}

#[test]
fn a_dequeue_without_from_loads_with_a_warning() {
    let rules = parse(&with_rule("instruction = \"dequeue\"")).unwrap();
    assert_eq!(rules.warnings.len(), 1);
    assert!(
        rules.warnings[0]
            .to_string()
            .contains("dequeue without `from`")
    );
}

#[test]
fn a_literal_beep_may_be_a_boolean() {
    let rules = parse(&with_rule(
        "instruction = \"conference\"\ndelivery = \"rest\"\nbeep = false",
    ))
    .unwrap();
    assert!(rules.uses_rest());
}

#[test]
fn a_schedule_problem_names_its_field_once() {
    let found = problems(
        "[default]\ninstruction = \"accept\"\n\n[schedules.b]\ntimezone = \"Mars/Olympus\"\n\
         open = [\"mon 09:00-17:00\", \"fri 25:00-02:00\"]\n",
    );
    assert_eq!(
        found,
        [
            "schedule \"b\", field `timezone`: unknown time zone `Mars/Olympus`: use an IANA \
             name such as America/New_York",
            "schedule \"b\", field `open[1]`: `fri 25:00-02:00`: 25:00 is not a time (HH:MM, \
             00:00 to 24:00)",
        ]
    );
}
