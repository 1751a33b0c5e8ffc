//! Spares: what an idle connection does not need, kept by the server for
//! the next busy one.
//!
//! A connection needs an input buffer, an output buffer, response-queue
//! storage and a request to decode into only while a request is in flight.
//! Ten thousand idle keep-alive connections holding all that would cost
//! megabytes for nothing. So a connection that falls idle *lends* them
//! (emptied, capacity kept) to the server's `Spares`, and *takes* a set
//! back when bytes arrive (`Connection::drive` does both). The transport's
//! two buffers are kept in [`SpareBuffers`] (the transport's own type, as
//! the buffers are its); the protocol's storage here.

use super::line::{After, Pending};
use super::queue::QueueStorage;
use crate::http::Request;
use crate::transport::{SpareBuffers, KEEP};

/// The server's stock of spare per-connection storage.
#[derive(Default)]
pub(crate) struct Spares {
    buffers: SpareBuffers,
    queues: Vec<QueueStorage<Pending, After>>,
    /// Boxed as the decoder hands them out (see `http::Decoded`): the box
    /// is part of what is recycled, and unboxing here would cost an
    /// allocation each time one is lent back.
    #[allow(clippy::vec_box)]
    requests: Vec<Box<Request>>,
}

impl Spares {
    /// The transport buffers kept spare.
    pub(crate) fn buffers(&mut self) -> &mut SpareBuffers {
        &mut self.buffers
    }

    /// Storage for a response queue.
    pub(crate) fn queue(&mut self) -> QueueStorage<Pending, After> {
        self.queues.pop().unwrap_or_default()
    }

    /// Keeps emptied response-queue storage for later.
    pub(crate) fn keep_queue(&mut self, storage: QueueStorage<Pending, After>) {
        if storage.has_capacity() && self.queues.len() < KEEP {
            self.queues.push(storage);
        }
    }

    /// A request to decode into.
    pub(crate) fn request(&mut self) -> Option<Box<Request>> {
        self.requests.pop()
    }

    /// Keeps a finished request's buffers for later.
    pub(crate) fn keep_request(&mut self, request: Box<Request>) {
        if self.requests.len() < KEEP {
            self.requests.push(request);
        }
    }
}
