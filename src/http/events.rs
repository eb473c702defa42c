//! `POST {callback.events_path}`: TaskRouter's Workspace events (the Event Callback URL).
//!
//! Checked as a callback is, in the same order (415, 413, 400, 403, 400), and answered `204`
//! with `Content-Type: application/json` as TaskRouter asks, before anything is done with
//! the event: outcomes and stopped updates follow on a task of their own.

use std::time::{Instant, SystemTime};

use actix_web::http::header::HOST;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};

use super::assignment::{header, idempotency_token, received, signature_header};
use super::body;
use super::refusal;
use super::request_id::RequestId;
use crate::callback::diagnosis::diagnose;
use crate::outcomes;
use crate::pipeline::{self, AssignmentError};
use crate::state::AppState;
use crate::telemetry::events::{CallbackRefused, SignatureDiagnosis};

/// Takes one event: 204 at once, then acts on it.
pub async fn receive(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let checked = async {
        body::check_media_type(&request)?;
        let body = body::read(&request, payload, state.max_body_bytes).await?;
        let signature = signature_header(&request);
        pipeline::process_event(&state, &body, request.uri().query(), signature)
    }
    .await;
    match checked {
        Ok(event) => {
            let at = SystemTime::now();
            tracing::debug!(
                event = event.kind.label(),
                reservation_sid = event.reservation_sid.as_deref(),
                task_sid = event.task_sid.as_deref(),
                "event taken"
            );
            let state = state.clone();
            actix_web::rt::spawn(async move {
                outcomes::take(
                    event,
                    at,
                    &state.recorder,
                    state.deliverer.as_ref(),
                    &state.metrics,
                )
                .await;
            });
            HttpResponse::NoContent()
                .content_type("application/json")
                .finish()
        }
        Err(error) => {
            let request_id = request
                .extensions()
                .get::<RequestId>()
                .copied()
                .unwrap_or_default();
            let signature_failure = match &error {
                AssignmentError::Signature(failure) => Some(failure.reason()),
                _ => None,
            };
            let diagnosis = signature_failure
                .and(state.events_verifier.as_ref())
                .map(|verifier| diagnose(verifier.configured_urls(), received(&request)));
            CallbackRefused {
                event: true,
                request_id: request_id.as_str(),
                idempotency_token: idempotency_token(&request),
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
