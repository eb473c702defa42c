//! The command line: which command to run, with which settings file. Each command returns the
//! process's exit code and prints its own output; problems go to stderr, one per line.

pub mod check;
pub mod decisions;
pub mod explain;
pub mod healthcheck;
pub mod migrate;
pub mod probe;
pub mod schema;
pub mod serve;
pub mod sign;
pub mod test;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use explain::Output;

/// Answers Twilio TaskRouter assignment callbacks with the instruction your rules choose.
#[derive(Debug, Parser)]
#[command(name = "assignment-router", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Settings file (default: config/default.toml when it exists, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default command).
    Serve,
    /// Load settings and rules as `serve` would: list the rules, or every problem (exit 1).
    Check {
        /// The rules file to check, instead of the settings' `rules.path` (no settings file
        /// needed).
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// Treat warnings (lints) as problems: print them and exit 1.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Evaluate one callback offline: each rule tried and why, then the exact answer.
    Explain {
        /// The rules file to use, instead of the settings' `rules.path` (no settings file
        /// needed).
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// The urlencoded body TaskRouter sends (a file, or `-` or nothing for stdin).
        form_file: Option<PathBuf>,
        /// The instant to read schedules at (RFC 3339, e.g. 2026-12-24T15:00:00Z).
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the X-Twilio-Signature for a body and URL, made with TWILIO_AUTH_TOKEN.
    Sign {
        /// The URL exactly as Twilio would call it (query string included).
        #[arg(long)]
        url: String,
        /// The urlencoded body (a file, or `-` or nothing for stdin).
        form_file: Option<PathBuf>,
    },
    /// Exit 0 when the configured service answers `GET /health` with 200 (for a container
    /// HEALTHCHECK: the runtime image has no shell tools).
    Healthcheck,
    /// Run rule test cases offline (cases files as in the README's "Testing your rules");
    /// exit 1 when any fails.
    Test {
        /// The rules file to test, instead of the settings' `rules.path` (no settings file
        /// needed).
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// Also list the rules no case reached, and fail when there is one.
        #[arg(long)]
        coverage: bool,
        /// How to print the results.
        #[arg(long, value_enum, default_value_t = test::Format::Text)]
        format: test::Format,
        /// Cases files (TOML, `[[cases]]`).
        #[arg(required = true, value_name = "CASES")]
        cases: Vec<PathBuf>,
    },
    /// Print the JSON Schema of the rules file, for editors (taplo, Even Better TOML) and CI.
    Schema,
    /// Print the decision record of each Reservation (`WR…`), fetched from the running
    /// service's admin listener (with `admin.bearer_token` when it is set).
    Decisions {
        /// Print the records as JSON (one document: an array), instead of text.
        #[arg(long)]
        json: bool,
        /// ReservationSids (`WR…`).
        #[arg(required = true)]
        reservations: Vec<String>,
    },
    /// Apply the shared store's schema migrations (store.url or DATABASE_URL) and exit;
    /// `serve` applies them too.
    Migrate,
}

impl Cli {
    /// Runs the chosen command.
    pub fn run(self) -> ExitCode {
        let config = self.config.as_deref();
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => serve::run(config),
            Command::Check {
                rules,
                deny_warnings,
            } => check::run(config, rules.as_deref(), deny_warnings),
            Command::Explain {
                rules,
                form_file,
                at,
                json,
            } => {
                let output = if json { Output::Json } else { Output::Text };
                let files = explain::Files {
                    config,
                    rules: rules.as_deref(),
                    form: form_file.as_deref(),
                };
                explain::run(files, at.as_deref(), output)
            }
            Command::Sign { url, form_file } => sign::run(config, &url, form_file.as_deref()),
            Command::Healthcheck => healthcheck::run(config),
            Command::Test {
                rules,
                coverage,
                format,
                cases,
            } => test::run(config, rules.as_deref(), coverage, format, &cases),
            Command::Schema => schema::run(),
            Command::Migrate => migrate::run(config),
            Command::Decisions { json, reservations } => {
                decisions::run(config, &reservations, json)
            }
        }
    }
}

/// Prints `error: …` on stderr and fails.
pub fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

/// A form body from a file, or from stdin for `-` or no file. Trailing line breaks are
/// dropped, as `curl --data @file` drops them, so a saved body signs the way it is sent.
pub fn read_form_body(file: Option<&Path>) -> Result<String, String> {
    let mut text = String::new();
    match file {
        Some(path) if path != Path::new("-") => {
            text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", absolute(path).display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
        }
    }
    let trimmed = text.trim_end_matches(['\r', '\n']).len();
    text.truncate(trimmed);
    Ok(text)
}

/// The path as the operator can find it, whatever the working directory was: for "cannot
/// read" messages.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
