//! A problem found in a rules file: where it is and what was expected.

use std::fmt;

/// Which part of the rules file a problem is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The file as a whole (its syntax, its top-level tables).
    File,
    /// A `[[rules]]` entry: its name, or its position (1-based) when it has no usable name.
    Rule { number: usize, name: Option<String> },
    /// The `[default]` table.
    Default,
    /// A `[schedules.NAME]` table.
    Schedule(String),
    /// A `[lists.NAME]` table, or its file.
    List(String),
    /// A `[maps.NAME]` table, or its file.
    Map(String),
}

/// One thing wrong with a rules file. Every problem is collected, not just the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub place: Place,
    /// The key the problem is in (`when`, `timeout`, …), when it is in one.
    pub field: Option<String>,
    /// What is wrong, with the line and column inside an expression or template.
    pub message: String,
    /// The source line and a caret under the spot, for expressions and templates.
    pub snippet: Option<String>,
}

impl Problem {
    pub fn new(place: &Place, field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            place: place.clone(),
            field: field.map(str::to_owned),
            message: message.into(),
            snippet: None,
        }
    }

    pub fn with_snippet(mut self, snippet: String) -> Self {
        self.snippet = Some(snippet);
        self
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File => Ok(()),
            Place::Rule {
                name: Some(name), ..
            } => write!(f, "rule \"{name}\""),
            Place::Rule { number, name: None } => write!(f, "rule #{number}"),
            Place::Default => f.write_str("[default]"),
            Place::Schedule(name) => write!(f, "schedule \"{name}\""),
            Place::List(name) => write!(f, "list \"{name}\""),
            Place::Map(name) => write!(f, "map \"{name}\""),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = self.place.to_string();
        match (&self.field, place.is_empty()) {
            (Some(field), false) => write!(f, "{place}, field `{field}`: ")?,
            (Some(field), true) => write!(f, "field `{field}`: ")?,
            (None, false) => write!(f, "{place}: ")?,
            (None, true) => {}
        }
        f.write_str(&self.message)?;
        if let Some(snippet) = &self.snippet {
            for line in snippet.lines() {
                write!(f, "\n    {line}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_rule_and_field_then_indents_the_snippet() {
        let place = Place::Rule {
            number: 2,
            name: Some("vip".to_owned()),
        };
        let problem = Problem::new(&place, Some("when"), "line 1, column 3: oops")
            .with_snippet("a ==\n  ^".to_owned());
        assert_eq!(
            problem.to_string(),
            "rule \"vip\", field `when`: line 1, column 3: oops\n    a ==\n      ^"
        );
    }
}
