//! `serve`: run the service until SIGTERM or SIGINT.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use super::fail;
use crate::app::Application;
use crate::settings::{self, Settings};
use crate::telemetry;

pub fn run(config: Option<&Path>) -> ExitCode {
    let settings = match Settings::load(config) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    // Held to the end of `run`, so every line is written before the process exits.
    let stdout = std::io::stdout();
    let colour = stdout.is_terminal();
    let _log_writer = telemetry::init(settings.log.format, stdout, colour);
    let environment: Vec<(String, String)> = std::env::vars().collect();
    for warning in settings::unknown_environment(&environment) {
        tracing::warn!("{warning}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime must start: the machine is out of threads or memory");
    runtime.block_on(async {
        let application = match Application::build(&settings) {
            Ok(application) => application,
            Err(error) => return fail(&error),
        };
        tracing::info!(
            port = application.port(),
            admin_port = application.admin_port(),
            callback_path = %settings.callback.path,
            "listening"
        );
        match application.run_until_stopped().await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(error) => fail(&error),
        }
    })
}
