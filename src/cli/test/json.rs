//! The results as one JSON document, for scripts: every case with its file and line, whether
//! it passed, what it was decided, each mismatch (`actual: null` when not sent) and the
//! trace of a failure; then the totals and the coverage.

use serde_json::{Value, json};

use super::Report;

pub fn render(report: &Report) -> Value {
    let cases: Vec<Value> = report
        .suites
        .iter()
        .flat_map(|suite| {
            suite.outcomes.iter().map(move |outcome| {
                json!({
                    "name": outcome.name,
                    "file": suite.file.display().to_string(),
                    "line": outcome.line,
                    "at": outcome.at.to_string(),
                    "passed": outcome.passed(),
                    "rule": outcome.rule,
                    "instruction": outcome.instruction,
                    "delivery": outcome.delivery,
                    "skipped": outcome.skipped,
                    "mismatches": outcome.mismatches.iter().map(|mismatch| json!({
                        "key": mismatch.key,
                        "expected": mismatch.expected,
                        "actual": mismatch.actual,
                    })).collect::<Vec<_>>(),
                    "trace": outcome.trace,
                })
            })
        })
        .collect();
    let coverage = report.coverage.as_ref().map(|coverage| {
        json!({
            "complete": coverage.complete(),
            "unreached": coverage.unreached,
            "skipped_only": coverage.skipped_only,
        })
    });
    json!({
        "started": report.started.to_string(),
        "files": report.suites.iter().map(|s| s.file.display().to_string()).collect::<Vec<_>>(),
        "cases": cases,
        "passed": report.passed(),
        "failed": report.failed(),
        "coverage": coverage,
        "ok": report.ok(),
    })
}
