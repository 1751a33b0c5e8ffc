//! `HttpServer`: the handler the reactor calls. It says what each token,
//! timer and message means, drives connections, and closes them.
//!
//! Everything here runs on the loop thread, called by the reactor, and
//! everything that can reach the server is one of four calls:
//!
//! - [`Handler::ready`]: the listener's token accepts (`accept.rs`); any
//!   other token is a connection, which is driven;
//! - [`Handler::timer`]: a [`ServerTimer`] — a connection's deadline, a
//!   job's timeout (`jobs.rs`), the shutdown deadline, the acceptor's
//!   back-off or backlog, a connection cut short last turn;
//! - [`Handler::signal`]: SIGINT/SIGTERM, the drain (`shutdown.rs`);
//! - [`Handler::notify`]: a [`Message`] from another thread — **a finished
//!   job re-enters the loop here**, as do a stream's producer, a TLS
//!   handshake's processed flight (`handshakes.rs`) and a
//!   `ServerHandle::shutdown`. The whole list is the enum; one `match`
//!   applies it.
//!
//! The state is split by owner: the acceptor (`accept.rs`), the connection
//! table (each an `Entry`, `entry.rs`), what answers requests (the
//! `Responder`, `respond.rs`, which owns the router, the jobs table and
//! the counters), the drain (`shutdown.rs`).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use mio::event::Event;
use mio::Token;

use super::accept::{AcceptTimer, Accepted, Acceptor, ACCEPT_BATCH, LISTENER};
use super::entry::{DeadlineOf, Entry};
#[cfg(feature = "tls")]
use super::handshakes::Handshakes;
use super::jobs::{JobId, JobMessage, JobTimeout, Jobs, Returned};
use super::listening::Listening;
use super::respond::{Facts, Responder};
use super::shutdown::{Drain, Exit, Signalled};
use super::streams::Streams;
use super::{trace, ConnId};
use crate::config::Config;
use crate::connection::{Connection, Expiry, Filled, Kit, Spares};
use crate::http::{DateCache, Limits, Response, StatusCode};
use crate::log::ServerEvent;
use crate::metrics::Metrics;
use crate::pool::Outcome;
use crate::reactor::LoopHandle;
use crate::reactor::{Fired, Handler, Reactor, Span, TokenTable};
use crate::router::Router;
use crate::status::{Ask, ServerHandle};
#[cfg(feature = "tls")]
use crate::tls::{TlsConfig, TlsError};
#[cfg(feature = "tls")]
use crate::transport::{HandshakeStep, Tls};
use crate::transport::{Link, Plain, Socket, TlsNews, READ_CHUNK};

/// Everything that enters the loop from another thread.
pub(crate) enum Message {
    /// A job's worker has news (`jobs.rs`).
    Job(JobMessage),
    /// A streamed body's producer sent bytes, or ended, while its
    /// connection waited (`streams.rs`).
    StreamReady(ConnId),
    /// `ServerHandle::shutdown` was called.
    Shutdown,
    /// `ServerHandle::reload_tls` was called.
    ReloadTls,
    /// The certificate and key, read again on a thread of their own.
    #[cfg(feature = "tls")]
    TlsReloaded(Result<TlsConfig, TlsError>),
    /// A connection's handshake flight, processed on a handshake thread
    /// (`handshakes.rs`).
    #[cfg(feature = "tls")]
    // Boxed: every message the loop takes is moved by value, and the
    // step's session state would make each of them large.
    Handshaken(ConnId, Box<HandshakeStep>),
}

/// What the server's timers (and `call_soon`s) carry.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ServerTimer {
    /// A connection's header, idle, write, linger or drain deadline.
    Deadline(ConnId),
    /// An offloaded job ran past `--job-timeout`.
    JobTimeout(JobId),
    /// The graceful shutdown ran out of time.
    ShutdownDeadline,
    /// The acceptor's: a back-off ended, or more waits in the backlog.
    Accept(AcceptTimer),
    /// (`call_soon`) A connection used up its rounds with work left: drive
    /// it again, now that everyone else had a turn.
    Resume(ConnId),
}

impl From<DeadlineOf> for ServerTimer {
    fn from(DeadlineOf(id): DeadlineOf) -> ServerTimer {
        ServerTimer::Deadline(id)
    }
}

impl From<JobTimeout> for ServerTimer {
    fn from(JobTimeout(id): JobTimeout) -> ServerTimer {
        ServerTimer::JobTimeout(id)
    }
}

impl From<AcceptTimer> for ServerTimer {
    fn from(timer: AcceptTimer) -> ServerTimer {
        ServerTimer::Accept(timer)
    }
}

/// The HTTP side of the server.
pub(crate) struct HttpServer {
    config: Config,
    acceptor: Acceptor,
    /// Boxed: an entry is a few hundred bytes, and the slab's spare
    /// capacity (it grows by doubling) should cost a pointer per entry, not
    /// a whole connection.
    conns: TokenTable<Box<Entry>>,
    responder: Responder,
    /// Storage idle connections lent, for busy ones.
    spares: Spares,
    /// Every read lands here first, then what arrived is copied into the
    /// connection's buffer: one buffer, zeroed once, for all connections.
    scratch: Box<[u8]>,
    drain: Drain,
    /// The `Date` header, formatted at most once a second.
    date: DateCache,
    /// How a certificate reload's thread reaches the loop.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    loop_handle: LoopHandle<HttpServer>,
    /// Where TLS handshakes are processed, off the loop; `None` for plain
    /// HTTP, or when the configuration keeps them on the loop.
    #[cfg(feature = "tls")]
    handshakes: Option<Handshakes>,
}

impl HttpServer {
    /// Serves on `acceptor` (registered in `reactor`) and starts the pool.
    pub(crate) fn new(
        config: Config,
        router: Router,
        acceptor: Acceptor,
        reactor: &mut Reactor<HttpServer>,
    ) -> HttpServer {
        crate::panic_report::set_backtraces(config.backtraces);
        let loop_handle = reactor.handle();
        let to_loop = loop_handle.clone();
        let jobs = Jobs::new(
            &config,
            router.offloads(),
            Arc::new(move |message| {
                // A closed loop means everyone we could answer is gone too.
                let _ = to_loop.send(Message::Job(message));
            }),
        );
        #[allow(unused_mut)] // mutated with the `tls` feature only
        let mut metrics = Metrics::new(router.names());
        #[cfg(feature = "tls")]
        metrics.tls_serving(config.tls.as_ref().and_then(TlsConfig::not_after));
        let to_loop = loop_handle.clone();
        let streams = Streams::new(
            Arc::new(move |conn| {
                let _ = to_loop.send(Message::StreamReady(conn));
            }),
            &metrics,
        );
        let to_loop = loop_handle.clone();
        let handle = ServerHandle::new(move |ask| {
            to_loop.send(match ask {
                Ask::Shutdown => Message::Shutdown,
                Ask::ReloadTls => Message::ReloadTls,
            })
        });
        let responder = Responder::new(router, jobs, metrics, streams, handle, &config);
        #[cfg(feature = "tls")]
        let handshakes = config
            .tls
            .as_ref()
            .map(TlsConfig::handshake_threads)
            .filter(|&threads| threads > 0)
            .map(|threads| {
                let to_loop = loop_handle.clone();
                Handshakes::start(
                    threads,
                    Arc::new(move |conn, step| {
                        let _ = to_loop.send(Message::Handshaken(conn, Box::new(step)));
                    }),
                )
            });
        HttpServer {
            acceptor,
            conns: TokenTable::default(),
            responder,
            spares: Spares::default(),
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
            drain: Drain::Serving,
            date: DateCache::new(),
            config,
            loop_handle,
            #[cfg(feature = "tls")]
            handshakes,
        }
    }

    pub(crate) fn listening(&self) -> &Listening {
        self.acceptor.listening()
    }

    pub(crate) fn handle(&self) -> ServerHandle {
        self.responder.handle().clone()
    }

    pub(crate) fn open_connections(&self) -> usize {
        self.conns.len()
    }

    pub(crate) fn exit(&self) -> Option<Exit> {
        self.drain.exit()
    }

    /// Reports `event` to the program's events hook, if it gave one.
    fn event(&self, event: ServerEvent<'_>) {
        if let Some(hook) = &self.config.events {
            hook(&event);
        }
    }

    /// Drives connection `id` (see `Connection::drive`), then registers
    /// what it now waits for, or closes it if it is done, or asks for
    /// another turn if it was cut short.
    fn drive(&mut self, reactor: &mut Reactor<HttpServer>, id: ConnId) {
        let facts = Facts {
            open_connections: self.conns.len(),
            draining: self.drain.is_draining(),
            accept_backoff: self.acceptor.backoff_in_force(),
        };
        let date = self.date.get();
        let Some(entry) = self.conns.get_mut(id) else {
            return; // closed earlier in this turn: a stale token
        };
        let kit = Kit {
            scratch: &mut self.scratch,
            spares: &mut self.spares,
            date,
            config: &self.config,
        };
        let mut answering = self.responder.answering(reactor, id, facts);
        let driven = entry.conn().drive(kit, &mut answering);
        let news = entry.conn().transport().take_news();
        if news != TlsNews::default() {
            self.responder
                .metrics()
                .tls(news.plain_http, news.handshake);
        }
        // A handshake flight the TLS transport let go: to a handshake
        // thread, or, with their queue full, the connection is shed.
        #[cfg(feature = "tls")]
        let shed = match entry.conn().transport().take_handshake_step() {
            None => false,
            Some(step) => {
                let handshakes = self.handshakes.as_ref();
                !hand_off(handshakes, self.responder.metrics(), reactor, id, step)
            }
        };
        #[cfg(not(feature = "tls"))]
        let shed = false;
        // A stream that began after the drain did — its request answered in
        // the drain, or on a connection already closing — is told too.
        if facts.draining {
            entry.conn().drain_stream();
        }
        if reactor.is_tracing() {
            let line = trace::driven(id, &driven, entry.conn_ref());
            reactor.trace(|t| t.push_str(&line));
        }
        if shed || entry.conn_ref().is_closed() || entry.sync(reactor, id).is_err() {
            self.close(reactor, id);
        } else if driven.cut_short {
            reactor.call_soon(ServerTimer::Resume(id));
        }
    }

    /// Closes a connection: gives up its jobs, disarms its deadline, frees
    /// its entry (its id goes stale), and resumes accepting if the server
    /// was full.
    fn close(&mut self, reactor: &mut Reactor<HttpServer>, id: ConnId) {
        let Some(mut entry) = self.conns.remove(id) else {
            return;
        };
        entry.disarm(reactor);
        let facts = Facts {
            open_connections: self.conns.len(),
            draining: self.drain.is_draining(),
            accept_backoff: self.acceptor.backoff_in_force(),
        };
        entry
            .conn()
            .close(&mut self.responder.answering(reactor, id, facts));
        drop(entry);
        reactor.trace(|t| {
            let _ = writeln!(t, "    conn {id}: closed");
        });
        self.acceptor.has_room(reactor);
        self.stop_if_drained(reactor);
    }

    /// Accepts at most `limit` connections; true if it stopped at the
    /// limit (the backlog may hold more).
    fn accept_up_to(&mut self, reactor: &mut Reactor<HttpServer>, limit: usize) -> bool {
        for _ in 0..limit {
            let (open, max) = (self.conns.len(), self.config.max_conns);
            match self.acceptor.next(reactor, open, max) {
                Accepted::Socket(socket, peer) => {
                    self.responder.metrics().connection_accepted();
                    self.open(reactor, socket, peer);
                }
                Accepted::Nothing => return false,
                Accepted::Failed(error, backoff) => {
                    self.event(ServerEvent::AcceptFailed {
                        error: &error,
                        backoff,
                    });
                    self.responder.metrics().accept_failed();
                    return false;
                }
            }
        }
        true
    }

    /// A batch of accepts; another next turn if it used up the batch.
    fn accept_batch(&mut self, reactor: &mut Reactor<HttpServer>) {
        if self.accept_up_to(reactor, ACCEPT_BATCH) {
            reactor.call_soon(ServerTimer::Accept(AcceptTimer::More));
        }
    }

    /// Makes an accepted socket a connection and gives it its first round,
    /// which sets its first deadline: the header timeout, counted from the
    /// connect.
    fn open(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        socket: Socket,
        peer: Option<std::net::SocketAddr>,
    ) {
        let limits = Limits {
            max_body: self.config.max_body,
            ..Limits::default()
        };
        let access_log = self.config.access_log.clone();
        let link = match self.link(socket) {
            Ok(link) => link,
            Err(_) => return, // no session could be made: drop the socket
        };
        let conn = Connection::new(link, peer, limits, access_log);
        let id = self.conns.insert(Box::new(Entry::new(conn)));
        let registered = match self.conns.get_mut(id) {
            Some(entry) => entry.register(reactor, id),
            None => return,
        };
        if registered.is_err() {
            self.conns.remove(id);
            return;
        }
        reactor.trace(|t| {
            let from = peer.map_or_else(|| "a Unix socket".to_string(), |peer| peer.to_string());
            let _ = writeln!(t, "    conn {id}: accepted from {from}");
        });
        self.drive(reactor, id);
    }

    /// The transport for an accepted socket: a TLS session when the server
    /// speaks HTTPS, else the bytes as they are.
    fn link(&self, socket: Socket) -> std::io::Result<Link> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.config.tls {
            let offload = self.handshakes.is_some();
            return Ok(Link::Tls(Box::new(Tls::new(
                socket,
                tls.rustls(),
                offload,
            )?)));
        }
        Ok(Link::Plain(Plain::new(socket)))
    }

    /// A connection's deadline timer fired.
    fn deadline_fired(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        id: ConnId,
        fired: Fired<ServerTimer>,
    ) {
        let date = self.date.get();
        let Some(entry) = self.conns.get_mut(id) else {
            return;
        };
        if !fired.key.is_some_and(|key| entry.timer_fired(key)) {
            return; // a timer replaced earlier
        }
        let expiry = entry.conn().deadline_passed(Instant::now());
        reactor.trace(|t| {
            let late = Span(fired.late);
            let _ = writeln!(t, "  timer: conn {id}'s deadline, {late} late: {expiry:?}");
        });
        match expiry {
            // The deadline moved later: a timer for it.
            Expiry::NotYet => {
                if entry.sync(reactor, id).is_err() {
                    self.close(reactor, id);
                }
            }
            Expiry::Close => self.close(reactor, id),
            Expiry::Drive => self.drive(reactor, id),
            Expiry::TimedOut => {
                let response = self.responder.router().error(StatusCode::REQUEST_TIMEOUT);
                entry.conn().time_out_request(&response, date);
                self.responder.metrics().refused(response.status.as_u16());
                self.drive(reactor, id);
            }
        }
    }

    /// A job ran out of time: 504 in its place, and its token tripped so
    /// it stops (if it looks).
    fn job_timed_out(&mut self, reactor: &mut Reactor<HttpServer>, id: JobId) {
        let (jobs, _) = self.responder.jobs();
        let Some((number, reply_to)) = jobs.overdue(id) else {
            return;
        };
        let response = self.responder.router().error(StatusCode::GATEWAY_TIMEOUT);
        let Filled::Placed { route, started, .. } =
            self.fill(reply_to.conn, reply_to.seq, response)
        else {
            return;
        };
        let (jobs, metrics) = self.responder.jobs();
        jobs.timed_out(id, metrics);
        metrics.request(route, 504, started.elapsed());
        reactor.trace(|t| {
            let _ = writeln!(t, "  timer: job {number} timed out: 504 into its place");
        });
        self.drive(reactor, reply_to.conn);
    }

    /// Applies a job's message: its answer fills its place (if the client
    /// is still there and the timeout did not answer first), the job is
    /// counted, and the connection is driven so the answer — and any
    /// answer queued behind it — goes out.
    fn job_message(&mut self, reactor: &mut Reactor<HttpServer>, message: JobMessage) {
        let (number, reply_to, response, unsettled) = match message {
            JobMessage::Answered(id, response) => {
                let (jobs, _) = self.responder.jobs();
                let Some((number, reply_to)) = jobs.answered(reactor, id) else {
                    return;
                };
                (number, reply_to, response, None)
            }
            JobMessage::Ended(id, outcome) => {
                let (jobs, metrics) = self.responder.jobs();
                let number = jobs.number(id).unwrap_or(0);
                let how = match outcome {
                    Outcome::Streamed => "its body is done",
                    _ => "skipped: nobody wanted its answer",
                };
                let Some(returned) = jobs.returned(reactor, metrics, id, outcome) else {
                    reactor.trace(|t| {
                        let _ = writeln!(t, "  message: job {number} ended, {how}");
                    });
                    return;
                };
                let Returned {
                    number,
                    reply_to,
                    response,
                    unsettled,
                } = returned;
                (number, reply_to, response, Some(unsettled))
            }
        };
        let code = response.status.as_u16();
        let filled = self.fill(reply_to.conn, reply_to.seq, response);
        let placed = matches!(filled, Filled::Placed { .. });
        let (jobs, metrics) = self.responder.jobs();
        if let Some(unsettled) = unsettled {
            jobs.settle(unsettled, placed, metrics);
        }
        if let Filled::Placed { route, started, .. } = filled {
            metrics.request(route, code, started.elapsed());
        }
        let conn = reply_to.conn;
        reactor.trace(|t| {
            let _ = if placed {
                writeln!(
                    t,
                    "  message: job {number} answered {code} → its place on conn {conn}"
                )
            } else {
                writeln!(
                    t,
                    "  message: job {number} answered {code}, unwanted: dropped"
                )
            };
        });
        if placed {
            self.drive(reactor, conn);
        }
    }

    /// Puts an answer in place `seq` of connection `conn`, if it is still
    /// open; a streamed body is first given a way to wake the loop.
    fn fill(&mut self, conn: ConnId, seq: u64, response: Response) -> Filled {
        let date = self.date.get();
        let Some(entry) = self.conns.get_mut(conn) else {
            return Filled::Unwanted;
        };
        if let Some(body) = response.body.stream() {
            self.responder.streams().attach(body, conn);
        }
        entry.conn().fill(seq, response, date)
    }

    /// Starts a graceful shutdown: accept what waits in the backlog, stop
    /// accepting, let in-flight requests finish and flush, give idle
    /// connections their grace, and stop when none is left or the shutdown
    /// timeout passes.
    fn begin_shutdown(&mut self, reactor: &mut Reactor<HttpServer>) {
        let now = Instant::now();
        if !self.drain.begin(now) {
            return;
        }
        // Connections in the backlog would be reset with the listener:
        // their clients connected before the drain, so serve them too.
        self.accept_up_to(reactor, usize::MAX);
        self.acceptor.close(reactor);
        self.event(ServerEvent::Draining {
            connections: self.conns.len(),
            timeout: self.config.shutdown_timeout,
        });
        let timeout = self.config.shutdown_timeout;
        reactor.call_at(now + timeout, ServerTimer::ShutdownDeadline);
        let grace_ends = now + self.config.drain_grace.min(timeout);
        // Busy connections close after their last answer, idle ones after
        // the grace.
        for id in self.conns.ids() {
            if let Some(entry) = self.conns.get_mut(id) {
                entry.conn().begin_drain(grace_ends);
            }
            self.drive(reactor, id);
        }
        self.stop_if_drained(reactor);
    }

    /// Reads the certificate and key again, on a thread of their own (file
    /// reads and signature checks are not the loop's work); the result
    /// comes back as `Message::TlsReloaded`.
    fn reload_tls(&mut self, reactor: &mut Reactor<HttpServer>) {
        #[cfg(feature = "tls")]
        if let Some(tls) = self.config.tls.clone() {
            if !tls.has_files() {
                let error = TlsError {
                    path: "(a rustls ServerConfig)".into(),
                    reason: "built by the program, not read from files: nothing to read again"
                        .into(),
                };
                return self.tls_reloaded(Err(error));
            }
            reactor.trace(|t| t.push_str("    reading the certificate and key again\n"));
            let to_loop = self.loop_handle.clone();
            let reading = std::thread::Builder::new()
                .name("eddy-tls-reload".into())
                .spawn(move || {
                    if let Some(result) = tls.reloaded() {
                        let _ = to_loop.send(Message::TlsReloaded(result));
                    }
                });
            if reading.is_err() {
                self.responder.metrics().tls_reloaded(false);
            }
            return;
        }
        reactor.trace(|t| t.push_str("    no certificate to reload: plain HTTP\n"));
    }

    /// A reload's result: the new configuration serves new handshakes, or
    /// the old one serves on.
    #[cfg(feature = "tls")]
    fn tls_reloaded(&mut self, result: Result<TlsConfig, TlsError>) {
        match result {
            Ok(tls) => {
                let not_after = tls.not_after();
                self.config.tls = Some(tls);
                let metrics = self.responder.metrics();
                metrics.tls_reloaded(true);
                metrics.tls_serving(not_after);
                self.event(ServerEvent::TlsReloaded { not_after });
            }
            Err(error) => {
                self.responder.metrics().tls_reloaded(false);
                self.event(ServerEvent::TlsReloadFailed { error: &error });
            }
        }
    }

    /// While draining: once no connection is left, stop the loop.
    fn stop_if_drained(&mut self, reactor: &mut Reactor<HttpServer>) {
        if self.drain.is_draining() && self.conns.is_empty() && self.drain.exit().is_none() {
            self.stop(reactor, Exit::Drained);
        }
    }

    fn stop(&mut self, reactor: &mut Reactor<HttpServer>, exit: Exit) {
        self.drain.stop(exit);
        reactor.stop();
    }

    /// Tears down after the loop stops, and says how it ended.
    pub(crate) fn finish(&mut self, reactor: &mut Reactor<HttpServer>) -> Exit {
        for id in self.conns.ids() {
            self.close(reactor, id);
        }
        let exit = self.drain.exit().unwrap_or(Exit::Drained);
        let (jobs, _) = self.responder.jobs();
        jobs.finish(exit == Exit::Drained);
        #[cfg(feature = "tls")]
        if let Some(handshakes) = self.handshakes.take() {
            handshakes.join();
        }
        exit
    }
}

/// Queues connection `id`'s handshake flight for a handshake thread;
/// false if their queue is full (the caller sheds the connection, counted
/// here). Cold: on the `/fast` path, a plain connection never has one.
#[cfg(feature = "tls")]
#[cold]
fn hand_off(
    handshakes: Option<&Handshakes>,
    metrics: &mut Metrics,
    reactor: &mut Reactor<HttpServer>,
    id: ConnId,
    step: HandshakeStep,
) -> bool {
    let queued = handshakes.is_some_and(|h| h.submit(id, step).is_ok());
    reactor.trace(|t| {
        let _ = match queued {
            true => writeln!(t, "    conn {id}: handshake flight → a handshake thread"),
            false => writeln!(t, "    conn {id}: handshake queue full: shed"),
        };
    });
    if !queued {
        metrics.tls_handshake_shed();
    }
    queued
}

impl Handler for HttpServer {
    type Timer = ServerTimer;
    type Message = Message;

    fn ready(&mut self, reactor: &mut Reactor<Self>, token: Token, event: &Event) {
        if token == LISTENER {
            reactor.trace(|t| t.push_str("  listener readable\n"));
            return self.accept_batch(reactor);
        }
        let id = ConnId::from_token(token);
        // A stale token (its connection closed earlier in this batch) finds
        // nothing and is ignored.
        let Some(entry) = self.conns.get_mut(id) else {
            return;
        };
        entry.conn().note_event(event);
        reactor.trace(|t| {
            let _ = writeln!(t, "  conn {id} {}", trace::readiness(event));
        });
        self.drive(reactor, id);
    }

    fn timer(&mut self, reactor: &mut Reactor<Self>, fired: Fired<ServerTimer>) {
        match fired.what {
            ServerTimer::Deadline(id) => self.deadline_fired(reactor, id, fired),
            ServerTimer::JobTimeout(id) => self.job_timed_out(reactor, id),
            ServerTimer::ShutdownDeadline => {
                let abandoned = self.conns.len();
                self.event(ServerEvent::ShutdownTimedOut { abandoned });
                self.stop(reactor, Exit::ShutdownTimedOut { abandoned });
            }
            ServerTimer::Accept(AcceptTimer::BackoffOver) => self.acceptor.backoff_over(reactor),
            ServerTimer::Accept(AcceptTimer::More) => self.accept_batch(reactor),
            ServerTimer::Resume(id) => {
                reactor.trace(|t| {
                    let _ = writeln!(t, "  again: conn {id}, cut short last turn");
                });
                self.drive(reactor, id);
            }
        }
    }

    fn hangup(&mut self, reactor: &mut Reactor<Self>, count: usize) {
        reactor.trace(|t| {
            let _ = writeln!(t, "  signals: {count} SIGHUP");
        });
        self.reload_tls(reactor);
    }

    fn signal(&mut self, reactor: &mut Reactor<Self>, count: usize) {
        reactor.trace(|t| {
            let _ = writeln!(t, "  signals: {count}");
        });
        match self.drain.signalled(count) {
            Signalled::Drain => self.begin_shutdown(reactor),
            Signalled::StopNow => {
                self.event(ServerEvent::SecondSignal);
                self.stop(reactor, Exit::SecondSignal);
            }
        }
    }

    fn notify(&mut self, reactor: &mut Reactor<Self>, message: Message) {
        match message {
            Message::Job(message) => self.job_message(reactor, message),
            Message::StreamReady(conn) => {
                reactor.trace(|t| {
                    let _ = writeln!(t, "  message: conn {conn}'s stream has bytes");
                });
                self.drive(reactor, conn);
            }
            Message::Shutdown => {
                reactor.trace(|t| t.push_str("  message: shutdown asked\n"));
                self.begin_shutdown(reactor);
            }
            Message::ReloadTls => {
                reactor.trace(|t| t.push_str("  message: a certificate reload asked\n"));
                self.reload_tls(reactor);
            }
            #[cfg(feature = "tls")]
            Message::TlsReloaded(result) => {
                reactor.trace(|t| {
                    let how = if result.is_ok() { "took" } else { "failed" };
                    let _ = writeln!(t, "  message: the certificate reload {how}");
                });
                self.tls_reloaded(result);
            }
            #[cfg(feature = "tls")]
            Message::Handshaken(id, step) => {
                let took = Span(step.took());
                let Some(entry) = self.conns.get_mut(id) else {
                    reactor.trace(|t| {
                        let _ = writeln!(
                            t,
                            "  message: conn {id}'s handshake flight ({took}), conn gone: dropped"
                        );
                    });
                    return;
                };
                reactor.trace(|t| {
                    let _ = writeln!(t, "  message: conn {id}'s handshake flight, processed in {took} on a handshake thread");
                });
                entry.conn().transport().resume(*step);
                self.drive(reactor, id);
            }
        }
    }
}
