//! Access-log records held until their answers' bytes are written.
//!
//! Part of the connection (`mod.rs`). An answer's bytes go into the output
//! buffer long before the socket takes them all, and a client may leave in
//! between. The access log reports the body bytes the socket *took*
//! (nginx's `$body_bytes_sent`), so each record waits here, with where its
//! body begins and where its bytes end in the connection's output — offsets
//! counted from the connection's first byte written — until the writes pass
//! its end. A connection that closes first gives up the rest as cut short,
//! each with the body bytes that did go out.
//!
//! Only records wait here, and only while the log is on: with it off
//! nothing is held, and the keep-alive path allocates nothing.
//!
//! It imports nothing: `R` is the connection's record.

use std::collections::VecDeque;

/// Records in output order, each waiting for its last byte to be written.
#[derive(Debug)]
pub(crate) struct Unwritten<R> {
    waiting: VecDeque<Waiting<R>>,
}

#[derive(Debug)]
struct Waiting<R> {
    record: R,
    /// Output offset of its body's first byte.
    body_from: u64,
    /// Body bytes it carries in all.
    body_len: u64,
    /// Output offset just past its last byte.
    end: u64,
}

impl<R> Default for Unwritten<R> {
    fn default() -> Self {
        Unwritten {
            waiting: VecDeque::new(),
        }
    }
}

impl<R> Unwritten<R> {
    /// Holds `record` for an answer whose `body_len` body bytes begin at
    /// output offset `body_from` and whose bytes end at `end`.
    pub(crate) fn hold(&mut self, record: R, body_from: u64, body_len: u64, end: u64) {
        self.waiting.push_back(Waiting {
            record,
            body_from,
            body_len,
            end,
        });
    }

    /// The oldest record whose bytes are all written, once `written` bytes
    /// of output have gone.
    pub(crate) fn next_written(&mut self, written: u64) -> Option<R> {
        if self.waiting.front()?.end > written {
            return None;
        }
        self.waiting.pop_front().map(|waiting| waiting.record)
    }

    /// The oldest record still waiting — the connection is closing, so it
    /// never will be written whole — with the body bytes of it that went
    /// out in the `written` bytes.
    pub(crate) fn next_cut(&mut self, written: u64) -> Option<(R, u64)> {
        let waiting = self.waiting.pop_front()?;
        let body = written
            .saturating_sub(waiting.body_from)
            .min(waiting.body_len);
        Some((waiting.record, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_leaves_when_its_last_byte_is_written_or_is_cut_with_what_went() {
        let mut unwritten = Unwritten::default();
        // Two answers: head 0..10 and body 10..30; head 30..40, body 40..100.
        unwritten.hold("first", 10, 20, 30);
        unwritten.hold("second", 40, 60, 100);
        assert_eq!(unwritten.next_written(29), None);
        assert_eq!(unwritten.next_written(30), Some("first"));
        assert_eq!(unwritten.next_written(55), None);
        // The client left after 55 bytes: 15 of the second body went.
        assert_eq!(unwritten.next_cut(55), Some(("second", 15)));
        assert_eq!(unwritten.next_cut(55), None);
        // Cut inside the head: no body byte went.
        unwritten.hold("third", 110, 5, 115);
        assert_eq!(unwritten.next_cut(105), Some(("third", 0)));
    }
}
