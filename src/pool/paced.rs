//! Paced bodies: a streamed body made a piece at a time on the pool, whose
//! producer gives its worker back while the client is slow.
//!
//! A job that blocks in `BodySender::send` keeps its worker for as long as
//! its client takes to read: two slow downloads on a two-core machine and
//! nothing else offloaded is served (an outside test of `examples/files.rs`
//! found exactly that: a 3-byte file answered 504 after 30 s). A paced body
//! ([`Head::start_paced`](crate::job::Head::start_paced)) never blocks:
//!
//! ```text
//!  worker: the job returns ──▶ while the pipe has room: piece = next(); send(piece)
//!          pipe full ──▶ park (BodySender::when_room; counted in `parked`) ──▶ the worker takes other jobs
//!  loop:   pump takes the pipe below LOW_WATER ──▶ resume ──▶ `resumed` queue ──▶ a worker goes on
//!  pool gone (teardown): a stretch still queued, or resumed later, is abandoned: its reply still hears
//! ```
//!
//! The resumed queue is unbounded, and bounded all the same: a body is in
//! it at most once, and only while it is parked, so it never holds more
//! entries than there are streams open.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_channel::Sender;

use super::Outcome;
use crate::job::Paced;
use crate::panic_report::{self, PanicReport};
use crate::stream::Resume;

/// How the job ends, once: the reply to the loop.
pub(super) type End = Box<dyn FnOnce(Outcome) + Send>;

/// A parked body's next stretch of work, queued for a worker: the body and
/// the reply that must hear how it ends. A stretch dropped without running
/// (the pool gone, its queue discarded) is abandoned, so its reply is
/// called all the same: no path drops a reply uncalled.
pub(super) struct Stretch(Option<(Paced, End)>);

/// What a paced body needs of its pool: where to queue its next stretch,
/// and the gauge of bodies parked.
#[derive(Clone)]
pub(super) struct Pacing {
    pub(super) resume_to: Sender<Stretch>,
    pub(super) parked: Arc<AtomicUsize>,
}

impl Stretch {
    /// A body whose job has returned, about to make its first pieces.
    pub(super) fn new(paced: Paced, end: End) -> Stretch {
        Stretch(Some((paced, end)))
    }

    /// Makes pieces while the pipe has room, then parks the body (to be
    /// queued again when there is room) or ends it.
    pub(super) fn run(mut self, pacing: &Pacing) {
        let Some((paced, end)) = self.0.take() else {
            return;
        };
        let Paced {
            mut body,
            mut next,
            cancel,
        } = paced;
        loop {
            // Its client left (the token tripped as its pipe went) or its
            // server gave up on it: dropping the body ends it failed.
            if cancel.is_cancelled() {
                drop(body);
                return end(Outcome::Streamed);
            }
            match body.has_room() {
                Err(_gone) => return end(Outcome::Streamed),
                Ok(true) => {}
                Ok(false) => return park(Paced { body, next, cancel }, end, pacing),
            }
            match panic_report::catch(|| next(&cancel)) {
                // An empty piece would send nothing and ask again at once:
                // a worker spinning for ever on a producer bug. It ends the
                // body failed, and is reported as any failed job is.
                Ok(Ok(Some(piece))) if piece.is_empty() => {
                    body.fail("its producer made an empty piece");
                    return end(Outcome::Panicked(PanicReport {
                        message: "a paced body's next piece was empty (end it with Ok(None))"
                            .into(),
                        location: None,
                        backtrace: None,
                    }));
                }
                Ok(Ok(Some(piece))) => {
                    if body.send_vec(piece).is_err() {
                        return end(Outcome::Streamed);
                    }
                }
                Ok(Ok(None)) => {
                    let _ = body.finish();
                    return end(Outcome::Streamed);
                }
                Ok(Err(error)) => {
                    body.fail(error.to_string());
                    return end(Outcome::Streamed);
                }
                // The body ends failed as it drops; the panic is reported as
                // any job's.
                Err(report) => {
                    drop(body);
                    return end(Outcome::Panicked(report));
                }
            }
        }
    }

    /// No worker will run this stretch (the pool is gone): the body ends
    /// failed as it drops, its token trips (so the job counts as
    /// cancelled), and its reply hears so.
    pub(super) fn abandon(mut self) {
        if let Some((paced, end)) = self.0.take() {
            paced.cancel.cancel();
            drop(paced);
            end(Outcome::Streamed);
        }
    }
}

impl Drop for Stretch {
    fn drop(&mut self) {
        if self.0.is_some() {
            Stretch(self.0.take()).abandon();
        }
    }
}

/// Parks `paced` until its pipe has room; then its next stretch is queued
/// for a worker — or, once the pool is gone, abandoned.
fn park(paced: Paced, end: End, pacing: &Pacing) {
    let Paced { body, next, cancel } = paced;
    pacing.parked.fetch_add(1, Ordering::Relaxed);
    let pacing = pacing.clone();
    let resume: Resume = Box::new(move |body| {
        let stretch = Stretch::new(Paced { body, next, cancel }, end);
        // Queued before it stops counting as parked: the gauges may briefly
        // count it twice, never as running.
        let sent = pacing.resume_to.send(stretch);
        pacing.parked.fetch_sub(1, Ordering::Relaxed);
        // Fails only once every worker and the pool are gone (the
        // teardown): nobody is left to make pieces, but the reply is
        // still called.
        if let Err(unsent) = sent {
            unsent.into_inner().abandon();
        }
    });
    body.when_room(resume);
}
