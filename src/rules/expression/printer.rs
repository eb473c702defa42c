//! Printing expressions back as canonical source: word operators in upper case, `=` as `==`,
//! strings in double quotes, and parentheses only where precedence needs them. Printing and
//! parsing again gives an equal tree.

use std::fmt::{self, Write as _};

use super::ast::{Expr, Literal, Operand, Path, Segment};
use super::value::Number;

/// Binding strength, loosest first, used to decide where parentheses are needed.
fn precedence(expr: &Expr) -> u8 {
    match expr {
        Expr::Or(_) => 1,
        Expr::And(_) => 2,
        Expr::Not(_) => 3,
        Expr::Compare { .. } | Expr::Truthy(_) => 4,
    }
}

fn write_child(f: &mut fmt::Formatter<'_>, child: &Expr, needs_parentheses: bool) -> fmt::Result {
    if needs_parentheses {
        write!(f, "({child})")
    } else {
        write!(f, "{child}")
    }
}

fn write_junction(
    f: &mut fmt::Formatter<'_>,
    children: &[Expr],
    word: &str,
    strength: u8,
    empty: &str,
) -> fmt::Result {
    if children.is_empty() {
        // Only hand-built trees get here; print a literal with the same meaning.
        return f.write_str(empty);
    }
    for (index, child) in children.iter().enumerate() {
        if index > 0 {
            write!(f, " {word} ")?;
        }
        // A nested junction of the same kind (hand-built only) keeps its parentheses.
        write_child(f, child, precedence(child) <= strength)?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Or(children) => write_junction(f, children, "OR", 1, "false"),
            Expr::And(children) => write_junction(f, children, "AND", 2, "true"),
            Expr::Not(inner) => {
                f.write_str("NOT ")?;
                write_child(f, inner, precedence(inner) < 3)
            }
            Expr::Compare {
                left,
                operator,
                right,
            } => write!(f, "{left} {operator} {right}"),
            Expr::Truthy(operand) => write!(f, "{operand}"),
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Literal(literal) => write!(f, "{literal}"),
            Operand::Path(path) => write!(f, "{path}"),
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(flag) => f.write_str(if *flag { "true" } else { "false" }),
            Literal::Number(number) => write!(f, "{}", Number::Float(*number)),
            Literal::String(text) => write_string(f, text),
            Literal::Array(items) => {
                f.write_char('[')?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_char(']')
            }
        }
    }
}

/// A double-quoted string using only the escapes the parser accepts.
fn write_string(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for ch in text.chars() {
        match ch {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            ch => f.write_char(ch)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (root, segments) = match self {
            Path::Task(segments) => ("task", segments),
            Path::Worker(segments) => ("worker", segments),
            Path::Schedule(name) => return write!(f, "schedule.{name}"),
            Path::Param(param) => return write!(f, "{param}"),
            Path::List(name) => return write!(f, "lists.{name}"),
            Path::Map(name, key) => return write!(f, "maps.{name}[{key}]"),
        };
        f.write_str(root)?;
        for segment in segments {
            write!(f, "{segment}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Key(key) => write!(f, ".{key}"),
            Segment::Index(index) => write!(f, "[{index}]"),
        }
    }
}

#[cfg(test)]
mod tests;
