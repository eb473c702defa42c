//! The results as JUnit XML, the report format CI systems read (GitLab, Jenkins, GitHub
//! actions that publish test results): one `<testsuite>` per cases file, one `<testcase>` per
//! case, a `<failure>` with the mismatches and the trace; with `--coverage`, a `coverage`
//! testcase that fails when a rule is reached by no case.
//!
//! Written by hand: a few elements, and escaping is the only hard part. Every name and
//! message comes from the operator's files, so each is escaped for where it lands, and
//! characters XML cannot hold at all are replaced.

use std::fmt::Write;

use super::Report;
use super::text::describe;

pub fn render(report: &Report) -> String {
    let coverage_failed = report.coverage.as_ref().is_some_and(|c| !c.complete());
    let tests = report.outcomes().count() + usize::from(report.coverage.is_some());
    let failures = report.failed() + usize::from(coverage_failed);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"assignment-router test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    );
    for suite in &report.suites {
        let file = attribute(&suite.file.display().to_string());
        let failed = suite.outcomes.iter().filter(|o| !o.passed()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" timestamp=\"{}\">",
            suite.outcomes.len(),
            report.started.strftime("%Y-%m-%dT%H:%M:%S")
        );
        for outcome in &suite.outcomes {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{file}\" file=\"{file}\" line=\"{}\"",
                attribute(&outcome.name),
                outcome.line
            );
            if outcome.passed() {
                out.push_str("/>\n");
                continue;
            }
            let mismatches: Vec<String> = outcome.mismatches.iter().map(describe).collect();
            let mut body = mismatches.join("\n");
            body.push_str("\ntrace:\n");
            for line in &outcome.trace {
                let _ = writeln!(body, "    {line}");
            }
            let _ = write!(
                out,
                ">\n      <failure message=\"{}\" type=\"mismatch\">{}</failure>\n    </testcase>\n",
                attribute(&mismatches.join("; ")),
                text(&body)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    if let Some(coverage) = &report.coverage {
        let _ = writeln!(
            out,
            "  <testsuite name=\"coverage\" tests=\"1\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            usize::from(coverage_failed)
        );
        out.push_str("    <testcase name=\"coverage\" classname=\"coverage\"");
        if coverage_failed {
            let summary = coverage.summary();
            let _ = write!(
                out,
                ">\n      <failure message=\"{}\" type=\"coverage\">{}</failure>\n    </testcase>\n",
                attribute(&summary),
                text(&coverage.gaps().join("\n"))
            );
        } else {
            out.push_str("/>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text for inside a double-quoted attribute. Line breaks and tabs are written as character
/// references, since a parser turns literal ones in an attribute into spaces.
pub fn attribute(value: &str) -> String {
    escape(value, true)
}

/// Text for between tags.
pub fn text(value: &str) -> String {
    escape(value, false)
}

fn escape(value: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A literal CR would be read back as a line feed, in text as in attributes.
            '\r' => out.push_str("&#13;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            // XML 1.0 cannot hold these at all, not even as character references.
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// XML 1.0's `Char` production, beyond tab, line feed and carriage return (Rust's `char`
/// already excludes surrogates).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests;
