#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::super::parse;
use super::super::testing::TestContext;
use super::*;

fn context() -> TestContext {
    TestContext::new(
        json!({"language": "en", "tier": "gold", "tags": ["a", "b"], "vip": false}),
        json!({"languages": ["fr", "de"], "level": 2}),
    )
    .with_open_schedule("business_hours")
}

fn explained(source: &str) -> Explanation {
    let expr = parse(source).unwrap();
    let explanation = expr.explain(&context());
    assert_eq!(explanation.matched, expr.evaluate(&context()), "{source}");
    explanation
}

fn lines(source: &str) -> Vec<String> {
    explained(source)
        .reasons
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_false_comparison_shows_both_values() {
    let explanation = explained("task.language == \"es\"");
    assert!(!explanation.matched);
    assert_eq!(
        explanation.reasons,
        [Reason {
            held: false,
            left: Side {
                path: Some("task.language".into()),
                value: "\"en\"".into()
            },
            comparison: Some((
                Operator::Equal,
                Side {
                    path: None,
                    value: "\"es\"".into()
                }
            )),
            negated: false,
        }]
    );
    assert_eq!(
        explanation.to_string(),
        "did not match\n  `task.language` = `\"en\"`, compared `==` with `\"es\"`: false"
    );
}

#[test]
fn paths_on_the_right_show_their_values_too() {
    assert_eq!(
        lines("task.language IN worker.languages"),
        [
            "`task.language` = `\"en\"`, compared `IN` with `worker.languages` = `[\"fr\",\"de\"]`: false"
        ]
    );
}

#[test]
fn missing_values_show_as_null() {
    assert_eq!(
        lines("task.missing == 'x'"),
        ["`task.missing` = `null`, compared `==` with `\"x\"`: false"]
    );
}

#[test]
fn a_failing_and_lists_only_its_false_terms() {
    assert_eq!(
        lines("task.tier == 'gold' AND worker.level > 3 AND task.vip"),
        [
            "`worker.level` = `2`, compared `>` with `3`: false",
            "`task.vip` = `false`, which is not `true`: false",
        ]
    );
}

#[test]
fn a_failing_or_lists_every_term() {
    assert_eq!(
        lines("task.tier == 'silver' OR schedule.weekend"),
        [
            "`task.tier` = `\"gold\"`, compared `==` with `\"silver\"`: false",
            "`schedule.weekend` = `false`, which is not `true`: false",
        ]
    );
}

#[test]
fn a_match_lists_the_terms_that_made_it_true() {
    let explanation = explained("schedule.business_hours OR task.tier == 'silver'");
    assert!(explanation.matched);
    assert_eq!(
        explanation.to_string(),
        "matched\n  `schedule.business_hours` = `true`: true"
    );
}

#[test]
fn not_lists_the_inner_terms_by_their_own_result() {
    let explanation = explained("NOT task.tags HAS 'a'");
    assert!(!explanation.matched);
    assert_eq!(
        explanation
            .reasons
            .iter()
            .map(|reason| reason.held)
            .collect::<Vec<_>>(),
        [true]
    );
}

#[test]
fn nested_junctions_explain_through_every_level() {
    let source =
        "(task.language == 'en' OR task.language == 'fr') AND (worker.level >= 3 OR task.vip)";
    assert_eq!(
        lines(source),
        [
            "`worker.level` = `2`, compared `>=` with `3`: false",
            "`task.vip` = `false`, which is not `true`: false",
        ]
    );
}

#[test]
fn explanation_agrees_with_evaluation_on_empty_hand_built_junctions() {
    let ctx = context();
    assert!(Expr::And(vec![]).explain(&ctx).matched);
    assert!(!Expr::Or(vec![]).explain(&ctx).matched);
}

#[test]
fn a_not_is_shown_with_its_operand_and_what_it_makes_of_it() {
    let explanation = explained("NOT schedule.business_hours");
    assert!(!explanation.matched);
    assert_eq!(
        explanation.to_string(),
        "did not match\n  NOT (`schedule.business_hours` = `true`: true), so the NOT is false"
    );
    let double = explained("NOT NOT schedule.business_hours");
    assert_eq!(
        double.to_string(),
        "matched\n  `schedule.business_hours` = `true`: true"
    );
}
