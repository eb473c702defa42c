use serde_json::json;

use super::*;
use crate::rules::cases;

const RULES: &str = r#"
[[rules]]
name = "needs-a-number"
when = "task.vip == true"
instruction = "dequeue"
from = "{{task.caller_id}}"

[[rules]]
name = "spanish"
when = 'task.language == "es"'
instruction = "dequeue"
from = "+15005550006"
to = "{{worker.contact_uri}}"
timeout = 30
status_callback_events = ["answered", "completed"]

[[rules]]
name = "vip-conference"
when = "task.vip == true"
instruction = "conference"
delivery = "rest"
from = "+15005550006"
end_conference_on_exit = true
sip_auth_password = "hunter2"
status_callback_event = ["initiated", "answered"]

[[rules]]
name = "chats"
when = 'task.channel == "chat"'
instruction = "defer"

[default]
instruction = "accept"
"#;

fn rules() -> RuleSet {
    crate::rules::file::parse(RULES).unwrap()
}

/// Runs the one case of `case_text` against [`RULES`].
fn outcome(case_text: &str) -> Outcome {
    let rules = rules();
    let text = format!("[[cases]]\nname = \"the case\"\n{case_text}\n");
    let cases = cases::parse(&text, &rules).unwrap_or_else(|p| panic!("{p:#?}"));
    let at = "2026-12-01T15:00:00Z".parse().unwrap();
    run(&cases[0], &rules, at)
}

fn mismatch(key: &str, expected: Value, actual: Option<Value>) -> Mismatch {
    Mismatch {
        key: key.to_owned(),
        expected,
        actual,
    }
}

#[test]
fn a_case_that_holds_passes_with_no_trace() {
    // Act
    let outcome = outcome(
        "task = { language = \"es\" }\nworker = { contact_uri = \"client:alice\" }\n\
         expect = { rule = \"spanish\", instruction = \"dequeue\", delivery = \"inline\", \
         from = \"+15005550006\", to = \"client:alice\", timeout = 30, \
         status_callback_events = [\"answered\", \"completed\"], skipped = [] }",
    );
    // Assert
    assert!(outcome.passed(), "{:#?}", outcome.mismatches);
    assert_eq!(outcome.rule, "spanish");
    assert_eq!(
        (outcome.instruction, outcome.delivery),
        ("dequeue", "inline")
    );
    assert!(outcome.trace.is_empty());
}

#[test]
fn inline_fields_are_compared_with_the_json_answer_as_sent() {
    // Act: wrong values, the events as the comma-joined string TaskRouter is sent, and a
    // field the answer does not carry.
    let outcome = outcome(
        "task = { language = \"es\" }\nworker = { contact_uri = \"client:bob\" }\n\
         expect = { to = \"client:alice\", timeout = \"30\", \
         status_callback_events = \"answered,completed\", record = \"do-not-record\" }",
    );
    // Assert
    assert_eq!(
        outcome.mismatches,
        [
            mismatch("to", json!("client:alice"), Some(json!("client:bob"))),
            mismatch("timeout", json!("30"), Some(json!(30))),
            mismatch("record", json!("do-not-record"), None),
        ]
    );
}

#[test]
fn rule_instruction_and_delivery_are_compared_by_name() {
    let outcome = outcome(
        "task = { channel = \"chat\" }\n\
         expect = { rule = \"spanish\", instruction = \"accept\", delivery = \"rest\" }",
    );
    assert_eq!(
        outcome.mismatches,
        [
            mismatch("rule", json!("spanish"), Some(json!("chats"))),
            mismatch("instruction", json!("accept"), Some(json!("defer"))),
            mismatch("delivery", json!("rest"), Some(json!("inline"))),
        ]
    );
}

#[test]
fn rest_fields_are_compared_with_the_form_under_their_rest_names() {
    // Arrange: a VIP with a caller ID skips the first rule and reaches the conference.
    let passing = outcome(
        "task = { vip = true }\n\
         expect = { rule = \"vip-conference\", delivery = \"rest\", from = \"+15005550006\", \
         end_conference_on_exit = true, \
         status_callback_event = [\"initiated\", \"answered\"], skipped = [\"needs-a-number\"], \
         form = { Instruction = \"conference\", From = \"+15005550006\", \
         StatusCallbackEvent = [\"initiated\", \"answered\"] } }",
    );
    let failing = outcome(
        "task = { vip = true }\n\
         expect = { from = \"+1\", status_callback_event = \"initiated,answered\", \
         end_conference_on_exit = false, timeout = 20, \
         form = { StatusCallbackEvent = \"initiated\", Muted = true } }",
    );
    // Assert
    assert!(passing.passed(), "{:#?}", passing.mismatches);
    assert_eq!(passing.skipped, ["needs-a-number"]);
    assert_eq!(
        failing.mismatches,
        [
            mismatch("from", json!("+1"), Some(json!("+15005550006"))),
            mismatch(
                "end_conference_on_exit",
                json!("false"),
                Some(json!("true"))
            ),
            mismatch("timeout", json!("20"), None),
            mismatch(
                "form.StatusCallbackEvent",
                json!("initiated"),
                Some(json!(["initiated", "answered"]))
            ),
            mismatch("form.Muted", json!("true"), None),
        ]
    );
}

#[test]
fn a_form_expected_of_an_inline_answer_is_not_sent() {
    let outcome = outcome("expect = { form = { ReservationStatus = \"accepted\" } }");
    assert_eq!(
        outcome.mismatches,
        [mismatch("form.ReservationStatus", json!("accepted"), None)]
    );
}

#[test]
fn skipped_lists_rules_that_must_have_been_skipped_and_an_empty_list_none() {
    // Arrange: a VIP without a caller ID skips `needs-a-number`.
    let listed = outcome("task = { vip = true }\nexpect = { skipped = [\"needs-a-number\"] }");
    let none = outcome("task = { vip = true }\nexpect = { skipped = [] }");
    let other = outcome(
        "task = { language = \"es\" }\nworker = { contact_uri = \"client:alice\" }\n\
         expect = { skipped = [\"needs-a-number\"] }",
    );
    // Assert
    assert!(listed.passed(), "{:#?}", listed.mismatches);
    assert_eq!(
        none.mismatches,
        [mismatch(
            "skipped",
            json!([]),
            Some(json!(["needs-a-number"]))
        )]
    );
    assert_eq!(
        other.mismatches,
        [mismatch(
            "skipped",
            json!(["needs-a-number"]),
            Some(json!([]))
        )]
    );
}

#[test]
fn a_password_is_compared_but_never_shown() {
    // Arrange
    let right = outcome("task = { vip = true }\nexpect = { sip_auth_password = \"hunter2\" }");
    let wrong = outcome(
        "task = { vip = true }\n\
         expect = { sip_auth_password = \"letmein\", form = { SipAuthPassword = \"x\" } }",
    );
    // Assert
    assert!(right.passed(), "{:#?}", right.mismatches);
    assert_eq!(
        wrong.mismatches,
        [
            mismatch(
                "sip_auth_password",
                json!("<7 characters, not shown>"),
                Some(json!("<7 characters, not shown>"))
            ),
            mismatch(
                "form.SipAuthPassword",
                json!("<1 characters, not shown>"),
                Some(json!("<7 characters, not shown>"))
            ),
        ]
    );
    let trace = wrong.trace.join("\n");
    assert!(!trace.contains("hunter2"), "{trace}");
    assert!(
        trace.contains("SipAuthPassword=<7 characters, not shown>"),
        "{trace}"
    );
}

#[test]
fn a_failed_case_carries_the_trace_explain_would_print() {
    // Act
    let outcome = outcome("task = { vip = true }\nexpect = { rule = \"spanish\" }");
    // Assert
    assert_eq!(
        outcome.trace,
        [
            "at 2026-12-01T15:00:00Z",
            "rule \"needs-a-number\": matched, but is skipped",
            "    `task.vip` = `true`, compared `==` with `true`: true",
            "    field `from`: `task.caller_id` has no value",
            "rule \"spanish\": does not match",
            "    `task.language` = `null`, compared `==` with `\"es\"`: false",
            "rule \"vip-conference\": answers",
            "    `task.vip` = `true`, compared `==` with `true`: true",
            "answer: 200 application/json {}",
            "then: the Reservation update, with the form",
            "    Instruction=conference",
            "    From=+15005550006",
            "    EndConferenceOnExit=true",
            "    StatusCallbackEvent=initiated",
            "    StatusCallbackEvent=answered",
            "    SipAuthPassword=<7 characters, not shown>",
        ]
    );
}
