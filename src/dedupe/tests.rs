use super::*;

fn remembered(rule: &str) -> Remembered {
    Remembered {
        answer: Bytes::from_static(b"{}"),
        rule: Arc::new(rule.to_owned()),
        instruction: "accept",
        delivery: "rest",
    }
}

#[test]
fn the_first_claim_wins_and_later_ones_get_it_back() {
    let recent = RecentDecisions::new(10, Duration::from_secs(60));
    assert_eq!(recent.claim("WR1", remembered("first")), None);
    assert_eq!(
        recent.claim("WR1", remembered("second")),
        Some(remembered("first"))
    );
}

#[test]
fn capacity_forgets_the_oldest_first() {
    let recent = RecentDecisions::new(2, Duration::from_secs(60));
    recent.claim("WR1", remembered("a"));
    recent.claim("WR2", remembered("b"));
    recent.claim("WR3", remembered("c"));
    assert_eq!(recent.len(), 2);
    assert_eq!(recent.claim("WR1", remembered("again")), None);
}

#[test]
fn entries_expire() {
    let recent = RecentDecisions::new(10, Duration::ZERO);
    recent.claim("WR1", remembered("a"));
    assert_eq!(recent.claim("WR1", remembered("b")), None);
}
