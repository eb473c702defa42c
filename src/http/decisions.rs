//! `GET /decisions/{ReservationSid}` on the admin listener: one decision record, as JSON.
//!
//! Records hold personal data (task and worker attributes in the trace, the answer's
//! numbers), so they are served only on the admin listener, and only with the bearer token
//! when `admin.bearer_token` is set.

use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// Answers with the record of one Reservation.
pub async fn lookup(
    request: HttpRequest,
    reservation_sid: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    if let Some(token) = &state.admin_token
        && !bears(&request, token)
    {
        return HttpResponse::Unauthorized()
            .insert_header((WWW_AUTHENTICATE, "Bearer"))
            .content_type("text/plain; charset=utf-8")
            .body("decision records need `Authorization: Bearer <admin.bearer_token>`\n");
    }
    let sid = reservation_sid.into_inner();
    if !is_reservation_sid(&sid) {
        return text(
            HttpResponse::BadRequest(),
            "not a ReservationSid: expected WR and 32 hexadecimal digits\n",
        );
    }
    match state.recorder.lookup(&sid).await {
        Some(record) => match serde_json::to_vec(&record) {
            Ok(body) => HttpResponse::Ok()
                .content_type("application/json")
                .body(body),
            Err(_) => text(
                HttpResponse::InternalServerError(),
                "the record could not be written as JSON\n",
            ),
        },
        None => text(
            HttpResponse::NotFound(),
            &format!(
                "no decision is recorded for {sid} (records are kept for the last \
                 decisions.keep decisions, or decisions.keep_hours in the shared store)\n"
            ),
        ),
    }
}

fn text(mut response: actix_web::HttpResponseBuilder, body: &str) -> HttpResponse {
    response
        .content_type("text/plain; charset=utf-8")
        .body(body.to_owned())
}

/// Whether the request bears `token`. Compared as SHA-256 digests, byte by byte without an
/// early exit, so that neither the time taken nor the lengths tell how close a guess was.
fn bears(request: &HttpRequest, token: &SecretString) -> bool {
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(token.expose_secret().as_bytes());
    let difference = given
        .iter()
        .zip(expected.iter())
        .fold(0u8, |difference, (a, b)| difference | (a ^ b));
    difference == 0
}

/// `WR` and 32 hexadecimal digits, as TaskRouter makes them.
pub fn is_reservation_sid(sid: &str) -> bool {
    sid.len() == 34
        && sid.starts_with("WR")
        && sid[2..].bytes().all(|byte| byte.is_ascii_hexdigit())
}
