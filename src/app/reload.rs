//! Reloading the rules file on SIGHUP, for as long as the service runs.

use std::sync::Arc;

use tokio::signal::unix::Signal;

use crate::state::AppState;
use crate::telemetry::events::{RulesNotReloaded, RulesReloaded};

/// Re-reads the rules file on every SIGHUP. Rules that load are in force at once; otherwise
/// the rules in force stay, and every problem is logged.
pub async fn on_sighup(state: Arc<AppState>, mut hangups: Signal) {
    while hangups.recv().await.is_some() {
        let file = state.rules_path.display().to_string();
        match state.reload_rules() {
            Ok(rules) => RulesReloaded {
                file: &file,
                rules,
                series: &super::rule_series(&state.rules.load()),
            }
            .emit(&state.metrics),
            Err(error) => RulesNotReloaded {
                file: &file,
                problems: &error.problems,
            }
            .emit(&state.metrics),
        }
    }
}
