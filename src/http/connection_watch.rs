//! A watch on every connection, for what actix leaves untimed: a request head that starts
//! arriving on a kept-alive connection after its first answer. actix times only the first
//! head of a connection, and stops its keep-alive timer as soon as any byte arrives, so
//! without this a client could hold a connection for ever by trickling a second request.
//!
//! Each connection gets a [`Watch`], which the request middleware stamps when a request's
//! head is complete and when its answer is ready, and a task holding a duplicate of the
//! socket, which shuts the socket down once the connection has gone too long without a
//! complete request: longer than the keep-alive (actix closes an idle connection by then)
//! plus the head timeout. The task ends with the connection.

use std::any::Any;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use actix_web::dev::Extensions;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Longer than any request may take once its head is in: its body has 5 seconds, and the
/// answer takes microseconds.
const LONGEST_REQUEST: Duration = Duration::from_secs(30);
/// actix checks its own timers on a clock refreshed every half second; this watch only acts
/// once actix certainly would have.
const SLACK: Duration = Duration::from_secs(1);

/// What the middleware tells the watch about one connection.
#[derive(Debug)]
pub struct Watch {
    opened: Instant,
    /// Milliseconds after `opened` of the last head completed or answer made.
    last: AtomicU64,
    busy: AtomicBool,
    /// Dropped with the connection's data, which wakes the guard to let the socket go.
    _closed: oneshot::Sender<()>,
}

impl Watch {
    /// A request's head has arrived whole.
    pub fn request_started(&self) {
        self.busy.store(true, Ordering::Relaxed);
        self.touch();
    }

    /// The request's answer is made.
    pub fn request_answered(&self) {
        self.busy.store(false, Ordering::Relaxed);
        self.touch();
    }

    fn touch(&self) {
        let millis = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(millis, Ordering::Relaxed);
    }

    /// When the connection is overdue, if nothing happens before then.
    fn deadline(&self, between_requests: Duration) -> Instant {
        let allowed = if self.busy.load(Ordering::Relaxed) {
            LONGEST_REQUEST
        } else {
            between_requests
        };
        self.opened + Duration::from_millis(self.last.load(Ordering::Relaxed)) + allowed
    }
}

/// Puts a [`Watch`] on each new connection of one listener.
#[derive(Debug, Clone, Copy)]
pub struct Watcher {
    between_requests: Duration,
}

impl Watcher {
    pub fn new(head_timeout: Duration, keep_alive: Duration) -> Self {
        Self {
            between_requests: keep_alive + head_timeout + SLACK,
        }
    }

    /// For `HttpServer::on_connect`; runs on the worker that will serve the connection.
    pub fn on_connect(&self, connection: &dyn Any, data: &mut Extensions) {
        let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            return;
        };
        // Without a duplicate (no file descriptors left) the connection still has actix's
        // own timers and the connection bound.
        let Ok(socket) = stream.as_fd().try_clone_to_owned() else {
            return;
        };
        let (closed, when_closed) = oneshot::channel();
        let watch = Arc::new(Watch {
            opened: Instant::now(),
            last: AtomicU64::new(0),
            busy: AtomicBool::new(false),
            _closed: closed,
        });
        let weak = Arc::downgrade(&watch);
        data.insert(watch);
        actix_web::rt::spawn(guard(socket, weak, when_closed, self.between_requests));
    }
}

/// Sleeps until the connection would be overdue; shuts it down if it is. Holding the
/// duplicate socket no longer than the connection lives, so a close is never delayed.
async fn guard(
    socket: OwnedFd,
    watch: Weak<Watch>,
    mut when_closed: oneshot::Receiver<()>,
    between_requests: Duration,
) {
    loop {
        let Some(deadline) = watch.upgrade().map(|w| w.deadline(between_requests)) else {
            return;
        };
        tokio::select! {
            _ = &mut when_closed => return,
            () = tokio::time::sleep_until(deadline) => {}
        }
        let Some(watch) = watch.upgrade() else {
            return;
        };
        if Instant::now() >= watch.deadline(between_requests) {
            tracing::debug!("closing a connection that sent no complete request in time");
            let _ = socket2::SockRef::from(&socket).shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}
