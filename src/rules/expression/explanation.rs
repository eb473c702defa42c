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
    /// result, which is the opposite of its contribution.
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
        Expr::Not(inner) => !collect(inner, ctx, out),
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
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::super::parse;
    use super::super::testing::TestContext;
    use super::*;

    fn context() -> TestContext {
        TestContext::new(
            json!({"language": "en", "tier": "gold", "tags": ["a", "b"], "vip": false}),
            json!({"languages": ["fr", "de"], "level": 2}),
        )
        .with_open_schedule("business_hours")
    }

    fn explained(source: &str) -> Explanation {
        let expr = parse(source).unwrap();
        let explanation = expr.explain(&context());
        assert_eq!(explanation.matched, expr.evaluate(&context()), "{source}");
        explanation
    }

    fn lines(source: &str) -> Vec<String> {
        explained(source)
            .reasons
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_false_comparison_shows_both_values() {
        let explanation = explained("task.language == \"es\"");
        assert!(!explanation.matched);
        assert_eq!(
            explanation.reasons,
            [Reason {
                held: false,
                left: Side {
                    path: Some("task.language".into()),
                    value: "\"en\"".into()
                },
                comparison: Some((
                    Operator::Equal,
                    Side {
                        path: None,
                        value: "\"es\"".into()
                    }
                )),
            }]
        );
        assert_eq!(
            explanation.to_string(),
            "did not match\n  `task.language` = `\"en\"`, compared `==` with `\"es\"`: false"
        );
    }

    #[test]
    fn paths_on_the_right_show_their_values_too() {
        assert_eq!(
            lines("task.language IN worker.languages"),
            [
                "`task.language` = `\"en\"`, compared `IN` with `worker.languages` = `[\"fr\",\"de\"]`: false"
            ]
        );
    }

    #[test]
    fn missing_values_show_as_null() {
        assert_eq!(
            lines("task.missing == 'x'"),
            ["`task.missing` = `null`, compared `==` with `\"x\"`: false"]
        );
    }

    #[test]
    fn a_failing_and_lists_only_its_false_terms() {
        assert_eq!(
            lines("task.tier == 'gold' AND worker.level > 3 AND task.vip"),
            [
                "`worker.level` = `2`, compared `>` with `3`: false",
                "`task.vip` = `false`, which is not `true`: false",
            ]
        );
    }

    #[test]
    fn a_failing_or_lists_every_term() {
        assert_eq!(
            lines("task.tier == 'silver' OR schedule.weekend"),
            [
                "`task.tier` = `\"gold\"`, compared `==` with `\"silver\"`: false",
                "`schedule.weekend` = `false`, which is not `true`: false",
            ]
        );
    }

    #[test]
    fn a_match_lists_the_terms_that_made_it_true() {
        let explanation = explained("schedule.business_hours OR task.tier == 'silver'");
        assert!(explanation.matched);
        assert_eq!(
            explanation.to_string(),
            "matched\n  `schedule.business_hours` = `true`: true"
        );
    }

    #[test]
    fn not_lists_the_inner_terms_by_their_own_result() {
        let explanation = explained("NOT task.tags HAS 'a'");
        assert!(!explanation.matched);
        assert_eq!(
            explanation
                .reasons
                .iter()
                .map(|reason| reason.held)
                .collect::<Vec<_>>(),
            [true]
        );
    }

    #[test]
    fn nested_junctions_explain_through_every_level() {
        let source =
            "(task.language == 'en' OR task.language == 'fr') AND (worker.level >= 3 OR task.vip)";
        assert_eq!(
            lines(source),
            [
                "`worker.level` = `2`, compared `>=` with `3`: false",
                "`task.vip` = `false`, which is not `true`: false",
            ]
        );
    }

    #[test]
    fn explanation_agrees_with_evaluation_on_empty_hand_built_junctions() {
        let ctx = context();
        assert!(Expr::And(vec![]).explain(&ctx).matched);
        assert!(!Expr::Or(vec![]).explain(&ctx).matched);
    }
}
