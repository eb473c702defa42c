//! The rules-file loader: any text loads or reports problems, never panics.
#![no_main]

use assignment_router::rules::file::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(problems) = parse(text) {
        assert!(!problems.is_empty());
        for problem in problems {
            let _ = problem.to_string();
        }
    }
});
