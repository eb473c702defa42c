//! `check`: load settings and rules as `serve` would, and list the rules or every problem.

use std::path::Path;
use std::process::ExitCode;

use super::fail;
use crate::rules;
use crate::settings::{Settings, SettingsError};
use crate::twilio::client::TwilioClient;

pub fn run(config: Option<&Path>) -> ExitCode {
    let settings = match Settings::load(config) {
        Ok(settings) => settings,
        // Rules are often checked where the secrets are not (a CI job, a laptop): say what
        // `serve` would need, and go on checking.
        Err(SettingsError::MissingAuthToken) => match Settings::read(config) {
            Ok(settings) => {
                println!("note: {}", SettingsError::MissingAuthToken);
                settings
            }
            Err(error) => return fail(&error),
        },
        Err(error) => return fail(&error),
    };
    let rules = match rules::load(&settings.rules.path) {
        Ok(rules) => rules,
        Err(error) => {
            println!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let file = settings.rules.path.display();
    for rule in rules.rules() {
        let schedules = rule.schedules();
        let uses = if schedules.is_empty() {
            String::new()
        } else {
            format!(", schedules: {}", schedules.join(", "))
        };
        println!(
            "{file}: rule \"{}\": {}, {}{uses}",
            rule.name,
            rule.instruction,
            rule.delivery.name()
        );
    }
    for warning in &rules.warnings {
        println!("{file}: warning: {warning}");
    }
    if rules.uses_rest()
        && let Err(error) = TwilioClient::new(&settings.twilio)
    {
        println!("note: {error}");
    }
    println!("{file}: ok, {} rules and a default", rules.len());
    ExitCode::SUCCESS
}
