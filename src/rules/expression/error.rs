//! Parse errors with positions that point into the operator's source text.

use std::fmt;

/// Why an expression, path or template could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset into the source.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

impl ParseError {
    /// An error at `offset` in `source`, with line and column worked out from the text.
    pub(crate) fn at(source: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = char_boundary_at_or_before(source, offset);
        let (line, column) = line_and_column(source, offset);
        ParseError {
            offset,
            line,
            column,
            message: message.into(),
        }
    }

    /// The offending line of `source` and, below it, a caret under the error's column.
    ///
    /// Tabs before the column are repeated in the caret line so the caret lines up however
    /// wide the reader's tabs are.
    pub fn snippet(&self, source: &str) -> String {
        let offset = char_boundary_at_or_before(source, self.offset);
        let before = &source[..offset];
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let line_end = source[offset..]
            .find('\n')
            .map_or(source.len(), |newline| offset + newline);
        let line = source[line_start..line_end].trim_end_matches('\r');
        let mut snippet = String::with_capacity(line.len() * 2 + 2);
        snippet.push_str(line);
        snippet.push('\n');
        for ch in source[line_start..offset].chars() {
            snippet.push(if ch == '\t' { '\t' } else { ' ' });
        }
        snippet.push('^');
        snippet
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// The 1-based line and character column of a byte offset (which must be a char boundary).
pub(crate) fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..char_boundary_at_or_before(source, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Clamps `offset` into `source` and back to a char boundary, so a bad offset can never
/// make error reporting panic.
fn char_boundary_at_or_before(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
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
}
