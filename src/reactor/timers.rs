//! Timers: every deadline the loop keeps, in one ordered structure.
//!
//! Tornado's `IOLoop.call_later` keeps a heap and cancels lazily (a cancelled
//! timeout stays in the heap, marked dead, until it reaches the top). eddy
//! keeps a `BTreeMap` keyed by `(deadline, sequence number)` instead, like
//! smol's async-io:
//!
//! - the nearest deadline is the first key, and it becomes the `poll` timeout;
//! - cancelling is an O(log n) removal, so nothing dead piles up. That
//!   matters here because a keep-alive connection re-arms its idle deadline
//!   after every response: with lazy cancellation a busy connection would
//!   leave one tombstone per request until the tombstone's time came;
//! - the sequence number keeps two timers for the same instant apart and
//!   makes firing order deterministic (first armed, first fired).
//!
//! A hashed timing wheel would make insert and cancel O(1), but it rounds
//! deadlines to its tick and needs a tick even when nothing is due; for the
//! thousands (not millions) of timers one process holds, the tree is simpler
//! and exact.

use std::collections::BTreeMap;
use std::time::Instant;

/// Names one armed timer, for cancelling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerKey {
    deadline: Instant,
    sequence: u64,
}

/// An ordered set of deadlines, each carrying a value of type `T` that says
/// what to do when it fires.
pub(crate) struct Timers<T> {
    armed: BTreeMap<TimerKey, T>,
    /// Next sequence number; only grows.
    next_sequence: u64,
}

impl TimerKey {
    /// When this timer fires.
    pub(crate) fn at(self) -> Instant {
        self.deadline
    }
}

impl<T> Default for Timers<T> {
    fn default() -> Self {
        Timers {
            armed: BTreeMap::new(),
            next_sequence: 0,
        }
    }
}

impl<T> Timers<T> {
    /// Arms a timer that fires at `deadline` with `what`.
    pub(crate) fn insert(&mut self, deadline: Instant, what: T) -> TimerKey {
        let key = TimerKey {
            deadline,
            sequence: self.next_sequence,
        };
        self.next_sequence += 1;
        self.armed.insert(key, what);
        key
    }

    /// Disarms a timer. Cancelling one that already fired is a no-op.
    pub(crate) fn cancel(&mut self, key: TimerKey) -> Option<T> {
        self.armed.remove(&key)
    }

    /// True while `key` has neither fired nor been cancelled.
    pub(crate) fn is_armed(&self, key: TimerKey) -> bool {
        self.armed.contains_key(&key)
    }

    /// The nearest deadline, if any timer is armed.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.armed.keys().next().map(|key| key.deadline)
    }

    /// Removes and returns the earliest timer whose deadline is at or before
    /// `now`. Call it in a loop to fire everything that is due.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(TimerKey, T)> {
        let first = self.armed.first_entry()?;
        if first.key().deadline > now {
            return None;
        }
        Some(first.remove_entry())
    }

    /// Number of armed timers.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.armed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fires_in_deadline_order_then_arming_order() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        timers.insert(t0 + Duration::from_secs(3), "c");
        timers.insert(t0 + Duration::from_secs(1), "a");
        timers.insert(t0 + Duration::from_secs(1), "b");
        assert_eq!(timers.next_deadline(), Some(t0 + Duration::from_secs(1)));
        let mut fired = Vec::new();
        while let Some((_, what)) = timers.pop_due(t0 + Duration::from_secs(2)) {
            fired.push(what);
        }
        assert_eq!(fired, ["a", "b"]);
        assert_eq!(timers.len(), 1, "the 3 s timer is not due yet");
    }

    #[test]
    fn cancelled_timers_never_fire_and_leave_nothing_behind() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        let key = timers.insert(t0, 1);
        timers.insert(t0 + Duration::from_secs(5), 2);
        assert_eq!(timers.cancel(key), Some(1));
        assert_eq!(timers.cancel(key), None);
        assert_eq!(timers.pop_due(t0 + Duration::from_secs(1)), None);
        assert_eq!(timers.len(), 1);
        assert_eq!(timers.next_deadline(), Some(t0 + Duration::from_secs(5)));
    }
}
