//! Reloading the rules while the service runs: on SIGHUP, and, with `rules.watch`, when a
//! watched file changes. Both go through [`reload`], so they log, count and keep the rules
//! in force alike; both run in one task, so two reloads never overlap and a change SIGHUP
//! has already read is not read again by the watch.

use std::future;
use std::sync::Arc;

use tokio::signal::unix::Signal;
use tokio::time::{Interval, MissedTickBehavior};

use super::watch::{self, POLL_EVERY, Watch};
use crate::state::AppState;
use crate::telemetry::events::{RulesNotReloaded, RulesReloaded};

/// Reloads on every SIGHUP and, given a watch, whenever its files change, for as long as
/// the service runs. Without a watch nothing is polled.
pub async fn run(state: Arc<AppState>, mut hangups: Signal, mut watch: Option<Watch>) {
    let mut polls = watch.is_some().then(|| {
        let mut polls = tokio::time::interval(POLL_EVERY);
        // After a slow reload, poll on from then rather than catching up in a burst.
        polls.set_missed_tick_behavior(MissedTickBehavior::Delay);
        polls
    });
    loop {
        tokio::select! {
            hangup = hangups.recv() => {
                if hangup.is_none() {
                    return;
                }
                reload(&state, watch.as_mut(), "SIGHUP".to_owned());
            }
            () = next_poll(polls.as_mut()) => {
                if let Some(watched) = watch.as_mut()
                    && watched.poll()
                {
                    let trigger = changed(watched);
                    reload(&state, watch.as_mut(), trigger);
                }
            }
        }
    }
}

/// What a reload the watch starts is for, as its log lines say it: the files that changed.
fn changed(watch: &Watch) -> String {
    let files: Vec<String> = watch
        .changed()
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    format!("changed on disk: {}", files.join(", "))
}

/// The next tick, or never when nothing is watched.
async fn next_poll(polls: Option<&mut Interval>) {
    match polls {
        Some(polls) => {
            polls.tick().await;
        }
        None => future::pending().await,
    }
}

/// Re-reads the rules. Rules that load are in force at once; otherwise the rules in force
/// stay, and every problem is logged. Either way the watch, if any, then follows what was
/// read: the files of the rules now in force, as they were when the read began.
fn reload(state: &AppState, watch: Option<&mut Watch>, trigger: String) {
    let before = watch.as_deref().map(Watch::snapshot);
    let file = state.rules_path.display().to_string();
    match state.reload_rules() {
        Ok(rules) => RulesReloaded {
            file: &file,
            trigger: &trigger,
            rules,
            series: &super::rule_series(&state.rules.load()),
        }
        .emit(&state.metrics),
        Err(error) => RulesNotReloaded {
            file: &file,
            trigger: &trigger,
            problems: &error.problems,
        }
        .emit(&state.metrics),
    }
    if let (Some(watch), Some(before)) = (watch, before) {
        *watch = Watch::new(
            &before,
            watch::paths(&state.rules_path, &state.rules.load()),
        );
    }
}
