//! Black-box tests: the real service on port 0, real signed HTTP requests.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod answers;
mod binary;
mod connections;
mod contract;
mod delivery;
mod expressions;
mod faults;
mod layering;
mod lints;
mod log_sink;
mod lookups;
mod outcomes;
mod properties;
mod records;
mod refusals;
mod rule_cases;
mod schema;
mod secrets;
mod shadow;
mod signatures;
mod store;
mod support;
mod tools;
mod watch;
