//! Every request gets an id, a span that carries it, and an `x-request-id` header echoing it,
//! so an operator can find the log lines of any answer.
//!
//! Kept lean on purpose: the span is formatted once, with three fields, and nothing is
//! recorded into it later (recording into a span re-formats all its fields each time).

use std::fmt;
use std::future::Future;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

/// The id of one request: 128 random bits, printed like a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(u128);

impl RequestId {
    /// Random enough to tell requests apart; not a secret, so no system entropy is drawn
    /// per request.
    pub fn new() -> Self {
        Self(fastrand::u128(..))
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (n >> 96) as u32,
            (n >> 80) as u16,
            (n >> 64) as u16,
            (n >> 48) as u16,
            n as u64 & 0xffff_ffff_ffff
        )
    }
}

/// Middleware (for `App::wrap_fn`): gives the request its id and span, and echoes the id.
pub fn tag<S, B>(
    request: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    let id = RequestId::new();
    let text = id.to_string();
    let span = tracing::info_span!("request", request_id = %text);
    request.extensions_mut().insert(id);
    let response = span.in_scope(|| service.call(request));
    async move {
        let mut response = response.await?;
        if let Ok(value) = HeaderValue::from_str(&text) {
            response
                .headers_mut()
                .insert(HeaderName::from_static("x-request-id"), value);
        }
        Ok(response)
    }
    .instrument(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_like_uuids_and_differ() {
        let (a, b) = (RequestId::new(), RequestId::new());
        assert_ne!(a, b);
        let text = a.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text.matches('-').count(), 4);
    }
}
