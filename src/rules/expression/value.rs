//! Borrowed views of the values an expression compares, and the comparisons themselves.
//!
//! Values come from three places (JSON attributes, callback parameters and literals written
//! in the rule); viewing them all through [`Resolved`] lets every comparison run without
//! converting or allocating.

use std::cmp::Ordering;
use std::fmt::{self, Write as _};

use serde_json::{Map, Value};

use super::ast::Literal;
use crate::rules::lookup::List;

/// A value a path or literal resolved to, borrowed from wherever it lives.
#[derive(Debug, Clone, Copy)]
pub enum Resolved<'a> {
    /// No value: JSON `null`, an absent key, an index out of range, a path through a
    /// non-container, or a callback parameter that was not sent.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    Str(&'a str),
    /// An array.
    Array(Array<'a>),
    /// A JSON object (only attributes can hold one; there are no object literals).
    Object(&'a Map<String, Value>),
}

/// A number as it was found: JSON integers stay exact, everything else is an `f64`.
///
/// Keeping integers exact means large IDs print correctly in templates and two different
/// 64-bit integers never compare equal; mixed comparisons happen in `f64`.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    /// A JSON integer (wide enough for both `i64` and `u64`).
    Integer(i128),
    /// A literal, a numeric callback parameter, or a JSON number with a fraction or exponent.
    Float(f64),
}

/// An array, either from JSON or written as a literal.
#[derive(Debug, Clone, Copy)]
pub enum Array<'a> {
    /// An array in the task or worker attributes.
    Json(&'a [Value]),
    /// An array literal in the expression.
    Literal(&'a [Literal]),
    /// A list file, by name: only ever searched, never walked (it may hold a million values).
    List(&'a List),
}

/// The elements of an [`Array`], as [`Resolved`] views.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    array: Array<'a>,
    index: usize,
}

impl<'a> Resolved<'a> {
    /// A view of a JSON value.
    pub fn from_json(value: &'a Value) -> Self {
        match value {
            Value::Null => Resolved::Null,
            Value::Bool(flag) => Resolved::Bool(*flag),
            Value::Number(number) => Resolved::Number(Number::from_json(number)),
            Value::String(text) => Resolved::Str(text),
            Value::Array(items) => Resolved::Array(Array::Json(items)),
            Value::Object(members) => Resolved::Object(members),
        }
    }

    /// A view of a literal.
    pub fn from_literal(literal: &'a Literal) -> Self {
        match literal {
            Literal::Null => Resolved::Null,
            Literal::Bool(flag) => Resolved::Bool(*flag),
            Literal::Number(number) => Resolved::Number(Number::Float(*number)),
            Literal::String(text) => Resolved::Str(text),
            Literal::Array(items) => Resolved::Array(Array::Literal(items)),
        }
    }

    /// Whether this is [`Resolved::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Resolved::Null)
    }

    /// Whether this is null, a boolean, a number or a string.
    pub fn is_scalar(&self) -> bool {
        !matches!(self, Resolved::Array(_) | Resolved::Object(_))
    }

    /// Whether both values are of the same JSON type (all numbers are one type).
    pub fn same_type(&self, other: &Resolved<'_>) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// The `==` relation: same type and equal. Numbers compare numerically, strings exactly
    /// (case-sensitive), arrays element by element, objects member by member; null equals
    /// null.
    pub fn equals(&self, other: &Resolved<'_>) -> bool {
        match (self, other) {
            (Resolved::Null, Resolved::Null) => true,
            (Resolved::Bool(left), Resolved::Bool(right)) => left == right,
            (Resolved::Number(left), Resolved::Number(right)) => left.equals(*right),
            (Resolved::Str(left), Resolved::Str(right)) => left == right,
            // A list file is for searching; comparing it whole is always false.
            (Resolved::Array(Array::List(_)), _) | (_, Resolved::Array(Array::List(_))) => false,
            (Resolved::Array(left), Resolved::Array(right)) => {
                left.len() == right.len()
                    && left
                        .elements()
                        .zip(right.elements())
                        .all(|(left, right)| left.equals(&right))
            }
            (Resolved::Object(left), Resolved::Object(right)) => {
                left.len() == right.len()
                    && left.iter().all(|(key, left)| {
                        right.get(key).is_some_and(|right| {
                            Resolved::from_json(left).equals(&Resolved::from_json(right))
                        })
                    })
            }
            _ => false,
        }
    }

    /// The order used by `<`, `<=`, `>`, `>=`: numbers numerically, strings by bytes; `None`
    /// for anything else, which makes all four false.
    pub fn order(&self, other: &Resolved<'_>) -> Option<Ordering> {
        match (self, other) {
            (Resolved::Number(left), Resolved::Number(right)) => left.order(*right),
            (Resolved::Str(left), Resolved::Str(right)) => {
                Some(left.as_bytes().cmp(right.as_bytes()))
            }
            _ => None,
        }
    }

    /// The value as compact JSON text, for explanations.
    pub fn to_json(&self) -> String {
        let mut text = String::new();
        self.write_json(&mut text);
        text
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Resolved::Null => out.push_str("null"),
            Resolved::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
            Resolved::Number(number) => {
                let _ = write!(out, "{number}");
            }
            Resolved::Str(text) => write_json_string(text, out),
            Resolved::Array(Array::List(list)) => {
                let _ = write!(out, "lists.{} ({} values)", list.name(), list.len());
            }
            Resolved::Array(items) => {
                out.push('[');
                for (index, item) in items.elements().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Resolved::Object(members) => {
                out.push('{');
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_json_string(key, out);
                    out.push(':');
                    Resolved::from_json(value).write_json(out);
                }
                out.push('}');
            }
        }
    }
}

impl Number {
    /// A view of a JSON number, exact when it is an integer.
    pub fn from_json(number: &serde_json::Number) -> Self {
        if let Some(integer) = number.as_i64() {
            Number::Integer(i128::from(integer))
        } else if let Some(integer) = number.as_u64() {
            Number::Integer(i128::from(integer))
        } else {
            // Only non-finite or arbitrary-precision numbers lack an f64; NaN then makes every
            // ordering and equality false.
            Number::Float(number.as_f64().unwrap_or(f64::NAN))
        }
    }

    /// The number as an `f64` (large integers round).
    pub fn as_f64(self) -> f64 {
        match self {
            // Rounding is the documented intent for mixed comparisons.
            #[allow(clippy::cast_precision_loss)]
            Number::Integer(integer) => integer as f64,
            Number::Float(float) => float,
        }
    }

    fn equals(self, other: Number) -> bool {
        match (self, other) {
            (Number::Integer(left), Number::Integer(right)) => left == right,
            _ => self.as_f64() == other.as_f64(),
        }
    }

    fn order(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Integer(left), Number::Integer(right)) => Some(left.cmp(&right)),
            _ => self.as_f64().partial_cmp(&other.as_f64()),
        }
    }
}

/// Prints the number the way JSON would, but with integral values never ending in `.0`:
/// `42`, `0.5`, `1e+21`. Non-finite floats (which only a broken context could supply) print
/// as `null`, as JSON has no spelling for them.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::Integer(integer) => write!(f, "{integer}"),
            // Both zeros print as `0`: `-0` would surprise in a template and equals `0` anyway.
            Number::Float(0.0) => f.write_str("0"),
            Number::Float(float) => match serde_json::Number::from_f64(float) {
                Some(number) => {
                    let text = number.to_string();
                    f.write_str(text.strip_suffix(".0").unwrap_or(&text))
                }
                None => f.write_str("null"),
            },
        }
    }
}

impl<'a> Array<'a> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            Array::Json(items) => items.len(),
            Array::Literal(items) => items.len(),
            Array::List(list) => list.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements in order.
    pub fn elements(&self) -> Elements<'a> {
        Elements {
            array: *self,
            index: 0,
        }
    }

    /// Whether some element `==` the value. A list file is one hash lookup.
    pub fn includes(&self, value: &Resolved<'_>) -> bool {
        match (self, value) {
            (Array::List(list), Resolved::Str(text)) => list.contains(text),
            (Array::List(_), _) => false,
            _ => self.elements().any(|element| element.equals(value)),
        }
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Resolved<'a>;

    fn next(&mut self) -> Option<Resolved<'a>> {
        let element = match self.array {
            Array::Json(items) => items.get(self.index).map(Resolved::from_json),
            Array::Literal(items) => items.get(self.index).map(Resolved::from_literal),
            // Never walked: see `includes`.
            Array::List(_) => None,
        };
        self.index += 1;
        element
    }
}

/// Writes `text` as a JSON string literal.
fn write_json_string(text: &str, out: &mut String) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if ch.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(ch));
            }
            ch => out.push(ch),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests;
