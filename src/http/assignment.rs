//! `POST {callback.path}`: the assignment callback.
//!
//! The order of checks is the contract: media type (415), size (413), then the pipeline's
//! form syntax (400), signature (403) and the callback's own fields (400).

use std::time::Instant;

use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use bytes::Bytes;
use jiff::Timestamp;

use super::body;
use super::refusal;
use super::request_id::RequestId;
use crate::pipeline::{self, AssignmentError};
use crate::state::AppState;
use crate::telemetry::events::{CallbackAnswered, CallbackRefused};

/// Answers one assignment callback, and logs and counts it once.
pub async fn receive(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let outcome = async {
        body::check_media_type(&request)?;
        let body = body::read(&request, payload, state.max_body_bytes).await?;
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
    match outcome {
        Ok(answered) => {
            CallbackAnswered {
                request_id: request_id.as_str(),
                task_sid: &answered.task_sid,
                reservation_sid: &answered.reservation_sid,
                worker_sid: &answered.worker_sid,
                rule: &answered.rule,
                instruction: answered.instruction,
                delivery: answered.delivery,
                outcome: answered.outcome,
                took: started.elapsed(),
            }
            .emit(&state.metrics);
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
        // refusal is logged once, by its event.
        Err(error) => {
            let signature_failure = match &error {
                AssignmentError::Signature(failure) => Some(failure.reason()),
                _ => None,
            };
            CallbackRefused {
                request_id: request_id.as_str(),
                outcome: refusal::classify(&error).1,
                reason: &error,
                signature_failure,
                took: started.elapsed(),
            }
            .emit(&state.metrics);
            error.error_response()
        }
    }
}

fn json(body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}
