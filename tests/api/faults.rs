//! Twilio's API misbehaving: down for longer than the update deadline, answering garbage,
//! redirecting elsewhere, not speaking HTTP, unreachable by name. Whatever it does, every
//! callback is answered `{}` promptly, every update ends in exactly one outcome, and nothing
//! beyond `max_pending_updates` is held. Past half of it, a REST callback waits a moment
//! (250 ms at most) for an update to end before it is answered.

use std::ops::Range;
use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::app::*;
use crate::support::metrics::{Outcomes, Scrape};
use crate::support::process::{command, start_with_json_logs};
use crate::support::twilio::*;

const REST_ACCEPT: &str = "[[rules]]\nname = \"by-rest\"\ndelivery = \"rest\"\ninstruction = \"accept\"\n\n[default]\ninstruction = \"accept\"\n";
/// TaskRouter gives up on an answer after 5 s; anything near 1 s would already be a fault.
const PROMPT: Duration = Duration::from_secs(1);

/// Posts the callbacks one after another; each must be answered exactly `200 {}` within
/// [`PROMPT`], however Twilio is doing.
async fn post_callbacks_answered_at_once(app: &TestApp, numbers: Range<usize>) {
    for n in numbers {
        let started = Instant::now();
        let response = app
            .post_signed(&set_reservation(default_callback(), n))
            .await;
        let status = response.status();
        let content_type = response.headers()["content-type"].clone();
        let body = response.text().await.unwrap();
        let took = started.elapsed();
        assert_eq!(status, 200, "callback {n}");
        assert_eq!(content_type, "application/json", "callback {n}");
        assert_eq!(body, "{}", "callback {n}");
        assert!(took < PROMPT, "callback {n} waited for Twilio: {took:?}");
    }
}

/// The series only this file's rules write.
impl Scrape {
    fn callbacks_answered(&self) -> u64 {
        self.value(
            "assignment_router_callbacks_total{rule=\"by-rest\",instruction=\"accept\",delivery=\"rest\",outcome=\"answered\"}",
        )
    }

    /// REST callbacks that waited for room: `room` when they had some in time, `full`
    /// when not.
    fn held(&self, outcome: &str) -> u64 {
        self.value(&format!(
            "assignment_router_rest_callbacks_held_total{{outcome=\"{outcome}\"}}"
        ))
    }
}

/// Requests received for each of `numbers`' Reservations, in order.
fn per_reservation(received: &[Request], numbers: Range<usize>) -> Vec<usize> {
    numbers
        .map(|n| {
            let path = worker_reservation_path(&reservation_sid(n));
            received.iter().filter(|r| r.url.path() == path).count()
        })
        .collect()
}

/// 6 callbacks against room for 4: the first 2 are answered at once, the other 4 each wait
/// their 250 ms in vain (nothing ends while Twilio is down), and the last 2 cannot be held.
/// All are sent within some 1 s, well before the first update gives up: its backoff reaches
/// past the 4 s deadline some 2 s in at the earliest.
const SENT: usize = 6;
const MAX_PENDING: usize = 4;
const DOWN_SETTINGS: &[(&str, &str)] = &[
    ("APP_TWILIO__UPDATE_DEADLINE_SECS", "4"),
    ("APP_TWILIO__MAX_PENDING_UPDATES", "4"),
];
/// Long enough for the last held update to give up after its 4 s.
const ALL_ENDED_WITHIN: Duration = Duration::from_secs(9);

#[tokio::test]
async fn while_twilio_answers_503_past_the_deadline_callbacks_are_answered_and_pending_stays_bounded()
 {
    // Arrange
    let twilio = MockServer::start().await;
    expect_nothing_for(&twilio, MAX_PENDING..SENT).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .with_priority(2)
        .named("Twilio down")
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(REST_ACCEPT, &twilio.uri(), DOWN_SETTINGS).await;

    // Act: all 6 arrive well before any update can give up, so exactly the last 2 find no
    // room.
    let sending = Instant::now();
    post_callbacks_answered_at_once(&app, 0..SENT).await;
    let sent_in = sending.elapsed();
    let ended = app.wait_for_outcomes(SENT as u64, ALL_ENDED_WITHIN).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = app.scrape().await;
    let received = twilio.received_requests().await.unwrap();

    // Assert
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            expired: 4,
            dropped: 2,
            ..Outcomes::default()
        },
        "6 callbacks sent in {sent_in:?}"
    );
    assert_eq!(ended.callbacks_answered(), 6);
    assert_eq!((ended.held("full"), ended.held("room")), (4, 0));
    assert_eq!(ended.in_flight(), 0);
    assert_eq!(
        settled.attempts(),
        ended.attempts(),
        "no attempt after expiry"
    );
    assert_eq!(received.len() as u64, settled.attempts());
    let held = per_reservation(&received, 0..MAX_PENDING);
    assert!(held.iter().all(|&n| n >= 2), "each was retried: {held:?}");
    assert_eq!(held.iter().sum::<usize>(), received.len());
    assert_eq!(per_reservation(&received, MAX_PENDING..SENT), vec![0; 2]);

    // Act: Twilio is back. Room for 4 again proves the pending count returned to 0.
    expect_one_landing_for(&twilio, SENT..SENT + MAX_PENDING).await;
    post_callbacks_answered_at_once(&app, SENT..SENT + MAX_PENDING).await;
    let recovered = app.wait_for_outcomes(10, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Assert
    assert_eq!(
        recovered.outcomes(),
        Outcomes {
            landed: 4,
            expired: 4,
            dropped: 2,
            ..Outcomes::default()
        }
    );
    assert_eq!(
        twilio.received_requests().await.unwrap().len(),
        received.len() + 4
    );
    twilio.verify().await;
}

#[tokio::test]
async fn while_twilio_refuses_connections_past_the_deadline_callbacks_are_answered_and_pending_stays_bounded()
 {
    // Arrange: a port with nothing listening.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = reserved.local_addr().unwrap();
    drop(reserved);
    let app = spawn_rest_app(REST_ACCEPT, &format!("http://{address}"), DOWN_SETTINGS).await;

    // Act
    let sending = Instant::now();
    post_callbacks_answered_at_once(&app, 0..SENT).await;
    let sent_in = sending.elapsed();
    let ended = app.wait_for_outcomes(SENT as u64, ALL_ENDED_WITHIN).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = app.scrape().await;

    // Assert
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            expired: 4,
            dropped: 2,
            ..Outcomes::default()
        },
        "6 callbacks sent in {sent_in:?}"
    );
    assert_eq!(ended.callbacks_answered(), 6);
    assert_eq!((ended.held("full"), ended.held("room")), (4, 0));
    assert_eq!(ended.in_flight(), 0);
    assert!(
        ended.attempts() >= 2 * MAX_PENDING as u64,
        "each held update was retried: {} attempts",
        ended.attempts()
    );
    assert_eq!(
        settled.attempts(),
        ended.attempts(),
        "no attempt after expiry"
    );

    // Act: Twilio is back on the same address. The ended updates must stay ended, and
    // room for 4 new ones proves the pending count returned to 0.
    let listener = std::net::TcpListener::bind(address).unwrap();
    let twilio = MockServer::builder().listener(listener).start().await;
    expect_nothing_for(&twilio, 0..SENT).await;
    expect_one_landing_for(&twilio, SENT..SENT + MAX_PENDING).await;
    post_callbacks_answered_at_once(&app, SENT..SENT + MAX_PENDING).await;
    let recovered = app.wait_for_outcomes(10, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Assert
    assert_eq!(
        recovered.outcomes(),
        Outcomes {
            landed: 4,
            expired: 4,
            dropped: 2,
            ..Outcomes::default()
        }
    );
    assert_eq!(recovered.attempts(), settled.attempts() + 4);
    assert_eq!(twilio.received_requests().await.unwrap().len(), 4);
    twilio.verify().await;
}

#[tokio::test]
async fn while_twilio_is_slow_rest_callbacks_wait_for_room_and_no_update_is_dropped() {
    // Arrange: each update takes 100 ms at Twilio; room for 4, so past 2 pending a callback
    // waits for one to end.
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok().set_delay(Duration::from_millis(100)))
        .expect(8)
        .named("a slow Twilio")
        .mount(&twilio)
        .await;
    let app = spawn_rest_app(
        REST_ACCEPT,
        &twilio.uri(),
        &[("APP_TWILIO__MAX_PENDING_UPDATES", "4")],
    )
    .await;

    // Act: 8 callbacks one after another, faster than Twilio takes their updates.
    post_callbacks_answered_at_once(&app, 0..8).await;
    let ended = app.wait_for_outcomes(8, Duration::from_secs(5)).await;

    // Assert: without the wait the last 4 would have found no room and been dropped.
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            landed: 8,
            ..Outcomes::default()
        }
    );
    assert_eq!(ended.held("full"), 0);
    assert!(ended.held("room") >= 1, "no callback waited");
    let received = twilio.received_requests().await.unwrap();
    assert_eq!(per_reservation(&received, 0..8), vec![1; 8]);
    twilio.verify().await;
}

#[tokio::test]
async fn a_2xx_counts_as_landed_whatever_its_body_and_is_never_retried() {
    let cases = [
        (
            "200 with a body that is not JSON",
            ResponseTemplate::new(200).set_body_string("this is not JSON"),
        ),
        (
            "200 saying JSON but sending HTML",
            ResponseTemplate::new(200)
                .set_body_raw("<html><body>Welcome</body></html>", "application/json"),
        ),
        (
            "200 with truncated JSON",
            ResponseTemplate::new(200).set_body_raw("{\"sid\": \"WR", "application/json"),
        ),
        ("200 with no body", ResponseTemplate::new(200)),
        ("204", ResponseTemplate::new(204)),
    ];
    // Arrange
    let twilio = MockServer::start().await;
    answer_once_each(&twilio, cases.iter().map(|(what, answer)| (*what, answer))).await;
    let app = spawn_rest_app(REST_ACCEPT, &twilio.uri(), &[]).await;

    // Act
    post_callbacks_answered_at_once(&app, 0..cases.len()).await;
    let ended = app
        .wait_for_outcomes(cases.len() as u64, Duration::from_secs(5))
        .await;
    // Longer than the first backoff: a retry, were there one, would have arrived.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = app.scrape().await;

    // Assert
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            landed: 5,
            ..Outcomes::default()
        }
    );
    assert_eq!(settled.outcomes(), ended.outcomes());
    assert_eq!(settled.attempts(), 5);
    assert_eq!(twilio.received_requests().await.unwrap().len(), 5);
    twilio.verify().await;
}

#[tokio::test]
async fn a_4xx_with_a_body_that_is_not_a_twilio_error_is_final_after_one_request() {
    let cases = [
        (
            "400 with plain text",
            ResponseTemplate::new(400).set_body_string("Bad Request"),
            "final_error",
        ),
        (
            "400 with no body",
            ResponseTemplate::new(400),
            "final_error",
        ),
        (
            "400 with a JSON array",
            ResponseTemplate::new(400).set_body_raw("[1, 2, 3]", "application/json"),
            "final_error",
        ),
        (
            "400 with Twilio's keys holding the wrong types",
            ResponseTemplate::new(400)
                .set_body_raw(r#"{"code": "20001", "message": 42}"#, "application/json"),
            "final_error",
        ),
        (
            "400 with invalid UTF-8",
            ResponseTemplate::new(400).set_body_bytes(vec![0xff, 0xfe, 0x00, 0xc3]),
            "final_error",
        ),
        (
            "403 from a proxy, in HTML",
            ResponseTemplate::new(403)
                .set_body_raw("<html><h1>403 Forbidden</h1></html>", "text/html"),
            "final_error",
        ),
        (
            "410 in HTML",
            ResponseTemplate::new(410).set_body_raw("<html>Gone</html>", "text/html"),
            "moved_on",
        ),
    ];
    // Arrange
    let twilio = MockServer::start().await;
    answer_once_each(
        &twilio,
        cases.iter().map(|(what, answer, _)| (*what, answer)),
    )
    .await;
    let app = spawn_rest_app(REST_ACCEPT, &twilio.uri(), &[]).await;

    // Act
    post_callbacks_answered_at_once(&app, 0..cases.len()).await;
    let ended = app
        .wait_for_outcomes(cases.len() as u64, Duration::from_secs(5))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = app.scrape().await;

    // Assert: every update reached its end (a panic would have left it uncounted).
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            final_error: 6,
            moved_on: 1,
            ..Outcomes::default()
        }
    );
    assert_eq!(settled.outcomes(), ended.outcomes());
    assert_eq!(settled.attempts(), 7);
    assert_eq!(settled.in_flight(), 0);
    assert_eq!(twilio.received_requests().await.unwrap().len(), 7);
    twilio.verify().await;
}

#[tokio::test]
async fn a_5xx_with_an_html_body_is_retried_and_lands_exactly_once() {
    let cases = [
        (
            "500 in HTML",
            ResponseTemplate::new(500).set_body_raw(
                "<!DOCTYPE html><html><body>Internal Server Error</body></html>",
                "text/html",
            ),
        ),
        (
            "502 from a load balancer, in HTML",
            ResponseTemplate::new(502)
                .set_body_raw("<html><h1>502 Bad Gateway</h1></html>", "text/html"),
        ),
        (
            "503 saying JSON but sending HTML",
            ResponseTemplate::new(503).set_body_raw("<html>Unavailable</html>", "application/json"),
        ),
    ];
    // Arrange
    let twilio = MockServer::start().await;
    for (n, (what, failure)) in cases.iter().enumerate() {
        Mock::given(method("POST"))
            .and(path(worker_reservation_path(&reservation_sid(n))))
            .respond_with(failure.clone())
            .up_to_n_times(1)
            .with_priority(1)
            .expect(1)
            .named(*what)
            .mount(&twilio)
            .await;
        Mock::given(method("POST"))
            .and(path(worker_reservation_path(&reservation_sid(n))))
            .respond_with(ok())
            .with_priority(2)
            .expect(1)
            .named(format!("{what}, then 200"))
            .mount(&twilio)
            .await;
    }
    let app = spawn_rest_app(REST_ACCEPT, &twilio.uri(), &[]).await;

    // Act
    post_callbacks_answered_at_once(&app, 0..cases.len()).await;
    let ended = app
        .wait_for_outcomes(cases.len() as u64, Duration::from_secs(5))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = app.scrape().await;
    let received = twilio.received_requests().await.unwrap();

    // Assert
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            landed: 3,
            ..Outcomes::default()
        }
    );
    assert_eq!(settled.outcomes(), ended.outcomes());
    assert_eq!(settled.attempts(), 6);
    assert_eq!(per_reservation(&received, 0..cases.len()), vec![2, 2, 2]);
    twilio.verify().await;
}

/// Asserts that an update to a Twilio that never answers HTTP is retried until its 1 s
/// deadline, ends expired, and is not tried again.
async fn assert_retried_until_expired(misbehaviour: Misbehaviour) {
    // Arrange
    let twilio = RawTwilio::start(misbehaviour).await;
    let app = spawn_rest_app(
        REST_ACCEPT,
        &twilio.base_url,
        &[("APP_TWILIO__UPDATE_DEADLINE_SECS", "1")],
    )
    .await;

    // Act
    post_callbacks_answered_at_once(&app, 0..1).await;
    let ended = app.wait_for_outcomes(1, Duration::from_secs(4)).await;
    let connections_at_end = twilio.connections();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = app.scrape().await;

    // Assert
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            expired: 1,
            ..Outcomes::default()
        },
        "{misbehaviour:?}"
    );
    assert!(
        ended.attempts() >= 2,
        "{misbehaviour:?}: retried, {} attempts",
        ended.attempts()
    );
    assert_eq!(
        connections_at_end as u64,
        ended.attempts(),
        "{misbehaviour:?}: one connection per attempt"
    );
    assert_eq!(settled.attempts(), ended.attempts(), "{misbehaviour:?}");
    assert_eq!(twilio.connections(), connections_at_end, "{misbehaviour:?}");
    assert_eq!(settled.in_flight(), 0, "{misbehaviour:?}");
}

#[tokio::test]
async fn an_answer_that_is_not_http_is_retried_until_the_update_expires() {
    assert_retried_until_expired(Misbehaviour::NotHttp).await;
}

#[tokio::test]
async fn a_connection_closed_at_once_is_retried_until_the_update_expires() {
    assert_retried_until_expired(Misbehaviour::CloseAtOnce).await;
}

#[tokio::test]
async fn a_twilio_that_never_answers_holds_max_in_flight_connections_until_the_deadline() {
    // Arrange: the request timeout (6 s) outlasts the deadline (2 s), so the deadline is
    // what must end each attempt.
    let twilio = RawTwilio::start(Misbehaviour::NeverAnswer).await;
    let app = spawn_rest_app(
        REST_ACCEPT,
        &twilio.base_url,
        &[
            ("APP_TWILIO__UPDATE_DEADLINE_SECS", "2"),
            ("APP_TWILIO__REQUEST_TIMEOUT_MS", "6000"),
            ("APP_TWILIO__MAX_IN_FLIGHT", "2"),
            ("APP_TWILIO__MAX_PENDING_UPDATES", "4"),
        ],
    )
    .await;

    // Act: past 2 pending, each callback waits its 250 ms in vain, so the 6 take some 1 s.
    let started = Instant::now();
    post_callbacks_answered_at_once(&app, 0..6).await;
    let during = app.scrape().await;
    let ended = app.wait_for_outcomes(6, Duration::from_secs(5)).await;
    let ended_after = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let settled = app.scrape().await;

    // Assert: 2 out at once, 2 waiting their turn, 2 found no room.
    assert_eq!(during.in_flight(), 2, "sent in {:?}", started.elapsed());
    assert_eq!(during.attempts(), 2);
    assert_eq!(during.outcomes().dropped, 2);
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            expired: 4,
            dropped: 2,
            ..Outcomes::default()
        }
    );
    // The last held update was decided some 0.5 s in; an attempt not cut at its deadline
    // would have lasted until 6 s.
    assert!(
        ended_after < Duration::from_millis(4000),
        "attempts were not cut at the deadline: {ended_after:?}"
    );
    assert_eq!(settled.in_flight(), 0);
    // An attempt that is never answered lasts until its update's deadline, so no update
    // can make a second; a waiting one may still get a turn in its last milliseconds.
    assert!(
        (2..=4).contains(&settled.attempts()),
        "one attempt at most per held update: {}",
        settled.attempts()
    );
    assert_eq!(twilio.connections() as u64, settled.attempts());
}

#[tokio::test]
async fn an_api_host_that_does_not_resolve_is_retried_until_the_update_expires() {
    // Arrange: `.invalid` never resolves (RFC 6761). A short request timeout bounds each
    // attempt even where the resolver times out rather than failing at once.
    let app = spawn_rest_app(
        REST_ACCEPT,
        "https://api.invalid",
        &[
            ("APP_TWILIO__UPDATE_DEADLINE_SECS", "1"),
            ("APP_TWILIO__REQUEST_TIMEOUT_MS", "300"),
        ],
    )
    .await;

    // Act
    post_callbacks_answered_at_once(&app, 0..1).await;
    let ended = app.wait_for_outcomes(1, Duration::from_secs(4)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = app.scrape().await;

    // Assert
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            expired: 1,
            ..Outcomes::default()
        }
    );
    assert!(
        ended.attempts() >= 2,
        "a lookup failure is retried: {} attempts",
        ended.attempts()
    );
    assert_eq!(
        settled.attempts(),
        ended.attempts(),
        "no attempt after expiry"
    );
    assert_eq!(settled.in_flight(), 0);
}

#[tokio::test]
async fn a_redirect_is_a_final_error_and_is_never_followed() {
    let statuses = [301_u16, 302, 307, 308];
    // Arrange: each update is redirected to a second server holding the same path, which
    // must never hear from the service (a followed redirect would take the credentials there).
    let twilio = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok())
        .expect(0)
        .named("the redirect's target")
        .mount(&elsewhere)
        .await;
    let answers: Vec<(String, ResponseTemplate)> = statuses
        .iter()
        .enumerate()
        .map(|(n, status)| {
            let location = format!(
                "{}{}",
                elsewhere.uri(),
                worker_reservation_path(&reservation_sid(n))
            );
            (
                format!("a {status} to another server"),
                ResponseTemplate::new(*status).insert_header("Location", location.as_str()),
            )
        })
        .collect();
    answer_once_each(
        &twilio,
        answers.iter().map(|(what, answer)| (what.as_str(), answer)),
    )
    .await;
    let app = spawn_rest_app(REST_ACCEPT, &twilio.uri(), &[]).await;

    // Act
    post_callbacks_answered_at_once(&app, 0..statuses.len()).await;
    let ended = app
        .wait_for_outcomes(statuses.len() as u64, Duration::from_secs(5))
        .await;
    // Longer than the first backoff: a retry, were there one, would have arrived.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = app.scrape().await;

    // Assert
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            final_error: 4,
            ..Outcomes::default()
        }
    );
    assert_eq!(settled.outcomes(), ended.outcomes());
    assert_eq!(settled.attempts(), 4);
    assert_eq!(
        per_reservation(&twilio.received_requests().await.unwrap(), 0..4),
        vec![1; 4]
    );
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    twilio.verify().await;
    elsewhere.verify().await;
}

#[tokio::test]
async fn a_refused_redirect_is_logged_with_its_status_and_the_origin_it_pointed_to() {
    // Arrange
    let twilio = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok())
        .expect(0)
        .mount(&elsewhere)
        .await;
    Mock::given(method("POST"))
        .and(path(worker_reservation_path(RESERVATION_SID)))
        .respond_with(ResponseTemplate::new(307).insert_header(
            "Location",
            format!("{}/steal?token=never-logged", elsewhere.uri()).as_str(),
        ))
        .expect(1)
        .mount(&twilio)
        .await;
    let base = twilio.uri();
    let mut service = start_with_json_logs(command(
        REST_ACCEPT,
        &[
            ("APP_TWILIO__API_BASE_URL", base.as_str()),
            ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ],
    ));
    let pairs = default_callback();

    // Act
    let answer = service
        .post(&encode(&pairs), Some(&sign(TOKEN, PUBLIC_URL, &pairs)))
        .await;
    let answer_status = answer.status();
    let ended = service.wait_for_outcomes(1, Duration::from_secs(5)).await;
    let status = service.terminate();
    let (stdout, _) = service.transcript();

    // Assert
    assert_eq!(answer_status, 200);
    assert_eq!(status.code(), Some(0));
    assert_eq!(ended.outcomes().final_error, 1);
    let logged: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let refused: Vec<&Value> = logged
        .iter()
        .filter(|entry| {
            entry["fields"]["message"].as_str().is_some_and(|m| {
                m.starts_with("reservation update refused: the API answered with a redirect")
            })
        })
        .collect();
    assert_eq!(refused.len(), 1, "one line for the update:\n{stdout}");
    let fields = &refused[0]["fields"];
    assert_eq!(refused[0]["level"], "ERROR");
    assert_eq!(fields["status"], 307);
    assert_eq!(fields["redirect_origin"], elsewhere.uri());
    assert_eq!(fields["outcome"], "final_error");
    assert!(
        !stdout.contains("never-logged"),
        "the Location's query is not logged"
    );
    assert!(!stdout.contains("reservation update landed"));
    twilio.verify().await;
    elsewhere.verify().await;
}

#[tokio::test]
async fn a_404_means_the_task_is_gone_and_the_update_has_moved_on_after_one_request() {
    let cases = [
        (
            "404 with Twilio's error body",
            twilio_error(
                404,
                20404,
                "The requested resource /v1/Workspaces/WS…/Tasks/WT… was not found",
            ),
        ),
        (
            "404 in HTML",
            ResponseTemplate::new(404).set_body_raw("<html>Not Found</html>", "text/html"),
        ),
    ];
    // Arrange
    let twilio = MockServer::start().await;
    answer_once_each(&twilio, cases.iter().map(|(what, answer)| (*what, answer))).await;
    let app = spawn_rest_app(REST_ACCEPT, &twilio.uri(), &[]).await;

    // Act
    post_callbacks_answered_at_once(&app, 0..cases.len()).await;
    let ended = app
        .wait_for_outcomes(cases.len() as u64, Duration::from_secs(5))
        .await;
    // Longer than the first backoff: a retry, were there one, would have arrived.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let settled = app.scrape().await;

    // Assert
    assert_eq!(
        ended.outcomes(),
        Outcomes {
            moved_on: 2,
            ..Outcomes::default()
        }
    );
    assert_eq!(settled.outcomes(), ended.outcomes());
    assert_eq!(settled.attempts(), 2);
    assert_eq!(twilio.received_requests().await.unwrap().len(), 2);
    twilio.verify().await;
}
