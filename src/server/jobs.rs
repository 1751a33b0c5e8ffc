//! An offloaded job's whole life, in one file.
//!
//! ```text
//!   submit ──▶ queued ──▶ running ──▶ answered ──▶ job_ended: Completed (its answer fills its place)
//!     │          │           │                          or Panicked (500 fills it, one line on stderr)
//!     │          │           └─ timeout first ─▶ job_timed_out: 504 fills the place, token tripped;
//!     │          │                               the late answer is dropped (TimedOut, counted once)
//!     │          └─ client gone ─▶ token tripped; the worker skips it ─▶ job_ended: Cancelled
//!     └─ queue full ─▶ 503 now (Rejected, never submitted)
//!
//!   a streaming job (Job::stream) answers twice over:
//!   running ──▶ head ──▶ job_answered: the head fills its place, its timer is disarmed
//!                 └─ body ─▶ through the pipe (stream.rs), woken by streams.rs
//!           ──▶ returns ──▶ job_ended: Streamed (counted), or Unanswered (500)
//! ```
//!
//! 1. **Submit** (`Jobs::submit`, called while a connection's request is
//!    answered): the job gets a number, a fresh [`CancelToken`] and a
//!    `Reply` (`pool.rs`) — a closure that, on the worker's thread, hands the outcome
//!    to the loop with `LoopHandle::add_callback`. The pool knows no loop:
//!    the reply is all it has. A timer for `--job-timeout` is armed.
//! 2. **Reply**: whatever happens to the job — an answer, a panic, a skip
//!    because its token was tripped while it waited — the worker calls the
//!    reply, and **the job re-enters the loop in
//!    [`HttpServer::job_ended`]**, at the start of the loop's next turn.
//! 3. **End**: `job_ended` puts the answer in the request's place (if the
//!    client is still there and the timeout did not answer first), disarms
//!    the timer, counts how the job ended, and drives the connection so the
//!    answer — and any answer queued behind it — goes out.
//!
//! Every job ends exactly one way, so `submitted = completed + panicked +
//! cancelled + timed_out` once nothing is in flight.

use std::fmt::Write as _;
use std::time::Duration;

use super::http::HttpServer;
use super::streams;
use super::{ConnId, ServerTimer};
use crate::config::Config;
use crate::connection::{Filled, JobTicket};
use crate::http::{Response, StatusCode};
use crate::job::{CancelToken, Job};
use crate::metrics::JobEnd;
use crate::panic_report::PanicReport;
use crate::pool::{Outcome, Reply, WorkerPool};
use crate::reactor::{LoopHandle, Reactor};

/// Where a job's answer goes: a connection, and the request's place in its
/// queue. If the connection closed meanwhile, the generation inside `conn`
/// no longer matches and the answer is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReplyTo {
    pub(crate) conn: ConnId,
    pub(crate) seq: u64,
}

/// The jobs in flight and the pool they run on.
pub(crate) struct Jobs {
    /// `None` when no route offloads (no thread is started for nothing),
    /// and during the teardown.
    pool: Option<WorkerPool>,
    /// How replies reach the loop.
    handle: LoopHandle<HttpServer>,
    timeout: Duration,
    /// Jobs handed to the pool and not answered, skipped or dropped yet.
    in_flight: usize,
    /// Jobs numbered so far: each gets the next number, which names it in
    /// the panic line and the trace.
    numbered: u64,
}

/// A job, back on the loop: how it ended, and what it was.
pub(crate) struct Ended {
    number: u64,
    route: Option<usize>,
    reply_to: ReplyTo,
    cancel: CancelToken,
    outcome: Outcome,
}

impl Jobs {
    /// The jobs of a server whose router `offloads` (or not: then no
    /// worker is started, and no thread runs that nobody asked for).
    pub(super) fn new(config: &Config, handle: LoopHandle<HttpServer>, offloads: bool) -> Jobs {
        let pool = offloads
            .then(|| WorkerPool::start(config.workers, config.queue, config.worker_priority));
        Jobs {
            pool,
            handle,
            timeout: config.job_timeout,
            in_flight: 0,
            numbered: 0,
        }
    }

    /// Hands `job` to the pool; its answer will go to `reply_to`. Returns
    /// its number and the ticket the connection keeps, or `Err` if the
    /// queue is full.
    pub(super) fn submit(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        job: Job,
        reply_to: ReplyTo,
        route: Option<usize>,
    ) -> Result<(u64, JobTicket), ()> {
        let pool = self.pool.as_ref().ok_or(())?;
        let number = self.numbered + 1;
        let cancel = CancelToken::new();
        let handle = self.handle.clone();
        let token = cancel.clone();
        let head_handle = self.handle.clone();
        let reply = Reply {
            // A streaming job's answer, while its body is still to come.
            head: Box::new(move |response| {
                let _ = head_handle.add_callback(move |http, reactor| {
                    http.job_answered(reactor, number, reply_to, response);
                });
            }),
            end: Box::new(move |outcome| {
                let ended = Ended {
                    number,
                    route,
                    reply_to,
                    cancel: token,
                    outcome,
                };
                // A closed loop means everyone we could answer is gone too.
                let _ = handle.add_callback(move |http, reactor| http.job_ended(reactor, ended));
            }),
        };
        pool.submit(job, cancel.clone(), reply).map_err(|_| ())?;
        self.numbered = number;
        self.in_flight += 1;
        let timer = reactor.call_later(self.timeout, ServerTimer::JobTimeout(reply_to));
        Ok((number, JobTicket { cancel, timer }))
    }

    /// Worker threads.
    pub(super) fn workers(&self) -> usize {
        self.pool.as_ref().map_or(0, WorkerPool::size)
    }

    /// Jobs waiting for a worker.
    pub(super) fn queued(&self) -> usize {
        self.pool.as_ref().map_or(0, WorkerPool::queued)
    }

    /// Jobs on a worker now.
    pub(super) fn running(&self) -> usize {
        self.pool.as_ref().map_or(0, WorkerPool::running)
    }

    /// Paced bodies parked, holding no worker.
    pub(super) fn parked(&self) -> usize {
        self.pool.as_ref().map_or(0, WorkerPool::parked)
    }

    /// Jobs submitted and not ended.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Takes the pool, for the teardown.
    pub(super) fn take_pool(&mut self) -> Option<WorkerPool> {
        self.pool.take()
    }
}

impl HttpServer {
    /// **A job re-enters the loop here**, through the callback its reply
    /// queued: fill its place, then drive the connection (the answer may
    /// unblock answers queued behind it). A streaming job's answer came
    /// earlier, through [`job_answered`](Self::job_answered); here it only
    /// ends.
    pub(crate) fn job_ended(&mut self, reactor: &mut Reactor<HttpServer>, ended: Ended) {
        let Ended {
            number,
            route,
            reply_to,
            cancel,
            outcome,
        } = ended;
        self.responder.jobs.in_flight -= 1;
        let (response, panicked) = match outcome {
            Outcome::Skipped | Outcome::Streamed => {
                // Skipped: told to stop while it waited in the queue (its
                // client left, or its timeout answered 504 already).
                // Streamed: it answered through its head and wrote its body.
                let end = if cancel.timed_out() {
                    JobEnd::TimedOut
                } else if cancel.is_cancelled() {
                    JobEnd::Cancelled
                } else {
                    JobEnd::Completed
                };
                self.responder.metrics.job_ended(end);
                reactor.trace(|t| {
                    let _ = writeln!(t, "  callback: job {number} ended ({end:?})");
                });
                return;
            }
            Outcome::Answered(response) => (response, false),
            Outcome::Unanswered => {
                let report = PanicReport {
                    message: "the job returned without answering".into(),
                    location: None,
                    backtrace: None,
                };
                self.job_failed(number, route, &report)
            }
            Outcome::Panicked(report) => self.job_failed(number, route, &report),
        };
        let status = response.status;
        // The client may have left while the job ran (its generation no
        // longer matches), or the job timeout answered 504 already, or (a
        // streaming job that panicked after answering) the place is filled.
        // Either way the answer has nowhere to go: drop it quietly, and
        // count it.
        let filled = self.fill(reply_to, response);
        let end = match &filled {
            // Its 504 went out and was counted when the timeout fired.
            Filled::Unwanted if cancel.timed_out() => JobEnd::TimedOut,
            Filled::Unwanted if panicked => JobEnd::Panicked,
            Filled::Unwanted => JobEnd::Cancelled,
            Filled::Placed { .. } if panicked => JobEnd::Panicked,
            Filled::Placed { .. } => JobEnd::Completed,
        };
        self.responder.metrics.job_ended(end);
        let conn = reply_to.conn;
        reactor.trace(|t| {
            let code = status.as_u16();
            let _ = match end {
                JobEnd::Completed | JobEnd::Panicked => writeln!(
                    t,
                    "  callback: job {number} done → {code} into its place on conn {conn}"
                ),
                _ => writeln!(t, "  callback: job {number} done, answer dropped ({end:?})"),
            };
        });
        self.answer_placed(reactor, reply_to, status, filled);
    }

    /// A streaming job answered, its body still to come: its head fills its
    /// place now (and its body follows through the pipe), and its timeout
    /// no longer applies — a long body is not a late answer.
    pub(crate) fn job_answered(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        number: u64,
        reply_to: ReplyTo,
        response: Response,
    ) {
        let status = response.status;
        let filled = self.fill(reply_to, response);
        let conn = reply_to.conn;
        reactor.trace(|t| {
            let code = status.as_u16();
            let _ = match filled {
                Filled::Placed { .. } => writeln!(
                    t,
                    "  callback: job {number} answered → {code} into its place on conn {conn}"
                ),
                Filled::Unwanted => writeln!(t, "  callback: job {number} answered, unwanted"),
            };
        });
        self.answer_placed(reactor, reply_to, status, filled);
    }

    /// The 500 for a job that panicked (or never answered), and its line.
    fn job_failed(
        &mut self,
        number: u64,
        route: Option<usize>,
        report: &PanicReport,
    ) -> (Response, bool) {
        self.responder
            .report_panic(&format!("job {number}"), route, report);
        let body = format!(
            "500 Internal Server Error: job panicked: {}\n",
            report.message
        );
        (
            Response::text(StatusCode::INTERNAL_SERVER_ERROR, body),
            true,
        )
    }

    /// Puts a job's answer in its place, if the place still wants one; a
    /// streamed body is first given a way to wake the loop.
    fn fill(&mut self, reply_to: ReplyTo, response: Response) -> Filled {
        let date = self.date.get();
        match self.conns.get_mut(reply_to.conn) {
            Some(conn) => {
                if let Some(body) = response.body.stream() {
                    streams::attach(body, &self.responder, reply_to.conn);
                }
                conn.fill(reply_to.seq, response, date)
            }
            None => Filled::Unwanted,
        }
    }

    /// After a job's answer filled its place: count it, disarm the job's
    /// timer, and drive the connection so it goes out.
    fn answer_placed(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        reply_to: ReplyTo,
        status: StatusCode,
        filled: Filled,
    ) {
        if let Filled::Placed {
            job,
            route,
            started,
        } = filled
        {
            let metrics = &mut self.responder.metrics;
            metrics.request(route, status.as_u16(), started.elapsed());
            if let Some(job) = job {
                reactor.cancel(job.timer);
            }
            self.drive(reactor, reply_to.conn);
        }
    }

    /// A job ran out of time: 504 in its place, and its cancel token tripped
    /// so it stops (if it looks). Its answer, should it come anyway, finds
    /// the place filled and is dropped.
    pub(super) fn job_timed_out(&mut self, reactor: &mut Reactor<HttpServer>, reply_to: ReplyTo) {
        let date = self.date.get();
        let Some(conn) = self.conns.get_mut(reply_to.conn) else {
            return;
        };
        let response = self.responder.router.error(StatusCode::GATEWAY_TIMEOUT);
        let filled = conn.time_out_job(reply_to.seq, response, date);
        if let Filled::Placed { route, started, .. } = filled {
            let metrics = &mut self.responder.metrics;
            metrics.job_timed_out();
            metrics.request(
                route,
                StatusCode::GATEWAY_TIMEOUT.as_u16(),
                started.elapsed(),
            );
            let conn = reply_to.conn;
            reactor.trace(|t| {
                let _ = writeln!(t, "  timer: a job on conn {conn} timed out: 504");
            });
            self.drive(reactor, reply_to.conn);
        }
    }
}
