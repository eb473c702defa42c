//! The outbox table, `assignment_router_updates`: claims, leases, attempts, ends, retention.
//!
//! Every statement is one round trip. A claim is committed before its `{}` is answered, by
//! default without waiting for the disk: the replica keeps it in memory until a statement of
//! its own, a moment later, has it on disk or writes it again (`crate::outbox` says why). The
//! bookkeeping after it (attempts, ends) commits without waiting for the disk, since losing
//! one in a crash only means the next holder checks with Twilio before sending again.
//!
//! How a statement commits without waiting: it calls `set_config('synchronous_commit', 'off',
//! true)` in its own `WHERE`, for each row it touches. The setting is then the statement's
//! own transaction's (`true`: local), and PostgreSQL reads it when that transaction commits,
//! so the statement stays one round trip; `BEGIN`, `SET LOCAL`, the statement and `COMMIT`
//! were four, each waking the server and the store's thread. A statement that touches no row
//! wrote nothing, and its commit has nothing to wait for either way.
//!
//! Statements that touch many rows first lock them in one order, by Reservation (a CTE's
//! `ORDER BY reservation_sid FOR UPDATE`), whatever order their input or the plan has, and
//! repeat their conditions in the `UPDATE`, for a row that changed while they waited. A
//! replica renews, ends and releases its updates on different connections at once, and
//! TaskRouter's events end a Task's updates meanwhile: two statements locking the same rows
//! in different orders deadlocked, and PostgreSQL failed one of them (a failed renewal sent
//! the next claims to memory). The sweep skips rows another statement has locked; it deletes
//! them next time.

use std::time::{Duration, SystemTime};

use sqlx::Row;

use super::{SharedStore, StoreError};

/// A REST decision to claim.
#[derive(Debug, Clone)]
pub struct NewUpdate {
    pub reservation_sid: String,
    pub workspace_sid: String,
    pub worker_sid: String,
    pub task_sid: String,
    pub rule: String,
    pub instruction: &'static str,
    pub body: String,
    pub decided_at: SystemTime,
    pub deadline: SystemTime,
}

/// [`NewUpdate`]s as the columns one statement binds.
#[derive(Default)]
struct MemoryColumns {
    sids: Vec<String>,
    workspaces: Vec<String>,
    workers: Vec<String>,
    tasks: Vec<String>,
    rules: Vec<String>,
    instructions: Vec<&'static str>,
    bodies: Vec<String>,
    decided: Vec<f64>,
    deadlines: Vec<f64>,
}

impl MemoryColumns {
    /// `updates` as columns, each Reservation once: one statement may not touch a row twice.
    fn of_each_reservation_once(updates: &[NewUpdate]) -> Self {
        let mut seen = std::collections::HashSet::with_capacity(updates.len());
        let mut columns = Self::default();
        for update in updates.iter().filter(|u| seen.insert(&u.reservation_sid)) {
            columns.push(update);
        }
        columns
    }

    fn push(&mut self, update: &NewUpdate) {
        self.sids.push(update.reservation_sid.clone());
        self.workspaces.push(update.workspace_sid.clone());
        self.workers.push(update.worker_sid.clone());
        self.tasks.push(update.task_sid.clone());
        self.rules.push(update.rule.clone());
        self.instructions.push(update.instruction);
        self.bodies.push(update.body.clone());
        self.decided.push(epoch(update.decided_at));
        self.deadlines.push(epoch(update.deadline));
    }
}

/// A pending update taken from the store.
#[derive(Debug, Clone)]
pub struct StoredUpdate {
    pub reservation_sid: String,
    pub workspace_sid: String,
    pub worker_sid: String,
    pub task_sid: String,
    pub rule: String,
    pub instruction: String,
    pub body: String,
    pub attempts: u32,
    pub decided_at: SystemTime,
    pub deadline: SystemTime,
    /// Who held it before: a replica that died, stopped or restarted.
    pub previous_holder: Option<String>,
}

/// An update that ended, to be marked so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub reservation_sid: String,
    /// landed, moved_on, final_error or expired (`sent_from_memory` is written only by
    /// [`SharedStore::note_sent_from_memory`]).
    pub state: &'static str,
    pub attempts: u32,
    /// Kept as it was when `None`.
    pub last_error: Option<String>,
}

/// The outbox's pending rows, fleet-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    /// No replica holds them: the next poll takes them.
    pub due: i64,
    /// A replica holds them and is sending them.
    pub leased: i64,
}

/// A claim, committed without waiting for the server's disk (`set_config` in its own `WHERE`,
/// as the module says), so that `{}` does not wait for a WAL flush: on this project's
/// machines the flush alone took over a millisecond at the p99, and a claim that came during
/// another's flush waited for both. Confirmed on disk moments later by
/// [`SharedStore::confirm_claims`].
const CLAIM: &str = "INSERT INTO assignment_router_updates
         (reservation_sid, workspace_sid, worker_sid, task_sid, rule, instruction,
          body, created_at, deadline_at, next_attempt_at, holder, leased_until)
     SELECT $1, $2, $3, $4, $5, $6, $7, to_timestamp($8), to_timestamp($9), now(),
            $10, now() + make_interval(secs => $11)
      WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL
     ON CONFLICT (reservation_sid) DO NOTHING";

/// A claim that commits with the session's `synchronous_commit` (`store.claim_waits_for_disk`).
const CLAIM_WAITING_FOR_DISK: &str = "INSERT INTO assignment_router_updates
         (reservation_sid, workspace_sid, worker_sid, task_sid, rule, instruction,
          body, created_at, deadline_at, next_attempt_at, holder, leased_until)
     VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8), to_timestamp($9), now(),
             $10, now() + make_interval(secs => $11))
     ON CONFLICT (reservation_sid) DO NOTHING";

impl SharedStore {
    /// Writes `update` as its Reservation's claim, held by `holder` for `lease`. `true` when
    /// this call made the claim; `false` when the Reservation was claimed already.
    ///
    /// Unless `wait_for_disk`, the claim commits without waiting for the server's disk: other
    /// replicas see it at once, and the replica keeps it in memory until
    /// [`Self::confirm_claims`] has it on disk (see `crate::outbox`).
    pub async fn claim(
        &self,
        update: NewUpdate,
        holder: &str,
        lease: Duration,
        wait_for_disk: bool,
    ) -> Result<bool, StoreError> {
        let holder = holder.to_owned();
        let statement = if wait_for_disk {
            CLAIM_WAITING_FOR_DISK
        } else {
            CLAIM
        };
        self.run_here("claim", "claim a REST decision", move |pool| async move {
            let done = sqlx::query(statement)
                .bind(&update.reservation_sid)
                .bind(&update.workspace_sid)
                .bind(&update.worker_sid)
                .bind(&update.task_sid)
                .bind(&update.rule)
                .bind(update.instruction)
                .bind(&update.body)
                .bind(epoch(update.decided_at))
                .bind(epoch(update.deadline))
                .bind(holder)
                .bind(lease.as_secs_f64())
                .execute(&pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    /// Makes sure claims this replica made without waiting for the disk are there, and on
    /// disk, and returns how many had to be written again.
    ///
    /// One statement, committed with the session's `synchronous_commit` (on, by default): it
    /// writes again, as held by `holder` for `lease`, any of `claims` the store no longer
    /// has (its server crashed before they reached the disk), and when its commit returns,
    /// every claim committed before it is on disk too, since PostgreSQL flushes its WAL in
    /// order. A claim that is there, whatever became of it since, is left as it is.
    ///
    /// A transaction that wrote nothing would not wait for the disk (PostgreSQL flushes at
    /// commit only for transactions that wrote WAL): the transactional logical message is
    /// the smallest write that makes it wait, allowed to every role, and read only by logical
    /// decoding, if anyone runs it.
    pub async fn confirm_claims(
        &self,
        claims: &[NewUpdate],
        holder: &str,
        lease: Duration,
    ) -> Result<u64, StoreError> {
        let columns = MemoryColumns::of_each_reservation_once(claims);
        let holder = holder.to_owned();
        self.run(
            "confirm",
            "confirm claims on disk",
            move |pool| async move {
                let (restored, _written): (i64, bool) = sqlx::query_as(
                    "WITH restored AS (
                     INSERT INTO assignment_router_updates
                            (reservation_sid, workspace_sid, worker_sid, task_sid, rule,
                             instruction, body, created_at, deadline_at, next_attempt_at, holder,
                             leased_until)
                     SELECT n.sid, n.workspace, n.worker, n.task, n.rule, n.instruction, n.body,
                            to_timestamp(n.decided), to_timestamp(n.deadline), now(), $10,
                            now() + make_interval(secs => $11)
                       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                   $6::text[], $7::text[], $8::float8[], $9::float8[])
                            AS n(sid, workspace, worker, task, rule, instruction, body,
                                 decided, deadline)
                      ORDER BY n.sid
                     ON CONFLICT (reservation_sid) DO NOTHING
                     RETURNING 1)
                 SELECT (SELECT count(*) FROM restored),
                        pg_logical_emit_message(true, 'assignment-router', 'claims confirmed')
                            IS NOT NULL",
                )
                .bind(columns.sids)
                .bind(columns.workspaces)
                .bind(columns.workers)
                .bind(columns.tasks)
                .bind(columns.rules)
                .bind(columns.instructions)
                .bind(columns.bodies)
                .bind(columns.decided)
                .bind(columns.deadlines)
                .bind(holder)
                .bind(lease.as_secs_f64())
                .fetch_one(&pool)
                .await?;
                Ok(u64::try_from(restored).unwrap_or(0))
            },
        )
        .await
    }

    /// Takes up to `limit` pending updates that no replica holds and that are due, for
    /// `holder`, for `lease`. `SKIP LOCKED`: replicas polling at once take different rows.
    pub async fn take_due(
        &self,
        holder: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<StoredUpdate>, StoreError> {
        let holder = holder.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(
            "take",
            "take over pending updates",
            move |pool| async move {
                let rows = sqlx::query(
                    "WITH due AS (
                     SELECT reservation_sid, holder AS previous_holder
                       FROM assignment_router_updates
                      WHERE state = 'pending' AND leased_until < now()
                            AND next_attempt_at <= now()
                      ORDER BY next_attempt_at
                      LIMIT $2
                        FOR UPDATE SKIP LOCKED)
                 UPDATE assignment_router_updates AS u
                    SET holder = $1, leased_until = now() + make_interval(secs => $3),
                        takeovers = u.takeovers + 1
                   FROM due
                  WHERE u.reservation_sid = due.reservation_sid
              RETURNING u.reservation_sid, u.workspace_sid, u.worker_sid, u.task_sid, u.rule,
                        u.instruction, u.body, u.attempts,
                        extract(epoch FROM u.created_at)::float8 AS decided_at,
                        extract(epoch FROM u.deadline_at)::float8 AS deadline,
                        due.previous_holder",
                )
                .bind(holder)
                .bind(limit)
                .bind(lease.as_secs_f64())
                .fetch_all(&pool)
                .await?;
                rows.iter().map(stored).collect()
            },
        )
        .await
    }

    /// Extends `holder`'s lease on those of `reservation_sids` still pending.
    pub async fn renew(
        &self,
        holder: &str,
        reservation_sids: Vec<String>,
        lease: Duration,
    ) -> Result<u64, StoreError> {
        let holder = holder.to_owned();
        self.run("renew", "renew its leases", move |pool| async move {
            let done = sqlx::query(
                "WITH locked AS (
                     SELECT reservation_sid FROM assignment_router_updates
                      WHERE holder = $1 AND state = 'pending' AND reservation_sid = ANY($2)
                      ORDER BY reservation_sid
                        FOR UPDATE)
                 UPDATE assignment_router_updates AS u
                    SET leased_until = now() + make_interval(secs => $3)
                   FROM locked
                  WHERE u.reservation_sid = locked.reservation_sid
                        AND u.holder = $1 AND u.state = 'pending'",
            )
            .bind(holder)
            .bind(reservation_sids)
            .bind(lease.as_secs_f64())
            .execute(&pool)
            .await?;
            Ok(done.rows_affected())
        })
        .await
    }

    /// An attempt failed: the next one is due after `retry_in`, wherever it is made.
    pub async fn record_attempt(
        &self,
        reservation_sid: &str,
        holder: &str,
        attempts: u32,
        retry_in: Duration,
        last_error: &str,
    ) -> Result<(), StoreError> {
        let (sid, holder, error) = (
            reservation_sid.to_owned(),
            holder.to_owned(),
            last_error.to_owned(),
        );
        self.run("attempt", "record an attempt", move |pool| async move {
            sqlx::query(
                "UPDATE assignment_router_updates
                    SET attempts = $3, next_attempt_at = now() + make_interval(secs => $4),
                        last_error = $5
                  WHERE reservation_sid = $1 AND holder = $2 AND state = 'pending'
                        AND set_config('synchronous_commit', 'off', true) IS NOT NULL",
            )
            .bind(sid)
            .bind(holder)
            .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
            .bind(retry_in.as_secs_f64())
            .bind(error)
            .execute(&pool)
            .await
            .map(|_| ())
        })
        .await
    }

    /// These updates ended (`state`: landed, moved_on, final_error or expired): never sent
    /// again, and deleted once older than the retention. One statement for them all: a
    /// replica ending a thousand updates a second holds one connection for one transaction
    /// per batch, not each end its own (see [`crate::outbox`]'s ends).
    pub async fn end(&self, ended: Vec<Ended>) -> Result<(), StoreError> {
        self.run("end", "mark updates ended", move |pool| async move {
            let mut sids = Vec::with_capacity(ended.len());
            let mut states = Vec::with_capacity(ended.len());
            let mut attempts = Vec::with_capacity(ended.len());
            let mut errors = Vec::with_capacity(ended.len());
            for end in ended {
                sids.push(end.reservation_sid);
                states.push(end.state);
                attempts.push(i32::try_from(end.attempts).unwrap_or(i32::MAX));
                errors.push(end.last_error);
            }
            sqlx::query(
                "WITH locked AS (
                     SELECT reservation_sid FROM assignment_router_updates
                      WHERE state = 'pending' AND reservation_sid = ANY($1)
                      ORDER BY reservation_sid
                        FOR UPDATE)
                 UPDATE assignment_router_updates AS u
                    SET state = e.state, attempts = e.attempts,
                        last_error = coalesce(e.last_error, u.last_error),
                        ended_at = now(), holder = NULL
                   FROM locked,
                        unnest($1::text[], $2::text[], $3::int4[], $4::text[])
                        AS e(reservation_sid, state, attempts, last_error)
                  WHERE u.reservation_sid = locked.reservation_sid
                        AND e.reservation_sid = locked.reservation_sid AND u.state = 'pending'
                        AND set_config('synchronous_commit', 'off', true) IS NOT NULL",
            )
            .bind(sids)
            .bind(states)
            .bind(attempts)
            .bind(errors)
            .execute(&pool)
            .await
            .map(|_| ())
        })
        .await
    }

    /// Gives up `holder`'s leases on `reservation_sids` (or on all it holds, when `None`):
    /// due at once, for any replica to take.
    pub async fn release(
        &self,
        holder: &str,
        reservation_sids: Option<Vec<String>>,
    ) -> Result<u64, StoreError> {
        let holder = holder.to_owned();
        self.run("release", "release its leases", move |pool| async move {
            let done = sqlx::query(
                "WITH locked AS (
                     SELECT reservation_sid FROM assignment_router_updates
                      WHERE holder = $1 AND state = 'pending'
                            AND ($2::text[] IS NULL OR reservation_sid = ANY($2))
                      ORDER BY reservation_sid
                        FOR UPDATE)
                 UPDATE assignment_router_updates AS u
                    SET holder = NULL, leased_until = now() - interval '1 second',
                        next_attempt_at = least(u.next_attempt_at, now())
                   FROM locked
                  WHERE u.reservation_sid = locked.reservation_sid
                        AND u.holder = $1 AND u.state = 'pending'",
            )
            .bind(holder)
            .bind(reservation_sids)
            .execute(&pool)
            .await?;
            Ok(done.rows_affected())
        })
        .await
    }

    /// Writes updates `holder` sent from memory while the store was away, as ended
    /// (`sent_from_memory`): a duplicate callback that comes now, at any replica, finds the
    /// Reservation claimed and sends nothing. A claim of `holder`'s that committed after it
    /// was given up on ends so too; a Reservation another replica has a row for is left as
    /// it is. Returns how many rows were written.
    pub async fn note_sent_from_memory(
        &self,
        updates: &[NewUpdate],
        holder: &str,
    ) -> Result<u64, StoreError> {
        let columns = MemoryColumns::of_each_reservation_once(updates);
        let holder = holder.to_owned();
        self.run(
            "end",
            "note updates sent from memory",
            move |pool| async move {
                let done = sqlx::query(
                    "INSERT INTO assignment_router_updates AS u
                     (reservation_sid, workspace_sid, worker_sid, task_sid, rule, instruction,
                      body, state, created_at, deadline_at, next_attempt_at, leased_until,
                      last_error, ended_at)
                 SELECT n.sid, n.workspace, n.worker, n.task, n.rule, n.instruction, n.body,
                        'sent_from_memory', to_timestamp(n.decided), to_timestamp(n.deadline),
                        now(), now(), NULL, now()
                   FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                               $6::text[], $7::text[], $8::float8[], $9::float8[])
                        AS n(sid, workspace, worker, task, rule, instruction, body, decided,
                             deadline)
                  ORDER BY n.sid
                 ON CONFLICT (reservation_sid) DO UPDATE
                    SET state = 'sent_from_memory', ended_at = now(), holder = NULL
                  WHERE u.holder = $10 AND u.state = 'pending'",
                )
                .bind(columns.sids)
                .bind(columns.workspaces)
                .bind(columns.workers)
                .bind(columns.tasks)
                .bind(columns.rules)
                .bind(columns.instructions)
                .bind(columns.bodies)
                .bind(columns.decided)
                .bind(columns.deadlines)
                .bind(holder)
                .execute(&pool)
                .await?;
                Ok(done.rows_affected())
            },
        )
        .await
    }

    /// Deletes ended updates older than `keep_hours`; returns how many.
    pub async fn sweep(&self, keep_hours: u64) -> Result<u64, StoreError> {
        let hours = i32::try_from(keep_hours).unwrap_or(i32::MAX);
        self.run(
            "sweep",
            "delete old ended updates",
            move |pool| async move {
                let done = sqlx::query(
                    "DELETE FROM assignment_router_updates
                  WHERE reservation_sid IN (
                        SELECT reservation_sid FROM assignment_router_updates
                         WHERE state <> 'pending'
                               AND ended_at < now() - make_interval(hours => $1)
                           FOR UPDATE SKIP LOCKED)",
                )
                .bind(hours)
                .execute(&pool)
                .await?;
                Ok(done.rows_affected())
            },
        )
        .await
    }

    /// How many updates are pending, fleet-wide, and how many of those a replica holds.
    pub async fn depth(&self) -> Result<Depth, StoreError> {
        self.run("take", "count pending updates", move |pool| async move {
            let row = sqlx::query(
                "SELECT count(*) FILTER (WHERE leased_until < now()) AS due,
                        count(*) FILTER (WHERE leased_until >= now()) AS leased
                   FROM assignment_router_updates
                  WHERE state = 'pending'",
            )
            .fetch_one(&pool)
            .await?;
            Ok(Depth {
                due: row.try_get("due")?,
                leased: row.try_get("leased")?,
            })
        })
        .await
    }
}

fn stored(row: &sqlx::postgres::PgRow) -> Result<StoredUpdate, sqlx::Error> {
    let attempts: i32 = row.try_get("attempts")?;
    Ok(StoredUpdate {
        reservation_sid: row.try_get("reservation_sid")?,
        workspace_sid: row.try_get("workspace_sid")?,
        worker_sid: row.try_get("worker_sid")?,
        task_sid: row.try_get("task_sid")?,
        rule: row.try_get("rule")?,
        instruction: row.try_get("instruction")?,
        body: row.try_get("body")?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        decided_at: from_epoch(row.try_get("decided_at")?),
        deadline: from_epoch(row.try_get("deadline")?),
        previous_holder: row.try_get("previous_holder")?,
    })
}

/// Seconds since 1970, as PostgreSQL's `to_timestamp` takes them.
pub(super) fn epoch(at: SystemTime) -> f64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn from_epoch(seconds: f64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::try_from_secs_f64(seconds).unwrap_or_default()
}
