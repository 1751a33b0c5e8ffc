//! The response-slot queue: pipelined answers leave in request order.
//!
//! HTTP/1.1 has no request ids on the wire; the only way a client matches
//! responses to pipelined requests is their order. But eddy answers
//! `/fast` at once while `/slow_threaded` before it is still on a worker, so
//! answers are *produced* out of order. Each connection therefore keeps a
//! queue of slots, one per request, in arrival order:
//!
//! - decoding a request [`reserve`](ResponseQueue::reserve)s a slot at the
//!   back (a [`ResponseSlot`](crate::ResponseSlot) names it from anywhere);
//! - an answer, whenever it comes, [`fill`](ResponseQueue::fill)s its slot;
//! - only filled slots at the *front* are [`pop_ready`](ResponseQueue::pop_ready)ed
//!   into the output buffer.
//!
//! tiny_http's `SequentialWriter` does the same with a chain of locks; with
//! one loop thread, a `VecDeque` and sequence numbers suffice. Interim
//! responses (`100 Continue`) and error responses are pushed as slots that are
//! ready from birth, so they too leave in order.

use std::collections::VecDeque;
use std::time::Instant;

use crate::pool::CancelToken;
use crate::timers::TimerKey;

/// What a connection remembers about a request until its answer arrives.
#[derive(Debug)]
pub struct Waiting {
    /// HEAD: send the headers of the answer, not its body.
    pub head_only: bool,
    /// An HTTP/1.0 client asked for keep-alive and must be told it got it.
    pub keep_alive_10: bool,
    /// The request ends the connection (`Connection: close`, or HTTP/1.0).
    pub close: bool,
    /// When the request was decoded, for the access log's duration.
    pub started: Instant,
    /// `GET /fast?id=1 HTTP/1.1`, kept only when the access log is on.
    pub request_line: Option<String>,
    /// Set for offloaded requests: the job working on the answer.
    pub job: Option<JobTicket>,
    /// Which route answers it (the router's path index), for the metrics.
    pub route: usize,
}

/// What the connection holds on to for an offloaded request's job.
#[derive(Debug, Clone)]
pub struct JobTicket {
    /// Tripping it tells the job nobody wants its answer any more.
    pub cancel: CancelToken,
    /// The job-timeout timer, disarmed when the answer comes.
    pub timer: TimerKey,
}

/// A slot's content: still waiting, or encoded and ready to go.
#[derive(Debug)]
enum Entry {
    Waiting(Waiting),
    Ready(Ready),
}

/// An encoded response waiting for its turn on the wire.
#[derive(Debug, PartialEq, Eq)]
pub struct Ready {
    /// The bytes, status line to last body byte.
    pub bytes: Vec<u8>,
    /// The connection closes once these bytes are written.
    pub close: bool,
}

/// The memory behind a [`ResponseQueue`], lent out while its connection is
/// idle (see `spares.rs`). Opaque: only the queue looks inside.
#[derive(Debug, Default)]
pub struct SlotStorage(VecDeque<Entry>);

impl SlotStorage {
    /// True if there is memory worth keeping.
    pub fn has_capacity(&self) -> bool {
        self.0.capacity() > 0
    }
}

/// The per-connection ordered queue of response slots.
#[derive(Debug, Default)]
pub struct ResponseQueue {
    entries: VecDeque<Entry>,
    /// Sequence number of `entries[0]`. Sequence numbers are never reused on
    /// a connection, so a late or duplicate fill is recognised and refused.
    front_seq: u64,
}

impl ResponseQueue {
    /// Appends a slot for a request whose answer is not known yet.
    pub fn reserve(&mut self, waiting: Waiting) -> u64 {
        self.entries.push_back(Entry::Waiting(waiting));
        self.back_seq()
    }

    /// Appends a slot that is ready from birth (an interim or error response).
    pub fn push_ready(&mut self, ready: Ready) -> u64 {
        self.entries.push_back(Entry::Ready(ready));
        self.back_seq()
    }

    /// Fills slot `seq` with the response `encode` makes from what the slot
    /// remembered. Returns false (and does not call `encode`) if `seq` is not
    /// a waiting slot of this queue: already answered, or never issued.
    pub fn fill(&mut self, seq: u64, encode: impl FnOnce(Waiting) -> Ready) -> bool {
        let Some(entry) = self.entry_mut(seq) else {
            return false;
        };
        if !matches!(entry, Entry::Waiting(_)) {
            return false;
        }
        let placeholder = Entry::Ready(Ready {
            bytes: Vec::new(),
            close: false,
        });
        let Entry::Waiting(waiting) = std::mem::replace(entry, placeholder) else {
            unreachable!("checked just above");
        };
        *entry = Entry::Ready(encode(waiting));
        true
    }

    /// Attaches the job that will fill slot `seq`.
    pub fn set_job(&mut self, seq: u64, job: JobTicket) {
        if let Some(Entry::Waiting(waiting)) = self.entry_mut(seq) {
            waiting.job = Some(job);
        }
    }

    /// Takes slot `seq` out if it is the front slot and still waiting: its
    /// answer may then be written straight to the output buffer, with no
    /// stop in the queue (the common case: nothing is pending before it).
    pub fn take_front(&mut self, seq: u64) -> Option<Waiting> {
        if seq != self.front_seq || !matches!(self.entries.front(), Some(Entry::Waiting(_))) {
            return None;
        }
        self.front_seq += 1;
        match self.entries.pop_front() {
            Some(Entry::Waiting(waiting)) => Some(waiting),
            _ => unreachable!("checked just above"),
        }
    }

    /// Takes the front slot if it is ready. Slots behind a waiting one stay,
    /// however long ago they were filled: that is the ordering guarantee.
    pub fn pop_ready(&mut self) -> Option<Ready> {
        if !matches!(self.entries.front(), Some(Entry::Ready(_))) {
            return None;
        }
        self.front_seq += 1;
        match self.entries.pop_front() {
            Some(Entry::Ready(ready)) => Some(ready),
            _ => unreachable!("checked just above"),
        }
    }

    /// True if `seq` is the newest slot (its answer is the last one queued).
    pub fn is_last(&self, seq: u64) -> bool {
        !self.entries.is_empty() && seq == self.back_seq()
    }

    /// The slots still waiting for an answer.
    pub fn waiting(&self) -> impl Iterator<Item = &Waiting> {
        self.entries.iter().filter_map(|entry| match entry {
            Entry::Waiting(waiting) => Some(waiting),
            Entry::Ready(_) => None,
        })
    }

    /// Takes the queue's (empty) storage away, leaving it with none; the
    /// sequence numbering carries on.
    pub fn take_storage(&mut self) -> SlotStorage {
        debug_assert!(self.entries.is_empty(), "only an empty queue is parked");
        SlotStorage(std::mem::take(&mut self.entries))
    }

    /// Gives the queue storage to use, if it has none.
    pub fn give_storage(&mut self, storage: SlotStorage) {
        if self.entries.capacity() == 0 {
            self.entries = storage.0;
        }
    }

    /// True if the queue holds storage (it is not parked).
    pub fn has_storage(&self) -> bool {
        self.entries.capacity() > 0
    }

    /// Number of slots, waiting or ready.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when every answer has been handed to the output buffer.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn back_seq(&self) -> u64 {
        self.front_seq + self.entries.len() as u64 - 1
    }

    fn entry_mut(&mut self, seq: u64) -> Option<&mut Entry> {
        let offset = seq.checked_sub(self.front_seq)?;
        self.entries.get_mut(usize::try_from(offset).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting() -> Waiting {
        Waiting {
            head_only: false,
            keep_alive_10: false,
            close: false,
            started: Instant::now(),
            request_line: None,
            job: None,
            route: 0,
        }
    }

    fn answer(text: &str) -> impl FnOnce(Waiting) -> Ready + '_ {
        move |_| Ready {
            bytes: text.as_bytes().to_vec(),
            close: false,
        }
    }

    fn drain(queue: &mut ResponseQueue) -> Vec<String> {
        std::iter::from_fn(|| queue.pop_ready())
            .map(|ready| String::from_utf8(ready.bytes).unwrap())
            .collect()
    }

    #[test]
    fn answers_filled_out_of_order_leave_in_request_order() {
        let mut queue = ResponseQueue::default();
        let slow1 = queue.reserve(waiting());
        let fast2 = queue.reserve(waiting());
        let slow3 = queue.reserve(waiting());
        let fast4 = queue.reserve(waiting());

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
    fn ready_born_slots_wait_their_turn_too() {
        let mut queue = ResponseQueue::default();
        let job = queue.reserve(waiting());
        queue.push_ready(Ready {
            bytes: b"100".to_vec(),
            close: false,
        });
        assert_eq!(drain(&mut queue), Vec::<String>::new());
        queue.fill(job, answer("200"));
        assert_eq!(drain(&mut queue), ["200", "100"]);
    }

    #[test]
    fn duplicate_late_and_unknown_fills_are_refused() {
        let mut queue = ResponseQueue::default();
        let first = queue.reserve(waiting());
        assert!(queue.fill(first, answer("a")));
        assert!(!queue.fill(first, answer("again")), "already answered");
        assert_eq!(drain(&mut queue), ["a"]);
        assert!(!queue.fill(first, answer("late")), "already sent");
        assert!(!queue.fill(first + 1, answer("never issued")));

        // Sequence numbers keep counting after the queue empties.
        let second = queue.reserve(waiting());
        assert_eq!(second, first + 1);
        assert!(queue.is_last(second));
        assert!(queue.fill(second, answer("b")));
        assert_eq!(drain(&mut queue), ["b"]);
    }

    #[test]
    fn waiting_lists_only_unanswered_slots() {
        let mut queue = ResponseQueue::default();
        let a = queue.reserve(waiting());
        queue.reserve(waiting());
        queue.fill(a, answer("a"));
        assert_eq!(queue.waiting().count(), 1);
        assert_eq!(queue.len(), 2);
    }
}
