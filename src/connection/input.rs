//! A connection's input side: reading what arrived, reading and dropping
//! while lingering, and lending buffers back to the server while idle.
//!
//! Part of the connection (`mod.rs`, which describes the readiness
//! bookkeeping this relies on; `spares.rs` says what lending is for).

use std::io;

use super::spares::Spares;
use super::{Connection, Phase, Stream};

/// Bytes read per `read` call: the size of the server's scratch buffer,
/// from which what arrived is copied into the connection's `inbuf`.
pub const READ_CHUNK: usize = 16 * 1024;

/// Stop reading once this many undecoded bytes wait in `inbuf`: a client
/// pipelining faster than we answer must not grow our memory.
const MAX_BUFFERED_INPUT: usize = 64 * 1024;

/// The most a lingering connection reads and drops before it closes
/// anyway (see `Connection::finish`): 64 MiB lets a refused upload of tens
/// of megabytes finish, so its client reads the 413 (a 20 MB upload from
/// Python's http.client got a broken pipe at the old 1 MiB). Dropping costs
/// a read per 16 KiB and no memory.
const LINGER_MAX_BYTES: usize = 64 << 20;

impl<S: Stream> Connection<S> {
    /// Takes buffers from the server's spares if this connection lent its
    /// own (see `spares.rs`). Called before reading.
    pub(super) fn take_buffers(&mut self, spares: &mut Spares) {
        if self.inbuf.capacity() == 0 {
            self.inbuf = spares.input();
        }
        if self.out.capacity() == 0 {
            self.out = spares.output();
        }
        if !self.queue.has_storage() {
            self.queue.give_storage(spares.queue());
        }
        if !self.decoder.has_spare() {
            if let Some(request) = spares.request() {
                self.decoder.recycle(request);
            }
        }
    }

    /// Lends this connection's buffers to the server's spares if it is idle:
    /// nothing buffered, nothing owed, nothing to write. Called after every
    /// drive; a busy connection keeps its buffers.
    pub(super) fn lend_buffers(&mut self, spares: &mut Spares) {
        let idle = self.in_pos == self.inbuf.len()
            && self.decoder.is_idle()
            && self.queue.is_empty()
            && self.out.is_empty();
        if !idle {
            return;
        }
        self.in_pos = 0;
        spares.keep_input(std::mem::take(&mut self.inbuf));
        spares.keep_output(std::mem::take(&mut self.out));
        if self.queue.has_storage() {
            spares.keep_queue(self.queue.take_storage());
        }
        if let Some(request) = self.decoder.take_spare() {
            spares.keep_request(request);
        }
    }

    /// Reads until the socket is drained (the edge-triggered rule: stop
    /// earlier and no new event comes for the bytes left behind), unless the
    /// connection has stopped reading or enough input is already buffered.
    /// Returns the bytes read; a reset (or any read error) closes the
    /// connection. `scratch` is the server's read buffer, shared by all
    /// connections (zeroed once, not per read).
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
    pub(super) fn read(&mut self, scratch: &mut [u8]) -> usize {
        if self.in_pos == self.inbuf.len() {
            self.inbuf.clear();
            self.in_pos = 0;
        }
        let mut total = 0;
        while self.ready.readable && self.wants_input() {
            match self.socket.read(scratch) {
                // EOF: the client will send no more. What it sent before
                // still counts; `Connection::peer_finished` decides the rest.
                Ok(0) => {
                    self.ready.eof = true;
                    self.ready.readable = false;
                }
                Ok(n) => {
                    total += n;
                    if self.in_pos > 0 {
                        // Compact before growing: keep only undecoded bytes.
                        self.inbuf.drain(..self.in_pos);
                        self.in_pos = 0;
                    }
                    self.inbuf.extend_from_slice(&scratch[..n]);
                    if n < scratch.len() && !self.ready.closed_hint {
                        self.ready.readable = false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.ready.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // ECONNRESET and friends: a disconnect is normal life for a
                // server, not an error worth logging.
                Err(_) => {
                    self.phase = Phase::Closed;
                    break;
                }
            }
        }
        total
    }

    /// Reads and drops input while lingering; closed once the client has
    /// closed too, or has sent more than we are willing to drop.
    pub(super) fn discard(&mut self, scratch: &mut [u8]) {
        while self.ready.readable {
            let Phase::Lingering { discarded, .. } = &mut self.phase else {
                return;
            };
            match self.socket.read(scratch) {
                Ok(0) => self.phase = Phase::Closed,
                Ok(n) => {
                    *discarded += n;
                    if *discarded > LINGER_MAX_BYTES {
                        self.phase = Phase::Closed;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.ready.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => self.phase = Phase::Closed,
            }
        }
    }

    /// True while the connection reads requests and has room to buffer more.
    pub(super) fn wants_input(&self) -> bool {
        self.reads_requests() && self.inbuf.len() - self.in_pos < MAX_BUFFERED_INPUT
    }
}
