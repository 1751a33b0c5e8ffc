//! A cancel token: a flag that work on another thread polls to learn that
//! nobody wants its result any more.
//!
//! A leaf: an offloaded HTTP job gets one (`job.rs`; the server trips it
//! when the client leaves or the job times out), and so does a WebSocket's
//! offloaded work (`websocket/handler.rs`; tripped when the socket closes).
//! It imports nothing of the crate.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// A flag a job can poll to learn that nobody wants its answer any more.
///
/// It also remembers *why* it was tripped, for the job counters: a job whose
/// timeout already answered 504 is counted once, as timed out, not again as
/// cancelled when its late answer (or its skip) comes back. The first reason
/// sticks.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicU8>);

/// The token's states. Only ever moves away from `LIVE`, once.
const LIVE: u8 = 0;
const CANCELLED: u8 = 1;
const TIMED_OUT: u8 = 2;

impl CancelToken {
    /// A token that has not been tripped.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Trips the token; every clone sees it.
    pub fn cancel(&self) {
        self.trip(CANCELLED);
    }

    /// Trips the token because the job ran past its timeout.
    pub(crate) fn time_out(&self) {
        self.trip(TIMED_OUT);
    }

    fn trip(&self, why: u8) {
        // Relaxed: the flag carries no data with it, and a job that sees it
        // one factorial late loses nothing. A failed exchange means it was
        // tripped already, and the first reason stays.
        let _ = self
            .0
            .compare_exchange(LIVE, why, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// True once [`cancel`](CancelToken::cancel) was called on any clone
    /// (or the job timed out).
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed) != LIVE
    }

    /// True if the first reason to stop was the job timeout.
    pub(crate) fn timed_out(&self) -> bool {
        self.0.load(Ordering::Relaxed) == TIMED_OUT
    }
}
