//! The service inside the test process, on port 0, and the callbacks TaskRouter would send
//! it, signed. Most tests need nothing more: it starts in milliseconds, with no binary and
//! no settings file, and every test signs with the same fixtures.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assignment_router::app::Application;
use assignment_router::callback::signature::{self, Payload};
use assignment_router::settings::Settings;
use serde_json::{Value, json};

/// The token tests sign with, unless a test says otherwise.
pub const TOKEN: &str = "test-auth-token-0123456789abcdef";
/// What TaskRouter is configured to call: the service sits behind a proxy, so this differs
/// from the address the test connects to, as it would in production.
pub const PUBLIC_URL: &str = "https://router.example.com/assignment";

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const RESERVATION_SID: &str = "WR0123456789abcdef0123456789abcdef";
pub const TASK_SID: &str = "WT0123456789abcdef0123456789abcdef";
pub const WORKER_SID: &str = "WK0123456789abcdef0123456789abcdef";
pub const WORKSPACE_SID: &str = "WS0123456789abcdef0123456789abcdef";

pub struct TestApp {
    pub address: String,
    /// The callback listener, for raw TCP.
    pub socket_address: std::net::SocketAddr,
    /// The connection bound in force (it depends on the worker count).
    pub max_connections: usize,
    pub admin_address: String,
    pub client: reqwest::Client,
    pub public_url: String,
    rules_file: PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.rules_file);
    }
}

/// A file under the temp folder with this content; unique per call.
pub fn temp_file(name: &str, content: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Under the target folder, not the system's: `cargo clean` takes them, and a CI machine's
    // `/tmp` does not fill with a folder per run.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("assignment-router-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{n}-{name}"));
    std::fs::write(&path, content).unwrap();
    path
}

/// Starts the service with these rules and the default test settings.
pub async fn spawn_app(rules: &str) -> TestApp {
    spawn_app_with(rules, &[]).await
}

/// Starts the service with these rules and extra environment settings (`APP_…`, `TWILIO_…`),
/// which win over the test defaults.
pub async fn spawn_app_with(rules: &str, extra: &[(&str, &str)]) -> TestApp {
    let rules_file = temp_file("rules.toml", rules);
    let mut environment: Vec<(String, String)> = vec![
        ("APP_SERVER__PORT".into(), "0".into()),
        ("APP_ADMIN__PORT".into(), "0".into()),
        ("APP_CALLBACK__PUBLIC_URL".into(), PUBLIC_URL.into()),
        ("APP_RULES__PATH".into(), rules_file.display().to_string()),
        ("TWILIO_AUTH_TOKEN".into(), TOKEN.into()),
    ];
    for (key, value) in extra {
        environment.retain(|(k, _)| k != key);
        environment.push((key.to_string(), value.to_string()));
    }
    let settings = Settings::load_with(None, &environment).unwrap();
    let application = Application::build(&settings).unwrap();
    let socket_address = std::net::SocketAddr::from(([127, 0, 0, 1], application.port()));
    let max_connections = application.max_connections();
    let address = format!("http://{socket_address}");
    let admin_address = format!("http://127.0.0.1:{}", application.admin_port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        socket_address,
        max_connections,
        admin_address,
        client: reqwest::Client::new(),
        public_url: settings.callback.public_url.clone(),
        rules_file,
    }
}

/// Starts the service with REST credentials and its Twilio at `twilio_base`.
pub async fn spawn_rest_app(rules: &str, twilio_base: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![
        ("APP_TWILIO__API_BASE_URL", twilio_base),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
    ];
    settings.extend_from_slice(extra);
    spawn_app_with(rules, &settings).await
}

/// The fields TaskRouter sends, with these attributes.
pub fn callback(task: Value, worker: Value) -> Vec<(String, String)> {
    [
        ("AccountSid", ACCOUNT_SID),
        ("WorkspaceSid", WORKSPACE_SID),
        ("WorkflowSid", "WW0123456789abcdef0123456789abcdef"),
        ("TaskQueueSid", "WQ0123456789abcdef0123456789abcdef"),
        ("WorkerSid", WORKER_SID),
        ("TaskSid", TASK_SID),
        ("ReservationSid", RESERVATION_SID),
        ("TaskAge", "42"),
        ("TaskPriority", "7"),
        ("Timestamp", "1764324000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([
        ("TaskAttributes".to_owned(), task.to_string()),
        ("WorkerAttributes".to_owned(), worker.to_string()),
    ])
    .collect()
}

/// A callback with ordinary attributes.
pub fn default_callback() -> Vec<(String, String)> {
    callback(
        json!({"language": "en", "type": "voice", "call_sid": "CA0123456789abcdef0123456789abcdef"}),
        json!({"skills": ["billing"], "contact_uri": "client:alice"}),
    )
}

/// The ReservationSid of the `n`th Reservation: a test sending many callbacks gives each its
/// own, since a repeated one is a duplicate and gets no second update.
pub fn reservation_sid(n: usize) -> String {
    format!("WR{n:032x}")
}

/// The same callback, for the `n`th Reservation (see [`reservation_sid`]).
pub fn set_reservation(mut pairs: Vec<(String, String)>, n: usize) -> Vec<(String, String)> {
    for (key, value) in &mut pairs {
        if key == "ReservationSid" {
            *value = reservation_sid(n);
        }
    }
    pairs
}

pub fn encode(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// The signature Twilio would send for these pairs over `url`.
pub fn sign(token: &str, url: &str, pairs: &[(String, String)]) -> String {
    signature::compute(token, url, Payload::Form(pairs))
}

impl TestApp {
    /// POSTs the pairs, signed with the test token over the public URL.
    pub async fn post_signed(&self, pairs: &[(String, String)]) -> reqwest::Response {
        let signature = sign(TOKEN, &self.public_url, pairs);
        self.post_form(&encode(pairs), Some(&signature), "").await
    }

    /// POSTs a urlencoded body with this signature header (or none) and query string
    /// (`""` for none, else starting with `?`).
    pub async fn post_form(
        &self,
        body: &str,
        signature: Option<&str>,
        query: &str,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/assignment{query}", self.address))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(signature) = signature {
            request = request.header("X-Twilio-Signature", signature);
        }
        request.send().await.unwrap()
    }
}

/// Asserts a 200 JSON answer and returns the JSON.
pub async fn instruction_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200, "expected an answer");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "TaskRouter ignores answers without application/json"
    );
    response.json().await.unwrap()
}

/// Asserts this status and that the body carries no instruction.
pub async fn assert_refused(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    assert!(response.headers().contains_key("x-request-id"));
    let body = response.text().await.unwrap();
    assert!(
        !body.contains("instruction") && !body.starts_with('{'),
        "a refused callback must carry no instruction: {body}"
    );
    body
}

/// The Workspace's Event Callback URL as the service works it out when
/// `callback.events_public_url` is empty: [`PUBLIC_URL`]'s origin followed by `/events`.
pub fn events_url() -> String {
    PUBLIC_URL.replace("/assignment", "/events")
}

/// The fields TaskRouter sends with a Reservation event (`reservation.accepted`, …) of
/// Reservation `reservation` of the test Task, as the Workspace's Event Callback URL gets
/// them: the common fields, the Task's and the Worker's.
pub fn reservation_event(event_type: &str, reservation: &str) -> Vec<(String, String)> {
    let mut pairs = task_event(event_type);
    for (key, value) in &mut pairs {
        match key.as_str() {
            "ResourceType" => *value = "Reservation".to_owned(),
            "ResourceSid" => *value = reservation.to_owned(),
            _ => {}
        }
    }
    pairs.extend(
        [
            ("ReservationSid", reservation),
            ("WorkerSid", WORKER_SID),
            ("WorkerName", "alice"),
            ("WorkerActivitySid", "WA0123456789abcdef0123456789abcdef"),
            ("WorkerActivityName", "Busy"),
            ("WorkerAttributes", r#"{"skills":["billing"]}"#),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    pairs
}

/// The fields of a Task event (`task.canceled`, …) of the test Task.
pub fn task_event(event_type: &str) -> Vec<(String, String)> {
    [
        ("EventType", event_type),
        ("AccountSid", ACCOUNT_SID),
        ("WorkspaceSid", WORKSPACE_SID),
        ("WorkspaceName", "Support"),
        ("EventDescription", "an event of the test Task"),
        ("ResourceType", "Task"),
        ("ResourceSid", TASK_SID),
        ("Timestamp", "1764324005"),
        ("TaskSid", TASK_SID),
        ("TaskAttributes", r#"{"language":"en","type":"voice"}"#),
        ("TaskAge", "47"),
        ("TaskPriority", "7"),
        ("TaskAssignmentStatus", "reserved"),
        ("TaskQueueSid", "WQ0123456789abcdef0123456789abcdef"),
        ("WorkflowSid", "WW0123456789abcdef0123456789abcdef"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}
