use std::process::ExitCode;

use assignment_router::cli::Cli;
use clap::Parser;

fn main() -> ExitCode {
    Cli::parse().run()
}
