//! eddy: an HTTP/1.1 server built around one hand-rolled event loop.
//!
//! A famous Tornado question asks: my server has slow, CPU-heavy requests
//! that hold up the fast ones — how do I run the heavy work elsewhere and
//! still answer from the event loop? eddy is that answer, with nothing
//! hidden: one thread runs a [mio](https://docs.rs/mio) reactor that
//! accepts, reads, parses and writes; slow jobs run on a worker pool; a
//! finished job comes back to the loop through a Waker. No async runtime,
//! no HTTP framework.
//!
//! # The API
//!
//! What an embedding program uses is at the crate's root, and listed
//! below; docs/embedding.md is the same on one page, with what the library
//! does and does not do to its host (it takes no signals and prints nothing
//! unless asked).
//!
//! - [`Server`] serves a [`Router`] as a [`Config`] says, until a
//!   [`ServerHandle`] (or a signal) asks it to drain; [`Exit`] says how it
//!   ended, [`Listening`] where it listened.
//! - A [`Router`] maps a method and a path to a [`Route`]: [`inline`] (the
//!   handler runs on the loop and must not block) or [`offload`] (it
//!   returns a [`Job`], which runs on a worker and may watch its
//!   [`CancelToken`]).
//! - A handler reads a [`Request`] (its [`Header`]s, its [`Version`]) and
//!   the [`ServerStatus`], and answers a [`Response`]: a [`StatusCode`],
//!   fields and a [`Body`].
//! - A body made later, from another thread, goes through a
//!   [`BodySender`] ([`Response::streamed`], [`job::Head`]), whose sends
//!   fail with [`Gone`] once the client left; [`files`] and [`sse`] are
//!   built on it.
//! - Hooks: [`AccessLog`] gets an [`AccessRecord`] per answer, [`EventLog`]
//!   a [`ServerEvent`] (a panic comes as a [`PanicReport`]).
//!   [`WorkerPriority`] says how workers are scheduled against the loop;
//!   [`LoopClosed`] is the error once the server is gone.
//! - HTTPS (the `tls` feature, a default): `Config::tls` takes a
//!   `TlsConfig`, from PEM files or a `rustls::ServerConfig`; a file that
//!   cannot be used is a `TlsError` naming it. Handshakes run on threads of
//!   their own (`TlsConfig::with_handshake_threads`), off the loop.
//! - [`reactor`] is the event loop alone, for a [`reactor::Handler`] of
//!   your own: `examples/echo.rs` builds an echo server on it.
//!
//! # Example
//!
//! An app with one inline route, served on an ephemeral port, asked once,
//! then shut down from another thread through its handle:
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use eddy::{inline, Config, Exit, Response, Router, Server, StatusCode};
//!
//! let router = Router::new().get("/hi", inline(|_req, _status| {
//!     Response::text(StatusCode::OK, "hi")
//! }));
//! let config = Config {
//!     addr: "127.0.0.1:0".parse().unwrap(),
//!     workers: 1,
//!     ..Config::default()
//! };
//! let server = Server::bind(config, router)?;
//! let addr = server.local_addr().unwrap();
//! let handle = server.handle();
//! let serving = std::thread::spawn(move || server.run());
//!
//! let mut client = TcpStream::connect(addr)?;
//! client.write_all(b"GET /hi HTTP/1.1\r\nHost: eddy\r\nConnection: close\r\n\r\n")?;
//! let mut reply = String::new();
//! client.read_to_string(&mut reply)?;
//! assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(reply.ends_with("\r\n\r\nhi"));
//! drop(client); // hang up, so the drain need not wait for us
//!
//! handle.shutdown().unwrap();
//! assert_eq!(serving.join().unwrap()?, Exit::Drained);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Layout
//!
//! Five layers, each ignorant of the ones above it, like Tornado's IOLoop →
//! IOStream → HTTP1Connection → Application:
//!
//! - [`reactor`] — **the loop** (Tornado's IOLoop): Poll, the token table
//!   with generations, timers, the Waker with
//!   [`LoopHandle::send`](reactor::LoopHandle::send) and
//!   [`add_callback`](reactor::LoopHandle::add_callback), the signal pipe,
//!   loop lag. `Reactor::turn` is one iteration; it knows no HTTP. Start
//!   reading here.
//! - `server` — the HTTP server on top: the acceptor (TCP or Unix), the
//!   connection table (the interest registered and the deadline timer of
//!   each), the jobs table (`server/jobs.rs`: a job's whole life), the
//!   drain, `--trace`; everything from other threads enters as a
//!   `Message`, applied in `HttpServer::notify` — *where a finished job
//!   re-enters the loop*.
//! - `connection` — a transport with a protocol speaking over it: HTTP/1.1
//!   (`Http1`: decoding, answers in order, the phase), sans-IO, or what a
//!   `101` handed the transport to; its round is `Connection::drive`. It
//!   never touches the loop.
//! - `transport` — bytes over a socket (Tornado's IOStream): readiness,
//!   the input and output buffers, the half-close and lingering.
//! - `http` — the codec: bytes → [`Request`], [`Response`] → bytes. Pure
//!   functions, no sockets.
//! - `websocket` — the WebSocket codec (RFC 6455; the `websocket` feature,
//!   a default): a handshake's checks, frames ↔ messages, UTF-8 checked as
//!   it arrives. Pure like `http`, the one module it imports (and
//!   `stream`, the pipe its senders write through); the protocol that
//!   speaks it after a `101` is `connection/websocket.rs`.
//! - The app: `router` (which handler answers, inline or offloaded),
//!   [`job`] ([`Job`], [`CancelToken`]), `pool` (worker threads, the
//!   bounded queue, paced bodies), `stream` (the pipe a streamed body
//!   crosses from its producer to the loop, with backpressure), [`files`]
//!   (a directory, streamed from the pool), [`sse`] (server-sent events),
//!   `status` (what an inline handler may see), `metrics`, and
//!   `demo` (the seed's app and `heavy_lifting`).
//! - Shared by the layers: `config`, `log` (what the server reports —
//!   access records and events — handed to the host's hooks, never printed
//!   by the library), `histogram`, `panic_report` (a caught panic kept as
//!   data).
//! - Around it: `call` (`eddy call`, the seed's client: a second, small
//!   reactor), `timeline` (its SVG), `fuzzing` (the fuzz targets'
//!   checks: one connection driven without a socket or a loop, the
//!   request decoder and the WebSocket frame decoder each fed one stream
//!   in pieces; `tests/fuzz_corpus.rs` replays their corpus).
//!
//! Imports flow one way, and the project checks it: `tests/layers.rs`
//! fails on an import that climbs a layer or closes a circle, anywhere
//! under `src/`. docs/architecture.md draws the graph and walks one
//! request through it, call by call (`tests/walk.rs` keeps that walk
//! true).
//!
//! The private modules are part of the textbook: `cargo doc
//! --document-private-items` renders them too.

#![warn(missing_docs)]
// Every `pub` item is part of the API: one that is not reachable from the
// crate's root is `pub(crate)` or private (issue 21, point 6).
#![warn(unreachable_pub)]

#[cfg(feature = "call")]
#[doc(hidden)]
pub mod call;
mod cancel;
mod config;
mod connection;
#[cfg(feature = "demo")]
#[doc(hidden)]
pub mod demo;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
mod histogram;
mod http;
pub mod job;
mod log;
mod metrics;
mod panic_report;
mod pool;
pub mod reactor;
mod router;
mod server;
pub mod sse;
mod status;
mod stream;
#[cfg(feature = "call")]
mod timeline;
#[cfg(feature = "tls")]
mod tls;
mod transport;
#[cfg(feature = "websocket")]
pub mod websocket;

pub use config::Config;
pub use http::{
    body::Body,
    request::{Header, Request, Version},
    response::Response,
    status::StatusCode,
};
// `job` and `reactor` are public modules: without `inline`, their items
// would show here as bare `pub use` lines, with no sentence.
#[doc(inline)]
pub use cancel::CancelToken;
pub use job::Job;
pub use log::{access::AccessRecord, AccessLog, EventLog, ServerEvent};
pub use panic_report::PanicReport;
pub use pool::WorkerPriority;
#[doc(inline)]
pub use reactor::LoopClosed;
pub use router::{inline, offload, Route, Router};
#[cfg(feature = "websocket")]
pub use router::{websocket, WebSocketRoute};
/// rustls, as eddy uses it: build a `rustls::ServerConfig` of your own
/// (client certificates, a certificate resolver) for
/// [`TlsConfig::from_rustls`].
#[cfg(feature = "tls")]
pub use rustls;
pub use server::{Exit, Listening, Server};
pub use status::{ServerHandle, ServerStatus};
pub use stream::{BodySender, Gone};
#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsError};

// The Rust snippets of the README and of every page under docs/, compiled
// (and, unless marked `no_run`, run) by `cargo test` as doctests: a doc that
// shows an API the code does not have fails the build. Only under
// `cfg(doctest)`, so the pages are not rendered twice in the crate's docs.
// A fence without a language is Rust to rustdoc: label every other one. A
// failing snippet is named by its page's module, at the `#[doc]` line below
// plus the fence's line in the page, minus one.
#[cfg(doctest)]
mod doc_pages {
    #[doc = include_str!("../README.md")]
    mod readme {}
    #[doc = include_str!("../docs/architecture.md")]
    mod architecture {}
    #[doc = include_str!("../docs/embedding.md")]
    mod embedding {}
    #[doc = include_str!("../docs/from-tornado.md")]
    mod from_tornado {}
    #[doc = include_str!("../docs/limits.md")]
    mod limits {}
    #[doc = include_str!("../docs/operations.md")]
    mod operations {}
    #[doc = include_str!("../docs/performance.md")]
    mod performance {}
}

#[cfg(test)]
mod doc_pages_listed {
    /// A page added under docs/ is listed in `doc_pages` above, so its
    /// snippets are compiled too.
    #[test]
    fn every_page_under_docs_is_a_doctest() {
        let lib = include_str!("lib.rs");
        let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/docs");
        for entry in std::fs::read_dir(docs).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".md") {
                let include = format!("include_str!(\"../docs/{name}\")");
                assert!(
                    lib.contains(&include),
                    "docs/{name} is not in lib.rs's doc_pages"
                );
            }
        }
    }
}
