//! What a connection asks of whoever answers its requests — the server,
//! which routes them, or a test's script — and the answers it gets back.
//!
//! The connection knows no routes and no loop: for each request it calls
//! [`Respond::respond`] and gets a [`Reply`]. A job's answer comes later,
//! through `Connection::fill`; the job itself belongs to the server's jobs
//! table, and the connection holds only its [`JobTicket`] — to give it up
//! ([`Respond::give_up`]) if nobody will read its answer any more.

use std::time::Instant;

use super::upgrade::{OffLoop, Upgraded};
use crate::http::{Refusal, Request, Response};
use crate::job::Job;

/// Who answers a connection's requests.
pub(crate) trait Respond {
    /// The answer to `request`, whose place in line is `seq`, decoded at
    /// `decoded` (for its duration in the metrics). The request is lent
    /// mutably so the router can record what its path parameters captured.
    fn respond(&mut self, request: &mut Request, seq: u64, decoded: Instant) -> Reply;

    /// A head announced a body (none of it read yet): the body limit for
    /// this request, or the answer to give instead of reading it — when the
    /// client waits on `Expect: 100-continue` for a request that will not
    /// be served.
    fn admit(&mut self, request: &Request, expects_continue: bool) -> Result<usize, Response>;

    /// The server's own answer to bytes the decoder refused (its error
    /// page, naming the refusal's reason).
    fn error(&self, refusal: Refusal) -> Response;

    /// The decoder refused bytes with `refusal`; its answer is queued
    /// already (for counting and the trace).
    fn refused(&mut self, refusal: Refusal);

    /// A job held by [`Reply::Held`] reached the front of its line: submit
    /// it now. Its ticket, or the answer to give instead (503 when the
    /// pool's queue is full).
    fn release(
        &mut self,
        job: Job,
        seq: u64,
        route: Option<usize>,
        decoded: Instant,
    ) -> Result<JobTicket, Response>;

    /// Nobody will read `job`'s answer: the connection is closing, or a
    /// failed stream broke its framing.
    fn give_up(&mut self, job: JobTicket);

    /// Runs an upgraded protocol's `work` on the worker pool, answering no
    /// request; false if the pool's queue is full.
    fn off_loop(&mut self, work: OffLoop) -> bool;
}

/// An answer to a request, as a [`Respond`] gives it.
pub(crate) enum Reply {
    /// The answer is here.
    Now {
        /// The route that answered (for the metrics), if one did.
        route: Option<usize>,
        /// The answer.
        response: Response,
    },
    /// A job will bring the answer through `Connection::fill`.
    Later {
        /// The route that offloaded it.
        route: Option<usize>,
        /// The job's name in the server's jobs table.
        job: JobTicket,
    },
    /// A streaming job, held until its answer reaches the front of the
    /// line, then handed to [`Respond::release`]. An answer that cannot be
    /// written yet needs no bytes yet: a producer started behind another
    /// stream would fill its pipe and block its worker until that stream
    /// ended — W such connections held all W workers, and the paced bodies
    /// in front of them, which needed a worker to go on, never did.
    Held {
        /// The route that offloaded it.
        route: Option<usize>,
        /// The job, not yet submitted.
        job: Job,
    },
    /// A `101 Switching Protocols`: after it, the transport — with every
    /// byte that followed this request's head — belongs to `to`.
    // Made by a WebSocket route (and the tests); without the `websocket`
    // feature, by the tests alone.
    #[cfg_attr(not(any(test, feature = "websocket")), allow(dead_code))]
    Upgrade {
        /// The route that answered.
        route: Option<usize>,
        /// The `101` (its headers say which protocol).
        response: Response,
        /// The protocol that speaks after it.
        to: Box<dyn Upgraded>,
    },
}

/// A job's name in the server's jobs table: all a connection holds of an
/// offloaded request's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JobTicket(pub(crate) usize);
