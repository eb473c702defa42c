//! assignment-router: answers Twilio TaskRouter assignment callbacks with the instruction the
//! operator's rules choose, after proving that Twilio sent them.
//!
//! # The way of one callback
//!
//! 1. [`http`] accepts the connection, checks the media type and reads the body within its
//!    size and time limits (`http::assignment`).
//! 2. [`pipeline`] takes the bytes from there, with no web types:
//!    [`callback::form`] decodes the pairs strictly, [`callback::signature`] checks
//!    `X-Twilio-Signature` and hands back [`callback::verified::Verified`] pairs, the only
//!    thing a typed [`callback::AssignmentCallback`] is built from; [`dedupe`] answers a
//!    Reservation decided before as it was answered then; [`rules`] picks the rule, whose
//!    fields [`instruction`] writes as TaskRouter's inline JSON or as the REST update's form.
//! 3. Back in [`http`], the answer is sent and [`telemetry::events`] writes the callback's one
//!    log line and its counters; a REST update goes to [`twilio`]'s deliverer, which sends it
//!    in the background until it lands or its deadline passes.
//!
//! A refusal goes the same way back: [`http`]'s refusal table gives its status, and for a
//! refused signature [`callback::diagnosis`] words what to check.
//!
//! [`app`] builds all of this from [`settings`] and runs it (listeners, signals, SIGHUP
//! reload, shutdown drain); [`cli`] is the command line; [`state`] is what the handlers share.
//!
//! # The layering rule
//!
//! Dependencies run one way, from the edges to the middle. [`instruction`] depends on nothing
//! of ours; [`callback`] on nothing of ours either; [`rules`] on [`callback`] and
//! [`instruction`]; [`decisions`] (the records) on those three. Nothing under those four uses
//! `actix_web`, `reqwest`, `tokio` or `sqlx`: the web lives in [`http`], the network in
//! [`twilio`], the database in [`store`], so the middle is pure, fuzzed and benchmarked on its
//! own. No two top-level modules import each other, directly or around a loop.
//! `tests/api/layering.rs` reads the sources and fails
//! when either rule is broken.

pub mod app;
pub mod callback;
pub mod cli;
pub mod decisions;
pub mod dedupe;
pub mod http;
pub mod instruction;
pub mod outbox;
pub mod outcomes;
pub mod pipeline;
pub mod recording;
pub mod rules;
pub mod runtime;
pub mod settings;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod twilio;
