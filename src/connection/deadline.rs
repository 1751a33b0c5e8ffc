//! A connection's deadline: which wait is bounded right now, and the lazy
//! timer that stands for it in the loop's `Timers`.
//!
//! Part of the connection (`connection.rs`). Every drive ends with
//! [`sync_deadline`](Connection::sync_deadline), which picks the deadline
//! the connection's state calls for; when its timer fires, the loop asks
//! [`on_timer`](Connection::on_timer) whether the deadline has really passed.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use super::Connection;
use crate::config::Config;
use crate::conn_table::ConnId;
use crate::event_loop::TimerEvent;
use crate::timers::{TimerKey, Timers};

/// How long a closing connection keeps reading (and discarding) after its
/// last answer. See `Connection::linger`.
const LINGER_TIMEOUT: Duration = Duration::from_secs(2);

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

impl<S: Read + Write> Connection<S> {
    /// Sets the deadline this connection's state calls for:
    /// - lingering: the linger timeout;
    /// - output pending: the write-stall deadline, renewed on progress;
    /// - answers pending: none (each job has its own timeout);
    /// - between requests while the server drains: the end of the grace;
    /// - between requests: the idle deadline;
    /// - a request arriving, or none yet on a new connection: the header
    ///   deadline, set once per request (progress does not extend it, or a
    ///   slowloris client could trickle one byte at a time for ever).
    ///
    /// Lazy re-arming: a keep-alive connection pushes its idle deadline back
    /// after every request, and moving its timer in the tree each time would
    /// cost a removal, an insertion and often an allocation per request. So
    /// the armed timer is kept as long as it fires no *later* than the new
    /// deadline; when it fires early, [`on_timer`](Self::on_timer) finds the
    /// deadline not yet due and arms a timer for the real one. Only a
    /// deadline *earlier* than the armed timer replaces it.
    pub fn sync_deadline(&mut self, timers: &mut Timers<TimerEvent>, id: ConnId, config: &Config) {
        let wanted = if self.lingering.is_some() {
            Some((DeadlineKind::Linger, 0))
        } else if self.pending_output() > 0 {
            Some((DeadlineKind::Write, self.bytes_written))
        } else if !self.queue.is_empty() || !self.reading {
            None
        } else if self.between_requests() && self.drain_grace_end.is_some() {
            Some((DeadlineKind::DrainGrace, 0))
        } else if self.between_requests() && self.requests_seen > 0 {
            Some((DeadlineKind::Idle, self.requests_seen))
        } else {
            Some((DeadlineKind::Header, self.requests_seen))
        };
        if self.deadline.map(|d| (d.kind, d.progress)) == wanted {
            return;
        }
        let now = Instant::now();
        self.deadline = wanted.map(|(kind, progress)| {
            let at = match kind {
                DeadlineKind::Header => now + config.header_timeout,
                DeadlineKind::Idle | DeadlineKind::Write => now + config.idle_timeout,
                DeadlineKind::Linger => now + LINGER_TIMEOUT,
                DeadlineKind::DrainGrace => self.drain_grace_end.unwrap_or(now),
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
            timers.cancel(timer);
        }
        self.timer = Some(timers.insert(deadline.at, TimerEvent::Deadline(id)));
    }

    /// This connection's timer `key` fired at `now`. Returns the deadline
    /// that has passed, if one has; if the deadline moved later since the
    /// timer was armed, arms a timer for it instead and returns `None`.
    pub fn on_timer(
        &mut self,
        key: TimerKey,
        now: Instant,
        timers: &mut Timers<TimerEvent>,
        id: ConnId,
    ) -> Option<DeadlineKind> {
        if self.timer != Some(key) {
            return None; // A timer replaced earlier; nothing to do.
        }
        self.timer = None;
        let deadline = self.deadline?;
        if deadline.at > now {
            self.timer = Some(timers.insert(deadline.at, TimerEvent::Deadline(id)));
            return None;
        }
        self.deadline = None;
        Some(deadline.kind)
    }
}
