use super::*;

const RULES: &str = r#"
[[rules]]
name = "spanish"
when = 'task.language == "es"'
instruction = "dequeue"
from = "{{task.to}}"

[[rules]]
name = "vip"
when = "task.vip == true"
instruction = "accept"

[default]
instruction = "reject"
"#;

fn rules() -> RuleSet {
    crate::rules::file::parse(RULES).unwrap()
}

fn cases(text: &str) -> Vec<Case> {
    parse(text, &rules()).unwrap_or_else(|problems| panic!("{problems:#?}"))
}

/// Every problem as it is printed after `FILE:`: `LINE: case "NAME": field `x`: message`.
fn problems(text: &str) -> Vec<String> {
    parse(text, &rules())
        .err()
        .unwrap_or_else(|| panic!("expected problems in:\n{text}"))
        .iter()
        .map(|problem| format!("{}: {problem}", problem.line))
        .collect()
}

fn field<'a>(callback_form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    callback_form
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

#[test]
fn a_case_reads_into_its_callback_clock_and_expectations() {
    // Arrange
    let text = r#"
[[cases]]
name = "a Spanish caller"
at = "2026-12-01T10:00:00-05:00"
task = { language = "es", to = "+15005550006", tags = [1, 2.5, true], since = 2026-01-02 }
worker = { skills = ["billing"] }
params = { TaskAge = 12, TaskPriority = 1.5, TaskQueueSid = "WQ0123456789abcdef0123456789abcdef", Extra = true }
expect = { rule = "spanish", instruction = "dequeue", delivery = "inline", from = "+15005550006", timeout = 30, record = "do-not-record", status_callback_events = ["answered"], skipped = [], form = { DequeueFrom = "+1", DequeueTimeout = 30, DequeueStatusCallbackEvent = ["answered", "completed"] } }
"#;
    // Act
    let cases = cases(text);
    // Assert
    let [case] = cases.as_slice() else {
        panic!("{cases:#?}")
    };
    assert_eq!(case.name, "a Spanish caller");
    assert_eq!((case.number, case.line), (1, 2));
    assert_eq!(
        case.at,
        Some("2026-12-01T15:00:00Z".parse::<Timestamp>().unwrap())
    );
    let callback = &case.callback;
    assert_eq!(
        callback.task_attributes,
        serde_json::json!({
            "language": "es", "to": "+15005550006", "tags": [1, 2.5, true], "since": "2026-01-02"
        })
    );
    assert_eq!(
        callback.worker_attributes,
        serde_json::json!({"skills": ["billing"]})
    );
    assert_eq!(callback.task_age, Some(12.0));
    assert_eq!(callback.task_priority, Some(1.5));
    assert_eq!(
        callback.task_queue_sid.as_deref(),
        Some("WQ0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        case.params,
        [
            ("TaskAge".to_owned(), "12".to_owned()),
            ("TaskPriority".to_owned(), "1.5".to_owned()),
            (
                "TaskQueueSid".to_owned(),
                "WQ0123456789abcdef0123456789abcdef".to_owned()
            ),
            ("Extra".to_owned(), "true".to_owned()),
        ]
    );
    let expect = &case.expect;
    assert_eq!(
        expect.rule,
        Some(Named {
            name: "spanish".to_owned(),
            line: 8
        })
    );
    assert_eq!(expect.instruction, Some(InstructionKind::Dequeue));
    assert_eq!(expect.delivery, Some(Delivery::Inline));
    assert_eq!(expect.skipped, Some(Vec::new()));
    assert_eq!(
        expect.fields,
        [
            ("from".to_owned(), Expected::Text("+15005550006".to_owned())),
            ("timeout".to_owned(), Expected::Integer(30)),
            (
                "record".to_owned(),
                Expected::Text("do-not-record".to_owned())
            ),
            (
                "status_callback_events".to_owned(),
                Expected::List(vec!["answered".to_owned()])
            ),
        ]
    );
    assert_eq!(
        expect.form,
        [
            ("DequeueFrom".to_owned(), vec!["+1".to_owned()]),
            ("DequeueTimeout".to_owned(), vec!["30".to_owned()]),
            (
                "DequeueStatusCallbackEvent".to_owned(),
                vec!["answered".to_owned(), "completed".to_owned()]
            ),
        ]
    );
}

#[test]
fn params_keep_their_file_order() {
    let cases = cases(
        "[[cases]]\nname = \"n\"\nparams = { Zeta = \"z\", Alpha = 1 }\nexpect = { rule = \"vip\" }\n",
    );
    assert_eq!(
        cases[0].params,
        [
            ("Zeta".to_owned(), "z".to_owned()),
            ("Alpha".to_owned(), "1".to_owned())
        ]
    );
}

#[test]
fn absent_sids_are_filled_in_well_shaped_and_distinct_per_case() {
    // Arrange
    let text = r#"
[[cases]]
name = "one"
expect = { rule = "default" }

[[cases]]
name = "two"
params = { WorkerSid = "WK0123456789abcdef0123456789abcdef" }
expect = { rule = "default" }
"#;
    // Act
    let cases = cases(text);
    // Assert
    let first = &cases[0].callback;
    let second = &cases[1].callback;
    for (sid, prefix) in [
        (first.account_sid.as_deref().unwrap(), "AC"),
        (&first.workspace_sid, "WS"),
        (first.workflow_sid.as_deref().unwrap(), "WW"),
        (first.task_queue_sid.as_deref().unwrap(), "WQ"),
        (&first.worker_sid, "WK"),
        (&first.task_sid, "WT"),
        (&first.reservation_sid, "WR"),
    ] {
        assert!(crate::instruction::is_sid(sid, prefix), "{sid}");
    }
    assert_eq!(first.reservation_sid, format!("WR{}1", "0".repeat(31)));
    assert_eq!(second.reservation_sid, format!("WR{}2", "0".repeat(31)));
    // A SID the case gives is used as given.
    assert_eq!(second.worker_sid, "WK0123456789abcdef0123456789abcdef");
    // No attributes given: empty objects, as TaskRouter sends for none.
    assert_eq!(first.task_attributes, serde_json::json!({}));
    assert_eq!(first.worker_attributes, serde_json::json!({}));
    // Neither TaskAge nor TaskPriority is made up.
    assert_eq!((first.task_age, first.task_priority), (None, None));
}

#[test]
fn attributes_may_be_given_as_raw_json_parameters() {
    let cases = cases(
        "[[cases]]\nname = \"raw\"\nparams = { TaskAttributes = '{\"vip\":true}' }\n\
         expect = { rule = \"vip\" }\n",
    );
    assert_eq!(
        cases[0].callback.task_attributes,
        serde_json::json!({"vip": true})
    );
}

#[test]
fn at_takes_a_toml_offset_datetime_and_is_optional() {
    let cases = cases(
        "[[cases]]\nname = \"a\"\nat = 2026-12-24T15:00:00Z\nexpect = { rule = \"vip\" }\n\
         [[cases]]\nname = \"b\"\nexpect = { rule = \"vip\" }\n",
    );
    assert_eq!(
        cases[0].at,
        Some("2026-12-24T15:00:00Z".parse::<Timestamp>().unwrap())
    );
    assert_eq!(cases[1].at, None);
}

#[test]
fn sub_tables_under_a_case_belong_to_it() {
    let cases = cases(
        "[[cases]]\nname = \"a\"\n[cases.task]\nvip = true\n[cases.expect]\nrule = \"vip\"\n",
    );
    assert_eq!(
        cases[0].callback.task_attributes,
        serde_json::json!({"vip": true})
    );
    assert_eq!(cases[0].expect.rule.as_ref().unwrap().name, "vip");
}

#[test]
fn each_mistake_names_its_line_case_and_field() {
    // Each entry: a cases file, and the one problem it has, exactly as printed.
    let table: &[(&str, &str)] = &[
        (
            "[[cases]]\nname = \"a\"\ncolour = \"red\"\nexpect = { rule = \"vip\" }\n",
            "3: case \"a\": field `colour`: unknown key `colour`: a case takes `name`, `at`, \
             `task`, `worker`, `params` and `expect`",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { rule = \"vip\", colour = \"red\" }\n",
            "3: case \"a\": field `expect.colour`: unknown key `colour`: `expect` takes \
             `rule`, `instruction`, `delivery`, `skipped`, `shadow`, `form` and the fields of an \
             instruction by their rules-file names (`to`, `from`, `timeout`, …)",
        ),
        (
            "\n[[cases]]\nname = \"a\"\ntask = { vip = true }\n",
            "2: case \"a\": field `expect`: missing: say what the case expects, e.g. expect = \
             { rule = \"spanish-billing\" }",
        ),
        (
            "[[cases]]\nexpect = { rule = \"vip\" }\n",
            "1: case #1: field `name`: missing: every case needs a name, to be told apart in \
             the results",
        ),
        (
            "[[cases]]\nname = \"  \"\nexpect = { rule = \"vip\" }\n",
            "2: case #1: field `name`: must be a non-empty string",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = {}\n",
            "3: case \"a\": field `expect`: expects nothing, so the case could never fail: \
             name at least the rule",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = \"vip\"\n",
            "3: case \"a\": field `expect`: must be a table, e.g. expect = { rule = \
             \"spanish-billing\" }",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { rule = \"nope\" }\n",
            "3: case \"a\": field `expect.rule`: `nope` is no rule of the rules file: expected \
             \"spanish\", \"vip\" or \"default\"",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { rule = \"vip\", skipped = [\n\"spanish\",\n\"gone\"] }\n",
            "5: case \"a\": field `expect.skipped`: `gone` is no rule of the rules file: \
             expected \"spanish\", \"vip\" or \"default\"",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { skipped = [\"default\"] }\n",
            "3: case \"a\": field `expect.skipped`: the default is never skipped: it holds no \
             templates",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { skipped = \"spanish\" }\n",
            "3: case \"a\": field `expect.skipped`: must be a list of rule names",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { rule = 3 }\n",
            "3: case \"a\": field `expect.rule`: must be a rule's name, or \"default\"",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { instruction = \"Accept\" }\n",
            "3: case \"a\": field `expect.instruction`: must be one of \"accept\", \"reject\", \
             \"dequeue\", \"call\", \"redirect\", \"conference\" or \"defer\"",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { delivery = \"REST\" }\n",
            "3: case \"a\": field `expect.delivery`: must be \"inline\" or \"rest\"",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { instruction = \"reject\", to = \"x\" }\n",
            "3: case \"a\": field `expect.to`: the case expects `reject`, which has no `to`: it \
             has `activity_sid`",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { instruction = \"accept\", to = \"x\" }\n",
            "3: case \"a\": field `expect.to`: the case expects `accept`, which has no fields, \
             so no `to`",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { to = 1.5 }\n",
            "3: case \"a\": field `expect.to`: must be a string, a whole number, true/false or \
             a list of strings",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { status_callback_events = [1] }\n",
            "3: case \"a\": field `expect.status_callback_events`: must be a list of strings",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { form = { DequeueFrom = { a = 1 } } }\n",
            "3: case \"a\": field `expect.form.DequeueFrom`: must be a string, a whole number, \
             true/false, or a list of them (a repeated key)",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { form = \"DequeueFrom=x\" }\n",
            "3: case \"a\": field `expect.form`: must be a table of REST form fields, e.g. form \
             = { DequeueFrom = \"+15005550006\" }",
        ),
        (
            "[[cases]]\nname = \"a\"\nat = \"yesterday\"\nexpect = { rule = \"vip\" }\n",
            "3: case \"a\": field `at`: `yesterday` is not an RFC 3339 instant with an offset \
             (e.g. \"2026-12-01T10:00:00-05:00\" or \"2026-12-01T15:00:00Z\")",
        ),
        (
            "[[cases]]\nname = \"a\"\nat = 2026-12-24T15:00:00\nexpect = { rule = \"vip\" }\n",
            "3: case \"a\": field `at`: `2026-12-24T15:00:00` has no UTC offset, so it names no \
             instant: add one (e.g. \"2026-12-01T10:00:00-05:00\" or \"2026-12-01T15:00:00Z\")",
        ),
        (
            "[[cases]]\nname = \"a\"\nat = 5\nexpect = { rule = \"vip\" }\n",
            "3: case \"a\": field `at`: must be an RFC 3339 instant (e.g. \
             \"2026-12-01T10:00:00-05:00\" or \"2026-12-01T15:00:00Z\")",
        ),
        (
            "[[cases]]\nname = \"a\"\ntask = \"vip\"\nexpect = { rule = \"vip\" }\n",
            "3: case \"a\": field `task`: must be a table of attributes, e.g. task = { language \
             = \"es\" }",
        ),
        (
            "[[cases]]\nname = \"a\"\nworker = { score = nan }\nexpect = { rule = \"vip\" }\n",
            "3: case \"a\": field `worker.score`: JSON has no infinite or NaN numbers",
        ),
        (
            "[[cases]]\nname = \"a\"\nparams = { TaskAge = \"old\" }\nexpect = { rule = \"vip\" }\n",
            "3: case \"a\": field `params.TaskAge`: must be a number",
        ),
        (
            "[[cases]]\nname = \"a\"\nparams = { Tags = [\"x\"] }\nexpect = { rule = \"vip\" }\n",
            "3: case \"a\": field `params.Tags`: must be a string, a number or true/false: a \
             form field is one value",
        ),
        (
            "[[cases]]\nname = \"a\"\nparams = \"TaskAge=1\"\nexpect = { rule = \"vip\" }\n",
            "3: case \"a\": field `params`: must be a table of callback parameters, e.g. params \
             = { TaskAge = 12 }",
        ),
        (
            "[[cases]]\nname = \"a\"\nparams = { TaskAge = 99999999999999999999 }\nexpect = { rule = \"vip\" }\n",
            "3: case \"a\": field `params.TaskAge`: 99999999999999999999 is too large a number",
        ),
        (
            "[[cases]]\nname = \"a\"\ntask = { vip = true }\nparams = { TaskAttributes = \"{}\" }\n\
             expect = { rule = \"vip\" }\n",
            "1: case \"a\": field `params.TaskAttributes`: given twice: as `task` and as \
             `params.TaskAttributes`; keep one",
        ),
        (
            "[[cases]]\nname = \"a\"\nparams = { WorkerSid = \"\" }\nexpect = { rule = \"vip\" }\n",
            "1: case \"a\": field `params`: TaskRouter's callback would be refused (400): the \
             callback has no WorkerSid",
        ),
        (
            "[[cases]]\nname = \"a\"\nparams = { TaskAttributes = \"[1]\" }\nexpect = { rule = \"vip\" }\n",
            "1: case \"a\": field `params`: TaskRouter's callback would be refused (400): \
             TaskAttributes is not a JSON object: it is JSON, but not an object",
        ),
        (
            "[[cases]]\nname = \"a\"\nexpect = { rule = \"vip\" }\n[[cases]]\nname = \"a\"\n\
             expect = { rule = \"vip\" }\n",
            "4: case \"a\": field `name`: the case on line 1 has this name already; names must \
             be unique",
        ),
        (
            "cases = 1\n",
            "1: field `cases`: must be an array of tables: write each case as [[cases]]",
        ),
        (
            "cases = []\n",
            "1: field `cases`: holds no case: write each case as [[cases]] with a `name` and an \
             `expect`",
        ),
        (
            "# nothing here\n",
            "1: no cases: write each case as [[cases]] with a `name` and an `expect`",
        ),
        (
            "cases = [1]\n",
            "1: case #1: must be a table: write [[cases]]",
        ),
    ];
    for (text, expected) in table {
        assert_eq!(problems(text), [*expected], "for the cases file:\n{text}");
    }
}

#[test]
fn an_unknown_top_level_key_is_refused_beside_the_cases() {
    let found =
        problems("title = \"mine\"\n[[cases]]\nname = \"a\"\nexpect = { rule = \"vip\" }\n");
    assert_eq!(
        found,
        ["1: unknown key `title`: a cases file holds only [[cases]]"]
    );
}

#[test]
fn a_toml_syntax_error_names_its_line_and_column_with_a_caret() {
    let found = problems("[[cases]]\nname = \"a\"\nexpect = { rule = \"vip\" \n");
    assert_eq!(
        found,
        [format!(
            "3: not valid TOML at column 24: unclosed inline table, expected `}}`\n    \
             expect = {{ rule = \"vip\" \n    {}^",
            " ".repeat(23)
        )]
    );
}

#[test]
fn every_problem_is_reported_at_once_in_line_order() {
    // Arrange: three cases, a mistake in each, one found only against the rules.
    let text = r#"[[cases]]
name = "a"
expect = { rule = "missing" }

[[cases]]
name = "b"
expect = { colour = "red" }

[[cases]]
name = "c"
"#;
    // Act
    let found = problems(text);
    // Assert
    let lines: Vec<&str> = found
        .iter()
        .map(|problem| problem.split(':').next().unwrap())
        .collect();
    assert_eq!(lines, ["3", "7", "9"], "{found:#?}");
}

#[test]
fn a_cases_file_error_lists_file_line_case_and_field_like_check() {
    // Arrange
    let error = CasesError {
        file: PathBuf::from("rules.test.toml"),
        problems: parse(
            "[[cases]]\nname = \"a\"\nexpect = { rule = \"nope\" }\n",
            &rules(),
        )
        .unwrap_err(),
    };
    // Act
    let shown = error.to_string();
    // Assert
    assert_eq!(
        shown,
        "rules.test.toml: 1 problem\nrules.test.toml:3: case \"a\": field `expect.rule`: \
         `nope` is no rule of the rules file: expected \"spanish\", \"vip\" or \"default\""
    );
}

#[test]
fn a_file_that_cannot_be_read_is_named_by_its_absolute_path() {
    let error = load(Path::new("no-such-cases.toml"), &rules()).unwrap_err();
    let shown = error.to_string();
    assert!(error.file.is_absolute(), "{shown}");
    assert!(
        shown.ends_with("no-such-cases.toml: cannot read: No such file or directory (os error 2)"),
        "{shown}"
    );
    assert!(!shown.contains(".toml:0:"), "{shown}");
}

#[test]
fn form_fields_are_what_taskrouter_sends_with_the_sids_first() {
    let form = form_of(
        3,
        &serde_json::json!({"a": 1}),
        &serde_json::json!({}),
        &[("TaskAge".to_owned(), "4".to_owned())],
    );
    assert_eq!(field(&form, "TaskAttributes"), Some("{\"a\":1}"));
    assert_eq!(field(&form, "WorkerAttributes"), Some("{}"));
    assert_eq!(field(&form, "TaskAge"), Some("4"));
    assert_eq!(
        field(&form, "TaskSid"),
        Some(format!("WT{}3", "0".repeat(31)).as_str())
    );
    assert_eq!(form.len(), 10);
}
