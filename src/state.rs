//! What every handler shares.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use secrecy::SecretString;

use crate::callback::signature::Verifier;
use crate::decisions::mask::Mask;
use crate::dedupe::RecentDecisions;
use crate::outbox::DecisionStore;
use crate::recording::Recorder;
use crate::rules::{self, RuleSet, RulesError};
use crate::telemetry::metrics::Metrics;
use crate::twilio::deliverer::Deliverer;

/// Shared by both listeners' handlers.
#[derive(Debug)]
pub struct AppState {
    /// Swapped whole by a reload; a callback keeps the set it started with.
    pub rules: ArcSwap<RuleSet>,
    pub rules_path: PathBuf,
    /// `None` only when `callback.verify_signature = false`.
    pub verifier: Option<Verifier>,
    pub max_body_bytes: usize,
    /// `None` when no REST credentials are configured (then no rule may deliver over REST).
    pub deliverer: Option<Deliverer>,
    /// REST decisions of the last `update_deadline_secs`, by ReservationSid.
    pub recent: RecentDecisions,
    /// `twilio.update_deadline_secs`: how long a REST update is tried.
    pub update_deadline: Duration,
    /// Where REST decisions are claimed and kept: memory, or the shared store.
    pub store: DecisionStore,
    /// Where every decision's record goes, off the answer path.
    pub recorder: Recorder,
    /// `decisions.mask`: attribute paths whose values no record or log line holds.
    pub mask: Mask,
    /// Checks the signature of TaskRouter's events, against the Event Callback URL; `None`
    /// when `callback.verify_signature = false`.
    pub events_verifier: Option<Verifier>,
    /// `admin.bearer_token`: when set, decision records are served only to a request
    /// bearing it.
    pub admin_token: Option<SecretString>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Re-reads the rules file. New rules that load are swapped in at once and their count
    /// (the default included) returned; otherwise the rules in force stay, and the problems
    /// are returned. The caller emits the reload's event, which logs and counts it.
    pub fn reload_rules(&self) -> Result<usize, RulesError> {
        let loaded = rules::load(&self.rules_path).and_then(|rules| {
            if rules.uses_rest() && self.deliverer.is_none() {
                Err(RulesError::single(
                    &self.rules_path,
                    "a rule delivers over REST, but no REST credentials are configured \
                     (TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or TWILIO_API_KEY with \
                     TWILIO_API_SECRET); the service must be restarted with them",
                ))
            } else {
                Ok(rules)
            }
        });
        let rules = loaded?;
        for warning in &rules.warnings {
            tracing::warn!(file = %self.rules_path.display(), "{warning}");
        }
        let count = rules.rules().count();
        self.rules.store(Arc::new(rules));
        Ok(count)
    }
}
