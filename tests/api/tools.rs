//! The operator tools, driven through the binary: check, explain, sign, healthcheck,
//! schedules, reload on SIGHUP, and the metrics scrape.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::app::*;
use crate::support::process::{command, command_for, run_to_end, start_with_json_logs};

const SCHEDULED_RULES: &str = r#"
[[rules]]
name = "spanish"
when = 'task.language == "es" AND schedule.business_hours'
instruction = "dequeue"
from = "{{task.caller_id}}"

[[rules]]
name = "spanish-out-of-hours"
when = 'task.language == "es"'
instruction = "redirect"
call_sid = "{{task.call_sid}}"
url = "https://example.com/voicemail"

[[rules]]
name = "vip"
when = "task.vip == true"
instruction = "conference"
delivery = "rest"
from = "+15005550006"
end_conference_on_exit = true
conference_status_callback_event = ["start", "end"]

[default]
instruction = "accept"

[schedules.business_hours]
timezone = "America/New_York"
open = ["mon-fri 09:00-17:00", "fri 22:00-02:00"]
closed_on = ["2026-12-25"]
"#;

fn stdout_of(command: Command) -> (Option<i32>, String, String) {
    let output = run_to_end(command);
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn explain(
    rules: &str,
    args: &[&str],
    pairs: &[(String, String)],
) -> (Option<i32>, String, String) {
    let form_file = temp_file("callback.form", &(encode(pairs) + "\n"));
    let mut command = command(rules, &[]);
    command.arg("explain").args(args).arg(&form_file);
    stdout_of(command)
}

fn explained_json(rules: &str, at: &str, pairs: &[(String, String)]) -> Value {
    let (code, stdout, stderr) = explain(rules, &["--json", "--at", at], pairs);
    assert_eq!(code, Some(0), "{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn check_lists_each_rule_with_its_instruction_delivery_and_schedules() {
    let mut command = command(SCHEDULED_RULES, &[]);
    command.arg("check");
    let (code, stdout, stderr) = stdout_of(command);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("rule \"spanish\": dequeue, inline, schedules: business_hours"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule \"spanish-out-of-hours\": redirect, inline"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule \"vip\": conference, rest"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule \"default\": accept, inline"),
        "{stdout}"
    );
    assert!(stdout.contains("ok, 3 rules and a default"), "{stdout}");
}

#[test]
fn check_reports_every_one_of_five_mistakes_and_fails() {
    let rules = r#"
[[rules]]
name = "one"
when = 'task.language == "es" AND'
instruction = "accept"

[[rules]]
name = "two"
instruction = "call"
url = "https://example.com/twiml"

[[rules]]
name = "three"
instruction = "dequeue"
from = "+15005550006"
timeout = 0

[[rules]]
name = "four"
when = "schedule.lunch"
instruction = "reject"
activity_sid = "WA-not-a-sid"

[default]
instruction = "accept"
"#;
    let mut command = command(rules, &[]);
    command.arg("check");
    let (code, stdout, _) = stdout_of(command);
    assert_eq!(code, Some(1), "{stdout}");
    for expected in [
        "rule \"one\", field `when`: line 1, column 26",
        "rule \"two\", field `from`: `call` needs `from`",
        "rule \"three\", field `timeout`: 0 is out of range",
        "rule \"four\", field `when`: unknown schedule `lunch`",
        "rule \"four\", field `activity_sid`: `WA-not-a-sid` is not a SID",
        "5 problems",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // The caret sits under the spot.
    assert!(
        stdout.contains("    task.language == \"es\" AND\n                             ^"),
        "{stdout}"
    );
}

#[test]
fn check_needs_no_auth_token_but_says_serve_will() {
    let mut command = command("[default]\ninstruction = \"accept\"\n", &[]);
    command.env_remove("TWILIO_AUTH_TOKEN").arg("check");
    let (code, stdout, _) = stdout_of(command);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("note: TWILIO_AUTH_TOKEN is not set"),
        "{stdout}"
    );
}

#[test]
fn explain_shows_why_each_rule_did_or_did_not_answer_and_the_answer() {
    // Arrange: Spanish, inside business hours (Tuesday 10:00 in New York), no caller_id.
    let pairs = callback(
        json!({"language": "es", "call_sid": "CA0123456789abcdef0123456789abcdef"}),
        json!({}),
    );
    // Act
    let (code, stdout, stderr) =
        explain(SCHEDULED_RULES, &["--at", "2026-12-01T15:00:00Z"], &pairs);
    // Assert
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("rule \"spanish\": matched, but is skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains("field `from`: `task.caller_id` has no value"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule \"spanish-out-of-hours\": answers"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"answer: 200 application/json {"instruction":"redirect","call_sid":"CA0123456789abcdef0123456789abcdef","url":"https://example.com/voicemail"}"#),
        "{stdout}"
    );
}

#[test]
fn explain_names_the_false_comparison_and_falls_to_the_default() {
    let pairs = callback(json!({"language": "en"}), json!({}));
    let (code, stdout, _) = explain(SCHEDULED_RULES, &["--at", "2026-12-01T15:00:00Z"], &pairs);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("rule \"spanish\": does not match"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"`task.language` = `"en"`, compared `==` with `"es"`: false"#),
        "{stdout}"
    );
    assert!(
        stdout.contains("default: answers (no rule did)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"answer: 200 application/json {"instruction":"accept"}"#),
        "{stdout}"
    );
}

#[test]
fn explain_shows_the_rest_update_it_would_send() {
    let pairs = callback(json!({"vip": true}), json!({}));
    let (_, stdout, _) = explain(SCHEDULED_RULES, &["--at", "2026-12-01T15:00:00Z"], &pairs);
    assert!(
        stdout.contains("answer: 200 application/json {}"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "then: POST https://taskrouter.twilio.com/v1/Workspaces/{WORKSPACE_SID}/Workers/{WORKER_SID}/Reservations/{RESERVATION_SID}"
        )),
        "{stdout}"
    );
    for line in [
        "    Instruction=conference",
        "    From=+15005550006",
        "    EndConferenceOnExit=true",
        "    ConferenceStatusCallbackEvent=start",
        "    ConferenceStatusCallbackEvent=end",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in {stdout}");
    }
}

#[test]
fn explain_does_not_print_a_sip_password() {
    let rules = "[[rules]]\nname = \"sip\"\ninstruction = \"conference\"\ndelivery = \"rest\"\n\
                 from = \"+15005550006\"\nsip_auth_username = \"agent\"\n\
                 sip_auth_password = \"hunter2-sip-secret\"\n\n[default]\ninstruction = \"accept\"\n";
    let pairs = callback(json!({}), json!({}));
    let (_, text, _) = explain(rules, &["--at", "2026-12-01T15:00:00Z"], &pairs);
    let document = explained_json(rules, "2026-12-01T15:00:00Z", &pairs);
    assert!(
        text.contains("    SipAuthPassword=<18 characters, not shown>"),
        "{text}"
    );
    assert!(text.contains("    SipAuthUsername=agent"), "{text}");
    for output in [text, document.to_string()] {
        assert!(!output.contains("hunter2"), "{output}");
    }
}

#[test]
fn explain_json_parses_back_with_the_same_decision() {
    let pairs = callback(json!({"vip": true}), json!({}));
    let document = explained_json(SCHEDULED_RULES, "2026-12-01T15:00:00Z", &pairs);
    assert_eq!(document["decision"]["rule"], "vip");
    assert_eq!(document["decision"]["instruction"], "conference");
    assert_eq!(document["decision"]["delivery"], "rest");
    assert_eq!(document["decision"]["answer"], json!({}));
    assert_eq!(document["decision"]["rest"]["method"], "POST");
    assert_eq!(
        document["decision"]["rest"]["form"][0],
        json!(["Instruction", "conference"])
    );
    let tried: Vec<&str> = document["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(tried, ["spanish", "spanish-out-of-hours", "vip"]);
}

#[test]
fn explain_fails_only_for_an_unreadable_callback() {
    let form_file = temp_file("bad.form", "TaskSid=%zz");
    let mut command = command(SCHEDULED_RULES, &[]);
    command.arg("explain").arg(&form_file);
    let (code, _, stderr) = stdout_of(command);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("the callback cannot be read"), "{stderr}");
}

#[test]
fn schedules_open_and_close_with_the_local_clock() {
    let spanish = |caller: bool| {
        let mut task = json!({"language": "es", "call_sid": "CA0123456789abcdef0123456789abcdef"});
        if caller {
            task["caller_id"] = json!("+15005550001");
        }
        callback(task, json!({}))
    };
    let cases = [
        // (instant, expected rule, why)
        ("2026-12-01T15:00:00Z", "spanish", "Tuesday 10:00 EST: open"),
        (
            "2026-12-01T22:30:00Z",
            "spanish-out-of-hours",
            "Tuesday 17:30 EST: closed",
        ),
        (
            "2026-12-05T03:30:00Z",
            "spanish",
            "Friday 22:30 EST: the late window",
        ),
        (
            "2026-12-05T06:30:00Z",
            "spanish",
            "Saturday 01:30 EST: still Friday's window",
        ),
        (
            "2026-12-05T07:30:00Z",
            "spanish-out-of-hours",
            "Saturday 02:30 EST: closed",
        ),
        (
            "2026-12-25T15:00:00Z",
            "spanish-out-of-hours",
            "Christmas, a closed date",
        ),
        (
            "2026-03-09T13:30:00Z",
            "spanish",
            "Monday after DST began: 09:30 EDT, open",
        ),
        (
            "2026-11-02T14:30:00Z",
            "spanish",
            "Monday after DST ended: 09:30 EST, open",
        ),
        (
            "2026-11-02T13:30:00Z",
            "spanish-out-of-hours",
            "08:30 EST: not yet open",
        ),
    ];
    for (at, expected, why) in cases {
        let document = explained_json(SCHEDULED_RULES, at, &spanish(true));
        assert_eq!(document["decision"]["rule"], expected, "{at}: {why}");
    }
}

#[tokio::test]
async fn sign_output_is_accepted_by_the_service() {
    // Arrange
    let running = start_with_json_logs(command("[default]\ninstruction = \"reject\"\n", &[]));
    let pairs = default_callback();
    let form_file = temp_file("callback.form", &encode(&pairs));
    let mut sign = command("[default]\ninstruction = \"accept\"\n", &[]);
    sign.args(["sign", "--url", PUBLIC_URL]).arg(&form_file);
    // Act
    let (code, stdout, stderr) = stdout_of(sign);
    let signature = stdout.trim();
    let response = running.post(&encode(&pairs), Some(signature)).await;
    // Assert
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(response.status(), 200);
}

#[test]
fn sign_reproduces_the_official_canonical_vector() {
    let form_file = temp_file(
        "canonical.form",
        "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212\n",
    );
    let mut sign = command(
        "[default]\ninstruction = \"accept\"\n",
        &[("TWILIO_AUTH_TOKEN", "12345")],
    );
    sign.args([
        "sign",
        "--url",
        "https://mycompany.com/myapp.php?foo=1&bar=2",
    ])
    .arg(&form_file);
    let (code, stdout, _) = stdout_of(sign);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "RSOYDt4T1cUTdK1PDd93/VVr8B8=\n");
}

#[test]
fn healthcheck_passes_against_a_running_service_and_fails_without_one() {
    let running = start_with_json_logs(command("[default]\ninstruction = \"accept\"\n", &[]));
    let port = running.port.to_string();
    let mut up = command(
        "[default]\ninstruction = \"accept\"\n",
        &[("APP_SERVER__PORT", &port)],
    );
    up.arg("healthcheck");
    assert_eq!(stdout_of(up).0, Some(0));
    drop(running);
    std::thread::sleep(Duration::from_millis(200));
    let mut down = command(
        "[default]\ninstruction = \"accept\"\n",
        &[("APP_SERVER__PORT", &port)],
    );
    down.arg("healthcheck");
    let (code, _, stderr) = stdout_of(down);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no answer"), "{stderr}");
}

#[tokio::test]
async fn sighup_swaps_in_good_rules_and_keeps_them_when_the_new_file_is_broken() {
    // Arrange: rules A accept.
    let rules_file = temp_file("reload.toml", "[default]\ninstruction = \"accept\"\n");
    let mut running = start_with_json_logs(command_for(&rules_file, &[]));
    let pairs = default_callback();
    let signature = sign(TOKEN, PUBLIC_URL, &pairs);
    let before: Value = running
        .post(&encode(&pairs), Some(&signature))
        .await
        .json()
        .await
        .unwrap();

    // Act: rules B reject, then a broken file.
    std::fs::write(&rules_file, "[default]\ninstruction = \"reject\"\n").unwrap();
    running.hang_up();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_b: Value = running
        .post(&encode(&pairs), Some(&signature))
        .await
        .json()
        .await
        .unwrap();
    let failures_before = running
        .scrape()
        .await
        .value::<f64>("assignment_router_rule_reloads_total{outcome=\"failure\"}");
    std::fs::write(&rules_file, "[default]\ninstruction = \"nope\"\n").unwrap();
    running.hang_up();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_broken: Value = running
        .post(&encode(&pairs), Some(&signature))
        .await
        .json()
        .await
        .unwrap();
    let metrics = running.scrape().await;
    running.terminate();

    // Assert
    assert_eq!(before, json!({"instruction": "accept"}));
    assert_eq!(after_b, json!({"instruction": "reject"}));
    assert_eq!(
        after_broken,
        json!({"instruction": "reject"}),
        "the old rules stay"
    );
    assert_eq!(
        metrics.value::<f64>("assignment_router_rule_reloads_total{outcome=\"failure\"}"),
        failures_before + 1.0
    );
    assert_eq!(
        metrics.value::<f64>("assignment_router_rule_reloads_total{outcome=\"success\"}"),
        1.0
    );
    let logged: String = running.lines.iter().collect::<Vec<_>>().join("\n");
    assert!(logged.contains("rules not reloaded"), "{logged}");
    assert!(
        logged.contains("`nope` is not one of"),
        "every problem is logged: {logged}"
    );
}

#[tokio::test]
async fn metrics_count_callbacks_by_outcome_on_the_admin_listener_only() {
    // Arrange
    let running = start_with_json_logs(command(
        "[[rules]]\nname = \"es\"\nwhen = 'task.language == \"es\"'\ninstruction = \"reject\"\n\n[default]\ninstruction = \"accept\"\n",
        &[],
    ));
    let spanish = callback(json!({"language": "es"}), json!({}));
    let other = default_callback();

    // Act
    running
        .post(&encode(&spanish), Some(&sign(TOKEN, PUBLIC_URL, &spanish)))
        .await;
    running
        .post(&encode(&spanish), Some(&sign(TOKEN, PUBLIC_URL, &spanish)))
        .await;
    running
        .post(&encode(&other), Some(&sign(TOKEN, PUBLIC_URL, &other)))
        .await;
    running
        .post(
            &encode(&other),
            Some(&sign("another-token", PUBLIC_URL, &other)),
        )
        .await;
    running
        .post(&encode(&other), Some("bm90IGEgc2lnbmF0dXJlIGF0IGFsbCE="))
        .await;
    let metrics = running.scrape().await;
    let on_callback_port = reqwest::get(format!("http://127.0.0.1:{}/metrics", running.port))
        .await
        .unwrap()
        .status();

    // Assert
    let count = |labels: &str| {
        metrics.value::<f64>(&format!("assignment_router_callbacks_total{{{labels}}}"))
    };
    assert_eq!(
        count("rule=\"es\",instruction=\"reject\",delivery=\"inline\",outcome=\"answered\""),
        2.0,
        "{metrics}"
    );
    assert_eq!(
        count("rule=\"default\",instruction=\"accept\",delivery=\"inline\",outcome=\"answered\""),
        1.0
    );
    assert_eq!(
        count("rule=\"\",instruction=\"\",delivery=\"\",outcome=\"forbidden\""),
        2.0
    );
    assert_eq!(
        metrics.value::<f64>("assignment_router_signature_failures_total{reason=\"mismatch\"}"),
        1.0
    );
    assert_eq!(
        metrics.value::<f64>("assignment_router_signature_failures_total{reason=\"malformed\"}"),
        1.0
    );
    assert_eq!(
        metrics.value::<f64>("assignment_router_callback_duration_seconds_count"),
        5.0
    );
    assert_eq!(metrics.value::<f64>("assignment_router_rules_loaded"), 2.0);
    assert_eq!(on_callback_port, 404);
}

#[test]
fn sign_with_an_empty_body_warns_and_still_signs_the_url() {
    // Arrange
    let empty = temp_file("empty.form", "");
    let mut signing = command("[default]\ninstruction = \"accept\"\n", &[]);
    signing.args(["sign", "--url", PUBLIC_URL]).arg(&empty);
    // Act
    let (code, stdout, stderr) = stdout_of(signing);
    // Assert
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.starts_with("warning: the body is empty"), "{stderr}");
    assert_eq!(stdout.trim(), sign(TOKEN, PUBLIC_URL, &[]));
    // A body with pairs signs without a word on stderr.
    let form_file = temp_file("callback.form", &encode(&default_callback()));
    let mut signing = command("[default]\ninstruction = \"accept\"\n", &[]);
    signing.args(["sign", "--url", PUBLIC_URL]).arg(&form_file);
    let (code, _, stderr) = stdout_of(signing);
    assert_eq!(code, Some(0));
    assert_eq!(stderr, "");
}

#[test]
fn a_bad_at_instant_is_refused_with_an_example() {
    let (code, stdout, stderr) = explain(
        SCHEDULED_RULES,
        &["--at", "24/12/2026 15:00"],
        &default_callback(),
    );
    assert_eq!(code, Some(1));
    assert_eq!(stdout, "");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("e.g. 2026-12-24T15:00:00Z"), "{stderr}");
}

#[test]
fn version_prints_the_release() {
    let mut version = command("[default]\ninstruction = \"accept\"\n", &[]);
    version.arg("--version");
    let (code, stdout, _) = stdout_of(version);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "assignment-router 0.2.0\n");
}

#[test]
fn check_without_a_token_still_refuses_what_serve_would_refuse() {
    for (key, value, named) in [
        (
            "APP_CALLBACK__PUBLIC_URL",
            "https://router example.com/assignment",
            "setting `callback.public_url`",
        ),
        (
            "APP_TWILIO__API_BASE_URL",
            "http://taskrouter.example.com",
            "setting `twilio.api_base_url`",
        ),
        (
            "APP_CALLBACK__PATH",
            "assignment",
            "setting `callback.path`",
        ),
    ] {
        // Arrange: no secrets at all, as in a CI job.
        let mut check = command("[default]\ninstruction = \"accept\"\n", &[(key, value)]);
        check.env_remove("TWILIO_AUTH_TOKEN").arg("check");
        // Act
        let (code, stdout, stderr) = stdout_of(check);
        // Assert
        assert_eq!(code, Some(1), "{key}: {stdout}");
        assert!(stderr.contains(named), "{key}: {stderr}");
        assert!(!stdout.contains(": ok,"), "{key}: {stdout}");
        // And `serve`, with the token, refuses the same setting.
        let mut serve = command("[default]\ninstruction = \"accept\"\n", &[(key, value)]);
        serve.arg("serve");
        let (code, _, stderr) = stdout_of(serve);
        assert_eq!(code, Some(1), "{key}");
        assert!(stderr.contains(named), "{key}: {stderr}");
    }
}

#[tokio::test]
async fn the_start_and_a_reload_of_the_same_file_count_its_rules_the_same_way() {
    // Arrange
    let rules_file = temp_file(
        "count.toml",
        "[[rules]]\nname = \"only\"\nwhen = 'TaskAge > 5'\ninstruction = \"reject\"\n\n[default]\ninstruction = \"accept\"\n",
    );
    let mut running = start_with_json_logs(command_for(&rules_file, &[]));
    // Act
    running.hang_up();
    let ready = reqwest::get(format!("{}/ready", running.admin_address()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut reloaded = None;
    while reloaded.is_none() && std::time::Instant::now() < deadline {
        if let Ok(line) = running.lines.recv_timeout(Duration::from_millis(200)) {
            let entry: Value = serde_json::from_str(&line).unwrap();
            if entry["fields"]["message"] == "rules reloaded" {
                reloaded = Some((
                    entry["fields"]["rules"].clone(),
                    entry["fields"]["trigger"].clone(),
                ));
            }
        }
    }
    running.terminate();
    let (stdout, _) = running.transcript();
    // Assert
    let loaded = stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|entry| entry["fields"]["message"] == "rules loaded")
        .map(|entry| entry["fields"]["rules"].clone());
    assert_eq!(loaded, Some(json!(2)), "{stdout}");
    assert_eq!(reloaded, Some((json!(2), json!("SIGHUP"))));
    assert_eq!(ready, "ready: 1 rule and a default\n");
    let mut check = command_for(&rules_file, &[]);
    check.arg("check");
    let (_, stdout, _) = stdout_of(check);
    assert!(stdout.ends_with(": ok, 1 rule and a default\n"), "{stdout}");
}

#[tokio::test]
async fn every_known_series_is_exported_from_start_and_rule_series_follow_a_reload() {
    // Arrange: a REST-free file of two rules, one with a template.
    let rules_file = temp_file(
        "series.toml",
        "[[rules]]\nname = \"old\"\nwhen = 'TaskAge > 5'\ninstruction = \"reject\"\n\n\
         [[rules]]\nname = \"kept\"\ninstruction = \"dequeue\"\nfrom = \"{{task.from}}\"\n\n\
         [default]\ninstruction = \"accept\"\n",
    );
    let mut running = start_with_json_logs(command_for(&rules_file, &[]));
    // Act: before any callback.
    let at_start = running.scrape().await;
    std::fs::write(
        &rules_file,
        "[[rules]]\nname = \"kept\"\ninstruction = \"dequeue\"\nfrom = \"{{task.from}}\"\n\n\
         [[rules]]\nname = \"new\"\ninstruction = \"reject\"\n\n\
         [default]\ninstruction = \"accept\"\n",
    )
    .unwrap();
    running.hang_up();
    // A scrape can straddle the reload (one family read before it, the next after), so the
    // series are read from the first scrape begun after the reload was counted.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let reloaded = r#"assignment_router_rule_reloads_total{outcome="success"}"#;
    while running.scrape().await.value::<f64>(reloaded) < 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no reload within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = running.scrape().await;
    running.terminate();
    // Assert
    for series in [
        r#"assignment_router_callbacks_total{rule="old",instruction="reject",delivery="inline",outcome="answered"}"#,
        r#"assignment_router_callbacks_total{rule="kept",instruction="dequeue",delivery="inline",outcome="answered"}"#,
        r#"assignment_router_callbacks_total{rule="default",instruction="accept",delivery="inline",outcome="answered"}"#,
        r#"assignment_router_callbacks_total{rule="",instruction="",delivery="",outcome="forbidden"}"#,
        r#"assignment_router_rules_skipped_total{rule="kept",reason="no_value"}"#,
        r#"assignment_router_signature_failures_total{reason="mismatch"}"#,
        r#"assignment_router_rest_updates_total{outcome="landed"}"#,
        r#"assignment_router_rule_reloads_total{outcome="failure"}"#,
        "assignment_router_log_lines_dropped_total",
    ] {
        let line = format!("{series} 0");
        assert!(
            at_start.text().lines().any(|l| l == line),
            "no {line} in:\n{at_start}"
        );
    }
    assert!(!after.text().contains("rule=\"old\""), "{after}");
    let fresh = r#"assignment_router_callbacks_total{rule="new",instruction="reject",delivery="inline",outcome="answered"} 0"#;
    assert!(after.text().lines().any(|l| l == fresh), "{after}");
    assert_eq!(
        after.value::<f64>(r#"assignment_router_rule_reloads_total{outcome="success"}"#),
        1.0
    );
}

#[test]
fn check_and_explain_take_a_rules_file_with_no_settings_at_all() {
    // Arrange: no settings file, and no rules path in the environment either.
    let rules_file = temp_file("direct.toml", SCHEDULED_RULES);
    let mut check = command("[default]\ninstruction = \"accept\"\n", &[]);
    check
        .env_remove("APP_RULES__PATH")
        .arg("check")
        .arg("--rules")
        .arg(&rules_file);
    let form_file = temp_file("direct.form", &encode(&default_callback()));
    let mut explain = command("[default]\ninstruction = \"accept\"\n", &[]);
    explain
        .env_remove("APP_RULES__PATH")
        .args([
            "explain",
            "--json",
            "--at",
            "2026-12-01T15:00:00Z",
            "--rules",
        ])
        .arg(&rules_file)
        .arg(&form_file);
    // Act
    let (check_code, check_out, check_err) = stdout_of(check);
    let (explain_code, explain_out, explain_err) = stdout_of(explain);
    // Assert
    assert_eq!(check_code, Some(0), "{check_err}");
    assert!(
        check_out.contains(&format!("{}: rule", rules_file.display())),
        "{check_out}"
    );
    assert_eq!(explain_code, Some(0), "{explain_err}");
    let document: Value = serde_json::from_str(&explain_out).unwrap();
    assert!(document["decision"]["rule"].is_string(), "{explain_out}");
}

#[test]
fn a_file_given_for_the_other_role_says_which_option_it_needs() {
    // Arrange
    let rules_file = temp_file("mixed-up-rules.toml", SCHEDULED_RULES);
    let settings_file = temp_file(
        "mixed-up-settings.toml",
        "[server]\nport = 8080\n\n[rules]\npath = \"rules.toml\"\n",
    );
    let mut rules_as_settings = command("[default]\ninstruction = \"accept\"\n", &[]);
    rules_as_settings
        .arg("check")
        .arg("--config")
        .arg(&rules_file);
    let mut settings_as_rules = command("[default]\ninstruction = \"accept\"\n", &[]);
    settings_as_rules
        .arg("check")
        .arg("--rules")
        .arg(&settings_file);
    // Act
    let (code, stdout, stderr) = stdout_of(rules_as_settings);
    let (other_code, other_out, _) = stdout_of(settings_as_rules);
    // Assert
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stderr.contains("this looks like a rules file") && stderr.contains("--rules"),
        "{stderr}"
    );
    assert_eq!(other_code, Some(1), "{other_out}");
    assert!(
        other_out.contains("this looks like a settings file") && other_out.contains("--config"),
        "{other_out}"
    );
}

#[test]
fn every_cannot_read_names_the_absolute_path_tried() {
    for args in [
        &["check", "--rules", "missing-rules.toml"][..],
        &["check", "--config", "missing-settings.toml"],
        &["explain", "missing-callback.form"],
        &["sign", "--url", PUBLIC_URL, "missing-body.form"],
    ] {
        // Arrange: a relative name, resolved from the working directory.
        let mut run = command("[default]\ninstruction = \"accept\"\n", &[]);
        let folder = std::path::PathBuf::from(run.get_current_dir().unwrap());
        run.args(args);
        // Act
        let (code, stdout, stderr) = stdout_of(run);
        // Assert
        let name = args.last().unwrap();
        let absolute = folder.join(name);
        assert_eq!(code, Some(1), "{args:?}: {stdout}{stderr}");
        let said = format!("{stdout}{stderr}");
        assert!(said.contains("cannot read"), "{args:?}: {said}");
        assert!(
            said.contains(&absolute.display().to_string()),
            "{args:?} should name {}: {said}",
            absolute.display()
        );
    }
}

#[test]
fn the_example_configuration_passes_check_with_no_secrets() {
    // Arrange: the files as a user copies them, found from the settings file alone.
    let settings = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/small-contact-center/settings.toml");
    let mut check = command("[default]\ninstruction = \"accept\"\n", &[]);
    check
        .env_remove("APP_RULES__PATH")
        .env_remove("APP_CALLBACK__PUBLIC_URL")
        .env_remove("TWILIO_AUTH_TOKEN")
        .arg("check")
        .arg("--config")
        .arg(&settings);
    // Act
    let (code, stdout, stderr) = stdout_of(check);
    // Assert
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout
            .contains("small-contact-center/rules.toml: ok, 4 rules, 1 shadow rule and a default"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule \"vip-conference\": conference, rest"),
        "{stdout}"
    );
}

#[test]
fn settings_mistakes_are_told_in_the_operators_words() {
    // (the settings file, the environment, what the one line must say)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 4] = [
        (
            "[log]\nformat = \"jsn\"\n",
            &[],
            r#"setting `log.format`: expected "pretty" or "json", got "jsn""#,
        ),
        (
            "[server]\nprot = 9000\n",
            &[],
            "unknown setting `server.prot` (did you mean `server.port`?)",
        ),
        (
            "",
            &[("APP_TWILIO__RESERVATION_ENDPOINT", "tsk")],
            r#"setting `twilio.reservation_endpoint`: expected "worker" or "task", got "tsk""#,
        ),
        (
            "",
            &[("APP_SERVER__PORT", "abc")],
            "setting `server.port`: expected an integer",
        ),
    ];
    for (file, environment, expected) in cases {
        // Arrange
        let settings = temp_file("mistake.toml", file);
        let mut check = command("[default]\ninstruction = \"accept\"\n", environment);
        check.arg("check").arg("--config").arg(&settings);
        // Act
        let (code, stdout, stderr) = stdout_of(check);
        // Assert
        assert_eq!(code, Some(1), "{file}{environment:?}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
        for internals in ["variant", "enum ", "LogFormat", "ReservationEndpoint"] {
            assert!(!stderr.contains(internals), "{stderr}");
        }
    }
}

#[tokio::test]
async fn an_app_variable_that_names_no_setting_is_warned_about_with_the_closest_name() {
    // Arrange
    let mut check = command(
        "[default]\ninstruction = \"accept\"\n",
        &[("APP_SERVR__PORT", "9000")],
    );
    check.arg("check");
    // Act
    let (code, stdout, _) = stdout_of(check);
    let mut running = start_with_json_logs(command(
        "[default]\ninstruction = \"accept\"\n",
        &[("APP_SERVR__PORT", "9000")],
    ));
    running.terminate();
    let (log, _) = running.transcript();
    // Assert
    assert_eq!(code, Some(0), "{stdout}");
    let warning =
        "APP_SERVR__PORT names no setting and is ignored (did you mean APP_SERVER__PORT?)";
    assert!(stdout.contains(&format!("warning: {warning}")), "{stdout}");
    assert_eq!(log.matches(warning).count(), 1, "{log}");
    // Known variables are not warned about.
    assert!(!log.contains("APP_SERVER__PORT names"), "{log}");
    assert!(!log.contains("APP_RULES__PATH names"), "{log}");
}

#[test]
fn explain_shows_a_not_with_its_operand_and_each_schedule_in_its_own_zone() {
    // Arrange: 15:00 UTC is 10:00 in New York, inside its opening hours.
    let rules = "[[rules]]\nname = \"after-hours\"\nwhen = 'NOT schedule.office'\n\
                 instruction = \"reject\"\n\n[default]\ninstruction = \"accept\"\n\n\
                 [schedules.office]\ntimezone = \"America/New_York\"\n\
                 open = [\"mon-fri 09:00-17:00\"]\n";
    // Act
    let (code, text, stderr) = explain(
        rules,
        &["--at", "2026-12-01T15:00:00Z"],
        &default_callback(),
    );
    let document = explained_json(rules, "2026-12-01T15:00:00Z", &default_callback());
    // Assert
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        text.contains("schedule \"office\": open (Tue 2026-12-01 10:00 EST in America/New_York)"),
        "{text}"
    );
    assert!(
        text.contains("NOT (`schedule.office` = `true`: true), so the NOT is false"),
        "{text}"
    );
    assert_eq!(
        document["schedules"],
        json!([{
            "name": "office",
            "timezone": "America/New_York",
            "local_time": "Tue 2026-12-01 10:00 EST",
            "open": true,
        }])
    );
}
