//! Server settings: every limit, timeout and hook in one plain struct.
//!
//! An embedding program builds it, usually as `Config { addr,
//! ..Config::default() }`; `eddy serve`'s flags fill it in (`cli.rs`). The
//! defaults are a library's: no signals taken, nothing printed, workers at
//! normal priority. The `eddy` binary turns on what a server program wants
//! (signals, the access log on stdout, events on stderr, `SCHED_IDLE`
//! workers). `docs/limits.md` lists every limit and says why its default is
//! what it is.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::log::{AccessLog, EventLog};
use crate::pool::WorkerPriority;

/// Everything a [`Server`](crate::Server) needs to know before it starts.
///
/// Built as `Config { field: value, ..Config::default() }`; the defaults
/// are a library's (no signals taken, nothing printed), and docs/limits.md
/// gives every limit's reason.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use eddy::{AccessRecord, Config};
///
/// let config = Config {
///     addr: "127.0.0.1:8080".parse().unwrap(),
///     workers: 4,
///     job_timeout: Duration::from_secs(10),
///     // One line per answer, in nginx's combined format; `record.json()`
///     // is the same as a JSON object.
///     access_log: Some(Arc::new(|record: &AccessRecord| println!("{record}"))),
///     ..Config::default()
/// };
/// assert!(!config.handle_signals); // the host's signals stay the host's
/// ```
#[derive(Clone)]
pub struct Config {
    /// Where to listen. Port 0 picks a free port (see `Server::local_addr`).
    pub addr: SocketAddr,
    /// Worker threads for offloaded jobs, started only if a route offloads.
    pub workers: usize,
    /// Jobs that may wait for a worker; one more is answered 503.
    pub queue: usize,
    /// Open connections; at the limit the listener stops accepting.
    pub max_conns: usize,
    /// A request's head (and body) must arrive within this, counted from
    /// the connect for a connection's first request and from its first
    /// byte for later ones.
    pub header_timeout: Duration,
    /// A keep-alive connection with nothing in flight is closed after this.
    pub idle_timeout: Duration,
    /// An offloaded job's time limit: past it the request is answered 504
    /// and the job's cancel token is tripped.
    pub job_timeout: Duration,
    /// Largest request body accepted (413 beyond), unless a route sets its
    /// own (`Route::max_body`).
    pub max_body: usize,
    /// How long a graceful shutdown may take before the loop gives up on
    /// the requests still in flight.
    pub shutdown_timeout: Duration,
    /// During a drain, how long a keep-alive connection with nothing in
    /// flight stays open for a request already on its way (answered with
    /// `Connection: close`) before it is closed. At most
    /// `shutdown_timeout`.
    pub drain_grace: Duration,
    /// Bind with SO_REUSEPORT, so several processes can share the port (the
    /// kernel spreads connections among them).
    pub reuse_port: bool,
    /// Called with every answered request, in request order; `None`: no
    /// access log.
    pub access_log: Option<AccessLog>,
    /// Called with everything the server has to say about itself (accept
    /// errors, a drain, a panic); `None`: it says nothing.
    pub events: Option<EventLog>,
    /// Capture a backtrace for every panic in a job or handler (it comes
    /// with the `Panicked` event). Process-wide (Rust's panic hook is), and
    /// it costs memory once the first one is resolved: see
    /// docs/operations.md.
    pub backtraces: bool,
    /// Turn SIGINT/SIGTERM into a graceful drain (a second one stops at
    /// once). Off by default: a library does not take its host program's
    /// signals; the host calls `ServerHandle::shutdown` itself.
    pub handle_signals: bool,
    /// How the workers' threads are scheduled against the loop's (see
    /// `WorkerPriority`).
    pub worker_priority: WorkerPriority,
    /// Write a block for each turn of the loop that did something, on
    /// stderr (an idle loop writes nothing): what woke it, what
    /// each connection did, what each job did (`eddy serve --trace`). For
    /// watching the loop work; off, it costs a branch.
    pub trace: bool,
    /// Serve HTTPS instead of HTTP (`eddy serve --tls-cert --tls-key`):
    /// every connection is a TLS session of this configuration.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::TlsConfig>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8888)),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            queue: 1024,
            max_conns: 10_000,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            job_timeout: Duration::from_secs(30),
            max_body: 1 << 20,
            shutdown_timeout: Duration::from_secs(30),
            drain_grace: Duration::from_secs(1),
            reuse_port: false,
            access_log: None,
            events: None,
            backtraces: false,
            handle_signals: false,
            worker_priority: WorkerPriority::Normal,
            trace: false,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("workers", &self.workers)
            .field("queue", &self.queue)
            .field("max_conns", &self.max_conns)
            .field("header_timeout", &self.header_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("job_timeout", &self.job_timeout)
            .field("max_body", &self.max_body)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("drain_grace", &self.drain_grace)
            .field("reuse_port", &self.reuse_port)
            .field("access_log", &self.access_log.is_some())
            .field("events", &self.events.is_some())
            .field("backtraces", &self.backtraces)
            .field("handle_signals", &self.handle_signals)
            .field("worker_priority", &self.worker_priority)
            .field("trace", &self.trace)
            .finish()
    }
}
