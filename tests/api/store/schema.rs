//! The store's schema and its upkeep: migrations embedded in the binary, applied once however
//! many replicas start together, or by `assignment-router migrate`; and the retention sweep
//! that keeps ended decisions only for `decisions.keep_hours`.

use std::time::Duration;

use super::*;
use crate::support::postgres::Postgres;
use crate::support::process::{run_to_end, start};

/// (rows, distinct versions) of the migrations table.
async fn migrations(pg: &Postgres) -> (i64, i64) {
    let rows = pg
        .query_scalar::<i64>("SELECT count(*) FROM assignment_router_migrations")
        .await;
    let versions = pg
        .query_scalar::<i64>("SELECT count(DISTINCT version) FROM assignment_router_migrations")
        .await;
    (rows, versions)
}

fn migrate(mut command: Command) -> std::process::Output {
    command.arg("migrate");
    run_to_end(command)
}

fn describe(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn replicas_starting_together_apply_each_migration_once_and_both_serve() {
    // Arrange
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;

    // Act: three replicas race through their start on a database without tables.
    let replicas = start_together(vec![
        replica(&pg, &twilio, &[]),
        replica(&pg, &twilio, &[]),
        replica(&pg, &twilio, &[]),
    ]);
    for (n, service) in replicas.iter().enumerate() {
        post_rest(service, n)
            .await
            .assert_rest(&format!("replica {n}"));
    }
    let landed = twilio.wait_landed(0..3, Duration::from_secs(10)).await;
    let durable = wait_until(Duration::from_secs(5), async || {
        rows_in_state(&pg, 0..3, "landed").await == 3
    })
    .await;
    let (rows, versions) = migrations(&pg).await;
    let again = migrate(replica(&pg, &twilio, &[]));
    let after = migrations(&pg).await;

    // Assert
    assert!(versions >= 1, "no migration recorded");
    assert_eq!(rows, versions, "a migration was applied more than once");
    assert!(landed, "{}", twilio.summary());
    assert!(durable, "each replica's decision has its row");
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert_eq!(
        after,
        (rows, versions),
        "migrate on an up-to-date store changes nothing"
    );
}

#[tokio::test]
async fn migrate_applies_the_migrations_and_exits_0_and_names_store_url_when_there_is_none() {
    // Arrange
    let Some(mut pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    pg.execute("CREATE DATABASE other").await;
    let other = pg.url().replace("/postgres?", "/other?");

    // Act
    let first = migrate(replica(&pg, &twilio, &[]));
    let tables = pg
        .query_scalar::<bool>("SELECT to_regclass('assignment_router_updates') IS NOT NULL")
        .await;
    let applied = migrations(&pg).await;
    let second = migrate(replica(&pg, &twilio, &[]));
    let reapplied = migrations(&pg).await;
    // DATABASE_URL, the usual name, stands for `store.url`.
    let mut by_database_url = replica_at("", &twilio, &[]);
    by_database_url.env_remove("APP_STORE__URL");
    by_database_url.env("DATABASE_URL", &other);
    let third = migrate(by_database_url);
    let mut none = replica_at("", &twilio, &[]);
    none.env_remove("APP_STORE__URL");
    let without_store = migrate(none);
    pg.stop();
    let unreachable = migrate(replica(&pg, &twilio, &[]));
    pg.start_again().await;
    let in_other = {
        let url = other.clone();
        let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM assignment_router_migrations")
            .fetch_one(&mut connection)
            .await
    };

    // Assert
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    assert!(tables, "migrate created no table");
    assert!(applied.1 >= 1 && applied.0 == applied.1, "{applied:?}");
    assert_eq!(second.status.code(), Some(0), "{}", describe(&second));
    assert_eq!(reapplied, applied, "a second migrate applies nothing");
    assert_eq!(third.status.code(), Some(0), "{}", describe(&third));
    assert_eq!(
        in_other.ok(),
        Some(applied.1),
        "DATABASE_URL's database was migrated"
    );
    assert_eq!(
        without_store.status.code(),
        Some(1),
        "{}",
        describe(&without_store)
    );
    assert!(
        String::from_utf8_lossy(&without_store.stderr).contains("store.url"),
        "the error names the setting to set: {}",
        describe(&without_store)
    );
    assert!(
        !unreachable.status.success(),
        "migrate against a stopped server succeeded: {}",
        describe(&unreachable)
    );
    assert_eq!(twilio.total(), 0);
}

#[tokio::test]
async fn the_retention_sweep_at_start_deletes_rows_ended_before_keep_hours_and_nothing_else() {
    // Arrange: six decisions, landed and in the table.
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    let mut first = start(replica(&pg, &twilio, &[]));
    post_rest_each(&first, 0..6).await;
    assert!(twilio.wait_landed(0..6, Duration::from_secs(10)).await);
    let landed = wait_until(Duration::from_secs(5), async || {
        rows_in_state(&pg, 0..6, "landed").await == 6
    })
    .await;
    assert!(landed, "the decisions have no rows");
    assert_eq!(first.terminate().code(), Some(0));
    // Aged by hand, with keep_hours = 2 below:
    // 0 landed 100 h ago, 1 expired 3 h ago, 5 moved on 100 h ago: deleted;
    // 2 landed 1 h ago, 3 landed just now: kept;
    // 4 pending since 100 h ago, held by a live replica: never swept, however old.
    let r = |n| reservation_sid(n);
    pg.execute(&format!(
        "UPDATE assignment_router_updates SET ended_at = now() - interval '100 hours' \
           WHERE reservation_sid = '{}';
         UPDATE assignment_router_updates SET state = 'expired', \
           ended_at = now() - interval '3 hours' WHERE reservation_sid = '{}';
         UPDATE assignment_router_updates SET ended_at = now() - interval '1 hour' \
           WHERE reservation_sid = '{}';
         UPDATE assignment_router_updates SET state = 'pending', ended_at = NULL, \
           created_at = now() - interval '100 hours', holder = 'another-replica', \
           leased_until = now() + interval '1 hour', deadline_at = now() + interval '1 hour' \
           WHERE reservation_sid = '{}';
         UPDATE assignment_router_updates SET state = 'moved_on', \
           ended_at = now() - interval '100 hours' WHERE reservation_sid = '{}';",
        r(0),
        r(1),
        r(2),
        r(4),
        r(5)
    ))
    .await;
    let sent_before = twilio.total();

    // Act
    let _second = start(replica(&pg, &twilio, &[("APP_DECISIONS__KEEP_HOURS", "2")]));
    let swept = wait_until(Duration::from_secs(10), async || {
        let left = pg
            .try_query_scalar::<i64>(&format!(
                "SELECT count(*) FROM assignment_router_updates \
                 WHERE reservation_sid IN ('{}', '{}', '{}')",
                r(0),
                r(1),
                r(5)
            ))
            .await;
        left.is_ok_and(|left| left == 0)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut kept: Vec<String> = {
        let pool = pg.pool().await;
        let kept = sqlx::query_scalar::<_, String>(
            "SELECT reservation_sid || ' ' || state FROM assignment_router_updates",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        kept
    };
    kept.sort();

    // Assert
    assert!(swept, "the rows ended long ago are still there: {kept:?}");
    assert_eq!(
        kept,
        vec![
            format!("{} landed", r(2)),
            format!("{} landed", r(3)),
            format!("{} pending", r(4)),
        ]
    );
    assert_eq!(
        twilio.total(),
        sent_before,
        "the pending row held elsewhere was not sent:\n{}",
        twilio.summary()
    );
}
