//! Evaluating expressions against one callback. This runs on every request, so nothing here
//! allocates: paths walk borrowed JSON and comparisons work on borrowed views.

use std::cmp::Ordering;

use serde_json::Value;

use super::ast::{Expr, Operand, Operator, Path, Segment};
use super::value::{Array, Number, Resolved};
use super::{Context, ParamValue};

impl Expr {
    /// Whether the expression holds for `ctx`. Never panics; see the module documentation for
    /// what each operator does with missing values and mismatched types.
    pub fn evaluate<C: Context + ?Sized>(&self, ctx: &C) -> bool {
        match self {
            Expr::Or(children) => children.iter().any(|child| child.evaluate(ctx)),
            Expr::And(children) => children.iter().all(|child| child.evaluate(ctx)),
            Expr::Not(inner) => !inner.evaluate(ctx),
            Expr::Compare {
                left,
                operator,
                right,
            } => operator.apply(&left.resolve(ctx), &right.resolve(ctx)),
            Expr::Truthy(operand) => is_true(&operand.resolve(ctx)),
        }
    }
}

/// The rule for a lone operand: only the boolean `true` counts.
pub(crate) fn is_true(value: &Resolved<'_>) -> bool {
    matches!(value, Resolved::Bool(true))
}

impl Operand {
    /// The operand's value: a literal as written, a path looked up in `ctx`.
    pub fn resolve<'a, C: Context + ?Sized>(&'a self, ctx: &'a C) -> Resolved<'a> {
        match self {
            Operand::Literal(literal) => Resolved::from_literal(literal),
            Operand::Path(path) => path.resolve(ctx),
        }
    }
}

impl Path {
    /// The value at this path in `ctx`; [`Resolved::Null`] when there is none (absent key,
    /// index out of range, a step through something that is not an object or array, or a
    /// callback parameter that was not sent).
    pub fn resolve<'c, C: Context + ?Sized>(&self, ctx: &'c C) -> Resolved<'c> {
        match self {
            Path::Task(segments) => walk(ctx.task(), segments),
            Path::Worker(segments) => walk(ctx.worker(), segments),
            Path::Schedule(name) => Resolved::Bool(ctx.schedule_open(name)),
            Path::Param(param) => match ctx.param(*param) {
                None => Resolved::Null,
                Some(ParamValue::Str(text)) => Resolved::Str(text),
                Some(ParamValue::Number(number)) => Resolved::Number(Number::Float(number)),
            },
            Path::List(name) => match ctx.list(name) {
                Some(list) => Resolved::Array(Array::List(list)),
                None => Resolved::Null,
            },
            Path::Map(name, key) => {
                let found = match (ctx.map(name), key.resolve(ctx)) {
                    (Some(map), Resolved::Str(key)) => map.get(key),
                    // A whole-number key is looked up by its digits: account numbers are
                    // often numbers in the attributes and text in a CSV file.
                    (Some(map), Resolved::Number(Number::Integer(key))) => {
                        map.get(&key.to_string())
                    }
                    _ => None,
                };
                found.map_or(Resolved::Null, Resolved::Str)
            }
        }
    }
}

fn walk<'c>(mut value: &'c Value, segments: &[Segment]) -> Resolved<'c> {
    for segment in segments {
        let next = match (segment, value) {
            (Segment::Key(key), Value::Object(members)) => members.get(key),
            (Segment::Index(index), Value::Array(items)) => items.get(*index),
            _ => None,
        };
        match next {
            Some(next) => value = next,
            None => return Resolved::Null,
        }
    }
    Resolved::from_json(value)
}

impl Operator {
    /// Applies the operator to two resolved values. Values of different types give false for
    /// every operator, `!=` included, except that `!=` with a null side is true exactly when
    /// the other side is not null.
    pub fn apply(self, left: &Resolved<'_>, right: &Resolved<'_>) -> bool {
        match self {
            Operator::Equal => left.equals(right),
            Operator::NotEqual => match (left.is_null(), right.is_null()) {
                (true, true) => false,
                (true, false) | (false, true) => true,
                (false, false) => left.same_type(right) && !left.equals(right),
            },
            Operator::Less => left.order(right) == Some(Ordering::Less),
            Operator::LessOrEqual => {
                matches!(left.order(right), Some(Ordering::Less | Ordering::Equal))
            }
            Operator::Greater => left.order(right) == Some(Ordering::Greater),
            Operator::GreaterOrEqual => {
                matches!(left.order(right), Some(Ordering::Greater | Ordering::Equal))
            }
            Operator::Contains => match (left, right) {
                (Resolved::Str(haystack), Resolved::Str(needle)) => haystack.contains(needle),
                _ => false,
            },
            Operator::Has => match left {
                Resolved::Array(items) if right.is_scalar() => items.includes(right),
                _ => false,
            },
            Operator::In => match right {
                Resolved::Array(items) if !matches!(left, Resolved::Array(_)) => {
                    items.includes(left)
                }
                _ => false,
            },
            Operator::NotIn => match right {
                Resolved::Array(items) if !matches!(left, Resolved::Array(_)) => {
                    !items.includes(left)
                }
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests;
