//! The inbound side of one callback, with no web types: strict form decoding, the
//! `X-Twilio-Signature` check, which hands back the only thing a typed callback is built from,
//! and the typed callback itself.

pub mod diagnosis;
pub mod event;
pub mod form;
pub mod signature;
mod typed;
pub mod verified;

pub use typed::{AssignmentCallback, CallbackError};
