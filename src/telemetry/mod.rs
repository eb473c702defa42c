//! Logging and metrics: one subscriber for the whole process, its line format and writer, the
//! Prometheus registry, and the operational events that write to both.

pub mod events;
pub mod json_format;
pub mod metrics;
pub mod throttle;
pub mod writer;

use std::io::Write;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::settings::LogFormat;
use crate::telemetry::events::LogLinesLost;
use crate::telemetry::json_format::{JsonLines, JsonSpanFields};
use crate::telemetry::writer::{LogWriter, LogWriterGuard};

/// Installs the global subscriber: pretty or JSON lines written to `sink` (stdout in the
/// service), level from `RUST_LOG` (default `info`). Safe to call more than once; later calls
/// do nothing.
///
/// Lines are written in batches by a background thread (see [`writer`]), so a request never
/// waits on the sink: past a bounded backlog, lines are dropped, counted, and reported once
/// the sink takes lines again. Keep the returned guard until the process ends;
/// dropping it writes what is left.
///
/// `colour` turns on ANSI colours in the pretty format: for a terminal only, since escape codes
/// in a file or a log collector are noise.
pub fn init(format: LogFormat, sink: impl Write + Send + 'static, colour: bool) -> LogWriterGuard {
    let (writer, guard) = LogWriter::spawn(sink, |lost| LogLinesLost { lost }.emit())
        .expect("the log writer thread should start");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // `try_init` also routes the `log` crate's records (actix's own lines) here.
    let _ = subscriber(format, filter, writer, colour).try_init();
    guard
}

/// The subscriber [`init`] installs, writing to any `writer`: tests use it with
/// `tracing::subscriber::with_default` to read the lines an event writes, in-process.
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
    colour: bool,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(writer);
    match format {
        LogFormat::Json => Box::new(
            builder
                .fmt_fields(JsonSpanFields)
                .event_format(JsonLines)
                .finish(),
        ),
        LogFormat::Pretty => Box::new(builder.finish()),
    }
}
