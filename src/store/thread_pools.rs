//! Claims' connections: a small pool for each thread that answers callbacks.
//!
//! A claim is on the answer's path. Sent through the store's own thread it crossed threads
//! twice (the query out, its reply back), and on a busy machine each crossing waits for the
//! scheduler: the claim's p99 was several times its median. Made on the answering thread,
//! the connection's socket belongs to that thread's runtime, and the claim never leaves it.
//!
//! Only a single-threaded runtime gets one: actix runs each worker on one for the thread's
//! whole life, so a pool made there is only ever used where its connections live. Anything
//! else (a multi-threaded runtime, or no pools to share out) uses the store's runtime.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tokio::runtime::{Handle, RuntimeFlavor};

use super::pool_options;

/// The answering threads' pools of one store.
pub(super) struct ThreadPools {
    /// Which store the calling thread's pool belongs to (a process may open more than one,
    /// tests do).
    store: u64,
    connections: u32,
    options: PgConnectOptions,
    /// Moves on at every failure; a thread whose pool is older makes a new one.
    generation: AtomicU64,
}

static NEXT_STORE: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// (store, generation, pool)
    static POOL: RefCell<Option<(u64, u64, PgPool)>> = const { RefCell::new(None) };
}

impl ThreadPools {
    /// Pools of `connections` each, to `options`, made as threads first ask.
    pub(super) fn new(connections: u32, options: PgConnectOptions) -> Self {
        Self {
            store: NEXT_STORE.fetch_add(1, Ordering::Relaxed),
            connections,
            options,
            generation: AtomicU64::new(0),
        }
    }

    /// The calling thread's pool, made (lazily connecting) on its first claim; `None` where
    /// claims go through the store's runtime instead.
    pub(super) fn here(&self) -> Option<PgPool> {
        let single_threaded = Handle::try_current()
            .is_ok_and(|runtime| runtime.runtime_flavor() == RuntimeFlavor::CurrentThread);
        if self.connections == 0 || !single_threaded {
            return None;
        }
        let generation = self.generation.load(Ordering::Acquire);
        POOL.with(|pool| {
            let mut pool = pool.borrow_mut();
            match &*pool {
                Some((store, made_in, made)) if *store == self.store && *made_in == generation => {
                    Some(made.clone())
                }
                _ => {
                    let made =
                        pool_options(self.connections).connect_lazy_with(self.options.clone());
                    *pool = Some((self.store, generation, made.clone()));
                    Some(made)
                }
            }
        })
    }
}

impl ThreadPools {
    /// Every thread makes a new pool at its next claim. Called at any failure: most are the
    /// server restarting or the network dropping, which breaks every connection at once, and
    /// a claim must not be the one to find out that its thread's connection is dead (the
    /// store's own pool has background work to find out first; these have only claims).
    pub(super) fn start_over(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// `max_connections` shared out as (each answering thread's, the store runtime's): half to
/// the answering threads (at least one each), the rest to the store's runtime (at least one),
/// which renews leases, takes over, and records attempts and ends. With no answering threads
/// (a command such as `migrate`) the store's runtime has them all.
pub(super) fn split_connections(max_connections: u32, answering_threads: u32) -> (u32, u32) {
    if answering_threads == 0 {
        return (0, max_connections.max(1));
    }
    let each = (max_connections / 2 / answering_threads).max(1);
    let rest = max_connections
        .saturating_sub(each.saturating_mul(answering_threads))
        .max(1);
    (each, rest)
}

#[cfg(test)]
mod tests;
