use super::*;
use crate::rules::cases;

const RULES: &str = r#"
[[rules]]
name = "templated"
when = "task.vip == true"
instruction = "dequeue"
from = "{{task.caller_id}}"

[[rules]]
name = "spanish"
when = 'task.language == "es"'
instruction = "accept"

[[rules]]
name = "chats"
when = 'task.channel == "chat"'
instruction = "defer"

[default]
instruction = "reject"
"#;

/// The coverage of these cases (one per task attributes table) against [`RULES`].
fn coverage_of(tasks: &[&str]) -> Coverage {
    let rules = crate::rules::file::parse(RULES).unwrap();
    let text: String = tasks
        .iter()
        .enumerate()
        .map(|(n, task)| {
            format!("[[cases]]\nname = \"{n}\"\ntask = {task}\nexpect = {{ rule = \"default\" }}\n")
        })
        .collect();
    let cases = cases::parse(&text, &rules).unwrap();
    let at = "2026-12-01T15:00:00Z".parse().unwrap();
    let outcomes: Vec<Outcome> = cases
        .iter()
        .map(|case| super::super::outcome::run(case, &rules, at))
        .collect();
    Coverage::of(&rules, &outcomes.iter().collect::<Vec<_>>())
}

#[test]
fn rules_no_case_answered_are_listed_in_file_order_with_the_default() {
    let coverage = coverage_of(&["{ channel = \"chat\" }"]);
    assert!(!coverage.complete());
    assert_eq!(coverage.unreached, ["templated", "spanish", "default"]);
    assert!(coverage.skipped_only.is_empty());
    assert_eq!(
        coverage.summary(),
        "rules reached by no case: templated, spanish, default"
    );
}

#[test]
fn a_rule_only_ever_skipped_is_a_gap_listed_apart() {
    // A VIP without a caller ID: `templated` matches but is skipped, the default answers.
    let coverage = coverage_of(&[
        "{ vip = true }",
        "{ language = \"es\" }",
        "{ channel = \"chat\" }",
    ]);
    assert!(!coverage.complete());
    assert!(coverage.unreached.is_empty(), "{coverage:?}");
    assert_eq!(coverage.skipped_only, ["templated"]);
    assert_eq!(
        coverage.summary(),
        "rules only ever skipped, answering no case: templated"
    );
}

#[test]
fn every_rule_answering_a_case_is_complete() {
    let coverage = coverage_of(&[
        "{ vip = true, caller_id = \"+15005550006\" }",
        "{ language = \"es\" }",
        "{ channel = \"chat\" }",
        "{}",
    ]);
    assert!(coverage.complete(), "{coverage:?}");
    assert!(coverage.gaps().is_empty());
    assert_eq!(
        coverage.summary(),
        "every rule answered a case (3 rules and a default)"
    );
}
