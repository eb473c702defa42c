//! `assignment-router decisions WR…`: prints decision records from the running service.
//!
//! Each record comes from `GET /decisions/{ReservationSid}` on the admin listener, asked with a
//! plain HTTP/1.1 request over a std `TcpStream`, as `healthcheck` asks: the command runs in
//! the runtime image too, where there is no curl, and needs no async runtime for one request.
//! Because no client library reads the answer, this file does: the status line, the headers,
//! and a body framed by `Content-Length`, by chunks (actix chunks a streamed body) or by the
//! end of the connection. Whatever the other end sends is an error to report, never a panic.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use super::fail;
use crate::decisions::{DecisionRecord, text};
use crate::instruction::is_sid;
use crate::settings::Settings;

/// How long the service has to accept the connection, and then to answer in full.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The most this command reads of one answer. A record is a few kilobytes; a larger answer
/// is not one.
const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// The most a status line and headers may take before the body.
const MAX_HEAD_BYTES: usize = 64 << 10;

/// Prints the record of each Reservation, as text or (`json`) one JSON array; exit 0 when every
/// one was found. A sid that is not `WR` and 32 hex digits is refused here, not asked for.
pub fn run(config: Option<&Path>, reservations: &[String], json: bool) -> ExitCode {
    // Only where the admin listener is and its token matter here, so `serve`'s secrets
    // need not be set.
    let settings = match Settings::read(config) {
        Ok(settings) => settings,
        Err(error) => return fail(&error),
    };
    let address = match admin_address(&settings.admin.host, settings.admin.port) {
        Ok(address) => address,
        Err(error) => return fail(&error),
    };
    let admin = Admin {
        address,
        token: settings.admin.bearer_token.as_ref(),
        timeout: TIMEOUT,
    };
    let output = if json { Output::Json } else { Output::Text };
    let stdout = io::stdout();
    let stderr = io::stderr();
    match report(
        &admin,
        reservations,
        output,
        &mut stdout.lock(),
        &mut stderr.lock(),
    ) {
        Ok(true) => ExitCode::SUCCESS,
        // Not every record was found (each reason is on stderr), or stdout was closed
        // (`| head`): nothing more to say.
        Ok(false) | Err(_) => ExitCode::FAILURE,
    }
}

/// What to print the records as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Text,
    Json,
}

/// Where to ask, and with what.
#[derive(Debug)]
struct Admin<'a> {
    address: SocketAddr,
    /// Shown as `[REDACTED]` by `Debug`; exposed only into the request's header.
    token: Option<&'a SecretString>,
    timeout: Duration,
}

/// Looks up each Reservation in turn and prints its record (text: as it comes; JSON: one array
/// at the end, of the records found). A record not found is reported on `err` and the next one
/// is looked up; when the listener cannot be reached or refuses the token, the rest would fail
/// the same way, so they are not asked for. True when every record was found.
fn report(
    admin: &Admin<'_>,
    reservations: &[String],
    output: Output,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<bool> {
    let mut records = Vec::new();
    let mut all_found = true;
    for (index, sid) in reservations.iter().enumerate() {
        if !is_sid(sid, "WR") {
            writeln!(
                err,
                "error: {sid:?} is not a ReservationSid: expected WR followed by 32 hex digits \
                 (not looked up)"
            )?;
            all_found = false;
            continue;
        }
        match look_up(admin, sid) {
            Ok(record) => {
                if output == Output::Text {
                    if !records.is_empty() {
                        writeln!(out)?;
                    }
                    for line in text::lines(&record) {
                        writeln!(out, "{line}")?;
                    }
                    out.flush()?;
                }
                records.push(record);
            }
            Err(error) => {
                writeln!(err, "error: {error}")?;
                all_found = false;
                let left = reservations.len() - index - 1;
                if error.applies_to_all() && left > 0 {
                    let what = if left == 1 {
                        "Reservation"
                    } else {
                        "Reservations"
                    };
                    writeln!(err, "note: {left} more {what} not looked up")?;
                    break;
                }
            }
        }
    }
    if output == Output::Json {
        let document = serde_json::to_string_pretty(&records).map_err(io::Error::other)?;
        writeln!(out, "{document}")?;
    }
    Ok(all_found)
}

/// Why one record could not be shown. Messages name the address and the setting to look at;
/// none carries the bearer token.
#[derive(Debug, thiserror::Error)]
enum LookupError {
    #[error("cannot resolve admin.host `{0}`")]
    Resolve(String),
    #[error("{}", connect_problem(*.address, .source, *.timeout))]
    Connect {
        address: SocketAddr,
        source: io::Error,
        timeout: Duration,
    },
    #[error("{}", exchange_problem(*.address, .source, *.timeout))]
    Exchange {
        address: SocketAddr,
        source: io::Error,
        timeout: Duration,
    },
    #[error("the admin listener at {address} sent an answer that cannot be read: {problem}")]
    Unreadable {
        address: SocketAddr,
        problem: ResponseError,
    },
    #[error(
        "no decision is recorded for {sid} (records are kept for the last decisions.keep \
         decisions, or decisions.keep_hours in the shared store)"
    )]
    NotFound { sid: String },
    #[error(
        "the admin listener at {address} needs a bearer token: set admin.bearer_token (or \
         APP_ADMIN__BEARER_TOKEN) to the service's"
    )]
    TokenNeeded { address: SocketAddr },
    #[error(
        "the admin listener at {address} refused the bearer token: admin.bearer_token (or \
         APP_ADMIN__BEARER_TOKEN) is not the one the service runs with"
    )]
    TokenRefused { address: SocketAddr },
    #[error(
        "admin.bearer_token (or APP_ADMIN__BEARER_TOKEN) holds a line break or another control \
         character, which cannot be sent in a header"
    )]
    TokenUnsendable,
    #[error("the admin listener at {address} refused {sid}: {reason}")]
    Refused {
        address: SocketAddr,
        sid: String,
        reason: String,
    },
    #[error("GET /decisions/{sid} on {address} answered {status}{}", colon(.reason))]
    Status {
        address: SocketAddr,
        sid: String,
        status: String,
        reason: String,
    },
    #[error(
        "the admin listener at {address} answered 200 for {sid}, but not with a decision \
         record ({problem}): is admin.port the admin listener of this version of the service?"
    )]
    NotARecord {
        address: SocketAddr,
        sid: String,
        problem: String,
    },
}

impl LookupError {
    /// Whether the next Reservation would fail the same way: the listener cannot be found
    /// or reached, or it refuses the token.
    fn applies_to_all(&self) -> bool {
        matches!(
            self,
            LookupError::Resolve(_)
                | LookupError::Connect { .. }
                | LookupError::Exchange { .. }
                | LookupError::TokenNeeded { .. }
                | LookupError::TokenRefused { .. }
                | LookupError::TokenUnsendable
        )
    }
}

fn connect_problem(address: SocketAddr, source: &io::Error, timeout: Duration) -> String {
    match source.kind() {
        io::ErrorKind::ConnectionRefused => format!(
            "nothing listens on {address}: the service is not running, or its admin listener \
             is elsewhere (admin.host and admin.port, or APP_ADMIN__HOST and APP_ADMIN__PORT)"
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "no answer from {address} within {}: is the service running there, and does a \
             firewall let the connection through?",
            duration(timeout)
        ),
        _ => format!("cannot reach {address} ({source}): is the service running there?"),
    }
}

fn exchange_problem(address: SocketAddr, source: &io::Error, timeout: Duration) -> String {
    match source.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "the service at {address} is running but did not answer in full within {}",
            duration(timeout)
        ),
        _ => format!("the connection to {address} broke before the answer was whole: {source}"),
    }
}

/// `5 s`, or `200 ms` for a timeout that is not whole seconds (the tests').
fn duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

fn colon(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

/// Where the admin listener is reached: a wildcard host (`0.0.0.0`, `::`) is asked on the
/// loopback address, as `healthcheck` does.
fn admin_address(host: &str, port: u16) -> Result<SocketAddr, LookupError> {
    // Where `healthcheck` probes, so the two commands reach the same listener.
    super::probe::target(host, port).map_err(|_| LookupError::Resolve(host.to_owned()))
}

/// One record, asked for and read. `sid` has the shape of a ReservationSid.
fn look_up(admin: &Admin<'_>, sid: &str) -> Result<DecisionRecord, LookupError> {
    let address = admin.address;
    let request = request(address, sid, admin.token)?;
    let response = exchange(address, &request, admin.timeout)?;
    match response.status {
        200 => serde_json::from_slice::<DecisionRecord>(&response.body).map_err(|error| {
            LookupError::NotARecord {
                address,
                sid: sid.to_owned(),
                problem: error.to_string(),
            }
        }),
        404 => Err(LookupError::NotFound {
            sid: sid.to_owned(),
        }),
        401 if admin.token.is_some() => Err(LookupError::TokenRefused { address }),
        401 => Err(LookupError::TokenNeeded { address }),
        400 => Err(LookupError::Refused {
            address,
            sid: sid.to_owned(),
            reason: response.first_body_line(),
        }),
        status => Err(LookupError::Status {
            address,
            sid: sid.to_owned(),
            status: printable(&format!("{status} {}", response.reason))
                .trim_end()
                .to_owned(),
            reason: response.first_body_line(),
        }),
    }
}

/// The request's bytes. They hold the token when one is set: they go to the socket and
/// nowhere else.
fn request(
    address: SocketAddr,
    sid: &str,
    token: Option<&SecretString>,
) -> Result<Vec<u8>, LookupError> {
    let mut request = format!(
        "GET /decisions/{sid} HTTP/1.1\r\nHost: {address}\r\nAccept: application/json\r\n\
         User-Agent: assignment-router/{}\r\nConnection: close\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes();
    if let Some(token) = token {
        let token = token.expose_secret();
        if token.bytes().any(|b| b.is_ascii_control()) {
            return Err(LookupError::TokenUnsendable);
        }
        request.extend_from_slice(b"Authorization: Bearer ");
        request.extend_from_slice(token.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    Ok(request)
}

/// Sends the request and reads the whole answer, within `timeout` once connected. The answer
/// is complete when its framing says so, so a server that keeps the connection open despite
/// `Connection: close` is not waited for.
fn exchange(
    address: SocketAddr,
    request: &[u8],
    timeout: Duration,
) -> Result<Response, LookupError> {
    let mut stream =
        TcpStream::connect_timeout(&address, timeout).map_err(|source| LookupError::Connect {
            address,
            source,
            timeout,
        })?;
    let deadline = Instant::now() + timeout;
    let broken = |source| LookupError::Exchange {
        address,
        source,
        timeout,
    };
    stream.set_write_timeout(Some(timeout)).map_err(broken)?;
    stream.write_all(request).map_err(broken)?;
    let mut received = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(broken(io::ErrorKind::TimedOut.into()));
        }
        stream.set_read_timeout(Some(left)).map_err(broken)?;
        let read = match stream.read(&mut chunk) {
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(broken(error)),
        };
        received.extend_from_slice(&chunk[..read]);
        if received.len() > MAX_RESPONSE_BYTES {
            return Err(LookupError::Unreadable {
                address,
                problem: ResponseError::TooLarge,
            });
        }
        let closed = read == 0;
        match parse(&received, closed) {
            Ok(Some(response)) => return Ok(response),
            Ok(None) => {}
            Err(problem) => return Err(LookupError::Unreadable { address, problem }),
        }
    }
}

/// One HTTP answer, read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// The body's first line, for an error message: printable, and short.
    fn first_body_line(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let line = text.lines().next().unwrap_or("").trim();
        printable(line).chars().take(200).collect()
    }
}

/// What makes an answer unreadable. The messages quote at most its status line, printable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum ResponseError {
    #[error("the connection was closed without an answer")]
    Empty,
    #[error("it is not HTTP (no `HTTP/1.x` status line)")]
    NotHttp,
    #[error("`{0}` is not an HTTP/1.x status line")]
    StatusLine(String),
    #[error("a header line is malformed")]
    Header,
    #[error("its Content-Length is not one number")]
    ContentLength,
    #[error("its Transfer-Encoding `{0}` is not chunked")]
    TransferEncoding(String),
    #[error("its chunked body is malformed")]
    Chunk,
    #[error("it ended before it was whole")]
    Truncated,
    #[error("it is larger than {} MiB", MAX_RESPONSE_BYTES >> 20)]
    TooLarge,
}

/// How the body's end is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(usize),
    Chunked,
    UntilClose,
}

/// The answer in `bytes`, when they hold all of it; `Ok(None)` when more is needed and the
/// connection is still open (`closed` false). Interim `1xx` answers are passed over.
fn parse(bytes: &[u8], closed: bool) -> Result<Option<Response>, ResponseError> {
    let mut rest = bytes;
    loop {
        // Give up on something that is not HTTP at once, rather than at the timeout.
        let start = &rest[..rest.len().min(5)];
        if !b"HTTP/".starts_with(start) {
            return Err(ResponseError::NotHttp);
        }
        let Some(head_end) = find(rest, b"\r\n\r\n") else {
            if rest.len() > MAX_HEAD_BYTES {
                return Err(ResponseError::TooLarge);
            }
            return match (closed, bytes.is_empty()) {
                (false, _) => Ok(None),
                (true, true) => Err(ResponseError::Empty),
                (true, false) => Err(ResponseError::Truncated),
            };
        };
        let (status, reason, headers) = parse_head(&rest[..head_end])?;
        let after = &rest[head_end + 4..];
        if (100..200).contains(&status) && status != 101 {
            rest = after;
            continue;
        }
        let body = match framing(status, &headers)? {
            Framing::None => Some(Vec::new()),
            Framing::Length(length) => after.get(..length).map(<[u8]>::to_vec),
            Framing::Chunked => dechunk(after)?,
            Framing::UntilClose => closed.then(|| after.to_vec()),
        };
        return match body {
            Some(body) => Ok(Some(Response {
                status,
                reason,
                headers,
                body,
            })),
            None if closed => Err(ResponseError::Truncated),
            None => Ok(None),
        };
    }
}

type Head = (u16, String, Vec<(String, String)>);

/// The status line and headers, without the blank line that ends them.
fn parse_head(head: &[u8]) -> Result<Head, ResponseError> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let bad_status =
        || ResponseError::StatusLine(printable(status_line).chars().take(80).collect());
    let (version, rest) = status_line.split_once(' ').ok_or_else(bad_status)?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1")
        || code.len() != 3
        || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad_status());
    }
    let status: u16 = code.parse().map_err(|_| bad_status())?;
    let mut headers = Vec::new();
    for line in lines {
        // A folded line (leading space) is obsolete and a sign of smuggling: refused.
        let (name, value) = line.split_once(':').ok_or(ResponseError::Header)?;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(ResponseError::Header);
        }
        headers.push((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()));
    }
    Ok((status, reason.to_owned(), headers))
}

/// A byte of an HTTP token (a header name).
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// How the body is framed, by RFC 9112 §6.3: no body for 204 and 304, chunks when the last
/// transfer coding is chunked (it wins over a Content-Length), else the Content-Length, else
/// the end of the connection.
fn framing(status: u16, headers: &[(String, String)]) -> Result<Framing, ResponseError> {
    if status == 204 || status == 304 {
        return Ok(Framing::None);
    }
    if let Some(last) = header_values(headers, "transfer-encoding")
        .filter(|v| !v.is_empty())
        .last()
    {
        return if last.eq_ignore_ascii_case("chunked") {
            Ok(Framing::Chunked)
        } else {
            Err(ResponseError::TransferEncoding(
                printable(last).chars().take(40).collect(),
            ))
        };
    }
    let mut length = None;
    for value in header_values(headers, "content-length") {
        if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ResponseError::ContentLength);
        }
        let value: u64 = value.parse().map_err(|_| ResponseError::ContentLength)?;
        if length.is_some_and(|seen| seen != value) {
            return Err(ResponseError::ContentLength);
        }
        length = Some(value);
    }
    match length {
        None => Ok(Framing::UntilClose),
        Some(length) => match usize::try_from(length) {
            Ok(length) if length <= MAX_RESPONSE_BYTES => Ok(Framing::Length(length)),
            _ => Err(ResponseError::TooLarge),
        },
    }
}

/// Every value of a header, its comma-separated lists split.
fn header_values<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(key, _)| key.eq_ignore_ascii_case(name))
        .flat_map(|(_, value)| value.split(','))
        .map(|value| value.trim_matches([' ', '\t']))
}

/// The body of a chunked answer, when `bytes` hold its last chunk and trailers.
fn dechunk(bytes: &[u8]) -> Result<Option<Vec<u8>>, ResponseError> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_end) = find(&bytes[at..], b"\r\n") else {
            // A size line is a few hex digits, perhaps with an extension; not kilobytes.
            return if bytes.len() - at > 1024 {
                Err(ResponseError::Chunk)
            } else {
                Ok(None)
            };
        };
        let line = &bytes[at..at + line_end];
        let digits = line.split(|&b| b == b';').next().unwrap_or(line);
        let digits = digits.trim_ascii();
        if digits.is_empty() || digits.len() > 16 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(ResponseError::Chunk);
        }
        let size = std::str::from_utf8(digits)
            .ok()
            .and_then(|digits| usize::from_str_radix(digits, 16).ok())
            .ok_or(ResponseError::Chunk)?;
        at += line_end + 2;
        if size == 0 {
            // Trailers, each a line, until an empty one.
            loop {
                let Some(end) = find(&bytes[at..], b"\r\n") else {
                    return Ok(None);
                };
                if end == 0 {
                    return Ok(Some(body));
                }
                at += end + 2;
            }
        }
        if body.len().saturating_add(size) > MAX_RESPONSE_BYTES {
            return Err(ResponseError::TooLarge);
        }
        let Some(data) = bytes.get(at..at + size) else {
            return Ok(None);
        };
        body.extend_from_slice(data);
        at += size;
        match bytes.get(at..at + 2) {
            None if b"\r\n".starts_with(&bytes[at..]) => return Ok(None),
            Some(b"\r\n") => at += 2,
            _ => return Err(ResponseError::Chunk),
        }
    }
}

/// Where `needle` first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// The text with control characters escaped, for quoting what the other end sent.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
