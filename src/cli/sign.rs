//! `sign`: the `X-Twilio-Signature` Twilio would send for a body and URL, for curl.

use std::path::Path;
use std::process::ExitCode;

use secrecy::ExposeSecret;

use super::{fail, read_form_body};
use crate::callback::form;
use crate::callback::signature::{self, Payload};
use crate::settings::Settings;

pub fn run(config: Option<&Path>, url: &str, file: Option<&Path>) -> ExitCode {
    let settings = match Settings::read(config) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    let Some(token) = settings.twilio.auth_token else {
        return fail(&"TWILIO_AUTH_TOKEN is not set: it is the key the signature is made with");
    };
    let body = match read_form_body(file) {
        Ok(body) => body,
        Err(error) => return fail(&error),
    };
    if body.is_empty() {
        // Almost always a mistake (a file name mistyped, stdin not redirected): a real
        // callback is never empty. The signature of the bare URL is still printed.
        eprintln!(
            "warning: the body is empty, so this signs the URL alone; pass the callback's \
             urlencoded body as a file or on standard input"
        );
    }
    let pairs = match form::parse(body.as_bytes()) {
        Ok(pairs) => pairs,
        Err(error) => return fail(&error),
    };
    println!(
        "{}",
        signature::compute(token.expose_secret(), url, Payload::Form(&pairs))
    );
    ExitCode::SUCCESS
}
