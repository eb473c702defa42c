//! Settings: built-in defaults, then the settings file, then the environment.
//!
//! Layers, each overriding the one before: the defaults compiled in (the shipped
//! `config/default.toml`), the settings file (`--config FILE`, or `config/default.toml` in the
//! working directory when it exists), `APP_<SECTION>__<KEY>`, then Twilio's usual variables
//! (`TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`, `TWILIO_API_KEY`, `TWILIO_API_SECRET`), which
//! win because they are what every Twilio tool reads.

use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

/// The settings file read when `--config` is not given (relative to the working directory).
pub const DEFAULT_SETTINGS_FILE: &str = "config/default.toml";

const BUILT_IN_DEFAULTS: &str = include_str!("../config/default.toml");

/// Every key a settings file may hold, so that a typo is refused rather than ignored.
const KNOWN_KEYS: &[&str] = &[
    "server.host",
    "server.port",
    "server.shutdown_grace_secs",
    "server.request_head_timeout_ms",
    "server.keep_alive_secs",
    "server.max_connections",
    "callback.path",
    "callback.public_url",
    "callback.public_urls",
    "callback.events_path",
    "callback.events_public_url",
    "callback.verify_signature",
    "callback.max_body_bytes",
    "twilio.account_sid",
    "twilio.auth_token",
    "twilio.previous_auth_tokens",
    "twilio.api_key",
    "twilio.api_secret",
    "twilio.api_base_url",
    "twilio.reservation_endpoint",
    "twilio.request_timeout_ms",
    "twilio.update_deadline_secs",
    "twilio.max_in_flight",
    "twilio.max_pending_updates",
    "admin.host",
    "admin.port",
    "admin.bearer_token",
    "store.url",
    "store.max_connections",
    "store.lease_secs",
    "store.claim_waits_for_disk",
    "decisions.keep",
    "decisions.keep_hours",
    "decisions.mask",
    "rules.path",
    "rules.watch",
    "log.format",
];

/// Why the settings cannot be used. Messages name the setting and how to fix it, and never
/// carry a secret value.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{}", describe(.0))]
    Read(#[from] config::ConfigError),
    #[error("{file}: unknown setting `{key}`{}", did_you_mean(key))]
    UnknownKey { file: String, key: String },
    #[error(
        "{file}: this looks like a rules file ([[rules]], [default]), not a settings file: \
         use --rules FILE, or name it in the settings' rules.path"
    )]
    LooksLikeRules { file: String },
    #[error("cannot read settings file {file}: {reason}")]
    Unreadable { file: String, reason: String },
    /// Says where, and what the parser expected, but never quotes the line: it may hold a
    /// token.
    #[error("{file}, line {line}, column {column}: not valid TOML: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "TWILIO_AUTH_TOKEN is not set: it is needed to check X-Twilio-Signature \
         (set TWILIO_AUTH_TOKEN, or twilio.auth_token in the settings file)"
    )]
    MissingAuthToken,
    #[error("setting `{key}`: {problem}")]
    Invalid { key: &'static str, problem: String },
}

/// All settings, typed. `Debug` shows secrets as `[REDACTED]`.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub callback: CallbackSettings,
    pub twilio: TwilioSettings,
    pub admin: AdminSettings,
    pub store: StoreSettings,
    pub decisions: DecisionsSettings,
    pub rules: RulesSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub shutdown_grace_secs: u64,
    /// How long a new connection has to deliver its first request line and headers; past
    /// it the client gets 408 and the connection is closed. Bounds slow-header clients.
    pub request_head_timeout_ms: u64,
    /// How long a connection is kept open after an answer, waiting for the next request.
    /// 0 closes every connection after one answer. A later request's head must be whole
    /// within this plus `request_head_timeout_ms` (and a second's slack) of the previous
    /// answer, or the connection is shut (see `connection_watch`).
    pub keep_alive_secs: u64,
    /// Connections open at once on the callback listener, all workers together; beyond it
    /// new connections wait in the kernel's queue, unanswered, until one closes.
    pub max_connections: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CallbackSettings {
    pub path: String,
    pub public_url: String,
    /// More URLs Twilio may call for this path (the Workflow's fallback URL on another host):
    /// a callback signed for any of them is accepted.
    #[serde(deserialize_with = "text_list")]
    pub public_urls: Vec<String>,
    /// The Workspace's Event Callback URL's path on this listener; `None` (`""`): off.
    #[serde(deserialize_with = "optional_text")]
    pub events_path: Option<String>,
    /// The Event Callback URL exactly as entered in Twilio, when it is not
    /// `callback.public_url`'s origin with `events_path`.
    #[serde(deserialize_with = "optional_text")]
    pub events_public_url: Option<String>,
    pub verify_signature: bool,
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TwilioSettings {
    #[serde(deserialize_with = "optional_text")]
    pub account_sid: Option<String>,
    #[serde(deserialize_with = "optional_secret")]
    pub auth_token: Option<SecretString>,
    #[serde(deserialize_with = "secret_list")]
    pub previous_auth_tokens: Vec<SecretString>,
    #[serde(deserialize_with = "optional_text")]
    pub api_key: Option<String>,
    #[serde(deserialize_with = "optional_secret")]
    pub api_secret: Option<SecretString>,
    pub api_base_url: String,
    pub reservation_endpoint: ReservationEndpoint,
    pub request_timeout_ms: u64,
    pub update_deadline_secs: u64,
    /// REST requests out at once; more wait their turn.
    pub max_in_flight: usize,
    /// Updates accepted and not yet ended; beyond this new ones are dropped (and logged).
    pub max_pending_updates: usize,
}

/// Which of Twilio's two Reservation resources an update is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationEndpoint {
    Worker,
    Task,
}

impl<'de> Deserialize<'de> for ReservationEndpoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "worker" => Ok(Self::Worker),
            "task" => Ok(Self::Task),
            other => Err(serde::de::Error::custom(format!(
                "expected \"worker\" or \"task\", got \"{other}\""
            ))),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AdminSettings {
    pub host: String,
    pub port: u16,
    /// When set, `/decisions/…` needs `Authorization: Bearer <token>`. A secret.
    #[serde(deserialize_with = "optional_secret")]
    pub bearer_token: Option<SecretString>,
}

/// Where REST decisions and their updates live (§8 of the design).
#[derive(Debug, Clone, Deserialize)]
pub struct StoreSettings {
    /// `None`: this process's memory. A PostgreSQL URL, a secret since it may hold the
    /// database password.
    #[serde(deserialize_with = "optional_secret")]
    pub url: Option<SecretString>,
    pub max_connections: u32,
    pub lease_secs: u64,
    /// `true`: a claim's `{}` waits until the claim is on the server's disk. `false` (the
    /// default): until the server has it, while this replica keeps it in memory until it is
    /// on disk, moments later (see `crate::outbox`).
    pub claim_waits_for_disk: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DecisionsSettings {
    /// Decision records kept in memory (the last N), without a shared store.
    pub keep: usize,
    /// Ended updates and decision records older than this are deleted from the shared store.
    pub keep_hours: u64,
    /// Attribute paths (`task.caller_name`, `worker.email`) whose values are never recorded.
    #[serde(deserialize_with = "text_list")]
    pub mask: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RulesSettings {
    /// Already resolved: a relative path from a settings file is made relative to its folder.
    pub path: PathBuf,
    /// Reload when the rules file, or a list or map file it names, changes on disk (as well
    /// as on SIGHUP, which works either way).
    pub watch: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl<'de> Deserialize<'de> for LogFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "pretty" => Ok(Self::Pretty),
            "json" => Ok(Self::Json),
            other => Err(serde::de::Error::custom(format!(
                "expected \"pretty\" or \"json\", got \"{other}\""
            ))),
        }
    }
}

impl Settings {
    /// Reads the settings from `file` (or the default file when present) and the process
    /// environment, then checks them.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let environment: Vec<(String, String)> = std::env::vars().collect();
        Self::load_with(file, &environment)
    }

    /// As [`Settings::load`], with the environment given, so tests need not touch the
    /// process's own.
    pub fn load_with(
        file: Option<&Path>,
        environment: &[(String, String)],
    ) -> Result<Self, SettingsError> {
        let settings = Self::read_with(file, environment)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Reads the settings without the whole-settings checks: enough for `healthcheck`, which
    /// only needs to know where the service listens.
    pub fn read(file: Option<&Path>) -> Result<Self, SettingsError> {
        let environment: Vec<(String, String)> = std::env::vars().collect();
        Self::read_with(file, &environment)
    }

    fn read_with(
        file: Option<&Path>,
        environment: &[(String, String)],
    ) -> Result<Self, SettingsError> {
        let file = match file {
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_SETTINGS_FILE)).filter(|p| p.is_file()),
        };
        let mut builder =
            Config::builder().add_source(File::from_str(BUILT_IN_DEFAULTS, FileFormat::Toml));
        let mut rules_base = PathBuf::new();
        if let Some(path) = &file {
            let text = read_settings_file(path)?;
            let layer = Config::builder()
                .add_source(File::from_str(&text, FileFormat::Toml))
                .build()?;
            check_known_keys(&layer, path)?;
            if layer.get_string("rules.path").is_ok() {
                rules_base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            }
            builder = builder.add_source(File::from_str(&text, FileFormat::Toml));
        }
        let lookup = |name: &str| {
            environment
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .filter(|value| !value.is_empty())
        };
        for (variable, key) in [
            ("TWILIO_ACCOUNT_SID", "twilio.account_sid"),
            ("TWILIO_AUTH_TOKEN", "twilio.auth_token"),
            ("TWILIO_API_KEY", "twilio.api_key"),
            ("TWILIO_API_SECRET", "twilio.api_secret"),
        ] {
            builder = builder.set_override_option(key, lookup(variable))?;
        }
        // The variable every PostgreSQL tool reads. Over the settings file, as the
        // environment always is, but under `APP_STORE__URL`, the more specific of the two.
        if lookup("APP_STORE__URL").is_none() {
            builder = builder.set_override_option("store.url", lookup("DATABASE_URL"))?;
        }
        if lookup("APP_RULES__PATH").is_some() {
            // A path from the environment is taken from the working directory.
            rules_base = PathBuf::new();
        }
        let app_environment = environment
            .iter()
            .filter(|(key, _)| key.starts_with("APP_"))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        builder = builder.add_source(
            Environment::with_prefix("APP")
                .prefix_separator("_")
                .separator("__")
                .source(Some(app_environment)),
        );
        let mut settings: Settings = builder.build()?.try_deserialize()?;
        if settings.rules.path.is_relative() {
            settings.rules.path = rules_base.join(&settings.rules.path);
        }
        Ok(settings)
    }

    /// Reads the settings and checks everything but the presence of secrets: what `check`
    /// validates where the secrets are not (a CI job, a laptop), so that what passes there
    /// fails `serve` only for a missing secret. [`Settings::missing_secret`] says which.
    pub fn load_without_secrets(file: Option<&Path>) -> Result<Self, SettingsError> {
        let settings = Self::read(file)?;
        settings.validate_all_but_secrets()?;
        Ok(settings)
    }

    /// The secret `serve` would need and cannot find, if any.
    pub fn missing_secret(&self) -> Option<SettingsError> {
        (self.callback.verify_signature && self.twilio.auth_token.is_none())
            .then_some(SettingsError::MissingAuthToken)
    }

    /// Whole-settings checks that serde cannot express.
    fn validate(&self) -> Result<(), SettingsError> {
        if let Some(missing) = self.missing_secret() {
            return Err(missing);
        }
        self.validate_all_but_secrets()
    }

    fn validate_all_but_secrets(&self) -> Result<(), SettingsError> {
        if !self.callback.path.starts_with('/') {
            return Err(invalid("callback.path", "must start with `/`"));
        }
        check_http_url("callback.public_url", &self.callback.public_url)?;
        for url in &self.callback.public_urls {
            check_http_url("callback.public_urls", url)?;
        }
        check_http_url("twilio.api_base_url", &self.twilio.api_base_url)?;
        check_credentials_travel_safely(&self.twilio.api_base_url)?;
        if self.server.request_head_timeout_ms == 0 {
            return Err(invalid(
                "server.request_head_timeout_ms",
                "must be above 0: without it a client may take forever to send its headers",
            ));
        }
        if self.server.max_connections == 0 {
            return Err(invalid("server.max_connections", "must be above 0"));
        }
        if self.callback.max_body_bytes == 0 {
            return Err(invalid("callback.max_body_bytes", "must be above 0"));
        }
        if self.twilio.max_in_flight == 0 {
            return Err(invalid("twilio.max_in_flight", "must be above 0"));
        }
        if self.twilio.max_pending_updates == 0 {
            return Err(invalid("twilio.max_pending_updates", "must be above 0"));
        }
        if self.twilio.request_timeout_ms == 0 {
            return Err(invalid("twilio.request_timeout_ms", "must be above 0"));
        }
        if let Some(url) = &self.store.url {
            let url = url.expose_secret();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(invalid(
                    "store.url",
                    "expected \"\" (this process's memory) or a PostgreSQL URL starting \
                     with postgres:// (the value is not shown: it may hold a password)",
                ));
            }
        }
        if self.store.max_connections == 0 {
            return Err(invalid("store.max_connections", "must be above 0"));
        }
        if self.store.lease_secs == 0 {
            return Err(invalid(
                "store.lease_secs",
                "must be above 0: it is how long a replica holds an update it is sending",
            ));
        }
        if self.decisions.keep_hours == 0 {
            return Err(invalid(
                "decisions.keep_hours",
                "must be above 0: ended updates would be deleted as soon as they end",
            ));
        }
        if let Some(path) = &self.callback.events_path {
            if !path.starts_with('/') {
                return Err(invalid(
                    "callback.events_path",
                    "must start with `/` (or be \"\": off)",
                ));
            }
            if *path == self.callback.path || ["/health", "/ready"].contains(&path.as_str()) {
                return Err(invalid(
                    "callback.events_path",
                    "must differ from callback.path, /health and /ready",
                ));
            }
        }
        if let Some(url) = &self.callback.events_public_url {
            check_http_url("callback.events_public_url", url)?;
        }
        if self.decisions.keep == 0 {
            return Err(invalid(
                "decisions.keep",
                "must be above 0: it is how many decision records are kept in memory",
            ));
        }
        for path in &self.decisions.mask {
            let attribute = path
                .strip_prefix("task.")
                .or_else(|| path.strip_prefix("worker."));
            if attribute.is_none_or(str::is_empty) {
                return Err(invalid(
                    "decisions.mask",
                    &format!(
                        "\"{path}\" is not an attribute path: expected task.NAME or worker.NAME \
                         (e.g. \"task.caller_name\")"
                    ),
                ));
            }
        }
        if self.twilio.api_key.is_some() != self.twilio.api_secret.is_some() {
            return Err(invalid(
                "twilio.api_key",
                "an API key and its secret go together: set both TWILIO_API_KEY and \
                 TWILIO_API_SECRET, or neither",
            ));
        }
        Ok(())
    }

    /// Every URL a callback may be signed for: `callback.public_url`, then
    /// `callback.public_urls`.
    pub fn callback_urls(&self) -> Vec<String> {
        std::iter::once(&self.callback.public_url)
            .chain(&self.callback.public_urls)
            .cloned()
            .collect()
    }

    /// The URL TaskRouter's events are signed for: `callback.events_public_url`, else
    /// `callback.public_url`'s scheme, credentials, host and port with `callback.events_path`
    /// (the Workspace's Event Callback URL usually sits beside the Workflow's). `None` when
    /// events are off.
    pub fn events_url(&self) -> Option<String> {
        let path = self.callback.events_path.as_ref()?;
        if let Some(url) = &self.callback.events_public_url {
            return Some(url.clone());
        }
        let base = self
            .callback
            .public_url
            .split('#')
            .next()
            .unwrap_or_default();
        let base = base.split('?').next().unwrap_or_default();
        // The origin ends at the first `/` after `scheme://`.
        let origin = match base.find("://") {
            Some(at) => {
                let rest = &base[at + 3..];
                &base[..at + 3 + rest.find('/').unwrap_or(rest.len())]
            }
            None => base,
        };
        Some(format!("{origin}{path}"))
    }

    /// The tokens a callback signature may be made with: the current one first.
    pub fn signing_tokens(&self) -> Vec<SecretString> {
        self.twilio
            .auth_token
            .iter()
            .chain(&self.twilio.previous_auth_tokens)
            .filter(|token| !token.expose_secret().is_empty())
            .cloned()
            .collect()
    }
}

/// The settings file's text, once it is known to be TOML. Parsed here first because the
/// `config` crate's syntax errors quote the offending line, and that line may be
/// `auth_token = "…`.
fn read_settings_file(path: &Path) -> Result<String, SettingsError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| SettingsError::Unreadable {
        // Named as the operator can find it, whatever the working directory was.
        file: std::path::absolute(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string(),
        reason: error.to_string(),
    })?;
    if let Err(error) = text.parse::<toml::Table>() {
        let at = error.span().map_or(0, |span| span.start).min(text.len());
        let before = text.get(..at).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        return Err(SettingsError::Syntax {
            file,
            line,
            column,
            message: error.message().trim().to_owned(),
        });
    }
    Ok(text)
}

/// A `config` error in the operator's words: `setting `server.port` (from the environment):
/// expected an integer, got the string "abc"`, never the deserializer's internals.
fn describe(error: &config::ConfigError) -> String {
    use config::ConfigError;
    match error {
        ConfigError::At {
            error,
            origin,
            key: Some(key),
        } => {
            let from = origin
                .as_deref()
                .map_or_else(String::new, |origin| format!(" (from {origin})"));
            format!("setting `{key}`{from}: {}", describe(error))
        }
        ConfigError::Type {
            unexpected,
            expected,
            key,
            ..
        } => {
            let problem = format!("expected {expected}, got {unexpected}");
            match key {
                Some(key) => format!("setting `{key}`: {problem}"),
                None => problem,
            }
        }
        ConfigError::Message(message) => message.clone(),
        other => format!("cannot read settings: {other}"),
    }
}

fn invalid(key: &'static str, problem: &str) -> SettingsError {
    SettingsError::Invalid {
        key,
        problem: problem.to_owned(),
    }
}

fn check_http_url(key: &'static str, value: &str) -> Result<(), SettingsError> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(()),
        Ok(_) => Err(invalid(
            key,
            "must be an http:// or https:// URL with a host",
        )),
        Err(error) => Err(SettingsError::Invalid {
            key,
            problem: format!("is not a URL ({error})"),
        }),
    }
}

/// REST calls carry the account's credentials (HTTP Basic), so they go over TLS unless the
/// API is on this machine (a local stand-in, as in the tests).
fn check_credentials_travel_safely(api_base_url: &str) -> Result<(), SettingsError> {
    let Ok(url) = url::Url::parse(api_base_url) else {
        return Ok(());
    };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        // RFC 6761 reserves the name for the loopback interface.
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if url.scheme() == "http" && !loopback {
        return Err(invalid(
            "twilio.api_base_url",
            "must be https:// (REST calls carry the account's credentials); plain http:// is \
             allowed only for a loopback address such as 127.0.0.1",
        ));
    }
    Ok(())
}

fn check_known_keys(layer: &Config, path: &Path) -> Result<(), SettingsError> {
    let table: config::Map<String, config::Value> = layer.clone().try_deserialize()?;
    let rules_are_a_list = table
        .get("rules")
        .is_some_and(|rules| rules.clone().into_array().is_ok());
    if table.contains_key("default") || table.contains_key("schedules") || rules_are_a_list {
        return Err(SettingsError::LooksLikeRules {
            file: path.display().to_string(),
        });
    }
    for (section, value) in table {
        let keys: Vec<String> = match value.clone().into_table() {
            Ok(inner) => inner
                .into_keys()
                .map(|k| format!("{section}.{k}"))
                .collect(),
            Err(_) => vec![section],
        };
        if let Some(key) = keys.into_iter().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            return Err(SettingsError::UnknownKey {
                file: path.display().to_string(),
                key,
            });
        }
    }
    Ok(())
}

fn optional_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    Ok(Some(text).filter(|t| !t.is_empty()))
}

fn optional_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    let secret = SecretString::deserialize(d)?;
    Ok(Some(secret).filter(|s| !s.expose_secret().is_empty()))
}

/// ` (did you mean `server.port`?)` for the known key nearest to `key`, when one is near.
fn did_you_mean(key: &str) -> String {
    closest_known(key).map_or_else(String::new, |known| format!(" (did you mean `{known}`?)"))
}

/// The known key within a few edits of `key`, if any.
fn closest_known(key: &str) -> Option<&'static str> {
    KNOWN_KEYS
        .iter()
        .map(|known| (edit_distance(key, known), *known))
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, known)| known)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Warnings about `APP_…` variables that name no setting (they would be silently ignored),
/// each with the nearest known name.
pub fn unknown_environment(environment: &[(String, String)]) -> Vec<String> {
    environment
        .iter()
        .filter_map(|(name, _)| {
            let key = name
                .strip_prefix("APP_")?
                .to_ascii_lowercase()
                .replace("__", ".");
            if KNOWN_KEYS.contains(&key.as_str()) {
                return None;
            }
            let hint = closest_known(&key).map_or_else(String::new, |known| {
                format!(
                    " (did you mean APP_{}?)",
                    known.replace('.', "__").to_ascii_uppercase()
                )
            });
            Some(format!("{name} names no setting and is ignored{hint}"))
        })
        .collect()
}

/// A list in a file, or one comma-separated string from the environment.
fn text_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(list(d)?.collect())
}

/// A list in a file, or one comma-separated string from the environment.
fn secret_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SecretString>, D::Error> {
    Ok(list(d)?.map(SecretString::from).collect())
}

/// The items of a list setting, trimmed, empty ones left out.
fn list<'de, D: Deserializer<'de>>(d: D) -> Result<impl Iterator<Item = String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<String>),
        One(String),
    }
    let items = match OneOrMany::deserialize(d)? {
        OneOrMany::Many(list) => list,
        OneOrMany::One(text) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty()))
}

#[cfg(test)]
mod tests;
