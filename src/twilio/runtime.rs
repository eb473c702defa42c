//! The thread REST updates run on: a runtime of its own, at a lower CPU priority than the
//! workers that answer callbacks.
//!
//! An update is background work with Twilio's latency in it anyway; an answer has to beat
//! TaskRouter's clock. On a busy machine the scheduler should give the CPU to the answer
//! first, and it does when the update's thread is less favoured. The runtime outlives the
//! listeners, so pending updates can still be drained after they stop.

use std::io;
use std::thread::JoinHandle;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The nice value of the delivery thread: 10 steps below the workers, so that it gets the
/// CPU only when they leave it (a nice-10 thread weighs about a tenth of a nice-0 one).
const NICENESS: i32 = 10;

/// Keeps the delivery thread; dropping it stops the runtime (ending whatever is still on it)
/// and joins the thread.
pub struct DeliveryRuntime {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DeliveryRuntime {
    pub fn start() -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("rest-delivery".into())
            .spawn(move || {
                // Linux gives each thread its own nice value; lowering it needs no privilege.
                // Where it fails, updates still run, only without the lower priority.
                let tid = rustix::thread::gettid();
                if let Err(error) = rustix::process::setpriority_process(Some(tid), NICENESS) {
                    tracing::debug!(%error, "the delivery thread keeps the default priority");
                }
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Self {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where the deliverer spawns updates.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }
}

impl Drop for DeliveryRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
