//! Every request gets an id, a span that carries it, and an `x-request-id` header echoing it,
//! so an operator can find the log lines of any answer.
//!
//! Kept lean on purpose: the span is formatted once, with three fields, and nothing is
//! recorded into it later (recording into a span re-formats all its fields each time).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

use crate::http::connection_watch::Watch;

/// The id of one request: 128 random bits, printed like a UUID. The text is made once, when
/// the id is, because every line logged for the request and its `x-request-id` header carry it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; 36]);

impl RequestId {
    /// Random enough to tell requests apart; not a secret, so no system entropy is drawn
    /// per request.
    pub fn new() -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let bits = fastrand::u128(..);
        let mut text = [b'-'; 36];
        let mut nibble = 32;
        for (at, byte) in text.iter_mut().enumerate() {
            if matches!(at, 8 | 13 | 18 | 23) {
                continue;
            }
            nibble -= 1;
            *byte = DIGITS[((bits >> (nibble * 4)) & 0xf) as usize];
        }
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits and dashes are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.as_str())
    }
}

/// Middleware (for `App::wrap_fn`): gives the request its id and span, echoes the id, and
/// tells the connection's [`Watch`] when the request began and was answered.
pub fn tag<S, B>(
    request: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    let id = RequestId::new();
    let span = tracing::info_span!("request", request_id = id.as_str());
    request.extensions_mut().insert(id);
    let watch = request.conn_data::<Arc<Watch>>().cloned();
    if let Some(watch) = &watch {
        watch.request_started();
    }
    let response = span.in_scope(|| service.call(request));
    async move {
        let response = response.await;
        if let Some(watch) = watch {
            watch.request_answered();
        }
        let mut response = response?;
        if let Ok(value) = HeaderValue::from_str(id.as_str()) {
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
        let groups: Vec<usize> = text.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(text.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert!(text.chars().any(|c| c != '0' && c != '-'));
    }
}
