//! Shutdown: SIGINT/SIGTERM in, a graceful drain, and the teardown.
//!
//! Part of the event loop. The signals arrive as a readable pipe
//! (`signals.rs` explains the self-pipe trick); the first starts a drain,
//! a second ends the loop at once. The drain stops accepting, lets every
//! in-flight request finish and flush, and ends when the last connection
//! closes or `--shutdown-timeout` passes.
//!
//! A drain loses no request that reached the server: connections waiting in
//! the accept backlog are accepted before the listener closes (closing it
//! would reset them); every request already sent is read and answered, the
//! last with `Connection: close`; and a keep-alive connection with nothing
//! in flight is given `--drain-grace` for a request already on its way
//! before it is closed — by half-closing and lingering, never with unread
//! bytes in the socket (`Connection::begin_drain`).

use std::io::{self, Write};
use std::time::Instant;

use super::{EventLoop, Exit, TimerEvent};
use crate::signals::SignalPipe;

impl EventLoop {
    /// SIGINT/SIGTERM arrived through the self-pipe.
    pub(super) fn on_signals(&mut self) {
        let received = self.signals.as_mut().map_or(0, SignalPipe::drain);
        if received == 0 {
            return;
        }
        if self.draining || received > 1 {
            let _ = writeln!(io::stderr(), "eddy: second signal, exiting now");
            self.exit = Some(Exit::SecondSignal);
            return;
        }
        self.begin_shutdown();
    }

    /// Starts a graceful shutdown: stop accepting, let in-flight requests
    /// finish and flush, close idle connections, and stop when none is left
    /// or the shutdown timeout passes. Call it from another thread with
    /// `handle.add_callback(|lp| lp.begin_shutdown())`.
    pub fn begin_shutdown(&mut self) {
        if self.draining {
            return;
        }
        self.draining = true;
        // Connections in the backlog would be reset with the listener:
        // their clients connected before the drain, so serve them too.
        self.accept_up_to(usize::MAX);
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
        }
        // Nothing is left to accept (see `accept_up_to`).
        self.accept_ready = false;
        let _ = writeln!(
            io::stderr(),
            "eddy: draining {} connection(s), at most {:?}",
            self.conns.len(),
            self.config.shutdown_timeout
        );
        let now = Instant::now();
        let deadline = now + self.config.shutdown_timeout;
        self.timers.insert(deadline, TimerEvent::ShutdownDeadline);
        let grace_end = now + self.config.drain_grace.min(self.config.shutdown_timeout);
        // Busy connections close after their last answer, idle ones after
        // the grace.
        for id in self.conns.ids() {
            if let Some(conn) = self.conns.get_mut(id) {
                conn.begin_drain(grace_end);
            }
            self.drive(id);
        }
    }

    /// Tears down after the loop stops.
    pub(super) fn finish(mut self, exit: Exit) -> Exit {
        for id in self.conns.ids() {
            self.close(id);
        }
        let pool = self.pool.take().expect("pool lives while the loop runs");
        match exit {
            // Every job was answered, so every worker is idle: joining is
            // quick and leaves no thread behind.
            Exit::Drained => pool.join(),
            // Jobs were cancelled but may not look at their token; waiting
            // for them would break the shutdown bound. Detach instead.
            Exit::ShutdownTimedOut { .. } | Exit::SecondSignal => drop(pool),
        }
        exit
    }
}
