//! A service driven through every callback path (inline answers, REST updates landing,
//! refused, retried and moved on, forged, garbled and missing signatures, bodies that are
//! not forms), its admin pages, `healthcheck` against it, then SIGTERM: one run per log
//! format and REST authentication, everything it wrote audited.

use std::time::Duration;

use wiremock::MockServer;

use super::*;
use crate::support::process::{Running, start};
use crate::support::twilio::{basic_authorization, mount_reservation_stories, wait_for_requests};

/// How the service authenticates its REST updates.
#[derive(Debug, Clone, Copy)]
enum RestAuth {
    AccountAndToken,
    ApiKey,
}

/// POSTs a callback body with this signature header (or none) and records the answer.
async fn post(
    audit: &mut Audit,
    service: &Running,
    what: &str,
    body: &str,
    signature: Option<&str>,
) -> (u16, String) {
    let response = service.post(body, signature).await;
    let status = response.status().as_u16();
    let headers = format!("{:?}", response.headers());
    let text = response.text().await.unwrap();
    audit.record(
        format!("the answer to {what}"),
        format!("{status}\n{headers}\n{text}"),
    );
    (status, text)
}

/// Drives one service through every callback path, stops it with SIGTERM, and checks that
/// it was verbose and that nothing it wrote holds a secret.
async fn serve_every_callback_path(format: Format, auth: RestAuth) {
    // Arrange
    let mut audit = Audit::new();
    let twilio = MockServer::start().await;
    let authorization = match auth {
        RestAuth::AccountAndToken => basic_authorization(ACCOUNT_SID, AUTH_TOKEN),
        RestAuth::ApiKey => basic_authorization(API_KEY, API_SECRET),
    };
    let expected_updates = mount_reservation_stories(&twilio, &authorization).await;
    let base = twilio.uri();
    let mut settings = vec![
        ("APP_TWILIO__API_BASE_URL", base.as_str()),
        ("APP_TWILIO__UPDATE_DEADLINE_SECS", "20"),
    ];
    if let RestAuth::ApiKey = auth {
        settings.extend([
            ("TWILIO_API_KEY", API_KEY),
            ("TWILIO_API_SECRET", API_SECRET),
        ]);
    }
    let run = format!("{} logs, {auth:?}", format.name());
    let mut service = start(verbose_command(RULES, format, &settings));
    let own_url = format!("http://127.0.0.1:{}/assignment", service.port);

    let inline = callback_for("inline", 10);
    let inline_again = callback_for("inline", 11);
    let rest: Vec<_> = (1..=5).map(|n| callback_for("rest", n)).collect();
    let refused = callback_for("inline", 12);
    let mut tampered = refused.clone();
    tampered[0].1 = "AC00000000000000000000000000000000".to_owned();
    let mut no_reservation = callback_for("inline", 13);
    no_reservation.retain(|(key, _)| key != "ReservationSid");

    let current = |audit: &mut Audit, pairs: &[(String, String)]| {
        audit.signature(
            "a signature made with the auth token",
            AUTH_TOKEN,
            PUBLIC_URL,
            pairs,
        )
    };
    let previous = |audit: &mut Audit, pairs: &[(String, String)]| {
        audit.signature(
            "a signature made with the previous token",
            PREVIOUS_TOKEN,
            PUBLIC_URL,
            pairs,
        )
    };
    let cases: Vec<(&str, String, Option<String>, u16, &str)> = vec![
        (
            "an inline callback signed with the auth token",
            encode(&inline),
            Some(current(&mut audit, &inline)),
            200,
            "\"instruction\":\"dequeue\"",
        ),
        (
            "an inline callback signed with the previous token",
            encode(&inline_again),
            Some(previous(&mut audit, &inline_again)),
            200,
            "\"instruction\":\"dequeue\"",
        ),
        (
            "a REST callback whose update lands",
            encode(&rest[0]),
            Some(current(&mut audit, &rest[0])),
            200,
            "{}",
        ),
        (
            "a REST callback, signed with the previous token, whose update is refused",
            encode(&rest[1]),
            Some(previous(&mut audit, &rest[1])),
            200,
            "{}",
        ),
        (
            "a REST callback whose update meets a 500",
            encode(&rest[2]),
            Some(current(&mut audit, &rest[2])),
            200,
            "{}",
        ),
        (
            "a REST callback whose update meets a 429",
            encode(&rest[3]),
            Some(current(&mut audit, &rest[3])),
            200,
            "{}",
        ),
        (
            "a REST callback, signed with the previous token, whose Reservation moved on",
            encode(&rest[4]),
            Some(previous(&mut audit, &rest[4])),
            200,
            "{}",
        ),
        (
            "the first REST callback again",
            encode(&rest[0]),
            Some(current(&mut audit, &rest[0])),
            200,
            "{}",
        ),
        (
            "a callback with a forged signature",
            encode(&refused),
            Some(forged_signature()),
            403,
            "",
        ),
        (
            "a callback with a signature that is not base64",
            encode(&refused),
            Some(GARBLED_SIGNATURE.to_owned()),
            403,
            "",
        ),
        (
            "a callback signed with a wrong token",
            encode(&refused),
            Some(audit.signature(
                "a signature made with a wrong token",
                WRONG_TOKEN,
                PUBLIC_URL,
                &refused,
            )),
            403,
            "",
        ),
        (
            "a callback signed with the auth token over the wrong URL",
            encode(&refused),
            Some(audit.signature(
                "a signature made over the wrong URL",
                AUTH_TOKEN,
                &own_url,
                &refused,
            )),
            403,
            "",
        ),
        (
            "a callback changed after it was signed",
            encode(&tampered),
            Some(current(&mut audit, &refused)),
            403,
            "",
        ),
        (
            "a callback with no signature",
            encode(&refused),
            None,
            403,
            "",
        ),
        (
            "a body that is not a form, with a good signature header",
            "TaskSid=%zz&ReservationSid=WR1".to_owned(),
            Some(current(&mut audit, &refused)),
            400,
            "",
        ),
        (
            "a signed callback without a ReservationSid",
            encode(&no_reservation),
            Some(current(&mut audit, &no_reservation)),
            400,
            "ReservationSid",
        ),
    ];

    // Act
    for (what, body, signature, expected_status, expected_body) in &cases {
        let (status, text) = post(&mut audit, &service, what, body, signature.as_deref()).await;
        assert_eq!(status, *expected_status, "{run}: {what}: {text}");
        assert!(
            text.contains(expected_body),
            "{run}: {what}: expected {expected_body:?} in {text:?}"
        );
    }
    let admin = format!("http://127.0.0.1:{}", service.admin_port);
    for page in ["/metrics", "/health", "/ready"] {
        let response = reqwest::get(format!("{admin}{page}")).await.unwrap();
        assert_eq!(response.status(), 200, "{run}: {page}");
        let text = response.text().await.unwrap();
        audit.record(format!("the admin page {page}"), text);
    }
    let port = service.port.to_string();
    let mut healthcheck_settings = settings.clone();
    healthcheck_settings.push(("APP_SERVER__PORT", &port));
    let mut healthcheck = verbose_command(RULES, format, &healthcheck_settings);
    healthcheck.arg("healthcheck");
    let (healthcheck_code, _, _) = run_recorded(&mut audit, "healthcheck", healthcheck);
    let received = wait_for_requests(&twilio, expected_updates, Duration::from_secs(10))
        .await
        .len();
    let status = service.terminate();
    let (stdout, stderr) = service.transcript();
    audit.record("the service's stdout", stdout.clone());
    audit.record("the service's stderr", stderr.clone());

    // Assert: the run did what it should, verbosely, ...
    assert_eq!(healthcheck_code, Some(0), "{run}: healthcheck");
    assert_eq!(
        status.code(),
        Some(0),
        "{run}: a SIGTERM stop is a clean exit: {stderr}"
    );
    assert_eq!(
        received, expected_updates,
        "{run}: every update reached Twilio"
    );
    twilio.verify().await;
    let plain = strip_ansi(&stdout);
    let trace_lines = plain.lines().filter(|line| line.contains("TRACE")).count();
    assert!(
        trace_lines >= 20,
        "{run}: only {trace_lines} trace lines:\n{plain}"
    );
    for expected in [
        "actix_http::h1",
        "hyper_util::client",
        "reqwest::connect",
        "callback answered",
        "callback refused",
        "reservation already decided",
        "reservation update will be retried",
        "reservation update refused by Twilio",
        "20001",
        "reservation update not applied: the reservation has moved on",
        // The service's own signal handling (registered before `listening`), not actix's.
        "stopping: no new connections",
        "SIGTERM",
        "stopped",
    ] {
        assert!(
            plain.contains(expected),
            "{run}: no {expected:?} in:\n{plain}"
        );
    }
    assert_eq!(
        plain.matches("reservation update landed").count(),
        3,
        "{run}:\n{plain}"
    );
    // ... and nothing it wrote holds a secret.
    audit.assert_clean();
    assert!(
        audit.audited_bytes() > 10_000,
        "{run}: too little output to audit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_printed_on_any_callback_path_when_updates_use_the_auth_token() {
    for format in Format::BOTH {
        serve_every_callback_path(format, RestAuth::AccountAndToken).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_printed_on_any_callback_path_when_updates_use_an_api_key() {
    for format in Format::BOTH {
        serve_every_callback_path(format, RestAuth::ApiKey).await;
    }
}
