//! The HTTP server: a [`Reactor`] and the handler it calls.
//!
//! The reactor knows tokens, timers and messages; this layer gives them
//! meaning. Its handler, `HttpServer` (`http.rs`), holds the acceptor, the
//! connection table and everything that answers requests, and implements
//! [`Handler`](crate::reactor::Handler): the reactor calls it when the
//! listener or a connection is ready, when one of its timers fires, when a
//! signal arrives, and with a message when a job comes back.
//! [`Server`] is the pair an application runs.
//!
//! The files, one owner each, each importing only those after it:
//!
//! - `http.rs` — `HttpServer`: what each token, timer and message means;
//!   driving a connection, closing it; the drain's steps;
//! - `respond.rs` — `Responder`: answering one decoded request (route it,
//!   run an inline handler, or offload its job);
//! - `jobs.rs` — `Jobs`, **an offloaded job's whole life**: submit,
//!   timeout, give-up, return, and how it ended;
//! - `streams.rs` — what a streamed body is given to wake the loop;
//! - `handshakes.rs` — the threads where TLS handshakes are processed, off
//!   the loop (with the `tls` feature);
//! - `entry.rs` — a connection as the table holds it: its registered
//!   interest and its deadline's timer;
//! - `accept.rs` — `Acceptor`: batches, `--max-conns`, back-off;
//! - `listening.rs` and `listener.rs` — the listening socket, and binding
//!   it with `SO_REUSEPORT` on request;
//! - `shutdown.rs` — the drain's state, and how the loop ended;
//! - `trace.rs` — `--trace`: what each turn did, for a person to read.

mod accept;
mod entry;
#[cfg(feature = "tls")]
mod handshakes;
mod http;
mod jobs;
mod listener;
mod listening;
mod respond;
mod shutdown;
mod streams;
mod trace;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::config::Config;
use crate::reactor::{Reactor, TokenId, Turn};
use crate::router::Router;
use crate::status::ServerHandle;
pub use listening::Listening;
pub use shutdown::Exit;

use accept::Acceptor;
use http::HttpServer;
use listening::Listener;

/// A connection's name: its place in the connection table, with a
/// generation (`reactor/tokens.rs`), and so also its token.
pub(crate) type ConnId = TokenId;

/// An HTTP server: the reactor and the handler it runs.
///
/// Made from a [`Config`] and a [`Router`] by [`bind`](Self::bind) (or
/// from a listener of the caller's), then [`run`](Self::run) until a
/// drain ends, usually on a thread of its own; its [`ServerHandle`] stops
/// it from any thread.
///
/// ```
/// use eddy::{inline, Config, Exit, Response, Router, Server, StatusCode};
///
/// let router = Router::new().get("/hello", inline(|_req, _status| {
///     Response::text(StatusCode::OK, "hello\n")
/// }));
/// let config = Config { addr: "127.0.0.1:0".parse().unwrap(), ..Config::default() };
/// let server = Server::bind(config, router)?;
/// println!("listening on {}", server.listening()); // http://127.0.0.1:PORT
/// let handle = server.handle();
/// let serving = std::thread::spawn(move || server.run());
/// // ... later, from any thread: a graceful drain, as SIGTERM would.
/// handle.shutdown().unwrap();
/// assert_eq!(serving.join().unwrap()?, Exit::Drained);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server {
    reactor: Reactor<HttpServer>,
    http: HttpServer,
}

impl Server {
    /// Binds `config.addr`, starts the worker pool and (if the config says
    /// so) takes SIGINT/SIGTERM. Nothing is served until [`run`](Self::run).
    pub fn bind(config: Config, router: Router) -> io::Result<Server> {
        let mut reactor = Reactor::new()?;
        let acceptor = Acceptor::bind(config.addr, config.reuse_port, &mut reactor)?;
        Server::start(config, router, acceptor, reactor)
    }

    /// Like [`bind`](Self::bind), but serves a listening socket the caller
    /// made (systemd's socket activation, a socket with options of its
    /// own); `config.addr` and `config.reuse_port` are not used.
    pub fn from_listener(
        listener: std::net::TcpListener,
        config: Config,
        router: Router,
    ) -> io::Result<Server> {
        listener.set_nonblocking(true)?;
        let listener = Listener::Tcp(mio::net::TcpListener::from_std(listener));
        let mut reactor = Reactor::new()?;
        let acceptor = Acceptor::listen_on(listener, &mut reactor)?;
        Server::start(config, router, acceptor, reactor)
    }

    /// Like [`from_listener`](Self::from_listener), for a Unix domain
    /// socket (a proxy on the same host, say). Requests from it have no
    /// peer address.
    pub fn from_unix_listener(
        listener: std::os::unix::net::UnixListener,
        config: Config,
        router: Router,
    ) -> io::Result<Server> {
        listener.set_nonblocking(true)?;
        let listener = Listener::Unix(mio::net::UnixListener::from_std(listener));
        let mut reactor = Reactor::new()?;
        let acceptor = Acceptor::listen_on(listener, &mut reactor)?;
        Server::start(config, router, acceptor, reactor)
    }

    fn start(
        config: Config,
        router: Router,
        mut acceptor: Acceptor,
        mut reactor: Reactor<HttpServer>,
    ) -> io::Result<Server> {
        #[cfg(feature = "tls")]
        let tls = config.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let tls = false;
        if tls {
            acceptor.speaks_tls();
        }
        if config.handle_signals {
            reactor.watch_signals()?;
        }
        if config.trace {
            reactor.set_trace(Some(Box::new(io::stderr())));
        }
        let http = HttpServer::new(config, router, acceptor, &mut reactor);
        Ok(Server { reactor, http })
    }

    /// The TCP address actually bound (useful after binding port 0);
    /// `None` for a server on a Unix socket.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self.http.listening() {
            Listening::Tcp(addr) | Listening::Https(addr) => Some(*addr),
            Listening::Unix(_) => None,
        }
    }

    /// Where the server listens: `http://IP:PORT` or `unix:PATH` as text.
    pub fn listening(&self) -> &Listening {
        self.http.listening()
    }

    /// A handle other threads use to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.http.handle()
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.http.open_connections()
    }

    /// Serves until shut down: [`turn`](Self::turn) in a loop, then the
    /// teardown.
    pub fn run(mut self) -> io::Result<Exit> {
        self.reactor.run(&mut self.http)?;
        Ok(self.http.finish(&mut self.reactor))
    }

    /// Runs one turn of the loop (see `reactor/mod.rs`), sleeping at most
    /// `max_wait`, and says what it did. For tests, and for watching the
    /// loop work one step at a time; `run` is this in a loop.
    pub fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<Turn> {
        self.reactor.turn(&mut self.http, max_wait)
    }

    /// How the server stopped, once it has (after a [`turn`](Self::turn)
    /// that ended a drain).
    pub fn exit(&self) -> Option<Exit> {
        self.http.exit()
    }
}
