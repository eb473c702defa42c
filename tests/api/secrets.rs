//! No secret reaches any output. Every path of the binary (callbacks signed well and badly,
//! REST updates against a stand-in Twilio answering with its own error bodies, refusals at
//! start, `check`, `explain`, `sign`, `healthcheck`, SIGTERM) runs at the most verbose log
//! level, `RUST_LOG=trace`, which also turns on actix's, hyper's and reqwest's own trace
//! lines, in both log formats. Every byte each process writes, and every HTTP answer, is
//! searched for the auth token, the previous token, the API secret, the Basic auth values
//! and every signature sent.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::binary::command;
use crate::helpers::*;

const AUTH_TOKEN: &str = "SECRET-token-current-5f1c9a7e31d0";
const PREVIOUS_TOKEN: &str = "SECRET-token-previous-b2d48e06a7f3";
/// A token the service does not know: what a forger might sign with.
const WRONG_TOKEN: &str = "SECRET-token-wrong-7c03f1d9e5b2";
const API_SECRET: &str = "SECRET-apikey-secret-e94a2b6d0c18";
const API_KEY: &str = "SK0123456789abcdef0123456789abcdef";
const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
/// Every secret above starts with one of these, so a secret cut short is still found.
const MARKERS: [&str; 2] = ["SECRET-token", "SECRET-apikey"];
/// Not base64 at all.
const GARBLED_SIGNATURE: &str = "garbled~signature~value~93c1";

/// A REST rule, an inline rule and a default.
const RULES: &str = r#"
[[rules]]
name = "by-rest"
when = 'task.route == "rest"'
delivery = "rest"
instruction = "conference"
from = "+15005550006"
to = "{{worker.contact_uri}}"
end_conference_on_exit = true

[[rules]]
name = "inline"
when = 'task.route == "inline"'
instruction = "dequeue"
from = "+15005550006"

[default]
instruction = "accept"
"#;

/// A well-formed signature (standard base64 of 20 bytes) that no token made.
fn forged_signature() -> String {
    STANDARD.encode(b"forged-signature-20b")
}

/// The credentials part of an `Authorization: Basic …` header.
fn basic_credentials(user: &str, password: &str) -> String {
    STANDARD.encode(format!("{user}:{password}"))
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    Pretty,
}

impl Format {
    const BOTH: [Format; 2] = [Format::Json, Format::Pretty];

    fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Pretty => "pretty",
        }
    }
}

/// How the service authenticates its REST updates.
#[derive(Debug, Clone, Copy)]
enum RestAuth {
    AccountAndToken,
    ApiKey,
}

/// What must never be printed, and everything that was.
struct Audit {
    forbidden: Vec<(String, String)>,
    transcripts: Vec<(String, String)>,
}

impl Audit {
    fn new() -> Self {
        let mut audit = Self {
            forbidden: Vec::new(),
            transcripts: Vec::new(),
        };
        audit.forbid("the auth token", AUTH_TOKEN);
        audit.forbid("the previous auth token", PREVIOUS_TOKEN);
        audit.forbid("the wrong token", WRONG_TOKEN);
        audit.forbid("the API secret", API_SECRET);
        audit.forbid(
            "the Basic auth value for the account SID and token",
            &basic_credentials(ACCOUNT_SID, AUTH_TOKEN),
        );
        audit.forbid(
            "the Basic auth value for the API key and secret",
            &basic_credentials(API_KEY, API_SECRET),
        );
        audit.forbid("a forged signature", &forged_signature());
        audit.forbid("a garbled signature", GARBLED_SIGNATURE);
        audit
    }

    /// Forbids `value`, and `value` as it reads once form-encoded.
    fn forbid(&mut self, what: &str, value: &str) {
        let encoded = serde_urlencoded::to_string([("v", value)]).unwrap()[2..].to_owned();
        if encoded != value {
            self.forbidden
                .push((format!("{what} (form-encoded)"), encoded));
        }
        self.forbidden.push((what.to_owned(), value.to_owned()));
    }

    /// Forbids a signature the test sends, and returns it.
    fn signature(
        &mut self,
        what: &str,
        token: &str,
        url: &str,
        pairs: &[(String, String)],
    ) -> String {
        let signature = sign(token, url, pairs);
        self.forbid(what, &signature);
        signature
    }

    fn record(&mut self, place: impl Into<String>, text: impl Into<String>) {
        self.transcripts.push((place.into(), text.into()));
    }

    /// Panics naming the secret, where it appeared, and the line it is on.
    fn assert_clean(&self) {
        assert!(!self.transcripts.is_empty(), "nothing was audited");
        for (place, text) in &self.transcripts {
            let plain = strip_ansi(text);
            for haystack in [text.as_str(), plain.as_str()] {
                let needles = self
                    .forbidden
                    .iter()
                    .map(|(what, value)| (what.as_str(), value.as_str()))
                    .chain(MARKERS.iter().map(|m| ("the beginning of a secret", *m)));
                for (what, value) in needles {
                    if let Some(line) = haystack.lines().find(|line| line.contains(value)) {
                        panic!("{what} ({value}) appears in {place}:\n{line}");
                    }
                }
            }
        }
    }

    fn audited_bytes(&self) -> usize {
        self.transcripts.iter().map(|(_, text)| text.len()).sum()
    }
}

/// The text with its terminal colour codes (`ESC [ … letter`) removed.
fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// The binary with the secrets and the most verbose logs. Secrets absent from `extra` are
/// still set where a real deployment would set them.
fn verbose_command(rules: &str, format: Format, extra: &[(&str, &str)]) -> Command {
    let mut settings = vec![
        ("RUST_LOG", "trace"),
        ("APP_LOG__FORMAT", format.name()),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("APP_TWILIO__PREVIOUS_AUTH_TOKENS", PREVIOUS_TOKEN),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
    ];
    settings.extend_from_slice(extra);
    command(rules, &settings)
}

/// Runs a command to its end, killing it if it has not ended in 20 seconds (a command meant
/// to be refused that starts serving instead must fail the test, not hang it).
fn run_within_deadline(what: &str, mut command: Command) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let stderr = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: the command did not end within 20 seconds");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Runs a command to its end and records both its outputs; returns them with the exit code.
fn run_recorded(audit: &mut Audit, what: &str, command: Command) -> (Option<i32>, String, String) {
    let output = run_within_deadline(what, command);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    audit.record(format!("the stdout of {what}"), stdout.clone());
    audit.record(format!("the stderr of {what}"), stderr.clone());
    (output.status.code(), stdout, stderr)
}

/// The service, started with piped output; every line it writes is kept.
struct Service {
    child: Child,
    port: u16,
    admin_port: u16,
    /// Lines read while waiting for `listening`.
    early: Vec<String>,
    stdout: Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Drop for Service {
    /// A failed test must not leave the service running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the command and waits for its `listening` line, in either format.
fn start(mut command: Command) -> Service {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (sender, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
            if sender
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                break;
            }
        }
    });
    let stderr = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    });
    let mut service = Service {
        child,
        port: 0,
        admin_port: 0,
        early: Vec::new(),
        stdout: lines,
        stderr: Some(stderr),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let line = service
            .stdout
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the service should log that it listens");
        let ports = listening_ports(&line);
        service.early.push(line);
        if let Some((port, admin_port)) = ports {
            service.port = port;
            service.admin_port = admin_port;
            return service;
        }
    }
}

/// The ports of the service's own `listening` line, JSON or pretty.
fn listening_ports(line: &str) -> Option<(u16, u16)> {
    let plain = strip_ansi(line);
    if !plain.contains("listening") {
        return None;
    }
    if let Ok(entry) = serde_json::from_str::<Value>(&plain) {
        let fields = &entry["fields"];
        let port = fields["port"].as_u64()?;
        let admin_port = fields["admin_port"].as_u64()?;
        return Some((port as u16, admin_port as u16));
    }
    let field = |name: &str| {
        plain
            .split_whitespace()
            .find_map(|token| token.strip_prefix(name)?.parse::<u16>().ok())
    };
    Some((field("port=")?, field("admin_port=")?))
}

impl Service {
    /// Sends SIGTERM, waits for the exit, and returns the status with all of stdout and stderr.
    fn terminate(&mut self) -> (ExitStatus, String, String) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stdout = self.early.join("\n");
        for line in self.stdout.iter() {
            // Ends at EOF: the process has exited.
            stdout.push('\n');
            stdout.push_str(&line);
        }
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default();
        (status, stdout, stderr)
    }
}

/// A callback routed by the rules to `route`, for its own Reservation.
fn callback_for(route: &str, reservation: &str) -> Vec<(String, String)> {
    let mut pairs = callback(
        json!({"route": route, "language": "en"}),
        json!({"contact_uri": "client:alice"}),
    );
    for (key, value) in &mut pairs {
        if key == "ReservationSid" {
            *value = reservation.to_owned();
        }
    }
    pairs
}

fn reservation(n: u8) -> String {
    format!("WR{n:032x}")
}

fn update_path(reservation: &str) -> String {
    format!("/v1/Workspaces/{WORKSPACE_SID}/Workers/{WORKER_SID}/Reservations/{reservation}")
}

/// Twilio's classic JSON error body.
fn twilio_error(status: u16, code: u32, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    }))
}

/// Mounts Twilio's answers, each Reservation its own story, all for requests carrying
/// `authorization`; returns how many requests should arrive.
async fn mount_twilio(twilio: &MockServer, authorization: &str) -> usize {
    let update = |n: u8| {
        Mock::given(method("POST"))
            .and(path(update_path(&reservation(n))))
            .and(header("Authorization", authorization))
    };
    // 1: lands at once.
    update(1)
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"sid": reservation(1), "reservation_status": "accepted"})),
        )
        .expect(1)
        .mount(twilio)
        .await;
    // 2: refused for good, with Twilio's error body.
    update(2)
        .respond_with(twilio_error(
            400,
            20001,
            "Invalid Conference instruction: To is not a valid phone number",
        ))
        .expect(1)
        .mount(twilio)
        .await;
    // 3: a server error, retried, then it lands.
    update(3)
        .respond_with(twilio_error(500, 20500, "Internal Server Error"))
        .up_to_n_times(1)
        .expect(1)
        .mount(twilio)
        .await;
    update(3)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sid": reservation(3)})))
        .expect(1)
        .mount(twilio)
        .await;
    // 4: rate limited with Retry-After, then it lands.
    update(4)
        .respond_with(
            twilio_error(429, 20429, "Too Many Requests").insert_header("Retry-After", "1"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(twilio)
        .await;
    update(4)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sid": reservation(4)})))
        .expect(1)
        .mount(twilio)
        .await;
    // 5: the Reservation has moved on.
    update(5)
        .respond_with(twilio_error(
            400,
            20001,
            &format!(
                "Reservation {} is already in state [accepted] and cannot be updated to [accepted]",
                reservation(5)
            ),
        ))
        .expect(1)
        .mount(twilio)
        .await;
    7
}

/// POSTs a callback body with this signature header (or none) and records the answer.
async fn post(
    audit: &mut Audit,
    service: &Service,
    what: &str,
    body: &str,
    signature: Option<&str>,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/assignment", service.port))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("X-Twilio-Signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = format!("{:?}", response.headers());
    let text = response.text().await.unwrap();
    audit.record(
        format!("the answer to {what}"),
        format!("{status}\n{headers}\n{text}"),
    );
    (status, text)
}

/// Waits until `twilio` has received `count` requests, or the timeout passes.
async fn wait_for_requests(twilio: &MockServer, count: usize, timeout: Duration) -> usize {
    let until = Instant::now() + timeout;
    loop {
        let received = twilio.received_requests().await.unwrap_or_default().len();
        if received >= count || Instant::now() > until {
            return received;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Drives one service through every callback path, stops it with SIGTERM, and checks that
/// it was verbose and that nothing it wrote holds a secret.
async fn serve_every_callback_path(format: Format, auth: RestAuth) {
    // Arrange
    let mut audit = Audit::new();
    let twilio = MockServer::start().await;
    let authorization = match auth {
        RestAuth::AccountAndToken => {
            format!("Basic {}", basic_credentials(ACCOUNT_SID, AUTH_TOKEN))
        }
        RestAuth::ApiKey => format!("Basic {}", basic_credentials(API_KEY, API_SECRET)),
    };
    let expected_updates = mount_twilio(&twilio, &authorization).await;
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

    let inline = callback_for("inline", &reservation(10));
    let inline_again = callback_for("inline", &reservation(11));
    let rest: Vec<_> = (1..=5)
        .map(|n| callback_for("rest", &reservation(n)))
        .collect();
    let refused = callback_for("inline", &reservation(12));
    let mut tampered = refused.clone();
    tampered[0].1 = "AC00000000000000000000000000000000".to_owned();
    let mut no_reservation = callback_for("inline", &reservation(13));
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
    let received = wait_for_requests(&twilio, expected_updates, Duration::from_secs(10)).await;
    let (status, stdout, stderr) = service.terminate();
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
        "actix_server::signals",
        "hyper_util::client",
        "reqwest::connect",
        "callback answered",
        "callback refused",
        "reservation already decided",
        "reservation update will be retried",
        "reservation update refused by Twilio",
        "20001",
        "reservation update not applied: the reservation has moved on",
        "SIGTERM received",
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

/// A settings file holding every secret, plus `more`.
fn settings_file_with_secrets(more: &str) -> std::path::PathBuf {
    temp_file(
        "settings.toml",
        &format!(
            "[twilio]\naccount_sid = \"{ACCOUNT_SID}\"\nauth_token = \"{AUTH_TOKEN}\"\n\
             previous_auth_tokens = [\"{PREVIOUS_TOKEN}\"]\napi_key = \"{API_KEY}\"\n\
             api_secret = \"{API_SECRET}\"\n{more}"
        ),
    )
}

/// One way the start is refused.
struct Refusal {
    why: &'static str,
    rules: &'static str,
    settings: Vec<(&'static str, String)>,
    without: &'static [&'static str],
    settings_file: Option<std::path::PathBuf>,
    expected: String,
}

/// A refusal with these settings in the environment and nothing else special.
fn refusal(
    why: &'static str,
    rules: &'static str,
    settings: &[(&'static str, &str)],
    expected: &str,
) -> Refusal {
    Refusal {
        why,
        rules,
        settings: settings.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        without: &[],
        settings_file: None,
        expected: expected.to_owned(),
    }
}

const REST_RULES: &str = "[default]\ninstruction = \"accept\"\ndelivery = \"rest\"\n";
const INLINE_RULES: &str = "[default]\ninstruction = \"accept\"\n";

#[test]
fn no_secret_is_printed_when_the_start_is_refused() {
    // Arrange
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    let cases = vec![
        Refusal {
            without: &["TWILIO_AUTH_TOKEN"],
            ..refusal(
                "no auth token, a REST rule, the previous token and an API key set",
                REST_RULES,
                &[
                    ("TWILIO_API_KEY", API_KEY),
                    ("TWILIO_API_SECRET", API_SECRET),
                ],
                "TWILIO_AUTH_TOKEN is not set",
            )
        },
        Refusal {
            without: &["TWILIO_ACCOUNT_SID"],
            ..refusal(
                "a REST rule with a token but no account SID",
                REST_RULES,
                &[],
                "REST delivery needs credentials",
            )
        },
        refusal(
            "an API secret without its key",
            REST_RULES,
            &[("TWILIO_API_SECRET", API_SECRET)],
            "an API key and its secret go together",
        ),
        refusal(
            "a rules file with problems",
            "[[rules]]\nname = \"bad\"\ninstruction = \"conference\"\ntimeout = 5000\n\n\
             [default]\ninstruction = \"acept\"\n",
            &[],
            "3 problems",
        ),
        refusal(
            "a rules file that is not TOML",
            "[[rules]\nname = \"x\"\n",
            &[],
            "1 problem",
        ),
        refusal(
            "a rules file that does not exist",
            INLINE_RULES,
            &[("APP_RULES__PATH", "/nonexistent/rules.toml")],
            "cannot read",
        ),
        refusal(
            "a public_url that is not http",
            INLINE_RULES,
            &[(
                "APP_CALLBACK__PUBLIC_URL",
                "ftp://router.example.com/assignment",
            )],
            "setting `callback.public_url`",
        ),
        refusal(
            "a public_url with a fragment",
            INLINE_RULES,
            &[(
                "APP_CALLBACK__PUBLIC_URL",
                "https://router.example.com/assignment#here",
            )],
            "#fragment",
        ),
        refusal(
            "a public_url that is not a URL",
            INLINE_RULES,
            &[("APP_CALLBACK__PUBLIC_URL", "router.example.com/assignment")],
            "is not a URL",
        ),
        refusal(
            "an api_base_url that is not a URL",
            REST_RULES,
            &[("APP_TWILIO__API_BASE_URL", "taskrouter")],
            "setting `twilio.api_base_url`",
        ),
        refusal(
            "the callback port taken",
            INLINE_RULES,
            &[("APP_SERVER__PORT", &taken_port)],
            "cannot listen on",
        ),
        Refusal {
            settings_file: Some(settings_file_with_secrets(&format!(
                "auth_tokn = \"{AUTH_TOKEN}\"\n"
            ))),
            ..refusal(
                "a misspelt key holding the token in the settings file",
                INLINE_RULES,
                &[],
                "unknown setting `twilio.auth_tokn`",
            )
        },
        Refusal {
            settings_file: Some(temp_file(
                "settings.toml",
                &format!("[twilio]\napi_key = \"{API_KEY}\"\napi_secret = [\"{API_SECRET}\"]\n"),
            )),
            without: &["TWILIO_AUTH_TOKEN"],
            ..refusal(
                "an API secret of the wrong type in the settings file",
                INLINE_RULES,
                &[],
                "twilio.api_secret",
            )
        },
        Refusal {
            settings_file: Some(settings_file_with_secrets(
                "[server]\nshutdown_grace_secs = \"soon\"\n",
            )),
            ..refusal(
                "a value of the wrong type next to the secrets in the settings file",
                INLINE_RULES,
                &[],
                "server.shutdown_grace_secs",
            )
        },
        Refusal {
            settings_file: Some(temp_file(
                "settings.toml",
                &format!(
                    "[twilio]\nauth_token = \"{AUTH_TOKEN}\"\n\
                     previous_auth_tokens = [1, \"{PREVIOUS_TOKEN}\"]\n"
                ),
            )),
            // The environment's list would win over the file's.
            without: &["APP_TWILIO__PREVIOUS_AUTH_TOKENS"],
            ..refusal(
                "previous tokens of the wrong shape in the settings file",
                INLINE_RULES,
                &[],
                "twilio.previous_auth_tokens",
            )
        },
        Refusal {
            settings_file: Some(std::path::PathBuf::from("/nonexistent/settings.toml")),
            ..refusal(
                "a settings file that does not exist",
                INLINE_RULES,
                &[],
                "cannot read settings",
            )
        },
    ];
    let mut audit = Audit::new();

    for format in Format::BOTH {
        for case in &cases {
            // Act
            let settings: Vec<(&str, &str)> = case
                .settings
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect();
            let mut command = verbose_command(case.rules, format, &settings);
            for variable in case.without {
                command.env_remove(variable);
            }
            if let Some(file) = &case.settings_file {
                command.arg("--config").arg(file);
            }
            let what = format!("a start refused for {} ({} logs)", case.why, format.name());
            let (code, _, stderr) = run_recorded(&mut audit, &what, command);

            // Assert
            assert_eq!(code, Some(1), "{what}: {stderr}");
            assert!(stderr.contains(&case.expected), "{what}: {stderr}");
        }
    }
    audit.assert_clean();
    drop(taken);
}

#[test]
fn no_secret_is_printed_when_the_settings_file_is_not_toml() {
    let cases = [
        (
            "a stray word after the API secret",
            format!(
                "[twilio]\nauth_token = \"{AUTH_TOKEN}\"\napi_secret = \"{API_SECRET}\" oops\n"
            ),
        ),
        (
            "an auth token with no closing quote",
            format!("[twilio]\nauth_token = \"{AUTH_TOKEN}\n"),
        ),
        (
            "the auth token set twice",
            format!("[twilio]\nauth_token = \"{PREVIOUS_TOKEN}\"\nauth_token = \"{AUTH_TOKEN}\"\n"),
        ),
    ];
    let mut audit = Audit::new();
    for (why, content) in cases {
        let mut command = verbose_command(INLINE_RULES, Format::Json, &[]);
        command
            .arg("--config")
            .arg(temp_file("settings.toml", &content));
        let what = format!("a settings file with {why}");
        let (code, _, stderr) = run_recorded(&mut audit, &what, command);
        assert_eq!(code, Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains("settings.toml, line ") && stderr.contains(", column "),
            "{what}: says where: {stderr}"
        );
    }
    audit.assert_clean();
}

#[test]
fn no_secret_is_printed_by_check_explain_or_sign() {
    let rest_callback = callback_for("rest", &reservation(1));
    let form_file = temp_file("callback.form", &(encode(&rest_callback) + "\n"));
    let bad_form_file = temp_file("bad.form", "TaskSid=%zz");
    let broken_rules = "[[rules]]\nname = \"x\"\ninstruction = \"dequeue\"\ntimeout = 0\n\n\
                        [default]\ninstruction = \"accept\"\n";
    let mut audit = Audit::new();
    let expected_signature = audit.signature(
        "the signature `sign` prints",
        AUTH_TOKEN,
        PUBLIC_URL,
        &rest_callback,
    );
    let api_key = [
        ("TWILIO_API_KEY", API_KEY),
        ("TWILIO_API_SECRET", API_SECRET),
    ];

    for format in Format::BOTH {
        let run = |what: &str| format!("{what} ({} logs)", format.name());

        // check
        let mut check = verbose_command(RULES, format, &api_key);
        check.arg("check");
        let what = run("check on good rules");
        let (code, stdout, stderr) = run_recorded(&mut audit, &what, check);
        assert_eq!(code, Some(0), "{what}: {stdout}{stderr}");
        assert!(
            stdout.contains("ok, 2 rules and a default"),
            "{what}: {stdout}"
        );

        let mut check = verbose_command(RULES, format, &[]);
        check
            .arg("--config")
            .arg(settings_file_with_secrets(""))
            .arg("check");
        let what = run("check with the secrets in a settings file");
        let (code, stdout, stderr) = run_recorded(&mut audit, &what, check);
        assert_eq!(code, Some(0), "{what}: {stdout}{stderr}");
        assert!(
            stdout.contains("ok, 2 rules and a default"),
            "{what}: {stdout}"
        );

        let mut check = verbose_command(RULES, format, &api_key);
        check.env_remove("TWILIO_AUTH_TOKEN").arg("check");
        let what = run("check without the auth token");
        let (code, stdout, stderr) = run_recorded(&mut audit, &what, check);
        assert_eq!(code, Some(0), "{what}: {stdout}{stderr}");
        assert!(
            stdout.contains("note: TWILIO_AUTH_TOKEN is not set"),
            "{what}: {stdout}"
        );

        let mut check = verbose_command(broken_rules, format, &api_key);
        check.arg("check");
        let what = run("check on broken rules");
        let (code, stdout, _) = run_recorded(&mut audit, &what, check);
        assert_eq!(code, Some(1), "{what}: {stdout}");
        assert!(stdout.contains("1 problem"), "{what}: {stdout}");

        // explain
        let mut explain = verbose_command(RULES, format, &api_key);
        explain.arg("explain").arg(&form_file);
        let what = run("explain");
        let (code, stdout, stderr) = run_recorded(&mut audit, &what, explain);
        assert_eq!(code, Some(0), "{what}: {stderr}");
        assert!(
            stdout.contains("rule \"by-rest\": answers"),
            "{what}: {stdout}"
        );
        assert!(stdout.contains("then: POST"), "{what}: {stdout}");
        assert!(
            stdout.contains("    Instruction=conference"),
            "{what}: {stdout}"
        );

        let mut explain = verbose_command(RULES, format, &[]);
        explain.args(["explain", "--json"]).arg(&form_file);
        let what = run("explain --json");
        let (code, stdout, stderr) = run_recorded(&mut audit, &what, explain);
        assert_eq!(code, Some(0), "{what}: {stderr}");
        let document: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(document["decision"]["delivery"], "rest", "{what}: {stdout}");

        let mut explain = verbose_command(RULES, format, &api_key);
        explain.arg("explain").arg(&bad_form_file);
        let what = run("explain on an unreadable callback");
        let (code, _, stderr) = run_recorded(&mut audit, &what, explain);
        assert_eq!(code, Some(1), "{what}");
        assert!(
            stderr.contains("the callback cannot be read"),
            "{what}: {stderr}"
        );

        let mut explain = verbose_command(RULES, format, &api_key);
        explain
            .args(["explain", "--at", "yesterday"])
            .arg(&form_file);
        let what = run("explain with a bad --at");
        let (code, _, stderr) = run_recorded(&mut audit, &what, explain);
        assert_eq!(code, Some(1), "{what}");
        assert!(
            stderr.contains("--at is not an RFC 3339 instant"),
            "{what}: {stderr}"
        );

        // sign: its stdout is the signature by design, so only its stderr is audited.
        let mut sign = verbose_command(RULES, format, &api_key);
        sign.args(["sign", "--url", PUBLIC_URL]).arg(&form_file);
        let output = run_within_deadline("sign", sign);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(0), "sign: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            format!("{expected_signature}\n"),
            "sign prints exactly the signature"
        );
        audit.record(run("the stderr of sign"), stderr);

        let mut sign = verbose_command(RULES, format, &api_key);
        sign.env_remove("TWILIO_AUTH_TOKEN")
            .args(["sign", "--url", PUBLIC_URL])
            .arg(&form_file);
        let what = run("sign without the auth token");
        let (code, _, stderr) = run_recorded(&mut audit, &what, sign);
        assert_eq!(code, Some(1), "{what}");
        assert!(
            stderr.contains("TWILIO_AUTH_TOKEN is not set"),
            "{what}: {stderr}"
        );

        let mut sign = verbose_command(RULES, format, &api_key);
        sign.args(["sign", "--url", PUBLIC_URL]).arg(&bad_form_file);
        let what = run("sign on an unreadable body");
        let (code, _, stderr) = run_recorded(&mut audit, &what, sign);
        assert_eq!(code, Some(1), "{what}");
        assert!(stderr.starts_with("error:"), "{what}: {stderr}");
    }
    audit.assert_clean();
}
