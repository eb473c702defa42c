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

/// A folder of its own under the system's temp folder, with these files in it.
fn folder_with(files: &[(&str, &str)]) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let folder = std::env::temp_dir().join(format!(
        "assignment-router-rules-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&folder).unwrap();
    for (name, text) in files {
        std::fs::write(folder.join(name), text).unwrap();
    }
    folder
}

fn callback(task: &str) -> crate::callback::AssignmentCallback {
    use crate::callback::verified::Verified;
    let pairs = vec![
        ("AccountSid".to_owned(), format!("AC{}", "0".repeat(32))),
        ("WorkspaceSid".to_owned(), format!("WS{}", "0".repeat(32))),
        ("TaskSid".to_owned(), format!("WT{}", "0".repeat(32))),
        ("WorkerSid".to_owned(), format!("WK{}", "0".repeat(32))),
        ("ReservationSid".to_owned(), format!("WR{}", "0".repeat(32))),
        ("TaskAttributes".to_owned(), task.to_owned()),
        ("WorkerAttributes".to_owned(), "{}".to_owned()),
    ];
    crate::callback::AssignmentCallback::from_verified(Verified::unchecked(pairs)).unwrap()
}

const VIP_RULES: &str = r#"
[lists.vip_numbers]
file = "vip.txt"

[maps.account_manager]
file = "managers.csv"

[[rules]]
name = "vip-to-manager"
when = 'task.from IN lists.vip_numbers AND maps.account_manager[task.from] != null'
instruction = "dequeue"
from = "{{task.to}}"
to = "{{maps.account_manager[task.from]}}"

[[rules]]
name = "vip"
when = 'lists.vip_numbers HAS task.from'
instruction = "reject"
activity_sid = "WA0123456789abcdef0123456789abcdef"

[default]
instruction = "accept"
"#;

#[test]
fn lists_and_maps_are_read_from_files_beside_the_rules() {
    let folder = folder_with(&[
        ("vip.txt", "# VIPs\n+15005550006\n+15005550007\n"),
        ("managers.csv", "key,value\n+15005550006,client:alice\n"),
    ]);
    let rules = parse_in(VIP_RULES, &folder).unwrap();
    assert!(rules.warnings.is_empty(), "{:?}", rules.warnings);
    assert_eq!(
        rules.files(),
        [folder.join("vip.txt"), folder.join("managers.csv")]
    );
    let now = jiff::Timestamp::now();

    let managed = callback(r#"{"from": "+15005550006", "to": "+15005550100"}"#);
    let decision = rules.decide(&managed, now);
    assert_eq!(decision.rule, "vip-to-manager");
    let answer: serde_json::Value = serde_json::from_slice(&decision.answer).unwrap();
    assert_eq!(answer["to"], "client:alice");

    let unmanaged = callback(r#"{"from": "+15005550007", "to": "+15005550100"}"#);
    assert_eq!(rules.decide(&unmanaged, now).rule, "vip");

    let stranger = callback(r#"{"from": "+15005550999"}"#);
    assert_eq!(rules.decide(&stranger, now).rule, "default");
    let no_from = callback("{}");
    assert_eq!(rules.decide(&no_from, now).rule, "default");
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn a_map_key_that_is_a_whole_number_is_looked_up_by_its_digits() {
    let folder = folder_with(&[("tiers.csv", "1234,gold\n")]);
    let text = "[maps.tier]\nfile = \"tiers.csv\"\n\n[[rules]]\nname = \"gold\"\n\
                when = 'maps.tier[task.account] == \"gold\"'\ninstruction = \"accept\"\n\n\
                [default]\ninstruction = \"defer\"\n";
    let rules = parse_in(text, &folder).unwrap();
    let now = jiff::Timestamp::now();
    assert_eq!(
        rules.decide(&callback(r#"{"account": 1234}"#), now).rule,
        "gold"
    );
    assert_eq!(
        rules.decide(&callback(r#"{"account": "1234"}"#), now).rule,
        "gold"
    );
    assert_eq!(
        rules.decide(&callback(r#"{"account": 1234.5}"#), now).rule,
        "default"
    );
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn a_template_whose_map_has_no_such_key_skips_the_rule() {
    let folder = folder_with(&[("managers.csv", "+15005550006,client:alice\n")]);
    let text = "[maps.account_manager]\nfile = \"managers.csv\"\n\n[[rules]]\nname = \"m\"\n\
                instruction = \"dequeue\"\nfrom = \"+15005550100\"\n\
                to = \"{{maps.account_manager[task.from]}}\"\n\n[default]\ninstruction = \"accept\"\n";
    let rules = parse_in(text, &folder).unwrap();
    let decision = rules.decide(
        &callback(r#"{"from": "+15005550999"}"#),
        jiff::Timestamp::now(),
    );
    assert_eq!(decision.rule, "default");
    assert_eq!(decision.skipped.len(), 1);
    assert_eq!(decision.skipped[0].rule.as_str(), "m");
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn every_problem_with_list_and_map_files_names_the_table_the_file_and_the_line() {
    let folder = folder_with(&[("managers.csv", "a,1\nb\na,2\n")]);
    let text = "[lists.missing]\nfile = \"nowhere.txt\"\n\n[maps.managers]\nfile = \"managers.csv\"\n\n\
                [lists.empty]\nfile = \"\"\n\n[maps.nofile]\ncolumns = 2\n\n[[rules]]\nname = \"r\"\n\
                when = 'task.from IN lists.missing OR maps.managers[task.from] != null OR \
                maps.nofile[task.x] != null OR lists.empty HAS task.x'\ninstruction = \"accept\"\n\n\
                [default]\ninstruction = \"accept\"\n";
    let found: Vec<String> = parse_in(text, &folder)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    let csv = folder.join("managers.csv");
    let missing = folder.join("nowhere.txt");
    assert_eq!(found.len(), 6, "{found:#?}");
    assert!(
        found[0].starts_with("list \"empty\", field `file`: must be a path (a string)"),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|p| p.starts_with(&format!(
            "list \"missing\", field `file`: cannot read {}: ",
            missing.display()
        ))),
        "{found:#?}"
    );
    for expected in [
        format!(
            "map \"managers\", field `file`: {}: line 2: expected two columns, `key,value`, found 1",
            csv.display()
        ),
        format!(
            "map \"managers\", field `file`: {}: line 3: key `a` is given again (first on line 1)",
            csv.display()
        ),
        "map \"nofile\", field `columns`: unknown key `columns`: a map takes only `file`"
            .to_owned(),
        "map \"nofile\", field `file`: missing: the path of the map file (CSV rows `key,value`)"
            .to_owned(),
    ] {
        assert!(found.contains(&expected), "{expected}\nnot in {found:#?}");
    }
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn reading_an_undeclared_list_or_map_is_a_problem_naming_what_is_declared() {
    let folder = folder_with(&[("vip.txt", "a\n")]);
    let text = "[lists.vip]\nfile = \"vip.txt\"\n\n[[rules]]\nname = \"r\"\n\
                when = 'task.from IN lists.vips AND lists.vip HAS task.x'\ninstruction = \"dequeue\"\n\
                from = \"{{maps.nowhere[task.from]}}\"\n\n[default]\ninstruction = \"accept\"\n";
    let found: Vec<String> = parse_in(text, &folder)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "rule \"r\", field `when`: unknown list `vips` (declared: vip)",
            "rule \"r\", field `from`: unknown map `nowhere` (the file declares no [maps.NAME])",
        ]
    );
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn a_list_or_map_no_rule_reads_is_a_warning() {
    let folder = folder_with(&[("a.txt", "x\n"), ("b.csv", "k,v\n")]);
    let text = "[lists.unread]\nfile = \"a.txt\"\n\n[maps.unread_map]\nfile = \"b.csv\"\n\n\
                [default]\ninstruction = \"accept\"\n";
    let rules = parse_in(text, &folder).unwrap();
    let warnings: Vec<String> = rules.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "list \"unread\": declared, but no rule reads it: remove it, or use `lists.unread` \
             in a rule's `when` or a template",
            "map \"unread_map\": declared, but no rule reads it: remove it, or use \
             `maps.unread_map` in a rule's `when` or a template",
        ]
    );
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn lists_and_maps_must_be_tables_of_tables() {
    assert_problem(
        "lists = [\"a\"]\n[default]\ninstruction = \"accept\"\n",
        "field `lists`: `lists` must hold tables: write [lists.NAME] with `file = \"…\"`",
    );
    assert_problem(
        "[maps]\nx = \"a.csv\"\n[default]\ninstruction = \"accept\"\n",
        "map \"x\": must be a table: write [maps.NAME] with `file = \"…\"`",
    );
}

#[test]
fn a_list_of_a_million_values_loads() {
    let mut text = String::with_capacity(13_000_000);
    for number in 0..1_000_000u32 {
        text.push_str(&format!("+1500{number:07}\n"));
    }
    let folder = folder_with(&[("big.txt", &text)]);
    let rules_text = "[lists.big]\nfile = \"big.txt\"\n\n[[rules]]\nname = \"r\"\n\
                      when = 'task.from IN lists.big'\ninstruction = \"accept\"\n\n\
                      [default]\ninstruction = \"defer\"\n";
    let rules = parse_in(rules_text, &folder).unwrap();
    let now = jiff::Timestamp::now();
    assert_eq!(
        rules
            .decide(&callback(r#"{"from": "+15000999999"}"#), now)
            .rule,
        "r"
    );
    assert_eq!(
        rules
            .decide(&callback(r#"{"from": "+15001000000"}"#), now)
            .rule,
        "default"
    );
    let _ = std::fs::remove_dir_all(&folder);
}

#[test]
fn a_list_file_that_is_not_text_is_named() {
    let folder = folder_with(&[]);
    std::fs::write(folder.join("bin.txt"), [0xff, 0xfe, 0x00]).unwrap();
    let text = "[lists.bin]\nfile = \"bin.txt\"\n\n[[rules]]\nname = \"r\"\n\
                when = 'task.x IN lists.bin'\ninstruction = \"accept\"\n\n[default]\ninstruction = \"accept\"\n";
    let found: Vec<String> = parse_in(text, &folder)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [format!(
            "list \"bin\", field `file`: {} is not UTF-8 text",
            folder.join("bin.txt").display()
        )]
    );
    let _ = std::fs::remove_dir_all(&folder);
}
