//! The network edge: Twilio's REST API. reqwest lives here and nowhere else: the client that
//! makes one attempt, the deliverer that retries updates in the background, and the thread
//! they run on.

pub mod client;
pub mod deliverer;
pub mod runtime;
