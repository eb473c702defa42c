//! Recently decided Reservations, so the same callback twice gets the same answer and at most
//! one REST update (TaskRouter's fallback URL pointing here too, or a replay).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// What the first callback for a Reservation was answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Remembered {
    pub answer: Bytes,
    pub rule: Arc<String>,
    pub instruction: &'static str,
    pub delivery: &'static str,
}

/// A bounded memory of decisions: entries expire after `ttl`, and beyond `capacity` the
/// oldest are forgotten first.
#[derive(Debug)]
pub struct RecentDecisions {
    capacity: usize,
    ttl: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_sid: HashMap<String, (Instant, Remembered)>,
    order: VecDeque<(Instant, String)>,
}

impl RecentDecisions {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            ttl,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Remembers `decision` for `reservation_sid` unless one is already remembered, in which
    /// case that one is returned and nothing changes. One lock, so two callbacks racing for
    /// the same Reservation cannot both win.
    pub fn claim(&self, reservation_sid: &str, decision: Remembered) -> Option<Remembered> {
        let now = Instant::now();
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.forget_expired(now, self.ttl);
        if let Some((_, existing)) = inner.by_sid.get(reservation_sid) {
            return Some(existing.clone());
        }
        while inner.by_sid.len() >= self.capacity {
            let Some((_, oldest)) = inner.order.pop_front() else {
                break;
            };
            inner.by_sid.remove(&oldest);
        }
        inner
            .by_sid
            .insert(reservation_sid.to_owned(), (now, decision));
        inner.order.push_back((now, reservation_sid.to_owned()));
        None
    }

    /// The remembered decision for `reservation_sid`, if one is still fresh.
    pub fn get(&self, reservation_sid: &str) -> Option<Remembered> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (at, remembered) = inner.by_sid.get(reservation_sid)?;
        (at.elapsed() < self.ttl).then(|| remembered.clone())
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .by_sid
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    fn forget_expired(&mut self, now: Instant, ttl: Duration) {
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < ttl {
                break;
            }
            if let Some((_, sid)) = self.order.pop_front() {
                self.by_sid.remove(&sid);
            }
        }
    }
}

#[cfg(test)]
mod tests;
