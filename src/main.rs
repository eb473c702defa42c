use std::process::ExitCode;

use assignment_router::cli::Cli;
use clap::Parser;

// Every callback allocates a few dozen small strings and JSON values and frees them at once;
// mimalloc's thread-local free lists serve that pattern far faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    Cli::parse().run()
}
