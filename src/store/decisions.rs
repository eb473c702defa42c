//! Decision records and event outcomes in the shared store (§10 of the design): the table
//! `assignment_router_decisions`, and what TaskRouter's events do to the outbox.
//!
//! A record is written once, by a batching writer off the answer path; its outcomes are
//! appended as the events come, each once however many times (and to however many replicas)
//! TaskRouter delivers it; its update is read from the outbox, where the deliverers keep it.
//! Every statement is one round trip.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sqlx::Row;

use super::updates::epoch;
use super::{SharedStore, StoreError};
use crate::decisions::record::rfc3339_ms;
use crate::decisions::{DecisionRecord, Outcome, OutcomeRecord, UpdateRecord};

/// What [`SharedStore::record_outcome`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeTie {
    /// The outcome is recorded now, for a decision made at `decided_at` by `rule`.
    Counted {
        rule: String,
        decided_at: SystemTime,
    },
    /// The Reservation had this outcome already: the event came again.
    Duplicate { rule: String },
    /// No replica's record of a decision for this Reservation is in the store: none was
    /// made, it was swept, or it is still on its way. The outcome is kept for the record
    /// should it come within [`EARLY_OUTCOMES_KEPT`], and counted then.
    NotDecided,
}

/// How long an outcome that came before its decision's record waits for it. A record reaches
/// the store within a fraction of a second of its answer, seconds when its writer is behind;
/// the events of Reservations this fleet never decided (those of the Workspace's other
/// Workflows) wait as long and are then deleted.
pub const EARLY_OUTCOMES_KEPT: Duration = Duration::from_secs(600);

/// How far back the outbox's periodic run looks for kept outcomes whose record has come. An
/// outcome is left there only when its event's statement and its record's insert overlapped,
/// and the run comes every few seconds.
pub const STRANDED_WITHIN: Duration = Duration::from_secs(120);

/// What [`SharedStore::apply_early_outcomes`] does with the kept outcomes it takes (`taken`):
/// adds them to their records, against each row as it is when updated (an event counted
/// meanwhile is there then), so an outcome a record has already is not added again; and
/// returns each record's rule with the outcomes added.
macro_rules! apply_taken {
    () => {
        "), found AS (
             SELECT t.reservation_sid,
                    jsonb_agg(jsonb_build_object(
                        'outcome', t.outcome,
                        'at', t.at,
                        'after_ms', greatest(0, floor(
                            (extract(epoch FROM t.arrived_at) -
                             extract(epoch FROM d.decided_at)) * 1000))::bigint)
                        ORDER BY t.arrived_at) AS outcomes
               FROM taken AS t
               JOIN assignment_router_decisions AS d ON d.reservation_sid = t.reservation_sid
              GROUP BY t.reservation_sid
         )
         UPDATE assignment_router_decisions AS d
            SET outcomes = d.outcomes || coalesce(
                    (SELECT jsonb_agg(o.value ORDER BY o.ordinality)
                       FROM jsonb_array_elements(found.outcomes) WITH ORDINALITY AS o
                      WHERE NOT d.outcomes @> jsonb_build_array(
                                jsonb_build_object('outcome', o.value -> 'outcome'))),
                    '[]'::jsonb)
           FROM found
          WHERE d.reservation_sid = found.reservation_sid
      RETURNING d.rule,
                (SELECT coalesce(jsonb_agg(o.value), '[]'::jsonb)
                   FROM jsonb_array_elements(found.outcomes) AS o
                  WHERE d.outcomes @> jsonb_build_array(o.value))::text AS added"
    };
}

/// The kept outcomes of a batch's Reservations (`$1`), by the primary key.
const APPLY_FOR_BATCH: &str = concat!(
    "WITH taken AS (
         DELETE FROM assignment_router_early_outcomes AS e
          WHERE e.reservation_sid = ANY($1)
            AND EXISTS (SELECT 1 FROM assignment_router_decisions AS d
                         WHERE d.reservation_sid = e.reservation_sid)
      RETURNING e.reservation_sid, e.outcome, e.at, e.arrived_at",
    apply_taken!()
);

/// The kept outcomes of the last `$1` seconds whose record has come, and those older than
/// `$2` seconds, which are deleted (found by `arrived_at`'s index, both).
const APPLY_RECENT_AND_AGE_OUT: &str = concat!(
    "WITH taken AS (
         DELETE FROM assignment_router_early_outcomes AS e
          WHERE (e.arrived_at > now() - make_interval(secs => $1)
                 AND EXISTS (SELECT 1 FROM assignment_router_decisions AS d
                              WHERE d.reservation_sid = e.reservation_sid))
             OR e.arrived_at < now() - make_interval(secs => $2)
      RETURNING e.reservation_sid, e.outcome, e.at, e.arrived_at",
    apply_taken!()
);

/// An outcome that waited for its record, now added to it: to be counted for `rule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateTie {
    pub rule: String,
    pub outcome: Outcome,
    pub after: Duration,
}

/// A decision record as its row holds it: the record's JSON without its update and outcomes
/// (kept apart, in the outbox and the `outcomes` column, and joined in when it is read).
#[derive(Debug, Clone)]
pub struct StoredRecord {
    reservation_sid: String,
    task_sid: String,
    rule: String,
    /// Seconds since 1970.
    decided_at: f64,
    body: String,
}

impl StoredRecord {
    pub fn encode(mut record: DecisionRecord) -> Result<Self, serde_json::Error> {
        record.update = None;
        record.outcomes.clear();
        let body = serde_json::to_string(&record)?;
        Ok(Self {
            decided_at: epoch(parse_time(&record.decided_at)),
            reservation_sid: record.reservation_sid,
            task_sid: record.task_sid,
            rule: record.rule,
            body,
        })
    }
}

/// Records to write in one statement, as its arrays: built once, and shared by the tries of a
/// batch that has to be written again (cheap to clone).
#[derive(Debug, Clone)]
pub struct RecordBatch(Arc<Columns>);

#[derive(Debug)]
struct Columns {
    reservation_sids: Vec<String>,
    task_sids: Vec<String>,
    rules: Vec<String>,
    decided_at: Vec<f64>,
    bodies: Vec<String>,
}

impl RecordBatch {
    pub fn new(records: Vec<StoredRecord>) -> Self {
        let mut columns = Columns {
            reservation_sids: Vec::with_capacity(records.len()),
            task_sids: Vec::with_capacity(records.len()),
            rules: Vec::with_capacity(records.len()),
            decided_at: Vec::with_capacity(records.len()),
            bodies: Vec::with_capacity(records.len()),
        };
        for record in records {
            columns.reservation_sids.push(record.reservation_sid);
            columns.task_sids.push(record.task_sid);
            columns.rules.push(record.rule);
            columns.decided_at.push(record.decided_at);
            columns.bodies.push(record.body);
        }
        Self(Arc::new(columns))
    }

    pub fn len(&self) -> usize {
        self.0.reservation_sids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SharedStore {
    /// Writes `records` (encoded by the recorder's thread, at its low priority, rather than
    /// on the store's), in one statement, and returns how many were new. A Reservation
    /// already recorded keeps its first record: that is the decision that was answered.
    pub async fn insert_decisions(&self, records: Vec<StoredRecord>) -> Result<u64, StoreError> {
        self.write_decisions(&RecordBatch::new(records)).await
    }

    /// [`Self::insert_decisions`], for a batch that may be tried again.
    pub async fn write_decisions(&self, batch: &RecordBatch) -> Result<u64, StoreError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let batch = batch.0.clone();
        self.run("record", "write decision records", move |pool| async move {
            let insert = sqlx::query(
                "INSERT INTO assignment_router_decisions
                         (reservation_sid, task_sid, rule, decided_at, record)
                     SELECT sid, task, rule, to_timestamp(at), record
                       FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[])
                            WITH ORDINALITY AS batch (sid, task, rule, at, record, position)
                      WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL
                      ORDER BY sid, position
                     ON CONFLICT (reservation_sid) DO NOTHING",
            )
            .bind(&batch.reservation_sids)
            .bind(&batch.task_sids)
            .bind(&batch.rules)
            .bind(&batch.decided_at)
            .bind(&batch.bodies)
            // By Reservation: two replicas writing batches that share a Reservation (a
            // duplicate callback decided at both) each wait on the other's insert of it, and
            // in different orders that was a deadlock. Then by place in the batch, so of a
            // Reservation decided twice in one batch the first is kept.
            //
            // A record is kept in this replica's memory as well, so a crash of the server that
            // loses the last moment's records loses nothing the answer depended on: its commit
            // need not wait for the disk (`store::updates` says how), and adds no flush of its
            // own. Its WAL is still flushed with the next claim's commit, when that comes before
            // the WAL writer's: the claims' flushes carry the records' bytes either way.
            .execute(&pool)
            .await?;
            Ok(insert.rows_affected())
        })
        .await
    }

    /// Adds `outcome`, which arrived `at`, to the Reservation's record, unless it has it
    /// already; with no record in the store yet, keeps it for the record (see
    /// [`Self::apply_early_outcomes`]). One statement: of two replicas given the same event at
    /// once, the second waits for the first's row and then finds the outcome there.
    pub async fn record_outcome(
        &self,
        reservation_sid: &str,
        outcome: Outcome,
        at: SystemTime,
    ) -> Result<OutcomeTie, StoreError> {
        let sid = reservation_sid.to_owned();
        let arrived = rfc3339_ms(at);
        let at = epoch(at);
        let row = self
            .run("outcome", "record an outcome", move |pool| async move {
                sqlx::query(
                    "WITH decision AS (
                         SELECT rule FROM assignment_router_decisions WHERE reservation_sid = $1
                     ), counted AS (
                         UPDATE assignment_router_decisions
                            SET outcomes = outcomes || jsonb_build_array(jsonb_build_object(
                                    'outcome', $2::text,
                                    'at', $3::text,
                                    'after_ms', greatest(0, floor(
                                        (extract(epoch FROM to_timestamp($4)) -
                                         extract(epoch FROM decided_at)) * 1000))::bigint))
                          WHERE reservation_sid = $1
                                AND NOT outcomes @> jsonb_build_array(
                                        jsonb_build_object('outcome', $2::text))
                      RETURNING rule, (extract(epoch FROM decided_at) * 1000000)::int8 AS decided_at
                     ), early AS (
                         INSERT INTO assignment_router_early_outcomes
                                (reservation_sid, outcome, at, arrived_at)
                         SELECT $1, $2::text, $3::text, to_timestamp($4)
                          WHERE NOT EXISTS (SELECT 1 FROM decision)
                         ON CONFLICT DO NOTHING
                     )
                     SELECT decision.rule, counted.decided_at
                       FROM decision LEFT JOIN counted ON true",
                )
                .bind(sid)
                .bind(outcome.label())
                .bind(arrived)
                .bind(at)
                .fetch_optional(&pool)
                .await?
                .map(|row| -> Result<(String, Option<i64>), sqlx::Error> {
                    Ok((row.try_get("rule")?, row.try_get("decided_at")?))
                })
                .transpose()
            })
            .await?;
        Ok(match row {
            None => OutcomeTie::NotDecided,
            Some((rule, Some(decided_at))) => OutcomeTie::Counted {
                rule,
                decided_at: from_micros(decided_at),
            },
            Some((rule, None)) => OutcomeTie::Duplicate { rule },
        })
    }

    /// Moves the outcomes that came before their records into the records that have come
    /// since, each outcome once. Returns what was added, for the caller to count: of two
    /// replicas doing this at once, each outcome is added (and returned) by one.
    ///
    /// With `batch`, for its Reservations only: run after each batch of records is written.
    /// Without, for the outcomes kept in the last [`STRANDED_WITHIN`], and those older than
    /// [`EARLY_OUTCOMES_KEPT`] that found no record are deleted: run now and then by the
    /// outbox, for an event whose statement overlapped its record's insert (its outcome is
    /// kept, seen by neither) and for the events of Reservations no replica decided. Either
    /// way the kept outcomes are found by index: the table may hold ten minutes of another
    /// Workflow's events, and a scan of it after every batch would cost the server.
    pub async fn apply_early_outcomes(
        &self,
        batch: Option<&RecordBatch>,
    ) -> Result<Vec<LateTie>, StoreError> {
        let batch = batch.map(|batch| batch.0.clone());
        let rows = self
            .run(
                "outcome",
                "add early outcomes to their records",
                move |pool| async move {
                    let query = match &batch {
                        Some(batch) => sqlx::query(APPLY_FOR_BATCH).bind(&batch.reservation_sids),
                        None => sqlx::query(APPLY_RECENT_AND_AGE_OUT)
                            .bind(STRANDED_WITHIN.as_secs_f64())
                            .bind(EARLY_OUTCOMES_KEPT.as_secs_f64()),
                    };
                    let rows = query.fetch_all(&pool).await?;
                    rows.iter()
                        .map(|row| Ok((row.try_get("rule")?, row.try_get("added")?)))
                        .collect::<Result<Vec<(String, String)>, sqlx::Error>>()
                },
            )
            .await?;
        let mut ties = Vec::new();
        for (rule, added) in rows {
            let added: Vec<OutcomeRecord> = serde_json::from_str(&added).map_err(|error| {
                self.error(
                    "outcome",
                    "add early outcomes to their records",
                    &format!("the store answered outcomes this version cannot read: {error}"),
                )
            })?;
            for outcome in added {
                if let Some(kind) = Outcome::from_label(&outcome.outcome) {
                    ties.push(LateTie {
                        rule: rule.clone(),
                        outcome: kind,
                        after: Duration::from_millis(outcome.after_ms),
                    });
                }
            }
        }
        Ok(ties)
    }

    /// The record of `reservation_sid`, with its outcomes, and its update as the outbox has
    /// it. A REST update sent from memory while the store was down has no row: `update` is
    /// then `None`, as it is once the sweep has deleted the row.
    pub async fn decision(
        &self,
        reservation_sid: &str,
    ) -> Result<Option<DecisionRecord>, StoreError> {
        let sid = reservation_sid.to_owned();
        let row = self
            .run(
                "look_up",
                "read a decision record",
                move |pool| async move {
                    let Some(row) = sqlx::query(
                        "SELECT d.record::text AS record, d.outcomes::text AS outcomes,
                            u.attempts, u.state, u.last_error,
                            (extract(epoch FROM u.ended_at) * 1000000)::int8 AS ended_at
                       FROM assignment_router_decisions AS d
                       LEFT JOIN assignment_router_updates AS u
                              ON u.reservation_sid = d.reservation_sid
                      WHERE d.reservation_sid = $1",
                    )
                    .bind(sid)
                    .fetch_optional(&pool)
                    .await?
                    else {
                        return Ok(None);
                    };
                    Ok(Some(StoredDecision {
                        record: row.try_get("record")?,
                        outcomes: row.try_get("outcomes")?,
                        attempts: row.try_get("attempts")?,
                        state: row.try_get("state")?,
                        last_error: row.try_get("last_error")?,
                        ended_at: row.try_get("ended_at")?,
                    }))
                },
            )
            .await?;
        let Some(stored) = row else {
            return Ok(None);
        };
        let unreadable = |error: serde_json::Error| {
            self.error(
                "look_up",
                "read a decision record",
                &format!("the stored record is not one this version can read: {error}"),
            )
        };
        let mut record: DecisionRecord =
            serde_json::from_str(&stored.record).map_err(unreadable)?;
        record.outcomes =
            serde_json::from_str::<Vec<OutcomeRecord>>(&stored.outcomes).map_err(unreadable)?;
        record.update = match (record.delivery.as_str(), stored.state) {
            ("rest", Some(state)) => Some(UpdateRecord {
                attempts: stored
                    .attempts
                    .and_then(|attempts| u32::try_from(attempts).ok())
                    .unwrap_or(0),
                state,
                detail: stored.last_error,
                ended_at: stored.ended_at.map(|at| rfc3339_ms(from_micros(at))),
            }),
            _ => None,
        };
        Ok(Some(record))
    }

    /// Ends the pending updates of `reservation_sid`, or, when it is `None`, of every
    /// Reservation of `task_sid`, as `moved_on` with `detail`: TaskRouter said the
    /// Reservation is no longer pending, so no replica may send them or take them over.
    /// Given both, only that Reservation's, and only if it belongs to that Task. Returns how
    /// many ended.
    pub async fn end_moved_on(
        &self,
        reservation_sid: Option<&str>,
        task_sid: Option<&str>,
        detail: &str,
    ) -> Result<u64, StoreError> {
        // Two statements rather than one with optional filters, so each keeps its index
        // (the primary key, or the pending rows by Task) whatever plan is cached.
        let (statement, sid, task) = match (reservation_sid, task_sid) {
            (Some(sid), task) => (
                "UPDATE assignment_router_updates
                    SET state = 'moved_on', ended_at = now(), last_error = $3, holder = NULL
                  WHERE reservation_sid = $1 AND state = 'pending'
                        AND ($2::text IS NULL OR task_sid = $2)",
                sid.to_owned(),
                task.map(str::to_owned),
            ),
            (None, Some(task)) => (
                "WITH locked AS (
                     SELECT reservation_sid FROM assignment_router_updates
                      WHERE task_sid = $1 AND state = 'pending' AND $2::text IS NULL
                      ORDER BY reservation_sid
                        FOR UPDATE)
                 UPDATE assignment_router_updates AS u
                    SET state = 'moved_on', ended_at = now(), last_error = $3, holder = NULL
                   FROM locked
                  WHERE u.reservation_sid = locked.reservation_sid AND u.state = 'pending'",
                task.to_owned(),
                None,
            ),
            (None, None) => return Ok(0),
        };
        let detail = detail.to_owned();
        self.run(
            "end",
            "end the updates of a Reservation that moved on",
            move |pool| async move {
                let done = sqlx::query(statement)
                    .bind(sid)
                    .bind(task)
                    .bind(detail)
                    .execute(&pool)
                    .await?;
                Ok(done.rows_affected())
            },
        )
        .await
    }

    /// Who holds the update of `reservation_sid` while it is pending: `None` once it ended
    /// (here or by another replica, as when an event said the Reservation moved on) or is
    /// gone; `Some(None)` when pending and released. Asked by the replica sending it before
    /// each retry: its lease may have run out (it stalled, or the store was away), and
    /// another replica taken the update over.
    pub async fn pending_holder(
        &self,
        reservation_sid: &str,
    ) -> Result<Option<Option<String>>, StoreError> {
        let sid = reservation_sid.to_owned();
        self.run(
            "check",
            "check whether an update is still pending",
            move |pool| async move {
                sqlx::query_scalar(
                    "SELECT holder FROM assignment_router_updates
                      WHERE reservation_sid = $1 AND state = 'pending'",
                )
                .bind(sid)
                .fetch_optional(&pool)
                .await
            },
        )
        .await
    }

    /// Deletes the records decided more than `keep_hours` ago; returns how many.
    pub async fn sweep_decisions(&self, keep_hours: u64) -> Result<u64, StoreError> {
        let hours = i32::try_from(keep_hours).unwrap_or(i32::MAX);
        self.run(
            "sweep",
            "delete old decision records",
            move |pool| async move {
                let done = sqlx::query(
                    "DELETE FROM assignment_router_decisions
                      WHERE decided_at < now() - make_interval(hours => $1)",
                )
                .bind(hours)
                .execute(&pool)
                .await?;
                Ok(done.rows_affected())
            },
        )
        .await
    }
}

/// A record's row, as read: decoded off the store's runtime.
struct StoredDecision {
    record: String,
    outcomes: String,
    attempts: Option<i32>,
    state: Option<String>,
    last_error: Option<String>,
    ended_at: Option<i64>,
}

/// A record's `decided_at`, which this service writes in RFC 3339. Any other text is taken
/// as now: the record is still kept, and swept in its turn.
fn parse_time(text: &str) -> SystemTime {
    text.parse::<jiff::Timestamp>()
        .ok()
        .and_then(|at| SystemTime::try_from(at).ok())
        .unwrap_or_else(SystemTime::now)
}

/// Microseconds since 1970, as they are read back: exact, where seconds in a float8 would
/// put `.169` a hair below, and so at `.168` once cut to milliseconds.
fn from_micros(micros: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_micros(u64::try_from(micros).unwrap_or(0))
}
