//! Where log lines go: every thread appends its line to one shared buffer, and one background
//! thread writes the buffer to stdout in batches.
//!
//! A channel with a line per message (what `tracing-appender` does) wakes the writer thread
//! and makes a `write` system call for nearly every line: under load that costs more than
//! answering the callback the line is about. Here a logger only wakes the writer when it is
//! asleep with nothing to do; a busy writer takes everything written since its last batch at
//! once, every `BATCH_INTERVAL` at most.
//!
//! Nothing is dropped: when the writer falls more than `BUFFER_LIMIT` behind, loggers wait
//! for it. After the guard is dropped, lines are written straight to stdout.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer lets lines gather after writing a batch.
const BATCH_INTERVAL: Duration = Duration::from_millis(2);
/// How far the writer may fall behind before loggers wait for it.
const BUFFER_LIMIT: usize = 4 * 1024 * 1024;
/// A batch buffer that grew past this (a burst) is given back rather than kept.
const KEPT_CAPACITY: usize = 256 * 1024;

#[derive(Default)]
struct State {
    buffer: Vec<u8>,
    /// The writer is waiting for a line; the next logger must wake it.
    writer_idle: bool,
    /// Loggers waiting for room.
    loggers_waiting: usize,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signals the writer: a line arrived, or the writer is closing.
    work: Condvar,
    /// Signals waiting loggers: the buffer was taken.
    room: Condvar,
}

impl Shared {
    /// A panic elsewhere while holding the lock leaves a buffer of whole lines: keep using it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, line: &[u8]) -> io::Result<()> {
        let mut state = self.lock();
        while state.buffer.len() >= BUFFER_LIMIT && !state.closed {
            state.loggers_waiting += 1;
            state = self
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.loggers_waiting -= 1;
        }
        if state.closed {
            drop(state);
            return io::stdout().lock().write_all(line);
        }
        state.buffer.extend_from_slice(line);
        if state.writer_idle {
            state.writer_idle = false;
            self.work.notify_one();
        }
        Ok(())
    }

    /// The writer thread: takes whatever is buffered, writes it, and pauses so that the
    /// next batch can gather; sleeps while there is nothing. Returns once closed and empty.
    fn write_batches(&self, mut out: impl Write) {
        let mut batch = Vec::new();
        loop {
            {
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
                if state.loggers_waiting > 0 {
                    self.room.notify_all();
                }
            }
            // Nowhere to report a failed write to stdout; the lines are dropped, not retried
            // forever.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
            if batch.capacity() > KEPT_CAPACITY {
                batch = Vec::new();
            }
            std::thread::sleep(BATCH_INTERVAL);
        }
    }
}

/// The writer handed to the subscriber. Each formatted line arrives in one `write` call.
#[derive(Clone)]
pub struct LogWriter {
    shared: Arc<Shared>,
}

/// Keeps the writer thread; dropping it writes out every buffered line and stops the thread.
pub struct LogWriterGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LogWriter {
    /// Starts the writer thread over `out`.
    pub fn spawn(out: impl Write + Send + 'static) -> io::Result<(Self, LogWriterGuard)> {
        let shared = Arc::new(Shared::default());
        let writer_side = shared.clone();
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || writer_side.write_batches(out))?;
        Ok((
            Self {
                shared: shared.clone(),
            },
            LogWriterGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }
}

impl Drop for LogWriterGuard {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.closed = true;
            self.shared.work.notify_one();
            self.shared.room.notify_all();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
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
