//! A connection's deadline: which wait is bounded right now, the lazy timer
//! that stands for it in the reactor, and what happens when it passes.
//!
//! Part of the connection (`mod.rs`). Every drive ends with
//! `sync_deadline`, which picks the deadline the connection's state calls
//! for; when its timer fires, the server asks [`Connection::deadline_fired`]
//! what to do.

use std::time::{Duration, Instant};

use super::{Closing, Connection, Phase, Stream};
use crate::config::Config;
use crate::reactor::{Handler, Reactor, TimerKey};

/// A lingering connection (see `Connection::finish`) closes when the client
/// sends nothing for this long: it has read its answer and gone quiet, or
/// it is not going to close.
const LINGER_IDLE: Duration = Duration::from_secs(2);

/// However much keeps coming, a lingering connection closes this long after
/// its last answer. Long enough for an upload refused with 413 to finish
/// at a modest speed, so that a client that writes its whole body before
/// reading (Python's http.client does) reads the 413 instead of a reset:
/// the bytes dropped in that time are bounded by `LINGER_MAX_BYTES`. nginx's
/// `lingering_time` is 30 s too.
pub(super) const LINGER_TIME: Duration = Duration::from_secs(30);

/// Which wait a connection's deadline bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineKind {
    /// A request has started (or the connection is new) and must arrive in
    /// full: on expiry, 408 if bytes came, silent close if none did.
    Header,
    /// Keep-alive with nothing in flight: on expiry, close.
    Idle,
    /// Output is pending and the client is not taking it: on expiry (no
    /// write progress for the idle timeout), close.
    Write,
    /// The connection is lingering after its last answer: on expiry, close.
    Linger,
    /// The server is draining and nothing is in flight: on expiry, stop
    /// reading and close (gracefully, lingering).
    DrainGrace,
    /// A streamed body is going out and its producer has sent nothing new:
    /// on expiry (no byte for the idle timeout), close: a producer silent
    /// that long is stuck. A stream that sends is never cut by it, nor is
    /// one its producer marked long-lived (server-sent events, which come
    /// when something happens).
    StreamIdle,
}

impl DeadlineKind {
    /// The word `--trace` prints for it.
    pub fn name(self) -> &'static str {
        match self {
            DeadlineKind::Header => "header",
            DeadlineKind::Idle => "idle",
            DeadlineKind::Write => "write",
            DeadlineKind::Linger => "linger",
            DeadlineKind::DrainGrace => "drain grace",
            DeadlineKind::StreamIdle => "stream idle",
        }
    }
}

/// The deadline a connection's state calls for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    /// What it bounds.
    kind: DeadlineKind,
    /// Progress when it was set (requests decoded, or bytes written for the
    /// write deadline): progress sets a new deadline even if the kind is
    /// unchanged.
    progress: u64,
    /// When it passes.
    at: Instant,
}

/// What the server does after a connection's deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Nothing: the timer was replaced, or the deadline moved later (a new
    /// timer is armed for it).
    NotYet,
    /// Close the connection without a word: nothing of a request arrived,
    /// the client stopped reading, or the linger is over.
    Close,
    /// Drive it: the drain's grace ended, so it closes gracefully.
    Drive,
    /// A request did not arrive in time: answer 408
    /// (`Connection::time_out_request`), count it, then drive.
    TimedOut,
}

impl<S: Stream> Connection<S> {
    /// Sets the deadline this connection's state calls for:
    /// - lingering: the linger timeout;
    /// - output pending: the write-stall deadline, renewed on progress;
    /// - a streamed body waiting for its producer: the stream-idle
    ///   deadline, renewed on every byte (none for a long-lived one);
    /// - answers pending, or no further request: none (each job has its
    ///   own timeout);
    /// - between requests while the server drains: the end of the grace;
    /// - between requests: the idle deadline;
    /// - a request arriving, or none yet on a new connection: the header
    ///   deadline, set once per request (progress does not extend it, or a
    ///   slowloris client could trickle one byte at a time for ever). For a
    ///   connection's first request it counts from the connect.
    ///
    /// Lazy re-arming: a keep-alive connection pushes its idle deadline back
    /// after every request, and moving its timer in the tree each time would
    /// cost a removal, an insertion and often an allocation per request. So
    /// the armed timer is kept as long as it fires no *later* than the new
    /// deadline; when it fires early, [`deadline_fired`](Self::deadline_fired)
    /// finds the deadline not yet due and arms a timer for the real one.
    /// Only a deadline *earlier* than the armed timer replaces it. `what` is
    /// what the timer carries (the server's "connection 3.1's deadline").
    pub(super) fn sync_deadline<H: Handler>(
        &mut self,
        reactor: &mut Reactor<H>,
        what: H::Timer,
        config: &Config,
    ) {
        let wanted = match self.phase {
            // Each read that drops bytes is progress: the idle bound
            // starts again, never past the end of the linger.
            Phase::Lingering { discarded, .. } => Some((DeadlineKind::Linger, discarded as u64)),
            _ if self.has_output() => Some((DeadlineKind::Write, self.bytes_written)),
            _ if self.streaming.is_some() => {
                self.streaming.as_ref().and_then(|o| {
                    // A long-lived body (events) waits as long as its
                    // producer lives; the drain's timeout still ends it.
                    (!o.is_long_lived()).then(|| (DeadlineKind::StreamIdle, o.sent()))
                })
            }
            _ if !self.queue.is_empty() || !self.reads_requests() => None,
            Phase::Draining { .. } if self.between_requests() => {
                Some((DeadlineKind::DrainGrace, 0))
            }
            _ if self.between_requests() && self.requests_seen > 0 => {
                Some((DeadlineKind::Idle, self.requests_seen))
            }
            _ => Some((DeadlineKind::Header, self.requests_seen)),
        };
        if self.deadline.map(|d| (d.kind, d.progress)) == wanted {
            return;
        }
        let now = Instant::now();
        self.deadline = wanted.map(|(kind, progress)| {
            let at = match (kind, self.phase) {
                (DeadlineKind::Header, _) => now + config.header_timeout,
                (DeadlineKind::Idle | DeadlineKind::Write | DeadlineKind::StreamIdle, _) => {
                    now + config.idle_timeout
                }
                (DeadlineKind::Linger, Phase::Lingering { ends, .. }) => {
                    (now + LINGER_IDLE).min(ends)
                }
                (DeadlineKind::Linger, _) => now,
                (DeadlineKind::DrainGrace, Phase::Draining { grace_ends }) => grace_ends,
                (DeadlineKind::DrainGrace, _) => now,
            };
            Deadline { kind, progress, at }
        });
        // With no deadline wanted, an armed timer is left to fire into
        // nothing: cheaper than cancelling it now and arming again soon.
        let Some(deadline) = self.deadline else {
            return;
        };
        if self.timer.is_some_and(|timer| timer.at() <= deadline.at) {
            return;
        }
        if let Some(timer) = self.timer.take() {
            reactor.cancel(timer);
        }
        self.timer = Some(reactor.call_at(deadline.at, what));
    }

    /// The deadline this connection is under, if any, and when it passes
    /// (for the trace).
    pub fn deadline(&self) -> Option<(DeadlineKind, Instant)> {
        self.deadline.map(|d| (d.kind, d.at))
    }

    /// This connection's timer `key` fired at `now`: act on the deadline if
    /// it has passed (see [`Expiry`]). If the deadline moved later since the
    /// timer was armed, a timer carrying `what` is armed for it instead.
    pub fn deadline_fired<H: Handler>(
        &mut self,
        reactor: &mut Reactor<H>,
        key: TimerKey,
        now: Instant,
        what: H::Timer,
    ) -> Expiry {
        if self.timer != Some(key) {
            return Expiry::NotYet; // a timer replaced earlier
        }
        self.timer = None;
        let Some(deadline) = self.deadline else {
            return Expiry::NotYet;
        };
        if deadline.at > now {
            self.timer = Some(reactor.call_at(deadline.at, what));
            return Expiry::NotYet;
        }
        self.deadline = None;
        match deadline.kind {
            DeadlineKind::Idle
            | DeadlineKind::Write
            | DeadlineKind::Linger
            | DeadlineKind::StreamIdle => Expiry::Close,
            DeadlineKind::Header if self.between_requests() => Expiry::Close,
            // A drain's grace passed with nothing asked: close, lingering
            // if the client may have sent something at the last moment.
            DeadlineKind::DrainGrace => {
                self.stop_reading(Closing::GraceOver);
                Expiry::Drive
            }
            // Part of a request arrived and then stalled (slowloris): 408.
            DeadlineKind::Header => Expiry::TimedOut,
        }
    }
}
