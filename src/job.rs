//! A job and its cancel token: the unit of work offloaded to the pool.
//!
//! A leaf the router, the pool and the server all share: an offloaded route
//! makes a [`Job`], the pool runs it, the server holds its [`CancelToken`]
//! and trips it when nobody wants the answer any more. It imports nothing
//! but the [`Response`] a job produces.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use crate::http::Response;

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

/// A unit of slow work: runs once, on a worker thread, and produces the
/// response for one request.
pub struct Job(Box<dyn FnOnce(&CancelToken) -> Response + Send>);

impl Job {
    /// Wraps a closure as a job. It receives the request's cancel token.
    pub fn new(work: impl FnOnce(&CancelToken) -> Response + Send + 'static) -> Job {
        Job(Box::new(work))
    }

    /// Runs the job (on the calling thread) with its token.
    pub fn run(self, cancel: &CancelToken) -> Response {
        (self.0)(cancel)
    }
}
