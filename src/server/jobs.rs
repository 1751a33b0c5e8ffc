//! The jobs table: an offloaded job's whole life, owned by one type.
//!
//! ```text
//!   submit ──▶ queued ──▶ running ──▶ Answered/Ended message ──▶ returned: its answer fills its place
//!     │          │           │                                    (Completed, or Panicked: a 500 and an event)
//!     │          │           └─ timeout first ─▶ timed_out: 504 fills the place, token tripped;
//!     │          │                               the late answer is dropped (TimedOut, counted once)
//!     │          └─ give_up (client gone) ─▶ token tripped, timer disarmed; the worker skips it ─▶ Cancelled
//!     └─ queue full ─▶ 503 now (rejected, never submitted)
//!
//!   a streaming job (Job::stream) answers twice over:
//!   running ──▶ head ──▶ Answered: the head fills its place, its timer is disarmed
//!                 └─ body ─▶ through the pipe (stream.rs), woken by streams.rs
//!           ──▶ returns ──▶ Ended: Streamed (counted), or Unanswered (500)
//! ```
//!
//! 1. **Submit** ([`Jobs::submit`], while a connection's request is
//!    answered): the job gets an entry in the table, a number (it names the
//!    job in the trace and the panic event), a fresh [`CancelToken`], a
//!    timer for `--job-timeout`, and a `Reply` (`pool.rs`): two closures
//!    that, on the worker's thread, send the loop a [`JobMessage`]. The
//!    pool knows no loop: the reply is all it has.
//! 2. **Return**: whatever happens to the job — an answer, a panic, a skip
//!    because its token was tripped while it waited — the worker sends its
//!    message, and **the job re-enters the loop in the server's
//!    `Handler::notify`** (`http.rs`), at the start of the loop's next
//!    turn, which hands it to [`Jobs::returned`] (or [`Jobs::answered`],
//!    for a streaming job's head).
//! 3. **End**: the answer goes into the request's place if the client is
//!    still there and the timeout did not answer first; [`Jobs::settle`]
//!    counts how the job ended, once.
//!
//! One cancel path, [`Jobs::give_up`]: the token trips and the timer is
//! disarmed; the job is counted cancelled when its message comes back.
//! Every job ends exactly one way, so `submitted = completed + panicked +
//! cancelled + timed_out` once nothing is in flight.

use std::sync::Arc;
use std::time::Duration;

use super::ConnId;
use crate::cancel::CancelToken;
use crate::config::Config;
use crate::connection::{JobTicket, OffLoop};
use crate::http::{Response, StatusCode};
use crate::job::Job;
use crate::log::{EventLog, ServerEvent};
use crate::metrics::{JobEnd, Metrics};
use crate::panic_report::PanicReport;
use crate::pool::{Outcome, Reply, WorkerPool};
use crate::reactor::{Handler, Reactor, TimerKey, TokenId, TokenTable};

/// Where a job's answer goes: a connection, and the request's place in its
/// line. If the connection closed meanwhile, the generation inside `conn`
/// no longer matches and the answer is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReplyTo {
    pub(crate) conn: ConnId,
    pub(crate) seq: u64,
}

/// A job's key in the table (a generation-checked slab index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JobId(TokenId);

impl JobId {
    /// The job a connection's ticket names.
    pub(crate) fn of(ticket: JobTicket) -> JobId {
        JobId(TokenId::from_token(mio::Token(ticket.0)))
    }

    fn ticket(self) -> JobTicket {
        JobTicket(self.0.token().0)
    }
}

/// What a job's timer carries: the job ran past `--job-timeout`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JobTimeout(pub(crate) JobId);

/// What a worker sends the loop about a job.
pub(crate) enum JobMessage {
    /// A streaming job answered; its body is still to come.
    Answered(JobId, Response),
    /// The job ended (see [`Outcome`]).
    Ended(JobId, Outcome),
}

/// One job in flight.
struct Entry {
    number: u64,
    reply_to: ReplyTo,
    route: Option<usize>,
    cancel: CancelToken,
    /// Its timeout, until the answer (or the give-up) disarms it.
    timer: Option<TimerKey>,
}

/// A job back on the loop with an answer for its place (see
/// [`Jobs::returned`]).
pub(crate) struct Returned {
    pub(crate) number: u64,
    pub(crate) reply_to: ReplyTo,
    pub(crate) response: Response,
    /// What counting its end needs ([`Jobs::settle`]).
    pub(crate) unsettled: Unsettled,
}

/// A returned job not counted yet.
pub(crate) struct Unsettled {
    /// The answer is the 500 for a panic (or a job that never answered).
    panicked: bool,
    cancel: CancelToken,
}

/// The jobs in flight and the pool they run on.
pub(crate) struct Jobs {
    /// `None` when no route offloads (no thread is started for nothing),
    /// and during the teardown.
    pool: Option<WorkerPool>,
    /// Every job submitted and not yet back on the loop.
    table: TokenTable<Entry>,
    /// How a worker's message reaches the loop (`LoopHandle::send`).
    send: Arc<dyn Fn(JobMessage) + Send + Sync>,
    timeout: Duration,
    /// Where a panic's event goes.
    events: Option<EventLog>,
    /// Jobs numbered so far: each gets the next number.
    numbered: u64,
}

impl Jobs {
    /// The jobs of a server whose router `offloads` (or not: then no
    /// worker is started, and no thread runs that nobody asked for); their
    /// messages go to the loop through `send`.
    pub(crate) fn new(
        config: &Config,
        offloads: bool,
        send: Arc<dyn Fn(JobMessage) + Send + Sync>,
    ) -> Jobs {
        let pool = offloads
            .then(|| WorkerPool::start(config.workers, config.queue, config.worker_priority));
        Jobs {
            pool,
            table: TokenTable::default(),
            send,
            timeout: config.job_timeout,
            events: config.events.clone(),
            numbered: 0,
        }
    }

    /// Runs `work` on the pool for an upgraded protocol (a WebSocket
    /// message's heavy part): no request waits for it, so it has no entry
    /// here, no number and no timeout — its result goes back by the
    /// socket's own pipe, and a socket that closed meanwhile makes its
    /// sends fail. A panic in it is reported like a job's. False if the
    /// queue is full.
    pub(crate) fn run_detached(&mut self, work: OffLoop) -> bool {
        let Some(pool) = &self.pool else {
            return false;
        };
        let events = self.events.clone();
        let job = Job::new(move |_| {
            work();
            Response::new(StatusCode::NO_CONTENT)
        });
        let reply = Reply {
            head: Box::new(|_| {}),
            end: Box::new(move |outcome| {
                if let (Outcome::Panicked(report), Some(events)) = (outcome, events) {
                    events(&ServerEvent::Panicked {
                        who: "a socket's job",
                        route: "websocket",
                        report: &report,
                    });
                }
            }),
        };
        pool.submit(job, CancelToken::new(), reply).is_ok()
    }

    /// Hands `job` to the pool; its answer will go to `reply_to`. Returns
    /// its number and the ticket the connection keeps, or `Err` if the
    /// queue is full (counted rejected: the caller answers 503).
    pub(crate) fn submit<H>(
        &mut self,
        reactor: &mut Reactor<H>,
        metrics: &mut Metrics,
        job: Job,
        reply_to: ReplyTo,
        route: Option<usize>,
    ) -> Result<(u64, JobTicket), ()>
    where
        H: Handler,
        H::Timer: From<JobTimeout>,
    {
        let Some(pool) = &self.pool else {
            metrics.job_rejected();
            return Err(());
        };
        let cancel = CancelToken::new();
        let number = self.numbered + 1;
        let id = JobId(self.table.insert(Entry {
            number,
            reply_to,
            route,
            cancel: cancel.clone(),
            timer: None,
        }));
        let (head, end) = (Arc::clone(&self.send), Arc::clone(&self.send));
        let reply = Reply {
            head: Box::new(move |response| head(JobMessage::Answered(id, response))),
            end: Box::new(move |outcome| end(JobMessage::Ended(id, outcome))),
        };
        if pool.submit(job, cancel, reply).is_err() {
            self.table.remove(id.0);
            metrics.job_rejected();
            return Err(());
        }
        self.numbered = number;
        metrics.job_submitted();
        let timer = reactor.call_later(self.timeout, JobTimeout(id).into());
        if let Some(entry) = self.table.get_mut(id.0) {
            entry.timer = Some(timer);
        }
        Ok((number, id.ticket()))
    }

    /// Nobody will read the job's answer (its client left, or a failed
    /// stream broke the framing): its token trips — a queued job is
    /// skipped, a running one told to stop — and its timer is disarmed.
    /// The one way a job is cancelled; it is counted when it returns.
    /// Returns the job's number (for the trace).
    pub(crate) fn give_up<H: Handler>(
        &mut self,
        reactor: &mut Reactor<H>,
        ticket: JobTicket,
    ) -> Option<u64> {
        let entry = self.table.get_mut(JobId::of(ticket).0)?;
        entry.cancel.cancel();
        if let Some(timer) = entry.timer.take() {
            reactor.cancel(timer);
        }
        Some(entry.number)
    }

    /// A job's number, while it is in the table (for the trace).
    pub(crate) fn number(&self, id: JobId) -> Option<u64> {
        self.table.get(id.0).map(|entry| entry.number)
    }

    /// A job's timer fired: where its 504 goes, if it is still out.
    pub(crate) fn overdue(&mut self, id: JobId) -> Option<(u64, ReplyTo)> {
        let entry = self.table.get_mut(id.0)?;
        entry.timer = None;
        Some((entry.number, entry.reply_to))
    }

    /// The 504 filled the job's place: its token is tripped (it stops, if it
    /// looks) and the timeout is counted; its answer, should it come
    /// anyway, finds the place filled and is dropped.
    pub(crate) fn timed_out(&mut self, id: JobId, metrics: &mut Metrics) {
        if let Some(entry) = self.table.get_mut(id.0) {
            entry.cancel.time_out();
            metrics.job_timed_out();
        }
    }

    /// A streaming job answered: its timeout no longer applies (a long body
    /// is not a late answer). Its number and where the head goes.
    pub(crate) fn answered<H: Handler>(
        &mut self,
        reactor: &mut Reactor<H>,
        id: JobId,
    ) -> Option<(u64, ReplyTo)> {
        let entry = self.table.get_mut(id.0)?;
        if let Some(timer) = entry.timer.take() {
            reactor.cancel(timer);
        }
        Some((entry.number, entry.reply_to))
    }

    /// A job ended on its worker and its message is on the loop: its entry
    /// leaves the table. With an answer for its place (its own, or the 500
    /// for a panic), that is returned, to be filled and then
    /// [`settle`](Self::settle)d; a job that answered through its head, or
    /// never ran, is counted here.
    pub(crate) fn returned<H: Handler>(
        &mut self,
        reactor: &mut Reactor<H>,
        metrics: &mut Metrics,
        id: JobId,
        outcome: Outcome,
    ) -> Option<Returned> {
        let entry = self.table.remove(id.0)?;
        if let Some(timer) = entry.timer {
            reactor.cancel(timer);
        }
        let (response, panicked) = match outcome {
            // Skipped: told to stop while it waited in the queue (its
            // client left, or its timeout answered 504 already).
            // Streamed: it answered through its head and wrote its body.
            Outcome::Skipped | Outcome::Streamed => {
                metrics.job_ended(ending_by_token(&entry.cancel));
                return None;
            }
            Outcome::Answered(response) => (response, false),
            Outcome::Unanswered => {
                let report = PanicReport {
                    message: "the job returned without answering".into(),
                    location: None,
                    backtrace: None,
                };
                (self.failed(&entry, metrics, &report), true)
            }
            Outcome::Panicked(report) => (self.failed(&entry, metrics, &report), true),
        };
        Some(Returned {
            number: entry.number,
            reply_to: entry.reply_to,
            response,
            unsettled: Unsettled {
                panicked,
                cancel: entry.cancel,
            },
        })
    }

    /// Counts how a returned job ended, once its answer was `placed` or
    /// found its place gone (the client left, or the timeout answered).
    pub(crate) fn settle(&self, job: Unsettled, placed: bool, metrics: &mut Metrics) {
        metrics.job_ended(ending(&job.cancel, placed, job.panicked));
    }

    /// The 500 for a job that panicked (or never answered), and its event.
    fn failed(&self, entry: &Entry, metrics: &Metrics, report: &PanicReport) -> Response {
        if let Some(events) = &self.events {
            events(&ServerEvent::Panicked {
                who: &format!("job {}", entry.number),
                route: metrics.route_name(entry.route),
                report,
            });
        }
        let body = format!(
            "500 Internal Server Error: job panicked: {}\n",
            report.message
        );
        Response::text(StatusCode::INTERNAL_SERVER_ERROR, body)
    }

    /// Worker threads.
    pub(crate) fn workers(&self) -> usize {
        self.pool.as_ref().map_or(0, WorkerPool::size)
    }

    /// Jobs waiting for a worker.
    pub(crate) fn queued(&self) -> usize {
        self.pool.as_ref().map_or(0, WorkerPool::queued)
    }

    /// Jobs on a worker now.
    pub(crate) fn running(&self) -> usize {
        self.pool.as_ref().map_or(0, WorkerPool::running)
    }

    /// Paced bodies parked, holding no worker.
    pub(crate) fn parked(&self) -> usize {
        self.pool.as_ref().map_or(0, WorkerPool::parked)
    }

    /// The timer armed for a job, if any (for the tests).
    #[cfg(test)]
    fn table_timer(&self, id: JobId) -> Option<TimerKey> {
        self.table.get(id.0).and_then(|entry| entry.timer)
    }

    /// Jobs submitted and not back on the loop.
    pub(crate) fn in_flight(&self) -> usize {
        self.table.len()
    }

    /// Ends the pool after the loop stopped: joined when every job was
    /// answered (every worker is idle: quick, and no thread is left
    /// behind); detached otherwise — cancelled jobs may not look at their
    /// token, and waiting for them would break the shutdown bound.
    pub(crate) fn finish(&mut self, drained: bool) {
        if let Some(pool) = self.pool.take() {
            if drained {
                pool.join();
            }
        }
    }
}

/// How a returned job ended: by its token, else as its answer went.
fn ending(cancel: &CancelToken, placed: bool, panicked: bool) -> JobEnd {
    match (placed, panicked) {
        // Its 504 went out and was counted when the timeout fired.
        (false, _) if cancel.timed_out() => JobEnd::TimedOut,
        (_, true) => JobEnd::Panicked,
        (false, false) => JobEnd::Cancelled,
        (true, false) => JobEnd::Completed,
    }
}

/// How a job that answered through its head (or never ran) ended: by its
/// token.
fn ending_by_token(cancel: &CancelToken) -> JobEnd {
    if cancel.timed_out() {
        JobEnd::TimedOut
    } else if cancel.is_cancelled() {
        JobEnd::Cancelled
    } else {
        JobEnd::Completed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reactor::TokenId;
    use mio::Token;

    /// A loop that is never run: it lends the jobs table its timers.
    struct Loop;

    impl Handler for Loop {
        type Timer = JobTimeout;
        type Message = ();
        fn ready(&mut self, _: &mut Reactor<Self>, _: Token, _: &mio::event::Event) {}
    }

    /// Issue 21, point 3: one cancel path. Giving a job up trips its token
    /// and disarms its timer; when its message comes back it leaves the
    /// table and is counted cancelled, once.
    #[test]
    fn giving_up_trips_the_token_disarms_the_timer_and_counts_once() {
        let mut reactor = Reactor::<Loop>::new().unwrap();
        let mut metrics = Metrics::new(Vec::new());
        let (tx, rx) = crossbeam_channel::unbounded();
        let send = Arc::new(move |message| {
            let _ = tx.send(message);
        });
        let config = Config {
            workers: 1,
            ..Config::default()
        };
        let mut jobs = Jobs::new(&config, true, send);
        let (release, hold) = crossbeam_channel::bounded::<()>(0);
        let reply_to = ReplyTo {
            conn: TokenId::from_token(Token(0)),
            seq: 0,
        };
        // The worker's first job blocks until released; the second waits
        // in the queue behind it.
        let blocker = Job::new(move |_| {
            let _ = hold.recv();
            Response::text(StatusCode::OK, "done")
        });
        let (_, first) = jobs
            .submit(&mut reactor, &mut metrics, blocker, reply_to, None)
            .unwrap();
        let queued = Job::new(|_| Response::text(StatusCode::OK, "never"));
        let (_, second) = jobs
            .submit(&mut reactor, &mut metrics, queued, reply_to, None)
            .unwrap();
        let timer = |jobs: &Jobs, ticket| jobs.table_timer(JobId::of(ticket));
        let armed = timer(&jobs, second).expect("a timer for the job");
        assert!(reactor.is_armed(armed));

        assert!(jobs.give_up(&mut reactor, second).is_some());
        assert!(
            !reactor.is_armed(armed),
            "the timer of a job given up stays armed"
        );
        assert_eq!(jobs.in_flight(), 2, "it leaves when its message comes back");

        drop(release); // the blocker answers; the queued job is skipped
        let mut ended = Vec::new();
        while ended.len() < 2 {
            match rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap() {
                JobMessage::Ended(id, outcome) => ended.push((id, outcome)),
                JobMessage::Answered(..) => {}
            }
        }
        for (id, outcome) in ended {
            let skipped = matches!(outcome, Outcome::Skipped);
            let returned = jobs.returned(&mut reactor, &mut metrics, id, outcome);
            assert_eq!(skipped, returned.is_none(), "{id:?}");
            if let Some(returned) = returned {
                assert_eq!(JobId::of(first), id);
                jobs.settle(returned.unsettled, true, &mut metrics);
            }
        }
        assert_eq!(jobs.in_flight(), 0);
        let text = metrics.render(&Default::default(), &crate::histogram::Histogram::default());
        assert!(text.contains("eddy_jobs_cancelled_total 1"), "{text}");
        assert!(text.contains("eddy_jobs_completed_total 1"), "{text}");
        jobs.finish(true);
    }
}
