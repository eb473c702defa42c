//! The store failing never stops routing: stopped, hanging, or down from the start, the
//! callbacks are answered as promptly as ever, the updates go out from memory (counted), and
//! once the store is back new decisions are durable again, with no restart.

use std::time::Duration;

use super::*;
use crate::support::postgres::Postgres;
use crate::support::process::start;

/// The second slowest of these answers: one slow answer on a loaded machine is noise, two
/// are a pattern.
fn second_slowest(took: &[Duration]) -> Duration {
    let mut sorted = took.to_vec();
    sorted.sort();
    sorted[sorted.len().saturating_sub(2)]
}

/// A callback may wait up to 500 ms on a store that does not answer, no more.
const STORE_BUDGET: Duration = Duration::from_millis(500);

async fn ready_status(replica: &Running) -> u16 {
    reqwest::get(format!("{}/ready", replica.admin_address()))
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Waits until the replica reports the store up (or down): `true` when it did in time.
async fn wait_store_up(replica: &Running, up: i64, timeout: Duration) -> bool {
    wait_until(timeout, async || replica.scrape().await.store_up() == up).await
}

/// How many of these Reservations have a row, in any state.
async fn rows_of(pg: &Postgres, numbers: Range<usize>) -> i64 {
    pg.try_query_scalar::<i64>(&format!(
        "SELECT count(*) FROM assignment_router_updates WHERE reservation_sid IN ({})",
        sql_list(numbers)
    ))
    .await
    .unwrap_or(-1)
}

#[tokio::test]
async fn with_the_store_stopped_callbacks_are_answered_at_once_and_durability_returns_with_it() {
    // Arrange: decisions are durable to begin with.
    let Some(mut pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    let service = start(replica(&pg, &twilio, &[]));
    post_rest_each(&service, 0..5).await;
    assert!(twilio.wait_landed(0..5, Duration::from_secs(10)).await);
    let durable = wait_until(Duration::from_secs(5), async || {
        rows_in_state(&pg, 0..5, "landed").await == 5
    })
    .await;
    assert!(durable, "the first decisions have no rows");

    // Act: the store goes away mid-run.
    pg.stop();
    let took = post_rest_each(&service, 5..25).await;
    let ready_while_down = ready_status(&service).await;
    let landed_from_memory = twilio.wait_landed(5..25, Duration::from_secs(10)).await;
    let noticed_down = wait_store_up(&service, 0, Duration::from_secs(10)).await;
    let down = service.scrape().await;

    // Act: the store comes back.
    pg.start_again().await;
    let noticed_up = wait_store_up(&service, 1, Duration::from_secs(20)).await;
    // Once store_up says 1, claims go to the store: the next decision is claimed there (a
    // gauge that said 1 while they still went to memory let duplicate callbacks at two
    // replicas both send).
    let up = service.scrape().await;
    post_rest_each(&service, 25..26).await;
    let first_after = service.scrape().await;
    // The first claims after the store returns may still find the pool reconnecting and go
    // to memory: durability must come back, within a bound, for new ones.
    let mut next = 26;
    let durable_again = wait_until(Duration::from_secs(20), async || {
        let n = next;
        next += 1;
        post_rest_each(&service, n..n + 1).await;
        wait_until(Duration::from_secs(2), async || {
            rows_in_state(&pg, n..n + 1, "landed").await == 1
        })
        .await
    })
    .await;
    let landed_after = twilio.wait_landed(25..next, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let back = service.scrape().await;

    // Assert
    assert!(
        second_slowest(&took) <= STORE_BUDGET + Duration::from_millis(100),
        "answers waited on the stopped store: {took:?}"
    );
    assert_eq!(ready_while_down, 200, "/ready does not depend on the store");
    assert!(landed_from_memory, "{}", twilio.summary());
    assert!(
        noticed_down,
        "store_up stayed 1 with the store stopped:\n{down}"
    );
    assert!(
        down.store_unavailable() >= 20,
        "each decision the store missed is counted:\n{down}"
    );
    assert!(noticed_up, "store_up never returned to 1:\n{back}");
    assert_eq!(
        (
            first_after.claims("won") - up.claims("won"),
            first_after.store_unavailable() - up.store_unavailable()
        ),
        (1, 0),
        "the first decision once store_up was 1 was not claimed in the store:\n{first_after}"
    );
    assert!(
        durable_again,
        "new decisions have no rows after the store came back ({} of {})",
        rows_of(&pg, 25..next).await,
        next - 25
    );
    assert!(landed_after, "{}", twilio.summary());
    assert_eq!(
        twilio.landings_of(0..next),
        vec![1; next],
        "{}",
        twilio.summary()
    );
    assert!(
        back.claims("won") >= 6,
        "claims made with the store there (the first five, then at least one):\n{back}"
    );
    assert_eq!(back.outcomes().landed, next as u64, "{back}");
}

/// Two replicas on one store, Reservation 0 decided and landed through it, and then the
/// store stopped; `None` where PostgreSQL is not installed.
async fn two_replicas_then_the_store_stops() -> Option<(Postgres, Twilio, Running, Running)> {
    let mut pg = Postgres::start().await?;
    let twilio = Twilio::start().await;
    let first = start(replica(&pg, &twilio, &[]));
    let second = start(replica(&pg, &twilio, &[]));
    post_rest_each(&first, 0..1).await;
    assert!(twilio.wait_landed(0..1, Duration::from_secs(10)).await);
    pg.stop();
    Some((pg, twilio, first, second))
}

#[tokio::test]
async fn a_retry_at_another_replica_while_the_store_is_away_is_checked_and_not_sent() {
    // Arrange: two replicas on one store, which then stops.
    let Some((_pg, twilio, first, second)) = two_replicas_then_the_store_stops().await else {
        return;
    };

    // Act: the first replica decides ten Reservations from memory; then TaskRouter's retry
    // of each reaches the second.
    post_rest_each(&first, 1..11).await;
    let landed = twilio.wait_landed(1..11, Duration::from_secs(10)).await;
    post_rest_each(&second, 1..11).await;
    let ended = wait_until(Duration::from_secs(10), async || {
        second.scrape().await.outcomes().moved_on == 10
    })
    .await;
    // Long enough for a POST that should not come to be seen.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let scrape = second.scrape().await;

    // Assert
    assert!(landed, "{}", twilio.summary());
    assert!(
        ended,
        "the second replica's updates did not end as moved on:\n{scrape}"
    );
    let posts: Vec<usize> = (1..11).map(|n| twilio.posts(n)).collect();
    assert_eq!(
        posts,
        vec![1; 10],
        "a duplicate was sent again:\n{}",
        twilio.summary()
    );
    assert_eq!(
        twilio.landings_of(0..11),
        vec![1; 11],
        "{}",
        twilio.summary()
    );
    let checked: Vec<usize> = (1..11).map(|n| twilio.gets(n)).collect();
    assert_eq!(
        checked,
        vec![2; 10],
        "each replica checks before sending from memory:\n{}",
        twilio.summary()
    );
    assert_eq!(scrape.outcomes().landed, 0, "{scrape}");
    assert!(scrape.store_unavailable() >= 10, "{scrape}");
}

#[tokio::test]
async fn a_retry_that_comes_once_the_store_is_back_finds_the_update_sent_from_memory_claimed() {
    // Arrange: two replicas on one store, which stops; the first decides five Reservations
    // from memory, and they land.
    let Some((mut pg, twilio, first, second)) = two_replicas_then_the_store_stops().await else {
        return;
    };
    post_rest_each(&first, 1..6).await;
    let landed = twilio.wait_landed(1..6, Duration::from_secs(10)).await;

    // Act: the store comes back, and then TaskRouter's retry of each reaches the second.
    pg.start_again().await;
    let noted = wait_until(Duration::from_secs(20), async || {
        rows_in_state(&pg, 1..6, "sent_from_memory").await == 5
    })
    .await;
    // Until its own next read of the store succeeds, the second replica still counts it
    // away and sends from memory without asking it: the retries must come after that.
    let second_up = wait_store_up(&second, 1, Duration::from_secs(20)).await;
    let before = second.scrape().await;
    post_rest_each(&second, 1..6).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = second.scrape().await;
    let record = second
        .record_when(&reservation_sid(1), Duration::from_secs(5), |record| {
            record["update"]["state"] == "sent_from_memory"
        })
        .await;

    // Assert
    assert!(landed, "{}", twilio.summary());
    assert!(
        noted,
        "the updates sent from memory were not written to the store ({} of 5 have rows)",
        rows_of(&pg, 1..6).await
    );
    assert!(
        second_up,
        "the second replica never counted the store up again:\n{before}"
    );
    assert_eq!(
        after.claims("lost") - before.claims("lost"),
        5,
        "the retries did not find the Reservations claimed:\n{after}"
    );
    assert_eq!(after.outcomes().landed, 0, "{after}");
    let posts: Vec<usize> = (1..6).map(|n| twilio.posts(n)).collect();
    assert_eq!(posts, vec![1; 5], "a retry was sent:\n{}", twilio.summary());
    let checked: Vec<usize> = (1..6).map(|n| twilio.gets(n)).collect();
    assert_eq!(
        checked,
        vec![1; 5],
        "only the first replica's check, before it sent from memory:\n{}",
        twilio.summary()
    );
    assert_eq!(
        record["update"]["state"], "sent_from_memory",
        "the record does not say how its update went: {record}"
    );
}

#[tokio::test]
async fn a_store_that_hangs_costs_a_callback_half_a_second_at_most_and_nothing_twice() {
    // Arrange
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    let settings = [("APP_STORE__LEASE_SECS", "2")];
    let service = start(replica(&pg, &twilio, &settings));
    post_rest_each(&service, 0..3).await;
    assert!(twilio.wait_landed(0..3, Duration::from_secs(10)).await);

    // Act: every process of the server stops; connections stay open and go silent.
    pg.freeze();
    let took = post_rest_each(&service, 3..13).await;
    let landed_from_memory = twilio.wait_landed(3..13, Duration::from_secs(10)).await;
    let hung = service.scrape().await;
    pg.thaw();
    // Queries that timed out at the replica may still be carried out now: a claim the
    // replica gave up on can commit after the update was already sent from memory, and must
    // not make anyone send it again (past a lease and a poll).
    let noticed_up = wait_store_up(&service, 1, Duration::from_secs(20)).await;
    // The first claims after the thaw may still queue behind what the frozen server owes
    // and fall back to memory: durability must come back, within a bound, for new ones.
    let mut next = 13;
    let durable_again = wait_until(Duration::from_secs(20), async || {
        let n = next;
        next += 1;
        post_rest_each(&service, n..n + 1).await;
        wait_until(Duration::from_secs(2), async || {
            rows_in_state(&pg, n..n + 1, "landed").await == 1
        })
        .await
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let back = service.scrape().await;

    // Assert
    assert!(
        second_slowest(&took) <= STORE_BUDGET + Duration::from_millis(150),
        "answers waited on the hung store for more than {STORE_BUDGET:?}: {took:?}"
    );
    assert!(landed_from_memory, "{}", twilio.summary());
    assert!(
        hung.store_unavailable() >= 10,
        "each decision the store missed is counted:\n{hung}"
    );
    assert!(noticed_up, "{back}");
    assert!(
        durable_again,
        "new decisions have no rows after the store resumed"
    );
    assert_eq!(
        twilio.landings_of(0..next),
        vec![1; next],
        "{}",
        twilio.summary()
    );
    let posts: Vec<usize> = (0..next).map(|n| twilio.posts(n)).collect();
    assert_eq!(
        posts,
        vec![1; next],
        "an update was sent again:\n{}",
        twilio.summary()
    );
}

#[tokio::test]
async fn a_replica_starts_with_the_store_down_and_decisions_become_durable_once_it_is_up() {
    // Arrange: a server that has never seen the service (no tables yet), stopped.
    let Some(mut pg) = Postgres::start().await else {
        return;
    };
    pg.stop();
    let twilio = Twilio::start().await;

    // Act
    let service = start(replica(&pg, &twilio, &[]));
    let ready = ready_status(&service).await;
    post_rest_each(&service, 0..3).await;
    let landed_from_memory = twilio.wait_landed(0..3, Duration::from_secs(10)).await;
    pg.start_again().await;
    let noticed_up = wait_store_up(&service, 1, Duration::from_secs(20)).await;
    post_rest_each(&service, 3..6).await;
    let durable = wait_until(Duration::from_secs(10), async || {
        rows_in_state(&pg, 3..6, "landed").await == 3
    })
    .await;
    let landed = twilio.wait_landed(3..6, Duration::from_secs(10)).await;
    let scrape = service.scrape().await;

    // Assert
    assert_eq!(ready, 200, "/ready does not depend on the store");
    assert!(landed_from_memory, "{}", twilio.summary());
    assert!(noticed_up, "store_up never reached 1:\n{scrape}");
    assert!(
        durable,
        "decisions after the store came up have no rows ({} of 3)",
        rows_of(&pg, 3..6).await
    );
    assert!(landed, "{}", twilio.summary());
    assert_eq!(twilio.landings_of(0..6), vec![1; 6], "{}", twilio.summary());
    assert!(scrape.store_unavailable() >= 3, "{scrape}");
}

#[tokio::test]
async fn a_lease_renewal_called_off_as_a_deadlock_leaves_claims_in_the_store() {
    // Arrange: a replica holds two updates (Twilio failing), and another session holds the
    // higher of the two Reservations' rows.
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    twilio.fail_posts();
    let service = start(replica(
        &pg,
        &twilio,
        &[
            ("APP_STORE__LEASE_SECS", "3"),
            ("APP_TWILIO__UPDATE_DEADLINE_SECS", "60"),
        ],
    ));
    post_rest_each(&service, 0..2).await;
    assert_eq!(rows_in_state(&pg, 0..2, "pending").await, 2);
    let mut held = [reservation_sid(0), reservation_sid(1)];
    held.sort();
    let mut other = RowLocks::begin(&pg).await;
    other.lock(&held[1]).await.unwrap();

    // Act: once the replica's renewal has locked the lower row and waits for the higher,
    // the other session asks for the lower: PostgreSQL calls the renewal off, a deadlock's
    // victim. Then a callback comes at once.
    let renewal_waits = wait_until(Duration::from_secs(10), async || {
        pg.query_scalar::<i64>(
            "SELECT count(*) FROM pg_stat_activity
              WHERE application_name = 'assignment-router' AND wait_event_type = 'Lock'
                AND query LIKE '%SET leased_until = now() + make_interval%'",
        )
        .await
            > 0
    })
    .await;
    assert!(
        renewal_waits,
        "the replica's renewal never waited for the row"
    );
    let before = service.scrape().await;
    let crossed = other.lock(&held[0]).await;
    post_rest_each(&service, 2..3).await;
    let after = service.scrape().await;
    other.roll_back().await;
    twilio.stop_failing();
    let landed = twilio.wait_landed(0..3, Duration::from_secs(20)).await;

    // Assert: there was a deadlock, and the renewal was its victim; the callback after it
    // was claimed in the store, not sent from memory, and nothing went twice.
    assert!(crossed.is_ok(), "{crossed:?}");
    assert!(pg.log().contains("deadlock detected"), "{}", pg.log());
    assert_eq!(
        (
            after.claims("won") - before.claims("won"),
            after.store_unavailable() - before.store_unavailable(),
            after.store_up()
        ),
        (1, 0, 1),
        "a conflict sent claims to memory:\n{after}"
    );
    assert_eq!(
        rows_in_state(&pg, 2..3, "pending").await + rows_in_state(&pg, 2..3, "landed").await,
        1
    );
    assert!(landed, "{}", twilio.summary());
    assert_eq!(twilio.landings_of(0..3), vec![1; 3], "{}", twilio.summary());
    assert_eq!(
        twilio.gets(2),
        0,
        "the claimed update was checked as if sent from memory"
    );
}
