//! Claims: a REST decision is written to the store before its `{}` is answered, and the
//! Reservation's primary key makes the update fleet-wide once, however many replicas hear of
//! it at the same moment. Inline answers never touch the store.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::support::metrics::Scrape;
use crate::support::postgres::Postgres;
use crate::support::process::start;

/// Whether the page has exactly this series (name and labels) at this value: a series that
/// is missing reads as 0 through `Scrape::value`, so presence needs its own check.
fn has_series(scrape: &Scrape, series: &str, value: &str) -> bool {
    scrape.text().lines().any(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .is_some_and(|rest| rest.trim() == value)
    })
}

#[tokio::test]
async fn the_same_reservation_sent_to_two_replicas_at_once_is_updated_exactly_once() {
    sent_to_two_replicas_at_once_is_updated_exactly_once(&[]).await;
}

#[tokio::test]
async fn the_same_reservation_sent_to_two_replicas_at_once_is_updated_exactly_once_when_claims_wait_for_the_disk()
 {
    sent_to_two_replicas_at_once_is_updated_exactly_once(&[(
        "APP_STORE__CLAIM_WAITS_FOR_DISK",
        "true",
    )])
    .await;
}

/// 100 Reservations, each sent to both replicas at the same moment, with `settings` for
/// both.
async fn sent_to_two_replicas_at_once_is_updated_exactly_once(settings: &[(&str, &str)]) {
    // Arrange
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    let replicas = start_together(vec![
        replica(&pg, &twilio, settings),
        replica(&pg, &twilio, settings),
    ]);
    let (a, b) = (&replicas[0], &replicas[1]);
    const SENT: usize = 100;

    // Act: each Reservation reaches both replicas at the same moment, as when TaskRouter's
    // callback and its fallback land on two replicas, or a retry lands on another.
    for n in 0..SENT {
        let (to_a, to_b) = tokio::join!(post_rest(a, n), post_rest(b, n));
        to_a.assert_rest(&format!("reservation {n} at the first replica"));
        to_b.assert_rest(&format!("reservation {n} at the second replica"));
    }
    let all_landed = twilio.wait_landed(0..SENT, Duration::from_secs(20)).await;
    // Long enough for a losing replica's stray update, or a takeover, to have arrived.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (at_a, at_b) = (a.scrape().await, b.scrape().await);

    // Assert
    assert!(all_landed, "not every update landed:\n{}", twilio.summary());
    let landings = twilio.landings_of(0..SENT);
    assert_eq!(landings, vec![1; SENT], "{}", twilio.summary());
    let posts: Vec<usize> = (0..SENT).map(|n| twilio.posts(n)).collect();
    assert_eq!(posts, vec![1; SENT], "a second POST was refused by Twilio");
    assert_eq!(
        twilio.total(),
        SENT,
        "nothing but one POST each: {}",
        twilio.summary()
    );
    assert_eq!(at_a.claims("won") + at_b.claims("won"), SENT as u64);
    assert_eq!(at_a.claims("lost") + at_b.claims("lost"), SENT as u64);
    assert_eq!(at_a.takeovers() + at_b.takeovers(), 0);
    assert_eq!(
        at_a.outcomes().landed + at_b.outcomes().landed,
        SENT as u64,
        "each update ended landed at the replica that won it"
    );
    assert_eq!(rows_in_state(&pg, 0..SENT, "landed").await, SENT as i64);
}

#[tokio::test]
async fn inline_answers_write_no_row_and_send_nothing() {
    // Arrange
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    let service = start(replica(&pg, &twilio, &[]));

    // Act
    let mut answers = Vec::new();
    for n in 0..5 {
        answers.push(post_inline(&service, n).await);
    }
    // One REST decision after them: its row shows that the store was there to be written.
    post_rest(&service, 5)
        .await
        .assert_rest("the REST callback");
    let landed = twilio.wait_landed(5..6, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let scrape = service.scrape().await;

    // Assert
    for (n, answer) in answers.iter().enumerate() {
        assert_eq!(answer.status, 200, "inline callback {n}: {answer:?}");
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(
            body,
            json!({"instruction": "accept"}),
            "inline callback {n}"
        );
    }
    assert!(landed, "{}", twilio.summary());
    let rows = pg
        .query_scalar::<i64>("SELECT count(*) FROM assignment_router_updates")
        .await;
    assert_eq!(rows, 1, "only the REST decision has a row");
    assert_eq!(rows_in_state(&pg, 5..6, "landed").await, 1);
    assert_eq!(twilio.total(), 1, "{}", twilio.summary());
    assert_eq!(scrape.claims("won"), 1);
    assert_eq!(scrape.claims("lost"), 0);
}

/// The store's series, each at 0 before any event, so an alert on `increase()` sees the
/// first one.
const ZERO_FROM_START: &[&str] = &[
    "assignment_router_store_claims_total{result=\"won\"}",
    "assignment_router_store_claims_total{result=\"lost\"}",
    "assignment_router_store_unavailable_total",
    "assignment_router_outbox_takeovers_total",
    "assignment_router_outbox_updates{state=\"due\"}",
    "assignment_router_outbox_updates{state=\"leased\"}",
];

#[tokio::test]
async fn the_store_series_exist_from_start_at_zero() {
    // Arrange
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    let with_store = start(replica(&pg, &twilio, &[]));
    let in_memory = start(replica_at("", &twilio, &[]));

    // Act
    let mut up = with_store.scrape().await;
    let came_up = wait_until(Duration::from_secs(10), async || {
        up = with_store.scrape().await;
        up.store_up() == 1
    })
    .await;
    let memory = in_memory.scrape().await;

    // Assert
    assert!(came_up, "assignment_router_store_up never reached 1:\n{up}");
    for (which, scrape) in [("with a store", &up), ("in memory", &memory)] {
        for series in ZERO_FROM_START {
            assert!(
                has_series(scrape, series, "0"),
                "{which}: `{series} 0` missing:\n{scrape}"
            );
        }
        assert!(
            scrape
                .text()
                .contains("# TYPE assignment_router_store_latency_seconds histogram"),
            "{which}: the store latency histogram is missing:\n{scrape}"
        );
        assert!(
            has_series(
                scrape,
                "assignment_router_rest_updates_total{outcome=\"landed\"}",
                "0"
            ),
            "{which}:\n{scrape}"
        );
    }
    // With a store, each operation's series is there before its first use.
    assert!(
        up.text().lines().any(|line| line
            .starts_with("assignment_router_store_latency_seconds_bucket{")
            && line.contains("operation=\"")),
        "the store latency histogram has no series by operation:\n{up}"
    );
    assert!(
        has_series(&memory, "assignment_router_store_up", "0"),
        "without a store, store_up is 0:\n{memory}"
    );
    assert_eq!(twilio.total(), 0);
}
