use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

#[test]
fn times_are_rfc3339_utc_with_milliseconds() {
    let at = UNIX_EPOCH + Duration::from_millis(1_796_119_200_123);
    assert_eq!(rfc3339_ms(at), "2026-12-01T10:00:00.123Z");
    assert_eq!(rfc3339_ms(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
}

#[test]
fn the_time_between_two_instants_is_never_negative() {
    let now = SystemTime::now();
    assert_eq!(millis_between(now, now + Duration::from_millis(1500)), 1500);
    assert_eq!(millis_between(now + Duration::from_secs(1), now), 0);
}
