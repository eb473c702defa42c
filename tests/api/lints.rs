//! The lints through the binary: `check --rules FILE` prints each once as a warning naming its
//! rules and line, and exits 0; `--deny-warnings` makes them fail the check.

use std::path::{Path, PathBuf};

use crate::support::app::temp_file;
use crate::support::process::{command_for, run_to_end};

/// Trips every lint once. The line numbers in [`every_lint`] count from the comment.
const EVERY_LINT: &str = r#"# Every lint, once each.
[[rules]]
name = "vip"
when = 'task.vip == true'
instruction = "dequeue"
from = "{{task.to}}"

[[rules]]
name = "vip-again"
when = "(task.vip  =  TRUE)"
instruction = "accept"

[[rules]]
name = "never"
when = "1 == 2"
instruction = "accept"

[[rules]]
name = "trainees"
when = 'worker.level == "trainee"'
instruction = "reject"

[[rules]]
name = "everyone"
instruction = "accept"

[[rules]]
name = "late"
when = 'task.channel == "chat"'
instruction = "defer"

[default]
instruction = "accept"

[schedules.unused]
timezone = "UTC"
open = ["mon-fri 09:00-17:00"]
"#;

/// What `check` says of [`EVERY_LINT`]'s rules, then its warnings, each after the file name.
fn every_lint(file: &Path) -> (Vec<String>, Vec<String>) {
    let file = file.display();
    let rules = [
        "rule \"vip\": dequeue, inline",
        "rule \"vip-again\": accept, inline",
        "rule \"never\": accept, inline",
        "rule \"trainees\": reject, inline",
        "rule \"everyone\": accept, inline",
        "rule \"late\": defer, inline",
        "rule \"default\": accept, inline",
    ];
    let warnings = [
        "rule \"vip-again\": line 10: its `when` is the same as rule \"vip\"'s (line 4), so \
         \"vip-again\" answers only when \"vip\" is skipped (a template of \"vip\" has no value)",
        "rule \"never\": line 15: its `when` reads nothing from the callback and is always \
         false, so \"never\" never matches",
        "rule \"trainees\": line 21: `reject` without `activity_sid`: the Worker keeps its \
         Activity, so while it is available TaskRouter can offer it the Task straight back (and \
         cancels a Task after 1,000 rejections); set `activity_sid` to an unavailable Activity \
         (WA…)",
        "rule \"late\": line 27: never answers: rule \"everyone\" (line 23) answers every \
         callback first, as it has no `when` and no template; move \"late\" above it, or give \
         \"everyone\" a `when` that can be false",
        "schedule \"unused\": line 35: declared, but no rule reads it: remove it, or use \
         `schedule.unused` in a rule's `when`",
    ];
    (
        rules.iter().map(|line| format!("{file}: {line}")).collect(),
        warnings
            .iter()
            .map(|line| format!("{file}: warning: {line}"))
            .collect(),
    )
}

/// `check --rules FILE`, with no settings file and no rules path in the environment: exit
/// code, stdout lines, stderr.
fn check(rules_file: &Path, extra: &[&str]) -> (Option<i32>, Vec<String>, String) {
    let mut check = command_for(rules_file, &[]);
    check
        .env_remove("APP_RULES__PATH")
        .arg("check")
        .arg("--rules")
        .arg(rules_file)
        .args(extra);
    let output = run_to_end(check);
    let stdout = String::from_utf8(output.stdout).unwrap();
    (
        output.status.code(),
        stdout.lines().map(str::to_owned).collect(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn check_prints_each_lint_once_naming_its_rules_and_passes() {
    // Arrange
    let file = temp_file("every-lint.toml", EVERY_LINT);
    let (rules, warnings) = every_lint(&file);
    // Act
    let (code, stdout, stderr) = check(&file, &[]);
    // Assert
    assert_eq!(code, Some(0), "{stdout:#?}{stderr}");
    let mut expected = rules;
    expected.extend(warnings);
    expected.push(format!("{}: ok, 6 rules and a default", file.display()));
    assert_eq!(stdout, expected);
    assert_eq!(stderr, "");
}

#[test]
fn check_with_deny_warnings_prints_the_lints_and_fails() {
    // Arrange
    let file = temp_file("every-lint-denied.toml", EVERY_LINT);
    let (rules, warnings) = every_lint(&file);
    // Act
    let (code, stdout, stderr) = check(&file, &["--deny-warnings"]);
    // Assert
    assert_eq!(code, Some(1), "{stdout:#?}{stderr}");
    let mut expected = rules;
    expected.extend(warnings);
    expected.push(format!(
        "{}: 5 warnings, and --deny-warnings makes them problems",
        file.display()
    ));
    assert_eq!(stdout, expected);
    assert_eq!(stderr, "");
}

#[test]
fn check_with_deny_warnings_passes_a_file_without_lints() {
    // Arrange: each lint's near miss.
    let file = temp_file(
        "no-lint.toml",
        r#"[[rules]]
name = "vip"
when = 'task.vip == true AND schedule.office'
instruction = "dequeue"
from = "{{task.to}}"

[[rules]]
name = "anyone-with-a-number"
instruction = "dequeue"
from = "{{task.to}}"

[[rules]]
name = "trainees"
when = 'worker.level == "trainee"'
instruction = "reject"
activity_sid = "WAfedcba9876543210fedcba9876543210"

[default]
instruction = "accept"

[schedules.office]
timezone = "UTC"
open = ["mon-fri 09:00-17:00"]
"#,
    );
    // Act
    let (code, stdout, stderr) = check(&file, &["--deny-warnings"]);
    // Assert
    assert_eq!(code, Some(0), "{stdout:#?}{stderr}");
    assert_eq!(
        stdout,
        [
            format!(
                "{}: rule \"vip\": dequeue, inline, schedules: office",
                file.display()
            ),
            format!(
                "{}: rule \"anyone-with-a-number\": dequeue, inline",
                file.display()
            ),
            format!("{}: rule \"trainees\": reject, inline", file.display()),
            format!("{}: rule \"default\": accept, inline", file.display()),
            format!("{}: ok, 3 rules and a default", file.display()),
        ]
    );
    assert_eq!(stderr, "");
}

#[test]
fn the_shipped_rules_files_have_no_lints() {
    for shipped in [
        "config/rules.toml",
        "examples/small-contact-center/rules.toml",
    ] {
        // Arrange
        let file: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join(shipped);
        // Act
        let (code, stdout, stderr) = check(&file, &["--deny-warnings"]);
        // Assert
        assert_eq!(code, Some(0), "{shipped}: {stdout:#?}{stderr}");
        assert!(
            stdout.iter().all(|line| !line.contains("warning")),
            "{shipped}: {stdout:#?}"
        );
        assert!(
            stdout
                .last()
                .is_some_and(|line| line.starts_with(&format!("{}: ok, ", file.display()))),
            "{shipped}: {stdout:#?}"
        );
    }
}
