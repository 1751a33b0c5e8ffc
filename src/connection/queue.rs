//! The response queue: pipelined answers leave in request order.
//!
//! HTTP/1.1 has no request ids on the wire; the only way a client matches
//! responses to pipelined requests is their order. But eddy answers
//! `/fast` at once while `/slow_threaded` before it is still on a worker, so
//! answers are *produced* out of order. Each connection therefore keeps a
//! queue with one place per request, in arrival order:
//!
//! - decoding a request [`reserve`](ResponseQueue::reserve)s a place at the
//!   back and gets its sequence number;
//! - an answer, whenever it comes, [`fill`](ResponseQueue::fill)s its place;
//! - only answered places at the *front* are
//!   [`pop_encoded`](ResponseQueue::pop_encoded) into the output buffer.
//!
//! tiny_http's `SequentialWriter` does the same with a chain of locks; with
//! one loop thread, a `VecDeque` and sequence numbers suffice. Interim
//! responses (`100 Continue`) and error responses are pushed as places
//! answered from birth, so they too leave in order.
//!
//! The queue does not know what a pending place remembers about its request
//! (`P`, the connection's `Pending`) or what an answer's access-log record is
//! (`L`): it imports nothing.

use std::collections::VecDeque;

/// A place's content: still waiting for its answer, or answered.
#[derive(Debug)]
pub(crate) enum Place<P, L> {
    /// Waiting for its answer.
    Pending(P),
    /// Answered, waiting for the places before it.
    Encoded(Encoded<L>),
}

/// An encoded response waiting for its turn on the wire.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Encoded<L> {
    /// The bytes: status line to last body byte, or to the end of the head
    /// of a body that is streamed after them.
    pub(crate) bytes: Vec<u8>,
    /// The connection closes once these bytes are written.
    pub(crate) close: bool,
    /// What the connection does when these bytes leave the queue (in
    /// order), if anything: `L`, the connection's own — log the answer,
    /// start writing its streamed body.
    pub(crate) then: Option<L>,
}

/// The memory behind a [`ResponseQueue`], lent out while its connection is
/// idle (see `spares.rs`). Opaque: only the queue looks inside.
#[derive(Debug)]
pub(crate) struct QueueStorage<P, L>(VecDeque<Place<P, L>>);

impl<P, L> QueueStorage<P, L> {
    /// True if there is memory worth keeping.
    pub(crate) fn has_capacity(&self) -> bool {
        self.0.capacity() > 0
    }
}

impl<P, L> Default for QueueStorage<P, L> {
    fn default() -> Self {
        QueueStorage(VecDeque::new())
    }
}

/// The per-connection ordered queue of places.
#[derive(Debug)]
pub(crate) struct ResponseQueue<P, L> {
    places: VecDeque<Place<P, L>>,
    /// Sequence number of `places[0]`. Sequence numbers are never reused on
    /// a connection, so a late or duplicate fill is recognised and refused.
    front_seq: u64,
    /// Bytes of the answered places still in the queue: output waiting
    /// behind a slow job or a streamed body, which the connection's output
    /// bound must count too.
    encoded_bytes: usize,
}

impl<P, L> Default for ResponseQueue<P, L> {
    fn default() -> Self {
        ResponseQueue {
            places: VecDeque::new(),
            front_seq: 0,
            encoded_bytes: 0,
        }
    }
}

impl<P, L> ResponseQueue<P, L> {
    /// Appends a place for a request whose answer is not known yet.
    pub(crate) fn reserve(&mut self, pending: P) -> u64 {
        self.places.push_back(Place::Pending(pending));
        self.back_seq()
    }

    /// Appends a place answered from birth (an interim or error response).
    pub(crate) fn push_encoded(&mut self, encoded: Encoded<L>) -> u64 {
        self.encoded_bytes += encoded.bytes.len();
        self.places.push_back(Place::Encoded(encoded));
        self.back_seq()
    }

    /// Fills place `seq` with the response `encode` makes from what the place
    /// remembered. Returns false (and does not call `encode`) if `seq` is not
    /// a pending place of this queue: already answered, or never issued.
    pub(crate) fn fill(&mut self, seq: u64, encode: impl FnOnce(P) -> Encoded<L>) -> bool {
        let Some(place) = self.place_mut(seq) else {
            return false;
        };
        if !matches!(place, Place::Pending(_)) {
            return false;
        }
        let placeholder = Place::Encoded(Encoded {
            bytes: Vec::new(),
            close: false,
            then: None,
        });
        let Place::Pending(pending) = std::mem::replace(place, placeholder) else {
            unreachable!("checked just above");
        };
        let encoded = encode(pending);
        let len = encoded.bytes.len();
        *place = Place::Encoded(encoded);
        self.encoded_bytes += len;
        true
    }

    /// What pending place `seq` remembers, to change it.
    pub(crate) fn pending_mut(&mut self, seq: u64) -> Option<&mut P> {
        match self.place_mut(seq) {
            Some(Place::Pending(pending)) => Some(pending),
            _ => None,
        }
    }

    /// The front place, if it is pending: its sequence number and what it
    /// remembers.
    pub(crate) fn front_pending_mut(&mut self) -> Option<(u64, &mut P)> {
        match self.places.front_mut() {
            Some(Place::Pending(pending)) => Some((self.front_seq, pending)),
            _ => None,
        }
    }

    /// What the front place remembers, if it is pending.
    pub(crate) fn front_pending(&self) -> Option<&P> {
        match self.places.front() {
            Some(Place::Pending(pending)) => Some(pending),
            _ => None,
        }
    }

    /// Takes place `seq` out if it is the front place and still pending: its
    /// answer may then be written straight to the output buffer, with no
    /// stop in the queue (the common case: nothing is pending before it).
    pub(crate) fn take_front(&mut self, seq: u64) -> Option<P> {
        if seq != self.front_seq || !matches!(self.places.front(), Some(Place::Pending(_))) {
            return None;
        }
        self.front_seq += 1;
        match self.places.pop_front() {
            Some(Place::Pending(pending)) => Some(pending),
            _ => unreachable!("checked just above"),
        }
    }

    /// Takes the front place if it is answered. Places behind a pending one
    /// stay, however long ago they were filled: that is the ordering
    /// guarantee.
    pub(crate) fn pop_encoded(&mut self) -> Option<Encoded<L>> {
        if !matches!(self.places.front(), Some(Place::Encoded(_))) {
            return None;
        }
        self.front_seq += 1;
        match self.places.pop_front() {
            Some(Place::Encoded(encoded)) => {
                self.encoded_bytes -= encoded.bytes.len();
                Some(encoded)
            }
            _ => unreachable!("checked just above"),
        }
    }

    /// True if `seq` is the newest place (its answer is the last one queued).
    pub(crate) fn is_last(&self, seq: u64) -> bool {
        !self.places.is_empty() && seq == self.back_seq()
    }

    /// Empties the queue, oldest place first: the connection is closing
    /// and none of these answers will go out.
    pub(crate) fn abandon(&mut self) -> impl Iterator<Item = Place<P, L>> + '_ {
        self.encoded_bytes = 0;
        self.places.drain(..)
    }

    /// Bytes of answers encoded and still waiting in the queue.
    pub(crate) fn encoded_bytes(&self) -> usize {
        self.encoded_bytes
    }

    /// The places still waiting for an answer.
    pub(crate) fn pending(&self) -> impl Iterator<Item = &P> {
        self.places.iter().filter_map(|place| match place {
            Place::Pending(pending) => Some(pending),
            Place::Encoded(_) => None,
        })
    }

    /// Takes the queue's (empty) storage away, leaving it with none; the
    /// sequence numbering carries on.
    pub(crate) fn take_storage(&mut self) -> QueueStorage<P, L> {
        debug_assert!(
            self.places.is_empty(),
            "only an empty queue lends its storage"
        );
        QueueStorage(std::mem::take(&mut self.places))
    }

    /// Gives the queue storage to use, if it has none.
    pub(crate) fn give_storage(&mut self, storage: QueueStorage<P, L>) {
        if self.places.capacity() == 0 {
            self.places = storage.0;
        }
    }

    /// True if the queue holds storage (it has not lent it out).
    pub(crate) fn has_storage(&self) -> bool {
        self.places.capacity() > 0
    }

    /// Number of places, pending or answered.
    pub(crate) fn len(&self) -> usize {
        self.places.len()
    }

    /// True when every answer has been handed to the output buffer.
    pub(crate) fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    fn back_seq(&self) -> u64 {
        self.front_seq + self.places.len() as u64 - 1
    }

    fn place_mut(&mut self, seq: u64) -> Option<&mut Place<P, L>> {
        let offset = seq.checked_sub(self.front_seq)?;
        self.places.get_mut(usize::try_from(offset).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> impl FnOnce(u8) -> Encoded<()> + '_ {
        move |_| Encoded {
            bytes: text.as_bytes().to_vec(),
            close: false,
            then: None,
        }
    }

    fn drain(queue: &mut ResponseQueue<u8, ()>) -> Vec<String> {
        std::iter::from_fn(|| queue.pop_encoded())
            .map(|encoded| String::from_utf8(encoded.bytes).unwrap())
            .collect()
    }

    #[test]
    fn answers_filled_out_of_order_leave_in_request_order() {
        let mut queue = ResponseQueue::default();
        let slow1 = queue.reserve(0);
        let fast2 = queue.reserve(0);
        let slow3 = queue.reserve(0);
        let fast4 = queue.reserve(0);

        assert!(queue.fill(fast2, answer("2")));
        assert!(queue.fill(fast4, answer("4")));
        assert_eq!(
            drain(&mut queue),
            Vec::<String>::new(),
            "1 is still running"
        );

        assert!(queue.fill(slow1, answer("1")));
        assert_eq!(drain(&mut queue), ["1", "2"], "3 still blocks 4");

        assert!(queue.fill(slow3, answer("3")));
        assert_eq!(drain(&mut queue), ["3", "4"]);
        assert!(queue.is_empty());
    }

    #[test]
    fn places_answered_from_birth_wait_their_turn_too() {
        let mut queue = ResponseQueue::default();
        let job = queue.reserve(0);
        queue.push_encoded(Encoded {
            bytes: b"100".to_vec(),
            close: false,
            then: None,
        });
        assert_eq!(drain(&mut queue), Vec::<String>::new());
        queue.fill(job, answer("200"));
        assert_eq!(drain(&mut queue), ["200", "100"]);
    }

    #[test]
    fn duplicate_late_and_unknown_fills_are_refused() {
        let mut queue = ResponseQueue::default();
        let first = queue.reserve(0);
        assert!(queue.fill(first, answer("a")));
        assert!(!queue.fill(first, answer("again")), "already answered");
        assert_eq!(drain(&mut queue), ["a"]);
        assert!(!queue.fill(first, answer("late")), "already sent");
        assert!(!queue.fill(first + 1, answer("never issued")));

        // Sequence numbers keep counting after the queue empties.
        let second = queue.reserve(0);
        assert_eq!(second, first + 1);
        assert!(queue.is_last(second));
        assert!(queue.fill(second, answer("b")));
        assert_eq!(drain(&mut queue), ["b"]);
    }

    #[test]
    fn pending_lists_only_unanswered_places() {
        let mut queue = ResponseQueue::default();
        let a = queue.reserve(1);
        queue.reserve(2);
        queue.fill(a, answer("a"));
        assert_eq!(queue.pending().copied().collect::<Vec<_>>(), [2]);
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn the_queue_counts_the_bytes_it_holds() {
        let mut queue = ResponseQueue::default();
        let slow = queue.reserve(0);
        let fast = queue.reserve(0);
        assert!(queue.fill(fast, answer("12345")));
        queue.push_encoded(answer("678")(0));
        assert_eq!(queue.encoded_bytes(), 8, "answers behind a pending one");
        assert!(queue.fill(slow, answer("ab")));
        assert_eq!(queue.encoded_bytes(), 10);
        assert_eq!(drain(&mut queue), ["ab", "12345", "678"]);
        assert_eq!(queue.encoded_bytes(), 0);
        queue.reserve(0);
        queue.push_encoded(answer("xyz")(0));
        assert_eq!(queue.abandon().count(), 2);
        assert_eq!(queue.encoded_bytes(), 0);
    }
}
