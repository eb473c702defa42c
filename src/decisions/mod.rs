//! Decision records (§10.2 of the design): what was decided for each Reservation, why, how its
//! update went and how the Reservation ended, kept so that an operator can look it up
//! afterwards (`GET /decisions/{ReservationSid}`, `assignment-router decisions`).
//!
//! Records hold personal data. They are built with [`mask`]'s paths left out, never hold a
//! secret, and are served only on the admin listener.

pub mod book;
pub mod build;
pub mod mask;
pub mod record;
pub mod text;

pub use record::{DecisionRecord, OutcomeRecord, UpdateRecord};

/// How a Reservation this service decided ended, as TaskRouter's `reservation.*` events say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Accepted,
    Rejected,
    Timeout,
    Canceled,
    Rescinded,
    Wrapup,
    Completed,
}

impl Outcome {
    /// Every outcome, in the order a Reservation can reach them.
    pub const ALL: [Outcome; 7] = [
        Outcome::Accepted,
        Outcome::Rejected,
        Outcome::Timeout,
        Outcome::Canceled,
        Outcome::Rescinded,
        Outcome::Wrapup,
        Outcome::Completed,
    ];

    /// The metrics label and the record's word: the event type after `reservation.`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
            Outcome::Timeout => "timeout",
            Outcome::Canceled => "canceled",
            Outcome::Rescinded => "rescinded",
            Outcome::Wrapup => "wrapup",
            Outcome::Completed => "completed",
        }
    }

    /// The outcome a label names.
    pub fn from_label(label: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.label() == label)
    }
}
