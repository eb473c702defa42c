//! A callback's body as the handler may read it: the right media type, at most
//! `callback.max_body_bytes`, within a deadline.

use std::time::Duration;

use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use crate::pipeline::AssignmentError;

/// `Content-Type` must be `application/x-www-form-urlencoded` (parameters such as `charset`
/// allowed), else 415.
pub fn check_media_type(request: &HttpRequest) -> Result<(), AssignmentError> {
    let essence = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or("").trim());
    match essence {
        Some(e) if e.eq_ignore_ascii_case("application/x-www-form-urlencoded") => Ok(()),
        _ => Err(AssignmentError::UnsupportedMediaType),
    }
}

/// How long a body may take to arrive. TaskRouter gives up on an answer after 5 seconds, so a
/// body still trickling in by then can only be a client holding a connection open.
const BODY_DEADLINE: Duration = Duration::from_secs(5);

/// Reads at most `limit` bytes within `BODY_DEADLINE`: a declared length over the limit is
/// refused before reading, and a body that grows past it is refused as soon as it does.
pub async fn read(
    request: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, AssignmentError> {
    tokio::time::timeout(BODY_DEADLINE, read_within(request, payload, limit))
        .await
        .unwrap_or(Err(AssignmentError::TooSlow(BODY_DEADLINE.as_secs())))
}

async fn read_within(
    request: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, AssignmentError> {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(AssignmentError::TooLarge(limit));
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AssignmentError::Unreadable(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(AssignmentError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
