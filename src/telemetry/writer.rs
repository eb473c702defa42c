//! Where log lines go: every thread appends its line to one shared buffer, and one background
//! thread writes the buffer to the sink (stdout) in batches.
//!
//! A channel with a line per message (what `tracing-appender` does) wakes the writer thread
//! and makes a `write` system call for nearly every line: under load that costs more than
//! answering the callback the line is about. Here a logger only wakes the writer when it is
//! asleep with nothing to do; a busy writer takes everything written since its last batch at
//! once, every `BATCH_INTERVAL` at most.
//!
//! Logging never stops answering: a logger never waits for the sink. When the writer is more
//! than `BUFFER_LIMIT` behind (a log collector that stopped reading, a full pipe), new lines
//! are dropped and counted, and once a write goes through again the writer reports how many
//! were lost. After the guard is dropped, lines are written straight to stdout.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer lets lines gather after writing a small batch.
const BATCH_INTERVAL: Duration = Duration::from_millis(2);
/// A batch at least this big is followed at once by the next: the sink keeps up, so lines
/// should not pile up towards the limit.
const BIG_BATCH: usize = 64 * 1024;
/// How far the writer may fall behind before new lines are dropped.
const BUFFER_LIMIT: usize = 4 * 1024 * 1024;
/// A batch buffer that grew past this (a burst) is given back rather than kept.
const KEPT_CAPACITY: usize = 256 * 1024;
/// How long the guard waits, at exit, for buffered lines to reach a sink that may be stuck.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Lines dropped by every writer of the process, for `assignment_router_log_lines_dropped_total`.
static DROPPED_LINES: AtomicU64 = AtomicU64::new(0);

/// Lines dropped so far in this process because the log sink did not keep up.
pub fn dropped_lines() -> u64 {
    DROPPED_LINES.load(Ordering::Relaxed)
}

#[derive(Default)]
struct State {
    buffer: Vec<u8>,
    /// The writer is waiting for a line; the next logger must wake it.
    writer_idle: bool,
    /// Lines dropped since the writer last reported a loss.
    unreported: u64,
    /// Lines dropped by this writer, ever.
    dropped: u64,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signals the writer: a line arrived, or the writer is closing.
    work: Condvar,
}

impl Shared {
    /// A panic elsewhere while holding the lock leaves a buffer of whole lines: keep using it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, line: &[u8]) -> io::Result<()> {
        let mut state = self.lock();
        if state.closed {
            drop(state);
            return io::stdout().lock().write_all(line);
        }
        if state.buffer.len() + line.len() > BUFFER_LIMIT {
            state.unreported += 1;
            state.dropped += 1;
            DROPPED_LINES.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        state.buffer.extend_from_slice(line);
        if state.writer_idle {
            state.writer_idle = false;
            self.work.notify_one();
        }
        Ok(())
    }

    /// The writer thread: takes whatever is buffered, writes it, and pauses so that the
    /// next batch can gather; sleeps while there is nothing. Once a write has gone through
    /// after lines were dropped, `report_lost` is told how many. Returns once closed and
    /// empty.
    fn write_batches(&self, mut out: impl Write, report_lost: impl Fn(u64)) {
        let mut batch = Vec::new();
        loop {
            let lost = {
                let mut state = self.lock();
                while state.buffer.is_empty() && !state.closed {
                    state.writer_idle = true;
                    state = self
                        .work
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if state.buffer.is_empty() {
                    return;
                }
                std::mem::swap(&mut state.buffer, &mut batch);
                std::mem::take(&mut state.unreported)
            };
            // Nowhere to report a failed write to the sink; the lines are dropped, not retried
            // forever.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            if lost > 0 {
                // Logged like any line, so it lands in the next batch, in the log's format.
                report_lost(lost);
            }
            let big = batch.len() >= BIG_BATCH;
            batch.clear();
            if batch.capacity() > KEPT_CAPACITY {
                batch = Vec::new();
            }
            if !big {
                std::thread::sleep(BATCH_INTERVAL);
            }
        }
    }
}

/// The writer handed to the subscriber. Each formatted line arrives in one `write` call.
#[derive(Clone)]
pub struct LogWriter {
    shared: Arc<Shared>,
}

/// Keeps the writer thread; dropping it writes out every buffered line (waiting at most
/// `FLUSH_TIMEOUT` for a sink that may be stuck) and stops the thread.
pub struct LogWriterGuard {
    shared: Arc<Shared>,
    finished: mpsc::Receiver<()>,
}

impl LogWriter {
    /// Starts the writer thread over `out`; `report_lost` is called from that thread, with
    /// how many lines were dropped, once the sink takes lines again.
    pub fn spawn(
        out: impl Write + Send + 'static,
        report_lost: impl Fn(u64) + Send + 'static,
    ) -> io::Result<(Self, LogWriterGuard)> {
        let shared = Arc::new(Shared::default());
        let writer_side = shared.clone();
        let (done, finished) = mpsc::channel();
        std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || {
                writer_side.write_batches(out, report_lost);
                let _ = done.send(());
            })?;
        Ok((
            Self {
                shared: shared.clone(),
            },
            LogWriterGuard { shared, finished },
        ))
    }

    /// Lines this writer has dropped because its sink did not keep up.
    pub fn dropped(&self) -> u64 {
        self.shared.lock().dropped
    }
}

impl Drop for LogWriterGuard {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.closed = true;
            self.shared.work.notify_one();
        }
        // A sink that never takes the last lines must not keep the process from exiting.
        let _ = self.finished.recv_timeout(FLUSH_TIMEOUT);
    }
}

/// One line's writer, borrowed from [`LogWriter`].
pub struct LineWriter<'a>(&'a Shared);

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.push(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(&self.shared)
    }
}

#[cfg(test)]
mod tests;
