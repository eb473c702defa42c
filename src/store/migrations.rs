//! The shared store's schema, embedded in the binary and applied in order, once.
//!
//! Every replica applies them at start (and `assignment-router migrate` does on its own), all
//! in one transaction under an advisory lock: replicas starting together wait for each other,
//! and the second finds the work done.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::PgPool;

/// One schema change. Versions only grow; a migration never changes once released.
#[derive(Debug)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "updates",
        sql: include_str!("migrations/0001_updates.sql"),
    },
    Migration {
        version: 2,
        name: "decisions",
        sql: include_str!("migrations/0002_decisions.sql"),
    },
    Migration {
        version: 3,
        name: "decision records as text",
        sql: include_str!("migrations/0003_decision_records_as_text.sql"),
    },
    Migration {
        version: 4,
        name: "early outcomes",
        sql: include_str!("migrations/0004_early_outcomes.sql"),
    },
    Migration {
        version: 5,
        name: "updates sent from memory",
        sql: include_str!("migrations/0005_sent_from_memory.sql"),
    },
];

/// The advisory lock's key: "assignrt" in ASCII, unlikely to be another program's.
const LOCK_KEY: i64 = 0x6173_7369_676e_7274;

/// What [`apply`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The migrations this call applied (none when the schema was up to date).
    pub applied: Vec<(i32, &'static str)>,
    /// The newest version in the store, which may be newer than this binary's during a
    /// rolling upgrade.
    pub version: i32,
}

/// Boxed as `Send` by hand: the compiler cannot prove it through sqlx's executor lifetimes.
pub fn apply(pool: PgPool) -> BoxFuture<'static, Result<Applied, sqlx::Error>> {
    async move { apply_on(pool).await }.boxed()
}

async fn apply_on(pool: PgPool) -> Result<Applied, sqlx::Error> {
    let mut transaction = pool.begin().await?;
    // Held to the commit: a replica starting at the same moment waits here.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *transaction)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS assignment_router_migrations (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .execute(&mut *transaction)
    .await?;
    let done: Vec<i32> = sqlx::query_scalar("SELECT version FROM assignment_router_migrations")
        .fetch_all(&mut *transaction)
        .await?;
    let mut result = Applied {
        version: done.iter().copied().max().unwrap_or(0),
        ..Applied::default()
    };
    let missing: Vec<&'static Migration> = MIGRATIONS
        .iter()
        .filter(|m| !done.contains(&m.version))
        .collect();
    for migration in missing {
        // A `&str` with no arguments goes as a simple query, which may hold several
        // statements.
        sqlx::Executor::execute(&mut *transaction, migration.sql).await?;
        sqlx::query("INSERT INTO assignment_router_migrations (version, name) VALUES ($1, $2)")
            .bind(migration.version)
            .bind(migration.name)
            .execute(&mut *transaction)
            .await?;
        result.applied.push((migration.version, migration.name));
        result.version = result.version.max(migration.version);
    }
    transaction.commit().await?;
    Ok(result)
}
