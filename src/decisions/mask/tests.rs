use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::rules::file::parse;

fn mask(paths: &[&str]) -> Mask {
    Mask::new(paths.iter().map(|path| (*path).to_owned()).collect())
}

fn callback(task: Value, worker: Value) -> AssignmentCallback {
    AssignmentCallback {
        reservation_sid: "WR0123456789abcdef0123456789abcdef".to_owned(),
        task_sid: "WT0123456789abcdef0123456789abcdef".to_owned(),
        worker_sid: "WK0123456789abcdef0123456789abcdef".to_owned(),
        workspace_sid: "WS0123456789abcdef0123456789abcdef".to_owned(),
        account_sid: None,
        workflow_sid: None,
        task_queue_sid: None,
        timestamp: None,
        task_age: Some(12.0),
        task_priority: Some(1.0),
        task_attributes: task,
        worker_attributes: worker,
    }
}

fn masked(values: &[&str]) -> Masked {
    Masked {
        values: values.iter().map(|value| (*value).to_owned()).collect(),
        encoded: Vec::new(),
    }
}

fn now() -> Timestamp {
    "2026-12-01T15:00:00Z".parse().unwrap()
}

#[test]
fn a_mask_covers_its_own_path() {
    // Arrange
    let mask = mask(&["task.caller", "worker.email"]);

    // Assert
    assert!(mask.covers("task.caller"));
    assert!(mask.covers("worker.email"));
}

#[test]
fn a_mask_covers_what_lies_under_its_path() {
    // Arrange
    let mask = mask(&["task.caller"]);

    // Assert
    assert!(mask.covers("task.caller.number"));
    assert!(mask.covers("task.caller.numbers[0]"));
    assert!(mask.covers("task.caller[0]"));
    assert!(mask.covers("task.caller[2].name"));
}

#[test]
fn a_mask_does_not_cover_a_path_it_is_a_mere_prefix_of() {
    // Arrange
    let mask = mask(&["task.caller"]);

    // Assert
    for printed in [
        "task.caller_name2",
        "task.callers",
        "task.caller2.number",
        "task.calle",
        "task",
        "worker.caller",
        "task.customer.caller",
        "maps.names[task.caller]",
        "TaskSid",
    ] {
        assert!(!mask.covers(printed), "{printed}");
    }
}

#[test]
fn an_empty_mask_covers_nothing() {
    // Arrange
    let mask = Mask::default();

    // Assert
    assert!(mask.is_empty());
    assert!(!mask.covers("task.caller"));
    assert!(!mask.covers(""));
    assert!(!Mask::new(vec!["task.a".to_owned()]).is_empty());
}

#[test]
fn values_are_read_from_the_task_attributes() {
    // Arrange
    let mask = mask(&["task.caller"]);
    let callback = callback(
        json!({"caller": "+15005550199", "to": "+15005550006"}),
        json!({"caller": "worker's own"}),
    );

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    assert_eq!(masked.values, ["+15005550199"]);
    assert!(!masked.is_empty());
}

#[test]
fn values_are_read_from_the_worker_attributes() {
    // Arrange
    let mask = mask(&["worker.email"]);
    let callback = callback(
        json!({"email": "task@example.com"}),
        json!({"email": "alice@example.com", "name": "Alice"}),
    );

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    assert_eq!(masked.values, ["alice@example.com"]);
}

#[test]
fn a_nested_path_is_followed_key_by_key() {
    // Arrange
    let mask = mask(&["task.customer.contact.phone"]);
    let callback = callback(
        json!({"customer": {"contact": {"phone": "+15005550199", "kind": "mobile"}}, "phone": "x"}),
        json!({}),
    );

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    assert_eq!(masked.values, ["+15005550199"]);
}

#[test]
fn a_missing_path_holds_nothing() {
    // Arrange
    let mask = mask(&[
        "task.absent",
        "task.customer.absent",
        "task.caller.deeper",
        "worker.absent",
        "task.empty",
        "task.nothing",
    ]);
    let callback = callback(
        json!({"customer": {"name": "Ann"}, "caller": "+15005550199", "empty": "", "nothing": null}),
        json!({"name": "Alice"}),
    );

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    assert!(masked.is_empty(), "{:?}", masked.values);
}

#[test]
fn a_path_with_another_root_holds_nothing() {
    // Arrange: the settings refuse these; reading them must still not fail.
    let mask = mask(&["TaskSid", "schedule.open", "task"]);
    let callback = callback(json!({"caller": "+15005550199"}), json!({}));

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    assert!(masked.is_empty(), "{:?}", masked.values);
}

#[test]
fn numbers_and_booleans_are_held_as_json_writes_them() {
    // Arrange
    let mask = mask(&["task.account", "task.balance", "task.vip"]);
    let callback = callback(
        json!({"account": 123_456, "balance": 12.5, "vip": true}),
        json!({}),
    );

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    assert_eq!(masked.values, ["123456", "12.5", "true"]);
}

#[test]
fn an_object_is_held_whole_and_by_each_value_within() {
    // Arrange
    let mask = mask(&["task.customer"]);
    let callback = callback(
        json!({"customer": {"name": "Ann Lee", "phones": ["+15005550199", "+15005550198"], "id": 77}}),
        json!({}),
    );

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    let whole = callback.task_attributes["customer"].to_string();
    let list = callback.task_attributes["customer"]["phones"].to_string();
    for expected in [
        whole.as_str(),
        list.as_str(),
        "Ann Lee",
        "+15005550199",
        "+15005550198",
        "77",
    ] {
        assert!(
            masked.values.iter().any(|value| value == expected),
            "{expected} missing from {:?}",
            masked.values
        );
    }
    assert_eq!(masked.values.len(), 6);
}

#[test]
fn values_are_held_longest_first() {
    // Arrange
    let mask = mask(&["task.first", "task.full", "task.short"]);
    let callback = callback(
        json!({"first": "Ann", "full": "Ann Lee-Smith", "short": "Al"}),
        json!({}),
    );

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    assert_eq!(masked.values, ["Ann Lee-Smith", "Ann", "Al"]);
}

#[test]
fn the_same_value_at_two_paths_is_held_once() {
    // Arrange
    let mask = mask(&["task.caller", "worker.last_caller"]);
    let callback = callback(
        json!({"caller": "+15005550199"}),
        json!({"last_caller": "+15005550199"}),
    );

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    assert_eq!(masked.values, ["+15005550199"]);
}

#[test]
fn a_string_is_also_held_as_it_is_written_inside_json() {
    // Arrange
    let mask = mask(&["task.name"]);
    let callback = callback(json!({"name": "Ann \"Boss\" O'Neil\\2\n"}), json!({}));

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    assert_eq!(
        masked.values,
        [r#"Ann \"Boss\" O'Neil\\2\n"#, "Ann \"Boss\" O'Neil\\2\n"]
    );
}

#[test]
fn a_string_json_writes_as_it_is_is_held_once() {
    // Arrange
    let mask = mask(&["task.name"]);
    let callback = callback(json!({"name": "Zoë O'Neil"}), json!({}));

    // Act
    let masked = mask.values_of(&callback);

    // Assert
    assert_eq!(masked.values, ["Zoë O'Neil"]);
}

#[test]
fn scrub_replaces_every_copy_of_every_value() {
    // Arrange
    let masked = masked(&["+15005550199", "Ann"]);

    // Act
    let text = masked.scrub("Ann called from +15005550199; call Ann back on +15005550199");

    // Assert
    assert_eq!(
        text,
        "<masked> called from <masked>; call <masked> back on <masked>"
    );
}

#[test]
fn scrub_replaces_a_value_holding_another_whole() {
    // Arrange: as `values_of` holds them, longest first.
    let masked = masked(&["Ann Lee", "Ann"]);

    // Act
    let text = masked.scrub("for Ann Lee, not Ann");

    // Assert
    assert_eq!(text, "for <masked>, not <masked>");
}

#[test]
fn scrub_leaves_other_text_as_it_is() {
    // Arrange
    let masked = masked(&["+15005550199"]);

    // Assert
    assert_eq!(
        masked.scrub("rule \"vip\": answers"),
        "rule \"vip\": answers"
    );
    assert_eq!(masked.scrub("+1500555019"), "+1500555019");
    assert_eq!(Masked::default().scrub("+15005550199"), "+15005550199");
    assert!(Masked::default().is_empty());
}

#[test]
fn scrub_json_replaces_values_in_strings_at_any_depth() {
    // Arrange
    let masked = masked(&["+15005550199"]);
    let mut answer = json!({
        "instruction": "dequeue",
        "from": "+15005550199",
        "nested": {"list": ["x", "tel:+15005550199", {"deep": "+15005550199"}]},
        "other": "+15005550006",
    });

    // Act
    masked.scrub_json(&mut answer);

    // Assert
    assert_eq!(
        answer,
        json!({
            "instruction": "dequeue",
            "from": "<masked>",
            "nested": {"list": ["x", "tel:<masked>", {"deep": "<masked>"}]},
            "other": "+15005550006",
        })
    );
}

#[test]
fn scrub_json_replaces_a_number_or_boolean_equal_to_a_value_whole() {
    // Arrange
    let masked = masked(&["123456", "12.5", "true"]);
    let mut answer = json!({
        "account": 123_456,
        "balance": 12.5,
        "vip": true,
        "other": 1_234_567,
        "off": false,
        "list": [123_456, 7],
        "none": null,
    });

    // Act
    masked.scrub_json(&mut answer);

    // Assert
    assert_eq!(
        answer,
        json!({
            "account": "<masked>",
            "balance": "<masked>",
            "vip": "<masked>",
            "other": 1_234_567,
            "off": false,
            "list": ["<masked>", 7],
            "none": null,
        })
    );
}

#[test]
fn scrub_json_leaves_a_number_that_only_appears_in_a_string_value() {
    // Arrange: the value is `+1555…`, the number only its digits.
    let masked = masked(&["+15005550199"]);
    let mut answer = json!({"timeout": 15_005_550_199_u64});

    // Act
    masked.scrub_json(&mut answer);

    // Assert
    assert_eq!(answer, json!({"timeout": 15_005_550_199_u64}));
}

const RULES: &str = r#"
[[rules]]
name = "blocked"
when = 'task.caller == "+15005550100" OR worker.phone == task.caller'
instruction = "reject"

[[rules]]
name = "known-caller"
when = 'task.caller == "+15005550199" AND task.caller_name2 == "Ann" AND task.customer.tier == "gold" AND worker.name == "Alice"'
instruction = "accept"

[default]
instruction = "accept"
"#;

#[test]
fn trials_mask_the_values_read_at_masked_paths_and_keep_the_others() {
    // Arrange
    let rules = parse(RULES).unwrap();
    let callback = callback(
        json!({"caller": "+15005550199", "caller_name2": "Ann", "customer": {"tier": "gold"}}),
        json!({"phone": "+15005550123", "name": "Alice"}),
    );
    let (mut trials, decision) = rules.explain(&callback, now());
    assert_eq!(decision.rule, "known-caller");

    // Act
    mask(&["task.caller", "task.customer"]).trials(&mut trials);

    // Assert: the first rule, which did not match, both its terms.
    let blocked = &trials[0].when.as_ref().unwrap().reasons;
    assert_eq!(blocked.len(), 2);
    assert_eq!(blocked[0].left.path.as_deref(), Some("task.caller"));
    assert_eq!(blocked[0].left.value, MASKED);
    assert_eq!(blocked[1].left.path.as_deref(), Some("worker.phone"));
    assert_eq!(blocked[1].left.value, "\"+15005550123\"");
    let (_, right) = blocked[1].comparison.as_ref().unwrap();
    assert_eq!(right.path.as_deref(), Some("task.caller"));
    assert_eq!(right.value, MASKED);
    // The rule that answered, every term of its AND.
    let known = &trials[1].when.as_ref().unwrap().reasons;
    let values: Vec<(&str, &str)> = known
        .iter()
        .map(|reason| {
            (
                reason.left.path.as_deref().unwrap(),
                reason.left.value.as_str(),
            )
        })
        .collect();
    assert_eq!(
        values,
        [
            ("task.caller", MASKED),
            ("task.caller_name2", "\"Ann\""),
            ("task.customer.tier", MASKED),
            ("worker.name", "\"Alice\""),
        ]
    );
}

#[test]
fn trials_leave_literals_to_be_scrubbed_by_value() {
    // Arrange: a literal has no path; a literal equal to the value is `scrub`'s to mask.
    let rules = parse(RULES).unwrap();
    let callback = callback(json!({"caller": "+15005550199"}), json!({}));
    let (mut trials, _) = rules.explain(&callback, now());

    // Act
    mask(&["task.caller"]).trials(&mut trials);

    // Assert
    let blocked = &trials[0].when.as_ref().unwrap().reasons;
    let (_, literal) = blocked[0].comparison.as_ref().unwrap();
    assert_eq!(literal.path, None);
    assert_eq!(literal.value, "\"+15005550100\"");
}

#[test]
fn trials_are_unchanged_by_an_empty_mask() {
    // Arrange
    let rules = parse(RULES).unwrap();
    let callback = callback(
        json!({"caller": "+15005550199", "caller_name2": "Ann", "customer": {"tier": "gold"}}),
        json!({"name": "Alice"}),
    );
    let (mut trials, _) = rules.explain(&callback, now());
    let (before, _) = rules.explain(&callback, now());

    // Act
    Mask::default().trials(&mut trials);

    // Assert
    let whens =
        |trials: &[Trial<'_>]| -> Vec<_> { trials.iter().map(|t| t.when.clone()).collect() };
    assert_eq!(whens(&trials), whens(&before));
}

#[test]
fn trials_mask_a_lone_operand_at_a_masked_path() {
    // Arrange
    let rules = parse(
        r#"
[[rules]]
name = "vip"
when = 'task.vip AND NOT task.blocked'
instruction = "accept"

[default]
instruction = "reject"
"#,
    )
    .unwrap();
    let callback = callback(json!({"vip": true, "blocked": false}), json!({}));
    let (mut trials, _) = rules.explain(&callback, now());

    // Act
    mask(&["task.vip"]).trials(&mut trials);

    // Assert
    let reasons = &trials[0].when.as_ref().unwrap().reasons;
    assert_eq!(reasons[0].left.value, MASKED);
    assert_eq!(reasons[1].left.path.as_deref(), Some("task.blocked"));
    assert_eq!(reasons[1].left.value, "false");
}
