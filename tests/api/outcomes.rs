//! TaskRouter's events, black-box (§10.1 of the design): the release binary with
//! `callback.events_path` set, events signed as Twilio signs them, a stand-in Twilio. An event
//! is answered `204` at once; what the service did with it shows afterwards, on `/metrics`,
//! in the decision records, and in what reached (or stopped reaching) Twilio.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::app::*;
use crate::support::metrics::Scrape;
use crate::support::process::{Running, command, start};
use crate::support::twilio::{fail_then_succeed, ok, worker_reservation_path};

/// A REST rule, an inline rule other than the default, and the default.
const RULES: &str = r#"
[[rules]]
name = "vip-by-rest"
when = 'task.vip == true'
delivery = "rest"
instruction = "accept"

[[rules]]
name = "spanish"
when = 'task.language == "es"'
instruction = "reject"
activity_sid = "WA0123456789abcdef0123456789abcdef"

[default]
instruction = "accept"
"#;

/// How long an event's effects may take to show: it is acted on after its `204`, and
/// records are built a moment after their answer.
const SOON: Duration = Duration::from_secs(5);

/// The binary with events at `/events` and its Twilio at `twilio`; `extra` wins.
fn service(twilio: &MockServer, extra: &[(&str, &str)]) -> Running {
    let base = twilio.uri();
    let mut settings = vec![
        ("APP_CALLBACK__EVENTS_PATH", "/events"),
        ("APP_TWILIO__API_BASE_URL", base.as_str()),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
    ];
    settings.extend_from_slice(extra);
    start(command(RULES, &settings))
}

/// A callback for Reservation `n` that the REST rule decides.
fn vip(n: usize) -> Vec<(String, String)> {
    set_reservation(callback(json!({"vip": true}), json!({})), n)
}

/// A callback for Reservation `n` that the inline `spanish` rule decides.
fn spanish(n: usize) -> Vec<(String, String)> {
    set_reservation(callback(json!({"language": "es"}), json!({})), n)
}

/// A callback for Reservation `n` that only the default decides.
fn plain(n: usize) -> Vec<(String, String)> {
    set_reservation(default_callback(), n)
}

/// The `n`th Task's sid, for tests where each Reservation belongs to a Task of its own.
fn task_sid(n: usize) -> String {
    format!("WT{n:032x}")
}

/// The same pairs, with `key` set to `value` (added when missing).
fn with(mut pairs: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
    match pairs.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v = value.to_owned(),
        None => pairs.push((key.to_owned(), value.to_owned())),
    }
    pairs
}

/// The same pairs without `key`.
fn without(pairs: &[(String, String)], key: &str) -> Vec<(String, String)> {
    pairs.iter().filter(|(k, _)| k != key).cloned().collect()
}

/// Posts a signed callback and returns its answer, which must be a 200.
async fn decide(service: &Running, pairs: &[(String, String)]) -> Value {
    instruction_of(service.post_signed(pairs).await).await
}

/// Posts a signed event, which must be answered 204.
async fn send_event(service: &Running, pairs: &[(String, String)]) {
    let response = service.post_event(pairs).await;
    assert_eq!(response.status(), 204, "{pairs:?}");
}

/// Waits until the record of Reservation `n` is served (it is built a moment after the
/// answer), so that an event sent next finds its decision.
async fn wait_for_record(service: &Running, n: usize) -> Value {
    let record = service
        .record_when(&reservation_sid(n), SOON, |_| true)
        .await;
    assert_ne!(record, Value::Null, "no record of Reservation {n}");
    record
}

fn outcomes_series(rule: &str, outcome: &str) -> String {
    format!("assignment_router_reservation_outcomes_total{{rule=\"{rule}\",outcome=\"{outcome}\"}}")
}

fn events_series(kind: &str) -> String {
    format!("assignment_router_events_total{{type=\"{kind}\"}}")
}

fn unmatched_series(reason: &str) -> String {
    format!("assignment_router_events_unmatched_total{{reason=\"{reason}\"}}")
}

fn refusals_series(outcome: &str) -> String {
    format!("assignment_router_event_refusals_total{{outcome=\"{outcome}\"}}")
}

/// The sum of every `assignment_router_reservation_outcomes_total` series.
fn all_outcomes(scrape: &Scrape) -> f64 {
    scrape
        .text()
        .lines()
        .filter(|line| line.starts_with("assignment_router_reservation_outcomes_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// POSTs Twilio received for Reservation `n`'s update.
async fn posts_for(twilio: &MockServer, n: usize) -> usize {
    let path = worker_reservation_path(&reservation_sid(n));
    twilio
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|request| request.url.path() == path)
        .count()
}

/// Waits until Twilio has received at least `count` POSTs for each of `numbers`.
async fn wait_for_posts(twilio: &MockServer, numbers: std::ops::Range<usize>, count: usize) {
    let until = Instant::now() + SOON;
    loop {
        let mut all = true;
        for n in numbers.clone() {
            all &= posts_for(twilio, n).await >= count;
        }
        if all {
            return;
        }
        assert!(
            Instant::now() < until,
            "the updates were not tried {count} times each"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_event_is_answered_204_with_json_content_type_and_an_empty_body() {
    // Arrange
    let twilio = MockServer::start().await;
    let service = service(&twilio, &[]);
    let event = reservation_event("reservation.created", &reservation_sid(1));

    // Act
    let response = service.post_event(&event).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    let scrape = service
        .wait_for_series(&events_series("reservation.created"), 1.0, SOON)
        .await;

    // Assert
    assert_eq!(status, 204);
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(body, "");
    assert_eq!(
        scrape.value::<f64>(&events_series("reservation.created")),
        1.0,
        "{scrape}"
    );
    assert_eq!(
        twilio.received_requests().await.unwrap_or_default().len(),
        0,
        "an event sends nothing"
    );
}

#[tokio::test]
async fn events_are_checked_against_the_public_urls_origin_followed_by_the_events_path() {
    let cases = [
        (
            "http://127.0.0.1:8080/assignment",
            "http://127.0.0.1:8080/events",
        ),
        (
            "https://router.example.com:8443/twilio/assignment?tenant=a#rc=2",
            "https://router.example.com:8443/events",
        ),
        (
            "https://user:pass@router.example.com/twilio/assignment",
            "https://user:pass@router.example.com/events",
        ),
    ];
    for (public_url, events_url) in cases {
        // Arrange
        let twilio = MockServer::start().await;
        let service = service(&twilio, &[("APP_CALLBACK__PUBLIC_URL", public_url)]);
        let event = reservation_event("reservation.created", &reservation_sid(1));
        let body = encode(&event);
        let form = "application/x-www-form-urlencoded";

        // Act
        let for_events = service
            .post_to(
                "/events",
                form,
                &body,
                Some(&sign(TOKEN, events_url, &event)),
            )
            .await;
        let for_callbacks = service
            .post_to(
                "/events",
                form,
                &body,
                Some(&sign(TOKEN, public_url, &event)),
            )
            .await;

        // Assert
        assert_eq!(for_events.status(), 204, "{public_url} -> {events_url}");
        assert_eq!(
            for_callbacks.status(),
            403,
            "{public_url}: an event signed for the callback URL"
        );
        assert_eq!(for_callbacks.text().await.unwrap(), "");
    }
}

#[tokio::test]
async fn events_are_checked_against_events_public_url_when_it_is_given() {
    // Arrange
    let twilio = MockServer::start().await;
    let given = "https://hooks.example.net/taskrouter/workspace-events";
    let service = service(&twilio, &[("APP_CALLBACK__EVENTS_PUBLIC_URL", given)]);
    let event = reservation_event("reservation.created", &reservation_sid(1));
    let body = encode(&event);
    let form = "application/x-www-form-urlencoded";

    // Act
    let for_given = service
        .post_to("/events", form, &body, Some(&sign(TOKEN, given, &event)))
        .await;
    let for_derived = service
        .post_to(
            "/events",
            form,
            &body,
            Some(&sign(TOKEN, &events_url(), &event)),
        )
        .await;

    // Assert
    assert_eq!(for_given.status(), 204);
    assert_eq!(
        for_derived.status(),
        403,
        "the derived URL is not used once one is given"
    );
}

/// One refused event: what it is, its `Content-Type`, body and signature header, the status
/// it must get, and what its answer must say (`Some("")`: nothing at all; `None`: unchecked).
type BadEvent<'a> = (
    &'a str,
    &'a str,
    String,
    Option<String>,
    u16,
    Option<&'a str>,
);

#[tokio::test]
async fn refused_events_get_the_statuses_callbacks_get_and_are_counted_as_refusals() {
    // Arrange
    let twilio = MockServer::start().await;
    let service = service(&twilio, &[("APP_CALLBACK__MAX_BODY_BYTES", "4096")]);
    let form = "application/x-www-form-urlencoded";
    let event = reservation_event("reservation.accepted", &reservation_sid(1));
    let signed = |pairs: &[(String, String)]| sign(TOKEN, &events_url(), pairs);
    let repeated = |key: &str, value: &str| {
        let mut pairs = event.clone();
        pairs.push((key.to_owned(), value.to_owned()));
        pairs
    };
    let no_event_type = without(&event, "EventType");
    let no_reservation = without(&event, "ReservationSid");
    let no_task = without(&task_event("task.canceled"), "TaskSid");
    let two_types = repeated("EventType", "reservation.rejected");
    let two_reservations = repeated("ReservationSid", &reservation_sid(2));
    let two_tasks = repeated("TaskSid", &task_sid(2));
    let mut too_big = event.clone();
    too_big.push(("TaskAttributes".to_owned(), "x".repeat(8192)));
    let cases: Vec<BadEvent> = vec![
        ("no signature", form, encode(&event), None, 403, Some("")),
        (
            "a wrong signature",
            form,
            encode(&event),
            Some(sign("another-token", &events_url(), &event)),
            403,
            Some(""),
        ),
        (
            "a JSON body",
            "application/json",
            json!({"EventType": "reservation.accepted"}).to_string(),
            Some(signed(&event)),
            415,
            None,
        ),
        (
            "a body over max_body_bytes",
            form,
            encode(&too_big),
            Some(signed(&too_big)),
            413,
            None,
        ),
        (
            "a malformed form",
            form,
            "EventType=%zz".to_owned(),
            Some(signed(&event)),
            400,
            Some("`%` at byte"),
        ),
        (
            "no EventType",
            form,
            encode(&no_event_type),
            Some(signed(&no_event_type)),
            400,
            Some("the event has no EventType"),
        ),
        (
            "a Reservation event without its ReservationSid",
            form,
            encode(&no_reservation),
            Some(signed(&no_reservation)),
            400,
            Some("the event has no ReservationSid"),
        ),
        (
            "task.canceled without its TaskSid",
            form,
            encode(&no_task),
            Some(signed(&no_task)),
            400,
            Some("the event has no TaskSid"),
        ),
        (
            "EventType twice",
            form,
            encode(&two_types),
            Some(signed(&two_types)),
            400,
            Some("the event has EventType more than once"),
        ),
        (
            "ReservationSid twice",
            form,
            encode(&two_reservations),
            Some(signed(&two_reservations)),
            400,
            Some("the event has ReservationSid more than once"),
        ),
        (
            "TaskSid twice",
            form,
            encode(&two_tasks),
            Some(signed(&two_tasks)),
            400,
            Some("the event has TaskSid more than once"),
        ),
    ];

    for (what, content_type, body, signature, status, says) in cases {
        // Act
        let response = service
            .post_to("/events", content_type, &body, signature.as_deref())
            .await;

        // Assert
        let text = assert_refused(response, status).await;
        match says {
            Some("") => assert_eq!(text, "", "{what}: a forger is told nothing"),
            Some(says) => {
                assert!(text.contains(says), "{what}: {text}");
                assert_eq!(text.lines().count(), 1, "{what}: one line: {text}");
            }
            None => {}
        }
    }

    // Assert: each counted by its outcome, none as an event or a callback.
    let scrape = service
        .wait_for_series(&refusals_series("bad_request"), 7.0, SOON)
        .await;
    assert_eq!(
        scrape.value::<f64>(&refusals_series("forbidden")),
        2.0,
        "{scrape}"
    );
    assert_eq!(scrape.value::<f64>(&refusals_series("bad_request")), 7.0);
    assert_eq!(
        scrape.value::<f64>(&refusals_series("unsupported_media_type")),
        1.0
    );
    assert_eq!(
        scrape.value::<f64>(&refusals_series("payload_too_large")),
        1.0
    );
    assert_eq!(
        scrape.value::<f64>(&events_series("reservation.accepted")),
        0.0,
        "a refused event is not an event"
    );
    assert_eq!(
        scrape.value::<f64>(
            "assignment_router_callbacks_total{rule=\"\",instruction=\"\",delivery=\"\",outcome=\"forbidden\"}"
        ),
        0.0,
        "events are not counted as callbacks"
    );
}

#[tokio::test]
async fn a_refused_event_changes_nothing() {
    // Arrange: a REST update failing three times before it lands, and an inline decision.
    let twilio = MockServer::start().await;
    fail_then_succeed(&twilio, ResponseTemplate::new(503), 3).await;
    let service = service(&twilio, &[]);
    decide(&service, &vip(1)).await;
    decide(&service, &spanish(2)).await;
    wait_for_record(&service, 2).await;
    let cancel = reservation_event("reservation.canceled", &reservation_sid(1));
    let task_cancel = task_event("task.canceled");
    let rejected = reservation_event("reservation.rejected", &reservation_sid(2));
    let form = "application/x-www-form-urlencoded";

    // Act: forged, unsigned, and signed for the callback URL instead.
    let pending_at_forgery = posts_for(&twilio, 1).await;
    let refused = [
        service
            .post_to(
                "/events",
                form,
                &encode(&cancel),
                Some(&sign("another-token", &events_url(), &cancel)),
            )
            .await,
        service
            .post_to("/events", form, &encode(&task_cancel), None)
            .await,
        service
            .post_to(
                "/events",
                form,
                &encode(&rejected),
                Some(&sign(TOKEN, PUBLIC_URL, &rejected)),
            )
            .await,
    ];
    let scrape = service.wait_for_outcomes(1, SOON).await;
    let record = service
        .record_when(&reservation_sid(1), SOON, |record| {
            record["update"]["state"] == "landed"
        })
        .await;
    let inline = service
        .record_when(&reservation_sid(2), SOON, |_| true)
        .await;

    // Assert
    assert!(
        pending_at_forgery < 4,
        "the update had not landed yet when the forgeries came"
    );
    for response in refused {
        assert_eq!(response.status(), 403);
    }
    assert_eq!(scrape.outcomes().landed, 1, "{scrape}");
    assert_eq!(scrape.outcomes().moved_on, 0, "{scrape}");
    assert_eq!(posts_for(&twilio, 1).await, 4, "retried until it landed");
    assert_eq!(record["update"]["state"], "landed", "{record}");
    assert_eq!(inline["outcomes"], json!([]), "{inline}");
    assert_eq!(all_outcomes(&scrape), 0.0, "{scrape}");
    assert_eq!(scrape.value::<f64>(&unmatched_series("not_decided")), 0.0);
}

#[tokio::test]
async fn events_are_counted_by_type_and_types_it_does_not_know_in_one_bounded_series() {
    // Arrange: none of these Reservations was decided here.
    let twilio = MockServer::start().await;
    let service = service(&twilio, &[]);
    let named = [
        "reservation.created",
        "reservation.accepted",
        "reservation.rejected",
        "reservation.timeout",
        "reservation.canceled",
        "reservation.rescinded",
        "reservation.wrapup",
        "reservation.completed",
        "reservation.failed",
        "task.canceled",
        "task.completed",
        "task.deleted",
        "task.system-deleted",
    ];
    let mut events: Vec<Vec<(String, String)>> = named
        .iter()
        .enumerate()
        .map(|(n, kind)| {
            if kind.starts_with("task.") {
                task_event(kind)
            } else {
                reservation_event(kind, &reservation_sid(n))
            }
        })
        .collect();
    for other in [
        "worker.activity.update",
        "task-queue.entered",
        "task.updated",
    ] {
        events.push(with(task_event(other), "ResourceType", "Worker"));
    }
    for unknown in [
        "reservation.exploded".to_owned(),
        "custom.thing".to_owned(),
        format!("reservation.{}", "x".repeat(100)),
    ] {
        events.push(reservation_event(&unknown, &reservation_sid(99)));
    }

    // Act
    for event in &events {
        send_event(&service, event).await;
    }
    let scrape = service
        .wait_for_series(&events_series("unknown"), 3.0, SOON)
        .await;
    let scrape = if scrape.value::<f64>(&events_series("other")) < 3.0 {
        service
            .wait_for_series(&events_series("other"), 3.0, SOON)
            .await
    } else {
        scrape
    };

    // Assert
    for kind in named {
        assert_eq!(
            scrape.value::<f64>(&events_series(kind)),
            1.0,
            "{kind}: {scrape}"
        );
    }
    assert_eq!(
        scrape.value::<f64>(&events_series("other")),
        3.0,
        "{scrape}"
    );
    assert_eq!(
        scrape.value::<f64>(&events_series("unknown")),
        3.0,
        "{scrape}"
    );
    let types = scrape
        .text()
        .lines()
        .filter(|line| line.starts_with("assignment_router_events_total{"))
        .count();
    assert_eq!(
        types, 15,
        "one series per known type, `other`, `unknown`: {scrape}"
    );
    assert!(
        !scrape.text().contains("exploded") && !scrape.text().contains("custom.thing"),
        "a label is never taken from the request: {scrape}"
    );
    // Seven of them are outcomes, of Reservations this service never decided.
    let not_decided = service
        .wait_for_series(&unmatched_series("not_decided"), 7.0, SOON)
        .await;
    assert_eq!(
        not_decided.value::<f64>(&unmatched_series("not_decided")),
        7.0,
        "{not_decided}"
    );
    assert_eq!(all_outcomes(&not_decided), 0.0);
    assert_eq!(
        twilio.received_requests().await.unwrap_or_default().len(),
        0
    );
}

#[tokio::test]
async fn each_outcome_of_a_decided_reservation_is_counted_once_for_the_rule_that_decided_it() {
    // Arrange: Reservation 1 decided by `spanish`, 2 by the default, 3 by the REST rule.
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .expect(1)
        .mount(&twilio)
        .await;
    let service = service(&twilio, &[]);
    decide(&service, &spanish(1)).await;
    decide(&service, &plain(2)).await;
    decide(&service, &vip(3)).await;
    for n in 1..=3 {
        wait_for_record(&service, n).await;
    }
    let outcome = |kind: &str, n: usize| reservation_event(kind, &reservation_sid(n));
    // A moment, so that each outcome's time since its decision is measurably above 0.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Act: each outcome once, then again (TaskRouter does not promise once).
    for (kind, n) in [
        ("reservation.rejected", 1),
        ("reservation.accepted", 2),
        ("reservation.wrapup", 2),
        ("reservation.completed", 2),
        ("reservation.accepted", 3),
    ] {
        send_event(&service, &outcome(kind, n)).await;
        let label = kind.trim_start_matches("reservation.");
        let tied = service
            .record_when(&reservation_sid(n), SOON, |record| {
                record["outcomes"]
                    .as_array()
                    .is_some_and(|seen| seen.iter().any(|o| o["outcome"] == label))
            })
            .await;
        assert!(
            tied["outcomes"].to_string().contains(label),
            "{kind} of {n} not recorded: {tied}"
        );
    }
    for (kind, n) in [("reservation.rejected", 1), ("reservation.accepted", 2)] {
        send_event(&service, &outcome(kind, n)).await;
    }
    let scrape = service
        .wait_for_series(&unmatched_series("duplicate"), 2.0, SOON)
        .await;
    let record = service
        .get_record(&reservation_sid(2), None)
        .await
        .json::<Value>()
        .await
        .unwrap();

    // Assert
    for (rule, outcome, count) in [
        ("spanish", "rejected", 1.0),
        ("default", "accepted", 1.0),
        ("default", "wrapup", 1.0),
        ("default", "completed", 1.0),
        ("vip-by-rest", "accepted", 1.0),
    ] {
        assert_eq!(
            scrape.value::<f64>(&outcomes_series(rule, outcome)),
            count,
            "{rule} {outcome}: {scrape}"
        );
    }
    assert_eq!(all_outcomes(&scrape), 5.0, "{scrape}");
    assert_eq!(scrape.value::<f64>(&unmatched_series("duplicate")), 2.0);
    assert_eq!(scrape.value::<f64>(&unmatched_series("not_decided")), 0.0);
    assert_eq!(
        scrape.value::<f64>(
            "assignment_router_reservation_outcome_seconds_count{outcome=\"accepted\"}"
        ),
        2.0,
        "{scrape}"
    );
    assert_eq!(
        scrape.value::<f64>(
            "assignment_router_reservation_outcome_seconds_count{outcome=\"rejected\"}"
        ),
        1.0
    );
    let seen: Vec<&str> = record["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(seen, ["accepted", "wrapup", "completed"], "{record}");
    for outcome in record["outcomes"].as_array().unwrap() {
        let after = outcome["after_ms"].as_u64().unwrap();
        assert!(
            (200..SOON.as_millis() as u64 * 4).contains(&after),
            "the time since the decision: {outcome}"
        );
        assert!(
            outcome["at"].as_str().is_some_and(|at| at.ends_with('Z')),
            "{outcome}"
        );
    }
    twilio.verify().await;
}

#[tokio::test]
async fn an_event_for_a_reservation_not_decided_here_is_counted_and_ignored() {
    // Arrange
    let twilio = MockServer::start().await;
    let service = service(&twilio, &[]);
    decide(&service, &spanish(1)).await;
    wait_for_record(&service, 1).await;
    let stranger = reservation_sid(77);

    // Act
    send_event(
        &service,
        &reservation_event("reservation.accepted", &stranger),
    )
    .await;
    let scrape = service
        .wait_for_series(&unmatched_series("not_decided"), 1.0, SOON)
        .await;
    let lookup = service.get_record(&stranger, None).await.status();
    let decided = service
        .get_record(&reservation_sid(1), None)
        .await
        .json::<Value>()
        .await
        .unwrap();

    // Assert
    assert_eq!(
        scrape.value::<f64>(&unmatched_series("not_decided")),
        1.0,
        "{scrape}"
    );
    assert_eq!(
        scrape.value::<f64>(&events_series("reservation.accepted")),
        1.0
    );
    assert_eq!(all_outcomes(&scrape), 0.0, "{scrape}");
    assert_eq!(lookup, 404, "an event makes no record");
    assert_eq!(decided["outcomes"], json!([]), "{decided}");
}

#[tokio::test]
async fn an_outcome_that_comes_before_its_record_is_applied_when_the_record_comes() {
    // Arrange
    let twilio = MockServer::start().await;
    let service = service(&twilio, &[]);

    // Act: the event first, then the callback it is about.
    send_event(
        &service,
        &reservation_event("reservation.accepted", &reservation_sid(5)),
    )
    .await;
    service
        .wait_for_series(&unmatched_series("not_decided"), 1.0, SOON)
        .await;
    decide(&service, &spanish(5)).await;
    let record = service
        .record_when(&reservation_sid(5), SOON, |record| {
            record["outcomes"] != json!([])
        })
        .await;
    let scrape = service
        .wait_for_series(&outcomes_series("spanish", "accepted"), 1.0, SOON)
        .await;

    // Assert
    assert_eq!(record["outcomes"][0]["outcome"], "accepted", "{record}");
    assert_eq!(record["outcomes"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        scrape.value::<f64>(&outcomes_series("spanish", "accepted")),
        1.0,
        "{scrape}"
    );
    assert_eq!(scrape.value::<f64>(&unmatched_series("not_decided")), 1.0);
}

#[tokio::test]
async fn an_event_saying_the_reservation_moved_on_ends_its_retrying_update_at_once() {
    // Arrange: Twilio fails every update, so each is retried until something ends it. Each
    // Reservation belongs to a Task of its own, so a Task event stops only its own.
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&twilio)
        .await;
    let service = service(&twilio, &[]);
    let moving_on = [
        "reservation.canceled",
        "reservation.timeout",
        "reservation.rescinded",
        "reservation.rejected",
        "reservation.failed",
        "task.canceled",
        "task.deleted",
        "task.system-deleted",
    ];
    // Reservation 8 hears only that it was accepted: that stops nothing.
    let control = moving_on.len();
    for n in 0..=control {
        decide(&service, &with(vip(n), "TaskSid", &task_sid(n))).await;
    }
    wait_for_posts(&twilio, 0..control + 1, 2).await;

    // Act
    let sent = Instant::now();
    for (n, kind) in moving_on.iter().enumerate() {
        let event = if kind.starts_with("task.") {
            with(task_event(kind), "ResourceSid", &task_sid(n))
        } else {
            reservation_event(kind, &reservation_sid(n))
        };
        send_event(&service, &with(event, "TaskSid", &task_sid(n))).await;
    }
    send_event(
        &service,
        &with(
            reservation_event("reservation.accepted", &reservation_sid(control)),
            "TaskSid",
            &task_sid(control),
        ),
    )
    .await;
    let ended = service
        .wait_for_outcomes(moving_on.len() as u64, SOON)
        .await;
    let ended_after = sent.elapsed();
    let mut at_end = Vec::new();
    for n in 0..=control {
        at_end.push(posts_for(&twilio, n).await);
    }
    // Longer than the backoff between the attempts so far: a retry would show.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut later = Vec::new();
    for n in 0..=control {
        later.push(posts_for(&twilio, n).await);
    }
    let scrape = service.scrape().await;

    // Assert
    assert_eq!(ended.outcomes().moved_on, moving_on.len() as u64, "{ended}");
    assert!(
        ended_after < Duration::from_secs(1),
        "not at once: {ended_after:?}"
    );
    assert_eq!(
        later[..control],
        at_end[..control],
        "attempts after the Reservation moved on"
    );
    assert!(
        later[control] > at_end[control],
        "the accepted Reservation's update is still retried: {later:?}"
    );
    assert_eq!(
        scrape.outcomes().moved_on,
        moving_on.len() as u64,
        "{scrape}"
    );
    assert_eq!(
        scrape.outcomes().total(),
        moving_on.len() as u64,
        "{scrape}"
    );
    for (n, kind) in moving_on.iter().enumerate() {
        let record = service
            .get_record(&reservation_sid(n), None)
            .await
            .json::<Value>()
            .await
            .unwrap();
        let update = &record["update"];
        assert_eq!(update["state"], "moved_on", "{kind}: {record}");
        assert!(
            update["detail"].as_str().is_some_and(|d| d.contains(kind)),
            "{kind}: the record says which event: {record}"
        );
        assert!(update["ended_at"].is_string(), "{kind}: {record}");
        assert!(update["attempts"].as_u64() >= Some(2), "{kind}: {record}");
    }
    let control_record = service
        .get_record(&reservation_sid(control), None)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        control_record["update"]["state"], "pending",
        "{control_record}"
    );
}

#[tokio::test]
async fn acceptance_does_not_stop_an_update_which_goes_on_to_land() {
    // Arrange: Twilio fails the first three attempts.
    let twilio = MockServer::start().await;
    fail_then_succeed(&twilio, ResponseTemplate::new(503), 3).await;
    let service = service(&twilio, &[]);
    decide(&service, &vip(1)).await;
    wait_for_posts(&twilio, 1..2, 1).await;
    wait_for_record(&service, 1).await;

    // Act
    send_event(
        &service,
        &reservation_event("reservation.accepted", &reservation_sid(1)),
    )
    .await;
    let scrape = service.wait_for_outcomes(1, Duration::from_secs(10)).await;
    let record = service
        .record_when(&reservation_sid(1), SOON, |record| {
            record["update"]["state"] == "landed"
        })
        .await;

    // Assert
    assert_eq!(scrape.outcomes().landed, 1, "{scrape}");
    assert_eq!(scrape.outcomes().moved_on, 0, "{scrape}");
    assert_eq!(posts_for(&twilio, 1).await, 4);
    assert_eq!(record["update"]["state"], "landed", "{record}");
    assert_eq!(record["update"]["attempts"], 4, "{record}");
    assert_eq!(
        scrape.value::<f64>(&outcomes_series("vip-by-rest", "accepted")),
        1.0,
        "{scrape}"
    );
}

#[tokio::test]
async fn without_events_path_there_is_no_events_route_and_with_it_only_post() {
    // Arrange
    let twilio = MockServer::start().await;
    let off = service(&twilio, &[("APP_CALLBACK__EVENTS_PATH", "")]);
    let on = service(&twilio, &[]);
    let event = reservation_event("reservation.created", &reservation_sid(1));

    // Act
    let when_off = off.post_event(&event).await.status();
    let get = reqwest::get(format!("http://127.0.0.1:{}/events", on.port))
        .await
        .unwrap();
    let on_admin = reqwest::Client::new()
        .post(format!("{}/events", on.admin_address()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", sign(TOKEN, &events_url(), &event))
        .body(encode(&event))
        .send()
        .await
        .unwrap()
        .status();

    // Assert
    assert_eq!(when_off, 404);
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    assert_eq!(
        on_admin, 404,
        "events are taken on the callback listener only"
    );
}
