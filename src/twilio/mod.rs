//! The network edge: Twilio's REST API. reqwest lives here and nowhere else: the client that
//! makes one attempt, and the deliverer that retries updates in the background.

pub mod client;
pub mod deliverer;
