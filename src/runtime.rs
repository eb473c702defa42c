//! Background threads with a runtime of their own: REST delivery, at a lower CPU priority than
//! the workers that answer callbacks, and the shared store's, at theirs.
//!
//! An update is background work with Twilio's latency in it anyway; an answer has to beat
//! TaskRouter's clock. On a busy machine the scheduler should give the CPU to the answer
//! first, and it does when the update's thread is less favoured. The shared store's thread
//! keeps the workers' priority: it renews the leases of updates in flight, and a lease left to
//! run out hands the update to another replica. Both runtimes outlive the listeners, so
//! pending updates can still be drained after they stop.

use std::io;
use std::thread::JoinHandle;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The nice value of the delivery thread: 10 steps below the workers, so that it gets the
/// CPU only when they leave it (a nice-10 thread weighs about a tenth of a nice-0 one).
pub const DELIVERY_NICENESS: i32 = 10;

/// The nice value of the decision recorder's thread: the lowest priority there is, so that
/// records take only CPU nothing else wants (a nice-19 thread weighs about 1/70 of a nice-0
/// one). Under a load that takes every core, the recorder falls behind and records are
/// dropped, counted, rather than answers slowed.
pub const RECORDER_NICENESS: i32 = 19;

/// Lowers the calling thread's priority to `niceness` (0: leaves it). Linux gives each thread
/// its own nice value; lowering it needs no privilege. Where it fails, the work still runs,
/// only without the lower priority.
pub fn lower_priority(niceness: i32) {
    let tid = rustix::thread::gettid();
    if niceness != 0
        && let Err(error) = rustix::process::setpriority_process(Some(tid), niceness)
    {
        tracing::debug!(%error, "a background thread keeps the default priority");
    }
}

/// Keeps the thread; dropping it stops the runtime (ending whatever is still on it) and joins
/// the thread.
pub struct BackgroundRuntime {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundRuntime {
    /// A thread named `name` running a runtime, `niceness` steps below the process's
    /// priority (0: the same).
    pub fn start(name: &str, niceness: i32) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                lower_priority(niceness);
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Self {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where work is spawned.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }
}

impl Drop for BackgroundRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
