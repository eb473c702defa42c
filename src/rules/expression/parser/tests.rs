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

#[test]
fn lists_and_maps_parse_into_their_paths() {
    assert_eq!(
        parse("task.from IN lists.vip_numbers").unwrap(),
        compare(
            Operand::Path(task(&["from"])),
            Operator::In,
            Operand::Path(Path::List("vip_numbers".to_owned()))
        )
    );
    assert_eq!(
        path("maps.account_manager[ task.from ]"),
        Path::Map("account_manager".to_owned(), Box::new(task(&["from"])))
    );
    assert_eq!(
        path("maps.tier[TaskQueueSid]"),
        Path::Map(
            "tier".to_owned(),
            Box::new(Path::Param(Param::TaskQueueSid))
        )
    );
    // Printed back as written.
    let source = "maps.account_manager[task.from] != null AND lists.vip HAS task.from";
    assert_eq!(parse(source).unwrap().to_string(), source);
}

#[test]
fn malformed_lists_and_maps_say_what_was_expected_where() {
    fails_at("lists", 1, 6, "expected `.` and a list name after `lists`");
    fails_at(
        "task.x IN lists.",
        1,
        17,
        "expected a list name after `lists.`",
    );
    fails_at(
        "task.x IN lists.vip[0]",
        1,
        20,
        "a list is named by exactly one key",
    );
    fails_at("maps.m == 1", 1, 7, "expected `[` and a key after `maps.m`");
    fails_at(
        "maps.m.x[task.a] == 1",
        1,
        7,
        "a map is named by exactly one key",
    );
    fails_at("maps.m[\"a\"] == 1", 1, 8, "expected the key to look up");
    fails_at(
        "maps.m[maps.n[task.a]] == 1",
        1,
        8,
        "expected the key to look up",
    );
    fails_at("maps.m[lists.l] == 1", 1, 8, "expected the key to look up");
    fails_at("maps.m[task.a == 1", 1, 15, "expected `]` after the key");
    fails_at("maps.m[task.a].b == 1", 1, 15, "a map's value is text");
    fails_at("lits.vip HAS 1", 1, 1, "unknown name `lits`");
}
