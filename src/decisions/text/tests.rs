use serde_json::json;

use super::*;

const WR: &str = "WR0123456789abcdef0123456789abcdef";

fn inline_record() -> DecisionRecord {
    DecisionRecord {
        decided_at: "2026-12-01T15:00:00.123Z".to_owned(),
        reservation_sid: WR.to_owned(),
        task_sid: "WT0123456789abcdef0123456789abcdef".to_owned(),
        worker_sid: "WK0123456789abcdef0123456789abcdef".to_owned(),
        workspace_sid: "WS0123456789abcdef0123456789abcdef".to_owned(),
        workflow_sid: Some("WW0123456789abcdef0123456789abcdef".to_owned()),
        rule: "vip".to_owned(),
        instruction: "accept".to_owned(),
        delivery: "inline".to_owned(),
        answer: json!({"instruction": "accept"}),
        form: None,
        revision: "3f2a9c".to_owned(),
        trace: vec![
            "rule \"night\": does not match".to_owned(),
            "    schedule \"office\" is open".to_owned(),
            "rule \"vip\": answers".to_owned(),
        ],
        shadows: Vec::new(),
        update: None,
        outcomes: Vec::new(),
    }
}

fn rest_record() -> DecisionRecord {
    DecisionRecord {
        rule: "default".to_owned(),
        instruction: "dequeue".to_owned(),
        delivery: "rest".to_owned(),
        answer: json!({}),
        form: Some(vec![
            ("Instruction".to_owned(), "dequeue".to_owned()),
            ("DequeueFrom".to_owned(), "+15550100".to_owned()),
        ]),
        workflow_sid: None,
        trace: vec![
            "rule \"vip\": does not match".to_owned(),
            "default: answers (no rule did)".to_owned(),
        ],
        shadows: vec![
            "shadow rule \"new\": would answer reject (inline), but shadow rules never answer"
                .to_owned(),
            "    would answer: {\"instruction\":\"reject\"}".to_owned(),
        ],
        update: Some(UpdateRecord {
            attempts: 2,
            state: "landed".to_owned(),
            detail: Some("attempt 1: Twilio answered 503".to_owned()),
            ended_at: Some("2026-12-01T15:00:01.500Z".to_owned()),
        }),
        outcomes: vec![
            OutcomeRecord {
                outcome: "accepted".to_owned(),
                at: "2026-12-01T15:00:01.323Z".to_owned(),
                after_ms: 1_200,
            },
            OutcomeRecord {
                outcome: "completed".to_owned(),
                at: "2026-12-01T15:04:01.123Z".to_owned(),
                after_ms: 241_000,
            },
        ],
        ..inline_record()
    }
}

#[test]
fn an_inline_record_reads_like_explain() {
    // Act
    let shown = lines(&inline_record());

    // Assert
    assert_eq!(
        shown,
        [
            format!("reservation {WR}: rule \"vip\" answered accept (inline)"),
            "decided at 2026-12-01T15:00:00.123Z".to_owned(),
            "task WT0123456789abcdef0123456789abcdef, worker WK0123456789abcdef0123456789abcdef, \
             workspace WS0123456789abcdef0123456789abcdef, \
             workflow WW0123456789abcdef0123456789abcdef"
                .to_owned(),
            "revision 3f2a9c".to_owned(),
            "answer: {\"instruction\":\"accept\"}".to_owned(),
            "rules tried:".to_owned(),
            "    rule \"night\": does not match".to_owned(),
            "        schedule \"office\" is open".to_owned(),
            "    rule \"vip\": answers".to_owned(),
            "outcome: none yet".to_owned(),
        ]
    );
}

#[test]
fn a_rest_record_shows_its_form_shadows_update_and_outcomes() {
    // Act
    let shown = lines(&rest_record());

    // Assert
    assert_eq!(
        shown,
        [
            format!("reservation {WR}: no rule answered, the default answered dequeue (rest)"),
            "decided at 2026-12-01T15:00:00.123Z".to_owned(),
            "task WT0123456789abcdef0123456789abcdef, worker WK0123456789abcdef0123456789abcdef, \
             workspace WS0123456789abcdef0123456789abcdef, workflow not given"
                .to_owned(),
            "revision 3f2a9c".to_owned(),
            "answer: {}".to_owned(),
            "send Instruction=dequeue".to_owned(),
            "send DequeueFrom=+15550100".to_owned(),
            "rules tried:".to_owned(),
            "    rule \"vip\": does not match".to_owned(),
            "    default: answers (no rule did)".to_owned(),
            "shadow rules:".to_owned(),
            "    shadow rule \"new\": would answer reject (inline), but shadow rules never answer"
                .to_owned(),
            "        would answer: {\"instruction\":\"reject\"}".to_owned(),
            "update: landed after 2 attempts, at 2026-12-01T15:00:01.500Z".to_owned(),
            "    attempt 1: Twilio answered 503".to_owned(),
            "outcome: accepted at 2026-12-01T15:00:01.323Z (after 1.2 s)".to_owned(),
            "outcome: completed at 2026-12-01T15:04:01.123Z (after 4 min 1 s)".to_owned(),
        ]
    );
}

#[test]
fn each_update_state_reads_in_words() {
    let cases = [
        ("pending", 1, None, "update: pending, 1 attempt so far"),
        ("pending", 0, None, "update: pending, 0 attempts so far"),
        (
            "moved_on",
            1,
            Some("2026-12-01T15:00:02.000Z"),
            "update: moved on (the Reservation had ended) after 1 attempt, \
             at 2026-12-01T15:00:02.000Z",
        ),
        (
            "final_error",
            1,
            None,
            "update: failed for good after 1 attempt",
        ),
        (
            "expired",
            7,
            None,
            "update: expired (its deadline passed) after 7 attempts",
        ),
        ("dropped", 0, None, "update: dropped after 0 attempts"),
        (
            "sent_from_memory",
            0,
            Some("2026-12-01T15:00:02.000Z"),
            "update: sent from memory while the shared store was away (its attempts and end \
             are in the log of the replica that decided it)",
        ),
        ("paused", 3, None, "update: paused after 3 attempts"),
    ];
    for (state, attempts, ended_at, expected) in cases {
        // Arrange
        let record = DecisionRecord {
            update: Some(UpdateRecord {
                attempts,
                state: state.to_owned(),
                detail: None,
                ended_at: ended_at.map(str::to_owned),
            }),
            ..rest_record()
        };

        // Act
        let shown = lines(&record);

        // Assert
        assert!(
            shown.iter().any(|line| line == expected),
            "state {state}: expected `{expected}` in {shown:#?}"
        );
    }
}

#[test]
fn elapsed_times_read_as_an_operator_says_them() {
    let cases = [
        (0, "0 ms"),
        (340, "340 ms"),
        (999, "999 ms"),
        (1_000, "1.0 s"),
        (1_250, "1.2 s"),
        (59_999, "59.9 s"),
        (60_000, "1 min 0 s"),
        (125_400, "2 min 5 s"),
        (3_600_000, "1 h 0 min"),
        (11_400_000, "3 h 10 min"),
        (u64::MAX, "5124095576030 h 25 min"),
    ];
    for (ms, expected) in cases {
        assert_eq!(elapsed(ms), expected, "{ms} ms");
    }
}

#[test]
fn control_characters_from_the_callback_are_shown_escaped() {
    // Arrange: a templated value and a trace reason quoting a Task attribute.
    let record = DecisionRecord {
        form: Some(vec![(
            "To".to_owned(),
            "client:agent\r\n\u{1b}[2J".to_owned(),
        )]),
        trace: vec!["    task.name is \"a\nb\"".to_owned()],
        ..rest_record()
    };

    // Act
    let shown = lines(&record);

    // Assert
    assert!(shown.contains(&"send To=client:agent\\r\\n\\u{1b}[2J".to_owned()));
    assert!(shown.contains(&"        task.name is \"a\\nb\"".to_owned()));
    assert!(
        shown.iter().all(|line| !line.chars().any(char::is_control)),
        "{shown:#?}"
    );
}

#[test]
fn the_answer_is_compact_json() {
    // Arrange
    let record = DecisionRecord {
        answer: json!({"instruction": "dequeue", "to": "+15550100", "timeout": 30}),
        ..inline_record()
    };

    // Act
    let shown = lines(&record);

    // Assert
    let answer = shown
        .iter()
        .find(|line| line.starts_with("answer: "))
        .unwrap();
    assert!(
        !answer.contains(": \"") && !answer.contains('\n'),
        "{answer}"
    );
    let parsed: serde_json::Value =
        serde_json::from_str(answer.trim_start_matches("answer: ")).unwrap();
    assert_eq!(parsed, record.answer);
}
