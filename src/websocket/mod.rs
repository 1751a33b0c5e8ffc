//! WebSocket (RFC 6455): the codec — the opening handshake's checks and
//! the frames a connection speaks after its `101`, pure functions and
//! state machines over requests and bytes, like `http` — and what an
//! application writes against: a [`Handler`] per socket, the [`Socket`] it
//! is handed in each callback, and a [`Sender`] for any thread
//! (`handler.rs`).
//!
//! ```no_run
//! use eddy::websocket::{Handler, Message, Socket};
//! use eddy::{websocket, Config, Router, Server};
//!
//! struct Echo;
//!
//! impl Handler for Echo {
//!     fn message(&mut self, message: Message, socket: &mut Socket<'_>) {
//!         let _ = socket.send(message);
//!     }
//! }
//!
//! let router = Router::new().get("/echo", websocket(|_request| Ok(Echo)));
//! Server::bind(Config::default(), router)?.run()?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! What it is not: no sockets, no loop, no timers. It neither reads nor
//! writes; it does not answer a Ping or a Close by itself, nor decide when
//! a connection ends. The protocol that speaks WebSocket over a transport
//! (the `101`'s successor in `connection`) does that, calling in here.
//!
//! Layout:
//! - `handshake`: is a request an upgrade the server accepts (§4.2.1),
//!   and the fields of its `101` (§4.2.2).
//! - `accept`: `Sec-WebSocket-Accept` from the key — SHA-1 and base64,
//!   written out, no crate.
//! - `frame`: the decoder (a client's bytes → messages and control frames,
//!   every rule of §5 at its line) and the encoder of the server's frames.
//! - `utf8`: UTF-8 checked as it arrives, so a text message fails at its
//!   first bad byte (§8.1).
//! - `handler`: the application's side (public).
//! - `stats`: what sockets add to `/metrics`.
//!
//! Because nothing here touches a socket, every rule and every way a
//! stream can be split across reads is a plain unit test. No extension is
//! negotiated: permessage-deflate stays off.

mod accept;
pub(crate) mod frame;
mod handler;
pub(crate) mod handshake;
mod stats;
mod utf8;

pub(crate) use frame::{encode, encode_close, sent_close_code, Decoder, Incoming, Opcode};
pub use handler::{
    Handler, Message, SendError, Sender, Socket, MAX_MESSAGE, OFFLOADS_IN_FLIGHT, OUTPUT_BOUND,
    PING_INTERVAL, PING_TIMEOUT,
};
pub(crate) use handshake::{check, response_head, Accepted, Refused, SUPPORTED_VERSION};
pub(crate) use stats::SocketStats;
