//! eddy: an HTTP/1.1 server built around one hand-rolled event loop.
//!
//! A famous Tornado question asks: my server has slow, CPU-heavy requests
//! that hold up the fast ones — how do I run the heavy work elsewhere and
//! still answer from the event loop? eddy is that answer, with nothing
//! hidden: one thread runs a [mio] reactor that accepts, reads, parses and
//! writes; slow jobs run on a worker pool; a finished job comes back to the
//! loop through a Waker. No async runtime, no HTTP framework.
//!
//! # Layout
//!
//! Data flows one way: socket → connection → codec → router → (inline
//! handler | pool → waker → loop) → connection → socket.
//!
//! - `event_loop` — **the loop** ([`EventLoop::run`]): Poll, tokens, the
//!   accept path, timers, signals, shutdown. Start reading here.
//! - `loop_handle` — [`LoopHandle::add_callback`]: the one way in from other
//!   threads. *Where a finished job re-enters the loop.*
//! - `connection` — one client: buffers, readiness, the response-slot queue,
//!   deadlines.
//! - `response_queue` — ordered slots, so pipelined answers leave in order.
//! - [`http`] — the codec: bytes → [`Request`], [`Response`] → bytes. Pure
//!   functions, no sockets.
//! - [`router`] — which handler answers, and whether it runs inline or on the
//!   pool.
//! - [`metrics`] — counters and histograms, `/metrics` in Prometheus text.
//! - [`pool`] — worker threads, the bounded job queue, `catch_unwind`,
//!   cancel tokens.
//! - `panic_report` — a caught panic kept as data (message, place), not
//!   printed by Rust's hook.
//! - `spares` — buffers idle connections lend back to the loop.
//! - `timers` — every deadline in one ordered map.
//! - `signals` — SIGINT/SIGTERM as a readable pipe (the self-pipe trick).
//! - `conn_table` — the slab of connections; tokens with generations.
//! - `listener` — the listening socket, with SO_REUSEPORT on request.
//! - [`config`] — every limit and timeout.
//! - [`fuzzing`] — one connection driven without a socket, for the fuzzer.
//! - [`demo`] — the seed's app: `/fast`, `/slow`, `/slow_threaded`, `/fail`,
//!   `/healthz`, and `heavy_lifting`.
//! - [`call`] — `eddy call`, the seed's client (`call_multi.py`): a second,
//!   small reactor with one connection per request.
//! - [`timeline`] — a hand-written SVG writer: one bar per request.
//!
//! The private modules are part of the textbook: `cargo doc
//! --document-private-items` renders them too.
//!
//! # Example
//!
//! An app with one inline route, served on an ephemeral port, asked once,
//! then shut down from another thread through the loop handle:
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use eddy::{inline, Config, EventLoop, Exit, Response, Router, StatusCode};
//!
//! let router = Router::new().get("/hi", inline(|_req, _status| {
//!     Response::text(StatusCode::OK, "hi")
//! }));
//! let config = Config {
//!     addr: "127.0.0.1:0".parse().unwrap(),
//!     workers: 1,
//!     access_log: false,
//!     handle_signals: false,
//!     ..Config::default()
//! };
//! let server = EventLoop::bind(config, router)?;
//! let addr = server.local_addr();
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
//! handle.add_callback(|lp| lp.begin_shutdown()).unwrap();
//! assert_eq!(serving.join().unwrap()?, Exit::Drained);
//! # Ok::<(), std::io::Error>(())
//! ```

#![warn(missing_docs)]

pub mod call;
pub mod config;
mod conn_table;
mod connection;
pub mod demo;
pub mod event_loop;
pub mod fuzzing;
pub mod http;
mod listener;
pub mod loop_handle;
pub mod metrics;
mod panic_report;
pub mod pool;
mod response_queue;
pub mod router;
mod signals;
mod spares;
pub mod timeline;
mod timers;

pub use config::Config;
pub use event_loop::{EventLoop, Exit, ResponseSlot};
pub use http::{Request, Response, StatusCode};
pub use loop_handle::{LoopClosed, LoopHandle};
pub use pool::{CancelToken, Job};
pub use router::{inline, offload, LoopStatus, Route, Router};
