//! Lists and maps: data the rules read, kept in files beside the rules file (`[lists.NAME]`,
//! `[maps.NAME]`), loaded and checked with it, swapped with it on reload.
//!
//! Both are hash tables, so a lookup costs the same whether a list holds ten values or a
//! million: routing often depends on long lists (VIP numbers, a customer's account manager)
//! that have no place in the rules themselves.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::ops::Range;
use std::path::{Path, PathBuf};

use hashbrown::{DefaultHashBuilder, HashTable};

/// A list file: one value per line.
pub struct List {
    name: String,
    values: Strings<()>,
}

/// A map file: `key,value` rows.
#[derive(Default)]
pub struct Map {
    /// Each key, with where its value is.
    entries: Strings<Span>,
}

/// Every list and map of a rules file, by name.
#[derive(Default)]
pub struct Lookups {
    pub lists: HashMap<String, List>,
    pub maps: HashMap<String, Map>,
}

/// A set of strings kept end to end in one buffer, each found by hash, with a payload:
/// a million values cost two allocations, not a million, and load in a fraction of the time
/// (a table of boxed strings spent most of its loading in the allocator and in growing).
/// foldhash, seeded per process, hashes them; the keys are the operator's own files.
struct Strings<T> {
    text: String,
    table: HashTable<(Span, T)>,
    hasher: DefaultHashBuilder,
}

/// Where a string is in a [`Strings`]' buffer: 32-bit, since the table's size is most of the
/// memory a large list costs (its files are refused past 4 GiB).
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn range(self) -> Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// The largest list or map file: offsets into it are 32-bit.
pub const MAX_FILE_BYTES: usize = u32::MAX as usize;

impl<T> Default for Strings<T> {
    fn default() -> Self {
        Self::with_capacity(0, 0)
    }
}

impl<T> Strings<T> {
    fn with_capacity(count: usize, bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            table: HashTable::with_capacity(count),
            hasher: DefaultHashBuilder::default(),
        }
    }

    fn len(&self) -> usize {
        self.table.len()
    }

    fn find(&self, key: &str) -> Option<&T> {
        let hash = self.hasher.hash_one(key);
        self.table
            .find(hash, |(span, _)| &self.text[span.range()] == key)
            .map(|(_, payload)| payload)
    }

    /// Adds `key` unless it is there already; then its payload is given back.
    fn insert(&mut self, key: &str, payload: T) -> Result<(), &T> {
        let hash = self.hasher.hash_one(key);
        let Self {
            text,
            table,
            hasher,
        } = self;
        match table.entry(
            hash,
            |(span, _)| &text[span.range()] == key,
            |(span, _)| hasher.hash_one(&text[span.range()]),
        ) {
            hashbrown::hash_table::Entry::Occupied(entry) => Err(&entry.into_mut().1),
            hashbrown::hash_table::Entry::Vacant(entry) => {
                let span = span_of(text, key);
                entry.insert((span, payload));
                Ok(())
            }
        }
    }

    /// Stores text that is not a key (a map's value), for a payload to point at.
    fn store(&mut self, value: &str) -> Span {
        span_of(&mut self.text, value)
    }
}

/// Appends `value` to `text`. The buffer never outgrows its file (values are pieces of
/// lines), and files past [`MAX_FILE_BYTES`] are refused before this, so the offsets fit.
fn span_of(text: &mut String, value: &str) -> Span {
    let start = u32::try_from(text.len()).unwrap_or(u32::MAX);
    text.push_str(value);
    Span {
        start,
        len: u32::try_from(value.len()).unwrap_or(u32::MAX),
    }
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
        self.values.find(value).is_some()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.len() == 0
    }

    /// Reads a list file: one value per line, surrounding spaces trimmed; blank lines and
    /// lines starting with `#` are skipped. A value given twice is harmless and kept once.
    pub fn parse(name: &str, text: &str) -> Self {
        let mut values = Strings::with_capacity(line_count(text), text.len());
        for (_, line) in data_lines(text) {
            let _ = values.insert(line, ());
        }
        Self {
            name: name.to_owned(),
            values,
        }
    }
}

impl Map {
    /// The value for `key`, if the map has one.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .find(key)
            .map(|value| &self.entries.text[value.range()])
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// Reads a map file: `key,value` rows (CSV: a field may be double-quoted, `""` inside
    /// quotes is one `"`), an optional `key,value` header row first; blank lines and lines
    /// starting with `#` are skipped. Every bad row is reported with its line, as is a key
    /// given twice (with the line that gave it first).
    pub fn parse(text: &str) -> Result<Self, Vec<String>> {
        let mut entries = Strings::with_capacity(line_count(text), text.len());
        let mut problems = Vec::new();
        let mut rows = data_lines(text).peekable();
        let header = |line: &str| row(line).is_ok_and(|row| row.fields() == ["key", "value"]);
        if rows.peek().is_some_and(|(_, line)| header(line)) {
            rows.next();
        }
        for (number, line) in rows {
            let fields: [Cow<'_, str>; 2] = match row(line) {
                Ok(Row::Plain(key, value)) => [key.into(), value.into()],
                Ok(Row::Quoted(fields)) => match <[String; 2]>::try_from(fields) {
                    Ok([key, value]) => [key.into(), value.into()],
                    Err(fields) => {
                        problems.push(columns(number, fields.len()));
                        continue;
                    }
                },
                Err(reason) => {
                    problems.push(format!("line {number}: {reason}"));
                    continue;
                }
            };
            let [key, value] = fields;
            if key.is_empty() {
                problems.push(format!("line {number}: the key is empty"));
                continue;
            }
            let value = entries.store(&value);
            if entries.insert(&key, value).is_err() {
                let first = first_line_of(text, &key).unwrap_or(number);
                problems.push(format!(
                    "line {number}: key `{key}` is given again (first on line {first})"
                ));
            }
        }
        if problems.is_empty() {
            Ok(Self { entries })
        } else {
            Err(problems)
        }
    }
}

/// The line a key was first given on, looked for again only when it is given twice: the
/// table does not keep line numbers for the rows that are fine.
fn first_line_of(text: &str, key: &str) -> Option<usize> {
    data_lines(text).find_map(|(number, line)| {
        let key_of_row = match row(line).ok()? {
            Row::Plain(key, _) => key.to_owned(),
            Row::Quoted(fields) => fields.into_iter().next()?,
        };
        (key_of_row == key).then_some(number)
    })
}

fn columns(number: usize, count: usize) -> String {
    format!("line {number}: expected two columns, `key,value`, found {count}")
}

/// One CSV row: most have no quotes and two columns, and are read without copying.
enum Row<'a> {
    Plain(&'a str, &'a str),
    Quoted(Vec<String>),
}

impl Row<'_> {
    fn fields(&self) -> Vec<&str> {
        match self {
            Row::Plain(key, value) => vec![key, value],
            Row::Quoted(fields) => fields.iter().map(String::as_str).collect(),
        }
    }
}

fn row(line: &str) -> Result<Row<'_>, String> {
    if !line.contains('"')
        && let Some((key, value)) = line.split_once(',')
        && !value.contains(',')
    {
        return Ok(Row::Plain(key.trim(), value.trim()));
    }
    csv_fields(line).map(Row::Quoted)
}

/// About how many lines: the tables' starting size, so that loading does not grow them.
fn line_count(text: &str) -> usize {
    text.bytes().filter(|byte| *byte == b'\n').count() + 1
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
