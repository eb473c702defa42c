//! What every handler shares.

use std::sync::Arc;

use crate::delivery::Deliverer;
use crate::recent::RecentDecisions;
use crate::rules::RuleSet;
use crate::signature::Verifier;

/// Shared by both listeners' handlers.
#[derive(Debug)]
pub struct AppState {
    pub rules: Arc<RuleSet>,
    /// `None` only when `callback.verify_signature = false`.
    pub verifier: Option<Verifier>,
    pub max_body_bytes: usize,
    /// `None` when no REST credentials are configured (then no rule delivers over REST).
    pub deliverer: Option<Deliverer>,
    /// REST decisions of the last `update_deadline_secs`, by ReservationSid.
    pub recent: RecentDecisions,
}
