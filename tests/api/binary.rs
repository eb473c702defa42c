//! The released binary as an operator starts it: settings from the environment only,
//! refusals at start, JSON logs, graceful stop.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::app::*;
use crate::support::process::{command, run_to_end, start_with_json_logs};

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
