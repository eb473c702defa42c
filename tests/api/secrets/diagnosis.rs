//! A service whose configured callback URLs hold passwords (`user:pass@`, which Twilio signs
//! and also sends as HTTP Basic auth), refusing callbacks every way a signature can fail:
//! the refusal's diagnosis names the URLs it tried, with every password masked, and nothing
//! it writes, at start (the `#fragment` line) or per callback, holds a password.

use super::*;
use crate::support::process::{Running, start};
use crate::support::twilio::basic_authorization;

const URL_PASSWORD: &str = "SECRET-urlpass-main-4b7e19c0d2a6";
const FALLBACK_PASSWORD: &str = "SECRET-urlpass-fallback-8d21f3";

/// One callback to send, and the status it must get.
struct Case<'a> {
    what: &'a str,
    body: String,
    signature: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
    status: u16,
}

/// POSTs the case's callback and records the answer; returns its status and body.
async fn post(audit: &mut Audit, service: &Running, case: &Case<'_>) -> (u16, String) {
    let response = service
        .post_with(&case.body, case.signature, &case.headers)
        .await;
    let status = response.status().as_u16();
    let head = format!("{:?}", response.headers());
    let text = response.text().await.unwrap();
    audit.record(
        format!("the answer to {}", case.what),
        format!("{status}\n{head}\n{text}"),
    );
    (status, text)
}

async fn refuse_every_way(format: Format) {
    // Arrange
    let mut audit = Audit::new();
    audit.forbid("the password in callback.public_url", URL_PASSWORD);
    audit.forbid("the password in callback.public_urls", FALLBACK_PASSWORD);
    let main_credentials = basic_authorization("twilio", URL_PASSWORD);
    let fallback_credentials = basic_authorization("fallback", FALLBACK_PASSWORD);
    audit.forbid(
        "the Basic auth Twilio sends for the main URL",
        &main_credentials,
    );
    audit.forbid(
        "the Basic auth Twilio sends for the fallback URL",
        &fallback_credentials,
    );
    let main_url = format!("https://twilio:{URL_PASSWORD}@router.example.com/assignment");
    let fallback_url =
        format!("https://fallback:{FALLBACK_PASSWORD}@fallback.example.com/assignment");
    let configured = format!("{main_url}#ct=3000&rc=2");
    let run = format!("{} logs", format.name());
    let mut service = start(verbose_command(
        RULES,
        format,
        &[
            ("APP_CALLBACK__PUBLIC_URL", &configured),
            ("APP_CALLBACK__PUBLIC_URLS", &fallback_url),
        ],
    ));
    let own_host = format!("127.0.0.1:{}", service.port);
    let signed = callback_for("inline", 20);
    let refused = callback_for("inline", 21);
    let body = encode(&refused);
    let good = audit.signature(
        "a signature over the main URL",
        AUTH_TOKEN,
        &main_url,
        &signed,
    );
    let fallback_signature = audit.signature(
        "a signature over the fallback URL",
        AUTH_TOKEN,
        &fallback_url,
        &refused,
    );
    let other_url = format!("https://twilio:{URL_PASSWORD}@other.example.com/assignment");
    let wrong_url = audit.signature(
        "a signature over an unlisted URL with the same password",
        AUTH_TOKEN,
        &other_url,
        &refused,
    );
    let basic = ("Authorization", main_credentials.as_str());
    let forged = forged_signature();
    let case = |what, body: &str, signature, headers, status| Case {
        what,
        body: body.to_owned(),
        signature,
        headers,
        status,
    };
    let signed_body = encode(&signed);
    let cases = [
        case(
            "a callback signed over the main URL",
            &signed_body,
            Some(good.as_str()),
            vec![basic],
            200,
        ),
        case(
            "a callback signed over the fallback URL",
            &body,
            Some(&fallback_signature),
            vec![("Authorization", fallback_credentials.as_str())],
            200,
        ),
        case(
            "a forged signature, straight to the service",
            &body,
            Some(&forged),
            vec![basic],
            403,
        ),
        case(
            "a forged signature for the configured host on another port",
            &body,
            Some(&forged),
            vec![basic, ("Host", "router.example.com:8443")],
            403,
        ),
        case(
            "a forged signature through a proxy saying http",
            &body,
            Some(&forged),
            vec![
                basic,
                ("X-Forwarded-Proto", "http"),
                ("X-Forwarded-Host", "router.example.com"),
            ],
            403,
        ),
        case(
            "a signature over an unlisted URL",
            &body,
            Some(&wrong_url),
            vec![basic, ("Host", "other.example.com")],
            403,
        ),
        case(
            "a garbled signature",
            &body,
            Some(GARBLED_SIGNATURE),
            vec![basic],
            403,
        ),
        case(
            "the good signature twice",
            &signed_body,
            Some(&good),
            vec![basic, ("X-Twilio-Signature", good.as_str())],
            403,
        ),
        case("no signature", &body, None, vec![basic], 403),
    ];

    // Act
    for case in &cases {
        let (status, text) = post(&mut audit, &service, case).await;
        assert_eq!(status, case.status, "{run}: {}: {text}", case.what);
    }
    let status = service.terminate();
    let (stdout, stderr) = service.transcript();
    audit.record(format!("the service's stdout ({run})"), stdout.clone());
    audit.record(format!("the service's stderr ({run})"), stderr.clone());

    // Assert: the refusals were diagnosed, naming the URLs with their passwords masked ...
    assert_eq!(status.code(), Some(0), "{run}: {stderr}");
    let plain = strip_ansi(&stdout);
    for expected in [
        "#fragment",
        "callback refused",
        "urls_tried",
        "https://twilio:***@router.example.com/assignment",
        "https://fallback:***@fallback.example.com/assignment",
        own_host.as_str(),
        "hint",
        "port 8443",
    ] {
        assert!(
            plain.contains(expected),
            "{run}: no {expected:?} in:\n{plain}"
        );
    }
    // ... and nothing holds a password, a token or a signature.
    audit.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_of_a_configured_url_is_printed_when_signatures_are_refused() {
    for format in Format::BOTH {
        refuse_every_way(format).await;
    }
}
