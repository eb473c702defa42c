//! HTTP handlers.

pub mod assignment;
pub mod health;
pub mod metrics;
