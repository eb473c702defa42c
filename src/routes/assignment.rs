//! `POST {callback.path}`: the assignment callback.
//!
//! The order of checks is the contract: media type (415), size (413), form syntax (400),
//! signature (403), then the callback's own fields (400). Nothing about the callback is
//! evaluated before its signature holds.

use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use bytes::Bytes;
use futures_util::StreamExt;
use jiff::Timestamp;
use tracing_actix_web::RootSpan;

use crate::callback::{AssignmentCallback, CallbackError};
use crate::delivery::Update;
use crate::form::{self, FormError};
use crate::metrics::CallbackLabels;
use crate::recent::Remembered;
use crate::signature::{Payload, SignatureError};
use crate::state::AppState;
use crate::twilio_client::ReservationTarget;

/// Why a callback got no instruction. `Display` is the one-line body of a 4xx (403s have
/// none); neither `Display` nor `Debug` ever holds a signature or a token.
#[derive(Debug, thiserror::Error)]
pub enum AssignmentError {
    #[error("the body must be application/x-www-form-urlencoded")]
    UnsupportedMediaType,
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the body could not be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Form(#[from] FormError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Callback(#[from] CallbackError),
}

impl AssignmentError {
    /// A fixed label for the span's `outcome` and for metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            AssignmentError::UnsupportedMediaType => "unsupported_media_type",
            AssignmentError::TooLarge(_) => "payload_too_large",
            AssignmentError::Signature(_) => "forbidden",
            AssignmentError::Unreadable(_)
            | AssignmentError::Form(_)
            | AssignmentError::Callback(_) => "bad_request",
        }
    }
}

impl ResponseError for AssignmentError {
    fn status_code(&self) -> StatusCode {
        match self {
            AssignmentError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AssignmentError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
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

/// What an answered callback was answered with, for its log line and metrics.
struct Answered {
    response: HttpResponse,
    rule: String,
    instruction: &'static str,
    delivery: &'static str,
    outcome: &'static str,
}

/// Answers one assignment callback, and logs and counts it once.
pub async fn receive(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    span: RootSpan,
) -> HttpResponse {
    let started = Instant::now();
    match answer(&request, payload, &state, &span).await {
        Ok(answered) => {
            span.record("outcome", answered.outcome);
            tracing::info!("callback answered");
            let labels = CallbackLabels {
                rule: answered.rule,
                instruction: answered.instruction.to_owned(),
                delivery: answered.delivery.to_owned(),
                outcome: answered.outcome.to_owned(),
            };
            state.metrics.callback(&labels, started.elapsed());
            answered.response
        }
        // Turned into a response here, not handed to the middleware as an error, so that a
        // refusal is logged once, by this line.
        Err(error) => {
            span.record("outcome", error.outcome());
            tracing::warn!(reason = %error, "callback refused");
            if let AssignmentError::Signature(failure) = &error {
                state.metrics.signature_failure(failure.reason());
            }
            let labels = CallbackLabels {
                rule: String::new(),
                instruction: String::new(),
                delivery: String::new(),
                outcome: error.outcome().to_owned(),
            };
            state.metrics.callback(&labels, started.elapsed());
            error.error_response()
        }
    }
}

async fn answer(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    span: &RootSpan,
) -> Result<Answered, AssignmentError> {
    check_media_type(request)?;
    let body = read_body(request, payload, state.max_body_bytes).await?;
    let pairs = form::parse(&body)?;
    if let Some(verifier) = &state.verifier {
        let header = request
            .headers()
            .get("x-twilio-signature")
            .map(|value| value.to_str().unwrap_or(""));
        verifier.verify(request.uri().query(), Payload::Form(&pairs), header)?;
    }
    let callback = AssignmentCallback::from_pairs(pairs)?;
    span.record("task_sid", callback.task_sid.as_str());
    span.record("reservation_sid", callback.reservation_sid.as_str());
    span.record("worker_sid", callback.worker_sid.as_str());
    if let Some(previous) = state.recent.get(&callback.reservation_sid) {
        return Ok(repeat(previous, span));
    }
    // This callback finishes on the rules it started with, whatever a reload does meanwhile.
    let rules = state.rules.load_full();
    let decision = rules.decide(&callback, Timestamp::now());
    span.record("rule", decision.rule);
    span.record("instruction", decision.instruction.name());
    span.record("delivery", decision.delivery.name());
    if let Some(form) = decision.update_form {
        let remembered = Remembered {
            answer: decision.answer.clone(),
            rule: decision.rule.to_owned(),
            instruction: decision.instruction.name(),
            delivery: decision.delivery.name(),
        };
        // Claimed atomically: of two callbacks racing for one Reservation, one sends.
        if let Some(previous) = state.recent.claim(&callback.reservation_sid, remembered) {
            return Ok(repeat(previous, span));
        }
        let update = Update {
            target: ReservationTarget {
                workspace_sid: callback.workspace_sid,
                worker_sid: callback.worker_sid,
                task_sid: callback.task_sid,
                reservation_sid: callback.reservation_sid,
            },
            rule: decision.rule.to_owned(),
            instruction: decision.instruction,
            form,
        };
        match &state.deliverer {
            // A full queue is logged by the deliverer; TaskRouter still gets its answer and
            // re-routes the Task when the Reservation times out.
            Some(deliverer) => {
                let _ = deliverer.submit(update);
            }
            None => tracing::error!(
                "a REST rule matched but no REST credentials are configured; nothing was sent"
            ),
        }
    }
    Ok(Answered {
        response: json(decision.answer),
        rule: decision.rule.to_owned(),
        instruction: decision.instruction.name(),
        delivery: decision.delivery.name(),
        outcome: "answered",
    })
}

/// The answer given the first time this Reservation was decided; no second update.
fn repeat(previous: Remembered, span: &RootSpan) -> Answered {
    span.record("rule", previous.rule.as_str());
    span.record("instruction", previous.instruction);
    span.record("delivery", previous.delivery);
    tracing::info!("reservation already decided: answering as before, sending nothing");
    Answered {
        response: json(previous.answer),
        rule: previous.rule,
        instruction: previous.instruction,
        delivery: previous.delivery,
        outcome: "duplicate",
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

/// Reads at most `limit` bytes: a declared length over it is refused before reading, and a
/// body that grows past it is refused as soon as it does.
async fn read_body(
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
