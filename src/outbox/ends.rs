//! Ends of updates, written to the store in batches.
//!
//! A replica that sends a thousand updates a second ends a thousand a second. Written one by
//! one, each end held a pooled connection for a transaction of its own (four round trips),
//! and with two replicas flat out the ends queued for the connections that claims, on the
//! answer's path, were waiting for. Here every end that comes while a batch is being written
//! goes into the next batch, one statement for all of them: no end waits on a timer, and under
//! load the batches grow instead of the queue for connections.

use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

use crate::store::updates::Ended;
use crate::store::{SharedStore, StoreError};

/// Ends written in one statement, at most.
const AT_ONCE: usize = 512;
/// How long a batch keeps trying: long enough to ride out a blip, short enough not to hold a
/// shutdown. An end not written leaves its row pending: once its lease runs out another
/// replica takes it, checks with Twilio first, and finds it ended.
pub const WRITE_FOR: Duration = Duration::from_secs(3);
const RETRY_AFTER: Duration = Duration::from_millis(250);

/// The queue of ends not written yet, and the task that writes them.
#[derive(Debug)]
pub struct Ends {
    queue: mpsc::UnboundedSender<Queued>,
    /// For the error when the writer has stopped (the store's runtime is gone).
    store: SharedStore,
}

#[derive(Debug)]
enum Queued {
    End(Ended, oneshot::Sender<Result<(), StoreError>>),
    /// Answered once everything queued before it is written (or given up).
    Flush(oneshot::Sender<()>),
}

impl Ends {
    /// Starts the writer on `runtime`. The queue is unbounded, but each end in it is awaited
    /// by the deliverer's task for that update, so it holds at most what the deliverer does.
    pub fn start(store: SharedStore, runtime: &Handle) -> Self {
        let (queue, queued) = mpsc::unbounded_channel();
        runtime.spawn(write(store.clone(), queued));
        Self { queue, store }
    }

    /// Queues `ended`; resolves once its batch is written, or with the batch's error once it
    /// has been tried for [`WRITE_FOR`].
    pub async fn end(&self, ended: Ended) -> Result<(), StoreError> {
        let (written, answer) = oneshot::channel();
        if self.queue.send(Queued::End(ended, written)).is_err() {
            return Err(self.stopped());
        }
        answer.await.unwrap_or_else(|_| Err(self.stopped()))
    }

    /// Waits, for at most `wait`, until every end queued before this call is written or
    /// given up: at shutdown, before leases are released.
    pub async fn flush(&self, wait: Duration) {
        let (done, answer) = oneshot::channel();
        if self.queue.send(Queued::Flush(done)).is_ok() {
            let _ = tokio::time::timeout(wait, answer).await;
        }
    }

    fn stopped(&self) -> StoreError {
        self.store
            .error("end", "mark updates ended", "the store's thread stopped")
    }
}

async fn write(store: SharedStore, mut queued: mpsc::UnboundedReceiver<Queued>) {
    let mut taken = Vec::with_capacity(AT_ONCE);
    while queued.recv_many(&mut taken, AT_ONCE).await > 0 {
        let (mut ends, mut waiting, mut flushes) = (Vec::new(), Vec::new(), Vec::new());
        for item in taken.drain(..) {
            match item {
                Queued::End(ended, written) => {
                    ends.push(ended);
                    waiting.push(written);
                }
                Queued::Flush(done) => flushes.push(done),
            }
        }
        if !ends.is_empty() {
            let result = write_batch(&store, ends).await;
            for written in waiting {
                let _ = written.send(result.clone());
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Writes one batch, trying again for [`WRITE_FOR`].
async fn write_batch(store: &SharedStore, ends: Vec<Ended>) -> Result<(), StoreError> {
    let until = Instant::now() + WRITE_FOR;
    loop {
        match store.end(ends.clone()).await {
            Ok(()) => return Ok(()),
            Err(error) if Instant::now() + RETRY_AFTER >= until => return Err(error),
            Err(_) => tokio::time::sleep(RETRY_AFTER).await,
        }
    }
}
