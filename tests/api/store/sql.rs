//! The store's SQL, statement by statement, against a real PostgreSQL server of its own for
//! each test: decision records, outcomes, and what events and ends do to the outbox. Each
//! test uses its own Reservations.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use assignment_router::decisions::record::rfc3339_ms;
use assignment_router::decisions::{DecisionRecord, Outcome, OutcomeRecord, UpdateRecord};
use assignment_router::outbox::ends::{Ends, WRITE_FOR};
use assignment_router::store::SharedStore;
use assignment_router::store::decisions::{
    EARLY_OUTCOMES_KEPT, LateTie, OutcomeTie, RecordBatch, StoredRecord,
};
use assignment_router::store::updates::{Ended, NewUpdate};
use assignment_router::telemetry::metrics::Metrics;
use secrecy::SecretString;
use tokio::runtime::Handle;

use super::RowLocks;
use crate::support::postgres::{Options, Postgres};

/// A server of this test's own, migrated, and the store on it; `None` where PostgreSQL is
/// not installed (the harness says so). The server lives as long as the first value.
async fn store() -> Option<(Postgres, SharedStore, Arc<Metrics>)> {
    let postgres = Postgres::start().await?;
    let metrics = Arc::new(Metrics::new());
    let store = SharedStore::open(
        &SecretString::from(postgres.url()),
        4,
        0,
        Handle::current(),
        metrics.clone(),
    )
    .expect("the harness's URL is a PostgreSQL URL");
    store.migrate().await.expect("the migrations apply");
    Some((postgres, store, metrics))
}

/// A second store on the same server, with a pool of its own, as another replica has.
fn another_pool(postgres: &Postgres, metrics: Arc<Metrics>) -> SharedStore {
    SharedStore::open(
        &SecretString::from(postgres.url()),
        4,
        0,
        Handle::current(),
        metrics,
    )
    .expect("the same URL again")
}

/// How many of Reservation `sid`'s outcomes wait for its record.
async fn kept_outcomes(postgres: &Postgres, sid: &str) -> i64 {
    postgres
        .query_scalar::<i64>(&format!(
            "SELECT count(*) FROM assignment_router_early_outcomes WHERE reservation_sid = '{sid}'"
        ))
        .await
}

/// A prefix no other test, and no earlier run, uses.
fn unique(kind: &str) -> String {
    format!("{kind}{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn record(reservation_sid: &str, task_sid: &str, delivery: &str, at: SystemTime) -> DecisionRecord {
    DecisionRecord {
        decided_at: rfc3339_ms(at),
        reservation_sid: reservation_sid.to_owned(),
        task_sid: task_sid.to_owned(),
        worker_sid: "WK0000000000000000000000000000000a".to_owned(),
        workspace_sid: "WS0000000000000000000000000000000a".to_owned(),
        workflow_sid: None,
        rule: "vip".to_owned(),
        instruction: if delivery == "rest" {
            "dequeue"
        } else {
            "accept"
        }
        .to_owned(),
        delivery: delivery.to_owned(),
        answer: if delivery == "rest" {
            serde_json::json!({})
        } else {
            serde_json::json!({"instruction": "accept"})
        },
        form: (delivery == "rest").then(|| vec![("Instruction".to_owned(), "dequeue".to_owned())]),
        revision: "r1".to_owned(),
        trace: vec!["rule `night`: the schedule is closed".to_owned()],
        shadows: Vec::new(),
        update: None,
        outcomes: Vec::new(),
    }
}

fn update(reservation_sid: &str, task_sid: &str) -> NewUpdate {
    let now = SystemTime::now();
    NewUpdate {
        reservation_sid: reservation_sid.to_owned(),
        workspace_sid: "WS0000000000000000000000000000000a".to_owned(),
        worker_sid: "WK0000000000000000000000000000000a".to_owned(),
        task_sid: task_sid.to_owned(),
        rule: "vip".to_owned(),
        instruction: "dequeue",
        body: "Instruction=dequeue".to_owned(),
        decided_at: now,
        deadline: now + Duration::from_secs(120),
    }
}

fn millis(at: SystemTime) -> u128 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_is_written_at_once_and_a_reservation_keeps_its_first_record() {
    let Some((_postgres, store, _)) = store().await else {
        return;
    };
    // Arrange
    let prefix = unique("WR");
    let task = unique("WT");
    let now = SystemTime::now();
    let batch: Vec<DecisionRecord> = (0..300)
        .map(|i| record(&format!("{prefix}{i:03}"), &task, "inline", now))
        .collect();
    let first = format!("{prefix}000");

    // Act
    let written = store.insert_decisions(encoded(batch)).await.unwrap();
    let mut again = record(&first, &task, "inline", now);
    again.rule = "second".to_owned();
    let mut twice_a = record(&format!("{prefix}new"), &task, "inline", now);
    twice_a.rule = "first-in-batch".to_owned();
    let mut twice_b = twice_a.clone();
    twice_b.rule = "second-in-batch".to_owned();
    let rewritten = store
        .insert_decisions(encoded(vec![again, twice_a, twice_b]))
        .await
        .unwrap();
    let empty = store.insert_decisions(encoded(Vec::new())).await.unwrap();

    // Assert
    assert_eq!(written, 300);
    assert_eq!(rewritten, 1, "only the new Reservation, once");
    assert_eq!(empty, 0);
    let kept = store.decision(&first).await.unwrap().unwrap();
    assert_eq!(kept.rule, "vip");
    assert_eq!(kept, record(&first, &task, "inline", now));
    let in_batch = store
        .decision(&format!("{prefix}new"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(in_batch.rule, "first-in-batch");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_is_stored_without_its_update_and_outcomes() {
    let Some((postgres, store, _)) = store().await else {
        return;
    };
    // Arrange
    let sid = unique("WR");
    let mut written = record(&sid, &unique("WT"), "inline", SystemTime::now());
    written.update = Some(UpdateRecord {
        attempts: 3,
        state: "landed".to_owned(),
        detail: None,
        ended_at: None,
    });
    written.outcomes = vec![OutcomeRecord {
        outcome: "accepted".to_owned(),
        at: written.decided_at.clone(),
        after_ms: 0,
    }];

    // Act
    store
        .insert_decisions(encoded(vec![written.clone()]))
        .await
        .unwrap();
    let stored: String = sqlx::query_scalar(
        "SELECT record::text FROM assignment_router_decisions WHERE reservation_sid = $1",
    )
    .bind(&sid)
    .fetch_one(&postgres.pool().await)
    .await
    .unwrap();

    // Assert
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["update"], serde_json::Value::Null);
    assert_eq!(stored["outcomes"], serde_json::json!([]));
    let read = store.decision(&sid).await.unwrap().unwrap();
    assert_eq!(read.update, None);
    assert!(read.outcomes.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outcome_is_counted_once_with_its_time_after_the_decision() {
    let Some((_postgres, store, _)) = store().await else {
        return;
    };
    // Arrange
    let sid = unique("WR");
    let decided = SystemTime::UNIX_EPOCH + Duration::from_millis(millis(SystemTime::now()) as u64);
    store
        .insert_decisions(encoded(vec![record(
            &sid,
            &unique("WT"),
            "inline",
            decided,
        )]))
        .await
        .unwrap();
    let accepted_at = decided + Duration::from_millis(1_500);
    let completed_at = decided + Duration::from_millis(90_250);

    // Act
    let first = store
        .record_outcome(&sid, Outcome::Accepted, accepted_at)
        .await
        .unwrap();
    let again = store
        .record_outcome(
            &sid,
            Outcome::Accepted,
            accepted_at + Duration::from_secs(1),
        )
        .await
        .unwrap();
    let completed = store
        .record_outcome(&sid, Outcome::Completed, completed_at)
        .await
        .unwrap();
    // An event stamped before the decision (clocks apart) counts as at once.
    let early = store
        .record_outcome(&sid, Outcome::Wrapup, decided - Duration::from_secs(2))
        .await
        .unwrap();

    // Assert
    let OutcomeTie::Counted { rule, decided_at } = first else {
        panic!("{first:?}");
    };
    assert_eq!(rule, "vip");
    assert_eq!(millis(decided_at), millis(decided));
    assert_eq!(
        again,
        OutcomeTie::Duplicate {
            rule: "vip".to_owned()
        }
    );
    assert!(
        matches!(completed, OutcomeTie::Counted { .. }),
        "{completed:?}"
    );
    assert!(matches!(early, OutcomeTie::Counted { .. }), "{early:?}");
    let read = store.decision(&sid).await.unwrap().unwrap();
    assert_eq!(
        read.outcomes,
        vec![
            OutcomeRecord {
                outcome: "accepted".to_owned(),
                at: rfc3339_ms(accepted_at),
                after_ms: 1_500,
            },
            OutcomeRecord {
                outcome: "completed".to_owned(),
                at: rfc3339_ms(completed_at),
                after_ms: 90_250,
            },
            OutcomeRecord {
                outcome: "wrapup".to_owned(),
                at: rfc3339_ms(decided - Duration::from_secs(2)),
                after_ms: 0,
            },
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_event_at_two_replicas_at_once_is_counted_once() {
    let Some((postgres, one, metrics)) = store().await else {
        return;
    };
    let two = another_pool(&postgres, metrics);
    // Arrange: two pools, as two replicas have.
    let task = unique("WT");
    let sids: Vec<String> = (0..40).map(|_| unique("WR")).collect();
    let records = sids
        .iter()
        .map(|sid| record(sid, &task, "inline", SystemTime::now()))
        .collect();
    one.insert_decisions(encoded(records)).await.unwrap();

    for sid in &sids {
        // Act
        let at = SystemTime::now();
        let (a, b, c) = tokio::join!(
            one.record_outcome(sid, Outcome::Rejected, at),
            two.record_outcome(sid, Outcome::Rejected, at),
            two.record_outcome(sid, Outcome::Rejected, at),
        );

        // Assert
        let ties = [a.unwrap(), b.unwrap(), c.unwrap()];
        let counted = ties
            .iter()
            .filter(|tie| matches!(tie, OutcomeTie::Counted { .. }))
            .count();
        assert_eq!(counted, 1, "{ties:?}");
        assert!(
            ties.iter()
                .all(|tie| !matches!(tie, OutcomeTie::NotDecided)),
            "{ties:?}"
        );
        let read = one.decision(sid).await.unwrap().unwrap();
        assert_eq!(read.outcomes.len(), 1, "{:?}", read.outcomes);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outcome_for_a_reservation_no_replica_decided_is_not_decided() {
    let Some((_postgres, store, _)) = store().await else {
        return;
    };
    // Act
    let tie = store
        .record_outcome(&unique("WR"), Outcome::Accepted, SystemTime::now())
        .await
        .unwrap();

    // Assert
    assert_eq!(tie, OutcomeTie::NotDecided);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outcome_that_comes_before_its_record_is_added_to_it_once_when_it_comes() {
    let Some((postgres, store, metrics)) = store().await else {
        return;
    };
    let other = another_pool(&postgres, metrics);
    // Arrange: `accepted` comes twice, and `completed` once, before the record.
    let sid = unique("WR");
    let decided = SystemTime::UNIX_EPOCH + Duration::from_millis(millis(SystemTime::now()) as u64);
    let accepted_at = decided + Duration::from_millis(40);
    let completed_at = decided + Duration::from_millis(75);
    let before = [
        store
            .record_outcome(&sid, Outcome::Accepted, accepted_at)
            .await
            .unwrap(),
        store
            .record_outcome(
                &sid,
                Outcome::Accepted,
                accepted_at + Duration::from_millis(5),
            )
            .await
            .unwrap(),
        store
            .record_outcome(&sid, Outcome::Completed, completed_at)
            .await
            .unwrap(),
    ];
    // Another Reservation's outcome, kept too, whose record is not in the batch.
    let stranded = unique("WR");
    store
        .record_outcome(&stranded, Outcome::Rejected, accepted_at)
        .await
        .unwrap();
    let nothing_yet = store.apply_early_outcomes(None).await.unwrap();
    let batch = RecordBatch::new(encoded(vec![record(
        &sid,
        &unique("WT"),
        "inline",
        decided,
    )]));
    store.write_decisions(&batch).await.unwrap();

    // Act: two replicas add the batch's at once.
    let (one, two) = tokio::join!(
        store.apply_early_outcomes(Some(&batch)),
        other.apply_early_outcomes(Some(&batch))
    );
    let again = store.apply_early_outcomes(Some(&batch)).await.unwrap();
    // The other record comes by another way (its event's statement overlapped its insert):
    // the periodic run finds it.
    store
        .insert_decisions(encoded(vec![record(
            &stranded,
            &unique("WT"),
            "inline",
            decided,
        )]))
        .await
        .unwrap();
    let periodic = store.apply_early_outcomes(None).await.unwrap();
    let after = store
        .record_outcome(
            &sid,
            Outcome::Accepted,
            accepted_at + Duration::from_secs(1),
        )
        .await
        .unwrap();

    // Assert
    assert!(
        before.iter().all(|tie| *tie == OutcomeTie::NotDecided),
        "{before:?}"
    );
    assert!(nothing_yet.is_empty(), "{nothing_yet:?}");
    let mut added: Vec<LateTie> = one.unwrap().into_iter().chain(two.unwrap()).collect();
    added.sort_by_key(|tie| tie.after);
    assert_eq!(
        added,
        vec![
            LateTie {
                rule: "vip".to_owned(),
                outcome: Outcome::Accepted,
                after: Duration::from_millis(40),
            },
            LateTie {
                rule: "vip".to_owned(),
                outcome: Outcome::Completed,
                after: Duration::from_millis(75),
            },
        ]
    );
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(
        periodic,
        vec![LateTie {
            rule: "vip".to_owned(),
            outcome: Outcome::Rejected,
            after: Duration::from_millis(40),
        }]
    );
    assert_eq!(
        after,
        OutcomeTie::Duplicate {
            rule: "vip".to_owned()
        }
    );
    let read = store.decision(&sid).await.unwrap().unwrap();
    assert_eq!(
        read.outcomes,
        vec![
            OutcomeRecord {
                outcome: "accepted".to_owned(),
                at: rfc3339_ms(accepted_at),
                after_ms: 40,
            },
            OutcomeRecord {
                outcome: "completed".to_owned(),
                at: rfc3339_ms(completed_at),
                after_ms: 75,
            },
        ]
    );
    assert_eq!(kept_outcomes(&postgres, &sid).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_early_outcome_that_meets_no_record_is_deleted_once_its_wait_is_over() {
    let Some((postgres, store, _)) = store().await else {
        return;
    };
    // Arrange: one event of a Reservation never decided came longer ago than the wait, one
    // just now.
    let (old, recent) = (unique("WR"), unique("WR"));
    let long_ago = SystemTime::now() - EARLY_OUTCOMES_KEPT - Duration::from_secs(5);
    for (sid, at) in [(&old, long_ago), (&recent, SystemTime::now())] {
        let tie = store
            .record_outcome(sid, Outcome::Accepted, at)
            .await
            .unwrap();
        assert_eq!(tie, OutcomeTie::NotDecided);
    }

    // Act
    let added = store.apply_early_outcomes(None).await.unwrap();

    // Assert
    assert!(added.is_empty(), "{added:?}");
    assert_eq!(kept_outcomes(&postgres, &old).await, 0);
    assert_eq!(kept_outcomes(&postgres, &recent).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rest_record_is_read_with_its_update_from_the_outbox() {
    let Some((_postgres, store, _)) = store().await else {
        return;
    };
    // Arrange
    let (sid, task) = (unique("WR"), unique("WT"));
    let from_memory = unique("WR");
    assert!(
        store
            .claim(
                update(&sid, &task),
                "replica-a",
                Duration::from_secs(30),
                false
            )
            .await
            .unwrap()
    );
    store
        .insert_decisions(encoded(vec![
            record(&sid, &task, "rest", SystemTime::now()),
            record(&from_memory, &task, "rest", SystemTime::now()),
        ]))
        .await
        .unwrap();

    // Act
    let pending = store.decision(&sid).await.unwrap().unwrap();
    store
        .record_attempt(&sid, "replica-a", 1, Duration::from_secs(1), "HTTP 503")
        .await
        .unwrap();
    let tried = store.decision(&sid).await.unwrap().unwrap();
    store
        .end_moved_on(Some(&sid), None, "reservation.canceled")
        .await
        .unwrap();
    let ended = store.decision(&sid).await.unwrap().unwrap();
    let without_row = store.decision(&from_memory).await.unwrap().unwrap();
    let unknown = store.decision(&unique("WR")).await.unwrap();

    // Assert
    assert_eq!(
        pending.update,
        Some(UpdateRecord {
            attempts: 0,
            state: "pending".to_owned(),
            detail: None,
            ended_at: None,
        })
    );
    let tried = tried.update.unwrap();
    assert_eq!(
        (tried.attempts, tried.detail.as_deref()),
        (1, Some("HTTP 503"))
    );
    let ended = ended.update.unwrap();
    assert_eq!(ended.state, "moved_on");
    assert_eq!(ended.attempts, 1);
    assert_eq!(ended.detail.as_deref(), Some("reservation.canceled"));
    let ended_at = ended.ended_at.unwrap();
    assert!(
        ended_at.len() == "2026-12-01T10:00:00.123Z".len() && ended_at.ends_with('Z'),
        "{ended_at}"
    );
    assert_eq!(without_row.update, None);
    assert_eq!(unknown, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reservation_or_a_whole_task_that_moved_on_ends_its_pending_updates() {
    let Some((postgres, store, _)) = store().await else {
        return;
    };
    // Arrange: two Reservations of one Task, one of another.
    let (task, other_task) = (unique("WT"), unique("WT"));
    let (first, second, third) = (unique("WR"), unique("WR"), unique("WR"));
    for (sid, task) in [(&first, &task), (&second, &task), (&third, &other_task)] {
        store
            .claim(
                update(sid, task),
                "replica-a",
                Duration::from_secs(30),
                false,
            )
            .await
            .unwrap();
    }

    // Act
    let of_task = store
        .end_moved_on(None, Some(&task), "task.canceled")
        .await
        .unwrap();
    let of_task_again = store
        .end_moved_on(None, Some(&task), "task.canceled")
        .await
        .unwrap();
    let wrong_task = store
        .end_moved_on(Some(&third), Some(&task), "reservation.rescinded")
        .await
        .unwrap();
    let still_third = store.pending_holder(&third).await.unwrap().is_some();
    let of_reservation = store
        .end_moved_on(Some(&third), None, "reservation.rescinded")
        .await
        .unwrap();
    let of_nothing = store.end_moved_on(None, None, "nothing").await.unwrap();

    // Assert
    assert_eq!(of_task, 2);
    assert_eq!(of_task_again, 0, "only pending updates end");
    assert_eq!(wrong_task, 0, "a Reservation of another Task is left");
    assert!(still_third);
    assert_eq!(of_reservation, 1);
    assert_eq!(of_nothing, 0);
    for sid in [&first, &second, &third] {
        assert!(store.pending_holder(sid).await.unwrap().is_none(), "{sid}");
        let (state, holder, ended): (String, Option<String>, bool) = sqlx::query_as(
            "SELECT state, holder, ended_at IS NOT NULL
               FROM assignment_router_updates WHERE reservation_sid = $1",
        )
        .bind(sid)
        .fetch_one(&postgres.pool().await)
        .await
        .unwrap();
        assert_eq!((state.as_str(), holder, ended), ("moved_on", None, true));
    }
    // No replica takes them over.
    let taken = store
        .take_due("replica-b", 1000, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(
        taken
            .iter()
            .all(|u| ![&first, &second, &third].contains(&&u.reservation_sid)),
        "{taken:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_is_pending_and_held_until_it_ends_or_goes() {
    let Some((_postgres, store, _)) = store().await else {
        return;
    };
    // Arrange
    let sid = unique("WR");
    store
        .claim(
            update(&sid, &unique("WT")),
            "replica-a",
            Duration::from_secs(30),
            false,
        )
        .await
        .unwrap();

    // Act
    let holder = store.pending_holder(&sid).await.unwrap();
    let claimed = holder.is_some();
    store
        .end(vec![Ended {
            reservation_sid: sid.clone(),
            state: "landed",
            attempts: 1,
            last_error: None,
        }])
        .await
        .unwrap();
    let landed = store.pending_holder(&sid).await.unwrap().is_some();
    let never = store.pending_holder(&unique("WR")).await.unwrap().is_some();

    // Assert
    assert!(claimed);
    assert_eq!(holder, Some(Some("replica-a".to_owned())), "who holds it");
    assert!(!landed);
    assert!(!never);
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_sent_from_memory_are_claimed_once_noted_and_leave_other_replicas_claims_alone() {
    let Some((postgres, store, _)) = store().await else {
        return;
    };
    // Arrange: one Reservation never claimed, one whose claim by this replica committed after
    // it was given up on, one another replica claimed meanwhile.
    let lease = Duration::from_secs(30);
    let (fresh, late, theirs) = (unique("WR"), unique("WR"), unique("WR"));
    let task = unique("WT");
    store
        .claim(update(&late, &task), "replica-a", lease, false)
        .await
        .unwrap();
    store
        .claim(update(&theirs, &task), "replica-b", lease, false)
        .await
        .unwrap();
    let state = async |sid: &str| {
        postgres
            .query_scalar::<String>(&format!(
                "SELECT state || ' ' || coalesce(holder, '-') || ' ' || (ended_at IS NOT NULL)
                   FROM assignment_router_updates WHERE reservation_sid = '{sid}'"
            ))
            .await
    };

    // Act: the fresh one twice in the batch, as a replica's list may hold it.
    let noted = [
        update(&fresh, &task),
        update(&late, &task),
        update(&theirs, &task),
        update(&fresh, &task),
    ];
    let written = store
        .note_sent_from_memory(&noted, "replica-a")
        .await
        .unwrap();
    let again = store
        .note_sent_from_memory(&noted[..1], "replica-a")
        .await
        .unwrap();
    let duplicate_won = store
        .claim(update(&fresh, &task), "replica-b", lease, false)
        .await
        .unwrap();
    // A claim given up on at once (it took too long), found committed after all.
    let given_up = unique("WR");
    store
        .claim(update(&given_up, &task), "replica-a", lease, false)
        .await
        .unwrap();
    let not_theirs = store
        .note_sent_from_memory(&[update(&theirs, &task)], "replica-a")
        .await
        .unwrap();
    let ended = store
        .note_sent_from_memory(&[update(&given_up, &task)], "replica-a")
        .await
        .unwrap();
    let given_up_won = store
        .claim(update(&given_up, &task), "replica-b", lease, false)
        .await
        .unwrap();

    // Assert
    assert_eq!(
        written, 2,
        "the fresh one and this replica's own late claim"
    );
    assert_eq!(again, 0, "a Reservation is noted once");
    assert_eq!(state(&fresh).await, "sent_from_memory - true");
    assert_eq!(state(&late).await, "sent_from_memory - true");
    assert_eq!(state(&theirs).await, "pending replica-b false");
    assert!(
        !duplicate_won,
        "a duplicate found the noted update unclaimed"
    );
    assert_eq!((not_theirs, ended), (0, 1));
    assert_eq!(state(&given_up).await, "sent_from_memory - true");
    assert!(
        !given_up_won,
        "a duplicate found the given-up claim unclaimed"
    );
    assert!(store.pending_holder(&fresh).await.unwrap().is_none());
    let taken = store.take_due("replica-c", 10, lease).await.unwrap();
    assert!(
        taken
            .iter()
            .all(|t| t.reservation_sid != fresh && t.reservation_sid != late),
        "a noted update was taken over: {taken:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ends_in_one_batch_each_keep_their_own_state_attempts_and_error() {
    let Some((_postgres, store, _)) = store().await else {
        return;
    };
    // Arrange
    let task = unique("WT");
    let (landed, failed, already) = (unique("WR"), unique("WR"), unique("WR"));
    for sid in [&landed, &failed, &already] {
        store
            .claim(
                update(sid, &task),
                "replica-a",
                Duration::from_secs(30),
                false,
            )
            .await
            .unwrap();
    }
    store
        .record_attempt(&landed, "replica-a", 1, Duration::ZERO, "HTTP 503")
        .await
        .unwrap();
    store
        .end_moved_on(Some(&already), None, "reservation.canceled")
        .await
        .unwrap();
    store
        .insert_decisions(encoded(
            [&landed, &failed, &already]
                .map(|sid| record(sid, &task, "rest", SystemTime::now()))
                .to_vec(),
        ))
        .await
        .unwrap();
    let end = |sid: &str, state, attempts, last_error: Option<&str>| Ended {
        reservation_sid: sid.to_owned(),
        state,
        attempts,
        last_error: last_error.map(str::to_owned),
    };

    // Act
    store
        .end(vec![
            end(&landed, "landed", 2, None),
            end(&failed, "final_error", 1, Some("HTTP 400: not pending")),
            end(&already, "landed", 1, None),
        ])
        .await
        .unwrap();

    // Assert
    let read = |sid: String| {
        let store = store.clone();
        async move { store.decision(&sid).await.unwrap().unwrap().update.unwrap() }
    };
    let landed = read(landed).await;
    assert_eq!(
        (
            landed.state.as_str(),
            landed.attempts,
            landed.detail.as_deref()
        ),
        ("landed", 2, Some("HTTP 503")),
        "an end without an error keeps the last attempt's"
    );
    assert!(landed.ended_at.is_some());
    let failed = read(failed).await;
    assert_eq!(
        (
            failed.state.as_str(),
            failed.attempts,
            failed.detail.as_deref()
        ),
        ("final_error", 1, Some("HTTP 400: not pending"))
    );
    let already = read(already).await;
    assert_eq!(
        (already.state.as_str(), already.detail.as_deref()),
        ("moved_on", Some("reservation.canceled")),
        "an update that had ended already is not ended again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_deletes_records_older_than_the_retention() {
    let Some((_postgres, store, _)) = store().await else {
        return;
    };
    // Arrange
    let (old, fresh) = (unique("WR"), unique("WR"));
    let task = unique("WT");
    let three_hours_ago = SystemTime::now() - Duration::from_secs(3 * 3600);
    store
        .insert_decisions(encoded(vec![
            record(&old, &task, "inline", three_hours_ago),
            record(&fresh, &task, "inline", SystemTime::now()),
        ]))
        .await
        .unwrap();

    // Act
    let swept = store.sweep_decisions(2).await.unwrap();

    // Assert
    assert!(swept >= 1, "{swept}");
    assert_eq!(store.decision(&old).await.unwrap(), None);
    assert!(store.decision(&fresh).await.unwrap().is_some());
}

/// Records as the recorder's thread hands them to the store.
fn encoded(records: Vec<DecisionRecord>) -> Vec<StoredRecord> {
    records
        .into_iter()
        .map(|record| StoredRecord::encode(record).unwrap())
        .collect()
}

fn ended(sid: &str) -> Ended {
    Ended {
        reservation_sid: sid.to_owned(),
        state: "landed",
        attempts: 1,
        last_error: None,
    }
}

/// How many `end` statements the store has run, from the latency histogram's count.
fn end_statements(metrics: &Metrics) -> u64 {
    metrics
        .render()
        .lines()
        .find_map(|line| {
            line.strip_prefix("assignment_router_store_latency_seconds_count{operation=\"end\"} ")
        })
        .map_or(0, |count| count.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn ends_that_come_together_are_written_together() {
    let Some((_postgres, store, metrics)) = store().await else {
        return;
    };
    // Arrange
    let task = unique("WT");
    let sids: Vec<String> = (0..200).map(|_| unique("WR")).collect();
    for sid in &sids {
        assert!(
            store
                .claim(
                    update(sid, &task),
                    "replica-a",
                    Duration::from_secs(30),
                    false
                )
                .await
                .unwrap()
        );
    }
    let ends = Arc::new(Ends::start(store.clone(), &Handle::current()));

    // Act
    let writes: Vec<_> = sids
        .iter()
        .map(|sid| {
            let (ends, ended) = (ends.clone(), ended(sid));
            tokio::spawn(async move { ends.end(ended).await })
        })
        .collect();
    for write in writes {
        write.await.unwrap().unwrap();
    }

    // Assert
    for sid in &sids {
        assert!(
            store.pending_holder(sid).await.unwrap().is_none(),
            "{sid} still pending"
        );
    }
    let used = end_statements(&metrics);
    assert!(
        (1..200).contains(&used),
        "200 ends at once took {used} statements"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_end_the_store_cannot_take_is_given_up_once_tried_for_a_while() {
    // Arrange: the server is stopped once the store has used it.
    let Some((mut postgres, store, _)) = store().await else {
        return;
    };
    postgres.stop();
    let ends = Ends::start(store, &Handle::current());
    let started = Instant::now();

    // Act
    let error = ends.end(ended(&unique("WR"))).await;

    // Assert
    let took = started.elapsed();
    let error = error.unwrap_err();
    assert_eq!(error.operation, "end");
    assert!(error.to_string().contains("mark updates ended"), "{error}");
    assert!(
        took >= WRITE_FOR - Duration::from_millis(250) && took < WRITE_FOR * 2,
        "gave up after {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flush_waits_for_the_ends_queued_before_it_and_no_longer() {
    // Arrange: an end the stopped server cannot take, still being tried.
    let Some((mut postgres, store, _)) = store().await else {
        return;
    };
    postgres.stop();
    let ends = Arc::new(Ends::start(store.clone(), &Handle::current()));
    let queued = {
        let ends = ends.clone();
        tokio::spawn(async move { ends.end(ended(&unique("WR"))).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let nothing_queued = Ends::start(store, &Handle::current());

    // Act
    let started = Instant::now();
    ends.flush(Duration::from_millis(600)).await;
    let waited = started.elapsed();
    let started = Instant::now();
    nothing_queued.flush(Duration::from_secs(5)).await;
    let waited_for_nothing = started.elapsed();

    // Assert
    assert!(waited >= Duration::from_millis(600), "{waited:?}");
    assert!(!queued.is_finished(), "the end is still being tried");
    assert!(
        waited_for_nothing < Duration::from_millis(500),
        "{waited_for_nothing:?}"
    );
}

/// Pending rows of `holder`'s, for Task `task`, written in one statement in the order of
/// `sids` (so the table holds them in that order, not by Reservation).
async fn pending_rows(postgres: &Postgres, sids: &[String], task: &str, holder: &str) {
    let values: Vec<String> = sids
        .iter()
        .map(|sid| {
            format!(
                "('{sid}', 'WS0000000000000000000000000000000a', \
                  'WK0000000000000000000000000000000a', '{task}', 'vip', 'dequeue', \
                  'Instruction=dequeue', now(), now() + interval '2 minutes', now(), \
                  '{holder}', now() + interval '30 seconds')"
            )
        })
        .collect();
    postgres
        .execute(&format!(
            "INSERT INTO assignment_router_updates
                 (reservation_sid, workspace_sid, worker_sid, task_sid, rule, instruction, body,
                  created_at, deadline_at, next_attempt_at, holder, leased_until)
             VALUES {}",
            values.join(", ")
        ))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn statements_over_many_updates_at_once_never_deadlock_each_other() {
    let Some((postgres, store, metrics)) = store().await else {
        return;
    };
    // Each statement from a pool of its own, as the deliverer, the ends' writer, shutdown
    // and TaskRouter's events use different connections at once.
    let pools: Vec<SharedStore> = (0..3)
        .map(|_| another_pool(&postgres, metrics.clone()))
        .collect();
    let lease = Duration::from_secs(30);
    let mut failures = Vec::new();
    for round in 0..12 {
        // Arrange: a replica's updates, the table holding them in no particular order, and
        // each statement given them in an order of its own.
        let task = unique("WT");
        let mut sids: Vec<String> = (0..300).map(|_| unique("WR")).collect();
        pending_rows(&postgres, &sids, &task, "replica-a").await;
        sids.sort();
        let ascending = sids.clone();
        sids.reverse();
        let ends: Vec<Ended> = sids
            .iter()
            .map(|sid| Ended {
                reservation_sid: sid.clone(),
                state: "landed",
                attempts: 1,
                last_error: None,
            })
            .collect();
        fastrand::shuffle(&mut sids);

        // Act: all at once.
        let (renewed, ended, released, moved_on) = tokio::join!(
            store.renew("replica-a", ascending, lease),
            pools[0].end(ends),
            pools[1].release("replica-a", Some(sids)),
            pools[2].end_moved_on(None, Some(&task), "the Task was canceled"),
        );

        // Assert (below): every statement did its work, whoever came first.
        for (what, result) in [
            ("renew", renewed.map(|_| ())),
            ("end", ended),
            ("release", released.map(|_| ())),
            ("end the Task's", moved_on.map(|_| ())),
        ] {
            if let Err(error) = result {
                failures.push(format!("round {round}, {what}: {error}"));
            }
        }
        let pending = postgres
            .query_scalar::<i64>(&format!(
                "SELECT count(*) FROM assignment_router_updates
                  WHERE task_sid = '{task}' AND state = 'pending'"
            ))
            .await;
        if pending != 0 {
            failures.push(format!("round {round}: {pending} updates still pending"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        !postgres.log().contains("deadlock detected"),
        "{}",
        postgres.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_writing_the_same_records_in_different_orders_never_deadlock() {
    let Some((postgres, store, metrics)) = store().await else {
        return;
    };
    let other = another_pool(&postgres, metrics);
    let now = SystemTime::now();
    let mut failures = Vec::new();
    for round in 0..12 {
        // Arrange: the same Reservations decided at both replicas (a duplicate callback at
        // each), in batches whose orders differ.
        let task = unique("WT");
        let mut sids: Vec<String> = (0..256).map(|_| unique("WR")).collect();
        let mine = encoded(
            sids.iter()
                .map(|s| record(s, &task, "inline", now))
                .collect(),
        );
        sids.reverse();
        let theirs = encoded(
            sids.iter()
                .map(|s| record(s, &task, "inline", now))
                .collect(),
        );

        // Act
        let (written, written_there) =
            tokio::join!(store.insert_decisions(mine), other.insert_decisions(theirs));

        // Assert (below): each Reservation recorded once, by one replica or the other.
        match (written, written_there) {
            (Ok(a), Ok(b)) if a + b == 256 => {}
            (Ok(a), Ok(b)) => failures.push(format!("round {round}: {a} + {b} written")),
            (a, b) => failures.push(format!("round {round}: {:?} / {:?}", a.err(), b.err())),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_statement_chosen_as_a_deadlocks_victim_is_a_conflict_and_a_stopped_server_is_not() {
    let Some((mut postgres, store, _metrics)) = store().await else {
        return;
    };
    // Arrange: two updates this replica holds, and another session holding the second.
    let task = unique("WT");
    let mut sids: Vec<String> = (0..2).map(|_| unique("WR")).collect();
    sids.sort();
    pending_rows(&postgres, &sids, &task, "replica-a").await;
    let mut other = RowLocks::begin(&postgres).await;
    other.lock(&sids[1]).await.unwrap();

    // Act: the renewal locks the first and waits for the second; once it waits, the other
    // session asks for the first. PostgreSQL finds the cycle at the renewal, which waited
    // first, and calls it off.
    let renewal = {
        let store = store.clone();
        let sids = sids.clone();
        tokio::spawn(async move {
            store
                .renew("replica-a", sids, Duration::from_secs(30))
                .await
        })
    };
    let waiting = Instant::now();
    while postgres
        .query_scalar::<i64>(
            "SELECT count(*) FROM pg_stat_activity
              WHERE application_name = 'assignment-router' AND wait_event_type = 'Lock'",
        )
        .await
        == 0
    {
        assert!(
            waiting.elapsed() < Duration::from_secs(5),
            "the renewal never waited"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let crossed = other.lock(&sids[0]).await;
    let renewed = renewal.await.unwrap();
    other.roll_back().await;

    // Assert: the renewal, not the other session, was called off, as a conflict.
    assert!(crossed.is_ok(), "{crossed:?}");
    let error = renewed.expect_err("one of the two must be called off");
    assert!(error.is_conflict(), "{error}");
    assert!(error.to_string().contains("deadlock detected"), "{error}");

    // A server that is gone is not a conflict: claims must go to memory then.
    postgres.stop();
    let error = store
        .renew("replica-a", sids, Duration::from_secs(30))
        .await
        .expect_err("the server is stopped");
    assert!(!error.is_conflict(), "{error}");
}

/// A server that flushes its WAL only when a commit asks for it: the WAL writer's own
/// flushes come 10 s apart, longer than these tests.
async fn flushing_only_on_commit() -> Option<(Postgres, SharedStore)> {
    let postgres = Postgres::start_with(Options {
        fsync: true,
        settings: vec![("wal_writer_delay".to_owned(), "10s".to_owned())],
    })
    .await?;
    let store = SharedStore::open(
        &SecretString::from(postgres.url()),
        4,
        0,
        Handle::current(),
        Arc::new(Metrics::new()),
    )
    .expect("the harness's URL is a PostgreSQL URL");
    store.migrate().await.expect("the migrations apply");
    Some((postgres, store))
}

/// Where the server's WAL ends now, and whether everything before `lsn` is on disk.
async fn wal_end(postgres: &Postgres) -> String {
    postgres
        .query_scalar::<String>("SELECT pg_current_wal_insert_lsn()::text")
        .await
}

async fn flushed_to(postgres: &Postgres, lsn: &str) -> bool {
    postgres
        .query_scalar::<bool>(&format!(
            "SELECT pg_current_wal_flush_lsn() >= '{lsn}'::pg_lsn"
        ))
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_is_answered_before_the_disk_has_it_and_its_confirmation_waits_for_the_disk() {
    let Some((postgres, store)) = flushing_only_on_commit().await else {
        return;
    };
    let lease = Duration::from_secs(30);
    let task = unique("WT");

    // Act: claims that do not wait, each looked at once it is answered. Anything else the
    // server writes may flush them early (a page of WAL filled up): most must not be.
    let mut claims = Vec::new();
    let mut unflushed = 0;
    for _ in 0..5 {
        let claim = update(&unique("WR"), &task);
        assert!(
            store
                .claim(claim.clone(), "replica-a", lease, false)
                .await
                .unwrap()
        );
        let end = wal_end(&postgres).await;
        if !flushed_to(&postgres, &end).await {
            unflushed += 1;
        }
        claims.push(claim);
    }
    let before_confirming = wal_end(&postgres).await;
    let restored = store
        .confirm_claims(&claims, "replica-a", lease)
        .await
        .unwrap();
    let confirmed = flushed_to(&postgres, &before_confirming).await;
    let waiting = update(&unique("WR"), &task);
    assert!(
        store
            .claim(waiting, "replica-a", lease, true)
            .await
            .unwrap()
    );
    let after_waiting = wal_end(&postgres).await;
    let waited = flushed_to(&postgres, &after_waiting).await;

    // Assert
    assert!(
        unflushed >= 3,
        "{unflushed} of 5 claims were still only in the server's memory when answered"
    );
    assert_eq!(restored, 0, "nothing was lost");
    assert!(
        confirmed,
        "the confirmation's commit flushed the claims before it"
    );
    assert!(
        waited,
        "a claim told to wait for the disk is on it when answered"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_confirmation_writes_again_the_claims_the_store_lost_and_leaves_the_others_alone() {
    let Some((postgres, store, _)) = store().await else {
        return;
    };
    // Arrange: three claims of replica-a's. The server loses one (a crash before its flush
    // does this; here it is deleted), one has landed, and one another replica took over.
    let lease = Duration::from_secs(30);
    let task = unique("WT");
    let (lost, landed, taken) = (unique("WR"), unique("WR"), unique("WR"));
    let claims: Vec<NewUpdate> = [&lost, &landed, &taken]
        .iter()
        .map(|sid| update(sid, &task))
        .collect();
    for claim in &claims {
        assert!(
            store
                .claim(claim.clone(), "replica-a", lease, false)
                .await
                .unwrap()
        );
    }
    postgres
        .execute(&format!(
            "DELETE FROM assignment_router_updates WHERE reservation_sid = '{lost}';
             UPDATE assignment_router_updates SET state = 'landed', ended_at = now(), holder = NULL
              WHERE reservation_sid = '{landed}';
             UPDATE assignment_router_updates SET holder = 'replica-b', takeovers = 1
              WHERE reservation_sid = '{taken}'"
        ))
        .await;

    // Act
    let restored = store
        .confirm_claims(&claims, "replica-a", lease)
        .await
        .unwrap();
    let again = store
        .confirm_claims(&claims, "replica-a", lease)
        .await
        .unwrap();
    let rows = postgres
        .query_scalar::<String>(&format!(
            "SELECT string_agg(
                        concat_ws(' ', CASE reservation_sid WHEN '{lost}' THEN 'lost'
                                       WHEN '{landed}' THEN 'landed' ELSE 'taken' END,
                                  state, holder, body, deadline_at > now() + interval '100 s'),
                        ', ' ORDER BY reservation_sid = '{lost}', reservation_sid = '{landed}')
               FROM assignment_router_updates WHERE task_sid = '{task}'"
        ))
        .await;

    // Assert: the lost claim is back as it was made, held by its replica (so it is sent or
    // taken over as before); the others are as the fleet left them.
    assert_eq!(restored, 1);
    assert_eq!(again, 0, "a claim written again is there the next time");
    assert_eq!(
        rows,
        "taken pending replica-b Instruction=dequeue t, \
         landed landed Instruction=dequeue t, \
         lost pending replica-a Instruction=dequeue t"
    );
}
