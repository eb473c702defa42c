//! Takeovers: an update outlives the replica that decided it. A replica killed outright
//! leaves its leases to expire, and another (or itself, restarted) takes the updates over;
//! one stopped by SIGTERM hands back what it could not finish at once. Before re-sending, the
//! new holder asks Twilio whether the Reservation is still pending, so an update that landed
//! just before the crash is not sent twice; and the first decision's deadline still holds.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::*;
use crate::support::postgres::Postgres;
use crate::support::process::start;

/// The holders of these Reservations' rows, each once (`None` for a released row).
async fn holders(pg: &Postgres, numbers: Range<usize>) -> Vec<Option<String>> {
    let pool = pg.pool().await;
    let holders = sqlx::query_scalar::<_, Option<String>>(&format!(
        "SELECT DISTINCT holder FROM assignment_router_updates WHERE reservation_sid IN ({})",
        sql_list(numbers)
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    holders
}

/// Each Reservation's `deadline_at`, as a time of this machine (the server shares its clock).
async fn deadlines(pg: &Postgres) -> HashMap<String, SystemTime> {
    let pool = pg.pool().await;
    let rows = sqlx::query_as::<_, (String, f64)>(
        "SELECT reservation_sid, extract(epoch FROM deadline_at)::float8 \
         FROM assignment_router_updates",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.into_iter()
        .map(|(sid, epoch)| (sid, UNIX_EPOCH + Duration::from_secs_f64(epoch)))
        .collect()
}

#[tokio::test]
async fn a_replica_killed_holding_50_updates_leaves_them_to_the_other_which_lands_each_once() {
    // Arrange: Twilio is failing, so the first replica still holds every update it decided.
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    twilio.fail_posts();
    let settings = [
        ("APP_STORE__LEASE_SECS", "1"),
        ("APP_TWILIO__UPDATE_DEADLINE_SECS", "30"),
    ];
    let mut replicas = start_together(vec![
        replica(&pg, &twilio, &settings),
        replica(&pg, &twilio, &settings),
    ]);
    const HELD: usize = 50;
    post_rest_each(&replicas[0], 0..HELD).await;
    let tried = twilio.wait_posted(0..HELD, Duration::from_secs(10)).await;
    assert!(
        tried,
        "the first replica did not try each update:\n{}",
        twilio.summary()
    );
    let held_by = holders(&pg, 0..HELD).await;
    assert_eq!(rows_in_state(&pg, 0..HELD, "pending").await, HELD as i64);
    assert!(
        held_by.len() == 1 && held_by[0].is_some(),
        "one replica holds them all: {held_by:?}"
    );

    // Act: the replica dies with everything pending; Twilio recovers a little later.
    replicas[0].kill();
    twilio.fail_posts_for(Duration::from_secs(2));
    let all_landed = twilio.wait_landed(0..HELD, Duration::from_secs(25)).await;
    // Past another lease: a second takeover would have sent again by now.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let survivor = replicas[1].scrape().await;

    // Assert
    assert!(all_landed, "not every update landed:\n{}", twilio.summary());
    assert_eq!(
        twilio.landings_of(0..HELD),
        vec![1; HELD],
        "{}",
        twilio.summary()
    );
    let unchecked: Vec<usize> = (0..HELD).filter(|&n| twilio.gets(n) == 0).collect();
    assert!(
        unchecked.is_empty(),
        "re-sent without asking Twilio first: {unchecked:?}"
    );
    assert_eq!(survivor.takeovers(), HELD as u64, "{survivor}");
    assert_eq!(survivor.outcomes().landed, HELD as u64, "{survivor}");
    assert_eq!(rows_in_state(&pg, 0..HELD, "landed").await, HELD as i64);
    let deadlines = deadlines(&pg).await;
    for seen in twilio.seen().iter().filter(|s| s.post && s.status == 200) {
        assert!(
            seen.at <= deadlines[&seen.reservation],
            "{} landed after its deadline",
            seen.reservation
        );
    }
}

#[tokio::test]
async fn a_replica_killed_and_restarted_on_the_same_store_lands_everything_pending_once() {
    // Arrange
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    twilio.fail_posts();
    let settings = [("APP_STORE__LEASE_SECS", "1")];
    let mut first = start(replica(&pg, &twilio, &settings));
    const HELD: usize = 20;
    post_rest_each(&first, 0..HELD).await;
    let tried = twilio.wait_posted(0..HELD, Duration::from_secs(10)).await;
    assert!(tried, "{}", twilio.summary());

    // Act: killed, Twilio back, the same replica started again on the same store.
    first.kill();
    twilio.stop_failing();
    let restarted = start(replica(&pg, &twilio, &settings));
    let all_landed = twilio.wait_landed(0..HELD, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let scrape = restarted.scrape().await;

    // Assert
    assert!(all_landed, "not every update landed:\n{}", twilio.summary());
    assert_eq!(
        twilio.landings_of(0..HELD),
        vec![1; HELD],
        "{}",
        twilio.summary()
    );
    assert_eq!(scrape.takeovers(), HELD as u64, "{scrape}");
    assert_eq!(scrape.outcomes().landed, HELD as u64, "{scrape}");
    assert_eq!(rows_in_state(&pg, 0..HELD, "landed").await, HELD as i64);
}

#[tokio::test]
async fn a_taken_over_update_is_never_sent_after_the_first_decisions_deadline() {
    // Arrange: Twilio fails throughout; the deadline is 4 s from each decision, and the
    // lease 2 s, so the takeover happens with about 1.5 s of the deadline left.
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    twilio.fail_posts();
    let settings = [
        ("APP_STORE__LEASE_SECS", "2"),
        ("APP_TWILIO__UPDATE_DEADLINE_SECS", "4"),
    ];
    let mut replicas = start_together(vec![
        replica(&pg, &twilio, &settings),
        replica(&pg, &twilio, &settings),
    ]);
    const HELD: usize = 10;
    post_rest_each(&replicas[0], 0..HELD).await;
    let tried = twilio.wait_posted(0..HELD, Duration::from_secs(3)).await;
    assert!(tried, "{}", twilio.summary());

    // Act
    replicas[0].kill();
    let killed_at = SystemTime::now();
    let all_expired = wait_until(Duration::from_secs(15), async || {
        rows_in_state(&pg, 0..HELD, "expired").await == HELD as i64
    })
    .await;
    let at_expiry = twilio.total();
    // Past another lease and poll: nothing may follow the expiry.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let seen = twilio.seen();
    let survivor = replicas[1].scrape().await;

    // Assert
    assert!(
        all_expired,
        "the rows did not all end expired ({} did):\n{}",
        rows_in_state(&pg, 0..HELD, "expired").await,
        twilio.summary()
    );
    assert_eq!(seen.len(), at_expiry, "requests after the updates expired");
    assert!(
        seen.iter().any(|s| s.at > killed_at),
        "the second replica never took the updates over:\n{}\n{survivor}",
        twilio.summary()
    );
    // An attempt starts only with time left; arriving a moment after the deadline is the
    // request's own transit, not a late start.
    let transit = Duration::from_millis(250);
    let deadlines = deadlines(&pg).await;
    for s in &seen {
        let deadline = deadlines[&s.reservation];
        assert!(
            s.at <= deadline + transit,
            "{} was {} {:?} after its deadline",
            s.reservation,
            if s.post { "POSTed" } else { "read" },
            s.at.duration_since(deadline).unwrap_or_default()
        );
    }
    assert_eq!(twilio.landings_of(0..HELD), vec![0; HELD]);
}

#[tokio::test]
async fn sigterm_releases_what_the_replica_could_not_finish_and_another_takes_it_at_once() {
    // Arrange: a long lease, so a takeover in seconds can only come from a release.
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    twilio.fail_posts();
    const LEASE: Duration = Duration::from_secs(30);
    let settings = [
        ("APP_STORE__LEASE_SECS", "30"),
        ("APP_SERVER__SHUTDOWN_GRACE_SECS", "1"),
    ];
    let mut replicas = start_together(vec![
        replica(&pg, &twilio, &settings),
        replica(&pg, &twilio, &settings),
    ]);
    const HELD: usize = 10;
    post_rest_each(&replicas[0], 0..HELD).await;
    let tried = twilio.wait_posted(0..HELD, Duration::from_secs(10)).await;
    assert!(tried, "{}", twilio.summary());
    let held_by = holders(&pg, 0..HELD).await;
    assert!(
        held_by.len() == 1 && held_by[0].is_some(),
        "one replica holds them all: {held_by:?}"
    );
    let first_holder = held_by[0].clone().unwrap();

    // Act: SIGTERM while Twilio still fails, so the grace cannot finish anything.
    let status = replicas[0].terminate();
    let stopped = Instant::now();
    let still_held = pg
        .query_scalar::<i64>(&format!(
            "SELECT count(*) FROM assignment_router_updates \
             WHERE holder = '{first_holder}' AND leased_until > now()"
        ))
        .await;
    let pending = rows_in_state(&pg, 0..HELD, "pending").await;
    twilio.stop_failing();
    let all_landed = twilio.wait_landed(0..HELD, LEASE / 2).await;
    let took = stopped.elapsed();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let survivor = replicas[1].scrape().await;

    // Assert
    assert_eq!(status.code(), Some(0));
    assert_eq!(pending, HELD as i64, "nothing could land during the grace");
    assert_eq!(
        still_held, 0,
        "the stopped replica kept leases it no longer serves"
    );
    assert!(
        all_landed,
        "not taken over within {:?} of the stop (lease {LEASE:?}):\n{}",
        LEASE / 2,
        twilio.summary()
    );
    assert_eq!(
        twilio.landings_of(0..HELD),
        vec![1; HELD],
        "{}",
        twilio.summary()
    );
    assert_eq!(survivor.takeovers(), HELD as u64, "{survivor}");
    assert_eq!(rows_in_state(&pg, 0..HELD, "landed").await, HELD as i64);
    eprintln!("released updates landed {took:?} after the stop");
}

#[tokio::test]
async fn a_replica_holding_updates_past_its_lease_keeps_them_and_no_other_replica_sends_them() {
    // Arrange: Twilio fails for four leases; the holder renews its leases meanwhile.
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    twilio.fail_posts();
    let settings = [("APP_STORE__LEASE_SECS", "1")];
    let replicas = start_together(vec![
        replica(&pg, &twilio, &settings),
        replica(&pg, &twilio, &settings),
    ]);
    const HELD: usize = 10;
    post_rest_each(&replicas[0], 0..HELD).await;
    assert!(twilio.wait_posted(0..HELD, Duration::from_secs(5)).await);

    // Act: four lease periods of failure at least, watching the fleet-wide depth of the
    // outbox (read every few seconds) until it has shown them.
    let holding = Instant::now();
    let mut most_leased = 0;
    while holding.elapsed() < Duration::from_secs(4)
        || (most_leased < HELD as i64 && holding.elapsed() < Duration::from_secs(12))
    {
        for service in &replicas {
            let leased: i64 = service
                .scrape()
                .await
                .value("assignment_router_outbox_updates{state=\"leased\"}");
            most_leased = most_leased.max(leased);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let holder_during = holders(&pg, 0..HELD).await;
    twilio.stop_failing();
    let all_landed = twilio.wait_landed(0..HELD, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (first, second) = (replicas[0].scrape().await, replicas[1].scrape().await);

    // Assert
    assert_eq!(
        holder_during.len(),
        1,
        "the updates changed hands: {holder_during:?}"
    );
    assert_eq!(
        most_leased, HELD as i64,
        "the outbox depth never showed them leased"
    );
    assert!(all_landed, "{}", twilio.summary());
    assert_eq!(
        twilio.landings_of(0..HELD),
        vec![1; HELD],
        "{}",
        twilio.summary()
    );
    let checked: usize = (0..HELD).map(|n| twilio.gets(n)).sum();
    assert_eq!(
        checked,
        0,
        "a takeover checked with Twilio:\n{}",
        twilio.summary()
    );
    assert_eq!(first.takeovers() + second.takeovers(), 0);
    assert_eq!(first.outcomes().landed, HELD as u64, "{first}");
}

#[tokio::test]
async fn a_replica_whose_update_was_taken_over_stops_sending_it_and_leaves_its_row_alone() {
    // Arrange: Twilio fails; a replica holds five updates and retries them.
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    twilio.fail_posts();
    let service = start(replica(&pg, &twilio, &[]));
    const HELD: usize = 5;
    post_rest_each(&service, 0..HELD).await;
    assert!(twilio.wait_posted(0..HELD, Duration::from_secs(5)).await);

    // Act: another replica takes them over, as one does when this one's lease ran out (it
    // stalled, or the store was away); the row's holder is all that says so.
    let taken = pg
        .execute(&format!(
            "UPDATE assignment_router_updates SET holder = 'elsewhere:1:0000', \
                    leased_until = now() + interval '1 hour', takeovers = takeovers + 1 \
              WHERE reservation_sid IN ({})",
            sql_list(0..HELD)
        ))
        .await;
    let stopped = wait_until(Duration::from_secs(15), async || {
        service.scrape().await.outcomes().moved_on == HELD as u64
    })
    .await;
    let posts_then: Vec<usize> = (0..HELD).map(|n| twilio.posts(n)).collect();
    // Longer than the backoff between two of its attempts by then.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let posts_later: Vec<usize> = (0..HELD).map(|n| twilio.posts(n)).collect();
    let scrape = service.scrape().await;
    let rows = holders(&pg, 0..HELD).await;
    let still_pending = rows_in_state(&pg, 0..HELD, "pending").await;

    // Assert
    assert_eq!(taken, HELD as u64);
    assert!(stopped, "the replica kept sending:\n{scrape}");
    assert_eq!(
        posts_later,
        posts_then,
        "the replica sent after another took its updates over:\n{}",
        twilio.summary()
    );
    assert_eq!(
        (still_pending, rows),
        (HELD as i64, vec![Some("elsewhere:1:0000".to_owned())]),
        "the replica wrote over the rows of the replica that holds them"
    );
}

#[tokio::test]
async fn an_update_that_landed_just_before_its_holder_died_is_not_sent_again() {
    // Arrange: Twilio applies each update at once but answers late, and the holder dies
    // waiting: the store still says pending, Twilio says accepted.
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    twilio.answer_late(Duration::from_secs(10));
    let settings = [("APP_STORE__LEASE_SECS", "1")];
    let mut replicas = start_together(vec![
        replica(&pg, &twilio, &settings),
        replica(&pg, &twilio, &settings),
    ]);
    const HELD: usize = 10;
    post_rest_each(&replicas[0], 0..HELD).await;
    assert!(twilio.wait_posted(0..HELD, Duration::from_secs(5)).await);

    // Act
    replicas[0].kill();
    let killed_at = SystemTime::now();
    twilio.answer_late(Duration::ZERO);
    let all_ended = wait_until(Duration::from_secs(15), async || {
        rows_in_state(&pg, 0..HELD, "moved_on").await == HELD as i64
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let survivor = replicas[1].scrape().await;

    // Assert
    assert!(
        all_ended,
        "the rows did not all end moved_on:\n{}\n{survivor}",
        twilio.summary()
    );
    let posts: Vec<usize> = (0..HELD).map(|n| twilio.posts(n)).collect();
    assert_eq!(posts, vec![1; HELD], "sent again:\n{}", twilio.summary());
    let unchecked: Vec<usize> = (0..HELD).filter(|&n| twilio.gets(n) == 0).collect();
    assert!(
        unchecked.is_empty(),
        "ended without asking Twilio: {unchecked:?}"
    );
    assert!(
        !twilio.seen().iter().any(|s| s.post && s.at > killed_at),
        "a POST after the holder died"
    );
    assert_eq!(survivor.takeovers(), HELD as u64, "{survivor}");
    assert_eq!(survivor.outcomes().moved_on, HELD as u64, "{survivor}");
}

#[tokio::test]
async fn a_taken_over_reservation_that_is_no_longer_pending_ends_moved_on_without_a_post() {
    // Arrange
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    twilio.fail_posts();
    let settings = [("APP_STORE__LEASE_SECS", "1")];
    let mut replicas = start_together(vec![
        replica(&pg, &twilio, &settings),
        replica(&pg, &twilio, &settings),
    ]);
    const HELD: usize = 6;
    post_rest_each(&replicas[0], 0..HELD).await;
    assert!(twilio.wait_posted(0..HELD, Duration::from_secs(5)).await);

    // Act: the holder dies; meanwhile TaskRouter has moved each Reservation on.
    replicas[0].kill();
    let killed_at = SystemTime::now();
    for (n, status) in [
        "canceled",
        "canceled",
        "timeout",
        "timeout",
        "rejected",
        "rescinded",
    ]
    .into_iter()
    .enumerate()
    {
        twilio.set_status(n, status);
    }
    twilio.stop_failing();
    let all_ended = wait_until(Duration::from_secs(15), async || {
        rows_in_state(&pg, 0..HELD, "moved_on").await == HELD as i64
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let survivor = replicas[1].scrape().await;

    // Assert
    assert!(all_ended, "{}\n{survivor}", twilio.summary());
    assert!(
        !twilio.seen().iter().any(|s| s.post && s.at > killed_at),
        "a POST to a Reservation no longer pending:\n{}",
        twilio.summary()
    );
    assert!(
        (0..HELD).all(|n| twilio.gets(n) >= 1),
        "{}",
        twilio.summary()
    );
    assert_eq!(survivor.takeovers(), HELD as u64, "{survivor}");
    assert_eq!(survivor.outcomes().moved_on, HELD as u64, "{survivor}");
}

#[tokio::test]
async fn a_failed_check_with_twilio_is_retried_and_the_update_lands_once_after_it() {
    // Arrange
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    twilio.fail_posts();
    let settings = [
        ("APP_STORE__LEASE_SECS", "1"),
        ("APP_TWILIO__UPDATE_DEADLINE_SECS", "30"),
    ];
    let mut replicas = start_together(vec![
        replica(&pg, &twilio, &settings),
        replica(&pg, &twilio, &settings),
    ]);
    const HELD: usize = 10;
    post_rest_each(&replicas[0], 0..HELD).await;
    assert!(twilio.wait_posted(0..HELD, Duration::from_secs(5)).await);

    // Act: the holder dies; updates would land now, but reading a Reservation fails for a
    // while past the takeover.
    replicas[0].kill();
    let killed_at = SystemTime::now();
    twilio.stop_failing();
    twilio.fail_gets_for(Duration::from_secs(3));
    let all_landed = twilio.wait_landed(0..HELD, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let survivor = replicas[1].scrape().await;
    let fewest_attempts = pg
        .query_scalar::<i32>(&format!(
            "SELECT min(attempts) FROM assignment_router_updates WHERE reservation_sid IN ({})",
            sql_list(0..HELD)
        ))
        .await;

    // Assert
    assert!(all_landed, "{}", twilio.summary());
    assert_eq!(
        twilio.landings_of(0..HELD),
        vec![1; HELD],
        "{}",
        twilio.summary()
    );
    let seen = twilio.seen();
    for n in 0..HELD {
        let reservation = reservation_sid(n);
        let after: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.reservation == reservation && s.at > killed_at)
            .collect();
        assert!(
            after.iter().any(|s| !s.post && s.status == 503),
            "{reservation}: the takeover met no failed check: {after:?}"
        );
        let first_post = after.iter().position(|s| s.post).unwrap();
        assert!(
            after[..first_post]
                .iter()
                .any(|s| !s.post && s.status == 200),
            "{reservation}: POSTed before Twilio said it was pending: {after:?}"
        );
    }
    assert!(
        fewest_attempts >= 2,
        "a failed check counts as an attempt (fewest: {fewest_attempts})"
    );
    assert_eq!(survivor.takeovers(), HELD as u64, "{survivor}");
    assert_eq!(survivor.outcomes().landed, HELD as u64, "{survivor}");
}
