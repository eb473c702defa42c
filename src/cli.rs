//! The command line: which command to run, with which settings file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::configuration::Settings;
use crate::probe;
use crate::startup::Application;
use crate::telemetry;

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
    /// Exit 0 when the configured service answers `GET /health` with 200 (for a container
    /// HEALTHCHECK: the runtime image has no shell tools).
    Healthcheck,
}

impl Cli {
    /// Runs the chosen command; problems are printed on stderr, one per line.
    pub fn run(self) -> ExitCode {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(self.config),
            Command::Healthcheck => healthcheck(self.config),
        }
    }
}

fn serve(config: Option<PathBuf>) -> ExitCode {
    let settings = match Settings::load(config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    telemetry::init(settings.log.format);
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

fn healthcheck(config: Option<PathBuf>) -> ExitCode {
    let settings = match Settings::read(config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    match probe::check(&settings.server.host, settings.server.port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}
