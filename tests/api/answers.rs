//! Each instruction's exact JSON, rule order, the default and templates.

use serde_json::json;

use crate::support::app::*;

#[tokio::test]
async fn accept_answers_only_the_instruction() {
    // Arrange
    let app = spawn_app("[default]\ninstruction = \"accept\"\n").await;
    // Act
    let response = app.post_signed(&default_callback()).await;
    // Assert
    assert_eq!(
        instruction_of(response).await,
        json!({"instruction": "accept"})
    );
}

#[tokio::test]
async fn reject_carries_the_activity_sid() {
    let app = spawn_app(
        r#"
        [default]
        instruction = "reject"
        activity_sid = "WAfedcba9876543210fedcba9876543210"
        "#,
    )
    .await;
    let response = app.post_signed(&default_callback()).await;
    assert_eq!(
        instruction_of(response).await,
        json!({"instruction": "reject", "activity_sid": "WAfedcba9876543210fedcba9876543210"})
    );
}

#[tokio::test]
async fn dequeue_carries_every_field_with_events_comma_joined_and_timeout_a_number() {
    let app = spawn_app(
        r#"
        [[rules]]
        name = "dequeue-all"
        instruction = "dequeue"
        to = "{{worker.contact_uri}}"
        from = "+15005550006"
        post_work_activity_sid = "WA0123456789abcdef0123456789abcdef"
        record = "record-from-answer"
        timeout = 30
        status_callback_url = "https://example.com/status"
        status_callback_events = ["answered", "completed"]

        [default]
        instruction = "accept"
        "#,
    )
    .await;
    let response = app.post_signed(&default_callback()).await;
    assert_eq!(
        instruction_of(response).await,
        json!({
            "instruction": "dequeue",
            "to": "client:alice",
            "from": "+15005550006",
            "post_work_activity_sid": "WA0123456789abcdef0123456789abcdef",
            "record": "record-from-answer",
            "timeout": 30,
            "status_callback_url": "https://example.com/status",
            "status_callback_events": "answered,completed"
        })
    );
}

#[tokio::test]
async fn call_carries_its_fields_with_accept_a_json_boolean() {
    let app = spawn_app(
        r#"
        [[rules]]
        name = "call-all"
        instruction = "call"
        to = "+15005550001"
        from = "+15005550006"
        url = "https://example.com/twiml?task={{TaskSid}}"
        accept = true
        record = "do-not-record"
        timeout = 999
        status_callback_url = "https://example.com/status"

        [default]
        instruction = "accept"
        "#,
    )
    .await;
    let response = app.post_signed(&default_callback()).await;
    assert_eq!(
        instruction_of(response).await,
        json!({
            "instruction": "call",
            "to": "+15005550001",
            "from": "+15005550006",
            "url": format!("https://example.com/twiml?task={TASK_SID}"),
            "accept": true,
            "record": "do-not-record",
            "timeout": 999,
            "status_callback_url": "https://example.com/status"
        })
    );
}

#[tokio::test]
async fn redirect_fills_the_call_sid_from_the_task() {
    let app = spawn_app(
        r#"
        [[rules]]
        name = "voicemail"
        instruction = "redirect"
        call_sid = "{{task.call_sid}}"
        url = "https://example.com/voicemail"
        accept = false

        [default]
        instruction = "accept"
        "#,
    )
    .await;
    let response = app.post_signed(&default_callback()).await;
    assert_eq!(
        instruction_of(response).await,
        json!({
            "instruction": "redirect",
            "call_sid": "CA0123456789abcdef0123456789abcdef",
            "url": "https://example.com/voicemail",
            "accept": false
        })
    );
}

#[tokio::test]
async fn defer_answers_an_empty_object() {
    let app = spawn_app("[default]\ninstruction = \"defer\"\n").await;
    let response = app.post_signed(&default_callback()).await;
    assert_eq!(instruction_of(response).await, json!({}));
}

#[tokio::test]
async fn absent_optional_keys_are_left_out() {
    let app = spawn_app(
        r#"
        [default]
        instruction = "dequeue"
        from = "+15005550006"
        "#,
    )
    .await;
    let response = app.post_signed(&default_callback()).await;
    assert_eq!(
        instruction_of(response).await,
        json!({"instruction": "dequeue", "from": "+15005550006"})
    );
}

const ORDERED_RULES: &str = r#"
    [[rules]]
    name = "first"
    when = 'task.language == "es"'
    instruction = "reject"

    [[rules]]
    name = "second"
    when = 'task.language == "es" OR task.language == "fr"'
    instruction = "defer"

    [default]
    instruction = "accept"
"#;

#[tokio::test]
async fn the_first_matching_rule_wins_and_the_default_answers_the_rest() {
    // Arrange
    let app = spawn_app(ORDERED_RULES).await;
    let cases = [
        ("es", json!({"instruction": "reject"})),
        ("fr", json!({})),
        ("en", json!({"instruction": "accept"})),
    ];
    for (language, expected) in cases {
        // Act
        let pairs = callback(json!({"language": language}), json!({}));
        let response = app.post_signed(&pairs).await;
        // Assert
        assert_eq!(
            instruction_of(response).await,
            expected,
            "language {language}"
        );
    }
}

#[tokio::test]
async fn a_template_with_no_value_skips_its_rule_for_the_next() {
    let app = spawn_app(
        r#"
        [[rules]]
        name = "needs-a-number"
        instruction = "dequeue"
        from = "{{task.caller_id}}"

        [[rules]]
        name = "fallback"
        instruction = "dequeue"
        from = "+15005550006"

        [default]
        instruction = "accept"
        "#,
    )
    .await;

    let without = callback(json!({"language": "en"}), json!({}));
    let with = callback(json!({"caller_id": "+15005550001"}), json!({}));

    assert_eq!(
        instruction_of(app.post_signed(&without).await).await,
        json!({"instruction": "dequeue", "from": "+15005550006"})
    );
    assert_eq!(
        instruction_of(app.post_signed(&with).await).await,
        json!({"instruction": "dequeue", "from": "+15005550001"})
    );
}

#[tokio::test]
async fn a_template_filled_with_a_badly_shaped_sid_skips_its_rule() {
    let app = spawn_app(
        r#"
        [[rules]]
        name = "voicemail"
        instruction = "redirect"
        call_sid = "{{task.call_sid}}"
        url = "https://example.com/voicemail"

        [default]
        instruction = "accept"
        "#,
    )
    .await;
    let pairs = callback(json!({"call_sid": "not-a-call"}), json!({}));
    assert_eq!(
        instruction_of(app.post_signed(&pairs).await).await,
        json!({"instruction": "accept"})
    );
}

#[tokio::test]
async fn health_and_ready_answer_on_both_listeners_with_a_request_id() {
    let app = spawn_app("[default]\ninstruction = \"accept\"\n").await;
    for base in [&app.address, &app.admin_address] {
        for path in ["/health", "/ready"] {
            let response = app
                .client
                .get(format!("{base}{path}"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{base}{path}");
            assert!(response.headers().contains_key("x-request-id"));
        }
    }
}

#[tokio::test]
async fn the_callback_path_is_not_served_on_the_admin_listener() {
    let app = spawn_app("[default]\ninstruction = \"accept\"\n").await;
    let response = app
        .client
        .post(format!("{}/assignment", app.admin_address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// The text of a URL in an answer, parsed as Twilio's URL handling reads it.
fn parsed(url: &serde_json::Value) -> url::Url {
    url::Url::parse(url.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn values_filled_into_url_fields_are_percent_encoded_as_one_component() {
    // Arrange
    let app = spawn_app(
        r#"
        [[rules]]
        name = "crm-call"
        instruction = "call"
        from = "{{task.from}}"
        to = "{{worker.contact_uri}}"
        url = "https://example.com/twiml?customer={{task.name}}&task={{TaskSid}}"
        status_callback_url = "https://example.com/status/{{task.segment}}/end"

        [default]
        instruction = "accept"
        "#,
    )
    .await;
    let pairs = callback(
        json!({
            "name": "a b&c=d#e",
            "segment": "../admin?x=1",
            "from": "+1 500 555&0006",
        }),
        json!({"contact_uri": "client:alice?x=1&y=2"}),
    );

    // Act
    let answer = instruction_of(app.post_signed(&pairs).await).await;

    // Assert: the exact text, ...
    assert_eq!(
        answer["url"],
        format!("https://example.com/twiml?customer=a%20b%26c%3Dd%23e&task={TASK_SID}")
    );
    assert_eq!(
        answer["status_callback_url"],
        "https://example.com/status/..%2Fadmin%3Fx%3D1/end"
    );
    // ... which reads back as one value each, adding no parameter, segment or fragment ...
    let url = parsed(&answer["url"]);
    assert_eq!(
        url.query_pairs().into_owned().collect::<Vec<_>>(),
        vec![
            ("customer".to_owned(), "a b&c=d#e".to_owned()),
            ("task".to_owned(), TASK_SID.to_owned()),
        ]
    );
    assert_eq!(url.fragment(), None);
    let status = parsed(&answer["status_callback_url"]);
    assert_eq!(
        status.path_segments().unwrap().collect::<Vec<_>>(),
        ["status", "..%2Fadmin%3Fx%3D1", "end"]
    );
    assert_eq!(status.query(), None);
    // ... while fields that are not URLs get the values as they are.
    assert_eq!(answer["from"], "+1 500 555&0006");
    assert_eq!(answer["to"], "client:alice?x=1&y=2");
}

const WHOLE_URL_RULES: &str = r#"
    [[rules]]
    name = "crm-twiml"
    instruction = "redirect"
    call_sid = "{{task.call_sid}}"
    url = "{{task.callback}}"

    [[rules]]
    name = "crm-base"
    instruction = "redirect"
    call_sid = "{{task.call_sid}}"
    url = "{{task.crm}}/twiml?id={{task.id}}"

    [default]
    instruction = "accept"
"#;

#[tokio::test]
async fn a_value_that_starts_a_url_template_is_the_url_and_goes_in_as_it_is() {
    // Arrange
    let app = spawn_app(WHOLE_URL_RULES).await;
    let call_sid = "CA0123456789abcdef0123456789abcdef";
    let cases = [
        (
            json!({"call_sid": call_sid, "callback": "https://crm.example.com/twiml?a=1&b=two%20words"}),
            json!({
                "instruction": "redirect",
                "call_sid": call_sid,
                "url": "https://crm.example.com/twiml?a=1&b=two%20words",
            }),
        ),
        (
            json!({"call_sid": call_sid, "crm": "https://crm.example.com/v2", "id": "7&admin=1"}),
            json!({
                "instruction": "redirect",
                "call_sid": call_sid,
                "url": "https://crm.example.com/v2/twiml?id=7%26admin%3D1",
            }),
        ),
    ];
    for (task, expected) in cases {
        // Act
        let answer =
            instruction_of(app.post_signed(&callback(task.clone(), json!({}))).await).await;
        // Assert
        assert_eq!(answer, expected, "{task}");
    }
}

#[tokio::test]
async fn a_whole_url_template_filled_with_no_absolute_http_url_skips_its_rule() {
    // Arrange
    let app = spawn_app(WHOLE_URL_RULES).await;
    let call_sid = "CA0123456789abcdef0123456789abcdef";
    for value in [
        "javascript:alert(1)",
        "/relative/twiml",
        "ftp://crm.example.com/twiml",
        "//crm.example.com/twiml",
        "",
    ] {
        // Act
        let task = json!({"call_sid": call_sid, "callback": value});
        let answer = instruction_of(app.post_signed(&callback(task, json!({}))).await).await;
        // Assert: neither redirect rule can answer; the default does.
        assert_eq!(answer, json!({"instruction": "accept"}), "{value:?}");
    }
    let metrics = app.scrape().await;
    assert_eq!(
        metrics.value::<u64>(
            "assignment_router_rules_skipped_total{rule=\"crm-twiml\",reason=\"invalid_value\"}"
        ),
        5,
        "{metrics}"
    );
}

#[tokio::test]
async fn skipped_rules_are_counted_by_rule_and_reason() {
    // Arrange
    let app = spawn_app(
        r#"
        [[rules]]
        name = "needs-contact"
        instruction = "dequeue"
        from = "+15005550006"
        to = "{{worker.contact_uri}}"

        [[rules]]
        name = "needs-a-url"
        instruction = "call"
        from = "+15005550006"
        url = "{{task.callback}}"

        [default]
        instruction = "accept"
        "#,
    )
    .await;
    let cases = [
        // (task, worker): both rules skipped, each for its own reason.
        (json!({"callback": "javascript:alert(1)"}), json!({})),
        (
            json!({"callback": "/relative"}),
            json!({"contact_uri": null}),
        ),
        (json!({}), json!({"contact_uri": {"sip": "alice"}})),
    ];
    for (task, worker) in cases {
        // Act
        let answer = instruction_of(app.post_signed(&callback(task, worker)).await).await;
        // Assert
        assert_eq!(answer, json!({"instruction": "accept"}));
    }
    let metrics = app.scrape().await;
    for (series, expected) in [
        (
            "assignment_router_rules_skipped_total{rule=\"needs-contact\",reason=\"no_value\"}",
            2,
        ),
        (
            "assignment_router_rules_skipped_total{rule=\"needs-contact\",reason=\"not_text\"}",
            1,
        ),
        (
            "assignment_router_rules_skipped_total{rule=\"needs-a-url\",reason=\"invalid_value\"}",
            2,
        ),
        (
            "assignment_router_rules_skipped_total{rule=\"needs-a-url\",reason=\"no_value\"}",
            1,
        ),
    ] {
        assert_eq!(
            metrics.value::<u64>(series),
            expected,
            "{series}\n{metrics}"
        );
    }
}
