//! `check`: load settings and rules as `serve` would (all but the presence of secrets), and
//! list the rules or every problem.

use std::path::Path;
use std::process::ExitCode;

use super::fail;
use crate::rules;
use crate::settings::{self, Settings};
use crate::store;
use crate::twilio::client::TwilioClient;

/// `rules`, when given, is checked instead of the settings' `rules.path`.
pub fn run(config: Option<&Path>, rules: Option<&Path>, deny_warnings: bool) -> ExitCode {
    // Everything `serve` checks but the presence of secrets: rules are often checked where
    // the secrets are not (a CI job, a laptop). Say what `serve` would need, and go on.
    let mut settings = match Settings::load_without_secrets(config) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    if let Some(rules) = rules {
        settings.rules.path = rules.to_path_buf();
    }
    if let Some(missing) = settings.missing_secret() {
        println!("note: {missing}");
    }
    let environment: Vec<(String, String)> = std::env::vars().collect();
    for warning in settings::unknown_environment(&environment) {
        println!("warning: {warning}");
    }
    if let Some(url) = &settings.store.url {
        match store::check_url(url) {
            Ok(target) => println!("store: shared, PostgreSQL at {target}"),
            Err(error) => return fail(&error),
        }
    }
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
    for rule in rules.shadows() {
        println!(
            "{file}: shadow rule \"{}\": {}, {} (evaluated and counted, never answers)",
            rule.name,
            rule.instruction,
            rule.delivery.name()
        );
    }
    for warning in &rules.warnings {
        println!("{file}: warning: {warning}");
    }
    if deny_warnings && !rules.warnings.is_empty() {
        let count = rules.warnings.len();
        println!(
            "{file}: {count} warning{}, and --deny-warnings makes {} problems",
            if count == 1 { "" } else { "s" },
            if count == 1 { "it" } else { "them" }
        );
        return ExitCode::FAILURE;
    }
    if rules.uses_rest()
        && let Err(error) = TwilioClient::new(&settings.twilio)
    {
        println!("note: {error}");
    }
    println!("{file}: ok, {}", rules.count_in_words());
    ExitCode::SUCCESS
}
