//! Strict `application/x-www-form-urlencoded` decoding.
//!
//! The signature covers the decoded pairs, so decoding must be exact: `+` is a space, every
//! `%` starts a two-digit hex escape, and the decoded bytes must be UTF-8. Lenient decoders
//! keep a bad escape as literal text; we refuse it instead, because Twilio never sends one and
//! a guess would sign something other than what was sent.

/// Why a body is not a well-formed form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("malformed form body: `%` at byte {0} is not followed by two hex digits")]
    BadEscape(usize),
    #[error("malformed form body: the pair starting at byte {0} is not valid UTF-8 once decoded")]
    NotUtf8(usize),
    #[error("malformed form body: more than {0} pairs")]
    TooManyPairs(usize),
}

/// More pairs than any callback carries (TaskRouter sends a dozen). Bounds the work a
/// stranger can cause before the signature is checked.
pub const MAX_PAIRS: usize = 1_000;

/// Decodes a form body into its pairs, in arrival order, repeated keys kept. Empty segments
/// (`a=1&&b=2`) are skipped, as every form decoder does; a segment without `=` is a key with
/// an empty value.
pub fn parse(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let mut pairs = Vec::with_capacity(16);
    let mut start = 0;
    while start <= body.len() {
        let end = memchr::memchr(b'&', &body[start..]).map_or(body.len(), |at| start + at);
        let segment = &body[start..end];
        if !segment.is_empty() {
            if pairs.len() == MAX_PAIRS {
                return Err(FormError::TooManyPairs(MAX_PAIRS));
            }
            let pair = match memchr::memchr(b'=', segment) {
                Some(eq) => (
                    decode(&segment[..eq], start)?,
                    decode(&segment[eq + 1..], start + eq + 1)?,
                ),
                None => (decode(segment, start)?, String::new()),
            };
            pairs.push(pair);
        }
        start = end + 1;
    }
    Ok(pairs)
}

fn decode(raw: &[u8], start: usize) -> Result<String, FormError> {
    // Fast path: most keys and many values need no decoding at all.
    if memchr::memchr2(b'%', b'+', raw).is_none() {
        return std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| FormError::NotUtf8(start));
    }
    // One byte at a time: encoded attribute JSON has an escape every few bytes, so runs of
    // plain bytes are too short for searching ahead to pay.
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&byte) = raw.get(i) {
        match byte {
            b'%' => {
                let high = raw.get(i + 1).map_or(INVALID, |&b| HEX[usize::from(b)]);
                let low = raw.get(i + 2).map_or(INVALID, |&b| HEX[usize::from(b)]);
                if (high | low) == INVALID {
                    return Err(FormError::BadEscape(start + i));
                }
                out.push(high << 4 | low);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| FormError::NotUtf8(start))
}

/// Not a hex digit (any value with bits above the low four works; this one survives `|`).
const INVALID: u8 = 0xff;

/// The value of each byte as a hex digit, or [`INVALID`].
const HEX: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut n = 0;
    while n < 10 {
        table[b'0' as usize + n] = n as u8;
        n += 1;
    }
    let mut n = 0;
    while n < 6 {
        table[b'a' as usize + n] = 10 + n as u8;
        table[b'A' as usize + n] = 10 + n as u8;
        n += 1;
    }
    table
};

#[cfg(test)]
mod tests;
