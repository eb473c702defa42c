#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn lines_and_columns_count_from_one() {
    assert_eq!(line_and_column("abc", 0), (1, 1));
    assert_eq!(line_and_column("abc", 2), (1, 3));
    assert_eq!(line_and_column("ab\ncd", 3), (2, 1));
    assert_eq!(line_and_column("ab\ncd", 5), (2, 3));
}

#[test]
fn columns_count_characters_not_bytes() {
    let source = "task.name == \"héllo\" x";
    let offset = source.find('x').unwrap();
    assert_eq!(line_and_column(source, offset), (1, 22));
}

#[test]
fn display_shows_line_column_and_message() {
    let error = ParseError::at("a\nbc", 2, "oops");
    assert_eq!(error.to_string(), "line 2, column 1: oops");
}

#[test]
fn snippet_puts_a_caret_under_the_column() {
    let source = "first line\nsecond == line\nthird";
    let error = ParseError::at(source, source.find("==").unwrap(), "bad");
    assert_eq!(error.snippet(source), "second == line\n       ^");
}

#[test]
fn snippet_at_end_of_input_points_past_the_last_character() {
    let source = "task.x ==";
    let error = ParseError::at(source, source.len(), "bad");
    assert_eq!(error.snippet(source), "task.x ==\n         ^");
}

#[test]
fn snippet_keeps_tabs_so_the_caret_lines_up() {
    let source = "\ttask.x ?";
    let error = ParseError::at(source, source.len() - 1, "bad");
    assert_eq!(error.snippet(source), "\ttask.x ?\n\t       ^");
}

#[test]
fn snippet_drops_carriage_returns() {
    let source = "a\r\nb ?\r\n";
    let error = ParseError::at(source, 5, "bad");
    assert_eq!(error.snippet(source), "b ?\n  ^");
}

#[test]
fn out_of_range_offsets_are_clamped_rather_than_panicking() {
    let error = ParseError::at("é", 1, "bad");
    assert_eq!(error.offset, 0);
    let error = ParseError::at("ab", 99, "bad");
    assert_eq!((error.offset, error.column), (2, 3));
}
