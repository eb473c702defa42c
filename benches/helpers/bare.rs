//! The baseline for the load harness: a bare actix-web handler answering the same fixed JSON
//! with no work at all beyond receiving the request (its body is read, as any handler must
//! before the connection can carry the next request). `cargo run --release --example bare --
//! PORT`

use actix_web::{App, HttpResponse, HttpServer, web};

async fn answer(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"instruction":"accept"}"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(18081);
    HttpServer::new(|| App::new().route("/assignment", web::post().to(answer)))
        .bind(("127.0.0.1", port))?
        .run()
        .await
}
