//! Reloading when the rules change on disk (`rules.watch`), driven through the binary with
//! signed callbacks: a file rewritten in place, a Kubernetes ConfigMap swap, the list files
//! the rules name, changes that do not load, the watch turned off, and a burst of writes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::app::*;
use crate::support::process::{Running, command_for, start_with_json_logs};

const ACCEPT: &str = "[default]\ninstruction = \"accept\"\n";
/// As long as [`ACCEPT`]: a rewrite in place is seen by its modification time alone.
const REJECT: &str = "[default]\ninstruction = \"reject\"\n";
const DEQUEUE: &str = "[default]\ninstruction = \"dequeue\"\nfrom = \"+15005550006\"\n";

/// The line that ends the problems of a reload refused.
const REFUSED: &str = "rules not reloaded: the rules in force stay";

/// What a change on disk must take, at most, to answer callbacks.
const PICKUP: Duration = Duration::from_secs(2);

/// A folder of the test's own.
fn folder(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Under the target folder, as `support::app::temp_file`'s.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "assignment-router-watch-{}-{n}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A folder laid out and updated as the kubelet lays out and updates a ConfigMap volume:
/// each file name is a link into `..data`, itself a link to a timestamped folder; an update
/// writes a new folder, points a temporary link at it, renames that over `..data`, and
/// deletes the old folder.
struct ConfigMap {
    dir: PathBuf,
    version: usize,
}

impl ConfigMap {
    fn new(files: &[(&str, &str)]) -> Self {
        let dir = folder("configmap");
        let version = Self::write_version(&dir, 1, files);
        std::os::unix::fs::symlink(&version, dir.join("..data")).unwrap();
        for (name, _) in files {
            std::os::unix::fs::symlink(format!("..data/{name}"), dir.join(name)).unwrap();
        }
        Self { dir, version: 1 }
    }

    fn update(&mut self, files: &[(&str, &str)]) {
        let old = Self::version_name(self.version);
        self.version += 1;
        let new = Self::write_version(&self.dir, self.version, files);
        std::os::unix::fs::symlink(&new, self.dir.join("..data_tmp")).unwrap();
        std::fs::rename(self.dir.join("..data_tmp"), self.dir.join("..data")).unwrap();
        std::fs::remove_dir_all(self.dir.join(old)).unwrap();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes one version's folder; returns its name (relative, as the kubelet links it).
    fn write_version(dir: &Path, version: usize, files: &[(&str, &str)]) -> String {
        let name = Self::version_name(version);
        std::fs::create_dir(dir.join(&name)).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(&name).join(file), text).unwrap();
        }
        name
    }

    fn version_name(version: usize) -> String {
        format!("..2026_01_01_00_00_{version:02}.{}", 100 + version)
    }
}

/// The instruction the service answers a signed default callback with now.
async fn instruction(running: &Running) -> String {
    instruction_for(running, &default_callback()).await
}

/// The instruction the service answers these signed fields with now.
async fn instruction_for(running: &Running, pairs: &[(String, String)]) -> String {
    let answer: Value = running
        .post(&encode(pairs), Some(&sign(TOKEN, PUBLIC_URL, pairs)))
        .await
        .json()
        .await
        .unwrap();
    answer["instruction"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// How long after `since` the service first answered the default callback with `expected`;
/// see [`answered_for`].
async fn answered_after(
    running: &Running,
    expected: &str,
    since: Instant,
    within: Duration,
) -> Option<Duration> {
    answered_for(running, &default_callback(), expected, since, within).await
}

/// How long after `since` the service first answered these fields with `expected`, asking
/// every 20 ms; `None` when it did not within `within`.
async fn answered_for(
    running: &Running,
    pairs: &[(String, String)],
    expected: &str,
    since: Instant,
    within: Duration,
) -> Option<Duration> {
    loop {
        if instruction_for(running, pairs).await == expected {
            return Some(since.elapsed());
        }
        if since.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reloads so far, by the service's own count: (success, failure).
async fn reloads(running: &Running) -> (f64, f64) {
    let metrics = running.scrape().await;
    (
        metrics.value(r#"assignment_router_rule_reloads_total{outcome="success"}"#),
        metrics.value(r#"assignment_router_rule_reloads_total{outcome="failure"}"#),
    )
}

/// The service's JSON log lines, kept as they are read.
#[derive(Default)]
struct Log(Vec<Value>);

impl Log {
    /// Reads lines until `count` of them in all carry `message`, for up to `within`; says
    /// whether they did.
    fn wait_for(
        &mut self,
        running: &Running,
        message: &str,
        count: usize,
        within: Duration,
    ) -> bool {
        let deadline = Instant::now() + within;
        while self.count(message) < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match running.lines.recv_timeout(left) {
                Ok(line) => self.0.push(serde_json::from_str(&line).unwrap()),
                Err(_) => return false,
            }
        }
        true
    }

    /// Reads the lines written so far.
    fn read(&mut self, running: &Running) {
        while let Ok(line) = running.lines.try_recv() {
            self.0.push(serde_json::from_str(&line).unwrap());
        }
    }

    fn count(&self, message: &str) -> usize {
        self.0
            .iter()
            .filter(|entry| entry["fields"]["message"] == message)
            .count()
    }

    /// The entries logged at ERROR, in order.
    fn errors(&self) -> Vec<&Value> {
        self.0
            .iter()
            .filter(|entry| entry["level"] == "ERROR")
            .collect()
    }
}

impl std::fmt::Display for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for entry in &self.0 {
            writeln!(f, "{entry}")?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_rules_file_rewritten_in_place_answers_within_two_seconds() {
    // Arrange
    let rules_file = temp_file("watched.toml", ACCEPT);
    let mut running = start_with_json_logs(command_for(&rules_file, &[]));
    assert_eq!(instruction(&running).await, "accept");

    // Act
    std::fs::write(&rules_file, REJECT).unwrap();
    let written = Instant::now();
    let pickup = answered_after(&running, "reject", written, PICKUP).await;
    let mut log = Log::default();
    let logged = log.wait_for(&running, "rules reloaded", 1, PICKUP);
    running.terminate();

    // Assert
    let pickup = pickup.expect("the rewritten rules should answer within 2 s");
    eprintln!("a rules file rewritten in place answered {pickup:?} after the write");
    assert!(logged, "{log}");
    let reloaded = log
        .0
        .iter()
        .find(|entry| entry["fields"]["message"] == "rules reloaded")
        .unwrap();
    assert_eq!(reloaded["fields"]["file"], rules_file.display().to_string());
    assert_eq!(reloaded["fields"]["rules"], 1);
    assert_eq!(
        reloaded["fields"]["trigger"],
        format!("changed on disk: {}", rules_file.display())
    );
}

#[tokio::test]
async fn a_kubernetes_configmap_swap_answers_within_two_seconds_and_so_does_the_next() {
    // Arrange
    let mut config_map = ConfigMap::new(&[("rules.toml", ACCEPT)]);
    let running = start_with_json_logs(command_for(&config_map.path("rules.toml"), &[]));
    assert_eq!(instruction(&running).await, "accept");

    // Act
    config_map.update(&[("rules.toml", REJECT)]);
    let first = answered_after(&running, "reject", Instant::now(), PICKUP).await;
    config_map.update(&[("rules.toml", DEQUEUE)]);
    let second = answered_after(&running, "dequeue", Instant::now(), PICKUP).await;
    // Time for a second reload of either swap to show, were there one.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (success, failure) = reloads(&running).await;

    // Assert
    assert!(first.is_some(), "the first swap should answer within 2 s");
    assert!(second.is_some(), "the second swap should answer within 2 s");
    assert_eq!((success, failure), (2.0, 0.0), "one reload per swap");
}

#[tokio::test]
async fn changes_that_do_not_load_keep_the_rules_in_force_and_log_every_problem() {
    // Arrange
    let rules_file = temp_file("broken.toml", ACCEPT);
    let running = start_with_json_logs(command_for(&rules_file, &[]));
    let mut log = Log::default();

    // Act 1: a syntax error.
    std::fs::write(
        &rules_file,
        "[default]\ninstruction = \"reject\"\nthis is not toml\n",
    )
    .unwrap();
    let refused_syntax = log.wait_for(&running, REFUSED, 1, PICKUP);
    let after_syntax = instruction(&running).await;
    // Long enough for several polls: a refused file is not read again until it changes.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let reloads_after_syntax = reloads(&running).await;

    // Act 2: two unknown keys, each a problem of its own.
    std::fs::write(
        &rules_file,
        "[[rules]]\nname = \"r\"\ninstruction = \"reject\"\ncolour = \"red\"\n\n\
         [default]\ninstruction = \"reject\"\nshade = \"blue\"\n",
    )
    .unwrap();
    let refused_keys = log.wait_for(&running, REFUSED, 2, PICKUP);
    let after_keys = instruction(&running).await;

    // Act 3: a good change.
    std::fs::write(&rules_file, REJECT).unwrap();
    let fixed = answered_after(&running, "reject", Instant::now(), PICKUP).await;
    log.read(&running);
    let reloads_at_end = reloads(&running).await;

    // Assert
    assert!(refused_syntax, "{log}");
    assert_eq!(after_syntax, "accept", "the old rules stay");
    assert_eq!(reloads_after_syntax, (0.0, 1.0), "read once, not retried");
    assert!(refused_keys, "{log}");
    assert_eq!(after_keys, "accept", "the old rules stay");
    assert!(
        fixed.is_some(),
        "a good change should answer within 2 s: {log}"
    );
    assert_eq!(reloads_at_end, (1.0, 2.0));
    let errors: Vec<String> = log
        .errors()
        .iter()
        .map(|entry| entry["fields"]["message"].as_str().unwrap().to_owned())
        .collect();
    let file = rules_file.display().to_string();
    assert!(
        log.errors()
            .iter()
            .all(|entry| entry["fields"]["file"] == file.as_str()),
        "{log}"
    );
    assert_eq!(errors.len(), 5, "three problems and two summaries: {log}");
    assert!(errors[0].contains("not valid TOML at line 3"), "{log}");
    assert_eq!(errors[1], REFUSED);
    assert!(errors[2..4].iter().any(|e| e.contains("`colour`")), "{log}");
    assert!(errors[2..4].iter().any(|e| e.contains("`shade`")), "{log}");
    assert_eq!(errors[4], REFUSED);
    let summaries: Vec<&Value> = log
        .errors()
        .into_iter()
        .filter(|entry| entry["fields"]["message"] == REFUSED)
        .collect();
    assert_eq!(summaries[0]["fields"]["problems"], 1);
    assert_eq!(summaries[1]["fields"]["problems"], 2);
}

#[tokio::test]
async fn with_the_watch_off_a_change_waits_for_sighup() {
    // Arrange
    let rules_file = temp_file("unwatched.toml", ACCEPT);
    let running = start_with_json_logs(command_for(&rules_file, &[("APP_RULES__WATCH", "false")]));

    // Act
    std::fs::write(&rules_file, REJECT).unwrap();
    let unwatched =
        answered_after(&running, "reject", Instant::now(), Duration::from_secs(3)).await;
    let reloads_before_sighup = reloads(&running).await;
    running.hang_up();
    let on_sighup = answered_after(&running, "reject", Instant::now(), PICKUP).await;

    // Assert
    assert_eq!(unwatched, None, "no change is picked up with the watch off");
    assert_eq!(reloads_before_sighup, (0.0, 0.0));
    assert!(on_sighup.is_some(), "SIGHUP still reloads");
}

#[tokio::test]
async fn a_burst_of_writes_gives_one_reload() {
    // Arrange
    let rules_file = temp_file("burst.toml", ACCEPT);
    let running = start_with_json_logs(command_for(&rules_file, &[]));
    let mut log = Log::default();

    // Act: ten writes 10 ms apart, each a file that loads, as an editor or a script might
    // leave them; any one read on its own would count a reload.
    let started = Instant::now();
    for n in 1..=10 {
        let text = if n == 10 {
            REJECT.to_owned()
        } else {
            format!("# draft {}\n{ACCEPT}", "x".repeat(n))
        };
        std::fs::write(&rules_file, text).unwrap();
        if n < 10 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let burst = started.elapsed();
    let picked_up = answered_after(&running, "reject", Instant::now(), PICKUP).await;
    // Time for more reloads to show, were there any.
    tokio::time::sleep(Duration::from_secs(1)).await;
    log.read(&running);
    let (success, failure) = reloads(&running).await;

    // Assert
    assert!(
        burst < Duration::from_millis(300),
        "the burst took {burst:?}"
    );
    assert!(
        picked_up.is_some(),
        "the last write should answer within 2 s"
    );
    assert_eq!((success, failure), (1.0, 0.0), "{log}");
    assert_eq!(log.count("rules reloaded"), 1, "{log}");
}

#[tokio::test]
async fn the_list_files_of_the_rules_in_force_are_watched_and_follow_a_reload() {
    // Arrange: a rule that rejects the callers in a list kept beside the rules.
    let dir = folder("lists");
    let rules_file = dir.join("rules.toml");
    let rules_reading = |list: &str| {
        format!(
            "[lists.{list}]\nfile = \"{list}.txt\"\n\n[[rules]]\nname = \"listed\"\n\
             when = 'task.from IN lists.{list}'\ninstruction = \"reject\"\n\n{ACCEPT}"
        )
    };
    std::fs::write(dir.join("vip.txt"), "+15005550001\n").unwrap();
    std::fs::write(dir.join("blocked.txt"), "+15005550001\n").unwrap();
    std::fs::write(&rules_file, rules_reading("vip")).unwrap();
    let running = start_with_json_logs(command_for(&rules_file, &[]));
    let caller = callback(json!({"from": "+15005550006"}), json!({}));
    let at_start = instruction_for(&running, &caller).await;

    // Act 1: the caller is added to the list the rules read; the rules file is untouched.
    std::fs::write(dir.join("vip.txt"), "+15005550001\n+15005550006\n").unwrap();
    let listed = answered_for(&running, &caller, "reject", Instant::now(), PICKUP).await;

    // Act 2: new rules read another list instead; then the caller is added to that one.
    std::fs::write(&rules_file, rules_reading("blocked")).unwrap();
    let new_rules = answered_for(&running, &caller, "accept", Instant::now(), PICKUP).await;
    std::fs::write(dir.join("blocked.txt"), "+15005550001\n+15005550006\n").unwrap();
    let blocked = answered_for(&running, &caller, "reject", Instant::now(), PICKUP).await;

    // Act 3: the list the rules no longer read changes; nothing is reloaded for it.
    let (reloads_before, _) = reloads(&running).await;
    std::fs::write(dir.join("vip.txt"), "").unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (reloads_after, failures) = reloads(&running).await;

    // Assert
    assert_eq!(at_start, "accept");
    assert!(
        listed.is_some(),
        "a list file's change should answer within 2 s"
    );
    assert!(
        new_rules.is_some(),
        "the new rules should answer within 2 s"
    );
    assert!(blocked.is_some(), "the new rules' list should be watched");
    assert_eq!(reloads_before, 3.0);
    assert_eq!(
        (reloads_after, failures),
        (3.0, 0.0),
        "vip.txt is no longer read"
    );
}
