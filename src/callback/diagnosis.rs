//! Why a signature may have failed, in words an operator can act on: the URLs it was checked
//! against (passwords masked), and a hint when the request plainly came for another scheme,
//! host or port than the configured URL (a proxy, or the port the service listens on written
//! into `callback.public_url`: the classic mistakes).
//!
//! Computed only for a refused signature, never on the answering path. It reads headers a
//! client controls (`Host`, `X-Forwarded-*`) only to word the hint: the check itself never
//! trusts them.

/// What the request said about where it was sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Received<'a> {
    /// The `Host` header.
    pub host: Option<&'a str>,
    /// `X-Forwarded-Proto`, set by a TLS-terminating proxy.
    pub forwarded_proto: Option<&'a str>,
    /// `X-Forwarded-Host`, set by some proxies that rewrite `Host`.
    pub forwarded_host: Option<&'a str>,
}

/// What to log beside a refused signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The configured URLs, comma-separated, any password shown as `***`.
    pub urls_tried: String,
    /// One sentence when scheme, host or port differ from every configured URL.
    pub hint: Option<String>,
}

/// The diagnosis of a refused signature, for `configured` URLs (as signed: no query, no
/// fragment).
pub fn diagnose(configured: &[String], received: Received<'_>) -> Diagnosis {
    let parsed: Vec<url::Url> = configured
        .iter()
        .filter_map(|url| url::Url::parse(url).ok())
        .collect();
    let urls_tried = parsed.iter().map(masked).collect::<Vec<_>>().join(", ");
    Diagnosis {
        urls_tried,
        hint: hint(&parsed, received),
    }
}

/// A URL for a log line: any password shown as `***`; text that is no URL is not shown.
pub fn masked_url(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| "(not a URL)".to_owned(), |url| masked(&url))
}

fn masked(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

fn hint(configured: &[url::Url], received: Received<'_>) -> Option<String> {
    let first = configured.first()?;
    let scheme = received
        .forwarded_proto
        .map(|p| p.trim().to_ascii_lowercase());
    if let Some(scheme) = &scheme
        && configured.iter().all(|url| url.scheme() != scheme)
    {
        return Some(format!(
            "the request reached the proxy as {scheme}:// but callback.public_url is {}://: \
             set it to the URL exactly as entered in Twilio",
            first.scheme()
        ));
    }
    let (host, port) = split_host(received.forwarded_host.or(received.host)?);
    let same_host: Vec<&url::Url> = configured
        .iter()
        .filter(|url| {
            url.host_str()
                .is_some_and(|h| h.eq_ignore_ascii_case(&host))
        })
        .collect();
    if same_host.is_empty() {
        return Some(format!(
            "the request came for host {host} but callback.public_url names {}: Twilio signs \
             the URL entered in its console, so set callback.public_url to exactly that URL \
             (or add it to callback.public_urls)",
            first.host_str().unwrap_or("")
        ));
    }
    // A request without a port in Host came to its scheme's default port.
    let scheme = scheme.as_deref().unwrap_or(same_host[0].scheme());
    let port = port.or(match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    })?;
    if same_host
        .iter()
        .all(|url| url.port_or_known_default() != Some(port))
    {
        let configured_port = same_host[0].port_or_known_default().unwrap_or_default();
        return Some(format!(
            "the request came for port {port} but callback.public_url says port \
             {configured_port}: write the port Twilio calls (as in its console), not the one \
             the service listens on behind a proxy or port mapping"
        ));
    }
    None
}

/// `host[:port]`, with IPv6 literals in brackets; the host lowercased, without brackets.
fn split_host(value: &str) -> (String, Option<u16>) {
    let value = value.trim();
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (rest, None),
        }
    } else {
        match value.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        }
    };
    let host = if value.starts_with('[') {
        format!("[{}]", host.to_ascii_lowercase())
    } else {
        host.to_ascii_lowercase()
    };
    (host, port.and_then(|p| p.parse().ok()))
}

#[cfg(test)]
mod tests;
