use std::sync::Arc;
use std::time::Duration;

use super::*;

#[test]
fn allows_the_first_call_then_none_within_the_period() {
    let throttle = Throttle::new(Duration::from_secs(60));
    assert!(throttle.allows());
    assert!(!throttle.allows());
    assert!(!throttle.allows());
}

#[test]
fn allows_again_once_the_period_has_passed() {
    let throttle = Throttle::new(Duration::from_millis(30));
    assert!(throttle.allows());
    assert!(!throttle.allows());
    std::thread::sleep(Duration::from_millis(40));
    assert!(throttle.allows());
    assert!(!throttle.allows());
}

#[test]
fn of_threads_asking_at_once_only_one_is_allowed() {
    let throttle = Arc::new(Throttle::new(Duration::from_secs(60)));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let throttle = throttle.clone();
            std::thread::spawn(move || (0..1000).filter(|_| throttle.allows()).count())
        })
        .collect();
    let allowed: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(allowed, 1);
}
