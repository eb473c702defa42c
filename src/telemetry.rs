//! Logging: one subscriber for the whole process.

use tracing_subscriber::EnvFilter;

use crate::configuration::LogFormat;
use crate::json_lines::{JsonLines, JsonSpanFields};
use crate::log_writer::{LogWriter, LogWriterGuard};

/// Installs the global subscriber: pretty or JSON lines on stdout, level from `RUST_LOG`
/// (default `info`). Safe to call more than once; later calls do nothing.
///
/// Lines are written in batches by a background thread (see [`crate::log_writer`]), so a
/// request never waits on stdout, and none is dropped. Keep the returned guard until the
/// process ends; dropping it writes what is left.
pub fn init(format: LogFormat) -> LogWriterGuard {
    let (writer, guard) =
        LogWriter::spawn(std::io::stdout()).expect("the log writer thread should start");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder
            .fmt_fields(JsonSpanFields)
            .event_format(JsonLines)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    guard
}
