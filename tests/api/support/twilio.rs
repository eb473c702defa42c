//! Stand-ins for Twilio's REST API: wiremock servers answering as Twilio does (or as it
//! does on a bad day), and a raw TCP one for a Twilio that does not speak HTTP at all. REST
//! delivery happens after the callback is answered, so what these received is the only
//! evidence of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::app::{RESERVATION_SID, TASK_SID, WORKER_SID, WORKSPACE_SID, reservation_sid};
use super::tcp::read_message;

/// The credentials part of an `Authorization: Basic …` header.
pub fn basic_credentials(user: &str, password: &str) -> String {
    STANDARD.encode(format!("{user}:{password}"))
}

/// The whole `Authorization` header value for these credentials.
pub fn basic_authorization(user: &str, password: &str) -> String {
    format!("Basic {}", basic_credentials(user, password))
}

/// Where the update of this Reservation goes, by the worker endpoint (the default).
pub fn worker_reservation_path(reservation: &str) -> String {
    format!("/v1/Workspaces/{WORKSPACE_SID}/Workers/{WORKER_SID}/Reservations/{reservation}")
}

/// Where the update of this Reservation goes, by the task endpoint.
pub fn task_reservation_path(reservation: &str) -> String {
    format!("/v1/Workspaces/{WORKSPACE_SID}/Tasks/{TASK_SID}/Reservations/{reservation}")
}

/// Twilio's answer to an update that lands.
pub fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"sid": RESERVATION_SID}))
}

/// Twilio's classic JSON error body.
pub fn twilio_error(status: u16, code: u32, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    }))
}

/// Waits until `twilio` has received `count` requests (or the timeout passes).
pub async fn wait_for_requests(
    twilio: &MockServer,
    count: usize,
    timeout: Duration,
) -> Vec<Request> {
    let until = Instant::now() + timeout;
    loop {
        let received = twilio.received_requests().await.unwrap_or_default();
        if received.len() >= count || Instant::now() > until {
            return received;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Mounts `first` for the first `times` requests, then a 200.
pub async fn fail_then_succeed(twilio: &MockServer, first: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .respond_with(first)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(twilio)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .with_priority(2)
        .mount(twilio)
        .await;
}

/// The update of each of these Reservations (see [`reservation_sid`]) must never reach
/// Twilio.
pub async fn expect_nothing_for(twilio: &MockServer, numbers: std::ops::Range<usize>) {
    for n in numbers {
        Mock::given(path(worker_reservation_path(&reservation_sid(n))))
            .respond_with(ok())
            .with_priority(1)
            .expect(0)
            .named(format!("nothing for update {n}"))
            .mount(twilio)
            .await;
    }
}

/// Update `n` gets the `n`th answer, and must reach Twilio exactly once (no retry).
pub async fn answer_once_each<'a>(
    twilio: &MockServer,
    answers: impl Iterator<Item = (&'a str, &'a ResponseTemplate)>,
) {
    for (n, (what, answer)) in answers.enumerate() {
        Mock::given(method("POST"))
            .and(path(worker_reservation_path(&reservation_sid(n))))
            .respond_with(answer.clone())
            .expect(1)
            .named(what)
            .mount(twilio)
            .await;
    }
}

/// The update of each of these Reservations must reach Twilio exactly once, and lands.
pub async fn expect_one_landing_for(twilio: &MockServer, numbers: std::ops::Range<usize>) {
    for n in numbers {
        Mock::given(method("POST"))
            .and(path(worker_reservation_path(&reservation_sid(n))))
            .respond_with(ok())
            .with_priority(1)
            .expect(1)
            .named(format!("one landing for update {n}"))
            .mount(twilio)
            .await;
    }
}

/// Mounts Twilio's answers for Reservations 1 to 5, each its own story, all for requests
/// carrying `authorization`; returns how many requests should arrive.
pub async fn mount_reservation_stories(twilio: &MockServer, authorization: &str) -> usize {
    let update = |n: usize| {
        Mock::given(method("POST"))
            .and(path(worker_reservation_path(&reservation_sid(n))))
            .and(header("Authorization", authorization))
    };
    // 1: lands at once.
    update(1)
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"sid": reservation_sid(1), "reservation_status": "accepted"}),
            ),
        )
        .expect(1)
        .mount(twilio)
        .await;
    // 2: refused for good, with Twilio's error body.
    update(2)
        .respond_with(twilio_error(
            400,
            20001,
            "Invalid Conference instruction: To is not a valid phone number",
        ))
        .expect(1)
        .mount(twilio)
        .await;
    // 3: a server error, retried, then it lands.
    update(3)
        .respond_with(twilio_error(500, 20500, "Internal Server Error"))
        .up_to_n_times(1)
        .expect(1)
        .mount(twilio)
        .await;
    update(3)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sid": reservation_sid(3)})))
        .expect(1)
        .mount(twilio)
        .await;
    // 4: rate limited with Retry-After, then it lands.
    update(4)
        .respond_with(
            twilio_error(429, 20429, "Too Many Requests").insert_header("Retry-After", "1"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(twilio)
        .await;
    update(4)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sid": reservation_sid(4)})))
        .expect(1)
        .mount(twilio)
        .await;
    // 5: the Reservation has moved on.
    update(5)
        .respond_with(twilio_error(
            400,
            20001,
            &format!(
                "Reservation {} is already in state [accepted] and cannot be updated to [accepted]",
                reservation_sid(5)
            ),
        ))
        .expect(1)
        .mount(twilio)
        .await;
    7
}

/// What a stand-in Twilio on raw TCP does with each connection.
#[derive(Debug, Clone, Copy)]
pub enum Misbehaviour {
    /// Reads the request, answers bytes that are not HTTP, closes.
    NotHttp,
    /// Closes each connection as soon as it is accepted.
    CloseAtOnce,
    /// Reads the request and never answers, until the client hangs up.
    NeverAnswer,
}

/// A TCP server below HTTP; counts the connections it accepted.
pub struct RawTwilio {
    pub base_url: String,
    connections: Arc<AtomicUsize>,
}

impl RawTwilio {
    pub async fn start(misbehaviour: Misbehaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(misbehave(stream, misbehaviour));
            }
        });
        Self {
            base_url,
            connections,
        }
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn misbehave(mut stream: TcpStream, misbehaviour: Misbehaviour) {
    match misbehaviour {
        Misbehaviour::CloseAtOnce => drop(stream),
        Misbehaviour::NotHttp => {
            // The whole request is read first: closing with unread bytes would send a reset,
            // and the client would see that instead of the garbage.
            read_message(&mut stream).await;
            let _ = stream
                .write_all(b"\x00\x01\x02 SSH-2.0-not-http \xff\xfe\r\n\r\n")
                .await;
            let _ = stream.shutdown().await;
        }
        Misbehaviour::NeverAnswer => {
            read_message(&mut stream).await;
            let mut rest = [0u8; 256];
            while matches!(stream.read(&mut rest).await, Ok(n) if n > 0) {}
        }
    }
}
