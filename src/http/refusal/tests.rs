use super::*;
use crate::callback::CallbackError;
use crate::callback::form::FormError;
use crate::callback::signature::SignatureError;

#[test]
fn every_refusal_has_the_status_and_label_of_the_contract() {
    let cases = [
        (
            AssignmentError::UnsupportedMediaType,
            415,
            "unsupported_media_type",
        ),
        (AssignmentError::TooLarge(10), 413, "payload_too_large"),
        (AssignmentError::TooSlow(5), 408, "request_timeout"),
        (
            AssignmentError::Signature(SignatureError::Missing),
            403,
            "forbidden",
        ),
        (
            AssignmentError::Unreadable("reset".into()),
            400,
            "bad_request",
        ),
        (
            AssignmentError::Form(FormError::TooManyPairs(1000)),
            400,
            "bad_request",
        ),
        (
            AssignmentError::Callback(CallbackError::Missing("ReservationSid")),
            400,
            "bad_request",
        ),
    ];
    for (error, status, label) in cases {
        let (got_status, got_label) = classify(&error);
        assert_eq!(got_status.as_u16(), status, "{error:?}");
        assert_eq!(got_label, label, "{error:?}");
        assert_eq!(error.status_code().as_u16(), status, "{error:?}");
    }
}

#[test]
fn a_refused_signature_answers_with_an_empty_body_and_others_say_why() {
    let forged = AssignmentError::Signature(SignatureError::Mismatch).error_response();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.headers().get("content-type").is_none());
    let missing = AssignmentError::Callback(CallbackError::Missing("TaskSid")).error_response();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        missing
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap()),
        Some("text/plain; charset=utf-8")
    );
}

#[test]
fn every_label_here_has_its_series_from_start() {
    use crate::telemetry::metrics::{REFUSALS, SIGNATURE_FAILURES};
    let refusals = [
        AssignmentError::UnsupportedMediaType,
        AssignmentError::TooLarge(1),
        AssignmentError::TooSlow(1),
        AssignmentError::Signature(SignatureError::Missing),
        AssignmentError::Unreadable(String::new()),
    ];
    for error in &refusals {
        assert!(REFUSALS.contains(&classify(error).1), "{error:?}");
    }
    for failure in [
        SignatureError::Missing,
        SignatureError::Malformed,
        SignatureError::Mismatch,
        SignatureError::BodyHashMismatch,
        SignatureError::Repeated,
    ] {
        assert!(
            SIGNATURE_FAILURES.contains(&failure.reason()),
            "{failure:?}"
        );
    }
}
