//! String templates: rule values such as `client:{{ worker.contact_uri }}` whose `{{ path }}`
//! holes are filled from the callback, using the same paths as expressions.
//!
//! A hole is `{{`, optional whitespace, a path, optional whitespace, `}}`. Everything else is
//! literal text, including a lone `{` or `}}`; there is no escape for a literal `{{`. In a URL
//! field, values are percent-encoded for the URL ([`Template::render_url`]).

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::ops::Range;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::expression::{Context, ParseError, Path, Resolved, parse_hole};

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// A piece of a template; ranges index into the template's source.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(Range<usize>),
    Hole { path: Path, written: Range<usize> },
}

/// Why a template could not be rendered: a hole had no printable value. The caller skips
/// the rule rather than send a half-filled value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The path as written in the template.
    pub path: String,
    /// What was wrong with its value, e.g. "has no value".
    pub reason: &'static str,
    /// The same, as a fixed metrics label: `no_value`, `not_text`, or `invalid_value` (a `.`
    /// or `..` filled into a URL).
    pub label: &'static str,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.path, self.reason)
    }
}

impl std::error::Error for Missing {}

/// How a hole's value goes into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Insert {
    AsIs,
    /// Percent-encoded, but for a value that starts the template.
    UrlComponent,
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) is encoded, as
/// JavaScript's `encodeURIComponent` nearly does: safe in a host, a path segment, a query
/// name or value, and a fragment alike.
pub const URL_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The whitespace the expression grammar skips, so hole trimming agrees with it.
const WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

impl Template {
    /// Parses a template. Errors (an unclosed `{{`, an empty `{{ }}`, a bad path) carry
    /// positions within `source`.
    pub fn parse(source: &str) -> Result<Template, ParseError> {
        let mut parts = Vec::new();
        let mut cursor = 0;
        while let Some(found) = source[cursor..].find("{{") {
            let open = cursor + found;
            if open > cursor {
                parts.push(Part::Text(cursor..open));
            }
            let inner_start = open + 2;
            let Some(close) = source[inner_start..]
                .find("}}")
                .map(|found| inner_start + found)
            else {
                return Err(ParseError::at(
                    source,
                    open,
                    "unclosed `{{`: expected a path and then `}}`",
                ));
            };
            let inner = &source[inner_start..close];
            if inner.trim_matches(WHITESPACE).is_empty() {
                return Err(ParseError::at(
                    source,
                    open,
                    "empty `{{ }}`: expected a path between the braces",
                ));
            }
            let path = parse_hole(source, inner_start..close)?;
            let written_start = close - inner.trim_start_matches(WHITESPACE).len();
            let written_end = inner_start + inner.trim_end_matches(WHITESPACE).len();
            parts.push(Part::Hole {
                path,
                written: written_start..written_end,
            });
            cursor = close + 2;
        }
        if cursor < source.len() {
            parts.push(Part::Text(cursor..source.len()));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// A static template holding `text` verbatim: braces in it are not holes. For values
    /// that are not written as templates, such as a boolean spelt as a word.
    pub fn literal(text: impl Into<String>) -> Template {
        let source = text.into();
        let parts = if source.is_empty() {
            Vec::new()
        } else {
            vec![Part::Text(0..source.len())]
        };
        Template { source, parts }
    }

    /// Whether the template has no holes, so it renders the same for every callback.
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|part| matches!(part, Part::Text(_)))
    }

    /// The text of a template without holes.
    pub fn as_static(&self) -> Option<&str> {
        self.is_static().then_some(self.source.as_str())
    }

    /// The template's source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The paths in the holes, in order (repeats included).
    pub fn paths(&self) -> Vec<&Path> {
        self.parts
            .iter()
            .filter_map(|part| match part {
                Part::Hole { path, .. } => Some(path),
                Part::Text(_) => None,
            })
            .collect()
    }

    /// Fills the holes from `ctx`. Strings are inserted as they are, numbers as JSON prints
    /// them but without a trailing `.0` (`42`, `2.5`), booleans as `true`/`false`. A hole
    /// whose value is missing, `null`, an array or an object gives [`Missing`]. A template
    /// without holes is returned borrowed.
    pub fn render<C: Context + ?Sized>(&self, ctx: &C) -> Result<Cow<'_, str>, Missing> {
        self.render_as(ctx, Insert::AsIs)
    }

    /// As [`Template::render`], for a URL field: every value is percent-encoded as one URL
    /// component (safe in the host, a path segment, the query and the fragment alike), so
    /// `a b&c=d#e` stays one query value that decodes back to itself and an attribute can
    /// never add a segment, a parameter or a fragment. The one exception is a value that
    /// starts the template: it is the URL itself, or its beginning (`{{ task.callback_url }}`,
    /// `{{ task.crm }}/twiml?id={{ task.id }}`), and goes in as it is; the caller then checks
    /// that the result is an absolute http(s) URL.
    pub fn render_url<C: Context + ?Sized>(&self, ctx: &C) -> Result<Cow<'_, str>, Missing> {
        self.render_as(ctx, Insert::UrlComponent)
    }

    fn render_as<C: Context + ?Sized>(
        &self,
        ctx: &C,
        insert: Insert,
    ) -> Result<Cow<'_, str>, Missing> {
        if let Some(text) = self.as_static() {
            return Ok(Cow::Borrowed(text));
        }
        let mut out = String::with_capacity(self.source.len() + 32);
        for (index, part) in self.parts.iter().enumerate() {
            match part {
                Part::Text(range) => out.push_str(self.slice(range)),
                Part::Hole { path, written } => {
                    let missing = |reason, label| Missing {
                        path: self.slice(written).to_owned(),
                        reason,
                        label,
                    };
                    // Only a value that starts the template is (the start of) the URL itself.
                    let encode = insert == Insert::UrlComponent && index > 0;
                    match path.resolve(ctx) {
                        // A path segment of `.` or `..` moves within the path however it
                        // is encoded (URL parsers read `%2E` as `.` there too).
                        Resolved::Str("." | "..") if encode => {
                            return Err(missing(
                                "is `.` or `..`, which a URL reads as a step in its path",
                                "invalid_value",
                            ));
                        }
                        Resolved::Str(text) if encode => {
                            out.extend(utf8_percent_encode(text, URL_COMPONENT));
                        }
                        Resolved::Str(text) => out.push_str(text),
                        // Digits, `.`, `-`, `e` and the words `true`/`false` need no encoding.
                        Resolved::Number(number) => {
                            let _ = write!(out, "{number}");
                        }
                        Resolved::Bool(flag) => out.push_str(if flag { "true" } else { "false" }),
                        Resolved::Null => return Err(missing("has no value", "no_value")),
                        Resolved::Array(_) => {
                            return Err(missing("is an array, not text", "not_text"));
                        }
                        Resolved::Object(_) => {
                            return Err(missing("is an object, not text", "not_text"));
                        }
                    }
                }
            }
        }
        Ok(Cow::Owned(out))
    }

    fn slice(&self, range: &Range<usize>) -> &str {
        self.source.get(range.clone()).unwrap_or_default()
    }
}

/// Prints the source text back.
impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for Template {
    type Err = ParseError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        Template::parse(source)
    }
}

#[cfg(test)]
mod tests;
