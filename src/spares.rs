//! Spares: the buffers an idle connection does not need, kept by the loop
//! for the next busy one.
//!
//! A connection needs an input buffer, an output buffer, a response-slot
//! queue and a request to decode into only while a request is in flight.
//! Ten thousand idle keep-alive connections holding all that would cost
//! megabytes for nothing. So a connection that falls idle *parks*: it hands
//! its buffers (emptied, capacity kept) to the loop's `Spares`; when bytes
//! arrive it *unparks* and takes a set back. A busy keep-alive connection
//! parks and unparks once per request, cycling the same buffers, so steady
//! traffic still allocates nothing; an idle connection owns no buffer at all.
//! nginx does the same with its connection buffers.

use crate::http::Request;
use crate::response_queue::SlotStorage;

/// At most this many of each kind of buffer are kept; beyond, a parked
/// buffer is freed. Enough for a burst of that many connections turning busy
/// at once without allocating, small enough not to hoard memory after one.
const KEEP: usize = 256;

/// The loop's pool of spare per-connection buffers.
#[derive(Default)]
pub struct Spares {
    /// Input and output buffers are kept apart: each settles at the size
    /// its role needs, and mixing them would make both regrow.
    inputs: Vec<Vec<u8>>,
    outputs: Vec<Vec<u8>>,
    slots: Vec<SlotStorage>,
    requests: Vec<Request>,
}

impl Spares {
    /// An empty input buffer, with capacity if one was parked.
    pub fn input(&mut self) -> Vec<u8> {
        self.inputs.pop().unwrap_or_default()
    }

    /// An empty output buffer, with capacity if one was parked.
    pub fn output(&mut self) -> Vec<u8> {
        self.outputs.pop().unwrap_or_default()
    }

    /// Keeps an emptied input buffer for later.
    pub fn park_input(&mut self, buffer: Vec<u8>) {
        keep(&mut self.inputs, buffer);
    }

    /// Keeps an emptied output buffer for later.
    pub fn park_output(&mut self, buffer: Vec<u8>) {
        keep(&mut self.outputs, buffer);
    }

    /// Storage for a response-slot queue.
    pub fn slots(&mut self) -> SlotStorage {
        self.slots.pop().unwrap_or_default()
    }

    /// Keeps emptied slot-queue storage for later.
    pub fn park_slots(&mut self, storage: SlotStorage) {
        if storage.has_capacity() && self.slots.len() < KEEP {
            self.slots.push(storage);
        }
    }

    /// A request to decode into.
    pub fn request(&mut self) -> Option<Request> {
        self.requests.pop()
    }

    /// Keeps a finished request's buffers for later.
    pub fn park_request(&mut self, request: Request) {
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
