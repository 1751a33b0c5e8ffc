//! The WebSocket codec (RFC 6455, issue 23): the opening handshake's
//! checks, and the frames a connection speaks after its `101`. Pure
//! functions and state machines over requests and bytes, like `http`.
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
//!
//! Because nothing here touches a socket, every rule and every way a
//! stream can be split across reads is a plain unit test. No extension is
//! negotiated: permessage-deflate stays off.

// The protocol that uses this codec (the connection's side of a `101`)
// comes next; until it does, only the tests call in.
#![cfg_attr(not(test), allow(dead_code))]

mod accept;
pub(crate) mod frame;
pub(crate) mod handshake;
mod utf8;

// The crate's short paths, for the protocol to come (unused until then,
// like the items they name).
#[allow(unused_imports)]
pub(crate) use frame::{encode, encode_close, Decoder, Incoming, Opcode, Violation};
#[allow(unused_imports)]
pub(crate) use handshake::{check, response_head, Accepted, Refused, SUPPORTED_VERSION};
