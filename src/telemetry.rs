//! Logging: one subscriber for the whole process.

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::JsonFields;

use crate::configuration::LogFormat;
use crate::json_lines::JsonLines;

/// Installs the global subscriber: pretty or JSON lines on stdout, level from `RUST_LOG`
/// (default `info`). Safe to call more than once; later calls do nothing.
///
/// Lines are written by a background thread, so a request never waits on stdout, and
/// none is dropped: when that thread falls behind, loggers wait for room. Keep the returned
/// guard until the process ends; dropping it flushes what is left.
pub fn init(format: LogFormat) -> WorkerGuard {
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        // The writer thread takes every line waiting, then flushes: one write for a burst.
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stdout(),
        ));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    guard
}
