#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;

fn number(text: &str) -> Number {
    Number::from_json(&serde_json::from_str(text).unwrap())
}

#[test]
fn json_integers_stay_exact() {
    assert!(matches!(
        number("18446744073709551615"),
        Number::Integer(18_446_744_073_709_551_615)
    ));
    assert!(matches!(number("-5"), Number::Integer(-5)));
    assert!(!number("9007199254740993").equals(number("9007199254740992")));
}

#[test]
fn integers_and_floats_compare_numerically() {
    assert!(number("42").equals(Number::Float(42.0)));
    assert_eq!(number("2").order(Number::Float(2.5)), Some(Ordering::Less));
    assert_eq!(Number::Float(f64::NAN).order(Number::Float(1.0)), None);
}

#[test]
fn numbers_print_like_json_without_a_trailing_point_zero() {
    let printed = |value: f64| Number::Float(value).to_string();
    assert_eq!(printed(42.0), "42");
    assert_eq!(printed(-3.0), "-3");
    assert_eq!(printed(0.5), "0.5");
    assert_eq!(printed(-0.0), "0");
    assert_eq!(printed(1e21), "1e+21");
    assert_eq!(printed(1.5e-7), "1.5e-7");
    assert_eq!(printed(9_007_199_254_740_992.0), "9007199254740992");
    assert_eq!(printed(f64::INFINITY), "null");
    assert_eq!(number("42.0").to_string(), "42");
    assert_eq!(
        number("18446744073709551615").to_string(),
        "18446744073709551615"
    );
}

#[test]
fn values_render_as_compact_json() {
    let value = json!({"b": [1, 2.5, "x\"y"], "a": null, "c": {"d": true}});
    let text = Resolved::from_json(&value).to_json();
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, value);
    assert_eq!(
        Resolved::Str("tab\there\u{1}").to_json(),
        "\"tab\\there\\u0001\""
    );
    let literal = Literal::Array(vec![Literal::Null, Literal::Number(1.0)]);
    assert_eq!(Resolved::from_literal(&literal).to_json(), "[null,1]");
}

#[test]
fn objects_are_equal_member_by_member_with_numbers_compared_numerically() {
    let left = json!({"a": 1, "b": [1, 2]});
    let right = json!({"b": [1.0, 2], "a": 1.0});
    let other = json!({"a": 1, "c": [1, 2]});
    assert!(Resolved::from_json(&left).equals(&Resolved::from_json(&right)));
    assert!(!Resolved::from_json(&left).equals(&Resolved::from_json(&other)));
}

#[test]
fn json_and_literal_arrays_compare_element_by_element() {
    let json = json!(["a", 1]);
    let literal = Literal::Array(vec![Literal::String("a".into()), Literal::Number(1.0)]);
    let shorter = Literal::Array(vec![Literal::String("a".into())]);
    assert!(Resolved::from_json(&json).equals(&Resolved::from_literal(&literal)));
    assert!(!Resolved::from_json(&json).equals(&Resolved::from_literal(&shorter)));
}
