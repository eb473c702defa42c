//! Lists and maps: data the rules read, kept in files beside the rules file (`[lists.NAME]`,
//! `[maps.NAME]`), loaded and checked with it, swapped with it on reload.
//!
//! Both are hash tables, so a lookup costs the same whether a list holds ten values or a
//! million: routing often depends on long lists (VIP numbers, a customer's account manager)
//! that have no place in the rules themselves.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// A list file: one value per line.
#[derive(Default)]
pub struct List {
    name: String,
    values: HashSet<Box<str>>,
}

/// A map file: `key,value` rows.
#[derive(Default)]
pub struct Map {
    entries: HashMap<Box<str>, Box<str>>,
}

/// Every list and map of a rules file, by name.
#[derive(Default)]
pub struct Lookups {
    pub lists: HashMap<String, List>,
    pub maps: HashMap<String, Map>,
}

impl fmt::Debug for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "List({}: {} values)", self.name, self.values.len())
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Map({} entries)", self.entries.len())
    }
}

impl fmt::Debug for Lookups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lookups")
            .field("lists", &self.lists.keys().collect::<Vec<_>>())
            .field("maps", &self.maps.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl List {
    /// `NAME` of `[lists.NAME]`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the list holds exactly this value.
    pub fn contains(&self, value: &str) -> bool {
        self.values.contains(value)
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Reads a list file: one value per line, surrounding spaces trimmed; blank lines and
    /// lines starting with `#` are skipped. A value given twice is harmless and kept once.
    pub fn parse(name: &str, text: &str) -> Self {
        let values = data_lines(text).map(|(_, line)| line.into()).collect();
        Self {
            name: name.to_owned(),
            values,
        }
    }
}

impl Map {
    /// The value for `key`, if the map has one.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(|value| &**value)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads a map file: `key,value` rows (CSV: a field may be double-quoted, `""` inside
    /// quotes is one `"`), an optional `key,value` header row first; blank lines and lines
    /// starting with `#` are skipped. Every bad row is reported with its line, as is a key
    /// given twice (with the line that gave it first).
    pub fn parse(text: &str) -> Result<Self, Vec<String>> {
        let mut entries: HashMap<Box<str>, Box<str>> = HashMap::new();
        let mut first_line: HashMap<Box<str>, usize> = HashMap::new();
        let mut problems = Vec::new();
        let mut rows = data_lines(text).peekable();
        let header = |line: &str| csv_fields(line).is_ok_and(|fields| fields == ["key", "value"]);
        if rows.peek().is_some_and(|(_, line)| header(line)) {
            rows.next();
        }
        for (number, line) in rows {
            let fields = match csv_fields(line) {
                Ok(fields) => fields,
                Err(reason) => {
                    problems.push(format!("line {number}: {reason}"));
                    continue;
                }
            };
            let count = fields.len();
            let Ok([key, value]) = <[String; 2]>::try_from(fields) else {
                problems.push(format!(
                    "line {number}: expected two columns, `key,value`, found {count}"
                ));
                continue;
            };
            if key.is_empty() {
                problems.push(format!("line {number}: the key is empty"));
                continue;
            }
            if let Some(first) = first_line.get(key.as_str()) {
                problems.push(format!(
                    "line {number}: key `{key}` is given again (first on line {first})"
                ));
                continue;
            }
            first_line.insert(key.clone().into(), number);
            entries.insert(key.into(), value.into());
        }
        if problems.is_empty() {
            Ok(Self { entries })
        } else {
            Err(problems)
        }
    }
}

/// The lines that hold data, numbered from 1, trimmed: not blank, not a `#` comment.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

/// The fields of one CSV row. Spaces around an unquoted field are trimmed.
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|ch| *ch == ' ' || *ch == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(ch) => field.push(ch),
                    None => return Err("a quoted field is not closed".to_owned()),
                }
            }
            while chars.peek().is_some_and(|ch| *ch == ' ' || *ch == '\t') {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(other) => {
                    return Err(format!(
                        "unexpected `{other}` after a quoted field (a field's quotes must \
                         enclose all of it)"
                    ));
                }
            }
        } else {
            let mut ended = true;
            for ch in chars.by_ref() {
                if ch == ',' {
                    ended = false;
                    break;
                }
                field.push(ch);
            }
            fields.push(field.trim_end().to_owned());
            if ended {
                return Ok(fields);
            }
        }
    }
}

/// Where a list or map file is: `file` as written, relative to the rules file's folder.
pub fn resolve(rules_folder: &Path, file: &str) -> PathBuf {
    let path = rules_folder.join(file);
    std::path::absolute(&path).unwrap_or(path)
}

#[cfg(test)]
mod tests;
