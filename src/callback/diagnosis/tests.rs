use super::*;

fn urls(list: &[&str]) -> Vec<String> {
    list.iter().map(|u| u.to_string()).collect()
}

fn host(host: &str) -> Received<'_> {
    Received {
        host: Some(host),
        ..Received::default()
    }
}

#[test]
fn every_configured_url_is_listed_with_its_password_masked() {
    let diagnosis = diagnose(
        &urls(&[
            "https://router.example.com/assignment",
            "https://twilio:hunter2@fallback.example.com/assignment",
        ]),
        host("router.example.com"),
    );
    assert_eq!(
        diagnosis.urls_tried,
        "https://router.example.com/assignment, https://twilio:***@fallback.example.com/assignment"
    );
    assert!(!diagnosis.urls_tried.contains("hunter2"));
    assert_eq!(diagnosis.hint, None);
}

#[test]
fn another_host_is_the_hint() {
    let diagnosis = diagnose(
        &urls(&["http://127.0.0.1:8080/assignment"]),
        host("router.example.com"),
    );
    let hint = diagnosis.hint.unwrap();
    assert!(hint.contains("host router.example.com"), "{hint}");
    assert!(hint.contains("names 127.0.0.1"), "{hint}");
}

#[test]
fn the_listening_port_written_into_the_url_is_the_hint() {
    let diagnosis = diagnose(
        &urls(&["https://router.example.com:8080/assignment"]),
        host("router.example.com"),
    );
    let hint = diagnosis.hint.unwrap();
    assert!(hint.contains("port 443"), "{hint}");
    assert!(hint.contains("says port 8080"), "{hint}");
}

#[test]
fn a_scheme_told_by_the_proxy_is_compared() {
    let received = Received {
        host: Some("router.example.com"),
        forwarded_proto: Some("https"),
        forwarded_host: None,
    };
    let diagnosis = diagnose(&urls(&["http://router.example.com/assignment"]), received);
    let hint = diagnosis.hint.unwrap();
    assert!(hint.contains("https://"), "{hint}");
}

#[test]
fn a_forwarded_host_wins_over_host_and_matching_requests_get_no_hint() {
    let received = Received {
        host: Some("10.0.0.7:8080"),
        forwarded_proto: Some("https"),
        forwarded_host: Some("Router.Example.com"),
    };
    let diagnosis = diagnose(&urls(&["https://router.example.com/assignment"]), received);
    assert_eq!(diagnosis.hint, None);
    let ipv6 = diagnose(&urls(&["http://[::1]:8080/a"]), host("[::1]:8080"));
    assert_eq!(ipv6.hint, None);
}

#[test]
fn no_host_header_gives_no_hint() {
    let diagnosis = diagnose(&urls(&["https://a.example.com/x"]), Received::default());
    assert_eq!(diagnosis.hint, None);
}
