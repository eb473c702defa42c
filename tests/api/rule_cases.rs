//! `assignment-router test`, driven through the binary: rule test cases pass and fail as
//! `cargo test` tells it, a malformed cases file is refused before any case runs, coverage
//! gaps fail the run, and the JSON and JUnit outputs parse with real parsers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::app::temp_file;
use crate::support::process::{command, run_to_end};

const RULES: &str = r#"
[[rules]]
name = "spanish-billing"
when = 'task.language == "es" AND worker.skills HAS "billing"'
instruction = "dequeue"
from = "{{task.to}}"
to = "{{worker.contact_uri}}"
status_callback_events = ["answered", "completed"]

[[rules]]
name = "vip-conference"
when = "task.vip == true"
instruction = "conference"
delivery = "rest"
from = "+15005550006"
end_conference_on_exit = true

[default]
instruction = "accept"
"#;

const PASSING: &str = r#"
[[cases]]
name = "a Spanish billing caller reaches a billing agent"
at = "2026-12-01T10:00:00-05:00"
task = { language = "es", to = "+15005550006" }
worker = { skills = ["billing"], contact_uri = "client:alice" }
expect = { rule = "spanish-billing", instruction = "dequeue", from = "+15005550006", to = "client:alice", status_callback_events = ["answered", "completed"] }

[[cases]]
name = "a VIP is conferenced over REST"
task = { vip = true }
expect = { rule = "vip-conference", delivery = "rest", end_conference_on_exit = true, form = { Instruction = "conference", From = "+15005550006" } }

[[cases]]
name = "anyone else is accepted"
expect = { rule = "default", instruction = "accept" }
"#;

/// Runs `test` with the rules in the environment's `rules.path` and these cases (a temp
/// file, whose path is returned for expectations) and any extra arguments.
fn test_cases(rules: &str, cases: &str, args: &[&str]) -> (Option<i32>, String, String, PathBuf) {
    let file = temp_file("cases.toml", cases);
    let mut run = command(rules, &[]);
    run.arg("test").args(args).arg(&file);
    let (code, stdout, stderr) = outputs(run);
    (code, stdout, stderr, file)
}

fn outputs(command: Command) -> (Option<i32>, String, String) {
    let output = run_to_end(command);
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn passing_cases_exit_0_and_read_like_cargo_test() {
    // Act
    let (code, stdout, stderr, file) = test_cases(RULES, PASSING, &[]);
    // Assert
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stderr, "");
    assert_eq!(
        stdout,
        format!(
            "running 3 cases from {}\n\
             case a Spanish billing caller reaches a billing agent ... ok\n\
             case a VIP is conferenced over REST ... ok\n\
             case anyone else is accepted ... ok\n\
             \n\
             test result: ok. 3 passed; 0 failed\n",
            file.display()
        )
    );
}

#[test]
fn a_failing_case_exits_1_with_expected_actual_and_the_trace() {
    // Arrange: the worker lacks the skill, so the default answers.
    let cases = r#"
[[cases]]
name = "anyone else is accepted"
expect = { rule = "default" }

[[cases]]
name = "a Spanish caller without a billing agent"
at = "2026-12-01T15:00:00Z"
task = { language = "es", to = "+15005550006" }
worker = { skills = ["sales"] }
expect = { rule = "spanish-billing", from = "+15005550006" }
"#;
    // Act
    let (code, stdout, stderr, file) = test_cases(RULES, cases, &[]);
    // Assert
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(stderr, "");
    assert_eq!(
        stdout,
        format!(
            "running 2 cases from {file}\n\
             case anyone else is accepted ... ok\n\
             case a Spanish caller without a billing agent ... FAILED\n\
             \n\
             failures:\n\
             \n\
             ---- a Spanish caller without a billing agent ({file}:6) ----\n\
             rule: expected \"spanish-billing\", actual \"default\"\n\
             from: expected \"+15005550006\", actual (not sent)\n\
             trace:\n\
             \x20   at 2026-12-01T15:00:00Z\n\
             \x20   rule \"spanish-billing\": does not match\n\
             \x20       `worker.skills` = `[\"sales\"]`, compared `HAS` with `\"billing\"`: false\n\
             \x20   rule \"vip-conference\": does not match\n\
             \x20       `task.vip` = `null`, compared `==` with `true`: false\n\
             \x20   default: answers (no rule did)\n\
             \x20   answer: 200 application/json {{\"instruction\":\"accept\"}}\n\
             \n\
             failures:\n\
             \x20   a Spanish caller without a billing agent\n\
             \n\
             test result: FAILED. 1 passed; 1 failed\n",
            file = file.display()
        )
    );
}

#[test]
fn a_malformed_cases_file_names_case_field_and_line_and_runs_nothing() {
    // (the cases file, the problem line after `FILE:`)
    let table: [(&str, &str); 5] = [
        (
            "[[cases]]\nname = \"broken\"\nexpect = { rule = \"default\" \n",
            "3: not valid TOML at column 28: unclosed inline table, expected `}`\n    \
             expect = { rule = \"default\" \n                               ^",
        ),
        (
            "[[cases]]\nname = \"typo\"\nexpect = { rule = \"default\" }\ntaks = { vip = true }\n",
            "4: case \"typo\": field `taks`: unknown key `taks`: a case takes `name`, `at`, \
             `task`, `worker`, `params` and `expect`",
        ),
        (
            "[[cases]]\nname = \"typo in expect\"\nexpect = { rul = \"default\" }\n",
            "3: case \"typo in expect\": field `expect.rul`: unknown key `rul`: `expect` takes \
             `rule`, `instruction`, `delivery`, `skipped`, `shadow`, `form` and the fields of an \
             instruction by their rules-file names (`to`, `from`, `timeout`, …)",
        ),
        (
            "[[cases]]\nname = \"forgetful\"\ntask = { vip = true }\n",
            "1: case \"forgetful\": field `expect`: missing: say what the case expects, e.g. \
             expect = { rule = \"spanish-billing\" }",
        ),
        (
            "[[cases]]\nname = \"gone\"\n\nexpect = { rule = \"spanish\" }\n",
            "4: case \"gone\": field `expect.rule`: `spanish` is no rule of the rules file: \
             expected \"spanish-billing\", \"vip-conference\" or \"default\"",
        ),
    ];
    for (cases, problem) in table {
        // Arrange: a good file beside the bad one; its cases must not run either.
        let good = temp_file("good-cases.toml", PASSING);
        let bad = temp_file("bad-cases.toml", cases);
        let mut run = command(RULES, &[]);
        run.arg("test").arg(&good).arg(&bad);
        // Act
        let (code, stdout, stderr) = outputs(run);
        // Assert
        assert_eq!(code, Some(1), "{cases}\n{stdout}{stderr}");
        assert_eq!(stdout, "", "results printed for:\n{cases}");
        let bad = bad.display();
        assert_eq!(
            stderr,
            format!("{bad}: 1 problem\n{bad}:{problem}\n"),
            "for:\n{cases}"
        );
    }
}

#[test]
fn a_cases_file_that_cannot_be_read_is_named_by_its_absolute_path() {
    let mut run = command(RULES, &[]);
    let folder = PathBuf::from(run.get_current_dir().unwrap());
    run.args(["test", "missing-cases.toml"]);
    let (code, stdout, stderr) = outputs(run);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(stdout, "");
    let tried = folder.join("missing-cases.toml");
    assert_eq!(
        stderr,
        format!(
            "{tried}: 1 problem\n{tried}: cannot read: No such file or directory (os error 2)\n",
            tried = tried.display()
        )
    );
}

#[test]
fn a_broken_rules_file_is_listed_like_check_and_no_case_runs() {
    let (code, stdout, stderr, _) = test_cases(
        "[[rules]]\nname = \"r\"\ninstruction = \"acept\"\n[default]\ninstruction = \"accept\"\n",
        PASSING,
        &[],
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(": 1 problem\n") && stderr.contains("rule \"r\", field `instruction`"),
        "{stderr}"
    );
}

#[test]
fn coverage_with_a_gap_exits_1_naming_the_rule() {
    // Arrange: no case reaches the VIP rule; one only skips `spanish-billing`.
    let cases = r#"
[[cases]]
name = "a Spanish billing caller reaches a billing agent"
task = { language = "es", to = "+15005550006" }
worker = { skills = ["billing"], contact_uri = "client:alice" }
expect = { rule = "spanish-billing" }

[[cases]]
name = "anyone else is accepted"
expect = { rule = "default" }
"#;
    // Act
    let (code, stdout, stderr, _) = test_cases(RULES, cases, &["--coverage"]);
    // Assert
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.ends_with(
            "coverage: rules reached by no case: vip-conference\n\
             \n\
             test result: FAILED. 2 passed; 0 failed; coverage has gaps\n"
        ),
        "{stdout}"
    );
}

#[test]
fn coverage_lists_a_rule_only_ever_skipped_apart() {
    let cases = r#"
[[cases]]
name = "a Spanish billing caller without a number to call from"
task = { language = "es" }
worker = { skills = ["billing"], contact_uri = "client:alice" }
expect = { rule = "default", skipped = ["spanish-billing"] }

[[cases]]
name = "a VIP"
task = { vip = true }
expect = { rule = "vip-conference" }
"#;
    let (code, stdout, stderr, _) = test_cases(RULES, cases, &["--coverage"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout
            .contains("\ncoverage: rules only ever skipped, answering no case: spanish-billing\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("reached by no case"), "{stdout}");
}

#[test]
fn full_coverage_passes_and_says_so() {
    let (code, stdout, stderr, _) = test_cases(RULES, PASSING, &["--coverage"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.ends_with(
            "coverage: every rule answered a case (2 rules and a default)\n\
             \n\
             test result: ok. 3 passed; 0 failed\n"
        ),
        "{stdout}"
    );
}

/// The JUnit document, parsed by Python's own XML parser: each suite's attributes and each
/// testcase's name and failure message (`null` when it passed), as JSON.
fn parsed_junit(xml: &str) -> Value {
    let script = r#"
import json, sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.stdin)
root = doc.documentElement
out = {"root": root.tagName, "tests": root.getAttribute("tests"),
       "failures": root.getAttribute("failures"), "suites": []}
for suite in root.getElementsByTagName("testsuite"):
    cases = []
    for case in suite.getElementsByTagName("testcase"):
        failures = case.getElementsByTagName("failure")
        cases.append({"name": case.getAttribute("name"),
            "failure": failures[0].getAttribute("message") if failures else None,
            "text": failures[0].firstChild.data if failures else None})
    out["suites"].append({"name": suite.getAttribute("name"),
        "tests": suite.getAttribute("tests"),
        "failures": suite.getAttribute("failures"), "cases": cases})
print(json.dumps(out))
"#;
    let mut python = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed to check the JUnit XML with a real parser");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(xml.as_bytes())
        .unwrap();
    let output = python.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "not well-formed XML: {}\n{xml}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn junit_output_is_well_formed_even_for_names_full_of_markup() {
    // Arrange: a failing case whose name and values hold every character XML reserves, a
    // control character, and a line break in an expected value.
    let cases = r#"
[[cases]]
name = "anyone else is accepted"
expect = { rule = "default" }

[[cases]]
name = "<&\"'> ]]> \u0001"
task = { vip = true }
expect = { rule = "default", form = { From = "a\"b<c>&d\n'e" } }
"#;
    // Act
    let (code, stdout, stderr, file) =
        test_cases(RULES, cases, &["--format", "junit", "--coverage"]);
    // Assert
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(stderr, "");
    let parsed = parsed_junit(&stdout);
    assert_eq!(parsed["root"], "testsuites");
    assert_eq!(
        (&parsed["tests"], &parsed["failures"]),
        (&"3".into(), &"2".into())
    );
    let suite = &parsed["suites"][0];
    assert_eq!(suite["name"], file.display().to_string());
    assert_eq!(
        (&suite["tests"], &suite["failures"]),
        (&"2".into(), &"1".into())
    );
    assert_eq!(suite["cases"][0]["name"], "anyone else is accepted");
    assert_eq!(suite["cases"][0]["failure"], Value::Null);
    let failed = &suite["cases"][1];
    assert_eq!(failed["name"], "<&\"'> ]]> \u{FFFD}");
    assert_eq!(
        failed["failure"],
        "rule: expected \"default\", actual \"vip-conference\"; \
         form.From: expected \"a\\\"b<c>&d\\n'e\", actual \"+15005550006\""
    );
    let text = failed["text"].as_str().unwrap();
    assert!(
        text.contains("trace:\n    at ") && text.contains("rule \"vip-conference\": answers"),
        "{text}"
    );
    let coverage = &parsed["suites"][1];
    assert_eq!(coverage["name"], "coverage");
    assert_eq!(coverage["cases"][0]["name"], "coverage");
    assert_eq!(
        coverage["cases"][0]["failure"],
        "rules reached by no case: spanish-billing"
    );
}

#[test]
fn junit_output_of_a_clean_run_has_no_failure() {
    let (code, stdout, stderr, _) =
        test_cases(RULES, PASSING, &["--format", "junit", "--coverage"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let parsed = parsed_junit(&stdout);
    assert_eq!(
        (&parsed["tests"], &parsed["failures"]),
        (&"4".into(), &"0".into())
    );
    assert_eq!(parsed["suites"][1]["cases"][0]["failure"], Value::Null);
}

#[test]
fn json_output_is_one_document_with_each_case() {
    // Arrange
    let cases = format!(
        "{PASSING}\n[[cases]]\nname = \"wrong\"\nat = \"2026-12-01T15:00:00Z\"\n\
         expect = {{ rule = \"vip-conference\", instruction = \"conference\" }}\n"
    );
    // Act
    let (code, stdout, stderr, file) =
        test_cases(RULES, &cases, &["--format", "json", "--coverage"]);
    // Assert
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let document: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(document["passed"], 3);
    assert_eq!(document["failed"], 1);
    assert_eq!(document["ok"], false);
    assert_eq!(document["coverage"]["complete"], true);
    let cases = document["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    let vip = &cases[1];
    assert_eq!(vip["name"], "a VIP is conferenced over REST");
    assert_eq!(vip["file"], file.display().to_string());
    assert_eq!(vip["passed"], true);
    assert_eq!(
        (&vip["rule"], &vip["instruction"], &vip["delivery"]),
        (
            &"vip-conference".into(),
            &"conference".into(),
            &"rest".into()
        )
    );
    let wrong = &cases[3];
    assert_eq!(wrong["passed"], false);
    assert_eq!(wrong["at"], "2026-12-01T15:00:00Z");
    assert_eq!(
        wrong["mismatches"],
        serde_json::json!([
            {"key": "rule", "expected": "vip-conference", "actual": "default"},
            {"key": "instruction", "expected": "conference", "actual": "accept"},
        ])
    );
    assert_eq!(wrong["trace"][0], "at 2026-12-01T15:00:00Z");
}

#[test]
fn cases_without_at_share_the_instant_the_run_started() {
    let cases = "[[cases]]\nname = \"a\"\nexpect = { rule = \"default\" }\n\
                 [[cases]]\nname = \"b\"\nexpect = { rule = \"default\" }\n";
    let (code, stdout, stderr, _) = test_cases(RULES, cases, &["--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let document: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(document["cases"][0]["at"], document["started"]);
    assert_eq!(document["cases"][1]["at"], document["started"]);
}

#[test]
fn the_shipped_cases_pass_with_full_coverage_and_no_settings_file() {
    // Arrange: the files as shipped, through --rules alone.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut run = command("[default]\ninstruction = \"accept\"\n", &[]);
    run.env_remove("APP_RULES__PATH")
        .args(["test", "--coverage", "--rules"])
        .arg(root.join("config/rules.toml"))
        .arg(root.join("config/rules.test.toml"));
    // Act
    let (code, stdout, stderr) = outputs(run);
    // Assert
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.ends_with(
            "coverage: every rule answered a case (5 rules and a default)\n\
             \n\
             test result: ok. 8 passed; 0 failed\n"
        ),
        "{stdout}"
    );
}
