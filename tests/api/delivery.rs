//! REST delivery against a real local HTTP server standing in for Twilio.

use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::app::*;
use crate::support::twilio::*;

fn rest_rule(instruction_and_fields: &str) -> String {
    format!(
        "[[rules]]\nname = \"by-rest\"\ndelivery = \"rest\"\n{instruction_and_fields}\n\n\
         [default]\ninstruction = \"accept\"\n"
    )
}

/// The decoded pairs of a received form, in order.
fn form_of(request: &Request) -> Vec<(String, String)> {
    assignment_router::callback::form::parse(&request.body).unwrap()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn each_instruction_is_sent_with_the_exact_method_path_auth_headers_and_form() {
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "instruction = \"accept\"",
            vec![("ReservationStatus", "accepted")],
        ),
        (
            "instruction = \"reject\"\nactivity_sid = \"WAfedcba9876543210fedcba9876543210\"",
            vec![
                ("ReservationStatus", "rejected"),
                ("WorkerActivitySid", "WAfedcba9876543210fedcba9876543210"),
            ],
        ),
        (
            "instruction = \"dequeue\"\nfrom = \"+15005550006\"\nto = \"{{worker.contact_uri}}\"\n\
             post_work_activity_sid = \"WA0123456789abcdef0123456789abcdef\"\n\
             record = \"record-from-answer\"\ntimeout = 20\n\
             status_callback_url = \"https://example.com/s\"\n\
             status_callback_events = [\"ringing\", \"completed\"]",
            vec![
                ("Instruction", "dequeue"),
                ("DequeueTo", "client:alice"),
                ("DequeueFrom", "+15005550006"),
                (
                    "DequeuePostWorkActivitySid",
                    "WA0123456789abcdef0123456789abcdef",
                ),
                ("DequeueRecord", "record-from-answer"),
                ("DequeueTimeout", "20"),
                ("DequeueStatusCallbackUrl", "https://example.com/s"),
                ("DequeueStatusCallbackEvent", "ringing"),
                ("DequeueStatusCallbackEvent", "completed"),
            ],
        ),
        (
            "instruction = \"call\"\nfrom = \"+15005550006\"\nurl = \"https://example.com/t\"\n\
             to = \"+15005550001\"\naccept = true\nrecord = \"do-not-record\"\ntimeout = 15\n\
             status_callback_url = \"https://example.com/s\"",
            vec![
                ("Instruction", "call"),
                ("CallTo", "+15005550001"),
                ("CallFrom", "+15005550006"),
                ("CallUrl", "https://example.com/t"),
                ("CallAccept", "true"),
                ("CallRecord", "do-not-record"),
                ("CallTimeout", "15"),
                ("CallStatusCallbackUrl", "https://example.com/s"),
            ],
        ),
        (
            "instruction = \"redirect\"\ncall_sid = \"{{task.call_sid}}\"\n\
             url = \"https://example.com/v\"\naccept = false",
            vec![
                ("Instruction", "redirect"),
                ("RedirectCallSid", "CA0123456789abcdef0123456789abcdef"),
                ("RedirectUrl", "https://example.com/v"),
                ("RedirectAccept", "false"),
            ],
        ),
        (
            "instruction = \"conference\"\nfrom = \"+15005550006\"\nto = \"client:bob\"\n\
             timeout = 25\nrecord = true\nbeep = \"onEnter\"\nend_conference_on_exit = true\n\
             wait_url = \"https://example.com/hold\"\nwait_method = \"GET\"\nmax_participants = 3\n\
             status_callback_event = [\"initiated\", \"answered\"]\n\
             conference_status_callback_event = [\"start\", \"end\", \"join\"]\n\
             region = \"ie1\"",
            vec![
                ("Instruction", "conference"),
                ("To", "client:bob"),
                ("From", "+15005550006"),
                ("Timeout", "25"),
                ("Record", "true"),
                ("Beep", "onEnter"),
                ("EndConferenceOnExit", "true"),
                ("WaitUrl", "https://example.com/hold"),
                ("WaitMethod", "GET"),
                ("MaxParticipants", "3"),
                ("StatusCallbackEvent", "initiated"),
                ("StatusCallbackEvent", "answered"),
                ("ConferenceStatusCallbackEvent", "start"),
                ("ConferenceStatusCallbackEvent", "end"),
                ("ConferenceStatusCallbackEvent", "join"),
                ("Region", "ie1"),
            ],
        ),
    ];
    for (rule, expected) in cases {
        // Arrange
        let twilio = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(worker_reservation_path(RESERVATION_SID)))
            .and(header(
                "Authorization",
                basic_authorization(ACCOUNT_SID, TOKEN).as_str(),
            ))
            .and(header("Content-Type", "application/x-www-form-urlencoded"))
            .and(header("Accept", "application/json"))
            .respond_with(ok())
            .expect(1)
            .mount(&twilio)
            .await;
        let app = spawn_rest_app(&rest_rule(rule), &twilio.uri(), &[]).await;

        // Act
        let answer = instruction_of(app.post_signed(&default_callback()).await).await;
        let received = wait_for_requests(&twilio, 1, Duration::from_secs(5)).await;

        // Assert
        assert_eq!(answer, json!({}), "{rule}");
        assert_eq!(received.len(), 1, "{rule}");
        assert_eq!(form_of(&received[0]), pairs(&expected), "{rule}");
        twilio.verify().await;
    }
}

#[tokio::test]
async fn the_task_endpoint_and_an_api_key_are_used_when_configured() {
    // Arrange
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(task_reservation_path(RESERVATION_SID)))
        .and(header(
            "Authorization",
            basic_authorization("SK0123", "key-secret").as_str(),
        ))
        .respond_with(ok())
        .expect(1)
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(
        &rest_rule("instruction = \"accept\""),
        &twilio.uri(),
        &[
            ("APP_TWILIO__RESERVATION_ENDPOINT", "task"),
            ("TWILIO_API_KEY", "SK0123"),
            ("TWILIO_API_SECRET", "key-secret"),
        ],
    )
    .await;

    // Act
    let answer = instruction_of(app.post_signed(&default_callback()).await).await;
    wait_for_requests(&twilio, 1, Duration::from_secs(5)).await;

    // Assert
    assert_eq!(answer, json!({}));
    twilio.verify().await;
}

#[tokio::test]
async fn the_callback_is_answered_before_twilio_answers_the_update() {
    // Arrange
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok().set_delay(Duration::from_millis(1500)))
        .expect(1)
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(&rest_rule("instruction = \"accept\""), &twilio.uri(), &[]).await;

    // Act
    let started = Instant::now();
    let answer = instruction_of(app.post_signed(&default_callback()).await).await;
    let answered_after = started.elapsed();
    let received = wait_for_requests(&twilio, 1, Duration::from_secs(5)).await;

    // Assert
    assert_eq!(answer, json!({}));
    assert!(
        answered_after < Duration::from_millis(1000),
        "the callback waited for Twilio: {answered_after:?}"
    );
    assert_eq!(received.len(), 1);
}

#[tokio::test]
async fn the_same_reservation_twice_gets_the_same_answer_and_one_update() {
    // Arrange
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .expect(1)
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(&rest_rule("instruction = \"accept\""), &twilio.uri(), &[]).await;

    // Act
    let first = instruction_of(app.post_signed(&default_callback()).await).await;
    let second = instruction_of(app.post_signed(&default_callback()).await).await;
    wait_for_requests(&twilio, 2, Duration::from_millis(800)).await;

    // Assert
    assert_eq!(first, json!({}));
    assert_eq!(second, first);
    twilio.verify().await;
}

#[tokio::test]
async fn inline_rules_send_nothing_to_twilio() {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .expect(0)
        .mount(&twilio)
        .await;
    let app = spawn_rest_app("[default]\ninstruction = \"accept\"\n", &twilio.uri(), &[]).await;
    let answer = instruction_of(app.post_signed(&default_callback()).await).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(answer, json!({"instruction": "accept"}));
    twilio.verify().await;
}

#[tokio::test]
async fn a_forged_or_malformed_callback_sends_nothing_to_twilio() {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .expect(0)
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(&rest_rule("instruction = \"accept\""), &twilio.uri(), &[]).await;
    let body = encode(&default_callback());
    assert_refused(app.post_form(&body, None, "").await, 403).await;
    assert_refused(
        app.post_form(&body, Some("bm90IGEgc2lnbmF0dXJlIGF0IGFsbCE="), "")
            .await,
        403,
    )
    .await;
    let missing: Vec<_> = default_callback()
        .into_iter()
        .filter(|(k, _)| k != "WorkspaceSid")
        .collect();
    assert_refused(app.post_signed(&missing).await, 400).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    twilio.verify().await;
}

#[tokio::test]
async fn retryable_answers_are_retried_until_the_update_lands_exactly_once() {
    let cases = [
        (
            "429 with Retry-After",
            ResponseTemplate::new(429).insert_header("Retry-After", "1"),
        ),
        ("429 without Retry-After", ResponseTemplate::new(429)),
        ("500", ResponseTemplate::new(500)),
        ("503", ResponseTemplate::new(503)),
        (
            "an answer slower than request_timeout_ms",
            ok().set_delay(Duration::from_millis(1500)),
        ),
    ];
    for (what, first) in cases {
        // Arrange
        let twilio = MockServer::start().await;
        fail_then_succeed(&twilio, first, 1).await;
        let app = spawn_rest_app(
            &rest_rule("instruction = \"accept\""),
            &twilio.uri(),
            &[("APP_TWILIO__REQUEST_TIMEOUT_MS", "500")],
        )
        .await;

        // Act
        let started = Instant::now();
        instruction_of(app.post_signed(&default_callback()).await).await;
        let received = wait_for_requests(&twilio, 2, Duration::from_secs(8)).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let after = twilio.received_requests().await.unwrap();

        // Assert
        assert_eq!(received.len(), 2, "{what}: one failure, then one success");
        assert_eq!(after.len(), 2, "{what}: nothing more once it landed");
        if what == "429 with Retry-After" {
            assert!(
                started.elapsed() >= Duration::from_secs(1),
                "Retry-After honoured"
            );
        }
    }
}

#[tokio::test]
async fn a_refused_connection_is_retried_until_twilio_is_back() {
    // Arrange: a port with nothing listening yet.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = reserved.local_addr().unwrap();
    drop(reserved);
    let base = format!("http://{address}");
    let app = spawn_rest_app(&rest_rule("instruction = \"accept\""), &base, &[]).await;

    // Act
    instruction_of(app.post_signed(&default_callback()).await).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let listener = std::net::TcpListener::bind(address).unwrap();
    let twilio = MockServer::builder().listener(listener).start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .expect(1)
        .mount(&twilio)
        .await;
    let received = wait_for_requests(&twilio, 1, Duration::from_secs(8)).await;

    // Assert
    assert_eq!(received.len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    twilio.verify().await;
}

#[tokio::test]
async fn a_twilio_error_answer_is_final_after_exactly_one_attempt() {
    // Arrange
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(400, 20001, "Invalid DequeueFrom"))
        .expect(1)
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(
        &rest_rule("instruction = \"dequeue\"\nfrom = \"+15005550006\""),
        &twilio.uri(),
        &[],
    )
    .await;

    // Act
    instruction_of(app.post_signed(&default_callback()).await).await;
    wait_for_requests(&twilio, 1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;

    // Assert
    twilio.verify().await;
}

#[tokio::test]
async fn attempts_stop_at_the_update_deadline() {
    // Arrange
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(
        &rest_rule("instruction = \"accept\""),
        &twilio.uri(),
        &[("APP_TWILIO__UPDATE_DEADLINE_SECS", "2")],
    )
    .await;

    // Act
    instruction_of(app.post_signed(&default_callback()).await).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let at_deadline = twilio.received_requests().await.unwrap().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = twilio.received_requests().await.unwrap().len();

    // Assert
    assert!(at_deadline >= 2, "it was retried: {at_deadline} attempts");
    assert_eq!(later, at_deadline, "no attempt after the deadline");
}

#[tokio::test]
async fn no_more_than_max_in_flight_updates_are_out_at_once_and_the_rest_wait_their_turn() {
    // Arrange
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok().set_delay(Duration::from_millis(1000)))
        .expect(5)
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(
        &rest_rule("instruction = \"accept\""),
        &twilio.uri(),
        &[("APP_TWILIO__MAX_IN_FLIGHT", "2")],
    )
    .await;

    // Act
    for n in 0..5 {
        let pairs = set_reservation(default_callback(), n);
        assert_eq!(
            instruction_of(app.post_signed(&pairs).await).await,
            json!({})
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let first_wave = twilio.received_requests().await.unwrap().len();
    let all = wait_for_requests(&twilio, 5, Duration::from_secs(8)).await;

    // Assert
    assert_eq!(first_wave, 2, "only max_in_flight requests go out at once");
    assert_eq!(all.len(), 5, "the others waited their turn, none was lost");
    twilio.verify().await;
}

#[tokio::test]
async fn rest_updates_are_counted_by_outcome_with_their_attempts() {
    // Arrange: the first attempt fails with 500, the second lands.
    let twilio = MockServer::start().await;
    fail_then_succeed(&twilio, ResponseTemplate::new(500), 1).await;
    let app = spawn_rest_app(&rest_rule("instruction = \"accept\""), &twilio.uri(), &[]).await;

    // Act
    instruction_of(app.post_signed(&default_callback()).await).await;
    wait_for_requests(&twilio, 2, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = app.scrape().await;

    // Assert
    for line in [
        "assignment_router_rest_updates_total{outcome=\"landed\"} 1",
        "assignment_router_rest_update_attempts_total 2",
        "assignment_router_rest_update_duration_seconds_count 1",
        "assignment_router_rest_updates_in_flight 0",
    ] {
        assert!(
            metrics.text().contains(line),
            "missing {line:?} in:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn values_filled_into_url_fields_of_a_rest_update_are_percent_encoded() {
    let task = json!({
        "call_sid": "CA0123456789abcdef0123456789abcdef",
        "name": "a b&c=d#e",
        "hold": "jazz/../../admin",
        "caller": "+1 500 555&0006",
    });
    let worker = json!({"contact_uri": "client:alice?x=1&y=2"});
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "instruction = \"redirect\"\ncall_sid = \"{{task.call_sid}}\"\n\
             url = \"https://example.com/voicemail?customer={{task.name}}\"",
            vec![
                ("Instruction", "redirect"),
                ("RedirectCallSid", "CA0123456789abcdef0123456789abcdef"),
                (
                    "RedirectUrl",
                    "https://example.com/voicemail?customer=a%20b%26c%3Dd%23e",
                ),
            ],
        ),
        (
            "instruction = \"call\"\nfrom = \"{{task.caller}}\"\nto = \"{{worker.contact_uri}}\"\n\
             url = \"https://example.com/twiml?customer={{task.name}}\"\n\
             status_callback_url = \"https://example.com/status?c={{task.name}}\"",
            vec![
                ("Instruction", "call"),
                ("CallTo", "client:alice?x=1&y=2"),
                ("CallFrom", "+1 500 555&0006"),
                (
                    "CallUrl",
                    "https://example.com/twiml?customer=a%20b%26c%3Dd%23e",
                ),
                (
                    "CallStatusCallbackUrl",
                    "https://example.com/status?c=a%20b%26c%3Dd%23e",
                ),
            ],
        ),
        (
            "instruction = \"conference\"\nfrom = \"{{task.caller}}\"\nto = \"{{worker.contact_uri}}\"\n\
             wait_url = \"https://example.com/hold/{{task.hold}}\"\n\
             status_callback = \"https://example.com/status?c={{task.name}}\"",
            vec![
                ("Instruction", "conference"),
                ("To", "client:alice?x=1&y=2"),
                ("From", "+1 500 555&0006"),
                ("WaitUrl", "https://example.com/hold/jazz%2F..%2F..%2Fadmin"),
                (
                    "StatusCallback",
                    "https://example.com/status?c=a%20b%26c%3Dd%23e",
                ),
            ],
        ),
    ];
    for (rule, expected) in cases {
        // Arrange
        let twilio = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(worker_reservation_path(RESERVATION_SID)))
            .respond_with(ok())
            .expect(1)
            .mount(&twilio)
            .await;
        let app = spawn_rest_app(&rest_rule(rule), &twilio.uri(), &[]).await;

        // Act
        let answer = instruction_of(
            app.post_signed(&callback(task.clone(), worker.clone()))
                .await,
        )
        .await;
        let received = wait_for_requests(&twilio, 1, Duration::from_secs(5)).await;

        // Assert
        assert_eq!(answer, json!({}), "{rule}");
        assert_eq!(received.len(), 1, "{rule}");
        let form = form_of(&received[0]);
        assert_eq!(form, pairs(&expected), "{rule}");
        for (key, value) in &form {
            if key.ends_with("Url") || key == "StatusCallback" {
                let url = url::Url::parse(value).unwrap();
                assert_eq!(url.fragment(), None, "{key}={value}");
                if let Some((_, customer)) = url.query_pairs().next() {
                    assert_eq!(customer, "a b&c=d#e", "{key}={value}");
                }
            }
        }
        twilio.verify().await;
    }
}
