//! A connection's deadline: which wait is bounded right now, and when it
//! passes.
//!
//! The protocol says which wait its state calls for (`Http1::wanted`); the
//! connection turns that into a [`Deadline`] here after every drive; the
//! server arms a timer for it (the connection never touches the loop) and,
//! when that fires, asks the connection what the passing means
//! ([`Expiry`]).

use std::time::{Duration, Instant};

use crate::config::Config;

/// A lingering connection (see `Connection::finish`) closes when the client
/// sends nothing for this long: it has read its answer and gone quiet, or
/// it is not going to close.
pub(crate) const LINGER_IDLE: Duration = Duration::from_secs(2);

/// However much keeps coming, a lingering connection closes this long after
/// its last answer. Long enough for an upload refused with 413 to finish
/// at a modest speed, so that a client that writes its whole body before
/// reading (Python's http.client does) reads the 413 instead of a reset:
/// the bytes dropped in that time are bounded by the transport's
/// `LINGER_MAX_BYTES`. nginx's `lingering_time` is 30 s too.
pub(crate) const LINGER_TIME: Duration = Duration::from_secs(30);

/// Which wait a connection's deadline bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeadlineKind {
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
    /// An upgraded protocol's own time (`Upgraded::wake_at`: a WebSocket
    /// ping due, a reply awaited): on expiry, drive it — it reads the time.
    Protocol,
}

impl DeadlineKind {
    /// The word `--trace` prints for it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            DeadlineKind::Header => "header",
            DeadlineKind::Idle => "idle",
            DeadlineKind::Write => "write",
            DeadlineKind::Linger => "linger",
            DeadlineKind::DrainGrace => "drain grace",
            DeadlineKind::StreamIdle => "stream idle",
            DeadlineKind::Protocol => "protocol",
        }
    }
}

/// The wait a connection's state calls for: its kind, the progress it is
/// measured against (a new deadline is set when progress is made, even if
/// the kind is unchanged), and for the linger and the drain's grace the
/// time that ends them however things go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub(crate) kind: DeadlineKind,
    pub(crate) progress: u64,
    pub(crate) ends: Option<Instant>,
}

/// The deadline a connection is under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    kind: DeadlineKind,
    progress: u64,
    at: Instant,
}

impl Deadline {
    /// The deadline that follows `current` when the state calls for
    /// `wanted`: unchanged if the same wait made no progress (the
    /// header deadline is set once per request: progress within a request
    /// does not extend it, or a slowloris client could trickle one byte at
    /// a time for ever), else a new one from the configured timeouts.
    pub(crate) fn follow(
        current: Option<Deadline>,
        wanted: Option<Wanted>,
        config: &Config,
    ) -> Option<Deadline> {
        let wanted = wanted?;
        if let Some(current) = current {
            // The drain's grace and a protocol's time end *at* `ends`, so
            // a new `ends` is a new deadline (a WebSocket's next ping); the
            // linger's never moves. Compared with `at` rather than kept a
            // second time: every connection carries a `Deadline`, and 16
            // bytes each was +2.8% for an idle one (docs/performance.md).
            let same_end = match wanted.kind {
                DeadlineKind::DrainGrace | DeadlineKind::Protocol => {
                    wanted.ends.is_none_or(|ends| ends == current.at)
                }
                _ => true,
            };
            if (current.kind, current.progress) == (wanted.kind, wanted.progress) && same_end {
                return Some(current);
            }
        }
        let now = Instant::now();
        let at = match wanted.kind {
            DeadlineKind::Header => now + config.header_timeout,
            DeadlineKind::Idle | DeadlineKind::Write | DeadlineKind::StreamIdle => {
                now + config.idle_timeout
            }
            DeadlineKind::Linger => wanted
                .ends
                .map_or(now, |ends| (now + LINGER_IDLE).min(ends)),
            DeadlineKind::DrainGrace | DeadlineKind::Protocol => wanted.ends.unwrap_or(now),
        };
        Some(Deadline {
            kind: wanted.kind,
            progress: wanted.progress,
            at,
        })
    }

    /// What it bounds.
    pub(crate) fn kind(&self) -> DeadlineKind {
        self.kind
    }

    /// When it passes.
    pub(crate) fn at(&self) -> Instant {
        self.at
    }
}

/// What the server does after a connection's deadline timer fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Nothing yet: the deadline moved later (the server arms a timer for
    /// the new one), or there is none.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(kind: DeadlineKind, progress: u64, ends: Option<Instant>) -> Option<Wanted> {
        Some(Wanted {
            kind,
            progress,
            ends,
        })
    }

    /// A protocol's time is its deadline: when it moves (a WebSocket heard
    /// from, its next ping later), the deadline moves with it; asked again
    /// for the same time, it stays. (Kept, the timer would fire at the old
    /// time, and the protocol find nothing due: `tests/websocket.rs` took
    /// four times as long with that broken, and passed.)
    #[test]
    fn a_protocols_new_time_is_a_new_deadline_and_the_same_time_the_same() {
        let config = Config::default();
        let ping = Instant::now() + Duration::from_secs(30);
        let first = Deadline::follow(None, wanted(DeadlineKind::Protocol, 0, Some(ping)), &config);
        assert_eq!(first.map(|d| d.at()), Some(ping));
        let later = ping + Duration::from_secs(5);
        let moved = Deadline::follow(
            first,
            wanted(DeadlineKind::Protocol, 0, Some(later)),
            &config,
        );
        assert_eq!(moved.map(|d| d.at()), Some(later));
        let again = Deadline::follow(
            moved,
            wanted(DeadlineKind::Protocol, 0, Some(later)),
            &config,
        );
        assert_eq!(again.map(|d| d.at()), Some(later));
    }

    /// The linger's idle bound starts again with progress (bytes dropped),
    /// never past the linger's end, and not without progress.
    #[test]
    fn the_linger_restarts_only_with_progress_and_never_past_its_end() {
        let config = Config::default();
        let ends = Instant::now() + LINGER_IDLE / 2;
        let first = Deadline::follow(None, wanted(DeadlineKind::Linger, 0, Some(ends)), &config);
        assert_eq!(first.map(|d| d.at()), Some(ends), "capped at the end");
        let far = Instant::now() + 10 * LINGER_IDLE;
        let idle = Deadline::follow(None, wanted(DeadlineKind::Linger, 0, Some(far)), &config);
        let same = Deadline::follow(idle, wanted(DeadlineKind::Linger, 0, Some(far)), &config);
        assert_eq!(
            same.map(|d| d.at()),
            idle.map(|d| d.at()),
            "no progress, no new bound"
        );
        assert!(idle.unwrap().at() < far);
    }
}
