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
//!  worker: while the pipe has room: piece = next(); send(piece)
//!          pipe full ──▶ park (BodySender::when_room) ──▶ the worker takes other jobs
//!  loop:   pump takes the pipe below LOW_WATER ──▶ resume ──▶ `resumed` queue ──▶ a worker goes on
//! ```
//!
//! The resumed queue is unbounded, and bounded all the same: a body is in
//! it at most once, and only while it is parked, so it never holds more
//! entries than there are streams open.

use crossbeam_channel::Sender;

use super::Outcome;
use crate::job::Paced;
use crate::panic_report;
use crate::stream::Resume;

/// A parked body's next stretch of work, queued for a worker.
pub(super) type Resumed = Box<dyn FnOnce() + Send>;

/// How the job ends, once: the reply to the loop.
pub(super) type End = Box<dyn FnOnce(Outcome) + Send>;

/// Makes pieces of `paced` while its pipe has room, then parks it (to be
/// queued on `resumed` when there is room again) or ends it.
pub(super) fn pace(paced: Paced, end: End, resumed: Sender<Resumed>) {
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
            Ok(false) => {
                let resume: Resume = Box::new(move |body| {
                    let again = resumed.clone();
                    let stretch: Resumed = Box::new(move || {
                        pace(Paced { body, next, cancel }, end, again);
                    });
                    // Fails only once the pool is gone (the teardown):
                    // then nobody is left to serve.
                    let _ = resumed.send(stretch);
                });
                return body.when_room(resume);
            }
        }
        match panic_report::catch(|| next(&cancel)) {
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
