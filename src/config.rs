//! Server settings: every limit and timeout in one plain struct.
//!
//! `eddy serve`'s flags fill this in (`cli.rs`); an embedding program builds
//! it directly, usually as `Config { addr, ..Config::default() }`.
//! `docs/limits.md` lists every default and says why it is what it is.

use std::net::SocketAddr;
use std::time::Duration;

/// Everything a [`Server`](crate::Server) needs to know before it starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen. Port 0 picks a free port (see `Server::local_addr`).
    pub addr: SocketAddr,
    /// Worker threads for offloaded jobs.
    pub workers: usize,
    /// Jobs that may wait for a worker; one more is answered 503.
    pub queue: usize,
    /// Open connections; at the limit the listener stops accepting.
    pub max_conns: usize,
    /// A request's head (and body) must arrive within this, counted from
    /// its first byte (or from accept, for a connection's first request).
    pub header_timeout: Duration,
    /// A keep-alive connection with nothing in flight is closed after this.
    pub idle_timeout: Duration,
    /// An offloaded job's time limit: past it the request is answered 504
    /// and the job's cancel token is tripped.
    pub job_timeout: Duration,
    /// Largest request body accepted; larger is 413.
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
    /// Print one access-log line per request on stdout.
    pub access_log: bool,
    /// Capture a backtrace for every panic in a job or handler and print it
    /// under the panic's line. Process-wide (Rust's panic hook is), and it
    /// costs memory once the first one is printed: see docs/operations.md.
    pub backtraces: bool,
    /// Turn SIGINT/SIGTERM into a graceful drain. An embedding program that
    /// owns its signals sets this to false and calls
    /// `ServerHandle::shutdown` itself.
    pub handle_signals: bool,
    /// Write one block per turn of the loop on stderr: what woke it, what
    /// each connection did, what each job did (`eddy serve --trace`). For
    /// watching the loop work; off, it costs a branch.
    pub trace: bool,
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
            access_log: true,
            backtraces: false,
            handle_signals: true,
            trace: false,
        }
    }
}
