//! Routing-rule expressions: TaskRouter's own expression syntax, plus `NOT`.
//!
//! # Syntax
//!
//! ```text
//! task.language IN worker.languages AND (TaskAge > 30 OR task.vip) AND NOT schedule.holiday
//! ```
//!
//! - **Literals**: strings in single or double quotes (escapes `\\`, `\'`, `\"`, `\n`, `\t`;
//!   any other escape is an error); numbers (`-12`, `3.5`, `1e3`; held as `f64`); `true`,
//!   `false`, `null` in any case; arrays of literals `[1, "a", [true]]`.
//! - **Paths**: `task` and `worker` (the attributes objects, alone or followed by `.key` and
//!   `[n]` steps), `schedule.NAME` (whether that schedule is open now), `lists.NAME` (a list
//!   file's values, for `IN`, `NOT IN` and `HAS`), `maps.NAME[path]` (a map file's value for
//!   the key that `path` gives, or null), or a callback parameter by its exact Twilio name
//!   ([`Param`]). Keys are `[A-Za-z_][A-Za-z0-9_]*`; after
//!   a dot any such word, even `in` or `and`, is just a key. Any other bare name is an error.
//! - **Operators**: `==` (also `=`), `!=`, `<`, `<=`, `>`, `>=`, `CONTAINS`, `HAS`, `IN`,
//!   `NOT IN`, `AND`, `OR`, unary `NOT`, parentheses. Word operators in any case. Precedence
//!   from loosest: `OR`, `AND`, `NOT`, comparison.
//! - **Terms**: `operand OP operand`, or a lone operand, which holds only when its value is
//!   the boolean `true` (`schedule.business_hours`, `task.vip`).
//! - Parentheses, `NOT` and array literals nest at most [`MAX_DEPTH`] levels.
//!
//! # Semantics
//!
//! Evaluation never fails: every question has a yes-or-no answer.
//!
//! - A missing value (absent key, index out of range, a path through something that is not
//!   an object or array, a parameter that was not sent) is `null`.
//! - `==`: same type and equal. Numbers compare numerically (`5 == 5.0`), strings exactly
//!   (case-sensitive), arrays element by element, objects member by member. `null == null`.
//! - `!=`: if either side is `null`, true exactly when the other is not (so `x != null` tests
//!   presence, and a missing value `!= "gold"` is true). Otherwise true when both have the
//!   same type and differ.
//! - **Values of different types compare false under every operator, `!=` included**:
//!   `5 != "5"` is false, as is `5 == "5"`.
//! - `<`, `<=`, `>`, `>=`: numbers numerically, strings by byte order; anything else is false.
//! - `a CONTAINS b`: both strings and `b` is a substring of `a` (case-sensitive).
//! - `a HAS b`: `a` is an array and `b` a scalar (null, boolean, number or string) `==` one
//!   of its elements.
//! - `a IN b`: `b` is an array and `a` anything but an array `==` one of its elements.
//! - `a NOT IN b`: `b` is an array and `a` anything but an array equal to none of them (a
//!   missing `a` is therefore `NOT IN` any list without `null`). Not an array: false.
//! - A list (`lists.NAME`) holds strings: `x IN lists.NAME` and `lists.NAME HAS x` are hash
//!   lookups, true when `x` is a string in the list, and `NOT IN` their negation (so a
//!   missing `x` is `NOT IN` every list). A list compares false under every other operator.
//! - `maps.NAME[path]` is the map's value (a string) for `path`'s value, a string or a whole
//!   number (looked up by its digits); null when the key is absent or not such a value.
//! - `AND` and `OR` evaluate left to right and stop as soon as the result is known.
//!
//! JSON integers are compared exactly among themselves; any comparison involving a literal
//! or a fraction happens in `f64`.

mod ast;
mod error;
mod evaluation;
mod explanation;
mod parser;
mod printer;
mod value;

#[cfg(test)]
pub(crate) mod testing;

pub use ast::{Expr, Literal, Lookup, Operand, Operator, Param, Path, Segment};
pub use error::ParseError;
pub use explanation::{Explanation, Reason, Side};
pub(crate) use parser::parse_hole;
pub use parser::{MAX_DEPTH, parse, parse_path};
pub use value::{Array, Elements, Number, Resolved};

use super::lookup::{List, Map};

/// What an expression is evaluated against: one assignment callback.
pub trait Context {
    /// The Task attributes object (may be `Value::Null`).
    fn task(&self) -> &serde_json::Value;
    /// The Worker attributes object (may be `Value::Null`).
    fn worker(&self) -> &serde_json::Value;
    /// A callback parameter; `None` when the callback did not send it.
    fn param(&self, param: Param) -> Option<ParamValue<'_>>;
    /// Whether the named schedule is open now; `false` for schedules the context does not
    /// know (the loader rejects those up front, see [`Expr::schedules`]).
    fn schedule_open(&self, name: &str) -> bool;
    /// The named list; `None` for lists the context does not know (the loader rejects
    /// unknown names up front, see [`Expr::lookups`]).
    fn list(&self, _name: &str) -> Option<&List> {
        None
    }
    /// The named map; `None` for maps the context does not know.
    fn map(&self, _name: &str) -> Option<&Map> {
        None
    }
}

/// A callback parameter's value: [`Param::TaskAge`] and [`Param::TaskPriority`] are numbers,
/// the rest strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue<'a> {
    /// A string parameter such as a SID or the timestamp.
    Str(&'a str),
    /// A numeric parameter.
    Number(f64),
}
