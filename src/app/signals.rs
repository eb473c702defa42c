//! The signals the service answers: SIGTERM and SIGINT stop it gracefully, SIGHUP reloads the
//! rules. Registered while the service is built, before it says it is listening: a signal
//! that arrives between the two must not find the default action (death) or half the
//! listeners still unprepared.

use std::io;

use tokio::signal::unix::{Signal, SignalKind, signal};

/// The registered signal streams.
pub struct Signals {
    pub stop: Stop,
    pub hangup: Signal,
}

/// SIGTERM and SIGINT, both meaning "stop gracefully".
pub struct Stop {
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    /// Registers every handler at once. Needs the async runtime.
    pub fn register() -> io::Result<Self> {
        Ok(Self {
            stop: Stop {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            },
            hangup: signal(SignalKind::hangup())?,
        })
    }
}

impl Stop {
    /// Waits for SIGTERM or SIGINT; says which.
    pub async fn requested(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}
