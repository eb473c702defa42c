//! The expression parser: any text parses or fails cleanly, and what parses prints back to
//! the same tree.
#![no_main]

use assignment_router::rules::expression::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(expr) = parse(text) {
        let printed = expr.to_string();
        assert_eq!(parse(&printed).ok().as_ref(), Some(&expr), "{printed}");
    }
});
