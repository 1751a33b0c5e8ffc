//! Shutdown's state: whether the server drains, since when, and how the
//! loop ended.
//!
//! SIGINT/SIGTERM arrive through the reactor's self-pipe
//! (`reactor/signals.rs` explains the trick); the first starts a drain, a
//! second ends the loop at once. `ServerHandle::shutdown` starts the same
//! drain from code. The drain (`HttpServer::begin_shutdown` in `http.rs`)
//! stops accepting, lets every in-flight request finish and flush, and ends
//! when the last connection closes or `--shutdown-timeout` passes.
//!
//! A drain loses no request that reached the server: connections waiting in
//! the accept backlog are accepted before the listener closes (closing it
//! would reset them); every request already sent is read and answered, the
//! last with `Connection: close`; and a keep-alive connection with nothing
//! in flight is given `--drain-grace` for a request already on its way
//! before it is closed — by half-closing and lingering, never with unread
//! bytes in the socket (`Connection::begin_drain`).

use std::time::Instant;

/// How `Server::run` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A signal (or `ServerHandle::shutdown`) asked to stop, and every
    /// in-flight request was answered and flushed.
    Drained,
    /// The shutdown timeout passed with this many connections still busy;
    /// their jobs were cancelled.
    ShutdownTimedOut {
        /// Connections abandoned.
        abandoned: usize,
    },
    /// A second signal arrived during the drain: stopped at once.
    SecondSignal,
}

/// Where the server is in its shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drain {
    /// Serving; no stop asked.
    Serving,
    /// Draining since then.
    Draining(Instant),
    /// The loop was told to stop, and why.
    Stopped(Exit),
}

/// What signals mean now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signalled {
    /// The first: drain.
    Drain,
    /// A second (or two at once): stop now.
    StopNow,
}

impl Drain {
    /// `count` signals arrived.
    pub(crate) fn signalled(self, count: usize) -> Signalled {
        match self {
            Drain::Serving if count == 1 => Signalled::Drain,
            _ => Signalled::StopNow,
        }
    }

    /// Begins the drain at `now`; false if it had begun (or the loop
    /// stopped) already.
    pub(crate) fn begin(&mut self, now: Instant) -> bool {
        if *self != Drain::Serving {
            return false;
        }
        *self = Drain::Draining(now);
        true
    }

    /// True once a drain began (and after the stop).
    pub(crate) fn is_draining(self) -> bool {
        self != Drain::Serving
    }

    /// Records how the loop ends; the first reason stays.
    pub(crate) fn stop(&mut self, exit: Exit) {
        if !matches!(self, Drain::Stopped(_)) {
            *self = Drain::Stopped(exit);
        }
    }

    /// How the loop ended, once it has.
    pub(crate) fn exit(self) -> Option<Exit> {
        match self {
            Drain::Stopped(exit) => Some(exit),
            _ => None,
        }
    }
}
