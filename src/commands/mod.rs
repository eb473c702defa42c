//! What each command of the command line does. Each returns the process's exit code and
//! prints its own output; problems go to stderr, one per line.

pub mod check;
pub mod explain;
pub mod healthcheck;
pub mod serve;
pub mod sign;

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

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
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
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
