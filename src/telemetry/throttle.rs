//! At most one log line a period for a failure that can repeat many times a second (a store
//! that is down, a full queue): every occurrence is counted in a metric, and the line says it
//! is the first of a period, so a flood of the same line never hides the rest of the log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Says yes once a period, whichever thread asks; lock-free, so a caller on the answer path
/// pays one atomic load when it is told no.
#[derive(Debug)]
pub struct Throttle {
    started: Instant,
    every: Duration,
    /// Milliseconds after `started` when the last yes was given, plus one (0: never).
    last: AtomicU64,
}

impl Throttle {
    pub fn new(every: Duration) -> Self {
        Self {
            started: Instant::now(),
            every,
            last: AtomicU64::new(0),
        }
    }

    /// `true` for the first call, then for the first call a period or more after the last
    /// `true`.
    pub fn allows(&self) -> bool {
        let now = u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1);
        let every = u64::try_from(self.every.as_millis()).unwrap_or(u64::MAX);
        let last = self.last.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < every {
            return false;
        }
        // Of callers racing here, only the one that moves `last` on says yes.
        self.last
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }
}

#[cfg(test)]
mod tests;
