#![allow(clippy::unwrap_used)]

use super::super::ast::{Operator, Param};
use super::super::{parse, parse_path};
use super::*;

fn printed(source: &str) -> String {
    parse(source).unwrap().to_string()
}

/// Asserts that printing `source`'s tree gives `canonical`, and that it parses back to the
/// same tree.
fn prints_as(source: &str, canonical: &str) {
    let expr = parse(source).unwrap();
    let text = expr.to_string();
    assert_eq!(text, canonical, "{source}");
    assert_eq!(parse(&text).unwrap(), expr, "{source} -> {text}");
}

#[test]
fn operators_print_canonically() {
    prints_as("task.a = 1", "task.a == 1");
    prints_as("task.a==1", "task.a == 1");
    prints_as("task.a != 1", "task.a != 1");
    prints_as("task.a<1", "task.a < 1");
    prints_as("task.a <= 1", "task.a <= 1");
    prints_as("task.a>1", "task.a > 1");
    prints_as("task.a >= 1", "task.a >= 1");
    prints_as("task.a contains 'x'", "task.a CONTAINS \"x\"");
    prints_as("task.a has 'x'", "task.a HAS \"x\"");
    prints_as("task.a in ['x']", "task.a IN [\"x\"]");
    prints_as("task.a not\n  in ['x']", "task.a NOT IN [\"x\"]");
    prints_as(
        "task.a and task.b or not task.c",
        "task.a AND task.b OR NOT task.c",
    );
}

#[test]
fn literals_print_canonically() {
    prints_as("task.a == TRUE", "task.a == true");
    prints_as("task.a == False", "task.a == false");
    prints_as("task.a == NULL", "task.a == null");
    prints_as("task.a == 42.0", "task.a == 42");
    prints_as("task.a == -0.25", "task.a == -0.25");
    prints_as("task.a == 1e21", "task.a == 1e+21");
    prints_as("task.a == 1.5E-7", "task.a == 1.5e-7");
    prints_as("task.a IN [ 1,[ ], ['x'] ]", "task.a IN [1, [], [\"x\"]]");
}

#[test]
fn strings_are_re_escaped() {
    prints_as(r"task.a == 'it\'s'", r#"task.a == "it's""#);
    prints_as(r#"task.a == 'say "hi"'"#, r#"task.a == "say \"hi\"""#);
    prints_as(r#"task.a == "back\\slash""#, r#"task.a == "back\\slash""#);
    prints_as(r#"task.a == "a\nb\tc""#, r#"task.a == "a\nb\tc""#);
}

#[test]
fn parentheses_appear_only_where_precedence_needs_them() {
    prints_as(
        "(task.a OR task.b) AND task.c",
        "(task.a OR task.b) AND task.c",
    );
    prints_as(
        "(task.a AND task.b) OR task.c",
        "task.a AND task.b OR task.c",
    );
    prints_as(
        "task.a OR (task.b AND task.c)",
        "task.a OR task.b AND task.c",
    );
    prints_as("NOT (task.a AND task.b)", "NOT (task.a AND task.b)");
    prints_as("NOT (task.a OR task.b)", "NOT (task.a OR task.b)");
    prints_as("(NOT task.a) AND task.b", "NOT task.a AND task.b");
    prints_as("NOT (task.a == 1)", "NOT task.a == 1");
    prints_as("NOT (NOT task.a)", "NOT NOT task.a");
    prints_as("((task.a))", "task.a");
    prints_as(
        "(task.a OR task.b) AND (task.c OR NOT (task.d AND task.e))",
        "(task.a OR task.b) AND (task.c OR NOT (task.d AND task.e))",
    );
}

#[test]
fn paths_print_as_written() {
    for source in [
        "task",
        "worker",
        "task.customer.tags[0].name",
        "worker.matrix[1][2]",
        "schedule.business_hours",
        "TaskAge",
        "ReservationSid",
    ] {
        assert_eq!(parse_path(source).unwrap().to_string(), source);
    }
    assert_eq!(parse_path("task.a[007]").unwrap().to_string(), "task.a[7]");
}

#[test]
fn hand_built_trees_print_as_something_parseable_with_the_same_meaning() {
    let and_empty = Expr::And(vec![]);
    let or_empty = Expr::Or(vec![]);
    assert_eq!(and_empty.to_string(), "true");
    assert_eq!(or_empty.to_string(), "false");
    let nested = Expr::Or(vec![
        Expr::Or(vec![
            Expr::Truthy(Operand::Path(Path::Param(Param::TaskAge))),
            Expr::Truthy(Operand::Literal(Literal::Bool(false))),
        ]),
        Expr::Compare {
            left: Operand::Literal(Literal::Number(1.0)),
            operator: Operator::NotIn,
            right: Operand::Literal(Literal::Array(vec![])),
        },
    ]);
    assert_eq!(nested.to_string(), "(TaskAge OR false) OR 1 NOT IN []");
    assert!(parse(&nested.to_string()).is_ok());
}

#[test]
fn a_long_multi_line_expression_prints_on_one_line() {
    assert_eq!(
        printed("task.language == 'en'\n  AND (worker.level >= 3\n       OR schedule.after_hours)"),
        "task.language == \"en\" AND (worker.level >= 3 OR schedule.after_hours)"
    );
}

/// A small deterministic generator, so random round-trips need no extra dependency.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> usize {
        usize::try_from(self.next() % bound).unwrap()
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64)]
    }

    fn literal(&mut self, depth: usize) -> Literal {
        match self.below(if depth > 2 { 5 } else { 6 }) {
            0 => Literal::Null,
            1 => Literal::Bool(self.below(2) == 0),
            2 => {
                let numbers = [
                    0.0,
                    -1.0,
                    42.0,
                    0.5,
                    -2.75,
                    1e-7,
                    1e21,
                    123_456.789,
                    9.007_199_254_740_993e15,
                    5e-324,
                ];
                Literal::Number(numbers[self.below(numbers.len() as u64)])
            }
            3 | 4 => Literal::String(
                self.pick(&[
                    "",
                    "en",
                    "it's",
                    "say \"hi\"",
                    "a\\b",
                    "line\nbreak\ttab",
                    "日本",
                    "{{x}}",
                ])
                .to_owned(),
            ),
            _ => Literal::Array(
                (0..self.below(4))
                    .map(|_| self.literal(depth + 1))
                    .collect(),
            ),
        }
    }

    fn path(&mut self) -> Path {
        let segments = |generator: &mut Generator| {
            (0..generator.below(4))
                .map(|_| {
                    if generator.below(3) == 0 {
                        Segment::Index(generator.below(20))
                    } else {
                        Segment::Key(
                            generator
                                .pick(&["a", "in", "AND", "_x1", "tags"])
                                .to_owned(),
                        )
                    }
                })
                .collect()
        };
        match self.below(4) {
            0 => Path::Task(segments(self)),
            1 => Path::Worker(segments(self)),
            2 => Path::Schedule(self.pick(&["open", "weekend"]).to_owned()),
            _ => Path::Param(Param::ALL[self.below(10)]),
        }
    }

    fn operand(&mut self) -> Operand {
        if self.below(2) == 0 {
            Operand::Literal(self.literal(0))
        } else {
            Operand::Path(self.path())
        }
    }

    fn expr(&mut self, depth: usize) -> Expr {
        let choice = if depth > 4 {
            self.below(2)
        } else {
            self.below(5)
        };
        match choice {
            0 => Expr::Truthy(self.operand()),
            1 => {
                let operators = [
                    Operator::Equal,
                    Operator::NotEqual,
                    Operator::Less,
                    Operator::LessOrEqual,
                    Operator::Greater,
                    Operator::GreaterOrEqual,
                    Operator::Contains,
                    Operator::Has,
                    Operator::In,
                    Operator::NotIn,
                ];
                Expr::Compare {
                    left: self.operand(),
                    operator: operators[self.below(operators.len() as u64)],
                    right: self.operand(),
                }
            }
            2 => Expr::Not(Box::new(self.expr(depth + 1))),
            junction => {
                let mut children = Vec::new();
                for _ in 0..2 + self.below(3) {
                    let child = self.expr(depth + 1);
                    // Keep the tree in the flat shape the parser produces.
                    match (junction, child) {
                        (3, Expr::And(inner)) | (4, Expr::Or(inner)) => children.extend(inner),
                        (_, child) => children.push(child),
                    }
                }
                if junction == 3 {
                    Expr::And(children)
                } else {
                    Expr::Or(children)
                }
            }
        }
    }
}

#[test]
fn random_trees_survive_printing_and_parsing_again() {
    let mut generator = Generator(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3_000 {
        let expr = generator.expr(0);
        let text = expr.to_string();
        let reparsed = parse(&text).unwrap_or_else(|error| panic!("{text}\n{error}"));
        assert_eq!(reparsed, expr, "{text}");
        assert_eq!(reparsed.to_string(), text);
    }
}
