//! The plain transport: bytes straight over a TCP or Unix socket.
//!
//! Readiness is remembered, not re-asked. mio is edge-triggered: it reports
//! "became readable" once, and stays silent until new bytes arrive after a
//! read has seen `WouldBlock`. So the transport keeps its own
//! [`Readiness`] and forgets it only on `WouldBlock`. That lets the
//! connection stop reading on purpose (too many pipelined requests waiting)
//! and resume later without waiting for an edge that will never come.
//!
//! Its [`Life`] is written here and nowhere else.

use std::time::Instant;

use mio::event::Source;

use super::{classify, Buffers, Failure, Life, Stream, Transport};

/// The most a lingering transport reads and drops before it closes anyway
/// (see `Connection::finish`): 64 MiB lets a refused upload of tens of
/// megabytes finish, so its client reads the 413 (a 20 MB upload from
/// Python's http.client got a broken pipe at the old 1 MiB). Dropping costs
/// a read per 16 KiB and no memory.
pub(crate) const LINGER_MAX_BYTES: usize = 64 << 20;

/// What the transport believes about its socket, between events.
#[derive(Debug, Clone, Copy)]
struct Readiness {
    /// Bytes may wait unread: no `WouldBlock` since the last readable edge.
    readable: bool,
    /// The socket may take more bytes.
    writable: bool,
    /// An event said the peer closed its side (or an error): the FIN may
    /// wait behind the data, so read all the way to `WouldBlock` or EOF.
    closed_hint: bool,
}

/// Bytes over a socket `S`, as they are.
pub(crate) struct Plain<S> {
    socket: S,
    ready: Readiness,
    buffers: Buffers,
    life: Life,
}

impl<S: Stream> Plain<S> {
    /// A transport over a freshly accepted socket.
    pub(crate) fn new(socket: S) -> Plain<S> {
        Plain {
            socket,
            ready: Readiness {
                readable: false,
                writable: true,
                closed_hint: false,
            },
            buffers: Buffers::default(),
            life: Life::Open,
        }
    }

    /// The socket (for tests and the fuzz harness, which play its other
    /// end).
    pub(crate) fn socket(&mut self) -> &mut S {
        &mut self.socket
    }
}

impl<S: Stream> Transport for Plain<S> {
    fn source(&mut self) -> &mut dyn Source {
        &mut self.socket
    }

    /// Events are hints: a "readable" may find nothing (spurious wakeups
    /// are allowed), and "read closed" or "error" are best found out by
    /// reading, so they count as readable too.
    fn note_readiness(&mut self, readable: bool, writable: bool, closed: bool) {
        self.ready.closed_hint |= closed;
        self.ready.readable |= readable || closed;
        self.ready.writable |= writable;
    }

    /// Reads until the socket is drained (the edge-triggered rule: stop
    /// earlier and no new event comes for the bytes left behind), unless
    /// `limit` bytes already wait.
    ///
    /// "Drained" is `WouldBlock`, or a *short* read: a TCP `recv` that
    /// returns fewer bytes than asked for has emptied the receive queue, and
    /// bytes arriving after it raise a new edge. That saves the extra `recv`
    /// per request that would only say `WouldBlock` (tokio's `PollEvented`
    /// does the same on Linux). It relies on edge-triggered epoll (or
    /// kqueue's `EV_CLEAR`) semantics, which mio uses on both; mio's
    /// portable rule is "read until `WouldBlock`". Not when the peer has
    /// closed: its FIN may be waiting behind the data with no edge left to
    /// announce it, so then we read on until EOF.
    fn read(&mut self, scratch: &mut [u8], limit: usize) -> usize {
        self.buffers.reset_consumed();
        let mut total = 0;
        while self.ready.readable && self.life == Life::Open && self.buffers.unconsumed() < limit {
            match self.socket.read(scratch) {
                // EOF: the client will send no more. What it sent before
                // still counts; the protocol decides the rest.
                Ok(0) => {
                    self.buffers.end_input();
                    self.ready.readable = false;
                }
                Ok(n) => {
                    total += n;
                    self.buffers.received(&scratch[..n]);
                    if n < scratch.len() && !self.ready.closed_hint {
                        self.ready.readable = false;
                    }
                }
                Err(e) => match classify(&e) {
                    Failure::Retry => {}
                    Failure::Drained => self.ready.readable = false,
                    Failure::Gone => self.life = Life::Closed,
                },
            }
        }
        total
    }

    fn write(&mut self) -> usize {
        let mut written = 0;
        while self.ready.writable && self.life != Life::Closed && self.buffers.unwritten() > 0 {
            match self.socket.write(self.buffers.to_write()) {
                Ok(0) => self.life = Life::Closed,
                Ok(n) => {
                    self.buffers.wrote(n);
                    written += n;
                }
                Err(e) => match classify(&e) {
                    Failure::Retry => {}
                    Failure::Drained => self.ready.writable = false,
                    Failure::Gone => self.life = Life::Closed,
                },
            }
        }
        written
    }

    fn finish(&mut self, scratch: &mut [u8], ends: Instant) {
        let client_may_send = !self.buffers.input_ended();
        if client_may_send && self.socket.shutdown_write().is_ok() {
            self.life = Life::Lingering { discarded: 0, ends };
            // Read at once: the client may have closed already.
            self.ready.readable = true;
            self.discard(scratch);
        } else {
            self.life = Life::Closed;
        }
    }

    /// Reads and drops input while lingering; closed once the client has
    /// closed too, or has sent more than we are willing to drop.
    fn discard(&mut self, scratch: &mut [u8]) {
        while self.ready.readable {
            let Life::Lingering { discarded, .. } = &mut self.life else {
                return;
            };
            match self.socket.read(scratch) {
                Ok(0) => self.life = Life::Closed,
                Ok(n) => {
                    *discarded += n;
                    if *discarded > LINGER_MAX_BYTES {
                        self.life = Life::Closed;
                    }
                }
                Err(e) => match classify(&e) {
                    Failure::Retry => {}
                    Failure::Drained => self.ready.readable = false,
                    Failure::Gone => self.life = Life::Closed,
                },
            }
        }
    }

    fn close(&mut self) {
        self.life = Life::Closed;
    }

    fn life(&self) -> Life {
        self.life
    }

    fn buffers(&mut self) -> &mut Buffers {
        &mut self.buffers
    }

    fn buffers_ref(&self) -> &Buffers {
        &self.buffers
    }

    fn may_read(&self) -> bool {
        self.ready.readable
    }

    fn may_write(&self) -> bool {
        self.ready.writable
    }

    fn wants_write(&self) -> bool {
        self.buffers.unwritten() > 0
    }
}
