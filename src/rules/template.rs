//! String templates: rule values such as `client:{{ worker.contact_uri }}` whose `{{ path }}`
//! holes are filled from the callback, using the same paths as expressions.
//!
//! A hole is `{{`, optional whitespace, a path, optional whitespace, `}}`. Everything else is
//! literal text, including a lone `{` or `}}`; there is no escape for a literal `{{`.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::ops::Range;
use std::str::FromStr;

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
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.path, self.reason)
    }
}

impl std::error::Error for Missing {}

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
        if let Some(text) = self.as_static() {
            return Ok(Cow::Borrowed(text));
        }
        let mut out = String::with_capacity(self.source.len() + 32);
        for part in &self.parts {
            match part {
                Part::Text(range) => out.push_str(self.slice(range)),
                Part::Hole { path, written } => {
                    let missing = |reason| Missing {
                        path: self.slice(written).to_owned(),
                        reason,
                    };
                    match path.resolve(ctx) {
                        Resolved::Str(text) => out.push_str(text),
                        Resolved::Number(number) => {
                            let _ = write!(out, "{number}");
                        }
                        Resolved::Bool(flag) => out.push_str(if flag { "true" } else { "false" }),
                        Resolved::Null => return Err(missing("has no value")),
                        Resolved::Array(_) => return Err(missing("is an array, not text")),
                        Resolved::Object(_) => return Err(missing("is an object, not text")),
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
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::super::expression::testing::TestContext;
    use super::super::expression::{Param, parse_path};
    use super::*;

    fn context() -> TestContext {
        TestContext::new(
            json!({
                "name": "Ada",
                "count": 42,
                "float_count": 42.0,
                "ratio": 2.5,
                "big": 18446744073709551615u64,
                "vip": true,
                "nothing": null,
                "tags": ["a"],
                "customer": {"id": "C1", "phones": ["+15550001"]}
            }),
            json!({"contact_uri": "client:ada", "level": 3}),
        )
        .with_text(Param::TaskSid, "WT1")
        .with_number(Param::TaskAge, 30.0)
        .with_number(Param::TaskPriority, 0.5)
        .with_open_schedule("business_hours")
    }

    fn rendered(source: &str) -> Result<String, Missing> {
        let template = Template::parse(source).unwrap();
        template.render(&context()).map(Cow::into_owned)
    }

    fn fails_at(source: &str, line: usize, column: usize, message: &str) {
        let error = Template::parse(source).unwrap_err();
        assert_eq!(
            (error.line, error.column),
            (line, column),
            "{source:?}: {error}"
        );
        assert!(error.message.contains(message), "{source:?}: {error}");
    }

    #[test]
    fn text_without_holes_is_static_and_renders_borrowed() {
        let template = Template::parse("queue-a").unwrap();
        assert!(template.is_static());
        assert_eq!(template.as_static(), Some("queue-a"));
        assert!(matches!(
            template.render(&context()),
            Ok(Cow::Borrowed("queue-a"))
        ));
        assert!(template.paths().is_empty());
    }

    #[test]
    fn an_empty_template_is_static_and_empty() {
        let template = Template::parse("").unwrap();
        assert_eq!(template.as_static(), Some(""));
        assert_eq!(rendered("").unwrap(), "");
    }

    #[test]
    fn lone_braces_are_literal_text() {
        for source in ["a } b", "a }} b", "{ a }", "{x}", "}}{", "{ {"] {
            let template = Template::parse(source).unwrap();
            assert_eq!(template.as_static(), Some(source));
        }
        assert_eq!(rendered("{{task.name}}}}").unwrap(), "Ada}}");
        assert_eq!(rendered("{ {{task.name}} }").unwrap(), "{ Ada }");
    }

    #[test]
    fn a_literal_template_keeps_braces_as_text() {
        let template = Template::literal("{{ task.name }}");
        assert!(template.is_static());
        assert_eq!(template.as_static(), Some("{{ task.name }}"));
        assert_eq!(template.render(&context()).unwrap(), "{{ task.name }}");
        assert_eq!(template.to_string(), "{{ task.name }}");
        assert_eq!(Template::literal(""), Template::parse("").unwrap());
        assert_eq!(Template::literal("true"), Template::parse("true").unwrap());
    }

    #[test]
    fn a_template_with_holes_is_not_static() {
        let template = Template::parse("{{ task.name }}").unwrap();
        assert!(!template.is_static());
        assert_eq!(template.as_static(), None);
    }

    #[test]
    fn several_holes_fill_in_order_with_or_without_spaces() {
        assert_eq!(
            rendered("{{task.name}} <{{ worker.contact_uri }}> #{{  task.customer.id\t}}!")
                .unwrap(),
            "Ada <client:ada> #C1!"
        );
        assert_eq!(rendered("{{task.name}}{{task.name}}").unwrap(), "AdaAda");
        assert_eq!(
            rendered("call {{ task.customer.phones[0] }}").unwrap(),
            "call +15550001"
        );
        assert_eq!(rendered("ünï {{ task.name }} ✓").unwrap(), "ünï Ada ✓");
    }

    #[test]
    fn numbers_render_as_json_without_a_trailing_point_zero() {
        assert_eq!(rendered("{{ task.count }}").unwrap(), "42");
        assert_eq!(rendered("{{ task.float_count }}").unwrap(), "42");
        assert_eq!(rendered("{{ task.ratio }}").unwrap(), "2.5");
        assert_eq!(rendered("{{ task.big }}").unwrap(), "18446744073709551615");
        assert_eq!(rendered("{{ TaskAge }}s").unwrap(), "30s");
        assert_eq!(rendered("{{ TaskPriority }}").unwrap(), "0.5");
    }

    #[test]
    fn booleans_params_and_schedules_render_as_text() {
        assert_eq!(rendered("{{ task.vip }}").unwrap(), "true");
        assert_eq!(
            rendered("{{ schedule.business_hours }}/{{ schedule.x }}").unwrap(),
            "true/false"
        );
        assert_eq!(rendered("{{ TaskSid }}").unwrap(), "WT1");
    }

    #[test]
    fn a_missing_or_null_value_is_missing() {
        assert_eq!(
            rendered("hi {{ task.absent }}"),
            Err(Missing {
                path: "task.absent".into(),
                reason: "has no value"
            })
        );
        assert_eq!(
            rendered("{{task.nothing}}").unwrap_err().reason,
            "has no value"
        );
        assert_eq!(
            rendered("{{ task.tags[5] }}").unwrap_err().reason,
            "has no value"
        );
        assert_eq!(
            rendered("{{ ReservationSid }}").unwrap_err().path,
            "ReservationSid"
        );
    }

    #[test]
    fn an_object_or_array_value_is_missing() {
        let error = rendered("{{ task.customer }}").unwrap_err();
        assert_eq!(error.reason, "is an object, not text");
        assert_eq!(error.to_string(), "`task.customer` is an object, not text");
        assert_eq!(
            rendered("{{ task.tags }}").unwrap_err().reason,
            "is an array, not text"
        );
        assert_eq!(
            rendered("{{ task }}").unwrap_err().reason,
            "is an object, not text"
        );
    }

    #[test]
    fn missing_names_the_path_as_written() {
        assert_eq!(
            rendered("{{  task.tags[007]  }}").unwrap_err().path,
            "task.tags[007]"
        );
    }

    #[test]
    fn paths_lists_the_holes_in_order() {
        let template = Template::parse("{{ task.a }}-{{ worker.b }}-{{ task.a }}").unwrap();
        let paths: Vec<String> = template.paths().iter().map(ToString::to_string).collect();
        assert_eq!(paths, ["task.a", "worker.b", "task.a"]);
        assert_eq!(template.paths()[0], &parse_path("task.a").unwrap());
        let with_schedule = Template::parse("{{ schedule.open }} {{ task.a }}").unwrap();
        let schedules: Vec<&str> = with_schedule
            .paths()
            .iter()
            .filter_map(|path| path.schedule_name())
            .collect();
        assert_eq!(schedules, ["open"]);
    }

    #[test]
    fn display_prints_the_source_back() {
        let source = "{{task.a}} and {{  worker.b }} }}";
        assert_eq!(Template::parse(source).unwrap().to_string(), source);
        assert_eq!(source.parse::<Template>().unwrap().source(), source);
    }

    #[test]
    fn an_unclosed_hole_is_an_error_at_its_opening_braces() {
        fails_at("hello {{ task.name", 1, 7, "unclosed `{{`");
        fails_at("a {{ task.b }} {{", 1, 16, "unclosed `{{`");
        fails_at("{{ task.name }", 1, 1, "unclosed `{{`");
    }

    #[test]
    fn an_empty_hole_is_an_error() {
        fails_at("x {{}}", 1, 3, "empty `{{ }}`");
        fails_at("x {{  \t }}", 1, 3, "empty `{{ }}`");
    }

    #[test]
    fn a_bad_path_is_an_error_at_its_position_in_the_template() {
        fails_at("Hi {{ languge }}", 1, 7, "unknown name `languge`");
        fails_at("Hi {{ task. }}", 1, 12, "expected a key after `.`");
        fails_at(
            "Hi {{ task.a b }}",
            1,
            14,
            "expected `}}` after the path, found `b`",
        );
        fails_at("Hi {{ 'x' }}", 1, 7, "expected a path");
        fails_at("Hi {{ true }}", 1, 7, "expected a path");
        fails_at("{{{ task.a }}}", 1, 3, "expected a path");
        fails_at(
            "line one\nline {{ task..a }}",
            2,
            14,
            "expected a key after `.`, found `.`",
        );
    }
}
