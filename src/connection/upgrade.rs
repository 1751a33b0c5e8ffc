//! The protocol slot's second occupant: whatever speaks on a connection
//! after a `101 Switching Protocols` (WebSocket, in the next feature).
//!
//! Like the HTTP/1.1 protocol it replaces, it is sans-IO: it is handed the
//! transport's buffers — the input it has not consumed, which starts with
//! the first byte after the upgrading request's head, and the output to
//! write into — and never a socket or the loop.

use std::time::Instant;

use crate::transport::Buffers;

/// A protocol that took a connection over after a `101`.
pub(crate) trait Upgraded: Send {
    /// Bytes arrived (or output drained): consume what it can from
    /// `buffers.input()`, write what it has to say into `buffers.output()`.
    fn receive(&mut self, buffers: &mut Buffers, now: Instant);

    /// True once it has nothing more to say: the connection finishes
    /// (our FIN after the last byte, then lingering).
    fn is_done(&self) -> bool;
}
