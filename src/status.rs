//! What an inline handler may know about the server it runs in.
//!
//! A handler on the loop gets a [`ServerStatus`] with every request: the
//! figures `/healthz` and `/metrics` report, read-only, borrowed for the
//! length of the call. It is a window onto the server, not a copy: each
//! figure is read when the handler asks (nothing counts while the handler
//! runs: it is one thread).

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
pub struct ServerHandle(Arc<dyn Fn(Ask) -> Result<(), LoopClosed> + Send + Sync>);

/// What a [`ServerHandle`] asks of its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ask {
    /// Drain and stop.
    Shutdown,
    /// Read the certificate and key again.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    ReloadTls,
}

impl ServerHandle {
    /// A handle whose asks go to `ask` (the server makes it: it sends the
    /// loop a message).
    pub(crate) fn new(ask: impl Fn(Ask) -> Result<(), LoopClosed> + Send + Sync + 'static) -> Self {
        ServerHandle(Arc::new(ask))
    }

    /// Asks the server to drain and stop, as SIGTERM does: stop accepting,
    /// finish and flush what is in flight, then `Server::run` returns.
    /// Callable from any thread, the loop's own included (the drain then
    /// begins at the start of the next turn); never blocks.
    pub fn shutdown(&self) -> Result<(), LoopClosed> {
        (self.0)(Ask::Shutdown)
    }

    /// Asks an HTTPS server to read its certificate and key again, as
    /// SIGHUP does for the binary: the files are read and checked on a
    /// thread of their own, not the loop; new handshakes then use them,
    /// open connections go on untouched, and session resumption survives.
    /// A bad pair (unreadable, half-written, a key not matching) keeps the
    /// old one serving, and says so (`ServerEvent::TlsReloadFailed`,
    /// `eddy_tls_reload_failures_total`); so does a configuration built
    /// with `TlsConfig::from_rustls`, which has no files to read again.
    /// Callable from any thread; never blocks.
    #[cfg(feature = "tls")]
    pub fn reload_tls(&self) -> Result<(), LoopClosed> {
        (self.0)(Ask::ReloadTls)
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerHandle")
    }
}

/// Where an inline handler's [`ServerStatus`] reads its figures: the
/// server, which answers each only when asked.
pub(crate) trait StatusSource {
    /// Draining for shutdown.
    fn draining(&self) -> bool;
    /// Connections open now.
    fn open_connections(&self) -> usize;
    /// Worker threads.
    fn workers(&self) -> usize;
    /// Jobs waiting for a worker.
    fn jobs_queued(&self) -> usize;
    /// Jobs handed to the pool and not yet back.
    fn jobs_in_flight(&self) -> usize;
    /// Jobs on a worker now.
    fn jobs_running(&self) -> usize;
    /// Paced bodies parked.
    fn jobs_parked(&self) -> usize;
    /// The accept back-off in force.
    fn accept_backoff(&self) -> Duration;
    /// The server's counters.
    fn metrics(&self) -> &Metrics;
    /// The reactor's loop-lag histogram.
    fn loop_lag(&self) -> &Histogram;
    /// The way to stop the server.
    fn handle(&self) -> &ServerHandle;
}

/// The server as an inline handler sees it. Each figure is read when the
/// handler asks for it, not before: a handler that looks at nothing costs
/// nothing (the queue's length is an atomic read, not free per request).
#[derive(Clone, Copy)]
pub struct ServerStatus<'a> {
    source: &'a dyn StatusSource,
}

impl fmt::Debug for ServerStatus<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerStatus")
            .field("draining", &self.draining())
            .field("open_connections", &self.open_connections())
            .field("jobs_queued", &self.jobs_queued())
            .finish_non_exhaustive()
    }
}

impl<'a> ServerStatus<'a> {
    /// The status `source` answers.
    pub(crate) fn new(source: &'a dyn StatusSource) -> ServerStatus<'a> {
        ServerStatus { source }
    }

    /// The server received SIGINT/SIGTERM (or was asked to stop) and is
    /// finishing in-flight work.
    pub fn draining(&self) -> bool {
        self.source.draining()
    }

    /// Connections currently open.
    pub fn open_connections(&self) -> usize {
        self.source.open_connections()
    }

    /// Worker threads in the pool.
    pub fn workers(&self) -> usize {
        self.source.workers()
    }

    /// Jobs waiting for a worker.
    pub fn jobs_queued(&self) -> usize {
        self.source.jobs_queued()
    }

    /// Jobs handed to the pool and not yet answered.
    pub fn jobs_in_flight(&self) -> usize {
        self.source.jobs_in_flight()
    }

    /// Jobs on a worker now (never more than `workers`).
    pub fn jobs_running(&self) -> usize {
        self.source.jobs_running()
    }

    /// Paced bodies waiting for their client to read: in flight, holding
    /// no worker.
    pub fn jobs_parked(&self) -> usize {
        self.source.jobs_parked()
    }

    /// The accept back-off in force after an accept error (zero when
    /// accepting normally).
    pub fn accept_backoff(&self) -> Duration {
        self.source.accept_backoff()
    }

    /// A handle to this server, to stop it (an admin route), now or later
    /// from a job: `status.handle().shutdown()`.
    pub fn handle(&self) -> ServerHandle {
        self.source.handle().clone()
    }

    /// The server's metrics in the Prometheus text format (see `metrics.rs`
    /// for every name), for a `/metrics` route.
    pub fn prometheus(&self) -> String {
        let gauges = Gauges {
            connections_open: self.open_connections(),
            jobs_queued: self.jobs_queued(),
            jobs_running: self.jobs_running(),
            jobs_parked: self.jobs_parked(),
            workers: self.workers(),
            draining: self.draining(),
            accept_backoff: self.accept_backoff(),
        };
        self.source
            .metrics()
            .render(&gauges, self.source.loop_lag())
    }
}
