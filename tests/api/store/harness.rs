//! The PostgreSQL harness itself: every other store test relies on a server that starts,
//! answers, stops and comes back on the same data.

use std::time::Duration;

use crate::support::postgres::Postgres;

#[tokio::test]
async fn the_server_starts_answers_stops_and_answers_again_on_the_same_data() {
    let Some(mut pg) = Postgres::start().await else {
        return;
    };
    assert_eq!(pg.query_scalar::<i32>("SELECT 1").await, 1);
    pg.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (1), (2)")
        .await;

    pg.stop();
    let refused = tokio::time::timeout(
        Duration::from_secs(5),
        pg.try_query_scalar::<i32>("SELECT 1"),
    )
    .await
    .expect("a stopped server refuses at once");
    assert!(refused.is_err(), "a stopped server answered");

    let port = pg.port();
    pg.start_again().await;
    assert_eq!(pg.port(), port, "a restart keeps the port");
    assert_eq!(pg.query_scalar::<i64>("SELECT count(*) FROM kept").await, 2);
    let pool = pg.pool().await;
    let sum: i64 = sqlx::query_scalar("SELECT sum(n) FROM kept")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sum, 3);
    pool.close().await;
}

#[tokio::test]
async fn a_frozen_server_hangs_queries_until_thawed() {
    let Some(pg) = Postgres::start().await else {
        return;
    };
    // A connection opened before, as a service's pool holds them, and one opened after.
    let pool = pg.pool().await;
    let one = || sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&pool);
    assert_eq!(one().await.unwrap(), 1);
    pg.freeze();
    let within = Duration::from_millis(700);
    let on_open = tokio::time::timeout(within, one()).await;
    let on_new = tokio::time::timeout(within, pg.try_query_scalar::<i32>("SELECT 1")).await;
    assert!(on_open.is_err(), "an open connection answered: {on_open:?}");
    assert!(on_new.is_err(), "a new connection answered: {on_new:?}");
    pg.thaw();
    assert_eq!(one().await.unwrap(), 1);
    assert_eq!(pg.query_scalar::<i32>("SELECT 1").await, 1);
}
