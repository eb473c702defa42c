//! Abuse of the connection itself, over raw TCP: clients that trickle their head or body,
//! connections opened and never used, more connections than the bound, idle keep-alive.
//! Each test starts the service with small limits so it ends in a few seconds.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

use crate::support::app::*;
use crate::support::tcp::*;

const RULES: &str = "[default]\ninstruction = \"accept\"\n";

/// When a 2 s head timeout may end a connection, measured from the client's side. actix
/// computes its deadlines from a clock it refreshes every 500 ms, so they can come up to
/// 500 ms early; actix's own default (5 s) would land past the end of this range.
const HEAD_TIMEOUT_2S: std::ops::Range<Duration> =
    Duration::from_millis(1400)..Duration::from_millis(4000);

fn assert_accepted(answer: &Answer) {
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&answer.body).unwrap(),
        json!({"instruction": "accept"})
    );
}

/// Asserts that what an abandoned connection received before it was closed is exactly a 408.
fn assert_timed_out(received: &[u8], what: &str) {
    let text = String::from_utf8_lossy(received);
    assert!(
        text.starts_with("HTTP/1.1 408 "),
        "{what}: expected 408 then closed, got {text:?}"
    );
}

#[tokio::test]
async fn a_client_trickling_its_request_head_gets_408_at_the_head_timeout_and_others_are_answered()
{
    // Arrange: a client sending its head one byte every 50 ms, never finishing it.
    let service = spawn_app_with(RULES, &[("APP_SERVER__REQUEST_HEAD_TIMEOUT_MS", "2000")]).await;
    let (mut slow_reader, slow_writer) = TcpStream::connect(service.socket_address)
        .await
        .unwrap()
        .into_split();
    let connected = Instant::now();
    let trickle = tokio::spawn(trickle_head(slow_writer, Duration::from_millis(50)));

    // Act: an ordinary callback while the slow head trickles in.
    sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    let answer = answer_to_signed_callback(service.socket_address).await;
    let answered_in = asked.elapsed();
    let slow_still_held = timeout(Duration::from_millis(10), slow_reader.peek(&mut [0u8; 1]))
        .await
        .is_err();
    let slow = timeout(HUNG, read_until_closed(&mut slow_reader))
        .await
        .expect("the trickling client was never cut off");
    let cut_off_after = connected.elapsed();
    trickle.abort();

    // Assert
    assert_accepted(&answer);
    assert!(
        answered_in < Duration::from_secs(1),
        "the callback waited {answered_in:?} behind a trickling client"
    );
    assert!(
        slow_still_held,
        "the trickling client was gone before the callback's answer"
    );
    assert_timed_out(&slow, "a trickled head");
    assert!(
        HEAD_TIMEOUT_2S.contains(&cut_off_after),
        "cut off after {cut_off_after:?}, not at the 2 s head timeout"
    );
}

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_gets_408_at_the_body_deadline_and_others_are_answered() {
    // Arrange: a whole head announcing 4000 bytes, then one byte every 20 ms. Each byte
    // arrives well within any per-read timeout; only a deadline on the whole body stops it.
    let service = spawn_app_with(RULES, &[]).await;
    let (mut slow_reader, mut slow_writer) = TcpStream::connect(service.socket_address)
        .await
        .unwrap()
        .into_split();
    slow_writer
        .write_all(
            b"POST /assignment HTTP/1.1\r\nHost: router.example.com\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        for _ in 0..4000 {
            if slow_writer.write_all(b"a").await.is_err() {
                break;
            }
            sleep(Duration::from_millis(20)).await;
        }
    });

    // Act: an ordinary callback while the slow body trickles in.
    sleep(Duration::from_secs(1)).await;
    let asked = Instant::now();
    let answer = answer_to_signed_callback(service.socket_address).await;
    let answered_in = asked.elapsed();
    let slow = timeout(HUNG, read_answer(&mut slow_reader))
        .await
        .expect("the trickling body was never cut off")
        .expect("the connection ended without an answer");
    let cut_off_after = started.elapsed();
    let after_answer = timeout(HUNG, read_until_closed(&mut slow_reader))
        .await
        .expect("the connection was kept open after its 408");
    let closed_after_answer = started.elapsed() - cut_off_after;
    trickle.abort();

    // Assert
    assert_accepted(&answer);
    assert!(
        answered_in < Duration::from_secs(1),
        "the callback waited {answered_in:?} behind a trickling body"
    );
    assert_eq!(slow.status, 408, "{slow:?}");
    assert!(
        (Duration::from_millis(4900)..Duration::from_secs(7)).contains(&cut_off_after),
        "cut off after {cut_off_after:?}, not at the 5 s body deadline"
    );
    // actix reads and discards what is still sent for a second after an early answer.
    assert_eq!(after_answer, b"");
    assert!(
        closed_after_answer < Duration::from_secs(3),
        "closed {closed_after_answer:?} after the 408, not after the 1 s disconnect timeout"
    );
}

#[tokio::test]
async fn hundreds_of_idle_connections_do_not_delay_a_callback_and_are_closed_at_the_head_timeout() {
    // Arrange: 300 connections opened and never written to.
    let service = spawn_app_with(RULES, &[("APP_SERVER__REQUEST_HEAD_TIMEOUT_MS", "2000")]).await;
    let opened = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(service.socket_address).await.unwrap());
    }

    // Act
    let asked = Instant::now();
    let answer = answer_to_signed_callback(service.socket_address).await;
    let answered_in = asked.elapsed();

    // Assert: answered at once, and every idle connection gets 408 and is closed.
    assert_accepted(&answer);
    assert!(
        answered_in < Duration::from_secs(1),
        "the callback waited {answered_in:?} behind idle connections"
    );
    for (n, stream) in idle.iter_mut().enumerate() {
        let received = timeout(HUNG, read_until_closed(stream))
            .await
            .unwrap_or_else(|_| panic!("idle connection {n} was never closed"));
        assert_timed_out(&received, &format!("idle connection {n}"));
    }
    let all_closed_after = opened.elapsed();
    assert!(
        HEAD_TIMEOUT_2S.contains(&all_closed_after),
        "idle connections closed after {all_closed_after:?}, not at the 2 s head timeout"
    );
}

#[tokio::test]
async fn connections_beyond_the_bound_wait_until_idle_ones_time_out_and_are_then_answered() {
    // Arrange: the smallest bound (one connection per worker), all of it taken by idle
    // connections.
    let service = spawn_app_with(
        RULES,
        &[
            ("APP_SERVER__MAX_CONNECTIONS", "1"),
            ("APP_SERVER__REQUEST_HEAD_TIMEOUT_MS", "2000"),
        ],
    )
    .await;
    let opened = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..service.max_connections {
        idle.push(TcpStream::connect(service.socket_address).await.unwrap());
    }
    sleep(Duration::from_millis(200)).await;

    // Act: one more, with a signed callback: the kernel takes it, the service does not yet.
    let mut extra = TcpStream::connect(service.socket_address).await.unwrap();
    extra.write_all(&signed_callback()).await.unwrap();
    let early = timeout(Duration::from_millis(700), extra.peek(&mut [0u8; 1])).await;
    let admin_health = reqwest::get(format!("{}/health", service.admin_address))
        .await
        .unwrap()
        .status();
    let answer = timeout(HUNG, read_answer(&mut extra))
        .await
        .expect("the waiting callback was never answered")
        .expect("the connection ended without an answer");
    let answered_after = opened.elapsed();

    // Assert
    assert!(
        early.is_err(),
        "a connection beyond the bound of {} was served at once",
        service.max_connections
    );
    assert_eq!(admin_health, 200, "the admin listener has its own bound");
    assert_accepted(&answer);
    assert!(
        HEAD_TIMEOUT_2S.contains(&answered_after),
        "answered after {answered_after:?}: not when the idle connections timed out (2 s)"
    );
    for (n, stream) in idle.iter_mut().enumerate() {
        let received = timeout(HUNG, read_until_closed(stream))
            .await
            .unwrap_or_else(|_| panic!("idle connection {n} was never closed"));
        assert_timed_out(&received, &format!("idle connection {n}"));
    }
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_keep_alive_secs() {
    // Arrange
    let service = spawn_app_with(RULES, &[("APP_SERVER__KEEP_ALIVE_SECS", "2")]).await;
    let mut stream = TcpStream::connect(service.socket_address).await.unwrap();
    stream.write_all(&signed_callback()).await.unwrap();
    let answer = timeout(HUNG, read_answer(&mut stream))
        .await
        .unwrap()
        .unwrap();
    let answered = Instant::now();

    // Act
    let still_open = timeout(Duration::from_secs(1), stream.peek(&mut [0u8; 1])).await;
    let after_keep_alive = timeout(HUNG, read_until_closed(&mut stream))
        .await
        .expect("the idle keep-alive connection was never closed");
    let closed_after = answered.elapsed();

    // Assert
    assert_accepted(&answer);
    assert!(
        !answer.headers.contains("connection: close"),
        "the answer should keep the connection: {answer:?}"
    );
    assert!(still_open.is_err(), "closed before keep_alive_secs");
    assert_eq!(
        after_keep_alive, b"",
        "an idle keep-alive connection is closed without an answer"
    );
    assert!(
        (Duration::from_millis(1400)..Duration::from_secs(4)).contains(&closed_after),
        "closed after {closed_after:?}, not at keep_alive_secs = 2"
    );
}

#[tokio::test]
async fn with_keep_alive_off_every_connection_is_closed_after_its_answer() {
    // Arrange: actix bounds only a connection's first request head; with keep-alive off
    // there is no second one, so no client can hold a connection open by starting one.
    let service = spawn_app_with(RULES, &[("APP_SERVER__KEEP_ALIVE_SECS", "0")]).await;
    let mut stream = TcpStream::connect(service.socket_address).await.unwrap();

    // Act
    stream.write_all(&signed_callback()).await.unwrap();
    let answer = timeout(HUNG, read_answer(&mut stream))
        .await
        .unwrap()
        .unwrap();
    let answered = Instant::now();
    let after_answer = timeout(HUNG, read_until_closed(&mut stream))
        .await
        .expect("the connection was kept open");
    let closed_after = answered.elapsed();

    // Assert
    assert_accepted(&answer);
    assert!(
        answer.headers.contains("connection: close"),
        "the answer should say the connection closes: {answer:?}"
    );
    assert_eq!(after_answer, b"");
    assert!(
        closed_after < Duration::from_secs(2),
        "closed {closed_after:?} after the answer, not at once"
    );
}

#[tokio::test]
async fn a_second_request_head_trickled_on_a_kept_alive_connection_is_cut_off() {
    // Arrange: actix times only a connection's first head, and stops its keep-alive timer
    // at the first byte of the next; the service's own watch must end this one.
    let service = spawn_app_with(
        RULES,
        &[
            ("APP_SERVER__REQUEST_HEAD_TIMEOUT_MS", "1000"),
            ("APP_SERVER__KEEP_ALIVE_SECS", "1"),
        ],
    )
    .await;
    let stream = TcpStream::connect(service.socket_address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(&signed_callback()).await.unwrap();
    let first = timeout(HUNG, read_answer(&mut reader))
        .await
        .unwrap()
        .unwrap();
    let answered = Instant::now();
    let trickle = tokio::spawn(trickle_head(writer, Duration::from_millis(100)));

    // Act: an ordinary callback meanwhile, then wait for the trickling connection to end.
    sleep(Duration::from_millis(1500)).await;
    let asked = Instant::now();
    let other = answer_to_signed_callback(service.socket_address).await;
    let other_answered_in = asked.elapsed();
    let rest = timeout(HUNG, read_until_closed(&mut reader))
        .await
        .expect("a trickled second head held the connection open");
    let cut_off_after = answered.elapsed();
    trickle.abort();

    // Assert: keep-alive (1 s) + head timeout (1 s) + 1 s of slack, and not long before.
    assert_accepted(&first);
    assert_accepted(&other);
    assert!(
        other_answered_in < Duration::from_secs(1),
        "the callback waited {other_answered_in:?}"
    );
    assert_eq!(rest, b"", "nothing is answered to a head that never ends");
    assert!(
        (Duration::from_millis(2500)..Duration::from_millis(4500)).contains(&cut_off_after),
        "cut off {cut_off_after:?} after the first answer"
    );
}
