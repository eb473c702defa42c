//! The grammar, written as hand-rolled recursive descent over `winnow` token parsers so that
//! every error can say precisely what was expected and what was found.
//!
//! ```text
//! expression  := disjunction EOF
//! disjunction := conjunction (OR conjunction)*
//! conjunction := negation (AND negation)*
//! negation    := NOT negation | primary
//! primary     := "(" disjunction ")" | term
//! term        := operand (comparison operand)?
//! operand     := literal | path
//! comparison  := "==" | "=" | "!=" | "<" | "<=" | ">" | ">=" | CONTAINS | HAS | IN | NOT IN
//! literal     := string | number | TRUE | FALSE | NULL | "[" (literal ("," literal)*)? "]"
//! path        := (task | worker) segment* | schedule "." name | Param
//! segment     := "." name | "[" digits "]"
//! ```
//!
//! Word operators and `true`/`false`/`null` are case-insensitive and must end at a word
//! boundary. Whitespace (spaces, tabs, line breaks) may separate any two tokens but not the
//! pieces of a path or number.

use std::ops::Range;
use std::str::FromStr;

use winnow::ascii::{Caseless, digit1, multispace0, multispace1};
use winnow::combinator::{alt, not, opt, terminated};
use winnow::error::ParserError;
use winnow::prelude::*;
use winnow::token::{any, literal, one_of, take_while};

use super::ast::{Expr, Literal, Operand, Operator, Param, Path, Segment};
use super::error::{ParseError, line_and_column};

/// How deeply parentheses, `NOT` and array literals may nest; past this the parser reports
/// an error instead of risking the stack.
pub const MAX_DEPTH: usize = 64;

/// Parses a rule expression.
pub fn parse(source: &str) -> Result<Expr, ParseError> {
    let grammar = Grammar { source };
    let mut input = source;
    grammar
        .expression(&mut input)
        .map_err(|failure| grammar.locate(failure))
}

/// Parses a lone path such as `task.customer.tags[0]`, `schedule.open` or `TaskAge`
/// (surrounding whitespace allowed).
pub fn parse_path(source: &str) -> Result<Path, ParseError> {
    let grammar = Grammar { source };
    let mut input = source;
    grammar
        .whole_path(&mut input, source.len(), "end of path")
        .map_err(|failure| grammar.locate(failure))
}

/// Parses the path inside a template hole: `inner` is the byte range between `{{` and `}}`
/// in `source`, and error positions are relative to `source`.
pub(crate) fn parse_hole(source: &str, inner: Range<usize>) -> Result<Path, ParseError> {
    let grammar = Grammar { source };
    let Some(mut input) = source.get(inner.start..) else {
        return Err(ParseError::at(source, inner.start, "expected a path"));
    };
    grammar
        .whole_path(&mut input, inner.end, "`}}` after the path")
        .map_err(|failure| grammar.locate(failure))
}

impl Expr {
    /// Parses a rule expression; the same as [`parse`].
    pub fn parse(source: &str) -> Result<Expr, ParseError> {
        parse(source)
    }
}

impl FromStr for Expr {
    type Err = ParseError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        parse(source)
    }
}

impl FromStr for Path {
    type Err = ParseError;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        parse_path(source)
    }
}

/// Why parsing stopped. The position is kept as the length of input left, which needs no
/// access to the whole source and converts to an offset at the top.
#[derive(Debug)]
struct Failure {
    remaining: usize,
    message: String,
}

impl ParserError<&str> for Failure {
    type Inner = Self;

    fn from_input(input: &&str) -> Self {
        Failure {
            remaining: input.len(),
            message: String::new(),
        }
    }

    fn into_inner(self) -> Result<Self, Self> {
        Ok(self)
    }
}

type Outcome<T> = Result<T, Failure>;

fn fail(input: &str, message: impl Into<String>) -> Failure {
    Failure {
        remaining: input.len(),
        message: message.into(),
    }
}

/// What the parser was looking for, for "expected …, found …" messages.
#[derive(Debug, Clone, Copy)]
enum Wanted<'a> {
    /// A condition, optionally after the token that introduced it.
    Condition(Option<&'a str>),
    /// The right-hand side of a comparison.
    Value(&'a str),
    /// A path (templates and [`parse_path`]).
    Path,
}

impl Wanted<'_> {
    fn describe(self) -> String {
        match self {
            Wanted::Condition(None) => "a condition".to_owned(),
            Wanted::Condition(Some(token)) => format!("a condition after `{token}`"),
            Wanted::Value(operator) => format!("a value after `{operator}`"),
            Wanted::Path => {
                "a path (`task.…`, `worker.…`, `schedule.NAME` or a callback parameter)".to_owned()
            }
        }
    }

    fn not_found(self, input: &str) -> Failure {
        fail(
            input,
            format!("expected {}, found {}", self.describe(), found(input)),
        )
    }
}

/// The grammar over one source text; `source` is kept to turn positions into lines and
/// columns.
struct Grammar<'s> {
    source: &'s str,
}

impl<'s> Grammar<'s> {
    fn locate(&self, failure: Failure) -> ParseError {
        let offset = self.source.len().saturating_sub(failure.remaining);
        let message = if failure.message.is_empty() {
            "syntax error".to_owned()
        } else {
            failure.message
        };
        ParseError::at(self.source, offset, message)
    }

    fn offset(&self, input: &str) -> usize {
        self.source.len().saturating_sub(input.len())
    }

    /// Where `opened` is, as "column C" when `here` is on the same line, otherwise as
    /// "line L, column C".
    fn place(&self, opened: &str, here: &str) -> String {
        let (line, column) = line_and_column(self.source, self.offset(opened));
        let (here_line, _) = line_and_column(self.source, self.offset(here));
        if line == here_line {
            format!("column {column}")
        } else {
            format!("line {line}, column {column}")
        }
    }

    fn deeper(&self, depth: usize, at: &str) -> Outcome<usize> {
        if depth >= MAX_DEPTH {
            return Err(fail(
                at,
                format!(
                    "nested too deeply: at most {MAX_DEPTH} levels of parentheses, `NOT` and arrays are allowed"
                ),
            ));
        }
        Ok(depth + 1)
    }

    fn expression(&self, input: &mut &'s str) -> Outcome<Expr> {
        skip_whitespace(input);
        if input.is_empty() {
            return Err(fail(input, "empty expression: expected a condition"));
        }
        let expr = self.disjunction(input, 0, false, None)?;
        skip_whitespace(input);
        if input.starts_with(')') {
            return Err(fail(input, "unmatched `)`: no `(` is open here"));
        }
        if !input.is_empty() {
            return Err(fail(
                input,
                format!(
                    "expected `AND`, `OR` or end of input, found {}",
                    found(input)
                ),
            ));
        }
        Ok(expr)
    }

    fn disjunction(
        &self,
        input: &mut &'s str,
        depth: usize,
        nested: bool,
        after: Option<&'s str>,
    ) -> Outcome<Expr> {
        let mut children = vec![self.conjunction(input, depth, nested, after)?];
        loop {
            let mut probe = *input;
            skip_whitespace(&mut probe);
            let Some(word) = keyword(&mut probe, "OR") else {
                break;
            };
            *input = probe;
            children.push(self.conjunction(input, depth, nested, Some(word))?);
        }
        Ok(join(children, Junction::Or))
    }

    fn conjunction(
        &self,
        input: &mut &'s str,
        depth: usize,
        nested: bool,
        after: Option<&'s str>,
    ) -> Outcome<Expr> {
        let mut children = vec![self.negation(input, depth, nested, after)?];
        loop {
            let mut probe = *input;
            skip_whitespace(&mut probe);
            let Some(word) = keyword(&mut probe, "AND") else {
                break;
            };
            *input = probe;
            children.push(self.negation(input, depth, nested, Some(word))?);
        }
        Ok(join(children, Junction::And))
    }

    fn negation(
        &self,
        input: &mut &'s str,
        depth: usize,
        nested: bool,
        after: Option<&'s str>,
    ) -> Outcome<Expr> {
        skip_whitespace(input);
        let start = *input;
        if let Some(word) = keyword(input, "NOT") {
            let depth = self.deeper(depth, start)?;
            let inner = self.negation(input, depth, nested, Some(word))?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary(input, depth, nested, after)
    }

    fn primary(
        &self,
        input: &mut &'s str,
        depth: usize,
        nested: bool,
        after: Option<&'s str>,
    ) -> Outcome<Expr> {
        skip_whitespace(input);
        let Some(rest) = input.strip_prefix('(') else {
            return self.term(input, depth, nested, after);
        };
        let open = *input;
        let depth = self.deeper(depth, open)?;
        *input = rest;
        let inner = self.disjunction(input, depth, true, Some("("))?;
        skip_whitespace(input);
        match input.strip_prefix(')') {
            Some(rest) => {
                *input = rest;
                Ok(inner)
            }
            None => Err(fail(
                input,
                format!(
                    "expected `)` to close the `(` at {}, found {}",
                    self.place(open, input),
                    found(input)
                ),
            )),
        }
    }

    fn term(
        &self,
        input: &mut &'s str,
        depth: usize,
        nested: bool,
        after: Option<&'s str>,
    ) -> Outcome<Expr> {
        let start = *input;
        let left = self.operand(input, depth, Wanted::Condition(after))?;
        let left_text = consumed(start, input);

        let mut probe = *input;
        skip_whitespace(&mut probe);
        if let Some((operator, written)) = comparison(&mut probe)? {
            *input = probe;
            skip_whitespace(input);
            let right = self.operand(input, depth, Wanted::Value(written))?;
            return Ok(Expr::Compare {
                left,
                operator,
                right,
            });
        }

        // A lone operand: catch a misspelt operator here, where the message can mention
        // operators, rather than later as generic trailing input.
        let ends_term = probe.is_empty()
            || probe.starts_with(')')
            || is_keyword(probe, "AND")
            || is_keyword(probe, "OR");
        if ends_term {
            return Ok(Expr::Truthy(left));
        }
        let end = if nested { "`)`" } else { "end of input" };
        let after_left = if left_text.len() <= 40 && !left_text.contains('\n') {
            format!(" after `{left_text}`")
        } else {
            String::new()
        };
        Err(fail(
            probe,
            format!(
                "expected a comparison operator, `AND`, `OR` or {end}{after_left}, found {}",
                found(probe)
            ),
        ))
    }

    fn operand(&self, input: &mut &'s str, depth: usize, wanted: Wanted<'_>) -> Outcome<Operand> {
        match input.chars().next() {
            Some('"' | '\'') => Ok(Operand::Literal(Literal::String(string(input)?))),
            Some('-' | '0'..='9') => Ok(Operand::Literal(Literal::Number(number(input)?))),
            Some('[') => Ok(Operand::Literal(self.array(input, depth)?)),
            Some(first) if is_word_start(first) => self.named(input, wanted),
            _ => Err(wanted.not_found(input)),
        }
    }

    /// An operand that starts with a word: `true`/`false`/`null`, or a path.
    fn named(&self, input: &mut &'s str, wanted: Wanted<'_>) -> Outcome<Operand> {
        let start = *input;
        let name = identifier(input)?;
        if let Some(literal) = word_literal(name) {
            return Ok(Operand::Literal(literal));
        }
        let path = match name {
            "task" => Path::Task(segments(input)?),
            "worker" => Path::Worker(segments(input)?),
            "schedule" => schedule(input)?,
            _ => {
                if let Some(param) = Param::from_name(name) {
                    if input.starts_with(['.', '[']) {
                        return Err(fail(
                            input,
                            format!("callback parameter `{name}` has no fields or elements"),
                        ));
                    }
                    Path::Param(param)
                } else if is_operator_word(name) {
                    *input = start;
                    return Err(wanted.not_found(start));
                } else {
                    *input = start;
                    return Err(fail(start, unknown_name(word_at(start))));
                }
            }
        };
        Ok(Operand::Path(path))
    }

    /// A path filling the input up to byte offset `end`, with whitespace allowed around it.
    fn whole_path(&self, input: &mut &'s str, end: usize, expected_after: &str) -> Outcome<Path> {
        skip_whitespace(input);
        let start = *input;
        let path = match input.chars().next() {
            Some(first) if is_word_start(first) => match self.named(input, Wanted::Path)? {
                Operand::Path(path) => path,
                Operand::Literal(_) => return Err(Wanted::Path.not_found(start)),
            },
            _ => return Err(Wanted::Path.not_found(input)),
        };
        skip_whitespace(input);
        if self.offset(input) != end {
            return Err(fail(
                input,
                format!("expected {expected_after}, found {}", found(input)),
            ));
        }
        Ok(path)
    }

    fn array(&self, input: &mut &'s str, depth: usize) -> Outcome<Literal> {
        let open = *input;
        let depth = self.deeper(depth, open)?;
        *input = &input[1..];
        let mut items = Vec::new();
        skip_whitespace(input);
        if let Some(rest) = input.strip_prefix(']') {
            *input = rest;
            return Ok(Literal::Array(items));
        }
        let mut after = "[";
        loop {
            skip_whitespace(input);
            items.push(self.element(input, depth, after)?);
            skip_whitespace(input);
            if let Some(rest) = input.strip_prefix(',') {
                *input = rest;
                after = ",";
            } else if let Some(rest) = input.strip_prefix(']') {
                *input = rest;
                return Ok(Literal::Array(items));
            } else {
                return Err(fail(
                    input,
                    format!(
                        "expected `,` or `]` to close the `[` at {}, found {}",
                        self.place(open, input),
                        found(input)
                    ),
                ));
            }
        }
    }

    fn element(&self, input: &mut &'s str, depth: usize, after: &str) -> Outcome<Literal> {
        match input.chars().next() {
            Some('"' | '\'') => Ok(Literal::String(string(input)?)),
            Some('-' | '0'..='9') => Ok(Literal::Number(number(input)?)),
            Some('[') => self.array(input, depth),
            Some(first) if is_word_start(first) => {
                let start = *input;
                let word = identifier(input)?;
                word_literal(word).ok_or_else(|| {
                    fail(
                        start,
                        format!(
                            "array elements must be literals (strings, numbers, true, false, null or arrays), found `{word}`"
                        ),
                    )
                })
            }
            _ => Err(fail(
                input,
                format!("expected a literal after `{after}`, found {}", found(input)),
            )),
        }
    }
}

/// Which junction [`join`] builds.
#[derive(Clone, Copy, PartialEq)]
enum Junction {
    And,
    Or,
}

/// One child stays itself; several become an `And`/`Or`, splicing in children that are
/// already the same junction (from parentheses) so chains stay flat.
fn join(mut children: Vec<Expr>, junction: Junction) -> Expr {
    if children.len() == 1
        && let Some(only) = children.pop()
    {
        return only;
    }
    let mut flat = Vec::with_capacity(children.len());
    for child in children {
        match (junction, child) {
            (Junction::Or, Expr::Or(inner)) | (Junction::And, Expr::And(inner)) => {
                flat.extend(inner);
            }
            (_, other) => flat.push(other),
        }
    }
    match junction {
        Junction::And => Expr::And(flat),
        Junction::Or => Expr::Or(flat),
    }
}

/// A comparison operator, if one starts here, with the text to quote in later messages.
fn comparison<'s>(input: &mut &'s str) -> Outcome<Option<(Operator, &'s str)>> {
    let symbol = opt(alt((
        "==".value(Operator::Equal),
        "!=".value(Operator::NotEqual),
        "<=".value(Operator::LessOrEqual),
        ">=".value(Operator::GreaterOrEqual),
        "=".value(Operator::Equal),
        "<".value(Operator::Less),
        ">".value(Operator::Greater),
    ))
    .with_taken())
    .parse_next(input)?;
    if symbol.is_some() {
        return Ok(symbol);
    }

    let start = *input;
    let Some(word) = opt(identifier).parse_next(input)? else {
        return Ok(None);
    };
    let operator = if word.eq_ignore_ascii_case("CONTAINS") {
        Operator::Contains
    } else if word.eq_ignore_ascii_case("HAS") {
        Operator::Has
    } else if word.eq_ignore_ascii_case("IN") {
        Operator::In
    } else if word.eq_ignore_ascii_case("NOT") {
        let gap: Option<&str> = opt(multispace1).parse_next(input)?;
        if gap.is_some() && keyword(input, "IN").is_some() {
            return Ok(Some((Operator::NotIn, Operator::NotIn.symbol())));
        }
        skip_whitespace(input);
        return Err(fail(
            input,
            format!("expected `IN` after `{word}`, found {}", found(input)),
        ));
    } else {
        *input = start;
        return Ok(None);
    };
    Ok(Some((operator, word)))
}

fn segments(input: &mut &str) -> Outcome<Vec<Segment>> {
    let mut segments = Vec::new();
    loop {
        if let Some(rest) = input.strip_prefix('.') {
            *input = rest;
            let Some(key) = opt(identifier).parse_next(input)? else {
                return Err(fail(
                    input,
                    format!("expected a key after `.`, found {}", found(input)),
                ));
            };
            segments.push(Segment::Key(key.to_owned()));
        } else if let Some(rest) = input.strip_prefix('[') {
            *input = rest;
            let start = *input;
            let Some(digits) = opt(digit1).parse_next(input)? else {
                return Err(fail(
                    input,
                    format!(
                        "expected an array index (digits) after `[`, found {}",
                        found(input)
                    ),
                ));
            };
            let index = digits
                .parse::<usize>()
                .map_err(|_| fail(start, format!("array index `{digits}` is too large")))?;
            match input.strip_prefix(']') {
                Some(rest) => *input = rest,
                None => {
                    return Err(fail(
                        input,
                        format!("expected `]` after the array index, found {}", found(input)),
                    ));
                }
            }
            segments.push(Segment::Index(index));
        } else {
            return Ok(segments);
        }
    }
}

fn schedule(input: &mut &str) -> Outcome<Path> {
    let Some(rest) = input.strip_prefix('.') else {
        return Err(fail(
            input,
            format!(
                "expected `.` and a schedule name after `schedule`, found {}",
                found(input)
            ),
        ));
    };
    *input = rest;
    let Some(name) = opt(identifier).parse_next(input)? else {
        return Err(fail(
            input,
            format!(
                "expected a schedule name after `schedule.`, found {}",
                found(input)
            ),
        ));
    };
    if input.starts_with(['.', '[']) {
        return Err(fail(
            input,
            "a schedule is named by exactly one key: `schedule.NAME`",
        ));
    }
    Ok(Path::Schedule(name.to_owned()))
}

/// A quoted string, single or double quotes, with escapes resolved.
fn string(input: &mut &str) -> Outcome<String> {
    let start = *input;
    let quote = one_of(['"', '\'']).parse_next(input)?;
    let unterminated = || fail(start, format!("unterminated string: no closing `{quote}`"));
    let mut text = String::new();
    loop {
        let run = take_while(0.., |ch: char| ch != quote && ch != '\\').parse_next(input)?;
        text.push_str(run);
        let escape = *input;
        match opt(any).parse_next(input)? {
            None => return Err(unterminated()),
            Some('\\') => match opt(any).parse_next(input)? {
                Some('\\') => text.push('\\'),
                Some('\'') => text.push('\''),
                Some('"') => text.push('"'),
                Some('n') => text.push('\n'),
                Some('t') => text.push('\t'),
                Some(other) => {
                    return Err(fail(
                        escape,
                        format!(
                            "unknown escape `\\{other}` in string: only \\\\, \\', \\\", \\n and \\t are allowed"
                        ),
                    ));
                }
                None => return Err(unterminated()),
            },
            Some(_closing_quote) => return Ok(text),
        }
    }
}

/// `-? digits (. digits)? ([eE] [+-]? digits)?`, as a finite `f64`.
fn number(input: &mut &str) -> Outcome<f64> {
    let start = *input;
    let _minus: Option<char> = opt('-').parse_next(input)?;
    let digits: Option<&str> = opt(digit1).parse_next(input)?;
    if digits.is_none() {
        return Err(fail(
            input,
            format!("expected digits after `-`, found {}", found(input)),
        ));
    }
    if let Some(rest) = input.strip_prefix('.') {
        *input = rest;
        let fraction: Option<&str> = opt(digit1).parse_next(input)?;
        if fraction.is_none() {
            return Err(fail(
                input,
                format!(
                    "expected digits after the decimal point, found {}",
                    found(input)
                ),
            ));
        }
    }
    if let Some(rest) = input.strip_prefix(['e', 'E']) {
        *input = rest;
        let _sign: Option<char> = opt(one_of(['+', '-'])).parse_next(input)?;
        let exponent: Option<&str> = opt(digit1).parse_next(input)?;
        if exponent.is_none() {
            return Err(fail(
                input,
                format!("expected digits in the exponent, found {}", found(input)),
            ));
        }
    }
    let text = consumed(start, input);
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(fail(start, format!("number `{text}` is out of range"))),
    }
}

fn is_word_start(ch: char) -> bool {
    ch.is_ascii_alphabetic() || ch == '_'
}

fn is_word_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '_'
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
fn identifier<'s>(input: &mut &'s str) -> Outcome<&'s str> {
    (one_of(is_word_start), take_while(0.., is_word_char))
        .take()
        .parse_next(input)
}

/// Consumes `word` (any case) if it stands here as a whole word.
fn keyword<'s>(input: &mut &'s str, word: &'static str) -> Option<&'s str> {
    let matched: Outcome<Option<&str>> = opt(terminated(
        literal(Caseless(word)),
        not(one_of(is_word_char)),
    ))
    .parse_next(input);
    matched.ok().flatten()
}

fn is_keyword(input: &str, word: &'static str) -> bool {
    let mut probe = input;
    keyword(&mut probe, word).is_some()
}

fn is_operator_word(word: &str) -> bool {
    ["AND", "OR", "NOT", "IN", "HAS", "CONTAINS"]
        .iter()
        .any(|operator| word.eq_ignore_ascii_case(operator))
}

fn word_literal(word: &str) -> Option<Literal> {
    if word.eq_ignore_ascii_case("true") {
        Some(Literal::Bool(true))
    } else if word.eq_ignore_ascii_case("false") {
        Some(Literal::Bool(false))
    } else if word.eq_ignore_ascii_case("null") {
        Some(Literal::Null)
    } else {
        None
    }
}

fn skip_whitespace(input: &mut &str) {
    let _: Outcome<&str> = multispace0.parse_next(input);
}

/// The text between two positions of the same input.
fn consumed<'s>(start: &'s str, now: &str) -> &'s str {
    &start[..start.len().saturating_sub(now.len())]
}

/// Describes the token at the start of `input` for "found …".
fn found(input: &str) -> String {
    match input.chars().next() {
        None => "end of input".to_owned(),
        Some(first) if first.is_alphanumeric() || first == '_' => format!("`{}`", word_at(input)),
        Some(first) if first.is_whitespace() => "whitespace".to_owned(),
        Some(first) => format!("`{first}`"),
    }
}

/// The word at the start of `input` for quoting in messages, taking non-ASCII letters too so
/// that `tâche` is quoted whole rather than as `t`.
fn word_at(input: &str) -> &str {
    let end = input
        .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
        .unwrap_or(input.len());
    &input[..end]
}

fn unknown_name(name: &str) -> String {
    let known = ["task", "worker", "schedule"]
        .into_iter()
        .chain(Param::ALL.iter().map(|param| param.name()));
    let hint = known
        .filter(|known| known.eq_ignore_ascii_case(name))
        .map(|known| format!(" (did you mean `{known}`?)"))
        .next()
        .unwrap_or_default();
    let params: Vec<&str> = Param::ALL.iter().map(|param| param.name()).collect();
    format!(
        "unknown name `{name}`{hint}: attributes are reached through `task.` or `worker.`; callback parameters are {}",
        params.join(", ")
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn path(source: &str) -> Path {
        parse_path(source).unwrap()
    }

    fn task(keys: &[&str]) -> Path {
        Path::Task(
            keys.iter()
                .map(|key| Segment::Key((*key).to_owned()))
                .collect(),
        )
    }

    fn string(text: &str) -> Operand {
        Operand::Literal(Literal::String(text.to_owned()))
    }

    fn number(value: f64) -> Operand {
        Operand::Literal(Literal::Number(value))
    }

    fn compare(left: Operand, operator: Operator, right: Operand) -> Expr {
        Expr::Compare {
            left,
            operator,
            right,
        }
    }

    fn truthy(source: &str) -> Expr {
        Expr::Truthy(Operand::Path(path(source)))
    }

    fn error(source: &str) -> ParseError {
        match parse(source) {
            Ok(expr) => panic!("{source:?} parsed as {expr:?}"),
            Err(error) => error,
        }
    }

    /// Asserts the error's line, column and that its message contains `message`.
    fn fails_at(source: &str, line: usize, column: usize, message: &str) {
        let error = error(source);
        assert_eq!(
            (error.line, error.column),
            (line, column),
            "{source:?}: {error}"
        );
        assert!(
            error.message.contains(message),
            "{source:?}: {:?} lacks {message:?}",
            error.message
        );
    }

    #[test]
    fn a_comparison_parses_into_left_operator_and_right() {
        assert_eq!(
            parse("task.language == \"en\"").unwrap(),
            compare(
                Operand::Path(task(&["language"])),
                Operator::Equal,
                string("en")
            )
        );
    }

    #[test]
    fn every_operator_parses_in_any_case() {
        let operators = [
            ("==", Operator::Equal),
            ("=", Operator::Equal),
            ("!=", Operator::NotEqual),
            ("<", Operator::Less),
            ("<=", Operator::LessOrEqual),
            (">", Operator::Greater),
            (">=", Operator::GreaterOrEqual),
            ("CONTAINS", Operator::Contains),
            ("contains", Operator::Contains),
            ("Contains", Operator::Contains),
            ("HAS", Operator::Has),
            ("has", Operator::Has),
            ("IN", Operator::In),
            ("in", Operator::In),
            ("NOT IN", Operator::NotIn),
            ("not in", Operator::NotIn),
            ("Not\n\t In", Operator::NotIn),
        ];
        for (written, operator) in operators {
            let source = format!("task.a {written} worker.b");
            assert_eq!(
                parse(&source).unwrap(),
                compare(
                    Operand::Path(task(&["a"])),
                    operator,
                    Operand::Path(Path::Worker(vec![Segment::Key("b".into())]))
                ),
                "{source}"
            );
        }
    }

    #[test]
    fn symbol_operators_need_no_surrounding_space() {
        assert_eq!(
            parse("task.a>=1").unwrap(),
            compare(
                Operand::Path(task(&["a"])),
                Operator::GreaterOrEqual,
                number(1.0)
            )
        );
        assert_eq!(
            parse("task.a IN[1]").unwrap(),
            compare(
                Operand::Path(task(&["a"])),
                Operator::In,
                Operand::Literal(Literal::Array(vec![Literal::Number(1.0)]))
            )
        );
    }

    #[test]
    fn strings_take_either_quote_and_the_five_escapes() {
        let cases = [
            (r#""plain""#, "plain"),
            ("'single'", "single"),
            (r#""it's""#, "it's"),
            (r#"'say "hi"'"#, "say \"hi\""),
            (r#""a\\b""#, "a\\b"),
            (r#""a\"b""#, "a\"b"),
            (r"'a\'b'", "a'b"),
            (r#""line\nbreak""#, "line\nbreak"),
            (r#""tab\there""#, "tab\there"),
            (r#""""#, ""),
            ("\"ünïcödé ✓\"", "ünïcödé ✓"),
        ];
        for (source, text) in cases {
            assert_eq!(
                parse(&format!("task.a == {source}")).unwrap(),
                compare(Operand::Path(task(&["a"])), Operator::Equal, string(text)),
                "{source}"
            );
        }
    }

    #[test]
    fn numbers_take_sign_fraction_and_exponent() {
        let cases = [
            ("0", 0.0),
            ("42", 42.0),
            ("-7", -7.0),
            ("3.25", 3.25),
            ("-0.5", -0.5),
            ("1e3", 1000.0),
            ("1E3", 1000.0),
            ("2.5e-3", 0.0025),
            ("6e+2", 600.0),
            ("007", 7.0),
        ];
        for (source, value) in cases {
            assert_eq!(
                parse(&format!("task.a == {source}")).unwrap(),
                compare(Operand::Path(task(&["a"])), Operator::Equal, number(value)),
                "{source}"
            );
        }
    }

    #[test]
    fn true_false_and_null_are_case_insensitive() {
        for (source, literal) in [
            ("true", Literal::Bool(true)),
            ("TRUE", Literal::Bool(true)),
            ("False", Literal::Bool(false)),
            ("null", Literal::Null),
            ("NULL", Literal::Null),
        ] {
            assert_eq!(
                parse(&format!("task.a == {source}")).unwrap(),
                compare(
                    Operand::Path(task(&["a"])),
                    Operator::Equal,
                    Operand::Literal(literal)
                )
            );
        }
    }

    #[test]
    fn array_literals_may_be_empty_mixed_and_nested() {
        let parsed = parse("task.a IN [ 'x', 1, true, null, [], [2, ['y']] ]").unwrap();
        let expected = Literal::Array(vec![
            Literal::String("x".into()),
            Literal::Number(1.0),
            Literal::Bool(true),
            Literal::Null,
            Literal::Array(vec![]),
            Literal::Array(vec![
                Literal::Number(2.0),
                Literal::Array(vec![Literal::String("y".into())]),
            ]),
        ]);
        assert_eq!(
            parsed,
            compare(
                Operand::Path(task(&["a"])),
                Operator::In,
                Operand::Literal(expected)
            )
        );
        assert_eq!(
            parse("task.a IN [\n  1,\n  2\n]").unwrap(),
            compare(
                Operand::Path(task(&["a"])),
                Operator::In,
                Operand::Literal(Literal::Array(vec![
                    Literal::Number(1.0),
                    Literal::Number(2.0)
                ]))
            )
        );
    }

    #[test]
    fn paths_take_keys_and_indexes() {
        assert_eq!(
            path("task.customer.tags[0].name"),
            Path::Task(vec![
                Segment::Key("customer".into()),
                Segment::Key("tags".into()),
                Segment::Index(0),
                Segment::Key("name".into()),
            ])
        );
        assert_eq!(
            path("worker.matrix[1][12]"),
            Path::Worker(vec![
                Segment::Key("matrix".into()),
                Segment::Index(1),
                Segment::Index(12)
            ])
        );
        assert_eq!(path("task"), Path::Task(vec![]));
        assert_eq!(path("worker"), Path::Worker(vec![]));
        assert_eq!(path("task._private_1"), task(&["_private_1"]));
    }

    #[test]
    fn keywords_after_a_dot_are_ordinary_keys() {
        assert_eq!(
            path("task.in.and.or.not.true.null.task"),
            task(&["in", "and", "or", "not", "true", "null", "task"])
        );
        assert_eq!(
            parse("task.in == task.and").unwrap(),
            compare(
                Operand::Path(task(&["in"])),
                Operator::Equal,
                Operand::Path(task(&["and"]))
            )
        );
    }

    #[test]
    fn schedules_and_callback_parameters_are_paths() {
        assert_eq!(
            path("schedule.business_hours"),
            Path::Schedule("business_hours".into())
        );
        for param in Param::ALL {
            assert_eq!(path(param.name()), Path::Param(param));
        }
    }

    #[test]
    fn parse_path_allows_surrounding_whitespace_only() {
        assert_eq!(path("  task.a \n"), task(&["a"]));
        let error = parse_path("task.a b").unwrap_err();
        assert_eq!(error.column, 8);
        assert!(error.message.contains("expected end of path, found `b`"));
        let error = parse_path("true").unwrap_err();
        assert!(error.message.starts_with("expected a path"), "{error}");
        assert!(
            parse_path("")
                .unwrap_err()
                .message
                .contains("found end of input")
        );
        assert_eq!("task.a".parse::<Path>().unwrap(), task(&["a"]));
    }

    #[test]
    fn either_side_may_be_a_literal_or_a_path() {
        assert_eq!(
            parse("1 == 1").unwrap(),
            compare(number(1.0), Operator::Equal, number(1.0))
        );
        assert_eq!(
            parse("'en' IN worker.languages").unwrap(),
            compare(
                string("en"),
                Operator::In,
                Operand::Path(Path::Worker(vec![Segment::Key("languages".into())]))
            )
        );
    }

    #[test]
    fn a_lone_operand_is_a_truthiness_test() {
        assert_eq!(parse("schedule.open").unwrap(), truthy("schedule.open"));
        assert_eq!(parse("  task.vip  ").unwrap(), truthy("task.vip"));
        assert_eq!(
            parse("true").unwrap(),
            Expr::Truthy(Operand::Literal(Literal::Bool(true)))
        );
    }

    #[test]
    fn or_binds_loosest_then_and_then_not() {
        let parsed = parse("task.a OR NOT task.b AND task.c").unwrap();
        assert_eq!(
            parsed,
            Expr::Or(vec![
                truthy("task.a"),
                Expr::And(vec![
                    Expr::Not(Box::new(truthy("task.b"))),
                    truthy("task.c")
                ]),
            ])
        );
    }

    #[test]
    fn not_applies_to_a_whole_comparison() {
        assert_eq!(
            parse("NOT task.a == 1").unwrap(),
            Expr::Not(Box::new(compare(
                Operand::Path(task(&["a"])),
                Operator::Equal,
                number(1.0)
            )))
        );
        assert_eq!(
            parse("not(task.a)").unwrap(),
            Expr::Not(Box::new(truthy("task.a")))
        );
    }

    #[test]
    fn parentheses_override_precedence() {
        assert_eq!(
            parse("(task.a OR task.b) AND task.c").unwrap(),
            Expr::And(vec![
                Expr::Or(vec![truthy("task.a"), truthy("task.b")]),
                truthy("task.c"),
            ])
        );
        assert_eq!(parse("((task.a))").unwrap(), truthy("task.a"));
    }

    #[test]
    fn chains_of_and_or_are_flat_including_redundant_parentheses() {
        let flat = Expr::And(vec![truthy("task.a"), truthy("task.b"), truthy("task.c")]);
        assert_eq!(parse("task.a AND task.b and task.c").unwrap(), flat);
        assert_eq!(parse("(task.a AND task.b) AND task.c").unwrap(), flat);
        assert_eq!(parse("task.a AND (task.b AND task.c)").unwrap(), flat);
        assert_eq!(
            parse("task.a or (task.b OR task.c)").unwrap(),
            Expr::Or(vec![truthy("task.a"), truthy("task.b"), truthy("task.c")])
        );
    }

    #[test]
    fn very_long_chains_parse_without_deep_recursion() {
        let source = vec!["task.a == 1"; 20_000].join(" AND ");
        match parse(&source).unwrap() {
            Expr::And(children) => assert_eq!(children.len(), 20_000),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn word_operators_need_a_word_boundary() {
        assert_eq!(
            parse("task.a AND task.b").unwrap(),
            Expr::And(vec![truthy("task.a"), truthy("task.b")])
        );
        fails_at("task.a ANDtask.b", 1, 8, "found `ANDtask`");
        fails_at("task.a INx", 1, 8, "found `INx`");
    }

    #[test]
    fn unknown_bare_names_fail_at_the_name_with_guidance() {
        let error = error("task.a == 1 AND languge == \"en\"");
        assert_eq!((error.line, error.column, error.offset), (1, 17, 16));
        assert!(error.message.starts_with("unknown name `languge`: attributes are reached through `task.` or `worker.`; callback parameters are Timestamp, AccountSid,"), "{}", error.message);
        assert!(error.message.contains("TaskAge, TaskPriority"));
    }

    #[test]
    fn unknown_names_that_differ_only_in_case_get_a_suggestion() {
        fails_at(
            "taskage > 5",
            1,
            1,
            "unknown name `taskage` (did you mean `TaskAge`?)",
        );
        fails_at("Task.language", 1, 1, "(did you mean `task`?)");
    }

    #[test]
    fn callback_parameters_and_schedules_take_no_extra_segments() {
        fails_at(
            "TaskAge.x > 1",
            1,
            8,
            "callback parameter `TaskAge` has no fields",
        );
        fails_at(
            "TaskSid[0] == 1",
            1,
            8,
            "callback parameter `TaskSid` has no fields",
        );
        fails_at("schedule.a.b", 1, 11, "exactly one key: `schedule.NAME`");
        fails_at("schedule.a[0]", 1, 11, "exactly one key");
        fails_at(
            "schedule",
            1,
            9,
            "expected `.` and a schedule name after `schedule`, found end of input",
        );
        fails_at(
            "schedule.",
            1,
            10,
            "expected a schedule name after `schedule.`, found end of input",
        );
    }

    #[test]
    fn malformed_paths_say_what_is_missing() {
        fails_at(
            "task. == 1",
            1,
            6,
            "expected a key after `.`, found whitespace",
        );
        fails_at("task.1a == 1", 1, 6, "expected a key after `.`, found `1a`");
        fails_at(
            "task.a[] == 1",
            1,
            8,
            "expected an array index (digits) after `[`, found `]`",
        );
        fails_at("task.a[-1] == 1", 1, 8, "expected an array index");
        fails_at(
            "task.a[1 == 1",
            1,
            9,
            "expected `]` after the array index, found whitespace",
        );
        fails_at("task.a[99999999999999999999999] == 1", 1, 8, "too large");
        fails_at("task.some-key == 1", 1, 10, "found `-`");
    }

    #[test]
    fn a_missing_right_hand_side_names_the_operator() {
        fails_at(
            "task.a ==",
            1,
            10,
            "expected a value after `==`, found end of input",
        );
        fails_at(
            "task.a = ",
            1,
            10,
            "expected a value after `=`, found end of input",
        );
        fails_at(
            "task.a not in AND",
            1,
            15,
            "expected a value after `NOT IN`, found `AND`",
        );
        fails_at(
            "task.a HAS )",
            1,
            12,
            "expected a value after `HAS`, found `)`",
        );
    }

    #[test]
    fn a_missing_condition_names_what_came_before() {
        fails_at(
            "task.a AND",
            1,
            11,
            "expected a condition after `AND`, found end of input",
        );
        fails_at(
            "task.a or  OR task.b",
            1,
            12,
            "expected a condition after `or`, found `OR`",
        );
        fails_at(
            "NOT",
            1,
            4,
            "expected a condition after `NOT`, found end of input",
        );
        fails_at("()", 1, 2, "expected a condition after `(`, found `)`");
        fails_at("== 1", 1, 1, "expected a condition, found `=`");
    }

    #[test]
    fn unclosed_parentheses_point_back_to_the_opening_one() {
        fails_at(
            "((task.a)",
            1,
            10,
            "expected `)` to close the `(` at column 1, found end of input",
        );
        fails_at(
            "  (task.a == 1 task.b",
            1,
            16,
            "expected `)` to close the `(` at column 3, found `task`",
        );
        fails_at(
            "(task.a\nAND\ntask.b",
            3,
            7,
            "expected `)` to close the `(` at line 1, column 1",
        );
        fails_at("task.a)", 1, 7, "unmatched `)`");
    }

    #[test]
    fn strings_report_unterminated_quotes_and_bad_escapes() {
        fails_at("task.a == \"abc", 1, 11, "unterminated string");
        fails_at(
            "task.a == 'abc\"",
            1,
            11,
            "unterminated string: no closing `'`",
        );
        fails_at("task.a == \"abc\\", 1, 11, "unterminated string");
        fails_at("task.a == \"a\\qb\"", 1, 13, "unknown escape `\\q`");
        fails_at("task.a == \"a\\u0041\"", 1, 13, "unknown escape `\\u`");
    }

    #[test]
    fn malformed_numbers_say_which_digits_are_missing() {
        fails_at(
            "task.a == -",
            1,
            12,
            "expected digits after `-`, found end of input",
        );
        fails_at(
            "task.a == 1.",
            1,
            13,
            "expected digits after the decimal point",
        );
        fails_at(
            "task.a == 1.e5",
            1,
            13,
            "expected digits after the decimal point, found `e5`",
        );
        fails_at("task.a == 1e", 1, 13, "expected digits in the exponent");
        fails_at(
            "task.a == .5",
            1,
            11,
            "expected a value after `==`, found `.`",
        );
        fails_at("task.a == 1e999", 1, 11, "number `1e999` is out of range");
    }

    #[test]
    fn malformed_arrays_point_at_the_problem() {
        fails_at(
            "task.a IN [1, 2",
            1,
            16,
            "expected `,` or `]` to close the `[` at column 11, found end of input",
        );
        fails_at("task.a IN [1 2]", 1, 14, "expected `,` or `]`");
        fails_at(
            "task.a IN [1,]",
            1,
            14,
            "expected a literal after `,`, found `]`",
        );
        fails_at(
            "task.a IN [,]",
            1,
            12,
            "expected a literal after `[`, found `,`",
        );
        fails_at(
            "task.a IN [task.b]",
            1,
            12,
            "array elements must be literals",
        );
    }

    #[test]
    fn misspelt_operators_after_a_lone_operand_are_reported_there() {
        fails_at(
            "task.a EQUALS 1",
            1,
            8,
            "expected a comparison operator, `AND`, `OR` or end of input after `task.a`, found `EQUALS`",
        );
        fails_at("(task.a ~ 1)", 1, 9, "or `)` after `task.a`, found `~`");
        fails_at("task.a ! 1", 1, 8, "found `!`");
        fails_at(
            "task.a NOT task.b",
            1,
            12,
            "expected `IN` after `NOT`, found `task`",
        );
        fails_at(
            "task.a === 1",
            1,
            10,
            "expected a value after `==`, found `=`",
        );
    }

    #[test]
    fn trailing_input_after_a_comparison_is_an_error_at_its_position() {
        fails_at(
            "task.a == 1 2",
            1,
            13,
            "expected `AND`, `OR` or end of input, found `2`",
        );
        fails_at("task.a == 1 task.b", 1, 13, "found `task`");
        fails_at("task.a == 1;", 1, 12, "found `;`");
    }

    #[test]
    fn empty_input_is_an_error() {
        fails_at("", 1, 1, "empty expression");
        fails_at("  \n ", 2, 2, "empty expression");
    }

    #[test]
    fn errors_in_multi_line_expressions_report_the_right_line() {
        let source = "task.language == \"en\"\n  AND worker.level >= 3\n  AND languge == 'x'";
        let error = error(source);
        assert_eq!((error.line, error.column), (3, 7));
        assert_eq!(error.offset, source.find("languge").unwrap());
        assert_eq!(error.snippet(source), "  AND languge == 'x'\n      ^");
        assert!(
            error
                .to_string()
                .starts_with("line 3, column 7: unknown name `languge`")
        );
    }

    #[test]
    fn names_with_non_ascii_letters_are_quoted_whole() {
        fails_at("tâche.x == 1", 1, 1, "unknown name `tâche`");
        fails_at(
            "task.a == 1 AND é",
            1,
            17,
            "expected a condition after `AND`, found `é`",
        );
    }

    #[test]
    fn columns_count_characters_after_non_ascii_text() {
        fails_at("task.a == \"日本語\" oops", 1, 17, "found `oops`");
    }

    #[test]
    fn nesting_up_to_the_limit_parses() {
        let depth = MAX_DEPTH;
        let parens = format!("{}task.a{}", "(".repeat(depth), ")".repeat(depth));
        assert_eq!(parse(&parens).unwrap(), truthy("task.a"));
        let nots = format!("{}task.a", "NOT ".repeat(depth));
        assert!(parse(&nots).is_ok());
        let arrays = format!("task.a IN {}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(parse(&arrays).is_ok());
    }

    #[test]
    fn nesting_past_the_limit_is_an_error_not_a_stack_overflow() {
        let depth = MAX_DEPTH + 1;
        let parens = format!("{}task.a{}", "(".repeat(depth), ")".repeat(depth));
        fails_at(&parens, 1, 65, "nested too deeply");
        let mixed = "NOT (".repeat(depth) + "task.a" + &")".repeat(depth);
        assert!(error(&mixed).message.contains("nested too deeply"));
        let arrays = format!("task.a IN {}{}", "[".repeat(depth), "]".repeat(depth));
        fails_at(&arrays, 1, 75, "nested too deeply");
        let huge = "(".repeat(100_000);
        assert!(error(&huge).message.contains("nested too deeply"));
        let huge_nots = "NOT ".repeat(100_000);
        assert!(error(&huge_nots).message.contains("nested too deeply"));
    }

    #[test]
    fn template_holes_parse_with_positions_in_the_template() {
        let source = "Hi {{ task.name }}!";
        assert_eq!(parse_hole(source, 5..16).unwrap(), task(&["name"]));
        let source = "Hi {{ task.name x }}!";
        let error = parse_hole(source, 5..18).unwrap_err();
        assert_eq!(error.column, 17);
        assert!(
            error
                .message
                .contains("expected `}}` after the path, found `x`")
        );
    }
}
