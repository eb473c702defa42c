use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;

use super::*;
use crate::decisions::mask::MASKED;
use crate::rules::file::parse;

const CALLER: &str = "+15005550199";

fn callback(task: Value) -> AssignmentCallback {
    AssignmentCallback {
        reservation_sid: "WR0123456789abcdef0123456789abcdef".to_owned(),
        task_sid: "WT0123456789abcdef0123456789abcdef".to_owned(),
        worker_sid: "WK0123456789abcdef0123456789abcdef".to_owned(),
        workspace_sid: "WS0123456789abcdef0123456789abcdef".to_owned(),
        account_sid: Some("AC0123456789abcdef0123456789abcdef".to_owned()),
        workflow_sid: Some("WW0123456789abcdef0123456789abcdef".to_owned()),
        task_queue_sid: None,
        timestamp: None,
        task_age: Some(12.0),
        task_priority: Some(1.0),
        task_attributes: task,
        worker_attributes: json!({"contact_uri": "client:alice", "name": "Alice"}),
    }
}

/// 2026-12-01T10:00:00.123Z.
fn decided_at() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_796_119_200_123)
}

fn rules(text: &str) -> Arc<RuleSet> {
    Arc::new(
        parse(text)
            .unwrap_or_else(|problems| panic!("{problems:?}"))
            .with_revision("3f2a9c0d1e2b".to_owned()),
    )
}

/// A decision as the answer path hands it over: decided by `rules` themselves.
fn decided(rules: Arc<RuleSet>, callback: AssignmentCallback) -> Decided {
    let now: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
    let decision = rules.decide(&callback, now);
    let rule = decision.label.clone();
    let instruction = decision.instruction.name();
    let delivery = decision.delivery.name();
    let answer = decision.answer.clone();
    drop(decision);
    Decided {
        rules,
        callback,
        now,
        decided_at: decided_at(),
        rule,
        instruction,
        delivery,
        answer,
    }
}

fn caller_mask() -> Mask {
    Mask::new(vec!["task.caller".into()])
}

const INLINE: &str = r#"
[[rules]]
name = "spanish"
when = 'task.language == "es"'
instruction = "reject"

[[rules]]
name = "vip"
when = 'task.vip == true'
instruction = "accept"

[[rules]]
name = "callers"
when = 'task.language == "en"'
instruction = "call"
from = "+15005550006"
url = "https://example.com/twiml"

[default]
instruction = "accept"
"#;

const REST: &str = r#"
[[rules]]
name = "spanish"
when = 'task.language == "es"'
instruction = "reject"

[[rules]]
name = "to-alice"
instruction = "dequeue"
delivery = "rest"
from = "+15005550006"
to = "{{worker.contact_uri}}"

[default]
instruction = "accept"
"#;

#[test]
fn an_inline_record_holds_the_decision_and_its_answer() {
    // Arrange
    let decided = decided(
        rules(INLINE),
        callback(json!({"language": "en", "vip": false})),
    );

    // Act
    let record = record(&decided, &Mask::default());

    // Assert
    assert_eq!(record.decided_at, "2026-12-01T10:00:00.123Z");
    assert_eq!(record.reservation_sid, "WR0123456789abcdef0123456789abcdef");
    assert_eq!(record.task_sid, "WT0123456789abcdef0123456789abcdef");
    assert_eq!(record.worker_sid, "WK0123456789abcdef0123456789abcdef");
    assert_eq!(record.workspace_sid, "WS0123456789abcdef0123456789abcdef");
    assert_eq!(
        record.workflow_sid.as_deref(),
        Some("WW0123456789abcdef0123456789abcdef")
    );
    assert_eq!(record.rule, "callers");
    assert_eq!(record.instruction, "call");
    assert_eq!(record.delivery, "inline");
    assert_eq!(
        record.answer,
        serde_json::from_slice::<Value>(&decided.answer).unwrap()
    );
    assert_eq!(record.answer["instruction"], "call");
    assert_eq!(record.answer["from"], "+15005550006");
    assert_eq!(record.answer["url"], "https://example.com/twiml");
    assert_eq!(record.form, None);
    assert_eq!(record.update, None);
    assert_eq!(record.outcomes, Vec::new());
    assert_eq!(record.shadows, Vec::<String>::new());
}

#[test]
fn the_trace_names_each_earlier_rule_that_did_not_match_and_the_one_that_answered() {
    // Arrange
    let decided = decided(
        rules(INLINE),
        callback(json!({"language": "en", "vip": false})),
    );

    // Act
    let record = record(&decided, &Mask::default());

    // Assert
    assert_eq!(
        record.trace,
        [
            "rule \"spanish\": does not match",
            "    `task.language` = `\"en\"`, compared `==` with `\"es\"`: false",
            "rule \"vip\": does not match",
            "    `task.vip` = `false`, compared `==` with `true`: false",
            "rule \"callers\": answers",
            "    `task.language` = `\"en\"`, compared `==` with `\"en\"`: true",
        ]
    );
}

#[test]
fn the_trace_says_when_the_default_answered() {
    // Arrange
    let decided = decided(rules(INLINE), callback(json!({"language": "fr"})));

    // Act
    let record = record(&decided, &Mask::default());

    // Assert
    assert_eq!(record.rule, "default");
    assert_eq!(record.instruction, "accept");
    assert_eq!(record.answer, json!({"instruction": "accept"}));
    assert_eq!(
        record
            .trace
            .iter()
            .filter(|line| !line.starts_with(' '))
            .collect::<Vec<_>>(),
        [
            "rule \"spanish\": does not match",
            "rule \"vip\": does not match",
            "rule \"callers\": does not match",
            "default: answers (no rule did)",
        ]
    );
}

#[test]
fn a_rest_record_holds_its_form_and_a_pending_update() {
    // Arrange
    let decided = decided(rules(REST), callback(json!({"language": "en"})));

    // Act
    let record = record(&decided, &Mask::default());

    // Assert
    assert_eq!(record.rule, "to-alice");
    assert_eq!(record.instruction, "dequeue");
    assert_eq!(record.delivery, "rest");
    assert_eq!(record.answer, json!({}));
    let form = record.form.expect("a REST record has its form");
    for expected in [
        ("Instruction", "dequeue"),
        ("DequeueFrom", "+15005550006"),
        ("DequeueTo", "client:alice"),
    ] {
        assert!(
            form.iter()
                .any(|(key, value)| key == expected.0 && value == expected.1),
            "{expected:?} missing from {form:?}"
        );
    }
    assert_eq!(
        record.update,
        Some(UpdateRecord {
            attempts: 0,
            state: "pending".to_owned(),
            detail: None,
            ended_at: None,
        })
    );
    assert_eq!(
        record.trace,
        [
            "rule \"spanish\": does not match",
            "    `task.language` = `\"en\"`, compared `==` with `\"es\"`: false",
            "rule \"to-alice\": answers",
        ]
    );
}

#[test]
fn a_rest_form_shows_a_password_by_its_length_only() {
    // Arrange
    let decided = decided(
        rules(
            r#"
[[rules]]
name = "sip"
instruction = "conference"
delivery = "rest"
from = "+15005550006"
sip_auth_username = "router"
sip_auth_password = "s3cret-Pa55"

[default]
instruction = "accept"
"#,
        ),
        callback(json!({})),
    );

    // Act
    let record = record(&decided, &Mask::default());

    // Assert
    let form = record.form.unwrap();
    assert!(
        form.iter()
            .any(|(key, value)| key == "SipAuthPassword" && value == "<11 characters, not shown>"),
        "{form:?}"
    );
    assert!(
        !serde_json::to_string(&record.trace)
            .unwrap()
            .contains("s3cret")
    );
    assert!(!format!("{form:?}").contains("s3cret"));
}

#[test]
fn the_revision_is_the_rules_sets_own() {
    // Arrange
    let rules = Arc::new(
        parse(INLINE)
            .unwrap()
            .with_revision("0123456789ab".to_owned()),
    );
    let decided = decided(rules, callback(json!({})));

    // Act
    let record = record(&decided, &Mask::default());

    // Assert
    assert_eq!(record.revision, "0123456789ab");
}

const SHADOWED: &str = r#"
[[rules]]
name = "new-vip-routing"
mode = "shadow"
when = 'task.vip == true'
instruction = "dequeue"
from = "+15005550006"

[[rules]]
name = "new-chat-routing"
mode = "shadow"
when = 'task.channel == "chat"'
instruction = "reject"

[[rules]]
name = "vip"
when = 'task.vip == true'
instruction = "accept"

[default]
instruction = "reject"
"#;

#[test]
fn each_shadow_rules_verdict_is_recorded() {
    // Arrange
    let decided = decided(rules(SHADOWED), callback(json!({"vip": true})));

    // Act
    let record = record(&decided, &Mask::default());

    // Assert: the live rule answered; the shadows are apart.
    assert_eq!(record.rule, "vip");
    assert_eq!(record.trace[0], "rule \"vip\": answers");
    assert!(record.trace.iter().all(|line| !line.contains("new-")));
    assert_eq!(
        record.shadows[0],
        "shadow rule \"new-vip-routing\": would answer dequeue (inline), but shadow rules \
         never answer"
    );
    assert!(
        record
            .shadows
            .iter()
            .any(|line| line.starts_with("    would answer: {") && line.contains("dequeue")),
        "{:?}",
        record.shadows
    );
    assert!(
        record
            .shadows
            .contains(&"shadow rule \"new-chat-routing\": does not match".to_owned()),
        "{:?}",
        record.shadows
    );
}

#[test]
fn without_shadow_rules_there_are_no_shadow_verdicts() {
    // Arrange
    let decided = decided(rules(INLINE), callback(json!({"vip": true})));

    // Act
    let record = record(&decided, &Mask::default());

    // Assert
    assert_eq!(record.rule, "vip");
    assert_eq!(record.shadows, Vec::<String>::new());
}

#[test]
fn an_answer_that_is_not_json_is_recorded_as_an_empty_object() {
    // Arrange
    let mut decided = decided(rules(INLINE), callback(json!({})));
    decided.answer = Bytes::from_static(b"not json");

    // Act
    let record = record(&decided, &Mask::default());

    // Assert
    assert_eq!(record.answer, json!({}));
}

/// Every way a callback's value reaches a record: an earlier rule's `when`, a skipped
/// rule's reason, a shadow rule's answer and form, the answering rule's `when` and answer.
const COPIES_THE_CALLER: &str = r#"
[[rules]]
name = "blocked"
when = 'task.caller == "+15005550100" OR task.caller CONTAINS "999"'
instruction = "reject"

[[rules]]
name = "redirect-caller"
when = 'task.caller != null'
instruction = "redirect"
call_sid = "{{task.caller}}"
url = "https://example.com/twiml"

[[rules]]
name = "shadow-rest"
mode = "shadow"
when = 'task.caller == "+15005550199"'
instruction = "dequeue"
delivery = "rest"
from = "{{task.caller}}"
to = "{{task.caller}}"

[[rules]]
name = "shadow-inline"
mode = "shadow"
instruction = "call"
from = "{{task.caller}}"
url = "https://example.com/twiml"

[[rules]]
name = "ring-back"
when = 'task.caller == "+15005550199" AND worker.name == "Alice"'
instruction = "call"
from = "{{task.caller}}"
to = "{{task.caller}}"
url = "https://example.com/twiml"

[default]
instruction = "accept"
"#;

#[test]
fn a_masked_value_appears_nowhere_in_an_inline_record() {
    // Arrange
    let decided = decided(
        rules(COPIES_THE_CALLER),
        callback(json!({"caller": CALLER, "language": "en"})),
    );
    assert_eq!(
        String::from_utf8_lossy(&decided.answer)
            .matches(CALLER)
            .count(),
        2,
        "the answer copies the caller twice"
    );

    // Act
    let record = record(&decided, &caller_mask());

    // Assert
    let json = serde_json::to_string(&record).unwrap();
    assert!(!json.contains(CALLER), "{json}");
    assert!(!json.contains("5005550199"), "{json}");
    // What was masked still reads as a record.
    assert_eq!(record.rule, "ring-back");
    assert_eq!(record.answer["from"], MASKED);
    assert_eq!(record.answer["to"], MASKED);
    assert_eq!(record.answer["url"], "https://example.com/twiml");
    assert!(
        record.trace.contains(
            &"    `task.caller` = `<masked>`, compared `==` with `\"+15005550100\"`: false"
                .to_owned()
        ),
        "{:?}",
        record.trace
    );
    assert!(
        record.trace.contains(
            &"    `worker.name` = `\"Alice\"`, compared `==` with `\"Alice\"`: true".to_owned()
        ),
        "{:?}",
        record.trace
    );
    assert!(
        record
            .trace
            .contains(&"rule \"redirect-caller\": matched, but is skipped".to_owned()),
        "{:?}",
        record.trace
    );
    assert!(
        record.shadows.iter().any(
            |line| line.starts_with("shadow rule \"shadow-rest\": would answer dequeue (rest)")
        ),
        "{:?}",
        record.shadows
    );
    assert!(
        record
            .shadows
            .contains(&"    would send DequeueFrom=<masked>".to_owned()),
        "{:?}",
        record.shadows
    );
}

#[test]
fn without_the_mask_the_same_record_does_hold_the_value() {
    // Arrange: so that the test above proves the mask, not the absence of the value.
    let decided = decided(
        rules(COPIES_THE_CALLER),
        callback(json!({"caller": CALLER, "language": "en"})),
    );

    // Act
    let record = record(&decided, &Mask::default());

    // Assert
    let json = serde_json::to_string(&record).unwrap();
    assert!(json.matches(CALLER).count() >= 6, "{json}");
    assert_eq!(record.answer["from"], CALLER);
}

#[test]
fn a_masked_value_appears_nowhere_in_a_rest_record() {
    // Arrange
    let decided = decided(
        rules(
            r#"
[[rules]]
name = "blocked"
when = 'task.caller == "+15005550100"'
instruction = "reject"

[[rules]]
name = "bridge"
when = 'task.caller == "+15005550199"'
instruction = "dequeue"
delivery = "rest"
from = "{{task.caller}}"
to = "client:alice"

[default]
instruction = "accept"
"#,
        ),
        callback(json!({"caller": CALLER})),
    );

    // Act
    let record = record(&decided, &caller_mask());

    // Assert
    let json = serde_json::to_string(&record).unwrap();
    assert!(!json.contains(CALLER), "{json}");
    let form = record.form.unwrap();
    assert!(
        form.contains(&("DequeueFrom".to_owned(), MASKED.to_owned())),
        "{form:?}"
    );
    assert!(
        form.contains(&("DequeueTo".to_owned(), "client:alice".to_owned())),
        "{form:?}"
    );
    assert_eq!(record.update.unwrap().state, "pending");
}

#[test]
fn a_masked_value_json_escapes_is_masked_in_both_forms() {
    // Arrange: a value with quotes and a backslash, copied into the answer and compared.
    let name = r#"Ann "Boss" Lee \ Jr"#;
    let decided = decided(
        rules(
            r#"
[[rules]]
name = "boss"
when = 'task.caller == "Ann \"Boss\" Lee \\ Jr"'
instruction = "dequeue"
from = "+15005550006"
to = "{{task.caller}}"

[default]
instruction = "accept"
"#,
        ),
        callback(json!({"caller": name})),
    );
    assert_eq!(decided.rule.as_str(), "boss");

    // Act
    let record = record(&decided, &caller_mask());

    // Assert
    let json = serde_json::to_string(&record).unwrap();
    assert!(!json.contains("Boss"), "{json}");
    assert_eq!(record.answer["to"], MASKED);
}

#[test]
fn a_masked_object_and_its_values_appear_nowhere() {
    // Arrange
    let decided = decided(
        rules(
            r#"
[[rules]]
name = "vip-customers"
when = 'task.customer.tier == "gold" AND task.customer != null'
instruction = "dequeue"
from = "{{task.customer.phone}}"
to = "client:alice"

[default]
instruction = "accept"
"#,
        ),
        callback(json!({"customer": {"tier": "gold", "phone": CALLER, "name": "Ann Lee"}})),
    );

    // Act
    let record = record(&decided, &Mask::new(vec!["task.customer".into()]));

    // Assert
    let json = serde_json::to_string(&record).unwrap();
    for secret in [CALLER, "Ann Lee"] {
        assert!(!json.contains(secret), "{secret} in {json}");
    }
    assert_eq!(record.rule, "vip-customers");
    assert_eq!(
        record.trace,
        [
            "rule \"vip-customers\": answers",
            "    `task.customer.tier` = `<masked>`, compared `==` with `\"<masked>\"`: true",
            "    `task.customer` = `<masked>`, compared `!=` with `null`: true",
        ]
    );
    assert_eq!(record.answer["from"], MASKED);
}

#[test]
fn a_masked_value_filled_into_a_url_appears_nowhere() {
    // Arrange
    let decided = decided(
        rules(
            r#"
[[rules]]
name = "ring-back"
instruction = "call"
from = "+15005550006"
url = "https://example.com/twiml?caller={{task.caller}}"

[default]
instruction = "accept"
"#,
        ),
        callback(json!({"caller": CALLER})),
    );

    // Act
    let record = record(&decided, &caller_mask());

    // Assert
    let json = serde_json::to_string(&record).unwrap();
    assert!(!json.contains("5005550199"), "{json}");
}
