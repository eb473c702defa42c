//! Logging: one subscriber for the whole process, and the shape of each request's span.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::configuration::LogFormat;

/// Installs the global subscriber: pretty or JSON lines on stdout, level from `RUST_LOG`
/// (default `info`). Safe to call more than once; later calls do nothing.
///
/// Lines are written by a background thread, so a request never waits on stdout, and
/// none is dropped: when that thread falls behind, loggers wait for room. Keep the returned
/// guard until the process ends; dropping it flushes what is left.
pub fn init(format: LogFormat) -> WorkerGuard {
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    guard
}

/// The root span of every request: the usual HTTP fields, plus the callback's own, filled in
/// by the handler once it knows them.
pub struct CallbackRootSpan;

impl RootSpanBuilder for CallbackRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        tracing_actix_web::root_span!(
            request,
            task_sid = tracing::field::Empty,
            reservation_sid = tracing::field::Empty,
            worker_sid = tracing::field::Empty,
            rule = tracing::field::Empty,
            instruction = tracing::field::Empty,
            delivery = tracing::field::Empty,
            outcome = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
