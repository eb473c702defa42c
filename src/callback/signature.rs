//! `X-Twilio-Signature`: how Twilio signs a webhook, and how we check it.
//!
//! Pure functions with no web types, so the algorithm is tested against the official
//! libraries' vectors on its own. The algorithm (see `reference/signature.md`):
//! HMAC-SHA1, keyed with the Auth Token, over the URL exactly as Twilio requested it
//! followed by every decoded form pair sorted by key (byte order), each key's values sorted
//! and de-duplicated, written `key` + `value` with no separators; then standard base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::verified::Verified;

type HmacSha1 = Hmac<Sha1>;

/// Why a signature was refused. Never carries the signature or any key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request has no X-Twilio-Signature header")]
    Missing,
    #[error("X-Twilio-Signature is not standard padded base64 of a SHA-1 HMAC")]
    Malformed,
    #[error("X-Twilio-Signature does not match the callback URL, body and auth tokens")]
    Mismatch,
    #[error("bodySHA256 in the URL does not match the SHA-256 of the body")]
    BodyHashMismatch,
    /// Twilio sends one; with two, which one counted would depend on header order.
    #[error("the request has more than one X-Twilio-Signature header")]
    Repeated,
}

impl SignatureError {
    /// A short, fixed label for logs and metrics.
    pub fn reason(self) -> &'static str {
        match self {
            SignatureError::Missing => "missing",
            SignatureError::Malformed => "malformed",
            SignatureError::Mismatch => "mismatch",
            SignatureError::BodyHashMismatch => "body_hash_mismatch",
            SignatureError::Repeated => "repeated",
        }
    }
}

/// What Twilio put in the signed string after the URL.
#[derive(Clone, Copy)]
pub enum Payload<'a> {
    /// Decoded `application/x-www-form-urlencoded` pairs, in arrival order, repeats kept.
    Form(&'a [(String, String)]),
    /// A non-form body (JSON webhooks): only the URL is signed, and the URL's `bodySHA256`
    /// query parameter must be the hex SHA-256 of these raw bytes.
    Body(&'a [u8]),
}

/// The URL strings a signature may have been computed over, for one configured URL.
///
/// Twilio's signing back end is inconsistent about ports ("sig generation on back end is
/// inconsistent", in every official library), so every library tries the URL as given, with
/// any explicit port removed, and with the scheme's default port added when it has none.
/// The variants depend only on the configured URL, so they are computed once at start.
#[derive(Debug, Clone)]
pub struct UrlVariants {
    bases: Vec<String>,
}

impl UrlVariants {
    /// `url` is the URL exactly as entered in Twilio, without its query string. The query
    /// string of each request is appended at verification time, as received.
    pub fn new(url: &str) -> Self {
        let mut bases = vec![url.to_owned()];
        if let Some(parts) = Authority::find(url) {
            let stripped = parts.without_port(url);
            let with_default = parts.with_default_port(url);
            for candidate in [Some(stripped), with_default].into_iter().flatten() {
                if !bases.contains(&candidate) {
                    bases.push(candidate);
                }
            }
        }
        Self { bases }
    }

    /// The variants, the URL as given first.
    pub fn bases(&self) -> &[String] {
        &self.bases
    }
}

/// The byte ranges of a URL's authority, enough to add or remove a port without
/// re-serialising (and so normalising) anything else in the URL.
struct Authority {
    scheme_end: usize,
    /// Where the host starts (after any `user:pass@`).
    host_start: usize,
    /// Where the host ends: the `:` of the port, or the end of the authority.
    host_end: usize,
    authority_end: usize,
}

impl Authority {
    fn find(url: &str) -> Option<Self> {
        let scheme_end = url.find("://")?;
        let start = scheme_end + 3;
        let rest = &url[start..];
        let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_len];
        let host_offset = authority.rfind('@').map_or(0, |at| at + 1);
        let host_port = &authority[host_offset..];
        // An IPv6 literal holds colons of its own: the port can only follow its `]`.
        let port_colon = if host_port.starts_with('[') {
            host_port
                .find(']')
                .and_then(|close| host_port[close..].find(':').map(|c| close + c))
        } else {
            host_port.rfind(':')
        };
        let host_start = start + host_offset;
        let host_end = port_colon.map_or(start + authority_len, |c| host_start + c);
        Some(Self {
            scheme_end,
            host_start,
            host_end,
            authority_end: start + authority_len,
        })
    }

    fn has_port(&self) -> bool {
        self.host_end < self.authority_end
    }

    fn without_port(&self, url: &str) -> String {
        format!("{}{}", &url[..self.host_end], &url[self.authority_end..])
    }

    fn with_default_port(&self, url: &str) -> Option<String> {
        if self.has_port() || self.host_end == self.host_start {
            return None;
        }
        // Twilio's libraries compare the scheme case-insensitively here.
        let port = if url[..self.scheme_end].eq_ignore_ascii_case("https") {
            "443"
        } else {
            "80"
        };
        Some(format!(
            "{}:{}{}",
            &url[..self.host_end],
            port,
            &url[self.authority_end..]
        ))
    }
}

/// The `X-Twilio-Signature` header of a request, as the check needs it: absent, one value,
/// or repeated (refused whatever the values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureHeader<'a> {
    Absent,
    One(&'a str),
    Repeated,
}

impl<'a> SignatureHeader<'a> {
    /// From every value the request carries for the header, in order.
    pub fn from_values(mut values: impl Iterator<Item = &'a str>) -> Self {
        match (values.next(), values.next()) {
            (None, _) => SignatureHeader::Absent,
            (Some(value), None) => SignatureHeader::One(value),
            (Some(_), Some(_)) => SignatureHeader::Repeated,
        }
    }
}

/// Everything needed to check the callbacks of one deployment: each configured URL's
/// variants and the accepted tokens (current first). `Debug` shows no token.
#[derive(Debug, Clone)]
pub struct Verifier {
    tokens: Vec<SecretString>,
    urls: Vec<UrlVariants>,
    /// The configured URLs as signed (no query string, no fragment), for diagnostics.
    configured: Vec<String>,
}

impl Verifier {
    /// `public_urls` are the URLs Twilio may call, each exactly as entered in Twilio (the
    /// Workflow's assignment URL, and its fallback URL when that points here too). A query
    /// string in one is dropped, because the request's own query string (as received) is
    /// what gets signed; so is a `#fragment` (Twilio's connection overrides), which Twilio
    /// leaves out of the signed URL as a browser leaves it out of a request.
    pub fn new(public_urls: &[String], tokens: Vec<SecretString>) -> Self {
        let configured: Vec<String> = public_urls
            .iter()
            .map(|url| signed_base(url).to_owned())
            .collect();
        Self {
            tokens,
            urls: configured.iter().map(|url| UrlVariants::new(url)).collect(),
            configured,
        }
    }

    /// The configured URLs as they are signed (no query string, no fragment), in order.
    pub fn configured_urls(&self) -> &[String] {
        &self.configured
    }

    /// Checks the signature of a form callback against every configured URL; the pairs come
    /// back [`Verified`] when it holds, and are dropped when it does not.
    pub fn verify(
        &self,
        query: Option<&str>,
        pairs: Vec<(String, String)>,
        header: SignatureHeader<'_>,
    ) -> Result<Verified<Vec<(String, String)>>, SignatureError> {
        let header = match header {
            SignatureHeader::Absent => None,
            SignatureHeader::One(value) => Some(value),
            SignatureHeader::Repeated => return Err(SignatureError::Repeated),
        };
        verify_any(
            &self.tokens,
            &self.urls,
            query,
            Payload::Form(&pairs),
            header,
        )?;
        Ok(Verified::checked(pairs))
    }
}

/// The part of a configured URL that Twilio signs: everything before `?` and `#`.
fn signed_base(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// Computes the signature Twilio would send for `url` (query string included) and `payload`,
/// keyed with `auth_token`. Used by tests, the `sign` command and the README's examples.
pub fn compute(auth_token: &str, url: &str, payload: Payload<'_>) -> String {
    let mut mac = new_mac(auth_token.as_bytes());
    mac.update(url.as_bytes());
    if let Payload::Form(pairs) = payload {
        for (key, value) in sorted_pairs(pairs) {
            mac.update(key.as_bytes());
            mac.update(value.as_bytes());
        }
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks `header` (the `X-Twilio-Signature` value) for a request whose URL is one of
/// `urls` followed by `query` (the raw query string as received, `None` when the request
/// line had no `?`), against each token in turn. Comparison is constant-time.
pub fn verify(
    tokens: &[SecretString],
    urls: &UrlVariants,
    query: Option<&str>,
    payload: Payload<'_>,
    header: Option<&str>,
) -> Result<(), SignatureError> {
    verify_any(tokens, std::slice::from_ref(urls), query, payload, header)
}

/// As [`verify`], for a signature made over any of several configured URLs.
fn verify_any(
    tokens: &[SecretString],
    urls: &[UrlVariants],
    query: Option<&str>,
    payload: Payload<'_>,
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let expected = decode_signature(header)?;
    let sorted = match payload {
        Payload::Form(pairs) => sorted_pairs(pairs),
        Payload::Body(body) => {
            check_body_hash(query, body)?;
            Vec::new()
        }
    };
    for token in tokens {
        for base in urls.iter().flat_map(UrlVariants::bases) {
            let mut mac = new_mac(token.expose_secret().as_bytes());
            mac.update(base.as_bytes());
            if let Some(query) = query {
                mac.update(b"?");
                mac.update(query.as_bytes());
            }
            for (key, value) in &sorted {
                mac.update(key.as_bytes());
                mac.update(value.as_bytes());
            }
            if mac.verify_slice(&expected).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

fn new_mac(key: &[u8]) -> HmacSha1 {
    // HMAC takes keys of any length; the error case cannot happen.
    <HmacSha1 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key"))
}

/// The decoded signature bytes. Only canonical, padded standard base64 of 20 bytes counts:
/// Twilio's libraries compare the text, so an unpadded or re-cased header must fail.
fn decode_signature(header: &str) -> Result<Vec<u8>, SignatureError> {
    let bytes = STANDARD
        .decode(header.trim_ascii())
        .map_err(|_| SignatureError::Malformed)?;
    if bytes.len() != 20 {
        return Err(SignatureError::Malformed);
    }
    Ok(bytes)
}

/// The pairs in signing order: sorted by key then value (bytes), duplicate pairs once.
fn sorted_pairs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut sorted: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted
}

fn check_body_hash(query: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let claimed = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("bodySHA256="))
        .ok_or(SignatureError::BodyHashMismatch)?;
    let actual = Sha256::digest(body);
    let actual_hex: String = actual.iter().map(|b| format!("{b:02x}")).collect();
    // The hash is of public data, so an ordinary comparison leaks nothing secret.
    if claimed.eq_ignore_ascii_case(&actual_hex) {
        Ok(())
    } else {
        Err(SignatureError::BodyHashMismatch)
    }
}

#[cfg(test)]
mod tests;
