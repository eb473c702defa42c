//! The released binary as an operator starts it: settings from the environment only,
//! refusals at start, JSON logs, graceful stop.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::app::*;
use crate::support::process::{command, run_named, run_to_end, start, start_with_json_logs};

#[test]
fn a_missing_auth_token_stops_the_start_with_one_line_naming_the_variable() {
    let mut command = command("[default]\ninstruction = \"accept\"\n", &[]);
    command.env_remove("TWILIO_AUTH_TOKEN");
    let output = run_to_end(command);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("TWILIO_AUTH_TOKEN"), "{stderr}");
}

#[test]
fn a_bad_rules_file_stops_the_start_naming_each_rule_and_position() {
    let rules = r#"
[[rules]]
name = "spanish"
when = 'task.language == "es" AND AND worker.level > 1'
instruction = "accept"

[[rules]]
name = "bad-dequeue"
instruction = "dequeue"
from = "{{task.from"
timeout = 5000

[[rules]]
name = "typo"
instruction = "acept"

[default]
instruction = "accept"
"#;
    let output = run_to_end(command(rules, &[]));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("rule \"spanish\", field `when`: line 1, column 27"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rule \"bad-dequeue\", field `from`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rule \"bad-dequeue\", field `timeout`: 5000 is out of range"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rule \"typo\", field `instruction`"),
        "{stderr}"
    );
    assert!(stderr.contains("4 problems"), "{stderr}");
}

#[test]
fn rules_without_a_default_are_refused() {
    let output = run_to_end(command(
        "[[rules]]\nname = \"a\"\ninstruction = \"accept\"\n",
        &[],
    ));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("[default] table is required"), "{stderr}");
}

#[tokio::test]
async fn the_binary_answers_logs_one_json_span_per_callback_and_stops_on_sigterm() {
    // Arrange
    let mut running = start_with_json_logs(command(
        "[[rules]]\nname = \"spanish\"\nwhen = 'task.language == \"es\"'\ninstruction = \"reject\"\n\n[default]\ninstruction = \"accept\"\n",
        &[],
    ));
    let pairs = callback(json!({"language": "es"}), json!({}));
    let signature = sign(TOKEN, PUBLIC_URL, &pairs);

    // Act
    let response = running.post(&encode(&pairs), Some(&signature)).await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let answer: Value = response.json().await.unwrap();
    let status = running.terminate();

    // Assert
    assert_eq!(answer, json!({"instruction": "reject"}));
    assert_eq!(status.code(), Some(0), "a SIGTERM stop is a clean exit");
    let logged: Vec<Value> = running
        .lines
        .iter() // ends at EOF: the process has exited
        .map(|line| serde_json::from_str(&line).expect("every log line is JSON"))
        .collect();
    let answered = logged
        .iter()
        .find(|entry| entry["fields"]["message"] == "callback answered")
        .expect("one line per callback");
    let span = &answered["span"];
    assert_eq!(span["task_sid"], TASK_SID);
    assert_eq!(span["reservation_sid"], RESERVATION_SID);
    assert_eq!(span["worker_sid"], WORKER_SID);
    assert_eq!(span["rule"], "spanish");
    assert_eq!(span["instruction"], "reject");
    assert_eq!(span["delivery"], "inline");
    assert_eq!(span["outcome"], "answered");
    assert_eq!(span["request_id"], request_id);
    let all = logged.iter().map(Value::to_string).collect::<String>();
    assert!(!all.contains(TOKEN), "the auth token reached a log line");
    assert!(!all.contains(&signature), "a signature reached a log line");
}

#[tokio::test]
async fn sigterm_waits_for_a_pending_update_to_land_before_exiting() {
    // Arrange: Twilio answers slowly, so the update is still out when SIGTERM comes.
    let twilio = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_delay(Duration::from_millis(1500)))
        .expect(1)
        .mount(&twilio)
        .await;
    let base = twilio.uri();
    let mut running = start_with_json_logs(command(
        "[default]\ninstruction = \"accept\"\ndelivery = \"rest\"\n",
        &[
            ("APP_TWILIO__API_BASE_URL", base.as_str()),
            ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ],
    ));
    let pairs = default_callback();
    let signature = sign(TOKEN, PUBLIC_URL, &pairs);

    // Act
    let answer: Value = running
        .post(&encode(&pairs), Some(&signature))
        .await
        .json()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = running.terminate();

    // Assert
    assert_eq!(answer, json!({}));
    assert_eq!(status.code(), Some(0));
    let logged: Vec<Value> = running
        .lines
        .iter() // ends at EOF: the process has exited
        .map(|line| serde_json::from_str(&line).unwrap())
        .collect();
    let landed = logged
        .iter()
        .position(|entry| entry["fields"]["message"] == "reservation update landed")
        .unwrap_or_else(|| panic!("the pending update did not land before exit: {logged:#?}"));
    let ended = logged
        .iter()
        .position(|entry| entry["fields"]["message"] == "every pending reservation update ended")
        .expect("the drain is logged");
    assert!(landed < ended);
    twilio.verify().await;
}

#[test]
fn a_rest_rule_without_rest_credentials_stops_the_start() {
    let output = run_to_end(command(
        "[default]\ninstruction = \"accept\"\ndelivery = \"rest\"\n",
        &[],
    ));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("REST delivery needs credentials"),
        "{stderr}"
    );
    assert!(stderr.contains("TWILIO_ACCOUNT_SID"), "{stderr}");
}

const ACCEPT: &str = "[default]\ninstruction = \"accept\"\n";

/// Every line the stopped service wrote to stdout, each parsed as JSON.
fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("every log line is JSON"))
        .collect()
}

/// The one line with this message logged for the request with this `x-request-id`.
fn line_for<'a>(logged: &'a [Value], message: &str, request_id: &str) -> &'a Value {
    let found: Vec<&Value> = logged
        .iter()
        .filter(|entry| {
            entry["fields"]["message"] == message && entry["span"]["request_id"] == request_id
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {message:?} line for request {request_id}: {logged:#?}"
    );
    found[0]
}

fn request_id_of(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn an_api_base_url_over_plain_http_to_another_host_stops_the_start_with_one_line() {
    for base in [
        "http://taskrouter.example.com",
        "HTTP://taskrouter.twilio.com",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://10.0.0.7:8080",
    ] {
        // Arrange: a REST rule with every credential it needs, so only the URL is wrong.
        let command = command(
            "[default]\ninstruction = \"accept\"\ndelivery = \"rest\"\n",
            &[
                ("APP_TWILIO__API_BASE_URL", base),
                ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ],
        );

        // Act
        let output = run_named(&format!("the binary with api_base_url {base}"), command);

        // Assert
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{base}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{base}: {stderr}");
        assert!(
            stderr.contains("setting `twilio.api_base_url`: must be https://"),
            "{base}: {stderr}"
        );
        assert!(
            !String::from_utf8_lossy(&output.stdout).contains("listening"),
            "{base}: it started"
        );
    }
}

#[test]
fn an_api_base_url_over_plain_http_to_a_loopback_address_is_accepted() {
    for base in [
        "http://127.0.0.1:9",
        "http://[::1]:9",
        "http://localhost:9",
        "https://taskrouter.example.com",
    ] {
        // Arrange
        let command = command(
            "[default]\ninstruction = \"accept\"\ndelivery = \"rest\"\n",
            &[
                ("APP_TWILIO__API_BASE_URL", base),
                ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ],
        );

        // Act: `start` fails the test unless the service logs that it listens.
        let mut running = start(command);
        let status = running.terminate();

        // Assert
        assert_eq!(status.code(), Some(0), "{base}");
    }
}

#[tokio::test]
async fn a_fragment_in_the_public_url_is_logged_once_at_start_and_left_out_of_the_signature() {
    // Arrange: Twilio's connection overrides, after a URL holding a password.
    let signed_url = "https://twilio:fragment-pw@router.example.com/assignment";
    let configured = format!("{signed_url}#ct=3000&rc=2&rp=all");
    let mut running = start_with_json_logs(command(
        ACCEPT,
        &[("APP_CALLBACK__PUBLIC_URL", configured.as_str())],
    ));
    let pairs = default_callback();

    // Act
    let answer = running
        .post(&encode(&pairs), Some(&sign(TOKEN, signed_url, &pairs)))
        .await;
    let answer_status = answer.status();
    let answer_body = answer.text().await.unwrap();
    let status = running.terminate();
    let (stdout, stderr) = running.transcript();

    // Assert
    assert_eq!(answer_status, 200);
    assert_eq!(answer_body, r#"{"instruction":"accept"}"#);
    assert_eq!(status.code(), Some(0), "{stderr}");
    let mentions: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains("#fragment"))
        .collect();
    assert_eq!(mentions.len(), 1, "one line at start:\n{stdout}");
    let entry: Value = serde_json::from_str(mentions[0]).unwrap();
    assert_eq!(
        entry["fields"]["url"],
        "https://twilio:***@router.example.com/assignment#ct=3000&rc=2&rp=all"
    );
    assert!(!stdout.contains("fragment-pw"), "the password was logged");
}

#[tokio::test]
async fn twilios_idempotency_token_is_a_field_of_the_callbacks_span() {
    // Arrange
    let mut running = start_with_json_logs(command(ACCEPT, &[]));
    let token = "AC0123456789abcdef0123456789abcdef-1f0e0c4a5b9d";
    let too_long = "t".repeat(200);
    let with = set_reservation(default_callback(), 1);
    let without = set_reservation(default_callback(), 2);
    let with_too_long = set_reservation(default_callback(), 3);
    let forged = set_reservation(default_callback(), 4);
    let header = |value| [("I-Twilio-Idempotency-Token", value)];

    // Act
    let answered_with = running
        .post_with(
            &encode(&with),
            Some(&sign(TOKEN, PUBLIC_URL, &with)),
            &header(token),
        )
        .await;
    let answered_without = running
        .post(&encode(&without), Some(&sign(TOKEN, PUBLIC_URL, &without)))
        .await;
    let answered_with_too_long = running
        .post_with(
            &encode(&with_too_long),
            Some(&sign(TOKEN, PUBLIC_URL, &with_too_long)),
            &header(&too_long),
        )
        .await;
    let refused = running
        .post_with(
            &encode(&forged),
            Some("Zm9yZ2VkLXNpZ25hdHVyZS0yMGI="),
            &header(token),
        )
        .await;
    let ids = [
        &answered_with,
        &answered_without,
        &answered_with_too_long,
        &refused,
    ]
    .map(request_id_of);
    let statuses = [
        &answered_with,
        &answered_without,
        &answered_with_too_long,
        &refused,
    ]
    .map(|response| response.status().as_u16());
    let status = running.terminate();
    let (stdout, stderr) = running.transcript();
    let logged = json_lines(&stdout);

    // Assert
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(statuses, [200, 200, 200, 403]);
    let answered = line_for(&logged, "callback answered", &ids[0]);
    assert_eq!(answered["span"]["idempotency_token"], token);
    assert_eq!(answered["span"]["reservation_sid"], reservation_sid(1));
    let answered = line_for(&logged, "callback answered", &ids[1]);
    assert!(
        answered["span"].get("idempotency_token").is_none(),
        "no header, no field: {answered}"
    );
    let answered = line_for(&logged, "callback answered", &ids[2]);
    assert!(
        answered["span"].get("idempotency_token").is_none(),
        "a token longer than Twilio's is not logged: {answered}"
    );
    assert!(!stdout.contains(&too_long));
    let refused = line_for(&logged, "callback refused", &ids[3]);
    assert_eq!(refused["span"]["idempotency_token"], token);
}

#[tokio::test]
async fn a_rule_skipped_for_a_template_without_a_value_is_logged_as_a_warning() {
    // Arrange
    let mut running = start_with_json_logs(command(
        "[[rules]]\nname = \"needs-contact\"\ninstruction = \"dequeue\"\n\
         from = \"+15005550006\"\nto = \"{{worker.contact_uri}}\"\n\n\
         [default]\ninstruction = \"accept\"\n",
        &[],
    ));
    let pairs = callback(json!({"language": "en"}), json!({"skills": ["billing"]}));

    // Act
    let response = running
        .post(&encode(&pairs), Some(&sign(TOKEN, PUBLIC_URL, &pairs)))
        .await;
    let request_id = request_id_of(&response);
    let answer: Value = response.json().await.unwrap();
    let status = running.terminate();
    let (stdout, stderr) = running.transcript();
    let logged = json_lines(&stdout);

    // Assert
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(answer, json!({"instruction": "accept"}));
    let skipped = line_for(
        &logged,
        "rule skipped: a template has no usable value",
        &request_id,
    );
    assert_eq!(skipped["level"], "WARN");
    assert_eq!(skipped["fields"]["rule"], "needs-contact");
    assert_eq!(skipped["fields"]["path"], "worker.contact_uri");
    assert_eq!(skipped["fields"]["field"], "to");
}

/// A forged callback sent with these headers, and the words its refusal's hint must hold
/// (`None`: no hint).
struct Forged {
    what: &'static str,
    headers: &'static [(&'static str, &'static str)],
    hint: Option<&'static [&'static str]>,
}

#[tokio::test]
async fn a_refused_signature_is_logged_with_the_urls_tried_what_was_received_and_a_hint() {
    // Arrange
    let public_url = "https://user:s3cret-pw@router.example.com/assignment";
    let mut running =
        start_with_json_logs(command(ACCEPT, &[("APP_CALLBACK__PUBLIC_URL", public_url)]));
    let pairs = default_callback();
    let body = encode(&pairs);
    let forged = "Zm9yZ2VkLXNpZ25hdHVyZS0yMGI=";
    let cases = [
        Forged {
            what: "straight to the service",
            headers: &[],
            hint: Some(&["127.0.0.1", "router.example.com"]),
        },
        Forged {
            what: "for the configured host on another port",
            headers: &[("Host", "router.example.com:8080")],
            hint: Some(&["port 8080", "443"]),
        },
        Forged {
            what: "through a proxy that says it was plain http",
            headers: &[
                ("Host", "router.example.com"),
                ("X-Forwarded-Proto", "http"),
            ],
            hint: Some(&["http://", "https://"]),
        },
        Forged {
            what: "for the configured host and port",
            headers: &[("Host", "router.example.com")],
            hint: None,
        },
    ];

    // Act
    let mut sent = Vec::new();
    for case in &cases {
        let response = running.post_with(&body, Some(forged), case.headers).await;
        let status = response.status().as_u16();
        let request_id = request_id_of(&response);
        let text = response.text().await.unwrap();
        assert_eq!((status, text.as_str()), (403, ""), "{}", case.what);
        sent.push(request_id);
    }
    let status = running.terminate();
    let (stdout, stderr) = running.transcript();
    let logged = json_lines(&stdout);

    // Assert
    assert_eq!(status.code(), Some(0), "{stderr}");
    for (case, request_id) in cases.iter().zip(&sent) {
        let what = case.what;
        let refused = line_for(&logged, "callback refused", request_id);
        let fields = &refused["fields"];
        assert_eq!(refused["level"], "WARN", "{what}");
        assert_eq!(
            fields["urls_tried"], "https://user:***@router.example.com/assignment",
            "{what}"
        );
        let host = case
            .headers
            .iter()
            .find(|(name, _)| *name == "Host")
            .map_or(format!("127.0.0.1:{}", running.port), |(_, host)| {
                (*host).to_owned()
            });
        assert_eq!(fields["host"], host.as_str(), "{what}");
        assert_eq!(fields["path"], "/assignment", "{what}");
        match case.hint {
            Some(words) => {
                let hint = fields["hint"].as_str().unwrap_or_else(|| {
                    panic!("{what}: a hint was expected: {refused}");
                });
                assert_eq!(hint.lines().count(), 1, "{what}: one sentence: {hint}");
                for word in words {
                    assert!(hint.contains(word), "{what}: no {word:?} in {hint:?}");
                }
            }
            None => assert!(fields.get("hint").is_none(), "{what}: {refused}"),
        }
    }
    for secret in ["s3cret-pw", forged, TOKEN] {
        assert!(!stdout.contains(secret), "{secret} was logged");
        assert!(!stderr.contains(secret), "{secret} was printed");
    }
}

#[tokio::test]
async fn pretty_logs_carry_no_colour_codes_when_stdout_is_not_a_terminal() {
    // Arrange: the shipped format, with stdout a pipe (as under a container runtime).
    let mut running = start(command(ACCEPT, &[("APP_LOG__FORMAT", "pretty")]));
    let pairs = default_callback();

    // Act
    let answer = running
        .post(&encode(&pairs), Some(&sign(TOKEN, PUBLIC_URL, &pairs)))
        .await;
    let answer_status = answer.status();
    let status = running.terminate();
    let (stdout, stderr) = running.transcript();

    // Assert
    assert_eq!(answer_status, 200);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("callback answered"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "escape codes in:\n{stdout}");
}
