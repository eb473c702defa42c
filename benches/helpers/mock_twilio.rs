//! A stand-in for Twilio's REST API for the load harness: answers every Reservation update
//! 200 with the Reservation (its SID, taken from the path) after a fixed delay.
//! `cargo run --release --example mock_twilio -- PORT DELAY_MS`

use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(18082);
    let delay = Duration::from_millis(args.next().and_then(|d| d.parse().ok()).unwrap_or(500));
    HttpServer::new(move || {
        App::new().default_service(web::to(move |request: HttpRequest, _body: web::Bytes| {
            let sid = request.path().rsplit('/').next().unwrap_or("").to_owned();
            async move {
                tokio::time::sleep(delay).await;
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(format!(
                        r#"{{"sid":"{sid}","reservation_status":"accepted"}}"#
                    ))
            }
        }))
    })
    // One worker: the stand-in should take as little of the shared machine as it can, since
    // the real Twilio runs elsewhere.
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
