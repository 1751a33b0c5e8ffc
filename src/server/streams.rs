//! Streamed answers, as the server sees them: each streamed body is given
//! a way back into the loop, and its counters.
//!
//! A connection that finds its stream's pipe empty waits; the producer's
//! next `send` (or its end) then fires the pipe's waker — built here — which
//! queues [`HttpServer::stream_woke`] with `LoopHandle::add_callback`, the
//! same road a finished job takes (`jobs.rs`). The waker fires at most once
//! per wait, so a stream has at most one callback in the loop's queue,
//! however fast its producer sends.

use std::fmt::Write as _;
use std::sync::Arc;

use super::http::HttpServer;
use super::respond::Responder;
use super::ConnId;
use crate::reactor::Reactor;
use crate::stream::StreamBody;

/// Gives `body`, about to be placed on connection `conn`, its waker and the
/// server's stream counters.
pub(super) fn attach(body: &StreamBody, responder: &Responder, conn: ConnId) {
    let handle = responder.loop_handle.clone();
    let waker = Arc::new(move || {
        // A closed loop has no connection left to write to.
        let _ = handle.add_callback(move |http, reactor| http.stream_woke(reactor, conn));
    });
    body.attach(waker, Arc::clone(&responder.metrics.streams));
}

impl HttpServer {
    /// **A streamed body's bytes re-enter the loop here**: its producer
    /// sent (or ended) while the connection waited. Drive the connection:
    /// it takes what the pipe holds and writes it.
    pub(crate) fn stream_woke(&mut self, reactor: &mut Reactor<HttpServer>, conn: ConnId) {
        reactor.trace(|t| {
            let _ = writeln!(t, "  callback: conn {conn}'s stream has bytes");
        });
        self.drive(reactor, conn);
    }
}
