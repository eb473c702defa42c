//! Each event writes its line and its counters together: checked through the real
//! subscriber (JSON format) into a captured sink, and the real metrics registry.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use super::*;
use crate::settings::LogFormat;
use crate::telemetry::subscriber;

/// Log lines written in-process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> MakeWriter<'w> for Captured {
    type Writer = Captured;

    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    /// One JSON value a line.
    fn lines(&self) -> Vec<serde_json::Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

/// Runs `emit` under the JSON subscriber; returns the lines and the metrics it left.
fn capture(emit: impl FnOnce(&Metrics)) -> (Vec<serde_json::Value>, String) {
    let sink = Captured::default();
    let metrics = Metrics::new();
    let subscriber = subscriber(LogFormat::Json, EnvFilter::new("info"), sink.clone(), false);
    tracing::subscriber::with_default(subscriber, || emit(&metrics));
    (sink.lines(), metrics.render())
}

#[test]
fn an_answered_callback_is_one_line_with_its_span_and_one_count() {
    let rule = Arc::new("vip".to_owned());
    let (lines, metrics) = capture(|metrics| {
        CallbackAnswered {
            request_id: "req-1",
            idempotency_token: Some("AC1-retry-token"),
            task_sid: "WT1",
            reservation_sid: "WR1",
            worker_sid: "WK1",
            rule: &rule,
            instruction: "accept",
            delivery: "inline",
            outcome: "answered",
            took: Duration::from_micros(80),
        }
        .emit(metrics);
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["fields"]["message"], "callback answered");
    assert_eq!(lines[0]["span"]["reservation_sid"], "WR1");
    assert_eq!(lines[0]["span"]["rule"], "vip");
    assert_eq!(lines[0]["span"]["request_id"], "req-1");
    assert_eq!(lines[0]["span"]["idempotency_token"], "AC1-retry-token");
    assert!(
        metrics.contains(
            r#"assignment_router_callbacks_total{rule="vip",instruction="accept",delivery="inline",outcome="answered"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("assignment_router_callback_duration_seconds_count 1"));
}

#[test]
fn a_refused_signature_is_logged_as_a_warning_and_counted_twice() {
    let (lines, metrics) = capture(|metrics| {
        CallbackRefused {
            event: false,
            request_id: "req-2",
            idempotency_token: None,
            outcome: "forbidden",
            reason: &"the signature does not match",
            signature_failure: Some("mismatch"),
            diagnosis: Some(SignatureDiagnosis {
                urls_tried: "https://router.example.com/assignment",
                host: "127.0.0.1:8080",
                path: "/assignment",
                hint: Some("the request came for host 127.0.0.1"),
            }),
            took: Duration::from_micros(30),
        }
        .emit(metrics);
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(lines[0]["fields"]["reason"], "the signature does not match");
    assert_eq!(lines[0]["span"]["outcome"], "forbidden");
    assert!(lines[0]["span"].get("idempotency_token").is_none());
    assert_eq!(
        lines[0]["fields"]["urls_tried"],
        "https://router.example.com/assignment"
    );
    assert_eq!(lines[0]["fields"]["host"], "127.0.0.1:8080");
    assert_eq!(lines[0]["fields"]["path"], "/assignment");
    assert_eq!(
        lines[0]["fields"]["hint"],
        "the request came for host 127.0.0.1"
    );
    assert!(
        metrics.contains(r#"assignment_router_signature_failures_total{reason="mismatch"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"outcome="forbidden"} 1"#), "{metrics}");
}

#[test]
fn another_refusal_counts_no_signature_failure() {
    let (_, metrics) = capture(|metrics| {
        CallbackRefused {
            event: false,
            request_id: "req-3",
            idempotency_token: None,
            outcome: "bad_request",
            reason: &"the callback has no ReservationSid",
            signature_failure: None,
            diagnosis: None,
            took: Duration::from_micros(30),
        }
        .emit(metrics);
    });
    for reason in crate::telemetry::metrics::SIGNATURE_FAILURES {
        let zero = format!("assignment_router_signature_failures_total{{reason=\"{reason}\"}} 0");
        assert!(metrics.contains(&zero), "{zero}\n{metrics}");
    }
    assert!(metrics.contains(r#"outcome="bad_request"} 1"#), "{metrics}");
}

#[test]
fn every_update_outcome_has_its_level_label_and_count() {
    let cases: Vec<(UpdateOutcome<'static>, &str, &str)> = vec![
        (
            UpdateOutcome::Landed {
                latency: Duration::from_millis(12),
                unconfirmed: None,
            },
            "INFO",
            "landed",
        ),
        (
            UpdateOutcome::MovedOn {
                status: 410,
                message: "gone",
            },
            "INFO",
            "moved_on",
        ),
        (
            UpdateOutcome::FinalError {
                status: 400,
                code: Some(20001),
                message: Some("bad"),
                more_info: None,
            },
            "ERROR",
            "final_error",
        ),
        (
            UpdateOutcome::Expired {
                last_error: "HTTP 503",
            },
            "ERROR",
            "expired",
        ),
        (
            UpdateOutcome::Dropped { max_pending: 7 },
            "ERROR",
            "dropped",
        ),
        (
            UpdateOutcome::Redirected {
                status: 307,
                origin: "https://elsewhere.example",
            },
            "ERROR",
            "final_error",
        ),
    ];
    for (outcome, level, label) in cases {
        let (lines, metrics) = capture(|metrics| {
            UpdateEnded {
                reservation_sid: "WR9",
                rule: "rest-rule",
                instruction: "conference",
                attempts: 2,
                outcome,
            }
            .emit(metrics);
        });
        assert_eq!(lines.len(), 1, "{label}: {lines:?}");
        assert_eq!(lines[0]["level"], level, "{label}");
        assert_eq!(lines[0]["fields"]["outcome"], label);
        assert!(crate::telemetry::metrics::UPDATE_OUTCOMES.contains(&label));
        assert_eq!(lines[0]["fields"]["reservation_sid"], "WR9");
        assert!(
            metrics.contains(&format!(
                r#"assignment_router_rest_updates_total{{outcome="{label}"}} 1"#
            )),
            "{label}: {metrics}"
        );
        let timed = metrics.contains("assignment_router_rest_update_duration_seconds_count 1");
        assert_eq!(timed, label == "landed", "{label}: {metrics}");
    }
}

#[test]
fn an_unconfirmed_landing_also_warns() {
    let (lines, _) = capture(|metrics| {
        UpdateEnded {
            reservation_sid: "WR9",
            rule: "rest-rule",
            instruction: "accept",
            attempts: 1,
            outcome: UpdateOutcome::Landed {
                latency: Duration::from_millis(3),
                unconfirmed: Some(204),
            },
        }
        .emit(metrics);
    });
    let levels: Vec<_> = lines.iter().map(|line| line["level"].clone()).collect();
    assert_eq!(levels, ["WARN", "INFO"]);
}

#[test]
fn a_reload_sets_the_rules_gauge_and_counts_its_outcome() {
    let (lines, metrics) = capture(|metrics| {
        RulesReloaded {
            file: "rules.toml",
            trigger: "SIGHUP",
            rules: 4,
            series: &[],
        }
        .emit(metrics);
        RulesNotReloaded {
            file: "rules.toml",
            trigger: "changed on disk: rules.toml",
            problems: &["rule `a`: field `when`: oops", "rule `b`: unknown field"],
        }
        .emit(metrics);
    });
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0]["fields"]["message"], "rules reloaded");
    assert_eq!(lines[0]["fields"]["trigger"], "SIGHUP");
    assert_eq!(lines[3]["fields"]["problems"], 2);
    assert_eq!(lines[3]["fields"]["trigger"], "changed on disk: rules.toml");
    assert!(
        metrics.contains("assignment_router_rules_loaded 4"),
        "{metrics}"
    );
    assert!(metrics.contains(r#"assignment_router_rule_reloads_total{outcome="success"} 1"#));
    assert!(metrics.contains(r#"assignment_router_rule_reloads_total{outcome="failure"} 1"#));
}

#[test]
fn a_skipped_rule_is_a_warning_naming_rule_and_path_and_counted_per_rule() {
    let rule = Arc::new("vip".to_owned());
    let (lines, metrics) = capture(|metrics| {
        RuleSkipped {
            rule: &rule,
            field: "to",
            path: Some("worker.contact_uri"),
            reason: "has no value",
            label: "no_value",
        }
        .emit(metrics);
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(lines[0]["fields"]["rule"], "vip");
    assert_eq!(lines[0]["fields"]["path"], "worker.contact_uri");
    assert!(
        metrics
            .contains(r#"assignment_router_rules_skipped_total{rule="vip",reason="no_value"} 1"#),
        "{metrics}"
    );
}

#[test]
fn dropped_records_are_always_counted_and_logged_only_when_allowed() {
    let (lines, metrics) = capture(|metrics| {
        RecordsDropped {
            count: 3,
            why: "the recorder is behind (its queue is full)",
        }
        .emit(metrics, true);
        RecordsDropped {
            count: 2,
            why: "the recorder is behind (its queue is full)",
        }
        .emit(metrics, false);
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(lines[0]["fields"]["records"], 3);
    let message = lines[0]["fields"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("decision records not kept: the recorder is behind"),
        "{message}"
    );
    assert!(
        metrics.contains("assignment_router_decision_records_dropped_total 5"),
        "{metrics}"
    );
}

#[test]
fn held_callbacks_are_always_counted_by_outcome_and_logged_only_when_allowed() {
    let (lines, metrics) = capture(|metrics| {
        CallbackHeld {
            waited: std::time::Duration::from_millis(250),
            room: false,
            pending: 5_001,
        }
        .emit(metrics, true);
        for _ in 0..2 {
            CallbackHeld {
                waited: std::time::Duration::from_millis(3),
                room: true,
                pending: 4_999,
            }
            .emit(metrics, false);
        }
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(lines[0]["fields"]["waited_ms"], 250);
    assert_eq!(lines[0]["fields"]["room"], false);
    assert_eq!(lines[0]["fields"]["pending"], 5_001);
    for series in [
        "assignment_router_rest_callbacks_held_total{outcome=\"full\"} 1",
        "assignment_router_rest_callbacks_held_total{outcome=\"room\"} 2",
    ] {
        assert!(metrics.contains(series), "{series} in {metrics}");
    }
}

#[test]
fn deferred_updates_are_always_counted_and_logged_only_when_allowed() {
    let (lines, metrics) = capture(|metrics| {
        UpdateDeferred {
            reservation_sid: "WR0123456789abcdef0123456789abcdef",
        }
        .emit(metrics, true);
        UpdateDeferred {
            reservation_sid: "WR0123456789abcdef0123456789abcdee",
        }
        .emit(metrics, false);
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(
        lines[0]["fields"]["reservation_sid"],
        "WR0123456789abcdef0123456789abcdef"
    );
    assert!(
        metrics.contains("assignment_router_outbox_deferrals_total 2"),
        "{metrics}"
    );
}
