//! The one harness of the black-box tests, by role: the service in this process, the
//! release binary as a child process, stand-in Twilios, the metrics page, raw TCP. Test
//! files hold tests; anything two of them need, or that drives the service, lives here.

pub mod app;
pub mod metrics;
pub mod postgres;
pub mod process;
pub mod tcp;
pub mod twilio;
