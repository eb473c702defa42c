//! The release binary as an operator runs it, as a child process: configured by the
//! environment only, its output read line by line, stopped by signal. What the in-process
//! service cannot show (refusals at start, log lines, signals, the subcommands) is tested
//! through this.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::app::{PUBLIC_URL, TOKEN, temp_file};

const BINARY: &str = env!("CARGO_BIN_EXE_assignment-router");

/// The binary, run from an empty folder so no settings file is found: only the
/// environment configures it.
pub fn command(rules: &str, extra: &[(&str, &str)]) -> Command {
    command_for(&temp_file("rules.toml", rules), extra)
}

/// As [`command`], with the rules in a file the test owns (to change it under the service).
pub fn command_for(rules_file: &Path, extra: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(rules_file.parent().unwrap())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("APP_RULES__PATH", rules_file)
        .env("APP_SERVER__PORT", "0")
        .env("APP_ADMIN__PORT", "0")
        .env("APP_CALLBACK__PUBLIC_URL", PUBLIC_URL)
        .env("TWILIO_AUTH_TOKEN", TOKEN);
    for (key, value) in extra {
        command.env(key, value);
    }
    command
}

/// Runs the command to its end; see [`run_named`].
pub fn run_to_end(command: Command) -> Output {
    let what = format!(
        "the binary with arguments {:?}",
        command.get_args().collect::<Vec<_>>()
    );
    run_named(&what, command)
}

/// Runs the command to its end, killing it if it has not ended in 20 seconds: a command
/// meant to be refused that starts serving instead must fail the test, not hang it. `what`
/// names the run in that failure.
pub fn run_named(what: &str, mut command: Command) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = read_all(child.stdout.take().unwrap());
    let stderr = read_all(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: the command did not end within 20 seconds");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Reads the pipe to its end on a thread of its own: a child blocked on a full pipe that
/// nobody reads would never exit.
fn read_all(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// The service, started with piped output; every line it writes is kept.
pub struct Running {
    child: Child,
    pub port: u16,
    pub admin_port: u16,
    /// The lines read while waiting for `listening`, that one included.
    early: Vec<String>,
    /// The lines after `listening`; iterating ends at EOF, once the process has exited.
    pub lines: Receiver<String>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Drop for Running {
    /// A failed test must not leave the service running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the command and waits for its `listening` line, in either log format.
pub fn start(command: Command) -> Running {
    start_gated(command, None)
}

/// Holds the service's stdout unread from its `listening` line on (see
/// [`start_holding_stdout`]); reading resumes when this is released or dropped.
pub struct StdoutHold(Sender<()>);

impl StdoutHold {
    /// Lets the reader go on: the lines the service wrote meanwhile arrive in
    /// [`Running::lines`], and the service's writes go through again.
    pub fn release(self) {
        drop(self.0);
    }
}

/// As [`start`], but nothing more is read from stdout after the `listening` line until the
/// hold is released: the pipe fills and stays full, as under a log collector that stopped
/// reading. (The ports come from the `listening` line itself, so no port has to be guessed.)
pub fn start_holding_stdout(command: Command) -> (Running, StdoutHold) {
    let (release, released) = channel();
    (start_gated(command, Some(released)), StdoutHold(release))
}

/// Starts the command; its stdout is read line by line on a thread of its own, which, given
/// a `gate`, waits on it after forwarding the `listening` line.
fn start_gated(mut command: Command, gate: Option<Receiver<()>>) -> Running {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = read_all(child.stderr.take().unwrap());
    let (sender, lines) = channel();
    std::thread::spawn(move || {
        let mut gate = gate;
        for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
            let line = String::from_utf8_lossy(&line).into_owned();
            let listening = gate.is_some() && listening_ports(&line).is_some();
            if sender.send(line).is_err() {
                break;
            }
            if let Some(gate) = gate.take_if(|_| listening) {
                // Released or dropped: either way, read on.
                let _ = gate.recv();
            }
        }
    });
    let mut running = Running {
        child,
        port: 0,
        admin_port: 0,
        early: Vec::new(),
        lines,
        stderr: Some(stderr),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let line = running
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the service should log that it listens");
        let ports = listening_ports(&line);
        running.early.push(line);
        if let Some((port, admin_port)) = ports {
            running.port = port;
            running.admin_port = admin_port;
            return running;
        }
    }
}

/// As [`start`], with JSON logs, each line of which up to `listening` must be JSON.
pub fn start_with_json_logs(mut command: Command) -> Running {
    command.env("APP_LOG__FORMAT", "json");
    let running = start(command);
    for line in &running.early {
        serde_json::from_str::<Value>(line).expect("every log line is JSON");
    }
    running
}

/// The ports of the service's own `listening` line, JSON or pretty.
fn listening_ports(line: &str) -> Option<(u16, u16)> {
    let plain = strip_ansi(line);
    if !plain.contains("listening") {
        return None;
    }
    if let Ok(entry) = serde_json::from_str::<Value>(&plain) {
        let fields = &entry["fields"];
        if fields["message"] != "listening" {
            return None;
        }
        let port = fields["port"].as_u64()?;
        let admin_port = fields["admin_port"].as_u64()?;
        return Some((port as u16, admin_port as u16));
    }
    let field = |name: &str| {
        plain
            .split_whitespace()
            .find_map(|token| token.strip_prefix(name)?.parse::<u16>().ok())
    };
    Some((field("port=")?, field("admin_port=")?))
}

/// The text with its terminal colour codes (`ESC [ … letter`) removed: pretty logs colour
/// their fields, and a search must see through that.
pub fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

impl Running {
    /// The admin listener, where `/metrics` is served.
    pub fn admin_address(&self) -> String {
        format!("http://127.0.0.1:{}", self.admin_port)
    }

    /// POSTs a urlencoded body to the callback path with this signature header (or none).
    pub async fn post(&self, body: &str, signature: Option<&str>) -> reqwest::Response {
        self.post_with(body, signature, &[]).await
    }

    /// As [`Running::post`], with more headers: what Twilio or a proxy adds
    /// (`I-Twilio-Idempotency-Token`, `X-Forwarded-Proto`), or another `Host`.
    pub async fn post_with(
        &self,
        body: &str,
        signature: Option<&str>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/assignment", self.port))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("X-Twilio-Signature", signature);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// Sends SIGHUP: the service reloads its rules.
    pub fn hang_up(&self) {
        self.signal("-HUP");
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGKILL and waits for the exit: the process ends at once, with no drain and
    /// nothing released, as when its host dies.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// All of stdout (the early lines included) and all of stderr, once the process has
    /// exited.
    pub fn transcript(&mut self) -> (String, String) {
        let mut stdout = self.early.join("\n");
        for line in self.lines.iter() {
            stdout.push('\n');
            stdout.push_str(&line);
        }
        let stderr = self
            .stderr
            .take()
            .map(|h| String::from_utf8_lossy(&h.join().unwrap()).into_owned())
            .unwrap_or_default();
        (stdout, stderr)
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }
}

/// What the tests of events and decision records need of the binary.
impl Running {
    /// The service's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The service's resident memory now, in KiB (`VmRSS` in `/proc/<pid>/status`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("/proc/<pid>/status has VmRSS")
    }

    /// POSTs `body` to `path` on the callback listener with this `Content-Type` and
    /// signature header (or none).
    pub async fn post_to(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        signature: Option<&str>,
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}{path}", self.port))
            .header("Content-Type", content_type)
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("X-Twilio-Signature", signature);
        }
        request.send().await.unwrap()
    }

    /// POSTs a callback's pairs to the callback path, signed with the test token over
    /// [`PUBLIC_URL`].
    pub async fn post_signed(&self, pairs: &[(String, String)]) -> reqwest::Response {
        let signature = super::app::sign(TOKEN, PUBLIC_URL, pairs);
        self.post(&super::app::encode(pairs), Some(&signature))
            .await
    }

    /// POSTs an event to `/events`, signed as Twilio signs it for the Event Callback URL
    /// the service works out from [`PUBLIC_URL`] ([`super::app::events_url`]).
    pub async fn post_event(&self, pairs: &[(String, String)]) -> reqwest::Response {
        let signature = super::app::sign(TOKEN, &super::app::events_url(), pairs);
        self.post_to(
            "/events",
            "application/x-www-form-urlencoded",
            &super::app::encode(pairs),
            Some(&signature),
        )
        .await
    }

    /// `GET /decisions/{sid}` on the admin listener, with `Authorization: Bearer <token>`
    /// when a token is given.
    pub async fn get_record(&self, sid: &str, token: Option<&str>) -> reqwest::Response {
        let mut request =
            reqwest::Client::new().get(format!("{}/decisions/{sid}", self.admin_address()));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        request.send().await.unwrap()
    }

    /// Polls the record of `sid` until it is served and `holds` (records are built a moment
    /// after the answer, outcomes and update ends land later still), or `timeout` passes;
    /// the last record served, `Value::Null` when none was.
    pub async fn record_when(
        &self,
        sid: &str,
        timeout: Duration,
        holds: impl Fn(&Value) -> bool,
    ) -> Value {
        let until = Instant::now() + timeout;
        let mut last = Value::Null;
        loop {
            let response = self.get_record(sid, None).await;
            if response.status() == 200 {
                last = response.json().await.unwrap();
                if holds(&last) {
                    return last;
                }
            }
            if Instant::now() > until {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
