use super::*;

#[test]
fn a_success_is_confirmed_only_by_the_reservation_itself() {
    let ok = StatusCode::OK;
    let sid = "WR0123456789abcdef0123456789abcdef";
    let reservation = format!(r#"{{"sid":"{sid}","reservation_status":"accepted"}}"#);
    assert_eq!(confirm(ok, reservation.as_bytes(), sid), Landed::Confirmed);
    for body in [
        &b""[..],
        b"<html>captive portal</html>",
        b"{}",
        b"[1,2]",
        br#"{"sid":"WR-some-other"}"#,
        br#"{"sid":7}"#,
        b"\xff\xfe",
    ] {
        assert_eq!(
            confirm(StatusCode::CREATED, body, sid),
            Landed::Unconfirmed { status: 201 },
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn rate_limits_and_server_errors_are_retried() {
    for status in [429, 500, 502, 503] {
        let status = StatusCode::from_u16(status).unwrap();
        assert!(
            matches!(classify(status, None, b""), AttemptError::Retryable { .. }),
            "{status}"
        );
    }
}

#[test]
fn a_twilio_error_body_is_final_and_keeps_code_message_and_more_info() {
    let body = br#"{"code": 20001, "message": "Invalid DequeueFrom", "more_info": "https://www.twilio.com/docs/errors/20001", "status": 400}"#;
    assert_eq!(
        classify(StatusCode::BAD_REQUEST, None, body),
        AttemptError::Final {
            status: 400,
            code: Some(20001),
            message: Some("Invalid DequeueFrom".to_owned()),
            more_info: Some("https://www.twilio.com/docs/errors/20001".to_owned()),
        }
    );
}

#[test]
fn gone_and_not_pending_answers_mean_the_reservation_moved_on() {
    let not_pending = br#"{"code": 20001, "message": "Reservation WR123 is already in state [accepted] and cannot be updated to [accepted]"}"#;
    for (status, body) in [(410, &b""[..]), (400, &not_pending[..])] {
        let status = StatusCode::from_u16(status).unwrap();
        assert!(
            matches!(classify(status, None, body), AttemptError::MovedOn { .. }),
            "{status}"
        );
    }
}

#[test]
fn retry_after_is_read_as_seconds_or_a_date() {
    assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon"), None);
}

#[test]
fn a_404_means_the_task_is_gone_and_is_not_retried() {
    let body = br#"{"code": 20404, "message": "The requested resource was not found"}"#;
    assert_eq!(
        classify(StatusCode::NOT_FOUND, None, body),
        AttemptError::MovedOn {
            status: 404,
            message: "The requested resource was not found".to_owned(),
        }
    );
    assert!(matches!(
        classify(StatusCode::NOT_FOUND, None, b"<html>"),
        AttemptError::MovedOn { status: 404, .. }
    ));
}

#[test]
fn a_redirect_is_described_by_its_origin_only() {
    let request = Url::parse("https://taskrouter.twilio.com/v1/Workspaces/WS1").unwrap();
    assert_eq!(
        redirect_origin(&request, Some("https://evil.example:8443/steal?token=x")),
        "https://evil.example:8443"
    );
    assert_eq!(
        redirect_origin(&request, Some("/elsewhere")),
        "https://taskrouter.twilio.com"
    );
    assert_eq!(
        redirect_origin(&request, None),
        "nowhere (no Location header)"
    );
}
