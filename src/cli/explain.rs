//! `explain`: one callback evaluated offline (no signature, no network): every rule tried
//! and why it answered or not, then the answer exactly as it would be sent.

use std::path::Path;
use std::process::ExitCode;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{fail, read_form_body};
use crate::callback::AssignmentCallback;
use crate::callback::form;
use crate::callback::verified::Verified;
use crate::rules::trace::{Shadows, redacted, shadow_lines, trial_lines};
use crate::rules::{self, Decision, Delivery, RuleSet, Trial};
use crate::settings::Settings;
use crate::twilio::client::{ReservationTarget, reservation_url};

/// What to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// The files `explain` reads: the settings (optional), the rules (instead of the settings'
/// `rules.path`), and the callback's form (a file, or stdin).
#[derive(Debug, Clone, Copy)]
pub struct Files<'a> {
    pub config: Option<&'a Path>,
    pub rules: Option<&'a Path>,
    pub form: Option<&'a Path>,
}

pub fn run(files: Files<'_>, at: Option<&str>, output: Output) -> ExitCode {
    let mut settings = match Settings::read(files.config) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    if let Some(rules) = files.rules {
        settings.rules.path = rules.to_path_buf();
    }
    let file = files.form;
    let rules = match rules::load(&settings.rules.path) {
        Ok(rules) => rules,
        Err(error) => return fail(&error),
    };
    let now = match at.map(str::parse::<Timestamp>) {
        None => Timestamp::now(),
        Some(Ok(at)) => at,
        Some(Err(error)) => {
            return fail(&format!(
                "--at is not an RFC 3339 instant (e.g. 2026-12-24T15:00:00Z or \
                 2026-12-24T10:00:00-05:00): {error}"
            ));
        }
    };
    let body = match read_form_body(file) {
        Ok(body) => body,
        Err(error) => return fail(&error),
    };
    let callback = match form::parse(body.as_bytes())
        .map_err(|e| e.to_string())
        .and_then(|pairs| {
            AssignmentCallback::from_verified(Verified::unchecked(pairs)).map_err(|e| e.to_string())
        }) {
        Ok(callback) => callback,
        Err(error) => return fail(&format!("the callback cannot be read: {error}")),
    };
    let (trials, decision) = rules.explain(&callback, now);
    let shadows = rules.explain_shadows(&callback, now);
    let rest = decision.update_form.as_ref().map(|form| {
        let target = ReservationTarget {
            workspace_sid: callback.workspace_sid.clone(),
            worker_sid: callback.worker_sid.clone(),
            task_sid: callback.task_sid.clone(),
            reservation_sid: callback.reservation_sid.clone(),
        };
        let url = url::Url::parse(&settings.twilio.api_base_url)
            .map(|base| reservation_url(&base, settings.twilio.reservation_endpoint, &target))
            .map(|url| url.to_string())
            .unwrap_or_else(|_| settings.twilio.api_base_url.clone());
        (url, redacted(form))
    });
    let encoded = rules
        .rules()
        .find(|rule| rule.name == decision.rule)
        .map(|rule| rule.templated_url_fields())
        .unwrap_or_default();
    let clocks = clocks(&rules, now);
    match output {
        Output::Text => {
            print_text(now, &clocks, &trials, &decision, rest, &encoded);
            print_shadows_text(&shadows);
        }
        Output::Json => print_json(now, &clocks, &trials, &decision, rest, &encoded, &shadows),
    }
    ExitCode::SUCCESS
}

type Rest = Option<(String, Vec<(&'static str, String)>)>;

/// Shadow rules after the answer: tried the same way, and never answering.
fn print_shadows_text(shadows: &Shadows<'_>) {
    for line in shadow_lines(shadows) {
        println!("{line}");
    }
}

fn shadows_json(shadows: &Shadows<'_>) -> Vec<Value> {
    shadows
        .iter()
        .map(|(trial, decision)| {
            json!({
                "rule": trial.rule,
                "matched": trial.when.as_ref().is_none_or(|w| w.matched),
                "reasons": trial.when.as_ref().map(|w| {
                    w.reasons.iter().map(ToString::to_string).collect::<Vec<_>>()
                }).unwrap_or_default(),
                "skipped": trial.skip.as_ref().map(ToString::to_string),
                "would_answer": decision.as_ref().map(|decision| json!({
                    "instruction": decision.instruction.name(),
                    "delivery": decision.delivery.name(),
                    "answer": serde_json::from_slice::<Value>(&decision.answer).unwrap_or(Value::Null),
                    "form": decision.update_form.as_deref().map(|form| {
                        redacted(form).iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()
                    }),
                })),
            })
        })
        .collect()
}

/// One schedule at the instant explained, in its own zone.
struct Clock<'a> {
    name: &'a str,
    zone: &'a str,
    local: String,
    open: bool,
}

/// Each schedule's own clock at `now`: what its windows are judged by.
fn clocks(rules: &RuleSet, now: Timestamp) -> Vec<Clock<'_>> {
    rules
        .schedules()
        .into_iter()
        .map(|(name, schedule)| Clock {
            name,
            zone: schedule.timezone_name(),
            local: schedule.local_time(now),
            open: schedule.is_open(now),
        })
        .collect()
}

/// Each schedule at `now`, one line each, in `explain`'s words (for `test`'s traces too).
pub fn schedule_lines(rules: &RuleSet, now: Timestamp) -> Vec<String> {
    clocks(rules, now).iter().map(Clock::line).collect()
}

impl Clock<'_> {
    fn line(&self) -> String {
        let state = if self.open { "open" } else { "closed" };
        format!(
            "schedule \"{}\": {state} ({} in {})",
            self.name, self.local, self.zone
        )
    }
}

fn print_text(
    now: Timestamp,
    clocks: &[Clock<'_>],
    trials: &[Trial<'_>],
    decision: &Decision<'_>,
    rest: Rest,
    encoded: &[&str],
) {
    println!("at {now}");
    for clock in clocks {
        println!("{}", clock.line());
    }
    for line in trial_lines(trials) {
        println!("{line}");
    }
    println!(
        "answer: 200 application/json {}",
        String::from_utf8_lossy(&decision.answer)
    );
    if let Some((url, form)) = rest {
        println!("then: POST {url}");
        for (key, value) in form {
            println!("    {key}={value}");
        }
    }
    if !encoded.is_empty() {
        println!(
            "note: values filled into {} are percent-encoded for the URL",
            encoded
                .iter()
                .map(|key| format!("`{key}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

fn print_json(
    now: Timestamp,
    clocks: &[Clock<'_>],
    trials: &[Trial<'_>],
    decision: &Decision<'_>,
    rest: Rest,
    encoded: &[&str],
    shadows: &Shadows<'_>,
) {
    let trials: Vec<Value> = trials
        .iter()
        .map(|trial| {
            json!({
                "rule": trial.rule,
                "answered": trial.answered(),
                "matched": trial.when.as_ref().is_none_or(|w| w.matched),
                "reasons": trial.when.as_ref().map(|w| {
                    w.reasons.iter().map(ToString::to_string).collect::<Vec<_>>()
                }).unwrap_or_default(),
                "skipped": trial.skip.as_ref().map(ToString::to_string),
            })
        })
        .collect();
    let answer: Value = serde_json::from_slice(&decision.answer).unwrap_or(Value::Null);
    let schedules: Vec<Value> = clocks
        .iter()
        .map(|clock| {
            json!({
                "name": clock.name,
                "timezone": clock.zone,
                "local_time": clock.local,
                "open": clock.open,
            })
        })
        .collect();
    let document = json!({
        "at": now.to_string(),
        "schedules": schedules,
        "rules": trials,
        "decision": {
            "rule": decision.rule,
            "instruction": decision.instruction.name(),
            "delivery": decision.delivery.name(),
            "answer": answer,
            "rest": rest.filter(|_| decision.delivery == Delivery::Rest).map(|(url, form)| json!({
                "method": "POST",
                "url": url,
                "form": form.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            })),
            "url_encoded_fields": encoded,
        },
        "shadows": shadows_json(shadows),
    });
    println!("{document}");
}
