//! The web edge: actix-web lives here and nowhere else. The listeners and their limits, the
//! routes, the request id, the connection watch, and the reading of a callback's body; each
//! hands plain bytes and strings to the pipeline and turns its result into a response.

pub mod assignment;
pub mod body;
pub mod connection_watch;
pub mod decisions;
pub mod events;
pub mod health;
pub mod metrics;
pub mod refusal;
pub mod request_id;
pub mod server;
