//! Liveness and readiness, on both listeners.

use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// 200 while the process runs.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// 200 once rules are loaded. They are loaded before either listener opens, so an answer
/// here always means ready; the rule count helps an operator confirm which file is in force.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain")
        .body(format!("ready: {}\n", state.rules.load().count_in_words()))
}
