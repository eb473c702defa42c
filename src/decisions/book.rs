//! The decision records kept in memory: the last `decisions.keep`, by ReservationSid.
//!
//! Bounded however many decisions and events arrive: the oldest record goes when a new one
//! would pass the bound, and what arrives for a Reservation before its record (an event, an
//! update's end: the record is built a moment after the answer) waits in a second map with
//! the same bound.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::SystemTime;

use super::record::{millis_between, rfc3339_ms};
use super::{DecisionRecord, Outcome, OutcomeRecord, UpdateRecord};

/// How an outcome was tied to its decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tie {
    /// First of its kind for a decided Reservation: count it for `rule`.
    Counted {
        rule: String,
        decided_at: SystemTime,
    },
    /// The same outcome of this Reservation was counted already.
    Duplicate,
    /// No record of a decision for this Reservation (not decided here, not yet, or
    /// forgotten). Kept a while, and applied should its record come.
    NotDecided,
}

/// The records, and what came before them.
#[derive(Debug)]
pub struct RecordBook {
    keep: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    records: HashMap<String, Entry>,
    /// Oldest first.
    order: VecDeque<String>,
    early: HashMap<String, Early>,
    early_order: VecDeque<String>,
}

/// One record, kept as its JSON compressed with LZ4: about a sixth of the memory of the
/// record itself (whose trace is a dozen small strings) and half of the plain JSON, which is
/// what lets ten thousand of them fit in a few megabytes. An outcome or an update's end, rare
/// beside the decisions themselves, unpacks and repacks it.
#[derive(Debug)]
struct Entry {
    packed: Box<[u8]>,
    decided_at: SystemTime,
}

impl Entry {
    fn new(record: &DecisionRecord, decided_at: SystemTime) -> Option<Self> {
        Some(Self {
            packed: pack(record)?,
            decided_at,
        })
    }

    fn record(&self) -> Option<DecisionRecord> {
        let json = lz4_flex::block::decompress_size_prepended(&self.packed).ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// Changes the record; what `change` returns.
    fn change<T>(&mut self, change: impl FnOnce(&mut DecisionRecord) -> T) -> Option<T> {
        let mut record = self.record()?;
        let changed = change(&mut record);
        self.packed = pack(&record)?;
        Some(changed)
    }
}

/// A record always writes as JSON (strings and numbers); should one not, it is not kept.
fn pack(record: &DecisionRecord) -> Option<Box<[u8]>> {
    let json = serde_json::to_vec(record).ok()?;
    Some(lz4_flex::block::compress_prepend_size(&json).into_boxed_slice())
}

/// What came for a Reservation before its record.
#[derive(Debug, Default)]
struct Early {
    outcomes: Vec<(Outcome, SystemTime)>,
    update: Option<UpdateRecord>,
}

/// The outcome counted when an early event meets its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Late {
    pub rule: String,
    pub outcome: Outcome,
    pub after: std::time::Duration,
}

impl RecordBook {
    /// Keeps the last `keep` records (at least one).
    pub fn new(keep: usize) -> Self {
        Self {
            keep: keep.max(1),
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the maps whole.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps `record`, decided at `decided_at`, unless its Reservation has one already (the
    /// first decision is the record). Returns the outcomes that arrived before it, now
    /// applied, for the caller to count.
    pub fn insert(&self, mut record: DecisionRecord, decided_at: SystemTime) -> Vec<Late> {
        let mut inner = self.lock();
        if inner.records.contains_key(&record.reservation_sid) {
            return Vec::new();
        }
        let mut late = Vec::new();
        if let Some(early) = inner.early.remove(&record.reservation_sid) {
            forget_early_order(&mut inner.early_order, &record.reservation_sid);
            for (outcome, at) in early.outcomes {
                if add_outcome(&mut record, outcome, at, decided_at) {
                    late.push(Late {
                        rule: record.rule.clone(),
                        outcome,
                        after: at.duration_since(decided_at).unwrap_or_default(),
                    });
                }
            }
            if let (Some(update), Some(known)) = (early.update, record.update.as_mut()) {
                *known = update;
            }
        }
        let sid = record.reservation_sid.clone();
        let Some(entry) = Entry::new(&record, decided_at) else {
            return late;
        };
        inner.records.insert(sid.clone(), entry);
        inner.order.push_back(sid);
        while inner.order.len() > self.keep {
            if let Some(oldest) = inner.order.pop_front() {
                inner.records.remove(&oldest);
            }
        }
        late
    }

    /// The record of this Reservation, if it is kept.
    pub fn get(&self, reservation_sid: &str) -> Option<DecisionRecord> {
        self.lock()
            .records
            .get(reservation_sid)
            .and_then(Entry::record)
    }

    /// Whether this Reservation's record is kept.
    pub fn contains(&self, reservation_sid: &str) -> bool {
        self.lock().records.contains_key(reservation_sid)
    }

    /// Adds `outcome`, which arrived `at`, to the Reservation's record.
    pub fn outcome(&self, reservation_sid: &str, outcome: Outcome, at: SystemTime) -> Tie {
        let mut inner = self.lock();
        if let Some(entry) = inner.records.get_mut(reservation_sid) {
            let decided_at = entry.decided_at;
            let added = entry.change(|record| {
                add_outcome(record, outcome, at, decided_at).then(|| record.rule.clone())
            });
            return match added {
                Some(Some(rule)) => Tie::Counted { rule, decided_at },
                _ => Tie::Duplicate,
            };
        }
        let early = early_entry(&mut inner, reservation_sid, self.keep);
        if !early.outcomes.iter().any(|(seen, _)| *seen == outcome) {
            early.outcomes.push((outcome, at));
        }
        Tie::NotDecided
    }

    /// Records how the Reservation's REST update stands now.
    pub fn update(&self, reservation_sid: &str, update: UpdateRecord) {
        let mut inner = self.lock();
        if let Some(entry) = inner.records.get_mut(reservation_sid) {
            entry.change(|record| record.update = Some(update));
            return;
        }
        early_entry(&mut inner, reservation_sid, self.keep).update = Some(update);
    }

    /// Records kept now.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What waits for a record now (events and update ends that came first).
    pub fn early_len(&self) -> usize {
        self.lock().early.len()
    }
}

/// The early entry of this Reservation, made (and the oldest forgotten) when there is none.
fn early_entry<'a>(inner: &'a mut Inner, reservation_sid: &str, keep: usize) -> &'a mut Early {
    if !inner.early.contains_key(reservation_sid) {
        inner.early_order.push_back(reservation_sid.to_owned());
        while inner.early_order.len() > keep {
            if let Some(oldest) = inner.early_order.pop_front() {
                inner.early.remove(&oldest);
            }
        }
    }
    inner.early.entry(reservation_sid.to_owned()).or_default()
}

/// Takes `sid` out of the early entries' order once its entry is used, so that it takes no
/// room from those still waiting. It was usually added a moment ago, so it is looked for at
/// the back first.
fn forget_early_order(order: &mut VecDeque<String>, sid: &str) {
    if order.back().is_some_and(|last| last == sid) {
        order.pop_back();
    } else if order.front().is_some_and(|first| first == sid) {
        order.pop_front();
    } else {
        order.retain(|waiting| waiting != sid);
    }
}

/// Adds `outcome` to `record` unless it is there already; whether it was added.
fn add_outcome(
    record: &mut DecisionRecord,
    outcome: Outcome,
    at: SystemTime,
    decided_at: SystemTime,
) -> bool {
    let label = outcome.label();
    if record.outcomes.iter().any(|seen| seen.outcome == label) {
        return false;
    }
    record.outcomes.push(OutcomeRecord {
        outcome: label.to_owned(),
        at: rfc3339_ms(at),
        after_ms: millis_between(decided_at, at),
    });
    true
}

#[cfg(test)]
mod tests;
