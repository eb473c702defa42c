//! A log sink that stops taking lines (a log collector that hangs, a pipe nobody reads) must
//! never hold up a callback: the service keeps answering at its usual pace, drops the lines
//! it cannot buffer, counts them on `/metrics`, and says in the log how many were lost once
//! the sink takes lines again.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::app::*;
use crate::support::process::{command, start_holding_stdout};

const RULES: &str = "[default]\ninstruction = \"accept\"\n";
/// Each callback writes one JSON line of about 450 bytes: twice what the pipe (64 KiB) and
/// the writer's backlog (4 MiB) together hold, so the later half is all sent while lines
/// are being dropped.
const CALLBACKS: usize = 20_000;
/// Keep-alive connections, each sending its share one callback after another.
const CONNECTIONS: usize = 4;
/// A callback stuck behind the log would wait forever; this turns that into a failure.
const STUCK: Duration = Duration::from_secs(10);

/// One signed callback body, ready to send.
struct Prepared {
    body: String,
    signature: String,
}

/// Sends `callbacks` one after another over one keep-alive connection; how long each took,
/// in order, or what went wrong with the first that failed.
async fn send_in_turn(port: u16, callbacks: Vec<Prepared>) -> Result<Vec<Duration>, String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(STUCK)
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/assignment");
    let mut took = Vec::with_capacity(callbacks.len());
    for (n, callback) in callbacks.into_iter().enumerate() {
        let started = Instant::now();
        let answer = async {
            let response = client
                .post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("X-Twilio-Signature", callback.signature)
                .body(callback.body)
                .send()
                .await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.bytes().await?))
        }
        .await;
        match answer {
            Ok((status, body))
                if status == 200 && body.as_ref() == br#"{"instruction":"accept"}"# =>
            {
                took.push(started.elapsed());
            }
            Ok((status, body)) => {
                return Err(format!(
                    "callback {n} got {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            Err(error) => {
                return Err(format!(
                    "callback {n} failed after {:?}: {error}",
                    started.elapsed()
                ));
            }
        }
    }
    Ok(took)
}

/// The `lost N log lines` count of a log line, when it is that line.
fn lost_count(entry: &Value) -> Option<u64> {
    let message = entry["fields"]["message"].as_str()?;
    if !message.starts_with("lost ") {
        return None;
    }
    let lost = entry["fields"]["lost"].as_u64()?;
    assert_eq!(entry["level"], "WARN", "{entry}");
    assert!(
        message.starts_with(&format!("lost {lost} log lines")),
        "the message names the count: {entry}"
    );
    Some(lost)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_sink_that_stops_reading_never_holds_up_callbacks_and_the_lost_lines_are_counted_then_logged()
 {
    // Arrange: every callback writes a line to a stdout that nobody reads past `listening`.
    let (mut service, hold) = start_holding_stdout(command(
        RULES,
        &[("RUST_LOG", "info"), ("APP_LOG__FORMAT", "json")],
    ));
    let mut shares: Vec<Vec<Prepared>> = (0..CONNECTIONS).map(|_| Vec::new()).collect();
    for n in 0..CALLBACKS {
        let pairs = set_reservation(default_callback(), n);
        shares[n % CONNECTIONS].push(Prepared {
            body: encode(&pairs),
            signature: sign(TOKEN, PUBLIC_URL, &pairs),
        });
    }

    // Act
    let sending = Instant::now();
    let senders: Vec<_> = shares
        .into_iter()
        .map(|share| tokio::spawn(send_in_turn(service.port, share)))
        .collect();
    let mut later_halves = Vec::new();
    for sender in senders {
        let took = sender.await.unwrap().unwrap_or_else(|failure| {
            panic!("a callback was held up while stdout was not read: {failure}")
        });
        later_halves.extend_from_slice(&took[took.len() / 2..]);
    }
    let sent_in = sending.elapsed();
    let dropped_while_held: u64 = service
        .scrape()
        .await
        .value("assignment_router_log_lines_dropped_total");
    hold.release();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines_read = 0_usize;
    let mut reported = Vec::new();
    while reported.is_empty() {
        let line = service
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| {
                panic!("no `lost … log lines` line within 30 s ({lines_read} lines read)")
            });
        lines_read += 1;
        let entry: Value = serde_json::from_str(&line).expect("every log line is JSON");
        reported.extend(lost_count(&entry));
    }
    let dropped_in_all: u64 = service
        .scrape()
        .await
        .value("assignment_router_log_lines_dropped_total");
    // Any further report arrives with the next batch, within milliseconds.
    while let Ok(line) = service.lines.recv_timeout(Duration::from_millis(500)) {
        let entry: Value = serde_json::from_str(&line).expect("every log line is JSON");
        reported.extend(lost_count(&entry));
    }
    let answer = service
        .post(
            &encode(&default_callback()),
            Some(&sign(TOKEN, PUBLIC_URL, &default_callback())),
        )
        .await;
    let still_answers = answer.status();
    let status = service.terminate();

    // Assert: every callback was answered, at the usual pace to the end ...
    later_halves.sort();
    let p99 = later_halves[later_halves.len() * 99 / 100];
    let slowest = *later_halves.last().unwrap();
    assert!(
        p99 < Duration::from_secs(1) && slowest < Duration::from_secs(5),
        "answers slowed down once the log backed up: p99 {p99:?}, slowest {slowest:?} \
         ({CALLBACKS} callbacks in {sent_in:?})"
    );
    // ... the lines that could not be buffered were dropped and counted ...
    assert!(
        dropped_while_held > 0,
        "no line was dropped: the test never filled the backlog ({CALLBACKS} callbacks)"
    );
    assert!(dropped_in_all >= dropped_while_held);
    // ... and, once stdout moved again, the log said how many.
    assert_eq!(
        reported.iter().sum::<u64>(),
        dropped_in_all,
        "every dropped line is reported, once: {reported:?}"
    );
    assert_eq!(still_answers, 200);
    assert_eq!(status.code(), Some(0), "a SIGTERM stop is a clean exit");
    let (_, stderr) = service.transcript();
    assert_eq!(stderr, "", "nothing on stderr");
}
