//! A refused callback as an HTTP response. One table gives each refusal its status and the
//! fixed label that its log line's `outcome` and its metrics carry, so the two cannot drift.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::pipeline::AssignmentError;

/// The status a refusal is answered with, and its label.
pub fn classify(error: &AssignmentError) -> (StatusCode, &'static str) {
    match error {
        AssignmentError::UnsupportedMediaType => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        }
        AssignmentError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        AssignmentError::TooSlow(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
        AssignmentError::Signature(_) => (StatusCode::FORBIDDEN, "forbidden"),
        AssignmentError::Unreadable(_)
        | AssignmentError::Form(_)
        | AssignmentError::Callback(_) => (StatusCode::BAD_REQUEST, "bad_request"),
    }
}

impl ResponseError for AssignmentError {
    fn status_code(&self) -> StatusCode {
        classify(self).0
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let AssignmentError::Signature(_) = self {
            // Say nothing to a forger about what failed.
            return response.finish();
        }
        response
            .content_type("text/plain; charset=utf-8")
            .body(format!("{self}\n"))
    }
}

#[cfg(test)]
mod tests;
