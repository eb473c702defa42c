//! `schema`: print the JSON Schema of the rules file, for editors (taplo, Even Better TOML)
//! and CI.

use std::io::Write;
use std::process::ExitCode;

use super::fail;

/// The committed `schemas/rules.schema.json`, built in: what `schema` prints and what the
/// shipped rules files' `#:schema` line points editors at are the same bytes.
pub const RULES_SCHEMA: &str = include_str!("../../schemas/rules.schema.json");

pub fn run() -> ExitCode {
    // `print!` would panic on a closed or unwritable stdout; say so instead.
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(RULES_SCHEMA.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&format!(
            "cannot write the schema to standard output: {error}"
        )),
    }
}

#[cfg(test)]
mod tests;
