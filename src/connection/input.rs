//! A connection's input side: reading what arrived, lingering before a
//! close, and lending buffers back to the loop while idle.
//!
//! Part of the connection (`connection.rs`). The readiness bookkeeping it
//! relies on is described there; what `spares.rs` is for, there.

use std::io::{self, Read, Write};

use super::{Connection, ReadOutcome};
use crate::spares::Spares;

/// Bytes read per `read` call: the size of the loop's scratch buffer, from
/// which what arrived is copied into the connection's `inbuf`.
pub const READ_CHUNK: usize = 16 * 1024;

/// Stop reading once this many undecoded bytes wait in `inbuf`: a client
/// pipelining faster than we answer must not grow our memory.
const MAX_BUFFERED_INPUT: usize = 64 * 1024;

/// The most a lingering connection reads and discards before it closes
/// anyway. See `Connection::linger`.
const LINGER_MAX_BYTES: usize = 1 << 20;

impl<S: Read + Write> Connection<S> {
    /// Takes buffers from the loop's spares if this connection has parked
    /// its own (see `spares.rs`). Called before reading.
    pub fn unpark(&mut self, spares: &mut Spares) {
        if self.inbuf.capacity() == 0 {
            self.inbuf = spares.input();
        }
        if self.out.capacity() == 0 {
            self.out = spares.output();
        }
        if !self.queue.has_storage() {
            self.queue.give_storage(spares.slots());
        }
        if !self.decoder.has_spare() {
            if let Some(request) = spares.request() {
                self.decoder.recycle(request);
            }
        }
    }

    /// Hands this connection's buffers to the loop's spares if it is idle:
    /// nothing buffered, nothing waiting, nothing to write. Called after
    /// every drive; a busy connection keeps its buffers.
    pub fn park(&mut self, spares: &mut Spares) {
        let idle = self.in_pos == self.inbuf.len()
            && self.decoder.is_idle()
            && self.queue.is_empty()
            && self.out.is_empty();
        if !idle {
            return;
        }
        self.in_pos = 0;
        spares.park_input(std::mem::take(&mut self.inbuf));
        spares.park_output(std::mem::take(&mut self.out));
        if self.queue.has_storage() {
            spares.park_slots(self.queue.take_storage());
        }
        if let Some(request) = self.decoder.take_spare() {
            spares.park_request(request);
        }
    }

    /// Reads until the socket is drained (the edge-triggered rule: stop
    /// earlier and no new event comes for the bytes left behind), unless the
    /// connection has stopped reading or enough input is already buffered.
    /// `scratch` is the loop's read buffer, shared by all connections
    /// (zeroed once, not per read).
    ///
    /// "Drained" is `WouldBlock`, or a *short* read: a TCP `recv` that
    /// returns fewer bytes than asked for has emptied the receive queue, and
    /// bytes arriving after it raise a new edge. That saves the extra `recv`
    /// per request that would only say `WouldBlock` (tokio's `PollEvented`
    /// does the same on Linux). Not when the peer has closed: its FIN may be
    /// waiting behind the data with no edge left to announce it, so then we
    /// read on until EOF.
    pub fn read(&mut self, scratch: &mut [u8]) -> ReadOutcome {
        if self.lingering.is_some() {
            return self.discard(scratch);
        }
        if self.in_pos == self.inbuf.len() {
            self.inbuf.clear();
            self.in_pos = 0;
        }
        while self.read_ready && self.wants_input() {
            match self.socket.read(scratch) {
                // EOF: the client will send no more. What it sent before
                // still counts; `Connection::after_fin` decides the rest.
                Ok(0) => {
                    self.fin_received = true;
                    self.read_ready = false;
                }
                Ok(n) => {
                    if self.in_pos > 0 {
                        // Compact before growing: keep only undecoded bytes.
                        self.inbuf.drain(..self.in_pos);
                        self.in_pos = 0;
                    }
                    self.inbuf.extend_from_slice(&scratch[..n]);
                    if n < scratch.len() && !self.read_closed_hint {
                        self.read_ready = false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.read_ready = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // ECONNRESET and friends: a disconnect is normal life for a
                // server, not an error worth logging.
                Err(_) => return ReadOutcome::Gone,
            }
        }
        ReadOutcome::Open
    }

    /// Lingering close. When the server ends a connection while the client
    /// may still be sending (an error mid-upload, `Connection: close` with
    /// more pipelined behind it), closing the socket at once with unread
    /// bytes in it makes the kernel send a reset, and a reset can destroy
    /// our last answer in the client's buffers before it reads it: the
    /// client sees "connection reset" instead of the 413 it was owed. So the
    /// caller half-closes (our FIN follows the answer), and the connection
    /// reads and discards for a while — until the client closes too, or
    /// `LINGER_TIMEOUT`, or `LINGER_MAX_BYTES` — before the socket is
    /// dropped. nginx does the same (`lingering_close`).
    pub fn linger(&mut self) {
        self.lingering = Some(0);
        self.read_ready = true;
    }

    /// True once [`linger`](Self::linger) was called.
    pub fn is_lingering(&self) -> bool {
        self.lingering.is_some()
    }

    /// True if bytes may still arrive that this connection will never read:
    /// it stopped reading before the client stopped sending.
    pub fn stopped_reading_early(&self) -> bool {
        !self.reading && !self.fin_received
    }

    /// Called after each round once the client's FIN has arrived; true if
    /// the connection must be closed now.
    ///
    /// A FIN is either a half-close (the client sent its requests and waits
    /// for the answers, as `nc -N` or `curl --data @file` through some
    /// proxies do) or a full close, and TCP cannot tell which until we
    /// write. So requests that arrived whole before it are kept, and those
    /// answered on the loop are answered; a request cut short by it is
    /// dropped. But an offloaded job still running means closing: a client
    /// that closed must not hold a worker for a whole job, and nginx treats
    /// a client that closes during a proxied request the same way (its
    /// 499). The job is cancelled, as for a reset.
    pub fn after_fin(&mut self) -> bool {
        if !self.fin_received {
            return false;
        }
        self.reading = false;
        self.queue.waiting().any(|waiting| waiting.job.is_some())
    }

    /// Reads and drops input while lingering; `Gone` once the client has
    /// closed too, or has sent more than we are willing to discard.
    fn discard(&mut self, scratch: &mut [u8]) -> ReadOutcome {
        while self.read_ready {
            match self.socket.read(scratch) {
                Ok(0) => return ReadOutcome::Gone,
                Ok(n) => {
                    let discarded = self.lingering.get_or_insert(0);
                    *discarded += n;
                    if *discarded > LINGER_MAX_BYTES {
                        return ReadOutcome::Gone;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.read_ready = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return ReadOutcome::Gone,
            }
        }
        ReadOutcome::Open
    }

    pub(super) fn wants_input(&self) -> bool {
        self.reading && self.inbuf.len() - self.in_pos < MAX_BUFFERED_INPUT
    }
}
