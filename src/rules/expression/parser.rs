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
//! path        := (task | worker) segment* | schedule "." name | lists "." name
//!              | maps "." name "[" key "]" | Param
//! key         := (task | worker) segment* | Param
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
                "a path (`task.…`, `worker.…`, `schedule.NAME`, `lists.NAME`, `maps.NAME[…]` or a \
                 callback parameter)"
                    .to_owned()
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
            "lists" => Path::List(table_name(input, "lists", "list")?.to_owned()),
            "maps" => self.map(input)?,
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

    /// `maps.NAME[key]`, after `maps`.
    fn map(&self, input: &mut &'s str) -> Outcome<Path> {
        let name = table_name(input, "maps", "map")?.to_owned();
        let Some(rest) = input.strip_prefix('[') else {
            return Err(fail(
                input,
                format!(
                    "expected `[` and a key after `maps.{name}` (e.g. `maps.{name}[task.from]`),                      found {}",
                    found(input)
                ),
            ));
        };
        *input = rest;
        skip_whitespace(input);
        let start = *input;
        let key = match input.chars().next() {
            Some(first) if is_word_start(first) => self.named(input, Wanted::Path)?,
            _ => return Err(fail(start, map_key_wanted(start))),
        };
        let key = match key {
            Operand::Path(key @ (Path::Task(_) | Path::Worker(_) | Path::Param(_))) => key,
            _ => return Err(fail(start, map_key_wanted(start))),
        };
        skip_whitespace(input);
        let Some(rest) = input.strip_prefix(']') else {
            return Err(fail(
                input,
                format!("expected `]` after the key, found {}", found(input)),
            ));
        };
        *input = rest;
        if input.starts_with(['.', '[']) {
            return Err(fail(
                input,
                "a map's value is text: it has no fields or elements",
            ));
        }
        Ok(Path::Map(name, Box::new(key)))
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

/// The `.NAME` after `lists` or `maps`.
fn table_name<'s>(input: &mut &'s str, root: &str, what: &str) -> Outcome<&'s str> {
    let Some(rest) = input.strip_prefix('.') else {
        return Err(fail(
            input,
            format!(
                "expected `.` and a {what} name after `{root}`, found {}",
                found(input)
            ),
        ));
    };
    *input = rest;
    let Some(name) = opt(identifier).parse_next(input)? else {
        return Err(fail(
            input,
            format!(
                "expected a {what} name after `{root}.`, found {}",
                found(input)
            ),
        ));
    };
    if root == "lists" && input.starts_with(['.', '[']) {
        return Err(fail(
            input,
            "a list is named by exactly one key, `lists.NAME`, and is read whole with `IN`,              `NOT IN` or `HAS`",
        ));
    }
    if root == "maps" && input.starts_with('.') {
        return Err(fail(
            input,
            "a map is named by exactly one key, then the key to look up: `maps.NAME[path]`",
        ));
    }
    Ok(name)
}

fn map_key_wanted(input: &str) -> String {
    format!(
        "expected the key to look up, a `task.…`, `worker.…` or callback parameter path, found {}",
        found(input)
    )
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
    let known = ["task", "worker", "schedule", "lists", "maps"]
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
mod tests;
