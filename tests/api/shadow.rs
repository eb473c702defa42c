//! Shadow rules: evaluated after the answer, counted and logged, never answering.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::MockServer;

use crate::support::app::*;
use crate::support::process::*;

const RULES: &str = r#"
    [[rules]]
    name = "new-vip-routing"
    mode = "shadow"
    when = 'task.vip == true'
    instruction = "reject"
    activity_sid = "WA0123456789abcdef0123456789abcdef"

    [[rules]]
    name = "new-conference"
    mode = "shadow"
    when = 'task.vip == true'
    instruction = "conference"
    delivery = "rest"
    from = "{{task.to}}"

    [[rules]]
    name = "vip"
    when = 'task.vip == true'
    instruction = "accept"

    [default]
    instruction = "defer"
"#;

fn vip() -> Vec<(String, String)> {
    callback(json!({"vip": true, "to": "+15005550100"}), json!({}))
}

async fn wait_for_series(app: &TestApp, series: &str, at_least: f64) -> f64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let value = app.scrape().await.value::<f64>(series);
        if value >= at_least || std::time::Instant::now() > deadline {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_shadow_rule_is_counted_by_what_it_would_answer_and_never_answers_nor_sends() {
    // Arrange: a Twilio that must not be called, though a shadow rule is a REST conference.
    let twilio = MockServer::start().await;
    let app = spawn_rest_app(RULES, &twilio.uri(), &[]).await;

    // Act
    let answer = instruction_of(app.post_signed(&vip()).await).await;
    let other = instruction_of(
        app.post_signed(&callback(json!({"vip": false}), json!({})))
            .await,
    )
    .await;
    let rejected = wait_for_series(
        &app,
        "assignment_router_shadow_matches_total{rule=\"new-vip-routing\",instruction=\"reject\"}",
        1.0,
    )
    .await;
    let conferenced = wait_for_series(
        &app,
        "assignment_router_shadow_matches_total{rule=\"new-conference\",instruction=\"conference\"}",
        1.0,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Assert
    assert_eq!(
        answer,
        json!({"instruction": "accept"}),
        "the live rule answers"
    );
    assert_eq!(other, json!({}), "the default (defer) answers the rest");
    assert_eq!(rejected, 1.0);
    assert_eq!(conferenced, 1.0);
    let scrape = app.scrape().await;
    assert_eq!(
        scrape.value::<f64>(
            "assignment_router_callbacks_total{rule=\"vip\",instruction=\"accept\",delivery=\"inline\",outcome=\"answered\"}"
        ),
        1.0,
        "{}",
        scrape.text()
    );
    assert!(
        !scrape
            .text()
            .contains("rule=\"new-vip-routing\",instruction=\"reject\",delivery"),
        "a shadow rule never answers a callback: {}",
        scrape.text()
    );
    assert_eq!(
        twilio.received_requests().await.unwrap_or_default().len(),
        0,
        "a shadow rule sends nothing"
    );
}

#[tokio::test]
async fn a_shadow_rule_is_logged_with_what_it_would_have_answered() {
    // Arrange
    let rules_file = temp_file("shadow.toml", RULES);
    let mut running = start_with_json_logs(command_for(&rules_file, &[]));
    let pairs = vip();
    let signature = sign(TOKEN, PUBLIC_URL, &pairs);

    // Act
    let answer: Value = running
        .post(&encode(&pairs), Some(&signature))
        .await
        .json()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    running.terminate();

    // Assert
    assert_eq!(answer, json!({"instruction": "accept"}));
    let lines: Vec<Value> = running
        .lines
        .iter()
        .filter_map(|line| serde_json::from_str(&line).ok())
        .filter(|line: &Value| {
            line["fields"]["message"]
                .as_str()
                .is_some_and(|message| message.starts_with("shadow rule matched"))
        })
        .collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let reject = &lines[0]["fields"];
    assert_eq!(reject["rule"], "new-vip-routing");
    assert_eq!(reject["instruction"], "reject");
    assert_eq!(reject["answered_by"], "vip");
    assert_eq!(
        reject["would_answer"],
        r#"{"instruction":"reject","activity_sid":"WA0123456789abcdef0123456789abcdef"}"#
    );
    let conference = &lines[1]["fields"];
    assert_eq!(conference["delivery"], "rest");
    assert_eq!(conference["would_answer"], "{}");
    assert!(
        conference["would_send"]
            .as_str()
            .is_some_and(|form| form.contains("Instruction=conference")
                && form.contains("From=%2B15005550100")),
        "{conference}"
    );
}

#[test]
fn check_lists_shadow_rules_and_refuses_a_bad_mode() {
    // Arrange
    let mut good = command(RULES, &[]);
    good.arg("check");
    let mut bad = command(
        "[[rules]]\nname = \"r\"\nmode = \"dry-run\"\ninstruction = \"accept\"\n\n[default]\ninstruction = \"accept\"\nmode = \"shadow\"\n",
        &[],
    );
    bad.arg("check");

    // Act
    let good = run_to_end(good);
    let bad = run_to_end(bad);

    // Assert
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert_eq!(good.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "shadow rule \"new-vip-routing\": reject, inline (evaluated and counted, never answers)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok, 1 rule, 2 shadow rules and a default"),
        "{stdout}"
    );
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("rule \"r\", field `mode`: must be \"live\" (the default: the rule answers) or \"shadow\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("[default], field `mode`: [default] takes no `mode`"),
        "{stdout}"
    );
}

#[test]
fn explain_shows_what_a_shadow_rule_would_answer() {
    // Arrange
    let mut explain = command(RULES, &[]);
    explain
        .arg("explain")
        .arg(temp_file("vip.form", &encode(&vip())));

    // Act
    let output = run_to_end(explain);

    // Assert
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("rule \"vip\": answers"), "{stdout}");
    assert!(
        stdout.contains("shadow rule \"new-vip-routing\": would answer reject (inline), but shadow rules never answer"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    would send Instruction=conference"),
        "{stdout}"
    );
}

#[test]
fn test_cases_expect_what_shadow_rules_would_answer() {
    // Arrange
    let rules = temp_file("shadow-rules.toml", RULES);
    let cases = temp_file(
        "shadow.test.toml",
        r#"
        [[cases]]
        name = "a VIP is accepted, and both shadow rules would answer"
        task = { vip = true, to = "+15005550100" }
        expect = { rule = "vip", shadow = ["new-conference", "new-vip-routing"] }

        [[cases]]
        name = "anyone else: no shadow rule would"
        task = { vip = false }
        expect = { rule = "default", shadow = [] }

        [[cases]]
        name = "wrongly expects no shadow rule"
        task = { vip = true, to = "+15005550100" }
        expect = { rule = "vip", shadow = [] }
        "#,
    );
    let mut run = command(RULES, &[]);
    run.arg("test").arg("--rules").arg(&rules).arg(&cases);
    let unknown = temp_file(
        "shadow-unknown.test.toml",
        "[[cases]]\nname = \"n\"\nexpect = { shadow = [\"vip\"] }\n",
    );
    let mut refused = command(RULES, &[]);
    refused.arg("test").arg("--rules").arg(&rules).arg(&unknown);

    // Act
    let output = run_to_end(run);
    let refused = run_to_end(refused);

    // Assert
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("case a VIP is accepted, and both shadow rules would answer ... ok"),
        "{stdout}"
    );
    assert!(
        stdout.contains("case anyone else: no shadow rule would ... ok"),
        "{stdout}"
    );
    assert!(
        stdout.contains("case wrongly expects no shadow rule ... FAILED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("shadow rule \"new-vip-routing\": would answer reject"),
        "the trace shows the shadow rules: {stdout}"
    );
    assert!(stdout.contains("2 passed; 1 failed"), "{stdout}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "field `expect.shadow`: `vip` is no shadow rule of the rules file: expected new-vip-routing, new-conference"
        ),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty());
}
