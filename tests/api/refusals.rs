//! Every bad input of the contract: the exact status, and no instruction.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer};

use crate::support::app::*;
use crate::support::twilio::{ok, wait_for_requests, worker_reservation_path};

const RULES: &str = "[default]\ninstruction = \"accept\"\n";

#[tokio::test]
async fn a_callback_without_a_signature_is_forbidden_with_an_empty_body() {
    let app = spawn_app(RULES).await;
    let response = app.post_form(&encode(&default_callback()), None, "").await;
    let body = assert_refused(response, 403).await;
    assert_eq!(body, "");
}

#[tokio::test]
async fn forged_signatures_are_forbidden() {
    // Arrange
    let app = spawn_app(RULES).await;
    let pairs = default_callback();
    let mut tampered = pairs.clone();
    for (key, value) in &mut tampered {
        if key == "TaskAttributes" {
            *value = json!({"language": "en", "type": "voice", "vip": true}).to_string();
        }
    }
    let cases = [
        (
            "a wrong signature",
            "bm90IGEgc2lnbmF0dXJlIGF0IGFsbCE=".to_owned(),
            pairs.clone(),
        ),
        ("garbage", "%%%".to_owned(), pairs.clone()),
        (
            "one made for another URL",
            sign(TOKEN, "https://evil.example.com/assignment", &pairs),
            pairs.clone(),
        ),
        (
            "one made with another token",
            sign("another-token", PUBLIC_URL, &pairs),
            pairs.clone(),
        ),
        (
            "a tampered attribute",
            sign(TOKEN, PUBLIC_URL, &pairs),
            tampered.clone(),
        ),
        (
            "a trailing-slash URL mismatch",
            sign(TOKEN, &format!("{PUBLIC_URL}/"), &pairs),
            pairs.clone(),
        ),
        (
            "a signature lowercased",
            sign(TOKEN, PUBLIC_URL, &pairs).to_lowercase(),
            pairs.clone(),
        ),
    ];
    for (what, signature, sent) in cases {
        // Act
        let response = app.post_form(&encode(&sent), Some(&signature), "").await;
        // Assert
        assert_eq!(response.status(), 403, "{what}");
        assert_eq!(response.text().await.unwrap(), "", "{what}");
    }
}

#[tokio::test]
async fn a_signature_that_ignores_the_query_string_is_forbidden() {
    let app = spawn_app(RULES).await;
    let pairs = default_callback();
    let signature = sign(TOKEN, PUBLIC_URL, &pairs);
    let response = app
        .post_form(&encode(&pairs), Some(&signature), "?tenant=a")
        .await;
    assert_refused(response, 403).await;
}

#[tokio::test]
async fn a_body_that_is_not_a_form_is_unsupported() {
    let app = spawn_app(RULES).await;
    let pairs = default_callback();
    let signature = sign(TOKEN, PUBLIC_URL, &pairs);
    for content_type in [Some("application/json"), Some("text/plain"), None] {
        let mut request = app
            .client
            .post(format!("{}/assignment", app.address))
            .header("X-Twilio-Signature", &signature)
            .body(encode(&pairs));
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_refused(response, 415).await;
    }
}

#[tokio::test]
async fn a_malformed_form_is_a_bad_request_saying_why() {
    let app = spawn_app(RULES).await;
    let cases = [
        ("TaskSid=%zz", "`%` at byte 8"),
        ("TaskSid=%FF", "not valid UTF-8"),
    ];
    for (body, reason) in cases {
        let response = app
            .post_form(body, Some("c2lnbmF0dXJlLW9mLTIwLWJ5dGVzIQ=="), "")
            .await;
        let text = assert_refused(response, 400).await;
        assert!(text.contains(reason), "{body}: {text}");
        assert_eq!(text.lines().count(), 1, "one line: {text}");
    }
}

#[tokio::test]
async fn signed_attributes_that_are_not_a_json_object_are_a_bad_request() {
    let app = spawn_app(RULES).await;
    for (field, bad) in [
        ("TaskAttributes", "{not json"),
        ("WorkerAttributes", "[1, 2]"),
        ("TaskAttributes", "\"text\""),
    ] {
        let mut pairs = default_callback();
        for (key, value) in &mut pairs {
            if key == field {
                *value = bad.to_owned();
            }
        }
        let text = assert_refused(app.post_signed(&pairs).await, 400).await;
        assert!(text.contains(field), "{field}={bad}: {text}");
    }
}

#[tokio::test]
async fn a_signed_callback_missing_a_required_sid_is_a_bad_request_naming_it() {
    let app = spawn_app(RULES).await;
    for missing in ["ReservationSid", "TaskSid", "WorkerSid", "WorkspaceSid"] {
        let pairs: Vec<_> = default_callback()
            .into_iter()
            .filter(|(key, _)| key != missing)
            .collect();
        let text = assert_refused(app.post_signed(&pairs).await, 400).await;
        assert_eq!(text, format!("the callback has no {missing}\n"));
    }
}

#[tokio::test]
async fn an_unsigned_callback_missing_a_sid_is_forbidden_not_examined() {
    let app = spawn_app(RULES).await;
    let response = app.post_form("TaskSid=WT1", None, "").await;
    assert_refused(response, 403).await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_too_large() {
    let app = spawn_app_with(RULES, &[("APP_CALLBACK__MAX_BODY_BYTES", "2048")]).await;
    let mut pairs = default_callback();
    pairs.push(("Padding".to_owned(), "x".repeat(4096)));
    let response = app.post_signed(&pairs).await;
    assert_refused(response, 413).await;
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_too_large() {
    let app = spawn_app_with(RULES, &[("APP_CALLBACK__MAX_BODY_BYTES", "2048")]).await;
    let chunks: Vec<Result<String, std::io::Error>> = (0..10)
        .map(|_| Ok("a=".to_owned() + &"x".repeat(500) + "&"))
        .collect();
    let response = app
        .client
        .post(format!("{}/assignment", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_refused(response, 413).await;
}

#[tokio::test]
async fn other_methods_on_the_callback_path_are_not_allowed() {
    let app = spawn_app(RULES).await;
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let response = app
            .client
            .request(method.clone(), format!("{}/assignment", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], "POST", "{method}");
        assert_refused(response, 405).await;
    }
}

#[tokio::test]
async fn metrics_and_unknown_paths_are_not_found_on_the_callback_listener() {
    let app = spawn_app(RULES).await;
    for path in ["/metrics", "/nothing-here"] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_refused(response, 404).await;
    }
}

#[tokio::test]
async fn a_body_that_trickles_in_past_the_deadline_is_timed_out_and_others_are_still_served() {
    // Arrange: a client that sends the start of a body, then nothing for 7 seconds.
    let app = spawn_app(RULES).await;
    let slow = async_stream_body();
    let slow_request = app
        .client
        .post(format!("{}/assignment", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(slow))
        .send();

    // Act: the slow one, and meanwhile an ordinary callback.
    let (slow_response, ordinary) = tokio::join!(slow_request, async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.post_signed(&default_callback()).await
    });

    // Assert
    assert_eq!(
        instruction_of(ordinary).await,
        serde_json::json!({"instruction": "accept"})
    );
    assert_refused(slow_response.unwrap(), 408).await;
}

fn async_stream_body() -> impl futures_util::Stream<Item = Result<String, std::io::Error>> {
    futures_util::stream::unfold(0, |step| async move {
        match step {
            0 => Some((Ok("TaskSid=WT1&".to_owned()), 1)),
            1 => {
                tokio::time::sleep(Duration::from_secs(7)).await;
                Some((Ok("WorkerSid=WK1".to_owned()), 2))
            }
            _ => None,
        }
    })
}

#[tokio::test]
async fn deeply_nested_attribute_json_is_a_bad_request_not_a_crash() {
    let app = spawn_app(RULES).await;
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let mut pairs = default_callback();
    for (key, value) in &mut pairs {
        if key == "TaskAttributes" {
            *value = format!("{{\"a\":{deep}}}");
        }
    }
    let text = assert_refused(app.post_signed(&pairs).await, 400).await;
    assert!(text.contains("TaskAttributes"), "{text}");
    // And the service still answers.
    let again = app.post_signed(&default_callback()).await;
    assert_eq!(
        instruction_of(again).await,
        json!({"instruction": "accept"})
    );
}

#[tokio::test]
async fn very_long_attribute_strings_within_the_limit_are_routed() {
    let app = spawn_app(
        "[[rules]]\nname = \"long\"\nwhen = 'task.note CONTAINS \"needle\"'\ninstruction = \"reject\"\n\n[default]\ninstruction = \"accept\"\n",
    )
    .await;
    let note = "x".repeat(40_000) + "needle";
    let pairs = callback(json!({"note": note}), json!({}));
    assert_eq!(
        instruction_of(app.post_signed(&pairs).await).await,
        json!({"instruction": "reject"})
    );
}

#[tokio::test]
async fn thousands_of_form_pairs_are_a_bad_request() {
    let app = spawn_app(RULES).await;
    let body = "a=1&".repeat(5_000);
    let text = assert_refused(app.post_form(&body, None, "").await, 400).await;
    assert!(text.contains("more than 1000 pairs"), "{text}");
}

#[tokio::test]
async fn huge_headers_are_refused_and_the_service_keeps_answering() {
    let app = spawn_app(RULES).await;
    let response = app
        .client
        .post(format!("{}/assignment", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Padding", "p".repeat(256 * 1024))
        .body(encode(&default_callback()))
        .send()
        .await;
    // actix answers 431 or closes the connection; either way no instruction.
    if let Ok(response) = response {
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let again = app.post_signed(&default_callback()).await;
    assert_eq!(
        instruction_of(again).await,
        json!({"instruction": "accept"})
    );
}

#[tokio::test]
async fn invalid_utf8_and_bad_escapes_in_any_pair_are_bad_requests() {
    let app = spawn_app(RULES).await;
    for body in [
        &b"TaskSid=\xff\xfe"[..],
        b"Task%ZZSid=1",
        b"TaskSid=%",
        b"%E2%82=x",
    ] {
        let response = app
            .client
            .post(format!("{}/assignment", app.address))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_refused(response, 400).await;
    }
}

/// Every callback would be delivered over REST, so a refused one that still ran a rule
/// would show at Twilio.
const REST_RULES: &str = "[[rules]]\nname = \"vip\"\nwhen = \"task.vip == true\"\n\
                          delivery = \"rest\"\ninstruction = \"accept\"\n\n\
                          [default]\ndelivery = \"rest\"\ninstruction = \"reject\"\n";

/// The service with [`REST_RULES`], and a Twilio that must hear nothing from it.
async fn spawn_with_silent_twilio() -> (TestApp, MockServer) {
    let twilio = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok())
        .expect(0)
        .named("no update for a refused callback")
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(REST_RULES, &twilio.uri(), &[]).await;
    (app, twilio)
}

/// Asserts, after longer than a hand-over to the deliverer takes, that Twilio heard nothing.
async fn assert_nothing_sent(twilio: &MockServer) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(twilio.received_requests().await.unwrap().is_empty());
    twilio.verify().await;
}

/// The callback with `value` set as the first `key` and another copy appended.
fn with_second_copy(
    mut pairs: Vec<(String, String)>,
    key: &str,
    first: &str,
    second: &str,
) -> Vec<(String, String)> {
    for (k, v) in &mut pairs {
        if k == key {
            *v = first.to_owned();
        }
    }
    pairs.push((key.to_owned(), second.to_owned()));
    pairs
}

#[tokio::test]
async fn a_documented_field_given_twice_is_a_bad_request_naming_it_and_no_rule_runs() {
    // Arrange
    let (app, twilio) = spawn_with_silent_twilio().await;
    let fields = [
        ("TaskAttributes", r#"{"vip":true}"#),
        ("WorkerAttributes", r#"{"skills":["billing"]}"#),
        ("ReservationSid", "WRffffffffffffffffffffffffffffffff"),
        ("TaskSid", "WTffffffffffffffffffffffffffffffff"),
        ("WorkerSid", "WKffffffffffffffffffffffffffffffff"),
        ("WorkspaceSid", "WSffffffffffffffffffffffffffffffff"),
        ("TaskAge", "0"),
        ("TaskPriority", "100"),
        ("AccountSid", "ACffffffffffffffffffffffffffffffff"),
        ("WorkflowSid", "WWffffffffffffffffffffffffffffffff"),
        ("TaskQueueSid", "WQffffffffffffffffffffffffffffffff"),
        ("Timestamp", "1764324999"),
    ];
    for (field, second) in fields {
        let pairs = default_callback();
        let first = pairs.iter().find(|(k, _)| k == field).unwrap().1.clone();
        for (what, copy) in [
            ("the same value", first.as_str()),
            ("another value", second),
        ] {
            let sent = with_second_copy(pairs.clone(), field, &first, copy);

            // Act
            let response = app.post_signed(&sent).await;

            // Assert
            let body = assert_refused(response, 400).await;
            assert_eq!(
                body,
                format!("the callback has {field} more than once\n"),
                "{field}, {what}"
            );
        }
    }
    assert_nothing_sent(&twilio).await;
}

#[tokio::test]
async fn two_signed_copies_of_the_task_attributes_are_refused_in_either_order() {
    // Arrange: the signature sorts a key's values, so both orders carry the same valid
    // signature, and whichever copy a reader took would decide the route.
    let (app, twilio) = spawn_with_silent_twilio().await;
    let vip = json!({"language": "en", "vip": true}).to_string();
    let plain = json!({"language": "en", "vip": false}).to_string();
    let vip_first = with_second_copy(default_callback(), "TaskAttributes", &vip, &plain);
    let plain_first = with_second_copy(default_callback(), "TaskAttributes", &plain, &vip);
    assert_eq!(
        sign(TOKEN, PUBLIC_URL, &vip_first),
        sign(TOKEN, PUBLIC_URL, &plain_first),
        "the attack: swapping the copies keeps the signature"
    );
    for (what, sent) in [("vip first", vip_first), ("vip second", plain_first)] {
        // Act
        let response = app.post_signed(&sent).await;

        // Assert
        let body = assert_refused(response, 400).await;
        assert_eq!(
            body, "the callback has TaskAttributes more than once\n",
            "{what}"
        );
    }
    assert_nothing_sent(&twilio).await;
}

#[tokio::test]
async fn an_unknown_field_given_twice_is_still_routed() {
    // Arrange
    let app = spawn_app(RULES).await;
    let mut pairs = default_callback();
    pairs.push(("WorkerName".to_owned(), "alice".to_owned()));
    pairs.push(("WorkerName".to_owned(), "bob".to_owned()));

    // Act
    let response = app.post_signed(&pairs).await;

    // Assert
    assert_eq!(
        instruction_of(response).await,
        json!({"instruction": "accept"})
    );
}

#[tokio::test]
async fn more_than_one_signature_header_is_forbidden_even_when_each_is_valid() {
    // Arrange: the control callback, its own Reservation, is the only update Twilio may get.
    let twilio = MockServer::start().await;
    Mock::given(path(worker_reservation_path(RESERVATION_SID)))
        .respond_with(ok())
        .expect(0)
        .named("no update for the callbacks with two signatures")
        .mount(&twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(worker_reservation_path(&reservation_sid(1))))
        .respond_with(ok())
        .expect(1)
        .named("the update of the control callback")
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(REST_RULES, &twilio.uri(), &[]).await;
    let pairs = default_callback();
    let valid = sign(TOKEN, PUBLIC_URL, &pairs);
    let garbage = "bm90IGEgc2lnbmF0dXJlIGF0IGFsbCE=";
    let post_with_signatures = |signatures: [&str; 2]| {
        let mut request = app
            .client
            .post(format!("{}/assignment", app.address))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(encode(&pairs));
        // `header` appends: two calls send two headers.
        for signature in signatures {
            request = request.header("X-Twilio-Signature", signature);
        }
        request.send()
    };

    // Act
    let both_valid = post_with_signatures([&valid, &valid]).await.unwrap();
    let both_valid_status = both_valid.status();
    let both_valid_body = both_valid.text().await.unwrap();
    let after_one = app.scrape().await;
    let valid_first = post_with_signatures([&valid, garbage]).await.unwrap();
    let valid_second = post_with_signatures([garbage, &valid]).await.unwrap();
    let control = set_reservation(default_callback(), 1);
    let control_answer = app.post_signed(&control).await;

    // Assert
    assert_eq!(both_valid_status, 403);
    assert_eq!(both_valid_body, "");
    assert_eq!(
        after_one.value::<u64>("assignment_router_signature_failures_total{reason=\"repeated\"}"),
        1
    );
    for response in [valid_first, valid_second] {
        assert_eq!(assert_refused(response, 403).await, "");
    }
    assert_eq!(
        app.scrape()
            .await
            .value::<u64>("assignment_router_signature_failures_total{reason=\"repeated\"}"),
        3
    );
    assert_eq!(instruction_of(control_answer).await, json!({}));
    wait_for_requests(&twilio, 1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    twilio.verify().await;
}

/// A JSON object whose text is exactly 4,096 characters: `key` holding 3-byte characters,
/// each nine bytes once URL-encoded.
fn attributes_of_4096_characters(key: &str) -> serde_json::Value {
    let wrapping = format!("{{\"{key}\":\"\"}}").chars().count();
    let value = json!({ key: "中".repeat(4096 - wrapping) });
    assert_eq!(value.to_string().chars().count(), 4096);
    value
}

#[tokio::test]
async fn task_and_worker_attributes_of_4096_non_ascii_characters_each_fit_the_default_limit() {
    // Arrange: the rule reads both, so both must arrive whole.
    let app = spawn_app(
        "[[rules]]\nname = \"long\"\n\
         when = 'task.note CONTAINS \"中\" AND worker.bio CONTAINS \"中\"'\n\
         instruction = \"reject\"\n\n[default]\ninstruction = \"accept\"\n",
    )
    .await;
    let pairs = callback(
        attributes_of_4096_characters("note"),
        attributes_of_4096_characters("bio"),
    );
    let length = encode(&pairs).len();
    assert!(
        length > 65_536 && length < 131_072,
        "the body is {length} bytes"
    );

    // Act
    let response = app.post_signed(&pairs).await;

    // Assert
    assert_eq!(
        instruction_of(response).await,
        json!({"instruction": "reject"})
    );
}

#[tokio::test]
async fn a_body_of_exactly_the_default_limit_is_routed_and_one_byte_more_is_too_large() {
    // Arrange
    let app = spawn_app(RULES).await;
    let padded = |length: usize| {
        let mut pairs = default_callback();
        pairs.push(("Padding".to_owned(), String::new()));
        let base = encode(&pairs).len();
        pairs.last_mut().unwrap().1 = "x".repeat(length - base);
        assert_eq!(encode(&pairs).len(), length);
        pairs
    };

    // Act
    let at_limit = app.post_signed(&padded(131_072)).await;
    let over_limit = app.post_signed(&padded(131_073)).await;

    // Assert
    assert_eq!(
        instruction_of(at_limit).await,
        json!({"instruction": "accept"})
    );
    assert_refused(over_limit, 413).await;
}
