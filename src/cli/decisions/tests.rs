use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::thread::{self, JoinHandle};

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::decisions::OutcomeRecord;

const WR: &str = "WR0123456789abcdef0123456789abcdef";
const OTHER_WR: &str = "WRfedcba9876543210fedcba9876543210";

fn record(sid: &str) -> DecisionRecord {
    DecisionRecord {
        decided_at: "2026-12-01T15:00:00.123Z".to_owned(),
        reservation_sid: sid.to_owned(),
        task_sid: "WT0123456789abcdef0123456789abcdef".to_owned(),
        worker_sid: "WK0123456789abcdef0123456789abcdef".to_owned(),
        workspace_sid: "WS0123456789abcdef0123456789abcdef".to_owned(),
        workflow_sid: None,
        rule: "vip".to_owned(),
        instruction: "accept".to_owned(),
        delivery: "inline".to_owned(),
        answer: json!({"instruction": "accept"}),
        form: None,
        revision: "3f2a9c".to_owned(),
        trace: vec!["rule \"vip\": answers".to_owned()],
        shadows: Vec::new(),
        update: None,
        outcomes: vec![OutcomeRecord {
            outcome: "accepted".to_owned(),
            at: "2026-12-01T15:00:01.323Z".to_owned(),
            after_ms: 1_200,
        }],
    }
}

fn json_answer(sid: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&record(sid)).unwrap();
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}

fn text_answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A server for `count` connections: reads each request's head, answers with what `respond`
/// makes of its request line, and closes. Hands back the request heads it read.
fn spawn_server(
    count: usize,
    respond: impl Fn(&str) -> Vec<u8> + Send + 'static,
) -> (SocketAddr, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let mut heads = Vec::new();
        for _ in 0..count {
            let (mut stream, _) = listener.accept().unwrap();
            let head = read_head(&mut stream);
            let request_line = head.lines().next().unwrap_or("").to_owned();
            stream.write_all(&respond(&request_line)).unwrap();
            heads.push(head);
        }
        heads
    });
    (address, handle)
}

fn read_head(stream: &mut TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            return head;
        }
        head.push_str(&line);
    }
}

fn admin(address: SocketAddr, token: Option<&SecretString>) -> Admin<'_> {
    Admin {
        address,
        token,
        timeout: Duration::from_secs(3),
    }
}

fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// `report`'s stdout and stderr, and whether every record was found.
fn run_report(admin: &Admin<'_>, sids: &[&str], output: Output) -> (String, String, bool) {
    let sids: Vec<String> = sids.iter().map(|s| (*s).to_owned()).collect();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let all_found = report(admin, &sids, output, &mut out, &mut err).unwrap();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        all_found,
    )
}

// --- the ReservationSid's shape ---

#[test]
fn a_malformed_sid_is_refused_without_a_request() {
    // Arrange: nothing listens, so a request would show as a connection error.
    let address = closed_port();
    let cases = [
        "",
        "WR",
        "WR0123456789abcdef0123456789abcde",
        "WR0123456789abcdef0123456789abcdef0",
        "WT0123456789abcdef0123456789abcdef",
        "wr0123456789abcdef0123456789abcdef",
        "WR0123456789abcdef0123456789abcdeg",
        "WR0123456789abcdef0123456789abcdé",
        "WR0123456789abcdef/../../metrics?a",
        "WR0123456789abcdef\r\nHost: evil\r\n",
    ];
    for sid in cases {
        // Act
        let (out, err, all_found) = run_report(&admin(address, None), &[sid], Output::Text);

        // Assert
        assert!(!all_found, "{sid:?}");
        assert_eq!(out, "", "{sid:?}");
        assert!(
            err.starts_with("error: ") && err.contains("is not a ReservationSid"),
            "{sid:?}: {err}"
        );
        assert!(
            !err.contains("nothing listens"),
            "{sid:?} was asked for: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{sid:?}: one line: {err}");
    }
}

#[test]
fn a_well_formed_sid_passes_the_check() {
    assert!(is_sid(WR, "WR"));
    assert!(is_sid("WR0123456789ABCDEF0123456789ABCDEF", "WR"));
}

// --- where the admin listener is ---

#[test]
fn a_wildcard_host_is_asked_on_loopback() {
    assert_eq!(
        admin_address("0.0.0.0", 9090).unwrap(),
        "127.0.0.1:9090".parse().unwrap()
    );
    assert_eq!(
        admin_address("::", 9090).unwrap(),
        "[::1]:9090".parse().unwrap()
    );
    assert_eq!(
        admin_address("10.1.2.3", 9090).unwrap(),
        "10.1.2.3:9090".parse().unwrap()
    );
    assert!(admin_address("localhost", 9090).unwrap().ip().is_loopback());
}

#[test]
fn an_unresolvable_host_is_named() {
    let error = admin_address("no-such-host.invalid", 9090).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot resolve admin.host `no-such-host.invalid`"
    );
}

// --- the request ---

#[test]
fn the_request_asks_for_the_record_and_closes() {
    // Act
    let request = request("127.0.0.1:9090".parse().unwrap(), WR, None).unwrap();

    // Assert
    let text = String::from_utf8(request).unwrap();
    assert!(
        text.starts_with(&format!("GET /decisions/{WR} HTTP/1.1\r\n")),
        "{text}"
    );
    assert!(text.contains("\r\nHost: 127.0.0.1:9090\r\n"), "{text}");
    assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
    assert!(!text.contains("Authorization"), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "{text}");
}

#[test]
fn the_token_goes_into_the_header_only() {
    // Arrange
    let token = SecretString::from("s3cr3t-token");

    // Act
    let request = request("[::1]:9090".parse().unwrap(), WR, Some(&token)).unwrap();

    // Assert
    let text = String::from_utf8(request).unwrap();
    assert!(text.contains("\r\nHost: [::1]:9090\r\n"), "{text}");
    assert!(
        text.contains("\r\nAuthorization: Bearer s3cr3t-token\r\n"),
        "{text}"
    );
    assert!(!format!("{:?}", admin(closed_port(), Some(&token))).contains("s3cr3t"));
}

#[test]
fn a_token_with_a_line_break_is_not_sent_and_not_shown() {
    // Arrange
    let token = SecretString::from("s3cr3t\r\nX-Injected: 1");

    // Act
    let error = request("127.0.0.1:9090".parse().unwrap(), WR, Some(&token)).unwrap_err();

    // Assert
    assert!(matches!(error, LookupError::TokenUnsendable));
    assert!(error.applies_to_all());
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("admin.bearer_token"), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

// --- reading the answer ---

#[test]
fn a_content_length_body_is_read_to_its_length() {
    // Arrange
    let bytes = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello, and more";

    // Act
    let response = parse(bytes, false).unwrap().unwrap();

    // Assert
    assert_eq!(response.status, 404);
    assert_eq!(response.reason, "Not Found");
    assert_eq!(
        response.headers,
        [
            ("Content-Type".to_owned(), "text/plain".to_owned()),
            ("Content-Length".to_owned(), "5".to_owned()),
        ]
    );
    assert_eq!(response.body, b"hello");
}

#[test]
fn a_chunked_body_is_joined_with_extensions_and_trailers_passed_over() {
    // Arrange
    let bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                  5;name=value\r\nhello\r\n\
                  7\r\n, world\r\n\
                  0\r\nX-Trailer: yes\r\n\r\n";

    // Act
    let response = parse(bytes, true).unwrap().unwrap();

    // Assert
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"hello, world");
}

#[test]
fn chunked_wins_over_content_length() {
    let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n\
                  3\r\nabc\r\n0\r\n\r\n";
    assert_eq!(parse(bytes, true).unwrap().unwrap().body, b"abc");
}

#[test]
fn a_body_with_no_framing_ends_with_the_connection() {
    // Arrange
    let bytes = b"HTTP/1.0 200 OK\r\n\r\n{\"a\":1}";

    // Act / Assert
    assert_eq!(parse(bytes, false).unwrap(), None);
    assert_eq!(parse(bytes, true).unwrap().unwrap().body, b"{\"a\":1}");
}

#[test]
fn no_body_is_read_for_204_and_interim_answers_are_passed_over() {
    // Arrange
    let bytes = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";

    // Act
    let response = parse(bytes, false).unwrap().unwrap();

    // Assert
    assert_eq!(response.status, 204);
    assert!(response.body.is_empty());
}

#[test]
fn a_status_line_with_no_reason_is_read() {
    let response = parse(b"HTTP/1.1 401\r\ncontent-length: 0\r\n\r\n", false)
        .unwrap()
        .unwrap();
    assert_eq!((response.status, response.reason.as_str()), (401, ""));
}

#[test]
fn each_partial_answer_waits_for_more_or_is_truncated() {
    // Arrange
    let whole: &[&[u8]] = &[
        &json_answer(WR),
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ];
    for bytes in whole {
        assert!(parse(bytes, true).unwrap().is_some());
        for cut in 0..bytes.len() {
            // Act
            let open = parse(&bytes[..cut], false);
            let closed = parse(&bytes[..cut], true);

            // Assert
            assert_eq!(open, Ok(None), "cut at {cut}");
            let expected = if cut == 0 {
                ResponseError::Empty
            } else {
                ResponseError::Truncated
            };
            assert_eq!(closed, Err(expected), "cut at {cut}");
        }
    }
}

#[test]
fn garbage_and_malformed_answers_are_errors() {
    let cases: &[(&[u8], ResponseError)] = &[
        (b"SSH-2.0-OpenSSH_9.6\r\n", ResponseError::NotHttp),
        (b"\x16\x03\x01\x02\x00", ResponseError::NotHttp),
        (b"<html>", ResponseError::NotHttp),
        (
            b"HTTP/2 200\r\n\r\n",
            ResponseError::StatusLine("HTTP/2 200".to_owned()),
        ),
        (
            b"HTTP/1.1 2000 OK\r\n\r\n",
            ResponseError::StatusLine("HTTP/1.1 2000 OK".to_owned()),
        ),
        (
            b"HTTP/1.1 abc OK\r\n\r\n",
            ResponseError::StatusLine("HTTP/1.1 abc OK".to_owned()),
        ),
        (
            b"HTTP/1.1\r\n\r\n",
            ResponseError::StatusLine("HTTP/1.1".to_owned()),
        ),
        (
            b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            ResponseError::Header,
        ),
        (
            b"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n",
            ResponseError::Header,
        ),
        (
            b"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n",
            ResponseError::Header,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            ResponseError::ContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab",
            ResponseError::ContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            ResponseError::ContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
            ResponseError::ContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n",
            ResponseError::TooLarge,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            ResponseError::TransferEncoding("gzip".to_owned()),
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            ResponseError::Chunk,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
            ResponseError::Chunk,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n",
            ResponseError::Chunk,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
            ResponseError::Chunk,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
            ResponseError::TooLarge,
        ),
    ];
    for (bytes, expected) in cases {
        let shown = String::from_utf8_lossy(bytes);
        assert_eq!(
            parse(bytes, true).as_ref().err(),
            Some(expected),
            "{shown:?}"
        );
    }
}

#[test]
fn a_status_line_is_quoted_printable() {
    let error = parse(b"HTTP/1.1 2x0 \x1b[31mred\r\n\r\n", true).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`HTTP/1.1 2x0 \\u{1b}[31mred` is not an HTTP/1.x status line"
    );
}

#[test]
fn a_head_that_never_ends_is_too_large() {
    let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES + 1));
    assert_eq!(parse(&bytes, false), Err(ResponseError::TooLarge));
}

proptest! {
    #[test]
    fn any_bytes_are_read_without_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes, true);
        let _ = parse(&bytes, false);
    }

    #[test]
    fn any_bytes_after_a_chunked_head_are_read_without_a_panic(
        tail in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'0'), Just(b'5'), Just(b';'), any::<u8>()],
            0..256,
        )
    ) {
        let mut bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        bytes.extend(tail);
        let _ = parse(&bytes, true);
        let _ = parse(&bytes, false);
    }
}

// --- against a server ---

#[test]
fn a_record_is_fetched_with_the_token_and_printed_as_text() {
    // Arrange
    let token = SecretString::from("s3cr3t-token");
    let (address, server) = spawn_server(1, |_| {
        // As actix streams it: chunked, in two pieces.
        let body = serde_json::to_vec(&record(WR)).unwrap();
        let (first, second) = body.split_at(body.len() / 2);
        let mut answer =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_vec();
        for piece in [first, second] {
            answer.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            answer.extend_from_slice(piece);
            answer.extend_from_slice(b"\r\n");
        }
        answer.extend_from_slice(b"0\r\n\r\n");
        answer
    });

    // Act
    let (out, err, all_found) = run_report(&admin(address, Some(&token)), &[WR], Output::Text);

    // Assert
    assert!(all_found, "{err}");
    assert_eq!(err, "");
    let expected: String = text::lines(&record(WR))
        .iter()
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(out, expected);
    let heads = server.join().unwrap();
    assert!(
        heads[0].starts_with(&format!("GET /decisions/{WR} HTTP/1.1\r\n")),
        "{heads:?}"
    );
    assert!(
        heads[0].contains("Authorization: Bearer s3cr3t-token\r\n"),
        "{heads:?}"
    );
}

#[test]
fn a_missing_record_is_reported_and_the_next_one_is_looked_up() {
    // Arrange
    let (address, server) = spawn_server(3, |request_line| {
        if request_line.contains(WR) {
            text_answer(
                "404 Not Found",
                "no decision is recorded for this Reservation",
            )
        } else {
            json_answer(OTHER_WR)
        }
    });

    // Act
    let (out, err, all_found) = run_report(
        &admin(address, None),
        &[OTHER_WR, WR, OTHER_WR],
        Output::Text,
    );

    // Assert
    assert!(!all_found);
    assert_eq!(
        err,
        format!(
            "error: no decision is recorded for {WR} (records are kept for the last \
             decisions.keep decisions, or decisions.keep_hours in the shared store)\n"
        )
    );
    let one: Vec<String> = text::lines(&record(OTHER_WR));
    let expected = format!("{}\n\n{}\n", one.join("\n"), one.join("\n"));
    assert_eq!(out, expected);
    let heads = server.join().unwrap();
    assert!(!heads[0].contains("Authorization"), "{heads:?}");
}

#[test]
fn json_output_is_one_array_of_the_records_found() {
    // Arrange
    let (address, _server) = spawn_server(2, |request_line| {
        if request_line.contains(WR) {
            text_answer("404 Not Found", "no decision")
        } else {
            json_answer(OTHER_WR)
        }
    });

    // Act
    let (out, err, all_found) = run_report(
        &admin(address, None),
        &[OTHER_WR, "WRnot-a-sid", WR],
        Output::Json,
    );

    // Assert
    assert!(!all_found);
    assert_eq!(err.lines().count(), 2, "{err}");
    let records: Vec<DecisionRecord> = serde_json::from_str(&out).unwrap();
    assert_eq!(records, [record(OTHER_WR)]);
    assert!(out.starts_with("[\n  {"), "pretty-printed: {out}");
}

#[test]
fn json_output_with_nothing_found_is_an_empty_array() {
    let (out, _, all_found) = run_report(&admin(closed_port(), None), &[WR], Output::Json);
    assert!(!all_found);
    assert_eq!(out, "[]\n");
}

#[test]
fn a_refused_token_stops_the_run_and_is_not_shown() {
    // Arrange
    let token = SecretString::from("s3cr3t-token");
    let (address, _server) = spawn_server(1, |_| text_answer("401 Unauthorized", "bad token"));

    // Act
    let (out, err, all_found) = run_report(
        &admin(address, Some(&token)),
        &[WR, OTHER_WR, OTHER_WR],
        Output::Text,
    );

    // Assert
    assert!(!all_found);
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "error: the admin listener at {address} refused the bearer token: \
             admin.bearer_token (or APP_ADMIN__BEARER_TOKEN) is not the one the service runs \
             with\nnote: 2 more Reservations not looked up\n"
        )
    );
    assert!(!err.contains("s3cr3t"));
}

#[test]
fn a_needed_token_names_the_setting() {
    // Arrange
    let (address, _server) = spawn_server(1, |_| text_answer("401 Unauthorized", "no token"));

    // Act
    let (_, err, _) = run_report(&admin(address, None), &[WR], Output::Text);

    // Assert
    assert_eq!(
        err,
        format!(
            "error: the admin listener at {address} needs a bearer token: set \
             admin.bearer_token (or APP_ADMIN__BEARER_TOKEN) to the service's\n"
        )
    );
}

#[test]
fn another_status_is_shown_with_the_first_line_of_its_body() {
    // Arrange
    let (address, _server) = spawn_server(2, |request_line| {
        if request_line.contains(WR) {
            text_answer("503 Service Unavailable", "the store is unreachable\nmore")
        } else {
            text_answer("400 Bad Request", "not a ReservationSid")
        }
    });

    // Act
    let (_, err, _) = run_report(&admin(address, None), &[WR, OTHER_WR], Output::Text);

    // Assert
    assert_eq!(
        err,
        format!(
            "error: GET /decisions/{WR} on {address} answered 503 Service Unavailable: the \
             store is unreachable\n\
             error: the admin listener at {address} refused {OTHER_WR}: not a ReservationSid\n"
        )
    );
}

#[test]
fn a_200_that_is_not_a_record_is_an_error() {
    // Arrange
    let (address, _server) = spawn_server(1, |_| text_answer("200 OK", "<html>hello</html>"));

    // Act
    let error = look_up(&admin(address, None), WR).unwrap_err();

    // Assert
    assert!(matches!(error, LookupError::NotARecord { .. }), "{error:?}");
    assert!(!error.applies_to_all());
}

#[test]
fn garbage_from_the_listener_is_an_error() {
    // Arrange
    let (address, _server) = spawn_server(1, |_| b"SSH-2.0-OpenSSH_9.6\r\n".to_vec());

    // Act
    let error = look_up(&admin(address, None), WR).unwrap_err();

    // Assert
    assert_eq!(
        error.to_string(),
        format!(
            "the admin listener at {address} sent an answer that cannot be read: it is not \
             HTTP (no `HTTP/1.x` status line)"
        )
    );
}

#[test]
fn a_truncated_answer_is_an_error() {
    // Arrange
    let (address, _server) = spawn_server(1, |_| {
        let mut answer = json_answer(WR);
        answer.truncate(answer.len() - 10);
        answer
    });

    // Act
    let error = look_up(&admin(address, None), WR).unwrap_err();

    // Assert
    assert!(
        matches!(
            error,
            LookupError::Unreadable {
                problem: ResponseError::Truncated,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_whole_answer_is_not_waited_past_when_the_server_keeps_the_connection() {
    // Arrange: the server answers, then holds the connection open.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let _server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_head(&mut stream);
        stream.write_all(&json_answer(WR)).unwrap();
        thread::sleep(Duration::from_secs(5));
    });
    let started = Instant::now();

    // Act
    let record = look_up(&admin(address, None), WR).unwrap();

    // Assert
    assert_eq!(record.reservation_sid, WR);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_listener_that_does_not_answer_times_out() {
    // Arrange
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let _server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        read_head(&mut stream);
        thread::sleep(Duration::from_secs(3));
    });
    let admin = Admin {
        timeout: Duration::from_millis(200),
        ..admin(address, None)
    };

    // Act
    let error = look_up(&admin, WR).unwrap_err();

    // Assert
    assert_eq!(
        error.to_string(),
        format!("the service at {address} is running but did not answer in full within 200 ms")
    );
    assert!(error.applies_to_all());
}

#[test]
fn nothing_listening_says_the_service_is_not_running_and_stops_the_run() {
    // Arrange
    let address = closed_port();

    // Act
    let (out, err, all_found) = run_report(&admin(address, None), &[WR, OTHER_WR], Output::Text);

    // Assert
    assert!(!all_found);
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "error: nothing listens on {address}: the service is not running, or its admin \
             listener is elsewhere (admin.host and admin.port, or APP_ADMIN__HOST and \
             APP_ADMIN__PORT)\nnote: 1 more Reservation not looked up\n"
        )
    );
}
