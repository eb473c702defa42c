//! `test`: rule test cases run offline. Every cases file is read and checked first (against
//! the rules too, and each case's callback typed as a live one is), so a mistake in one
//! prints its problems and no results; then each case is decided, and the results are
//! printed like `cargo test`, as one JSON document, or as JUnit XML.

mod coverage;
mod json;
mod junit;
mod outcome;
mod text;
mod trace;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jiff::Timestamp;

use super::fail;
use crate::rules::{self, cases};
use crate::settings::Settings;
use coverage::Coverage;
use outcome::Outcome;

/// How `test` prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Like `cargo test`.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML, for CI systems.
    Junit,
}

/// The results of one cases file.
pub struct Suite {
    /// As given on the command line.
    pub file: PathBuf,
    pub outcomes: Vec<Outcome>,
}

/// Everything one run found.
pub struct Report {
    /// The instant the run started: the clock of every case without `at`.
    pub started: Timestamp,
    pub suites: Vec<Suite>,
    /// With `--coverage`.
    pub coverage: Option<Coverage>,
}

impl Report {
    pub fn outcomes(&self) -> impl Iterator<Item = &Outcome> {
        self.suites.iter().flat_map(|suite| suite.outcomes.iter())
    }

    pub fn failed(&self) -> usize {
        self.outcomes().filter(|outcome| !outcome.passed()).count()
    }

    pub fn passed(&self) -> usize {
        self.outcomes().filter(|outcome| outcome.passed()).count()
    }

    /// No case failed, and coverage (when asked for) has no gap.
    pub fn ok(&self) -> bool {
        self.failed() == 0 && self.coverage.as_ref().is_none_or(Coverage::complete)
    }
}

pub fn run(
    config: Option<&Path>,
    rules: Option<&Path>,
    coverage: bool,
    format: Format,
    files: &[PathBuf],
) -> ExitCode {
    let mut settings = match Settings::read(config) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    if let Some(rules) = rules {
        settings.rules.path = rules.to_path_buf();
    }
    let rules = match rules::load(&settings.rules.path) {
        Ok(rules) => rules,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    // One instant for the whole run, so that cases without `at` agree on every schedule.
    let now = Timestamp::now();
    // Whole seconds: nothing in a schedule is finer, and the instant is printed.
    let started = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let mut prepared = Vec::with_capacity(files.len());
    let mut refused = false;
    for file in files {
        match cases::load(file, &rules) {
            Ok(cases) => prepared.push((file, cases)),
            Err(error) => {
                eprintln!("{error}");
                refused = true;
            }
        }
    }
    if refused {
        return ExitCode::FAILURE;
    }
    let suites: Vec<Suite> = prepared
        .into_iter()
        .map(|(file, cases)| Suite {
            file: file.clone(),
            outcomes: cases
                .iter()
                .map(|case| outcome::run(case, &rules, case.at.unwrap_or(started)))
                .collect(),
        })
        .collect();
    let mut report = Report {
        started,
        suites,
        coverage: None,
    };
    if coverage {
        let outcomes: Vec<&Outcome> = report.outcomes().collect();
        let coverage = Coverage::of(&rules, &outcomes);
        report.coverage = Some(coverage);
    }
    match format {
        Format::Text => print!("{}", text::render(&report)),
        Format::Json => println!("{}", json::render(&report)),
        Format::Junit => print!("{}", junit::render(&report)),
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
