//! `POST {callback.path}`: the assignment callback.
//!
//! The order of checks is the contract: media type (415), size (413), then the pipeline's
//! form syntax (400), signature (403) and the callback's own fields (400).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use bytes::Bytes;
use futures_util::StreamExt;
use jiff::Timestamp;

use crate::metrics::CallbackLabels;
use crate::pipeline::{self, AssignmentError};
use crate::request_id::RequestId;
use crate::state::AppState;

impl ResponseError for AssignmentError {
    fn status_code(&self) -> StatusCode {
        match self {
            AssignmentError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AssignmentError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AssignmentError::TooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            AssignmentError::Signature(_) => StatusCode::FORBIDDEN,
            AssignmentError::Unreadable(_)
            | AssignmentError::Form(_)
            | AssignmentError::Callback(_) => StatusCode::BAD_REQUEST,
        }
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

/// Answers one assignment callback, and logs and counts it once.
pub async fn receive(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let outcome = async {
        check_media_type(&request)?;
        let body = read_body(&request, payload, state.max_body_bytes).await?;
        let signature = request
            .headers()
            .get("x-twilio-signature")
            .map(|value| value.to_str().unwrap_or(""));
        pipeline::process(
            &state,
            &body,
            request.uri().query(),
            signature,
            Timestamp::now(),
        )
    }
    .await;
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .copied()
        .unwrap_or_default();
    // The callback's span is made once its fields are known, so it is formatted once.
    match outcome {
        Ok(answered) => {
            tracing::info_span!(
                "callback",
                request_id = request_id.as_str(),
                task_sid = answered.task_sid.as_str(),
                reservation_sid = answered.reservation_sid.as_str(),
                worker_sid = answered.worker_sid.as_str(),
                rule = answered.rule.as_str(),
                instruction = answered.instruction,
                delivery = answered.delivery,
                outcome = answered.outcome,
            )
            .in_scope(|| tracing::info!("callback answered"));
            let labels = CallbackLabels {
                rule: answered.rule,
                instruction: answered.instruction,
                delivery: answered.delivery,
                outcome: answered.outcome,
            };
            state.metrics.callback(&labels, started.elapsed());
            if let Some(update) = answered.update {
                // Handed over from a task of its own, which this worker runs once it has
                // written the answer: waking the deliverer now could take the CPU from this
                // answer, and the update's latency is Twilio's anyway.
                let state = state.clone();
                actix_web::rt::spawn(async move { pipeline::deliver(&state, update) });
            }
            json(answered.answer)
        }
        // Turned into a response here, not handed to the middleware as an error, so that a
        // refusal is logged once, by this line.
        Err(error) => {
            tracing::info_span!(
                "callback",
                request_id = request_id.as_str(),
                outcome = error.outcome(),
            )
            .in_scope(|| tracing::warn!(reason = %error, "callback refused"));
            if let AssignmentError::Signature(failure) = &error {
                state.metrics.signature_failure(failure.reason());
            }
            let labels = CallbackLabels {
                rule: Arc::default(),
                instruction: "",
                delivery: "",
                outcome: error.outcome(),
            };
            state.metrics.callback(&labels, started.elapsed());
            error.error_response()
        }
    }
}

fn json(body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

fn check_media_type(request: &HttpRequest) -> Result<(), AssignmentError> {
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

/// Reads at most `limit` bytes within [`BODY_DEADLINE`]: a declared length over the limit is
/// refused before reading, and a body that grows past it is refused as soon as it does.
async fn read_body(
    request: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, AssignmentError> {
    tokio::time::timeout(BODY_DEADLINE, read_body_within(request, payload, limit))
        .await
        .unwrap_or(Err(AssignmentError::TooSlow(BODY_DEADLINE.as_secs())))
}

async fn read_body_within(
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
