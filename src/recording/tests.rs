use std::time::{Duration, Instant};

use super::*;

#[test]
fn a_spent_window_is_slept_out_before_more_work() {
    let mut budget = WorkBudget::new();
    budget.worked = WORK_PER_WINDOW;
    let started = Instant::now();
    budget.wait_if_spent();
    // The window began at `new`: what is left of it is slept, and a new one starts.
    assert!(started.elapsed() >= WINDOW - Duration::from_millis(5));
    assert_eq!(budget.worked, Duration::ZERO);
}

#[test]
fn a_window_with_work_left_does_not_wait() {
    let mut budget = WorkBudget::new();
    budget.worked = WORK_PER_WINDOW / 2;
    let started = Instant::now();
    budget.wait_if_spent();
    assert!(started.elapsed() < WINDOW / 2);
    assert_eq!(budget.worked, WORK_PER_WINDOW / 2);
}

#[test]
fn work_is_counted_against_the_window_and_the_burst_restarts_once_yielded() {
    let mut budget = WorkBudget::new();
    budget.spend(BURST / 2);
    assert_eq!(budget.since_yield, BURST / 2);
    budget.spend(BURST / 2);
    // A burst's worth: the core was given up, and the next burst starts from nothing.
    assert_eq!(budget.since_yield, Duration::ZERO);
    assert_eq!(budget.worked, BURST);
}
