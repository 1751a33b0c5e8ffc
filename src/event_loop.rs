//! The event loop: one thread, one `mio::Poll`, every socket (Tornado's IOLoop).
//!
//! Read [`EventLoop::run`] top to bottom: it is the whole server. Each turn:
//!
//! 1. fire the timers that are due (a connection's deadline, a job's
//!    timeout, the shutdown deadline, the end of an accept back-off), and
//!    stop if a drain has nothing left to wait for;
//! 2. sleep in `poll` until a socket is ready, the Waker rings, a signal
//!    arrives, or the nearest deadline — never longer, never busy;
//! 3. dispatch each event by its token: the listener, the Waker, the signal
//!    pipe, or a connection;
//! 4. if the Waker rang, run the callbacks other threads queued
//!    (`EventLoop::run_callbacks`: this is where finished jobs re-enter);
//! 5. give connections that used up their turn another one.
//!
//! Everything the loop owns — connections, timers, the listener — is touched
//! only on this thread, so nothing here needs a lock. Other threads reach in
//! only through [`LoopHandle::add_callback`].
//!
//! Two parts of the loop live in files of their own: `event_loop/accept.rs`
//! (what happens when the listener's token fires) and
//! `event_loop/shutdown.rs` (signals, the drain, the teardown).

mod accept;
mod shutdown;

use std::cell::RefCell;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::config::Config;
use crate::conn_table::{ConnId, ConnTable};
use crate::connection::{Connection, DeadlineKind, Filled, Inbound, ReadOutcome, READ_CHUNK};
use crate::http::{DateCache, Limits, Response, StatusCode};
use crate::listener;
use crate::loop_handle::{Callback, LoopHandle};
use crate::metrics::{JobEnd, Metrics};
use crate::panic_report::{self, PanicReport};
use crate::pool::{CancelToken, JobDone, WorkerPool};
use crate::response_queue::JobTicket;
use crate::router::{Answer, LoopStatus, Router};
use crate::signals::SignalPipe;
use crate::spares::Spares;
use crate::timers::{TimerKey, Timers};
use accept::{AcceptPause, ACCEPT_BACKOFF_MIN};

/// Reserved tokens, at the top of the range so they never meet a connection's
/// packed `ConnId` (see `conn_table.rs`).
const LISTENER: Token = Token(usize::MAX);
const WAKER: Token = Token(usize::MAX - 1);
const SIGNALS: Token = Token(usize::MAX - 2);

/// How often the heartbeat timer fires. It exists so the loop always has a
/// timer to be late for: its lateness is the loop-lag metric, the number
/// that shows a blocked loop (see `metrics.rs`). Four wakes a second cost
/// nothing measurable.
const HEARTBEAT: Duration = Duration::from_millis(250);

/// Rounds of read → decode → answer → write one connection gets per turn.
/// A client that pipelines without pause could otherwise keep the loop on
/// its connection for ever; past this, it waits for the next turn.
const DRIVE_ROUNDS: usize = 4;

/// Where a response goes: a connection and a slot in its response queue.
/// A job carries one to its worker and back; if the connection closed in the
/// meantime, the generation inside `conn` no longer matches and the answer is
/// dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseSlot {
    pub(crate) conn: ConnId,
    pub(crate) seq: u64,
}

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TimerEvent {
    /// A connection's header, idle or write deadline passed.
    Deadline(ConnId),
    /// An offloaded job ran past `--job-timeout`.
    JobTimeout(ResponseSlot),
    /// The graceful shutdown ran out of time.
    ShutdownDeadline,
    /// An accept back-off ended: listen again.
    ResumeAccepting,
    /// The loop-lag heartbeat.
    Heartbeat,
}

/// How [`EventLoop::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A signal (or `begin_shutdown`) asked to stop, and every in-flight
    /// request was answered and flushed.
    Drained,
    /// The shutdown timeout passed with this many connections still busy;
    /// their jobs were cancelled.
    ShutdownTimedOut {
        /// Connections abandoned.
        abandoned: usize,
    },
    /// A second signal arrived during the drain: stopped at once.
    SecondSignal,
}

/// The event loop and everything it owns.
pub struct EventLoop {
    poll: Poll,
    /// `None` once draining: dropping it makes new connects fail at once.
    listener: Option<TcpListener>,
    local_addr: SocketAddr,
    /// Why the listener is deregistered, if it is.
    accept_paused: Option<AcceptPause>,
    /// Connections may wait in the accept backlog: set by a listener event,
    /// cleared by `WouldBlock`. Edge-triggered memory again: stop accepting
    /// after a batch and no new event will come for those still waiting.
    accept_ready: bool,
    /// The current accept back-off, doubled per consecutive failure.
    accept_backoff: Duration,
    /// Boxed: a `Connection` is a few hundred bytes, and the slab's spare
    /// capacity (it grows by doubling) should cost a pointer per slot, not
    /// a whole connection.
    conns: ConnTable<Box<Connection<TcpStream>>>,
    /// Buffers parked by idle connections, lent to busy ones.
    spares: Spares,
    /// Every read lands here first, then what arrived is copied into the
    /// connection's buffer: one buffer, zeroed once, for all connections.
    scratch: Box<[u8]>,
    /// Connections that used up their rounds with work left: driven again
    /// next turn, and the poll does not sleep while any wait.
    again: Vec<ConnId>,
    timers: Timers<TimerEvent>,
    /// The receiving side of `LoopHandle::add_callback`.
    callbacks: Receiver<Callback>,
    handle: LoopHandle,
    /// `None` when the embedding program handles signals itself.
    signals: Option<SignalPipe>,
    /// `None` only while `run` is returning.
    pool: Option<WorkerPool>,
    router: Router,
    config: Config,
    limits: Limits,
    /// The `Date` header, formatted at most once a second.
    date: DateCache,
    /// Shutdown began: no new connections, last answers say goodbye.
    draining: bool,
    /// Set when the loop should stop at the end of this turn.
    exit: Option<Exit>,
    /// Everything `/metrics` reports. In a `RefCell` because inline
    /// handlers read it (through `LoopStatus`) while the loop, on the same
    /// thread, counts between their calls.
    metrics: RefCell<Metrics>,
    /// Jobs handed to the pool and not answered, skipped or dropped yet.
    jobs_in_flight: usize,
    /// Jobs numbered so far: each offloaded job gets the next number, which
    /// names it in the panic line.
    jobs_numbered: u64,
}

impl EventLoop {
    /// Binds the listener, starts the worker pool, installs the signal pipe.
    /// Nothing is served until [`run`](EventLoop::run).
    pub fn bind(config: Config, router: Router) -> io::Result<EventLoop> {
        panic_report::set_backtraces(config.backtraces);
        let poll = Poll::new()?;
        let mut listener = listener::bind(config.addr, config.reuse_port)?;
        let local_addr = listener.local_addr()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let (handle, callbacks) = LoopHandle::new(Waker::new(poll.registry(), WAKER)?);
        let signals = if config.handle_signals {
            Some(SignalPipe::install(poll.registry(), SIGNALS)?)
        } else {
            None
        };
        let pool = WorkerPool::start(config.workers, config.queue, &handle);
        let router_paths = router.paths();
        let mut timers = Timers::default();
        timers.insert(Instant::now() + HEARTBEAT, TimerEvent::Heartbeat);
        let limits = Limits {
            max_body: config.max_body,
            ..Limits::default()
        };
        Ok(EventLoop {
            poll,
            listener: Some(listener),
            local_addr,
            accept_paused: None,
            accept_ready: false,
            accept_backoff: ACCEPT_BACKOFF_MIN,
            conns: ConnTable::default(),
            again: Vec::new(),
            spares: Spares::default(),
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
            timers,
            callbacks,
            handle,
            signals,
            pool: Some(pool),
            router,
            config,
            limits,
            date: DateCache::new(),
            draining: false,
            exit: None,
            metrics: RefCell::new(Metrics::new(router_paths)),
            jobs_in_flight: 0,
            jobs_numbered: 0,
        })
    }

    /// The address actually bound (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle other threads use to run code on this loop.
    pub fn handle(&self) -> LoopHandle {
        self.handle.clone()
    }

    /// True once shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining
    }

    /// Serves until shut down. This is the whole loop.
    pub fn run(mut self) -> io::Result<Exit> {
        let mut events = Events::with_capacity(1024);
        loop {
            // 1. Timers that are due. Then, before sleeping: is there
            //    anything left to wait for? (A timer, an event or a callback
            //    in the last turn may have closed the last connection.)
            self.fire_due_timers();
            if self.draining && self.conns.is_empty() && self.exit.is_none() {
                self.exit = Some(Exit::Drained);
            }
            if let Some(exit) = self.exit {
                return Ok(self.finish(exit));
            }

            // 2. Sleep until something happens or the next deadline. If
            //    accepting stopped mid-backlog, don't sleep at all.
            let timeout =
                if !self.again.is_empty() || (self.accept_ready && self.accept_paused.is_none()) {
                    Some(Duration::ZERO)
                } else {
                    self.timers
                        .next_deadline()
                        .map(|deadline| deadline.saturating_duration_since(Instant::now()))
                };
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                // A signal landed during epoll_wait: just go round again
                // (the signal itself arrives through the pipe).
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }

            // 3. Dispatch by token.
            let mut woken = false;
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_ready = true,
                    WAKER => woken = true,
                    SIGNALS => self.on_signals(),
                    token => {
                        let id = ConnId::from_token(token);
                        // A stale token (its connection closed earlier in
                        // this batch) finds nothing and is ignored.
                        if let Some(conn) = self.conns.get_mut(id) {
                            conn.note_event(event);
                            self.drive(id);
                        }
                    }
                }
            }
            if self.accept_ready && self.accept_paused.is_none() {
                self.accept_batch();
            }

            // 4. Callbacks from other threads: finished jobs come in here.
            if woken {
                self.run_callbacks();
            }

            // 5. Connections that were cut short for fairness.
            for id in std::mem::take(&mut self.again) {
                self.drive(id);
            }
        }
    }

    /// Runs the callbacks queued by `LoopHandle::add_callback` — in practice,
    /// finished jobs arriving from the pool ([`job_done`](Self::job_done)).
    ///
    /// Only those already queued when we start: a callback that queues
    /// another must not keep the loop from polling sockets (Tornado runs
    /// "the callbacks of this iteration" for the same reason). Wakes
    /// coalesce, so one Waker event may stand for many callbacks: drain
    /// them all, never one per event.
    fn run_callbacks(&mut self) {
        let queued = self.callbacks.len();
        for _ in 0..queued {
            match self.callbacks.try_recv() {
                Ok(callback) => callback(self),
                Err(_) => break,
            }
        }
    }

    /// A job's answer re-enters the loop: fill its slot, then flush the
    /// connection (the answer may unblock answers queued behind it).
    pub(crate) fn job_done(&mut self, done: JobDone) {
        let JobDone {
            number,
            route,
            slot,
            response,
            cancel,
            panic,
        } = done;
        self.jobs_in_flight -= 1;
        if let Some(report) = &panic {
            report_panic(&self.metrics, &format!("job {number}"), route, report);
        }
        let panicked = panic.is_some();
        let date = self.date.get();
        let status = response.status;
        // The client may have left while the job ran (its generation no
        // longer matches), or the job timeout answered 504 already. Either
        // way the answer has nowhere to go: drop it quietly, and count it.
        let filled = match self.conns.get_mut(slot.conn) {
            Some(conn) => conn.fill(slot.seq, response, date),
            None => Filled::NotWaiting,
        };
        let end = match (&filled, panicked) {
            // Its 504 went out and was counted when the timeout fired.
            (Filled::NotWaiting, _) if cancel.timed_out() => JobEnd::TimedOut,
            (Filled::NotWaiting, _) => JobEnd::Cancelled,
            (Filled::Yes { .. }, true) => JobEnd::Panicked,
            (Filled::Yes { .. }, false) => JobEnd::Completed,
        };
        self.metrics.borrow_mut().job_ended(end);
        count(&self.metrics, status, &filled);
        if let Filled::Yes { job, .. } = filled {
            if let Some(job) = job {
                self.timers.cancel(job.timer);
            }
            self.drive(slot.conn);
        }
    }

    /// A worker skipped a job that was told to stop while it waited in the
    /// queue: its client left, or its timeout answered 504 already.
    pub(crate) fn job_skipped(&mut self, cancel: CancelToken) {
        self.jobs_in_flight -= 1;
        let end = if cancel.timed_out() {
            JobEnd::TimedOut
        } else {
            JobEnd::Cancelled
        };
        self.metrics.borrow_mut().job_ended(end);
    }

    /// Moves one connection forward as far as it can go without blocking:
    /// read what arrived, answer every complete request, write what is
    /// ready — again while that frees room for more — then decide interest,
    /// deadline, or close.
    fn drive(&mut self, id: ConnId) {
        let pool = self.pool.as_ref().expect("pool lives while the loop runs");
        // What inline handlers may see. Built from the fields it needs (not
        // a `&self` method) so the connection table stays free to borrow.
        let status = LoopStatus {
            draining: self.draining,
            open_connections: self.conns.len(),
            workers: pool.size(),
            jobs_queued: pool.queued(),
            jobs_in_flight: self.jobs_in_flight,
            accept_backoff: match self.accept_paused {
                Some(AcceptPause::Backoff(backoff)) => backoff,
                _ => Duration::ZERO,
            },
            metrics: &self.metrics,
        };
        let date = self.date.get();
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        if conn.is_lingering() {
            match conn.read(&mut self.scratch) {
                ReadOutcome::Gone => self.close(id),
                ReadOutcome::Open => conn.sync_deadline(&mut self.timers, id, &self.config),
            }
            return;
        }
        conn.unpark(&mut self.spares);
        let mut rounds = 0;
        loop {
            if conn.read(&mut self.scratch) == ReadOutcome::Gone {
                self.close(id);
                return;
            }
            while let Some(inbound) = conn.next_request(date, self.config.access_log) {
                let request = match inbound {
                    Inbound::Request(request) => request,
                    Inbound::Refused(status) => {
                        self.metrics.borrow_mut().refused(status.as_u16());
                        continue;
                    }
                };
                let resolved = self.router.resolve(&request);
                let route = resolved.path_index().unwrap_or(usize::MAX);
                let seq = conn.reserve(&request, self.config.access_log, route);
                let slot = ResponseSlot { conn: id, seq };
                let job_number = self.jobs_numbered + 1;
                match self
                    .router
                    .dispatch(resolved, &request, &status, pool, slot, job_number)
                {
                    Answer::Now(response) => {
                        let code = response.status;
                        let filled = conn.fill(seq, response, date);
                        count(&self.metrics, code, &filled);
                    }
                    Answer::Rejected(response) => {
                        self.metrics.borrow_mut().job_rejected();
                        let code = response.status;
                        let filled = conn.fill(seq, response, date);
                        count(&self.metrics, code, &filled);
                    }
                    Answer::Panicked(report) => {
                        report_panic(&self.metrics, "handler", route, &report);
                        let response = Response::error(StatusCode::INTERNAL_SERVER_ERROR);
                        let filled = conn.fill(seq, response, date);
                        count(&self.metrics, StatusCode::INTERNAL_SERVER_ERROR, &filled);
                    }
                    Answer::Offloaded(cancel) => {
                        self.jobs_numbered = job_number;
                        self.metrics.borrow_mut().job_submitted();
                        self.jobs_in_flight += 1;
                        let at = Instant::now() + self.config.job_timeout;
                        let timer = self.timers.insert(at, TimerEvent::JobTimeout(slot));
                        conn.track_job(seq, JobTicket { cancel, timer });
                    }
                }
                conn.recycle(request);
            }
            if conn.flush().is_err() || conn.after_fin() {
                self.close(id);
                return;
            }
            if conn.is_finished() {
                // Our last answer is written. If the client may still be
                // sending, half-close and linger (see `Connection::linger`)
                // rather than reset the answer out of its hands.
                if conn.stopped_reading_early()
                    && conn.socket_mut().shutdown(Shutdown::Write).is_ok()
                {
                    conn.linger();
                    self.drive(id);
                } else {
                    self.close(id);
                }
                return;
            }
            // Writing may have lifted a limit that held decoding, and no
            // readiness event will say so: go round while that is the case.
            rounds += 1;
            if !conn.can_progress() {
                break;
            }
            if rounds == DRIVE_ROUNDS {
                self.again.push(id);
                break;
            }
        }
        if conn.sync_interest(self.poll.registry(), id).is_err() {
            self.close(id);
            return;
        }
        conn.sync_deadline(&mut self.timers, id, &self.config);
        conn.park(&mut self.spares);
    }

    /// Closes a connection: cancels its jobs and its deadline, frees its slot
    /// (its id goes stale), and resumes accepting if we were full.
    fn close(&mut self, id: ConnId) {
        let Some(mut conn) = self.conns.remove(id) else {
            return;
        };
        conn.abandon(&mut self.timers);
        // Dropping the socket closes it, and closing removes it from the
        // epoll set; no explicit deregister needed.
        drop(conn);
        if self.accept_paused == Some(AcceptPause::Full) {
            self.resume_accepting();
        }
    }

    fn fire_due_timers(&mut self) {
        let now = Instant::now();
        while let Some((key, event)) = self.timers.pop_due(now) {
            self.metrics.borrow_mut().loop_lag(now - key.at());
            match event {
                TimerEvent::Heartbeat => {
                    self.timers.insert(now + HEARTBEAT, TimerEvent::Heartbeat);
                }
                TimerEvent::Deadline(id) => self.on_deadline(id, key, now),
                TimerEvent::JobTimeout(slot) => self.on_job_timeout(slot),
                TimerEvent::ShutdownDeadline => {
                    let abandoned = self.conns.len();
                    self.exit = Some(Exit::ShutdownTimedOut { abandoned });
                }
                TimerEvent::ResumeAccepting => {
                    if matches!(self.accept_paused, Some(AcceptPause::Backoff(_))) {
                        self.resume_accepting();
                    }
                }
            }
        }
    }

    /// A connection's deadline passed.
    fn on_deadline(&mut self, id: ConnId, key: TimerKey, now: Instant) {
        let date = self.date.get();
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let Some(passed) = conn.on_timer(key, now, &mut self.timers, id) else {
            return;
        };
        match passed {
            // Nothing of a request arrived (a preconnect, or a client that
            // went quiet), or the client stopped taking our output: close
            // without a word (there is no one to say it to).
            DeadlineKind::Idle | DeadlineKind::Write | DeadlineKind::Linger => self.close(id),
            DeadlineKind::Header if conn.between_requests() => self.close(id),
            // A drain's grace passed with nothing asked: close, lingering
            // if the client may have sent something at the last moment.
            DeadlineKind::DrainGrace => {
                conn.end_grace();
                self.drive(id);
            }
            // Part of a request arrived and then stalled (slowloris): 408.
            DeadlineKind::Header => {
                conn.time_out_request(date);
                self.metrics
                    .borrow_mut()
                    .refused(StatusCode::REQUEST_TIMEOUT.as_u16());
                self.drive(id);
            }
        }
    }

    /// An offloaded job ran out of time: 504 in its slot, and its cancel
    /// token tripped so it stops (if it looks). Its answer, should it come
    /// anyway, finds the slot filled and is dropped.
    fn on_job_timeout(&mut self, slot: ResponseSlot) {
        let date = self.date.get();
        let Some(conn) = self.conns.get_mut(slot.conn) else {
            return;
        };
        let filled = conn.time_out_job(slot.seq, date);
        if let Filled::Yes { .. } = filled {
            self.metrics.borrow_mut().job_timed_out();
            count(&self.metrics, crate::StatusCode::GATEWAY_TIMEOUT, &filled);
            self.drive(slot.conn);
        }
    }
}

/// Counts an answer that went into its slot (a free function so `drive`
/// can call it while it holds a connection borrowed from the table).
fn count(metrics: &RefCell<Metrics>, status: crate::StatusCode, filled: &Filled) {
    if let Filled::Yes { route, started, .. } = filled {
        metrics
            .borrow_mut()
            .request(*route, status.as_u16(), started.elapsed());
    }
}

/// Writes the one line a caught panic costs on stderr (and its backtrace, if
/// `--backtraces` asked for one): `eddy: job 3 on /fail panicked: job 3
/// failed on purpose (at src/demo.rs:83:34)`. A free function, like
/// `count`, so `drive` can call it while it holds a connection.
fn report_panic(metrics: &RefCell<Metrics>, who: &str, route: usize, report: &PanicReport) {
    let metrics = metrics.borrow();
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "eddy: {who} on {} panicked: {report}",
        metrics.route_name(route)
    );
    if let Some(backtrace) = &report.backtrace {
        let _ = write!(err, "{backtrace}");
    }
}
