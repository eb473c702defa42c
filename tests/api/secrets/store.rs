//! The shared store's URL carries the database password: it must appear nowhere, whether the
//! store works, is unreachable, or its URL is refused, and whatever command reads it
//! (`serve`, `migrate`, `check`).

use std::net::TcpListener;
use std::time::{Duration, Instant};

use super::*;
use crate::store::Twilio;
use crate::support::postgres::Postgres;
use crate::support::process::{Running, start};

const DATABASE_PASSWORD: &str = "SECRET-dbpass-4e7a90c2d15b";

/// The server's URL with the password in it (the test server trusts every local login, so
/// any password is accepted, and this one is still configured and carried everywhere).
fn with_password(pg: &Postgres) -> String {
    format!(
        "postgres://postgres:{DATABASE_PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
        pg.port()
    )
}

/// A URL with the password for a port nothing listens on.
fn unreachable_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("postgres://router:{DATABASE_PASSWORD}@127.0.0.1:{port}/router")
}

async fn post_rest(audit: &mut Audit, service: &Running, what: &str, reservation: usize) {
    let pairs = callback_for("rest", reservation);
    let signature = audit.signature(
        "a signature made with the auth token",
        AUTH_TOKEN,
        PUBLIC_URL,
        &pairs,
    );
    let response = service.post(&encode(&pairs), Some(&signature)).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    audit.record(format!("the answer to {what}"), format!("{status}\n{text}"));
    assert_eq!((status, text.as_str()), (200, "{}"), "{what}");
}

async fn record_metrics(audit: &mut Audit, service: &Running, what: &str) -> String {
    let metrics = reqwest::get(format!("{}/metrics", service.admin_address()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    audit.record(format!("the metrics of {what}"), metrics.clone());
    metrics
}

fn stop_recorded(audit: &mut Audit, mut service: Running, what: &str) {
    assert!(service.terminate().success(), "{what} did not stop cleanly");
    let (stdout, stderr) = service.transcript();
    audit.record(format!("the stdout of {what}"), stdout);
    audit.record(format!("the stderr of {what}"), stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_password_is_never_printed() {
    // Arrange
    let Some(pg) = Postgres::start().await else {
        return;
    };
    let twilio = Twilio::start().await;
    let mut audit = Audit::new();
    audit.forbid("the database password", DATABASE_PASSWORD);
    let store_url = with_password(&pg);
    let unreachable = unreachable_url();
    let base = twilio.uri();
    let mut reservation = 100;

    for format in Format::BOTH {
        let run = |what: &str| format!("{what} ({} logs)", format.name());

        // Act: a working store, then one that cannot be reached.
        for (url, kind) in [
            (&store_url, "a working store"),
            (&unreachable, "an unreachable store"),
        ] {
            let what = run(&format!("the service on {kind}"));
            let service = start(verbose_command(
                RULES,
                format,
                &[
                    ("APP_STORE__URL", url.as_str()),
                    ("APP_TWILIO__API_BASE_URL", base.as_str()),
                    ("APP_STORE__LEASE_SECS", "1"),
                ],
            ));
            for _ in 0..3 {
                reservation += 1;
                post_rest(&mut audit, &service, &what, reservation).await;
            }
            let until = Instant::now() + Duration::from_secs(10);
            loop {
                let metrics = record_metrics(&mut audit, &service, &what).await;
                let landed = metrics
                    .lines()
                    .find(|line| {
                        line.starts_with("assignment_router_rest_updates_total{outcome=\"landed\"}")
                    })
                    .and_then(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
                    .unwrap_or(0);
                if landed >= 3 {
                    break;
                }
                assert!(Instant::now() < until, "{what}: the updates did not land");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            stop_recorded(&mut audit, service, &what);
        }

        // migrate, against both, and check.
        for (url, kind, code) in [
            (&store_url, "a working store", 0),
            (&unreachable, "an unreachable store", 1),
        ] {
            let mut migrate = verbose_command(RULES, format, &[("APP_STORE__URL", url.as_str())]);
            migrate.arg("migrate");
            let what = run(&format!("migrate on {kind}"));
            let (exit, stdout, stderr) = run_recorded(&mut audit, &what, migrate);
            assert_eq!(exit, Some(code), "{what}: {stdout}{stderr}");
        }
        let mut check = verbose_command(RULES, format, &[("DATABASE_URL", store_url.as_str())]);
        check.arg("check");
        let what = run("check with DATABASE_URL");
        let (exit, stdout, stderr) = run_recorded(&mut audit, &what, check);
        assert_eq!(exit, Some(0), "{what}: {stdout}{stderr}");
        assert!(
            stdout.contains("store: shared, PostgreSQL at 127.0.0.1:"),
            "{what}: {stdout}"
        );

        // A URL that cannot work stops the start, and `check`, naming the setting.
        let refused_url = format!("{store_url}&sslmode=sometimes");
        let settings = [("APP_STORE__URL", refused_url.as_str())];
        let what = run("the start with an sslmode that does not exist");
        let (exit, stdout, stderr) =
            run_recorded(&mut audit, &what, verbose_command(RULES, format, &settings));
        assert_eq!(exit, Some(1), "{what}: {stdout}{stderr}");
        assert!(
            format!("{stdout}{stderr}").contains("setting `store.url`"),
            "{what}: {stdout}{stderr}"
        );
        let mut check = verbose_command(RULES, format, &settings);
        check.arg("check");
        let what = run("check with an sslmode that does not exist");
        let (exit, stdout, stderr) = run_recorded(&mut audit, &what, check);
        assert_eq!(exit, Some(1), "{what}: {stdout}{stderr}");
    }

    // Assert
    audit.assert_clean();
    assert!(
        audit.audited_bytes() > 50_000,
        "too little was audited to mean anything"
    );
}
