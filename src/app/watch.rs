//! Noticing that the rules file, or a list or map file it names, changed on disk, so that
//! the rules are reloaded without a SIGHUP (`rules.watch`).
//!
//! By polling, not by filesystem notifications: every [`POLL_EVERY`] each watched path is
//! stat-ed through its symlinks. That sees every way a file is replaced, on every
//! filesystem, including a Kubernetes ConfigMap volume, where an update writes nothing in
//! place: the mounted `rules.toml` links to `..data/rules.toml`, and `..data`, a link to a
//! timestamped folder, is renamed over by a link to a new folder (docs/decisions.md says why
//! not the `notify` crate). A change is acted on once the paths have held still for one
//! further poll, so that the several steps of an editor's save or a ConfigMap swap give one
//! reload, never one of a half-written file.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::rules::RuleSet;

/// How often the watched paths are stat-ed: a change is picked up within two of these (the
/// poll that sees it, and the one that finds it settled), plus the reload itself.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// What a path resolves to now, as far as noticing a change goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fingerprint {
    /// The file the path leads to, symlinks followed: a new file swapped in has another
    /// inode (or device), one rewritten in place another length or modification time.
    File {
        device: u64,
        inode: u64,
        length: u64,
        modified: (i64, i64),
    },
    /// The path leads nowhere that can be stat-ed (absent, a dangling link, no permission):
    /// a state of its own, so that a file that goes away and comes back is a change.
    Unreachable(io::ErrorKind),
}

impl Fingerprint {
    fn of(path: &Path) -> Self {
        match std::fs::metadata(path) {
            Ok(file) => Self::File {
                device: file.dev(),
                inode: file.ino(),
                length: file.len(),
                modified: (file.mtime(), file.mtime_nsec()),
            },
            Err(error) => Self::Unreachable(error.kind()),
        }
    }
}

/// The fingerprints of some paths at one moment, in the order of the paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(Vec<(PathBuf, Fingerprint)>);

impl Snapshot {
    /// Stats each path now.
    pub fn take(paths: &[PathBuf]) -> Self {
        Self(
            paths
                .iter()
                .map(|path| (path.clone(), Fingerprint::of(path)))
                .collect(),
        )
    }

    fn of(&self, path: &Path) -> Option<&Fingerprint> {
        self.0
            .iter()
            .find_map(|(taken, fingerprint)| (taken == path).then_some(fingerprint))
    }
}

/// The paths watched, and what they were when the rules were last read.
#[derive(Debug)]
pub struct Watch {
    paths: Vec<PathBuf>,
    /// What the last read (at start, or by a reload that worked or not) found: a change is a
    /// difference from this, so a refused file is not read again until it changes again.
    read: Snapshot,
    /// What the previous poll found: a change is acted on only once it has held still.
    seen: Snapshot,
}

impl Watch {
    /// Watches `paths` after a read of the rules. `before` was taken before that read opened
    /// the files, so that a change made while it was reading is still a change afterwards;
    /// a path `before` does not hold (a file the new rules name for the first time) is
    /// stat-ed now.
    pub fn new(before: &Snapshot, paths: Vec<PathBuf>) -> Self {
        let read = Snapshot(
            paths
                .iter()
                .map(|path| {
                    let fingerprint = before
                        .of(path)
                        .cloned()
                        .unwrap_or_else(|| Fingerprint::of(path));
                    (path.clone(), fingerprint)
                })
                .collect(),
        );
        Self {
            paths,
            seen: read.clone(),
            read,
        }
    }

    /// The watched paths as they are now: to take just before a reload reads them.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::take(&self.paths)
    }

    /// One poll: true when the paths differ from what was last read and have not changed
    /// since the previous poll, that is, when it is time to reload.
    pub fn poll(&mut self) -> bool {
        let now = self.snapshot();
        let settled = now == self.seen;
        self.seen = now;
        settled && self.seen != self.read
    }

    /// The watched paths that differ now (as of the last poll) from what was last read: what
    /// a reload the watch starts says it was for.
    pub fn changed(&self) -> Vec<&Path> {
        self.seen
            .0
            .iter()
            .filter(|(path, fingerprint)| self.read.of(path) != Some(fingerprint))
            .map(|(path, _)| path.as_path())
            .collect()
    }
}

/// What to watch for the rules in force: the rules file, then the list and map files its
/// rules were loaded from, each once.
pub fn paths(rules_file: &Path, rules: &RuleSet) -> Vec<PathBuf> {
    let mut paths = vec![rules_file.to_path_buf()];
    for file in rules.files() {
        if !paths.contains(file) {
            paths.push(file.clone());
        }
    }
    paths
}

#[cfg(test)]
mod tests;
