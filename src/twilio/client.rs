//! Twilio's REST API, as far as this service needs it: updating one Reservation, and reading
//! its status before an update taken over from another replica is sent again.
//!
//! One attempt per call; retrying is the caller's business (`delivery`), so that the
//! classification of an answer (retry, final, moved on) is tested on its own here.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};

use crate::settings::{ReservationEndpoint, TwilioSettings};

/// Which Reservation to update: the SIDs from the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationTarget {
    pub workspace_sid: String,
    pub worker_sid: String,
    pub task_sid: String,
    pub reservation_sid: String,
}

/// Why the REST client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "REST delivery needs credentials: set TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or \
         TWILIO_API_KEY with TWILIO_API_SECRET"
    )]
    NoCredentials,
    #[error("twilio.api_base_url is not a base URL: {0}")]
    BaseUrl(String),
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

/// How one attempt ended, when it did not land.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttemptError {
    /// 429, 5xx, a timeout or a connection failure: worth another try.
    #[error("{reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The Reservation is no longer pending (410, or Twilio says so): nothing is wrong with
    /// this service, TaskRouter has moved on.
    #[error("HTTP {status}: {message}")]
    MovedOn { status: u16, message: String },
    /// A 3xx: redirects are never followed, since the request carries the account's
    /// credentials and a redirected POST could land elsewhere, or turn into a GET. Final.
    #[error("HTTP {status}: a redirect to {origin}, not followed")]
    Redirected { status: u16, origin: String },
    /// Any other 4xx: another try would get the same answer.
    #[error("HTTP {status}: code {code:?}, {message:?} ({more_info:?})")]
    Final {
        status: u16,
        code: Option<i64>,
        message: Option<String>,
        more_info: Option<String>,
    },
}

/// Sends Reservation updates with HTTP Basic auth. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    base: Url,
    endpoint: ReservationEndpoint,
    username: String,
    password: SecretString,
    request_timeout: Duration,
}

impl TwilioClient {
    /// One client (one connection pool) per process. Authenticates with the API key when
    /// one is set, else with the account SID and auth token.
    pub fn new(settings: &TwilioSettings) -> Result<Self, ClientError> {
        let (username, password) = match (&settings.api_key, &settings.api_secret) {
            (Some(key), Some(secret)) => (key.clone(), secret.clone()),
            _ => match (&settings.account_sid, &settings.auth_token) {
                (Some(sid), Some(token)) => (sid.clone(), token.clone()),
                _ => return Err(ClientError::NoCredentials),
            },
        };
        let base = Url::parse(&settings.api_base_url)
            .ok()
            .filter(|url| !url.cannot_be_a_base())
            .ok_or_else(|| ClientError::BaseUrl(settings.api_base_url.clone()))?;
        let request_timeout = Duration::from_millis(settings.request_timeout_ms);
        let http = reqwest::Client::builder()
            .connect_timeout(request_timeout)
            .user_agent(concat!("assignment-router/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Http(e.to_string()))?;
        Ok(Self {
            http,
            base,
            endpoint: settings.reservation_endpoint,
            username,
            password,
            request_timeout,
        })
    }

    pub fn reservation_url(&self, target: &ReservationTarget) -> Url {
        reservation_url(&self.base, self.endpoint, target)
    }

    /// One `POST` of the update form (`body`, urlencoded), within `request_timeout_ms` or
    /// `limit`, whichever is shorter (the caller's limit is what is left before the update's
    /// deadline).
    pub async fn update_reservation(
        &self,
        target: &ReservationTarget,
        body: &str,
        limit: Duration,
    ) -> Result<Landed, AttemptError> {
        let request = self
            .http
            .post(self.reservation_url(target))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.to_owned());
        let (status, answer) = self.send(request, limit).await?;
        Ok(confirm(status, &answer, &target.reservation_sid))
    }

    /// One `GET` of the Reservation: its `reservation_status` (`pending`, `accepted`, …).
    /// Failures are sorted as an update's are: a 404 means the Task is gone (moved on), 429
    /// and 5xx are worth another try.
    pub async fn reservation_status(
        &self,
        target: &ReservationTarget,
        limit: Duration,
    ) -> Result<String, AttemptError> {
        let request = self.http.get(self.reservation_url(target));
        let (status, answer) = self.send(request, limit).await?;
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
        match answer
            .get("reservation_status")
            .and_then(serde_json::Value::as_str)
        {
            Some(reservation_status) => Ok(reservation_status.to_owned()),
            // Not Twilio's Reservation: no way to know whether the update is still needed,
            // so it is tried again later rather than sent blind.
            None => Err(AttemptError::Retryable {
                reason: format!(
                    "HTTP {}: the answer has no reservation_status",
                    status.as_u16()
                ),
                retry_after: None,
            }),
        }
    }

    /// Sends `request` with the credentials, within `request_timeout_ms` or `limit`, and
    /// reads the answer: a 2xx status and its body, or how the attempt failed.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        limit: Duration,
    ) -> Result<(StatusCode, Vec<u8>), AttemptError> {
        let request = request
            .basic_auth(&self.username, Some(self.password.expose_secret()))
            .header(ACCEPT, "application/json")
            .timeout(self.request_timeout.min(limit))
            .build()
            .map_err(|error| AttemptError::Retryable {
                reason: describe(&error),
                retry_after: None,
            })?;
        let url = request.url().clone();
        let mut response =
            self.http
                .execute(request)
                .await
                .map_err(|error| AttemptError::Retryable {
                    reason: describe(&error),
                    retry_after: None,
                })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_retry_after);
        // Read to the end (so the connection goes back to the pool for the next request),
        // but no further than any answer of Twilio's can be.
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok((status, body));
        }
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok());
            return Err(AttemptError::Redirected {
                status: status.as_u16(),
                origin: redirect_origin(&url, location),
            });
        }
        Err(classify(status, retry_after, &body))
    }
}

/// The most of an answer read. A Reservation is a couple of kilobytes; an error, less.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// A 2xx answer to an update: applied as far as anyone can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landed {
    /// The answer is the Reservation, as Twilio's always is.
    Confirmed,
    /// The answer is something else: the update may have been applied, but what answered
    /// was probably not Twilio.
    Unconfirmed { status: u16 },
}

fn confirm(status: StatusCode, body: &[u8], reservation_sid: &str) -> Landed {
    let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if answer.get("sid").and_then(serde_json::Value::as_str) == Some(reservation_sid) {
        Landed::Confirmed
    } else {
        Landed::Unconfirmed {
            status: status.as_u16(),
        }
    }
}

/// The Reservation's URL under `base`. SIDs are pushed as path segments, so whatever a
/// callback carries is percent-encoded and cannot reach another path.
pub fn reservation_url(
    base: &Url,
    endpoint: ReservationEndpoint,
    target: &ReservationTarget,
) -> Url {
    let mut url = base.clone();
    let (parent, parent_sid) = match endpoint {
        ReservationEndpoint::Worker => ("Workers", &target.worker_sid),
        ReservationEndpoint::Task => ("Tasks", &target.task_sid),
    };
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend([
            "v1",
            "Workspaces",
            &target.workspace_sid,
            parent,
            parent_sid,
            "Reservations",
            &target.reservation_sid,
        ]);
    }
    url
}

/// An update's form as the body Twilio is sent (and the shared store keeps).
pub fn encode(form: &[(&'static str, String)]) -> String {
    // Serialising string pairs cannot fail.
    serde_urlencoded::to_string(form).unwrap_or_default()
}

/// A transport error in words, without the URL's query or any header.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

/// Where a redirect pointed, as `scheme://host[:port]` only: enough to see that it leads
/// elsewhere, without logging a path or query that might carry anything.
fn redirect_origin(request: &Url, location: Option<&str>) -> String {
    match location.map(|location| request.join(location)) {
        Some(Ok(target)) => target.origin().ascii_serialization(),
        Some(Err(_)) => "a Location that is not a URL".to_owned(),
        None => "nowhere (no Location header)".to_owned(),
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value.trim()).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Sorts an unsuccessful answer into retry, moved on, or final.
pub fn classify(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> AttemptError {
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return AttemptError::Retryable {
            reason: format!("HTTP {}", status.as_u16()),
            retry_after,
        };
    }
    let error: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = error.get("code").and_then(serde_json::Value::as_i64);
    // Twilio's classic error body has `message`; its RFC 9457 bodies have `detail`.
    let message = ["message", "detail"]
        .iter()
        .find_map(|key| error.get(*key).and_then(serde_json::Value::as_str))
        .map(str::to_owned);
    let more_info = error
        .get("more_info")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    // 404: the Task, and its Reservation with it, was deleted (as after a cancelation).
    let gone = status == StatusCode::GONE || status == StatusCode::NOT_FOUND;
    if gone || message.as_deref().is_some_and(says_not_pending) {
        return AttemptError::MovedOn {
            status: status.as_u16(),
            message: message.unwrap_or_else(|| "the reservation is gone".to_owned()),
        };
    }
    AttemptError::Final {
        status: status.as_u16(),
        code,
        message,
        more_info,
    }
}

/// Whether Twilio's message says the Reservation has already been settled. The numeric code
/// for this is UNCONFIRMED (reference/taskrouter.md §3.5), so the known wordings are matched:
/// "… is already in state [accepted] and cannot be updated …", "… is not currently in a
/// Pending state", "… is not pending".
fn says_not_pending(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    [
        "already in state",
        "not currently in a pending state",
        "not pending",
    ]
    .iter()
    .any(|wording| lower.contains(wording))
}

#[cfg(test)]
mod tests;
