//! The results as `cargo test` prints its own: a line per case, then each failure with what
//! was expected, what came, and the trace, then the coverage and one line of totals.

use std::fmt::Write;

use serde_json::Value;

use super::Report;
use super::outcome::Mismatch;

/// The whole report, ready to print.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for suite in &report.suites {
        let count = suite.outcomes.len();
        let cases = if count == 1 { "case" } else { "cases" };
        let _ = writeln!(out, "running {count} {cases} from {}", suite.file.display());
        for outcome in &suite.outcomes {
            let verdict = if outcome.passed() { "ok" } else { "FAILED" };
            let _ = writeln!(out, "case {} ... {verdict}", outcome.name);
        }
        out.push('\n');
    }
    let failed: Vec<_> = report
        .suites
        .iter()
        .flat_map(|suite| suite.outcomes.iter().map(move |o| (suite, o)))
        .filter(|(_, outcome)| !outcome.passed())
        .collect();
    if !failed.is_empty() {
        out.push_str("failures:\n\n");
        for (suite, outcome) in &failed {
            let _ = writeln!(
                out,
                "---- {} ({}:{}) ----",
                outcome.name,
                suite.file.display(),
                outcome.line
            );
            for mismatch in &outcome.mismatches {
                let _ = writeln!(out, "{}", describe(mismatch));
            }
            out.push_str("trace:\n");
            for line in &outcome.trace {
                let _ = writeln!(out, "    {line}");
            }
            out.push('\n');
        }
        out.push_str("failures:\n");
        for (_, outcome) in &failed {
            let _ = writeln!(out, "    {}", outcome.name);
        }
        out.push('\n');
    }
    if let Some(coverage) = &report.coverage {
        let gaps = coverage.gaps();
        if gaps.is_empty() {
            let _ = writeln!(out, "coverage: {}", coverage.summary());
        }
        for gap in gaps {
            let _ = writeln!(out, "coverage: {gap}");
        }
        out.push('\n');
    }
    let verdict = if report.ok() { "ok" } else { "FAILED" };
    let _ = write!(
        out,
        "test result: {verdict}. {} passed; {} failed",
        report.passed(),
        report.failed()
    );
    if report.coverage.as_ref().is_some_and(|c| !c.complete()) {
        out.push_str("; coverage has gaps");
    }
    out.push('\n');
    out
}

/// `key: expected VALUE, actual VALUE`, values as JSON writes them; a field the answer (or
/// the REST form) does not carry is `(not sent)`.
pub fn describe(mismatch: &Mismatch) -> String {
    format!(
        "{}: expected {}, actual {}",
        mismatch.key,
        shown(&mismatch.expected),
        mismatch
            .actual
            .as_ref()
            .map_or_else(|| "(not sent)".to_owned(), shown)
    )
}

fn shown(value: &Value) -> String {
    value.to_string()
}

#[cfg(test)]
mod tests;
