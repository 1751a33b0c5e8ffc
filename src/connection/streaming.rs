//! A connection's streamed answer on its way out: the body that arrives
//! through a pipe (`stream.rs`) after its head has left.
//!
//! Part of the HTTP/1.1 protocol (`line.rs` holds the one going out). A
//! streamed answer's head leaves the response queue like any answer; its body then holds the front of the
//! line — answers pipelined behind it wait, so they still leave in order —
//! while [`Outgoing::pump`] moves chunks from the pipe into the output
//! buffer. It takes a chunk only while less than [`STREAM_OUTPUT`] bytes
//! wait to be written: a client that reads slowly leaves the chunks in the
//! pipe, the pipe fills to its high-water mark, and the producer blocks.
//! That is the whole of the flow control on this side:
//!
//! ```text
//!  producer ──send──▶ pipe (≤ HIGH_WATER) ──pump, while out < STREAM_OUTPUT──▶ out ──write──▶ socket
//!     ▲ blocks when full          │ empty: arm the waker            ▲ WRITABLE: drive again
//!     └──── wakes below LOW_WATER ┘ send: waker ─▶ add_callback ─▶ drive
//! ```
//!
//! Each chunk is framed as the head promised: a chunk of a chunked body, or
//! raw bytes counted against the `Content-Length`, or (HTTP/1.0, no length)
//! raw bytes until the connection closes. A body that ends well gets its
//! last chunk; one that fails — its producer stopped, panicked, or sent
//! more or fewer bytes than its length — gets nothing more, and the
//! connection closes after what was written: the client can tell the
//! answer is incomplete.

use std::time::Instant;

use super::record::Logged;
use crate::http::response::{encode_chunk, LAST_CHUNK};
use crate::stream::{End, Next, StreamBody};
use crate::transport::Buffers;

/// A streamed body may fill the output buffer up to this many unwritten
/// bytes before the connection stops taking chunks from its pipe. With the
/// pipe's `HIGH_WATER` (256 KiB), a slow reader costs the server about
/// 400 KiB, whatever the body's size.
pub(crate) const STREAM_OUTPUT: usize = 128 * 1024;

/// How the client learns where the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Chunked (HTTP/1.1, length not known up front): a last chunk ends it.
    Chunked,
    /// `Content-Length`: this many bytes are still owed.
    Length {
        /// Bytes still to come.
        left: u64,
    },
    /// HTTP/1.0 and no length: the close ends it.
    UntilClose,
}

/// A streamed body on its way out.
#[derive(Debug)]
pub(crate) struct Outgoing {
    body: StreamBody,
    framing: Framing,
    /// Body bytes moved to the output buffer so far.
    sent: u64,
    /// The answer's access-log record, written when the body ends.
    logged: Option<Logged>,
    /// The pipe was empty at the last look: its waker will bring the
    /// connection back, so there is nothing to pump until then.
    waiting: bool,
    /// When the head left: the access log's duration runs to the body's end.
    began: Instant,
    /// Output offset of the body's first byte (see `unwritten.rs`).
    body_from: u64,
}

/// What one [`Outgoing::pump`] came to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pumped {
    /// The output buffer is full enough; pump again once it drains.
    Full,
    /// The pipe is empty; its waker will say when it is not.
    Waiting,
    /// The body ended: well, or failed for the reason given.
    Ended(Result<(), String>),
}

impl Outgoing {
    /// A body to write after its head, framed as the head said.
    pub(crate) fn new(body: StreamBody, framing: Framing, logged: Option<Logged>) -> Outgoing {
        Outgoing {
            body,
            framing,
            sent: 0,
            logged,
            waiting: false,
            began: Instant::now(),
            body_from: 0,
        }
    }

    /// Its head has gone into the output, which now ends at `offset`:
    /// its body begins there.
    pub(crate) fn begins_at(&mut self, offset: u64) {
        self.body_from = offset;
    }

    /// Moves chunks from the pipe into the output while fewer than
    /// [`STREAM_OUTPUT`] bytes of it are unwritten.
    pub(crate) fn pump(&mut self, buffers: &mut Buffers) -> Pumped {
        loop {
            if buffers.unwritten() >= STREAM_OUTPUT {
                return Pumped::Full;
            }
            let out = buffers.output();
            match self.body.next() {
                Next::Chunk(chunk) => {
                    self.waiting = false;
                    match &mut self.framing {
                        Framing::Chunked => encode_chunk(&chunk, out),
                        Framing::Length { left } => {
                            if chunk.len() as u64 > *left {
                                return Pumped::Ended(Err(format!(
                                    "its producer sent more than the {} bytes it announced",
                                    self.sent + *left
                                )));
                            }
                            *left -= chunk.len() as u64;
                            out.extend_from_slice(&chunk);
                        }
                        Framing::UntilClose => out.extend_from_slice(&chunk),
                    }
                    self.sent += chunk.len() as u64;
                }
                Next::Wait => {
                    self.waiting = true;
                    return Pumped::Waiting;
                }
                Next::End(End::Finished) => {
                    return Pumped::Ended(match self.framing {
                        Framing::Chunked => {
                            out.extend_from_slice(LAST_CHUNK);
                            Ok(())
                        }
                        Framing::Length { left: 0 } | Framing::UntilClose => Ok(()),
                        Framing::Length { left } => Err(format!(
                            "its producer finished {left} bytes short of its length"
                        )),
                    })
                }
                Next::End(End::Failed(why)) => return Pumped::Ended(Err(why)),
            }
        }
    }

    /// Bytes of the body moved out so far.
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    /// Its access-log record, for an answer given up before it began.
    pub(crate) fn into_logged(self) -> Option<Logged> {
        self.logged
    }

    /// True if its producer may stay silent for long (server-sent events).
    pub(crate) fn is_long_lived(&self) -> bool {
        self.body.is_long_lived()
    }

    /// Whether there may be a chunk to take now (not known to be empty).
    pub(crate) fn may_have_more(&self) -> bool {
        !self.waiting
    }

    /// How the client learns where the body ends.
    pub(crate) fn framing(&self) -> Framing {
        self.framing
    }

    /// The body ended (`whole`, or not): its access-log record with the
    /// body bytes it carried, and where in the output they begin and how
    /// many there are (for `unwritten.rs`).
    pub(crate) fn into_record(self, whole: bool) -> Option<(Logged, u64, u64)> {
        let (sent, began, from) = (self.sent, self.began, self.body_from);
        self.logged
            .map(|logged| (logged.with_body(sent, began.elapsed(), whole), from, sent))
    }

    /// The server is draining: a long-lived body is told, so its producer
    /// can say its last words and finish.
    pub(crate) fn drain(&self) {
        self.body.drain();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{pipe, HIGH_WATER};

    #[test]
    fn a_pump_takes_no_more_than_the_output_bound_however_full_the_pipe() {
        let (mut tx, rx) = pipe(None);
        let chunk = vec![b'x'; 64 * 1024];
        // Fill the pipe to its high-water mark (the send that reaches it
        // does not block; the next would).
        let mut queued = 0;
        while queued < HIGH_WATER {
            tx.send(&chunk).unwrap();
            queued += chunk.len();
        }
        let mut outgoing = Outgoing::new(rx, Framing::Chunked, None);
        let mut out = Buffers::default();
        assert_eq!(outgoing.pump(&mut out), Pumped::Full);
        // The bound, plus the one chunk that crossed it and its framing.
        let unwritten = out.unwritten();
        assert!(unwritten < STREAM_OUTPUT + chunk.len() + 16, "{unwritten}");
        // Once written, the rest comes.
        out.wrote(out.unwritten());
        assert_eq!(outgoing.pump(&mut out), Pumped::Full);
        tx.finish().unwrap();
        out.wrote(out.unwritten());
        assert_eq!(outgoing.pump(&mut out), Pumped::Ended(Ok(())));
        assert!(out.to_write().ends_with(LAST_CHUNK));
    }
}
