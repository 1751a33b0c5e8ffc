//! The HTTP/1.1 protocol's phase, and every change to it: the only file
//! that writes one.
//!
//! ```text
//!  Serving ──drain──▶ Draining ──grace over / goodbye──┐
//!     │                  │                             ▼
//!     ├─ close asked, error, 408, client's FIN ──▶ Closing(why) ──last answer out──▶ (transport: FIN, linger, closed)
//!     └─ 101 answered ──▶ Switching ──101 out──▶ (the new protocol takes the bytes)
//! ```
//!
//! The transport's own life (open, lingering, closed) is `transport::Life`,
//! written in the transport's file: the protocol decides *when* to end, the
//! transport how.

use std::time::Instant;

/// Where the HTTP/1.1 protocol is on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Reading requests and answering them.
    Serving,
    /// The server is draining: requests that arrive are still answered,
    /// the last with `Connection: close`, and with nothing in flight the
    /// connection waits until `grace_ends` for one.
    Draining {
        /// When an idle connection stops waiting.
        grace_ends: Instant,
    },
    /// No further request will be decoded; the answers owed still go out.
    Closing(Closing),
    /// A `101 Switching Protocols` was answered: no request is decoded
    /// after it, and once it is written the new protocol takes over the
    /// transport, with every byte that followed the request's head.
    Switching,
}

/// Why a connection stopped reading requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closing {
    /// The client asked (`Connection: close`, HTTP/1.0), or the framing is
    /// one an intermediary could read differently (see `http/head.rs`).
    Asked,
    /// The bytes were not an acceptable request: an error answer is queued.
    Refused,
    /// A request did not arrive in time: 408 is queued.
    TimedOut,
    /// The server is draining and this answer was the last.
    Goodbye,
    /// The server is draining and the grace passed with nothing asked.
    GraceOver,
    /// The client sent its FIN: it will send nothing more.
    PeerFinished,
    /// A streamed body failed: the close tells the client it is incomplete.
    StreamFailed,
}

impl Phase {
    /// True while requests are read and decoded.
    pub(crate) fn reads_requests(self) -> bool {
        matches!(self, Phase::Serving | Phase::Draining { .. })
    }

    /// True while the server drains.
    pub(crate) fn is_draining(self) -> bool {
        matches!(self, Phase::Draining { .. })
    }

    /// Stops reading requests, for `why`; a phase that stopped already
    /// keeps its first reason.
    pub(crate) fn stop_reading(&mut self, why: Closing) {
        if self.reads_requests() {
            *self = Phase::Closing(why);
        }
    }

    /// The server began draining: an idle connection waits until
    /// `grace_ends` for a request, then closes.
    pub(crate) fn begin_drain(&mut self, grace_ends: Instant) {
        if *self == Phase::Serving {
            *self = Phase::Draining { grace_ends };
        }
    }

    /// A `101` was answered: the request after it belongs to another
    /// protocol.
    pub(crate) fn switch(&mut self) {
        if self.reads_requests() {
            *self = Phase::Switching;
        }
    }
}
