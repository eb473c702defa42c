//! assignment-router: answers Twilio TaskRouter assignment callbacks with the instruction the
//! operator's rules choose, after proving that Twilio sent them.

pub mod answer;
pub mod callback;
pub mod cli;
pub mod commands;
pub mod configuration;
pub mod connection_watch;
pub mod delivery;
pub mod delivery_runtime;
pub mod form;
pub mod instruction;
pub mod json_lines;
pub mod log_writer;
pub mod metrics;
pub mod pipeline;
pub mod probe;
pub mod recent;
pub mod request_id;
pub mod routes;
pub mod rules;
pub mod signature;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod twilio_client;
pub mod update_form;
