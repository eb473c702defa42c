use std::sync::Arc;

use secrecy::SecretString;

use super::*;

fn open(url: &str) -> Result<SharedStore, ConfigError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = SharedStore::open(
        &SecretString::from(url.to_owned()),
        2,
        1,
        runtime.handle().clone(),
        Arc::new(Metrics::new()),
    );
    // The pool is lazy: nothing ran on the runtime, so it may go.
    drop(runtime);
    store
}

#[test]
fn the_target_names_host_port_and_database_but_no_credentials() {
    let store =
        open("postgres://router:s3cret-pw@db.internal:6543/routing?sslmode=require").unwrap();
    assert_eq!(store.target(), "db.internal:6543/routing");
    let debug = format!("{store:?}");
    assert!(!debug.contains("s3cret-pw"), "{debug}");
    assert!(!debug.contains("router:"), "{debug}");
}

#[test]
fn an_unknown_sslmode_is_refused_in_words_without_the_password() {
    let error = open("postgres://router:s3cret-pw@db/routing?sslmode=sometimes")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("setting `store.url`"), "{error}");
    assert!(error.contains("sometimes"), "{error}");
    assert!(!error.contains("s3cret-pw"), "{error}");
}

#[test]
fn every_libpq_sslmode_is_understood() {
    for mode in [
        "disable",
        "allow",
        "prefer",
        "require",
        "verify-ca",
        "verify-full",
    ] {
        let url = format!("postgres://router@db/routing?sslmode={mode}");
        assert!(open(&url).is_ok(), "{mode}");
    }
}

#[test]
fn migrations_are_numbered_in_order_from_one() {
    let versions: Vec<i32> = migrations::MIGRATIONS.iter().map(|m| m.version).collect();
    let expected: Vec<i32> = (1..=versions.len() as i32).collect();
    assert_eq!(versions, expected);
}
