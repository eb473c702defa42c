use super::*;

#[test]
fn half_the_connections_go_to_the_answering_threads() {
    assert_eq!(split_connections(8, 2), (2, 4));
    assert_eq!(split_connections(8, 1), (4, 4));
    assert_eq!(split_connections(20, 4), (2, 12));
}

#[test]
fn every_thread_and_the_store_runtime_get_at_least_one() {
    assert_eq!(split_connections(1, 2), (1, 1));
    assert_eq!(split_connections(4, 8), (1, 1));
    assert_eq!(split_connections(u32::MAX, u32::MAX), (1, 1));
}

#[test]
fn without_answering_threads_the_store_runtime_has_them_all() {
    assert_eq!(split_connections(1, 0), (0, 1));
    assert_eq!(split_connections(8, 0), (0, 8));
}

fn options() -> PgConnectOptions {
    "postgres://router@127.0.0.1:1/routing".parse().unwrap()
}

#[test]
fn a_single_threaded_runtime_keeps_one_pool_per_store() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let first = ThreadPools::new(2, options());
        let second = ThreadPools::new(2, options());
        let made = first.here().unwrap();
        assert_eq!(made.options().get_max_connections(), 2);
        // Asked again, the thread gives the same pool: closing the first closes it.
        made.close().await;
        assert!(first.here().unwrap().is_closed());
        // Another store on the same thread gets a pool of its own.
        let other = ThreadPools::new(3, options());
        assert_eq!(other.here().unwrap().options().get_max_connections(), 3);
        assert!(!second.here().unwrap().is_closed());
    });
}

#[test]
fn a_multi_threaded_runtime_or_no_runtime_uses_the_store_runtime() {
    let pools = ThreadPools::new(2, options());
    assert!(pools.here().is_none());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { assert!(pools.here().is_none()) });
}

#[test]
fn no_connections_to_share_means_no_thread_pool() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pools = ThreadPools::new(0, options());
    runtime.block_on(async { assert!(pools.here().is_none()) });
}

#[test]
fn after_a_failure_each_thread_starts_over_with_a_new_pool() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pools = ThreadPools::new(2, options());
        let before = pools.here().unwrap();
        before.close().await;
        pools.start_over();
        assert!(!pools.here().unwrap().is_closed());
    });
}
