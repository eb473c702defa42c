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
mod tests;
