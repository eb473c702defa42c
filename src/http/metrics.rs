//! `GET /metrics` on the admin listener.

use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// The Prometheus scrape: OpenMetrics text, which Prometheus reads natively.
pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
