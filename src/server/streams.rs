//! Streamed answers, as the server sees them: each streamed body is given
//! a way back into the loop, and the server's stream counters.
//!
//! A connection that finds its stream's pipe empty waits; the producer's
//! next `send` (or its end) then fires the pipe's waker — built here —
//! which sends the loop `Message::StreamReady` (`http.rs`) with
//! `LoopHandle::send`, the same door a finished job comes through
//! (`jobs.rs`). The waker fires at most once per wait, so a stream has at
//! most one message in the loop's queue, however fast its producer sends.

use std::sync::Arc;

use super::ConnId;
use crate::metrics::Metrics;
use crate::stream::{StreamBody, StreamStats};

/// What every streamed body placed on a connection is given.
pub(crate) struct Streams {
    /// Sends the loop "connection `id`'s stream has bytes".
    wake: Arc<dyn Fn(ConnId) + Send + Sync>,
    /// The server's stream counters (`/metrics`).
    stats: Arc<StreamStats>,
    /// The same for WebSocket senders' pipes (`/metrics` shows their
    /// wait), kept apart so that sockets are not counted as streamed
    /// bodies.
    #[cfg(feature = "websocket")]
    senders: Arc<StreamStats>,
}

impl Streams {
    /// Wakers that call `wake`, counting into `metrics`.
    pub(crate) fn new(wake: Arc<dyn Fn(ConnId) + Send + Sync>, metrics: &Metrics) -> Streams {
        Streams {
            wake,
            stats: Arc::clone(&metrics.streams),
            #[cfg(feature = "websocket")]
            senders: Arc::clone(&metrics.senders),
        }
    }

    /// Gives `body`, about to be placed on connection `conn`, its waker and
    /// the counters.
    pub(crate) fn attach(&self, body: &StreamBody, conn: ConnId) {
        let wake = Arc::clone(&self.wake);
        let waker = Arc::new(move || wake(conn));
        body.attach(waker, Arc::clone(&self.stats));
    }

    /// Gives a WebSocket's senders' pipe, on connection `conn`, its waker.
    #[cfg(feature = "websocket")]
    pub(crate) fn attach_socket(&self, pipe: &StreamBody, conn: ConnId) {
        let wake = Arc::clone(&self.wake);
        let waker = Arc::new(move || wake(conn));
        pipe.attach(waker, Arc::clone(&self.senders));
    }
}
