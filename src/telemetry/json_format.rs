//! The JSON log line format: one object per event, in the shape of `tracing-subscriber`'s
//! own JSON format (`timestamp`, `level`, `fields`, `target`, `span`), written without its
//! cost of re-parsing the current span's fields for every event: span fields are stored as
//! JSON text when the span is made (by [`JsonSpanFields`]) and copied into the line as they
//! are.

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};
use tracing::span::Record;
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats events as JSON lines (use with `fmt_fields(JsonSpanFields)`).
pub struct JsonLines;

/// Stores a span's fields as the text of a JSON object, written straight from the values
/// (`tracing-subscriber`'s `JsonFields` first builds a map of `serde_json::Value`s, one
/// allocation per field, for every span of every request).
pub struct JsonSpanFields;

impl<'w> FormatFields<'w> for JsonSpanFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        writer.write_char('{')?;
        let mut members = FieldWriter {
            out: &mut writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut members);
        members.result?;
        writer.write_char('}')
    }

    /// Fields recorded into a span later are spliced into its object.
    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &Record<'_>,
    ) -> fmt::Result {
        let empty = matches!(current.fields.trim(), "" | "{}");
        if empty {
            current.fields.clear();
            current.fields.push('{');
        } else if current.fields.ends_with('}') {
            current.fields.pop();
        }
        let mut writer = current.as_writer();
        let mut members = FieldWriter {
            out: &mut writer,
            first: empty,
            result: Ok(()),
        };
        fields.record(&mut members);
        members.result?;
        writer.write_char('}')
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        write!(
            writer,
            "{{\"timestamp\":\"{}\",\"level\":\"{}\",\"fields\":{{",
            jiff::Timestamp::now(),
            metadata.level()
        )?;
        let mut fields = FieldWriter {
            out: &mut writer,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_str("},\"target\":")?;
        write_string(&mut writer, metadata.target())?;
        if let Some(span) = ctx.lookup_current() {
            writer.write_str(",\"span\":{\"name\":")?;
            write_string(&mut writer, span.name())?;
            let extensions = span.extensions();
            let stored = extensions
                .get::<FormattedFields<N>>()
                .map(|f| f.fields.trim())
                .unwrap_or("");
            // The stored text is a JSON object: splice its members in after `name`.
            if let Some(members) = stored
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .filter(|m| !m.trim().is_empty())
            {
                writer.write_char(',')?;
                writer.write_str(members)?;
            }
            writer.write_char('}')?;
        }
        writer.write_str("}\n")
    }
}

/// Writes event fields as JSON members.
struct FieldWriter<'a, 'w> {
    out: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl FieldWriter<'_, '_> {
    fn member(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            if !self.first {
                self.out.write_char(',')?;
            }
            self.first = false;
            write_string(self.out, field.name())?;
            self.out.write_char(':')?;
            value(self.out)
        })();
    }
}

impl Visit for FieldWriter<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.member(field, |out| write_string(out, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.member(field, |out| write!(out, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.member(field, |out| write!(out, "{value}"));
        } else {
            self.member(field, |out| out.write_str("null"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.member(field, |out| {
            out.write_char('"')?;
            write!(Escaped(out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

fn write_string(out: &mut dyn Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(out).write_str(text)?;
    out.write_char('"')
}

/// A writer that escapes what goes through it for a JSON string.
struct Escaped<'a>(&'a mut dyn Write);

impl Write for Escaped<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // Every byte that needs escaping is ASCII, so splitting at one keeps whole characters.
        let bytes = text.as_bytes();
        // Most values need no escaping; this check has no early exit, so it runs on whole
        // vectors of bytes at a time.
        let clean = !bytes.iter().fold(false, |found, &byte| {
            found | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
        });
        if clean {
            return self.0.write_str(text);
        }
        let mut plain = 0;
        for (at, &byte) in bytes.iter().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                byte if byte < 0x20 => "",
                _ => continue,
            };
            self.0.write_str(&text[plain..at])?;
            if escape.is_empty() {
                write!(self.0, "\\u{:04x}", byte)?;
            } else {
                self.0.write_str(escape)?;
            }
            plain = at + 1;
        }
        self.0.write_str(&text[plain..])
    }
}

#[cfg(test)]
mod tests;
