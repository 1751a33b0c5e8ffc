//! Spares: the buffers an idle connection does not need, kept by the server
//! for the next busy one.
//!
//! A connection needs an input buffer, an output buffer, response-queue
//! storage and a request to decode into only while a request is in flight.
//! Ten thousand idle keep-alive connections holding all that would cost
//! megabytes for nothing. So a connection that falls idle *lends* its
//! buffers (emptied, capacity kept) to the server's `Spares`
//! (`Connection::lend_buffers`); when bytes arrive it *takes* a set back
//! (`Connection::take_buffers`). A busy keep-alive connection lends and
//! takes back once per request, cycling the same buffers, so steady traffic
//! still allocates nothing; an idle connection owns no buffer at all. nginx
//! does the same with its connection buffers.

use super::answers::After;
use super::queue::QueueStorage;
use super::Pending;
use crate::http::Request;

/// At most this many of each kind of buffer are kept; beyond, a lent
/// buffer is freed. Enough for a burst of that many connections turning busy
/// at once without allocating, small enough not to hoard memory after one.
const KEEP: usize = 256;

/// The server's stock of spare per-connection buffers.
#[derive(Default)]
pub struct Spares {
    /// Input and output buffers are kept apart: each settles at the size
    /// its role needs, and mixing them would make both regrow.
    inputs: Vec<Vec<u8>>,
    outputs: Vec<Vec<u8>>,
    queues: Vec<QueueStorage<Pending, After>>,
    /// Boxed as the decoder hands them out (see `http::Decoded`): the box
    /// is part of what is recycled, and unboxing here would cost an
    /// allocation each time one is lent back.
    #[allow(clippy::vec_box)]
    requests: Vec<Box<Request>>,
}

impl Spares {
    /// An empty input buffer, with capacity if one was lent.
    pub fn input(&mut self) -> Vec<u8> {
        self.inputs.pop().unwrap_or_default()
    }

    /// An empty output buffer, with capacity if one was lent.
    pub fn output(&mut self) -> Vec<u8> {
        self.outputs.pop().unwrap_or_default()
    }

    /// Keeps an emptied input buffer for later.
    pub fn keep_input(&mut self, buffer: Vec<u8>) {
        keep(&mut self.inputs, buffer);
    }

    /// Keeps an emptied output buffer for later.
    pub fn keep_output(&mut self, buffer: Vec<u8>) {
        keep(&mut self.outputs, buffer);
    }

    /// Storage for a response queue.
    pub fn queue(&mut self) -> QueueStorage<Pending, After> {
        self.queues.pop().unwrap_or_default()
    }

    /// Keeps emptied response-queue storage for later.
    pub fn keep_queue(&mut self, storage: QueueStorage<Pending, After>) {
        if storage.has_capacity() && self.queues.len() < KEEP {
            self.queues.push(storage);
        }
    }

    /// A request to decode into.
    pub fn request(&mut self) -> Option<Box<Request>> {
        self.requests.pop()
    }

    /// Keeps a finished request's buffers for later.
    pub fn keep_request(&mut self, request: Box<Request>) {
        if self.requests.len() < KEEP {
            self.requests.push(request);
        }
    }
}

/// Keeps `buffer`, emptied, unless it never grew or enough are kept already
/// (then it is freed).
fn keep(list: &mut Vec<Vec<u8>>, mut buffer: Vec<u8>) {
    buffer.clear();
    if buffer.capacity() > 0 && list.len() < KEEP {
        list.push(buffer);
    }
}
