//! The transport: bytes in, bytes out, over one socket — Tornado's
//! `IOStream`. It knows no HTTP.
//!
//! A connection is a transport with a protocol speaking over it
//! (`connection/mod.rs`). The transport owns everything about bytes: the
//! socket, what the connection believes about its readiness between events,
//! the input buffer the protocol decodes from and the output buffer it
//! encodes into ([`Buffers`]), the half-close and the lingering read that
//! follows it. The protocol never reads or writes a socket: it is handed
//! the [`Buffers`] and nothing else.
//!
//! [`Transport`] is the interface, with two implementations: [`Plain`]
//! (`plain.rs`), bytes over TCP or a Unix socket (`socket.rs`), and — with
//! the `tls` feature — `Tls` (`tls.rs`), a rustls session over a `Plain`
//! transport of ciphertext: its `read` turns records into plaintext in the
//! same kind of input buffer, its `write` turns the output into records,
//! and its `wants_write` is true whenever the session has bytes to send
//! (handshake, alerts, close_notify) whatever the protocol is doing. The
//! server's connections run over a [`Link`] (`link.rs`), either one.
//!
//! Two questions the server asks of every transport after each round:
//! *which readiness does it want* ([`Transport::interest`], derived in one
//! place from `wants_read`/`wants_write`), and *could it go on without a
//! new edge* ([`Transport::may_read`]: bytes may wait unread — in the
//! socket for plain TCP, in the TLS session's plaintext for TLS).

mod buffers;
mod link;
mod plain;
mod socket;
#[cfg(feature = "tls")]
mod tls;

pub(crate) use buffers::{Buffers, SpareBuffers, KEEP};
pub(crate) use link::Link;
pub(crate) use plain::Plain;
pub(crate) use socket::{source_by_variant, Socket, Stream};
#[cfg(feature = "tls")]
pub(crate) use tls::{HandshakeStep, Tls};

use std::io;
use std::time::Instant;

use mio::event::Source;
use mio::Interest;

/// Bytes read per `read` call: the size of the server's scratch buffer,
/// from which what arrived is copied into the input buffer.
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// Where a transport is in its life. Written only in the implementation's
/// file (`plain.rs`): the protocol above decides *when* to end, the
/// transport how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Life {
    /// Carrying bytes both ways.
    Open,
    /// Our last byte and our FIN are out, but the client may still be
    /// sending: read and drop what comes, so a reset cannot destroy the
    /// last answer in the client's buffers (see `Connection::finish`).
    Lingering {
        /// Bytes read and dropped so far.
        discarded: usize,
        /// When it closes however much is still coming.
        ends: Instant,
    },
    /// Nothing left: the server drops the connection.
    Closed,
}

/// Bytes over a socket, as a protocol needs them. Implemented by [`Plain`];
/// see the module doc for the TLS sketch.
pub(crate) trait Transport {
    /// The socket, for the server to register and re-register.
    fn source(&mut self) -> &mut dyn Source;

    /// Records what an event said: readable, writable, and whether the peer
    /// closed its side (or an error), which is found out by reading.
    fn note_readiness(&mut self, readable: bool, writable: bool, closed: bool);

    /// Reads what arrived into the input buffer until the socket is
    /// drained or `limit` undecoded bytes wait; returns the bytes read. An
    /// end of input is noted in the buffers; an error closes the transport.
    fn read(&mut self, scratch: &mut [u8], limit: usize) -> usize;

    /// Writes what the output buffer holds, as far as the socket takes it;
    /// returns the bytes written. An error closes the transport.
    fn write(&mut self) -> usize;

    /// The protocol is done with this transport: half-close (our FIN after
    /// the last byte) and linger until `ends`, reading and dropping, or
    /// close at once if the client finished first.
    fn finish(&mut self, scratch: &mut [u8], ends: Instant);

    /// While lingering: reads and drops what arrived.
    fn discard(&mut self, scratch: &mut [u8]);

    /// Closes at once.
    fn close(&mut self);

    /// Where it is in its life.
    fn life(&self) -> Life;

    /// The buffers the protocol reads from and writes into.
    fn buffers(&mut self) -> &mut Buffers;

    /// The same, to look at.
    fn buffers_ref(&self) -> &Buffers;

    /// True if input may be waiting that no new edge will announce.
    fn may_read(&self) -> bool;

    /// True if the socket is believed to take more bytes now.
    fn may_write(&self) -> bool;

    /// True while it has bytes to send.
    fn wants_write(&self) -> bool;

    /// Whether it is secured, and how (for the access log).
    fn security(&self) -> Security {
        Security::Plain
    }

    /// The interest to register: always readable (a FIN or reset must be
    /// seen), writable only while there is something to send — with it
    /// always on, every written answer would wake the loop once more for
    /// nothing.
    fn interest(&self) -> Interest {
        if self.wants_write() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        }
    }
}

/// The error a read or write ends in, as the transport sees it: `Retry`
/// for the interrupted system call, `Drained` for `WouldBlock`, `Gone` for
/// the rest (ECONNRESET and friends: a disconnect is normal life for a
/// server, not an error worth logging).
pub(crate) fn classify(e: &io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::Interrupted => Failure::Retry,
        io::ErrorKind::WouldBlock => Failure::Drained,
        _ => Failure::Gone,
    }
}

/// What a TLS transport has to report for the counters, once each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TlsNews {
    /// Plain HTTP came to the TLS port (answered 400 in plain, closed).
    pub(crate) plain_http: bool,
    /// The handshake ended: `Some(true)` done, `Some(false)` failed.
    pub(crate) handshake: Option<bool>,
}

/// Whether a transport is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Without the `tls` feature only `Plain` is ever made.
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
pub(crate) enum Security {
    /// Plain bytes.
    Plain,
    /// TLS, its handshake not done yet.
    Handshaking,
    /// TLS, speaking this version (`TLSv1.3`, `TLSv1.2`).
    Tls(&'static str),
}

/// What [`classify`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Retry,
    Drained,
    Gone,
}
