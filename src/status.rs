//! What an inline handler may know about the server it runs in.
//!
//! A handler on the loop gets a [`ServerStatus`] with every request: the
//! figures `/healthz` and `/metrics` report, read-only, borrowed for the
//! length of the call. The server builds it just before the handler runs
//! and drops it just after, which is why a plain reference to the metrics
//! suffices (nothing counts while the handler runs: it is one thread).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::histogram::Histogram;
use crate::metrics::{Gauges, Metrics};
use crate::reactor::LoopClosed;

/// A cloneable, `Send` handle to a running server: the way to stop it from
/// code, on any thread.
///
/// The program that embeds the server gets one from `Server::handle`, an
/// inline handler from [`ServerStatus::handle`], and a job from a clone it
/// took.
#[derive(Clone)]
pub struct ServerHandle(Arc<dyn Fn() -> Result<(), LoopClosed> + Send + Sync>);

impl ServerHandle {
    /// A handle whose `shutdown` calls `begin` (the server makes it: a
    /// callback that starts its drain).
    pub(crate) fn new(begin: impl Fn() -> Result<(), LoopClosed> + Send + Sync + 'static) -> Self {
        ServerHandle(Arc::new(begin))
    }

    /// Asks the server to drain and stop, as SIGTERM does: stop accepting,
    /// finish and flush what is in flight, then `Server::run` returns.
    /// Callable from any thread, the loop's own included (the drain then
    /// begins at the start of the next turn); never blocks.
    pub fn shutdown(&self) -> Result<(), LoopClosed> {
        (self.0)()
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerHandle")
    }
}

/// The server as an inline handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct ServerStatus<'a> {
    /// The server received SIGINT/SIGTERM (or was asked to stop) and is
    /// finishing in-flight work.
    pub draining: bool,
    /// Connections currently open.
    pub open_connections: usize,
    /// Worker threads in the pool.
    pub workers: usize,
    /// Jobs waiting for a worker.
    pub jobs_queued: usize,
    /// Jobs handed to the pool and not yet answered.
    pub jobs_in_flight: usize,
    /// Jobs on a worker now (never more than `workers`).
    pub jobs_running: usize,
    /// Paced bodies waiting for their client to read: in flight, holding
    /// no worker.
    pub jobs_parked: usize,
    /// The accept back-off in force after an accept error (zero when
    /// accepting normally).
    pub accept_backoff: Duration,
    /// The server's counters.
    pub(crate) metrics: &'a Metrics,
    /// The reactor's loop-lag histogram.
    pub(crate) loop_lag: &'a Histogram,
    /// The way to stop the server (see [`ServerStatus::handle`]).
    pub(crate) handle: &'a ServerHandle,
}

impl ServerStatus<'_> {
    /// A handle to this server, to stop it (an admin route), now or later
    /// from a job: `status.handle().shutdown()`.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// The server's metrics in the Prometheus text format (see `metrics.rs`
    /// for every name), for a `/metrics` route.
    pub fn prometheus(&self) -> String {
        let gauges = Gauges {
            connections_open: self.open_connections,
            jobs_queued: self.jobs_queued,
            jobs_running: self.jobs_running,
            jobs_parked: self.jobs_parked,
            workers: self.workers,
            draining: self.draining,
            accept_backoff: self.accept_backoff,
        };
        self.metrics.render(&gauges, self.loop_lag)
    }
}
