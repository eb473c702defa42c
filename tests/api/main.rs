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
mod log_sink;
mod properties;
mod refusals;
mod secrets;
mod signatures;
mod store;
mod support;
mod tools;
