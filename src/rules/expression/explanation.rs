//! Why an expression matched or not, for operators debugging their rules. Unlike
//! [`Expr::evaluate`] this allocates and evaluates every branch, so it is for tools, not for
//! the request path.

use std::fmt;

use super::Context;
use super::ast::{Expr, Operand, Operator};
use super::evaluation::is_true;

/// The result of an expression and the terms that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// What [`Expr::evaluate`] returns for the same context.
    pub matched: bool,
    /// The comparisons and lone operands that decided the result, in source order: when it
    /// is false, the false terms of each failing `AND` and every term of each failing `OR`;
    /// when it is true, the terms that made it true. Under `NOT` a term is listed by its own
    /// result, marked `negated`, and shown with what the `NOT` makes of it.
    pub reasons: Vec<Reason>,
}

/// One term (a comparison or a lone operand) with the values it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The term's own result.
    pub held: bool,
    /// The left side, or the lone operand.
    pub left: Side,
    /// The operator and right side; `None` for a lone operand, which holds only if it is
    /// `true`.
    pub comparison: Option<(Operator, Side)>,
    /// The term is under a `NOT` (an odd number of them): what it contributes is the
    /// opposite of `held`, and it is shown so.
    pub negated: bool,
}

/// One side of a term as evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// The path as printed, when the side is a path; `None` for a literal.
    pub path: Option<String>,
    /// The value as compact JSON (`null` when missing).
    pub value: String,
}

impl Expr {
    /// Evaluates the expression and reports which terms decided the result, with the values
    /// each side resolved to.
    pub fn explain<C: Context + ?Sized>(&self, ctx: &C) -> Explanation {
        let mut reasons = Vec::new();
        let matched = collect(self, ctx, &mut reasons);
        Explanation { matched, reasons }
    }
}

/// Evaluates `expr` and appends the reasons for its value to `out`.
fn collect<C: Context + ?Sized>(expr: &Expr, ctx: &C, out: &mut Vec<Reason>) -> bool {
    match expr {
        Expr::Or(children) => junction(children, ctx, out, true),
        Expr::And(children) => junction(children, ctx, out, false),
        Expr::Not(inner) => {
            let mut inside = Vec::new();
            let value = collect(inner, ctx, &mut inside);
            out.extend(inside.into_iter().map(|reason| Reason {
                negated: !reason.negated,
                ..reason
            }));
            !value
        }
        Expr::Compare {
            left,
            operator,
            right,
        } => {
            let (left, left_side) = side(left, ctx);
            let (right, right_side) = side(right, ctx);
            let held = operator.apply(&left, &right);
            out.push(Reason {
                held,
                left: left_side,
                comparison: Some((*operator, right_side)),
                negated: false,
            });
            held
        }
        Expr::Truthy(operand) => {
            let (value, side) = side(operand, ctx);
            let held = is_true(&value);
            out.push(Reason {
                held,
                left: side,
                comparison: None,
                negated: false,
            });
            held
        }
    }
}

/// An `OR` (`decisive` = true) or `AND` (`decisive` = false): if some child has the decisive
/// value, those children are the reason; otherwise all of them are.
fn junction<C: Context + ?Sized>(
    children: &[Expr],
    ctx: &C,
    out: &mut Vec<Reason>,
    decisive: bool,
) -> bool {
    let outcomes: Vec<(bool, Vec<Reason>)> = children
        .iter()
        .map(|child| {
            let mut reasons = Vec::new();
            let value = collect(child, ctx, &mut reasons);
            (value, reasons)
        })
        .collect();
    let decided = outcomes.iter().any(|(value, _)| *value == decisive);
    for (value, reasons) in outcomes {
        if !decided || value == decisive {
            out.extend(reasons);
        }
    }
    if children.is_empty() {
        !decisive
    } else {
        decided == decisive
    }
}

fn side<'a, C: Context + ?Sized>(operand: &'a Operand, ctx: &'a C) -> (super::Resolved<'a>, Side) {
    let value = operand.resolve(ctx);
    let path = match operand {
        Operand::Path(path) => Some(path.to_string()),
        Operand::Literal(_) => None,
    };
    let side = Side {
        path,
        value: value.to_json(),
    };
    (value, side)
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "`{path}` = `{}`", self.value),
            None => write!(f, "`{}`", self.value),
        }
    }
}

/// For example: ``task.language` = `"en"`, compared `==` with `"es"`: false``.
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            // The operand, its own result, then what the NOT makes of it.
            let operand = Reason {
                negated: false,
                ..self.clone()
            };
            return write!(f, "NOT ({operand}), so the NOT is {}", !self.held);
        }
        match &self.comparison {
            Some((operator, right)) => write!(
                f,
                "{}, compared `{operator}` with {right}: {}",
                self.left, self.held
            ),
            None if self.held => write!(f, "{}: true", self.left),
            None => write!(f, "{}, which is not `true`: false", self.left),
        }
    }
}

/// The result on the first line, then one indented line per reason.
impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.matched {
            "matched"
        } else {
            "did not match"
        })?;
        for reason in &self.reasons {
            write!(f, "\n  {reason}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
