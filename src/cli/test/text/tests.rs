use std::path::PathBuf;

use serde_json::json;

use super::*;
use crate::cli::test::outcome::Outcome;
use crate::cli::test::{Coverage, Suite};

fn outcome(name: &str, line: usize, mismatches: Vec<Mismatch>) -> Outcome {
    let failed = !mismatches.is_empty();
    Outcome {
        name: name.to_owned(),
        line,
        at: "2026-12-01T15:00:00Z".parse().unwrap(),
        rule: "default".to_owned(),
        instruction: "accept",
        delivery: "inline",
        skipped: Vec::new(),
        mismatches,
        trace: if failed {
            vec![
                "at 2026-12-01T15:00:00Z".to_owned(),
                "default: answers (no rule did)".to_owned(),
            ]
        } else {
            Vec::new()
        },
    }
}

fn report(outcomes: Vec<Outcome>, coverage: Option<Coverage>) -> Report {
    Report {
        started: "2026-12-01T15:00:00Z".parse().unwrap(),
        suites: vec![Suite {
            file: PathBuf::from("rules.test.toml"),
            outcomes,
        }],
        coverage,
    }
}

#[test]
fn passing_cases_read_like_cargo_test() {
    let shown = render(&report(
        vec![outcome("one", 1, Vec::new()), outcome("two", 5, Vec::new())],
        None,
    ));
    assert_eq!(
        shown,
        "running 2 cases from rules.test.toml\n\
         case one ... ok\n\
         case two ... ok\n\
         \n\
         test result: ok. 2 passed; 0 failed\n"
    );
}

#[test]
fn a_failure_shows_each_mismatch_then_the_trace() {
    // Arrange
    let mismatches = vec![
        Mismatch {
            key: "rule".to_owned(),
            expected: json!("vip"),
            actual: Some(json!("default")),
        },
        Mismatch {
            key: "to".to_owned(),
            expected: json!("client:alice"),
            actual: None,
        },
    ];
    // Act
    let shown = render(&report(
        vec![
            outcome("one", 1, Vec::new()),
            outcome("a VIP", 7, mismatches),
        ],
        None,
    ));
    // Assert
    assert_eq!(
        shown,
        "running 2 cases from rules.test.toml\n\
         case one ... ok\n\
         case a VIP ... FAILED\n\
         \n\
         failures:\n\
         \n\
         ---- a VIP (rules.test.toml:7) ----\n\
         rule: expected \"vip\", actual \"default\"\n\
         to: expected \"client:alice\", actual (not sent)\n\
         trace:\n\
         \x20   at 2026-12-01T15:00:00Z\n\
         \x20   default: answers (no rule did)\n\
         \n\
         failures:\n\
         \x20   a VIP\n\
         \n\
         test result: FAILED. 1 passed; 1 failed\n"
    );
}

#[test]
fn a_coverage_gap_fails_the_run_though_every_case_passed() {
    // Arrange
    let gap = Coverage {
        rules: "2 rules and a default".to_owned(),
        unreached: vec!["vip".to_owned()],
        skipped_only: vec!["templated".to_owned()],
    };
    // Act
    let report = report(vec![outcome("one", 1, Vec::new())], Some(gap));
    let shown = render(&report);
    // Assert
    assert!(!report.ok());
    assert!(
        shown.ends_with(
            "case one ... ok\n\
             \n\
             coverage: rules reached by no case: vip\n\
             coverage: rules only ever skipped, answering no case: templated\n\
             \n\
             test result: FAILED. 1 passed; 0 failed; coverage has gaps\n"
        ),
        "{shown}"
    );
}

#[test]
fn one_case_is_one_case() {
    let shown = render(&report(vec![outcome("one", 1, Vec::new())], None));
    assert!(
        shown.starts_with("running 1 case from rules.test.toml\n"),
        "{shown}"
    );
}
