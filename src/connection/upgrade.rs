//! The protocol slot's second occupant: whatever speaks on a connection
//! after a `101 Switching Protocols` (WebSocket, `websocket.rs`, with the
//! `websocket` feature).
//!
//! Like the HTTP/1.1 protocol it replaces, it is sans-IO: it is handed the
//! transport's buffers — the input it has not consumed, which starts with
//! the first byte after the upgrading request's head, and the output to
//! write into — and never a socket or the loop.

use std::time::Instant;

use crate::transport::Buffers;

/// Work an upgraded protocol's handler hands off the loop (a WebSocket
/// message's heavy computation): the server runs it on the worker pool.
/// Its result goes back by the protocol's own road (a socket's sender),
/// so the work returns nothing.
pub(crate) type OffLoop = Box<dyn FnOnce() + Send>;

/// A protocol that took a connection over after a `101`.
pub(crate) trait Upgraded: Send {
    /// Bytes arrived (or output drained, or its time came): consume what
    /// it can from `buffers.input()`, write what it has to say into
    /// `buffers.output()`; `off_loop` runs work on the pool (false: its
    /// queue is full).
    fn receive(
        &mut self,
        buffers: &mut Buffers,
        now: Instant,
        off_loop: &mut dyn FnMut(OffLoop) -> bool,
    );

    /// True once it has nothing more to say: the connection finishes
    /// (our FIN after the last byte, then lingering).
    fn is_done(&self) -> bool;

    /// True if it stopped taking output at a bound that writing may have
    /// lifted: the connection goes round again while the socket takes
    /// bytes, since no event will say the room is there.
    fn held_back(&self, buffers: &Buffers) -> bool {
        let _ = buffers;
        false
    }

    /// When it next needs the time, if it does (a ping due, a reply
    /// awaited): the connection's deadline, whose passing drives it.
    fn wake_at(&self) -> Option<Instant> {
        None
    }

    /// The server drains: say goodbye, waiting for a reply at most until
    /// `grace_ends`. The server drives the connection next.
    fn begin_drain(&mut self, grace_ends: Instant) {
        let _ = grace_ends;
    }

    /// The connection ended under it (closed, reset, timed out).
    fn ended(&mut self) {}

    /// How it ended, for the access log's closing record (JSON's
    /// `reason`).
    fn ending(&self) -> &'static str {
        "upgraded protocol ended"
    }
}
