//! `healthcheck`: exit 0 when the configured service answers `GET /health` with 200.

use std::path::Path;
use std::process::ExitCode;

use super::fail;
use crate::cli::probe;
use crate::settings::Settings;

pub fn run(config: Option<&Path>) -> ExitCode {
    // Only where the service listens matters here, so secrets need not be set.
    let settings = match Settings::read(config) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    match probe::check(&settings.server.host, settings.server.port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}
