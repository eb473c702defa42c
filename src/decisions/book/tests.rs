use std::time::{Duration, UNIX_EPOCH};

use super::*;

/// 2026-12-01T10:00:00.000Z, when the decisions below are made.
fn decided() -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_796_119_200_000)
}

fn after(millis: u64) -> SystemTime {
    decided() + Duration::from_millis(millis)
}

fn sid(n: usize) -> String {
    format!("WR{n:032x}")
}

/// A record as the recorder builds it: inline unless `rest`, which has its update pending.
fn record(reservation_sid: &str, rule: &str, rest: bool) -> DecisionRecord {
    DecisionRecord {
        decided_at: rfc3339_ms(decided()),
        reservation_sid: reservation_sid.to_owned(),
        task_sid: "WT0123456789abcdef0123456789abcdef".to_owned(),
        worker_sid: "WK0123456789abcdef0123456789abcdef".to_owned(),
        workspace_sid: "WS0123456789abcdef0123456789abcdef".to_owned(),
        workflow_sid: None,
        rule: rule.to_owned(),
        instruction: "accept".to_owned(),
        delivery: if rest { "rest" } else { "inline" }.to_owned(),
        answer: if rest {
            serde_json::json!({})
        } else {
            serde_json::json!({"instruction": "accept"})
        },
        form: rest.then(|| vec![("ReservationStatus".to_owned(), "accepted".to_owned())]),
        revision: "3f2a9c0d1e2b".to_owned(),
        trace: vec![format!("rule \"{rule}\": answers")],
        shadows: Vec::new(),
        update: rest.then(pending),
        outcomes: Vec::new(),
    }
}

fn pending() -> UpdateRecord {
    UpdateRecord {
        attempts: 0,
        state: "pending".to_owned(),
        detail: None,
        ended_at: None,
    }
}

fn landed() -> UpdateRecord {
    UpdateRecord {
        attempts: 2,
        state: "landed".to_owned(),
        detail: None,
        ended_at: Some(rfc3339_ms(after(900))),
    }
}

fn outcome_record(outcome: &str, millis: u64) -> OutcomeRecord {
    OutcomeRecord {
        outcome: outcome.to_owned(),
        at: rfc3339_ms(after(millis)),
        after_ms: millis,
    }
}

#[test]
fn a_new_book_is_empty() {
    // Arrange
    let book = RecordBook::new(4);

    // Assert
    assert!(book.is_empty());
    assert_eq!(book.len(), 0);
    assert_eq!(book.early_len(), 0);
    assert_eq!(book.get(&sid(1)), None);
}

#[test]
fn a_kept_record_is_found_by_its_reservation() {
    // Arrange
    let book = RecordBook::new(4);
    let kept = record(&sid(1), "vip", false);

    // Act
    let late = book.insert(kept.clone(), decided());

    // Assert
    assert_eq!(late, Vec::new());
    assert_eq!(book.get(&sid(1)), Some(kept));
    assert_eq!(book.get(&sid(2)), None);
    assert_eq!(book.len(), 1);
    assert!(!book.is_empty());
}

#[test]
fn the_book_keeps_the_last_keep_records() {
    // Arrange
    let keep = 5;
    let book = RecordBook::new(keep);

    // Act
    for n in 0..3 * keep {
        book.insert(record(&sid(n), "vip", false), decided());
    }

    // Assert
    assert_eq!(book.len(), keep);
    for n in 0..2 * keep {
        assert_eq!(book.get(&sid(n)), None, "record {n} should be gone");
    }
    for n in 2 * keep..3 * keep {
        assert!(book.get(&sid(n)).is_some(), "record {n} should be kept");
    }
}

#[test]
fn a_book_asked_to_keep_nothing_keeps_one() {
    // Arrange
    let book = RecordBook::new(0);

    // Act
    book.insert(record(&sid(1), "vip", false), decided());
    book.insert(record(&sid(2), "vip", false), decided());

    // Assert
    assert_eq!(book.len(), 1);
    assert!(book.get(&sid(2)).is_some());
}

#[test]
fn the_first_record_of_a_reservation_wins() {
    // Arrange
    let book = RecordBook::new(4);
    book.insert(record(&sid(1), "first", false), decided());

    // Act
    let late = book.insert(record(&sid(1), "second", true), after(5));

    // Assert
    assert_eq!(late, Vec::new());
    assert_eq!(book.len(), 1);
    let kept = book.get(&sid(1)).unwrap();
    assert_eq!(kept.rule, "first");
    assert_eq!(kept.update, None);
}

#[test]
fn a_second_record_of_a_reservation_takes_no_place_in_the_bound() {
    // Arrange: were the repeat queued too, the bound would drop the first when it is
    // still one of the last two.
    let book = RecordBook::new(2);
    book.insert(record(&sid(1), "vip", false), decided());
    book.insert(record(&sid(1), "vip", false), decided());

    // Act
    book.insert(record(&sid(2), "vip", false), decided());

    // Assert
    assert_eq!(book.len(), 2);
    assert!(book.get(&sid(1)).is_some());
    assert!(book.get(&sid(2)).is_some());
}

#[test]
fn an_outcome_is_counted_once_then_a_duplicate() {
    // Arrange
    let book = RecordBook::new(4);
    book.insert(record(&sid(1), "vip", false), decided());

    // Act
    let first = book.outcome(&sid(1), Outcome::Accepted, after(1_500));
    let again = book.outcome(&sid(1), Outcome::Accepted, after(2_000));

    // Assert
    assert_eq!(
        first,
        Tie::Counted {
            rule: "vip".to_owned(),
            decided_at: decided(),
        }
    );
    assert_eq!(again, Tie::Duplicate);
    assert_eq!(
        book.get(&sid(1)).unwrap().outcomes,
        vec![outcome_record("accepted", 1_500)]
    );
}

#[test]
fn each_outcome_of_a_reservation_is_kept_in_the_order_it_came() {
    // Arrange
    let book = RecordBook::new(4);
    book.insert(record(&sid(1), "vip", false), decided());

    // Act
    let ties = [
        book.outcome(&sid(1), Outcome::Accepted, after(1_000)),
        book.outcome(&sid(1), Outcome::Wrapup, after(60_000)),
        book.outcome(&sid(1), Outcome::Completed, after(61_234)),
    ];

    // Assert
    assert!(ties.iter().all(|tie| matches!(tie, Tie::Counted { .. })));
    assert_eq!(
        book.get(&sid(1)).unwrap().outcomes,
        vec![
            outcome_record("accepted", 1_000),
            outcome_record("wrapup", 60_000),
            outcome_record("completed", 61_234),
        ]
    );
}

#[test]
fn an_outcome_is_timed_from_its_reservations_decision() {
    // Arrange
    let book = RecordBook::new(4);
    book.insert(record(&sid(1), "vip", false), decided());

    // Act
    book.outcome(&sid(1), Outcome::Rejected, after(2_345));

    // Assert
    let outcomes = book.get(&sid(1)).unwrap().outcomes;
    assert_eq!(outcomes[0].at, "2026-12-01T10:00:02.345Z");
    assert_eq!(outcomes[0].after_ms, 2_345);
}

#[test]
fn an_event_timed_before_its_decision_is_zero_milliseconds_after_it() {
    // Arrange: replicas' clocks differ a little.
    let book = RecordBook::new(4);
    book.insert(record(&sid(1), "vip", false), decided());

    // Act
    book.outcome(
        &sid(1),
        Outcome::Canceled,
        decided() - Duration::from_millis(40),
    );

    // Assert
    assert_eq!(book.get(&sid(1)).unwrap().outcomes[0].after_ms, 0);
}

#[test]
fn an_outcome_of_a_reservation_not_decided_is_not_decided() {
    // Arrange
    let book = RecordBook::new(4);
    book.insert(record(&sid(1), "vip", false), decided());

    // Act
    let tie = book.outcome(&sid(2), Outcome::Accepted, after(10));

    // Assert
    assert_eq!(tie, Tie::NotDecided);
    assert_eq!(book.get(&sid(2)), None);
    assert_eq!(book.get(&sid(1)).unwrap().outcomes, Vec::new());
    assert_eq!(book.early_len(), 1);
}

#[test]
fn an_outcome_before_its_record_is_applied_when_the_record_comes() {
    // Arrange
    let book = RecordBook::new(4);
    let tie = book.outcome(&sid(1), Outcome::Accepted, after(300));

    // Act
    let late = book.insert(record(&sid(1), "vip", false), decided());

    // Assert
    assert_eq!(tie, Tie::NotDecided);
    assert_eq!(
        late,
        vec![Late {
            rule: "vip".to_owned(),
            outcome: Outcome::Accepted,
            after: Duration::from_millis(300),
        }]
    );
    assert_eq!(
        book.get(&sid(1)).unwrap().outcomes,
        vec![outcome_record("accepted", 300)]
    );
    assert_eq!(book.early_len(), 0);
}

#[test]
fn an_early_outcome_applied_is_then_a_duplicate() {
    // Arrange
    let book = RecordBook::new(4);
    book.outcome(&sid(1), Outcome::Accepted, after(300));
    book.insert(record(&sid(1), "vip", false), decided());

    // Act
    let again = book.outcome(&sid(1), Outcome::Accepted, after(400));

    // Assert
    assert_eq!(again, Tie::Duplicate);
    assert_eq!(book.get(&sid(1)).unwrap().outcomes.len(), 1);
}

#[test]
fn an_early_outcome_heard_twice_is_applied_once_with_its_first_arrival() {
    // Arrange
    let book = RecordBook::new(4);
    let ties = [
        book.outcome(&sid(1), Outcome::Rejected, after(100)),
        book.outcome(&sid(1), Outcome::Rejected, after(200)),
        book.outcome(&sid(1), Outcome::Timeout, after(250)),
    ];

    // Act
    let late = book.insert(record(&sid(1), "vip", false), decided());

    // Assert
    assert_eq!(ties, [Tie::NotDecided, Tie::NotDecided, Tie::NotDecided]);
    assert_eq!(
        late,
        vec![
            Late {
                rule: "vip".to_owned(),
                outcome: Outcome::Rejected,
                after: Duration::from_millis(100),
            },
            Late {
                rule: "vip".to_owned(),
                outcome: Outcome::Timeout,
                after: Duration::from_millis(250),
            },
        ]
    );
    assert_eq!(
        book.get(&sid(1)).unwrap().outcomes,
        vec![
            outcome_record("rejected", 100),
            outcome_record("timeout", 250)
        ]
    );
    assert_eq!(book.early_len(), 0);
}

#[test]
fn an_early_outcome_goes_only_to_its_own_reservation() {
    // Arrange
    let book = RecordBook::new(4);
    book.outcome(&sid(1), Outcome::Accepted, after(300));

    // Act
    let late = book.insert(record(&sid(2), "vip", false), decided());

    // Assert
    assert_eq!(late, Vec::new());
    assert_eq!(book.get(&sid(2)).unwrap().outcomes, Vec::new());
    assert_eq!(book.early_len(), 1);
}

#[test]
fn an_update_before_its_record_is_applied_on_insert() {
    // Arrange
    let book = RecordBook::new(4);
    book.update(&sid(1), landed());

    // Act
    book.insert(record(&sid(1), "vip", true), decided());

    // Assert
    assert_eq!(book.get(&sid(1)).unwrap().update, Some(landed()));
    assert_eq!(book.early_len(), 0);
}

#[test]
fn the_latest_early_update_is_the_one_applied() {
    // Arrange
    let book = RecordBook::new(4);
    book.update(
        &sid(1),
        UpdateRecord {
            attempts: 1,
            state: "pending".to_owned(),
            detail: Some("Twilio answered 503".to_owned()),
            ended_at: None,
        },
    );
    book.update(&sid(1), landed());

    // Act
    book.insert(record(&sid(1), "vip", true), decided());

    // Assert
    assert_eq!(book.get(&sid(1)).unwrap().update, Some(landed()));
    assert_eq!(book.early_len(), 0);
}

#[test]
fn an_early_update_gives_an_inline_record_no_update() {
    // Arrange: an inline answer sends no update; what came under its sid is not its own.
    let book = RecordBook::new(4);
    book.update(&sid(1), landed());

    // Act
    book.insert(record(&sid(1), "vip", false), decided());

    // Assert
    assert_eq!(book.get(&sid(1)).unwrap().update, None);
}

#[test]
fn an_update_after_its_record_replaces_the_pending_one() {
    // Arrange
    let book = RecordBook::new(4);
    book.insert(record(&sid(1), "vip", true), decided());

    // Act
    book.update(&sid(1), landed());

    // Assert
    assert_eq!(book.get(&sid(1)).unwrap().update, Some(landed()));
    assert_eq!(book.early_len(), 0);
}

#[test]
fn an_early_outcome_and_update_are_both_applied() {
    // Arrange
    let book = RecordBook::new(4);
    book.update(&sid(1), landed());
    book.outcome(&sid(1), Outcome::Accepted, after(1_000));

    // Act
    let late = book.insert(record(&sid(1), "vip", true), decided());

    // Assert
    assert_eq!(late.len(), 1);
    let kept = book.get(&sid(1)).unwrap();
    assert_eq!(kept.update, Some(landed()));
    assert_eq!(kept.outcomes, vec![outcome_record("accepted", 1_000)]);
    assert_eq!(book.early_len(), 0);
}

#[test]
fn the_early_map_stays_bounded_however_many_reservations_come_unknown() {
    // Arrange
    let keep = 3;
    let book = RecordBook::new(keep);

    // Act
    for n in 0..100 {
        if n % 2 == 0 {
            book.outcome(&sid(n), Outcome::Accepted, after(10));
        } else {
            book.update(&sid(n), landed());
        }
        assert!(book.early_len() <= keep, "after {n}: {}", book.early_len());
    }

    // Assert
    assert_eq!(book.early_len(), keep);
    assert_eq!(book.len(), 0);
}

#[test]
fn the_early_map_forgets_the_oldest_first() {
    // Arrange
    let keep = 3;
    let book = RecordBook::new(keep);
    for n in 0..10 {
        book.outcome(&sid(n), Outcome::Accepted, after(10));
    }

    // Act
    let oldest = book.insert(record(&sid(0), "vip", false), decided());
    let last_forgotten = book.insert(record(&sid(6), "vip", false), decided());
    let newest = book.insert(record(&sid(9), "vip", false), decided());
    let kept = book.insert(record(&sid(7), "vip", false), decided());

    // Assert
    assert_eq!(oldest, Vec::new());
    assert_eq!(last_forgotten, Vec::new());
    assert_eq!(newest.len(), 1);
    assert_eq!(kept.len(), 1);
}

#[test]
fn more_events_for_a_waiting_reservation_take_no_more_room() {
    // Arrange
    let book = RecordBook::new(2);
    book.outcome(&sid(1), Outcome::Accepted, after(10));
    book.outcome(&sid(2), Outcome::Accepted, after(10));

    // Act: more for the first, then its update.
    book.outcome(&sid(1), Outcome::Wrapup, after(20));
    book.update(&sid(1), landed());

    // Assert: both still wait.
    assert_eq!(book.early_len(), 2);
    assert_eq!(
        book.insert(record(&sid(2), "vip", false), decided()).len(),
        1
    );
    assert_eq!(
        book.insert(record(&sid(1), "vip", true), decided()).len(),
        2
    );
}

#[test]
fn an_outcome_of_a_forgotten_record_is_not_decided() {
    // Arrange
    let book = RecordBook::new(1);
    book.insert(record(&sid(1), "vip", false), decided());
    book.insert(record(&sid(2), "vip", false), decided());

    // Act
    let tie = book.outcome(&sid(1), Outcome::Accepted, after(10));

    // Assert
    assert_eq!(tie, Tie::NotDecided);
    assert_eq!(book.get(&sid(1)), None);
}

#[test]
fn an_applied_early_entry_takes_no_room_from_those_still_waiting() {
    // Arrange: room for two waiting Reservations.
    let book = RecordBook::new(2);
    book.outcome(&sid(1), Outcome::Accepted, after(10));
    book.outcome(&sid(2), Outcome::Accepted, after(10));
    // The second's record comes: only the first still waits.
    book.insert(record(&sid(2), "vip", false), decided());
    assert_eq!(book.early_len(), 1);

    // Act: a third comes early; two wait, within the bound.
    book.outcome(&sid(3), Outcome::Accepted, after(10));

    // Assert
    assert_eq!(book.early_len(), 2);
    assert_eq!(
        book.insert(record(&sid(1), "vip", false), decided()).len(),
        1
    );
}
