//! `POST {callback.path}`: the assignment callback.
//!
//! The order of checks is the contract: media type (415), size (413), then the pipeline's
//! form syntax (400), signature (403) and the callback's own fields (400).

use std::time::Instant;

use actix_web::http::header::{AsHeaderName, HOST};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use bytes::Bytes;
use jiff::Timestamp;

use super::body;
use super::refusal;
use super::request_id::RequestId;
use crate::callback::diagnosis::{Received, diagnose};
use crate::callback::signature::SignatureHeader;
use crate::pipeline::{self, AssignmentError};
use crate::state::AppState;
use crate::telemetry::events::{
    CallbackAnswered, CallbackRefused, RuleSkipped, SignatureDiagnosis,
};

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
        let signature = signature_header(&request);
        let mut answered = pipeline::process(
            &state,
            &body,
            request.uri().query(),
            signature,
            Timestamp::now(),
        )?;
        pipeline::claim(&state, &mut answered).await;
        Ok::<_, AssignmentError>(answered)
    }
    .await;
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .copied()
        .unwrap_or_default();
    let idempotency_token = idempotency_token(&request);
    match outcome {
        Ok(answered) => {
            CallbackAnswered {
                request_id: request_id.as_str(),
                idempotency_token,
                task_sid: &answered.callback.task_sid,
                reservation_sid: &answered.callback.reservation_sid,
                worker_sid: &answered.callback.worker_sid,
                rule: &answered.rule,
                instruction: answered.instruction,
                delivery: answered.delivery,
                outcome: answered.outcome,
                took: started.elapsed(),
            }
            .emit(&state.metrics);
            for skipped in &answered.skipped {
                RuleSkipped {
                    rule: &skipped.rule,
                    field: skipped.skip.field,
                    path: skipped.skip.path.as_deref(),
                    reason: &skipped.skip.reason,
                    label: skipped.skip.label,
                }
                .emit(&state.metrics);
            }
            let (answer, update, decided) = answered.finish();
            if let Some(update) = update {
                // Handed over from a task of its own, which this worker runs once it has
                // written the answer: waking the deliverer now could take the CPU from this
                // answer, and the update's latency is Twilio's anyway.
                let state = state.clone();
                actix_web::rt::spawn(async move { pipeline::deliver(&state, update) });
            }
            match decided {
                // Shadow rules are evaluated the same way, for the same reason: they never
                // delay the answer.
                Some(decided) if !decided.rules.shadows().is_empty() => {
                    let state = state.clone();
                    actix_web::rt::spawn(async move { pipeline::follow_up(&state, decided) });
                }
                // A hand-over that never waits (the recorder's channel), cheaper than a task.
                Some(decided) => state.recorder.record(decided),
                None => {}
            }
            json(answer)
        }
        // Turned into a response here, not handed to the middleware as an error, so that a
        // refusal is logged once, by its event.
        Err(error) => {
            let signature_failure = match &error {
                AssignmentError::Signature(failure) => Some(failure.reason()),
                _ => None,
            };
            let diagnosis = signature_failure
                .and(state.verifier.as_ref())
                .map(|verifier| diagnose(verifier.configured_urls(), received(&request)));
            CallbackRefused {
                event: false,
                request_id: request_id.as_str(),
                idempotency_token,
                outcome: refusal::classify(&error).1,
                reason: &error,
                signature_failure,
                diagnosis: diagnosis.as_ref().map(|diagnosis| SignatureDiagnosis {
                    urls_tried: &diagnosis.urls_tried,
                    host: header(&request, HOST).unwrap_or(""),
                    path: request.path(),
                    hint: diagnosis.hint.as_deref(),
                }),
                took: started.elapsed(),
            }
            .emit(&state.metrics);
            error.error_response()
        }
    }
}

/// Every `X-Twilio-Signature` the request carries (more than one is refused). A value that
/// is not visible ASCII cannot be base64, so it fails as malformed.
pub(super) fn signature_header(request: &HttpRequest) -> SignatureHeader<'_> {
    SignatureHeader::from_values(
        request
            .headers()
            .get_all("x-twilio-signature")
            .map(|value| value.to_str().unwrap_or("")),
    )
}

fn json(body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

/// Twilio's `I-Twilio-Idempotency-Token`, the same on its retries of one request: logged so
/// that an operator can tie a retry to its first try. Bounded, since any client can send it.
pub(super) fn idempotency_token(request: &HttpRequest) -> Option<&str> {
    header(request, "i-twilio-idempotency-token").filter(|token| token.len() <= 128)
}

pub(super) fn header(request: &HttpRequest, name: impl AsHeaderName) -> Option<&str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// Where the request said it was sent, for the hint beside a refused signature.
pub(super) fn received(request: &HttpRequest) -> Received<'_> {
    Received {
        host: header(request, HOST),
        forwarded_proto: header(request, "x-forwarded-proto"),
        forwarded_host: header(request, "x-forwarded-host"),
    }
}
