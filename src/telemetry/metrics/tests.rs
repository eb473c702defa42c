use super::*;

#[test]
fn renders_counters_with_their_labels() {
    let metrics = Metrics::new();
    metrics.callback(
        &CallbackLabels {
            rule: Arc::new("vip".to_owned()),
            instruction: "accept",
            delivery: "inline",
            outcome: "answered",
        },
        Duration::from_micros(80),
    );
    metrics.signature_failure("mismatch");
    let text = metrics.render();
    assert!(text.contains(
        "assignment_router_callbacks_total{rule=\"vip\",instruction=\"accept\",delivery=\"inline\",outcome=\"answered\"} 1"
    ), "{text}");
    assert!(text.contains("assignment_router_signature_failures_total{reason=\"mismatch\"} 1"));
    assert!(text.contains("assignment_router_callback_duration_seconds_count 1"));
}

fn series(rule: &str, delivery: &'static str, duplicates: bool, skipped: bool) -> RuleSeries {
    RuleSeries {
        rule: Arc::new(rule.to_owned()),
        instruction: "accept",
        delivery,
        answers_duplicates: duplicates,
        can_be_skipped: skipped,
    }
}

#[test]
fn every_series_with_a_known_label_set_exists_from_start_at_zero() {
    let text = Metrics::new().render();
    for outcome in REFUSALS {
        let line = format!(
            "assignment_router_callbacks_total{{rule=\"\",instruction=\"\",delivery=\"\",outcome=\"{outcome}\"}} 0"
        );
        assert!(text.contains(&line), "{line}\n{text}");
    }
    for reason in SIGNATURE_FAILURES {
        let line = format!("assignment_router_signature_failures_total{{reason=\"{reason}\"}} 0");
        assert!(text.contains(&line), "{line}\n{text}");
    }
    for outcome in UPDATE_OUTCOMES {
        let line = format!("assignment_router_rest_updates_total{{outcome=\"{outcome}\"}} 0");
        assert!(text.contains(&line), "{line}\n{text}");
    }
    for outcome in ["success", "failure"] {
        let line = format!("assignment_router_rule_reloads_total{{outcome=\"{outcome}\"}} 0");
        assert!(text.contains(&line), "{line}\n{text}");
    }
    assert!(
        text.contains("assignment_router_log_lines_dropped_total "),
        "{text}"
    );
}

#[test]
fn rule_series_follow_the_rules_in_force() {
    let metrics = Metrics::new();
    // Arrange: a REST rule with templates and an inline one without.
    metrics.follow_rules(&[
        series("rest-vip", "rest", true, true),
        series("plain", "inline", false, false),
    ]);
    let text = metrics.render();
    for line in [
        r#"assignment_router_callbacks_total{rule="rest-vip",instruction="accept",delivery="rest",outcome="answered"} 0"#,
        r#"assignment_router_callbacks_total{rule="rest-vip",instruction="accept",delivery="rest",outcome="duplicate"} 0"#,
        r#"assignment_router_callbacks_total{rule="plain",instruction="accept",delivery="inline",outcome="answered"} 0"#,
        r#"assignment_router_rules_skipped_total{rule="rest-vip",reason="no_value"} 0"#,
        r#"assignment_router_rules_skipped_total{rule="rest-vip",reason="invalid_value"} 0"#,
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    assert!(
        !text
            .contains(r#"rule="plain",instruction="accept",delivery="inline",outcome="duplicate""#)
    );
    assert!(!text.contains(r#"assignment_router_rules_skipped_total{rule="plain""#));
    metrics.callback(
        &CallbackLabels {
            rule: Arc::new("plain".to_owned()),
            instruction: "accept",
            delivery: "inline",
            outcome: "answered",
        },
        Duration::from_micros(50),
    );

    // Act: a reload drops rest-vip and adds fresh.
    metrics.follow_rules(&[
        series("plain", "inline", false, false),
        series("fresh", "inline", false, true),
    ]);

    // Assert
    let text = metrics.render();
    assert!(!text.contains("rest-vip"), "{text}");
    assert!(text.contains(
    r#"assignment_router_callbacks_total{rule="plain",instruction="accept",delivery="inline",outcome="answered"} 1"#
), "a rule that stays keeps its count:\n{text}");
    assert!(text.contains(
    r#"assignment_router_callbacks_total{rule="fresh",instruction="accept",delivery="inline",outcome="answered"} 0"#
));
    assert!(
        text.contains(r#"assignment_router_rules_skipped_total{rule="fresh",reason="not_text"} 0"#)
    );
}
