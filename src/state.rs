//! What every handler shares.

use std::sync::Arc;

use crate::rules::RuleSet;
use crate::signature::Verifier;

/// Shared by both listeners' handlers.
#[derive(Debug)]
pub struct AppState {
    pub rules: Arc<RuleSet>,
    /// `None` only when `callback.verify_signature = false`.
    pub verifier: Option<Verifier>,
    pub max_body_bytes: usize,
}
