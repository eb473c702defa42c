//! No secret reaches any output. Every path of the binary (callbacks signed well and badly,
//! REST updates against a stand-in Twilio answering with its own error bodies, refusals at
//! start, `check`, `explain`, `sign`, `healthcheck`, SIGTERM) runs at the most verbose log
//! level, `RUST_LOG=trace`, which also turns on actix's, hyper's and reqwest's own trace
//! lines, in both log formats. Every byte each process writes, and every HTTP answer, is
//! searched for the auth token, the previous token, the API secret, the Basic auth values,
//! the passwords of the configured callback URLs and of the shared store, and every
//! signature sent.
//!
//! This module holds what the scenarios share: the secrets, the audit that searches for
//! them, and the verbose command; each scenario is a file of its own.

mod callbacks;
mod commands;
mod diagnosis;
mod startup;
mod store;

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::support::app::*;
use crate::support::process::{command, run_named, strip_ansi};
use crate::support::twilio::basic_credentials;

const AUTH_TOKEN: &str = "SECRET-token-current-5f1c9a7e31d0";
const PREVIOUS_TOKEN: &str = "SECRET-token-previous-b2d48e06a7f3";
/// A token the service does not know: what a forger might sign with.
const WRONG_TOKEN: &str = "SECRET-token-wrong-7c03f1d9e5b2";
const API_SECRET: &str = "SECRET-apikey-secret-e94a2b6d0c18";
const API_KEY: &str = "SK0123456789abcdef0123456789abcdef";
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

/// Runs a command to its end and records both its outputs; returns them with the exit code.
fn run_recorded(audit: &mut Audit, what: &str, command: Command) -> (Option<i32>, String, String) {
    let output = run_named(what, command);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    audit.record(format!("the stdout of {what}"), stdout.clone());
    audit.record(format!("the stderr of {what}"), stderr.clone());
    (output.status.code(), stdout, stderr)
}

/// A callback routed by the rules to `route`, for its own Reservation.
fn callback_for(route: &str, reservation: usize) -> Vec<(String, String)> {
    set_reservation(
        callback(
            json!({"route": route, "language": "en"}),
            json!({"contact_uri": "client:alice"}),
        ),
        reservation,
    )
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
