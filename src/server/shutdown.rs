//! Shutdown: SIGINT/SIGTERM in, a graceful drain, and the teardown.
//!
//! Part of the server. The signals arrive through the reactor's self-pipe
//! (`reactor/signals.rs` explains the trick); the first starts a drain, a
//! second ends the loop at once. [`ServerHandle::shutdown`](super::ServerHandle)
//! starts the same drain from code. The drain stops accepting, lets every
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

use std::fmt::Write as _;
use std::time::Instant;

use super::http::HttpServer;
use super::{Exit, ServerTimer};
use crate::log::ServerEvent;
use crate::reactor::Reactor;

impl HttpServer {
    /// SIGINT/SIGTERM arrived (`count` of them at once).
    pub(super) fn on_signals(&mut self, reactor: &mut Reactor<HttpServer>, count: usize) {
        reactor.trace(|t| {
            let _ = writeln!(t, "  signals: {count}");
        });
        if self.draining_since.is_some() || count > 1 {
            self.event(ServerEvent::SecondSignal);
            self.stop(reactor, Exit::SecondSignal);
            return;
        }
        self.begin_shutdown(reactor);
    }

    /// Starts a graceful shutdown: accept what waits in the backlog, stop
    /// accepting, let in-flight requests finish and flush, give idle
    /// connections their grace, and stop when none is left or the shutdown
    /// timeout passes.
    pub(crate) fn begin_shutdown(&mut self, reactor: &mut Reactor<HttpServer>) {
        if self.draining_since.is_some() {
            return;
        }
        let now = Instant::now();
        self.draining_since = Some(now);
        // Connections in the backlog would be reset with the listener:
        // their clients connected before the drain, so serve them too.
        self.accept_up_to(reactor, usize::MAX);
        self.acceptor.close(reactor);
        self.event(ServerEvent::Draining {
            connections: self.conns.len(),
            timeout: self.config.shutdown_timeout,
        });
        reactor.call_at(
            now + self.config.shutdown_timeout,
            ServerTimer::ShutdownDeadline,
        );
        let grace_ends = now + self.config.drain_grace.min(self.config.shutdown_timeout);
        // Busy connections close after their last answer, idle ones after
        // the grace.
        for id in self.conns.ids() {
            if let Some(conn) = self.conns.get_mut(id) {
                conn.begin_drain(grace_ends);
            }
            self.drive(reactor, id);
        }
        self.stop_if_drained(reactor);
    }

    /// While draining: once no connection is left, stop the loop.
    pub(super) fn stop_if_drained(&mut self, reactor: &mut Reactor<HttpServer>) {
        if self.draining_since.is_some() && self.conns.is_empty() && self.exit.is_none() {
            self.stop(reactor, Exit::Drained);
        }
    }

    /// The shutdown timeout passed with connections still busy.
    pub(super) fn shutdown_timed_out(&mut self, reactor: &mut Reactor<HttpServer>) {
        let abandoned = self.conns.len();
        self.event(ServerEvent::ShutdownTimedOut { abandoned });
        self.stop(reactor, Exit::ShutdownTimedOut { abandoned });
    }

    fn stop(&mut self, reactor: &mut Reactor<HttpServer>, exit: Exit) {
        self.exit.get_or_insert(exit);
        reactor.stop();
    }

    /// Tears down after the loop stops, and says how it ended.
    pub(super) fn finish(&mut self, reactor: &mut Reactor<HttpServer>) -> Exit {
        for id in self.conns.ids() {
            self.close(reactor, id);
        }
        let exit = self.exit.unwrap_or(Exit::Drained);
        if let Some(pool) = self.responder.jobs.take_pool() {
            match exit {
                // Every job was answered, so every worker is idle: joining
                // is quick and leaves no thread behind.
                Exit::Drained => pool.join(),
                // Jobs were cancelled but may not look at their token;
                // waiting for them would break the shutdown bound. Detach
                // instead.
                Exit::ShutdownTimedOut { .. } | Exit::SecondSignal => drop(pool),
            }
        }
        exit
    }
}
