//! `HttpServer`: the handler the reactor calls. It says what each token
//! means, drives connections, and closes them.
//!
//! Everything here runs on the loop thread, called by the reactor:
//!
//! - [`Handler::ready`]: the listener's token accepts (`accept.rs`); any
//!   other token is a connection, which is driven;
//! - [`Handler::timer`]: a connection's deadline, a job's timeout
//!   (`jobs.rs`), the shutdown deadline (`shutdown.rs`), the end of an
//!   accept back-off, or a `call_soon` to go on with a connection or the
//!   accept backlog;
//! - [`Handler::signal`]: the drain (`shutdown.rs`);
//! - and callbacks from the workers, which land in `jobs.rs`.
//!
//! The state is split by who needs it, so that driving a connection (taken
//! from `conns`) and answering its requests (`responder`) borrow different
//! fields — no method needs all of `self` while a connection is out.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::Token;

use super::accept::{Acceptor, LISTENER};
use super::respond::{Answering, Responder};
use super::socket::{Listening, Socket};
use super::{trace, ConnId, Exit, ServerTimer};
use crate::config::Config;
use crate::connection::spares::Spares;
use crate::connection::{Connection, Expiry, Kit, Phase, READ_CHUNK};
use crate::http::{DateCache, Limits, StatusCode};
use crate::log::ServerEvent;
use crate::reactor::{Fired, Handler, Reactor, TokenTable};
use crate::router::Router;
use crate::status::ServerHandle;

/// The HTTP side of the server.
pub(crate) struct HttpServer {
    pub(super) config: Config,
    /// The listening socket and the state of accepting.
    pub(super) acceptor: Acceptor,
    /// Boxed: a `Connection` is a few hundred bytes, and the slab's spare
    /// capacity (it grows by doubling) should cost a pointer per entry, not
    /// a whole connection.
    pub(super) conns: TokenTable<Box<Connection<Socket>>>,
    /// Everything that turns a decoded request into an answer: the router,
    /// the jobs, the counters.
    pub(super) responder: Responder,
    /// Buffers idle connections lent, for busy ones.
    spares: Spares,
    /// Every read lands here first, then what arrived is copied into the
    /// connection's buffer: one buffer, zeroed once, for all connections.
    scratch: Box<[u8]>,
    /// When the drain began, once it has.
    pub(super) draining_since: Option<Instant>,
    /// Set when the loop is told to stop: how it ended.
    pub(super) exit: Option<Exit>,
    /// The `Date` header, formatted at most once a second.
    pub(super) date: DateCache,
}

impl HttpServer {
    /// Serves on `acceptor` (registered in `reactor`) and starts the pool.
    pub(super) fn new(
        config: Config,
        router: Router,
        acceptor: Acceptor,
        reactor: &mut Reactor<HttpServer>,
    ) -> HttpServer {
        crate::panic_report::set_backtraces(config.backtraces);
        let limits = Limits {
            max_body: config.max_body,
            ..Limits::default()
        };
        let responder = Responder::new(router, &config, limits, reactor.handle());
        HttpServer {
            acceptor,
            conns: TokenTable::default(),
            responder,
            spares: Spares::default(),
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
            draining_since: None,
            exit: None,
            date: DateCache::new(),
            config,
        }
    }

    pub(super) fn listening(&self) -> &Listening {
        self.acceptor.listening()
    }

    pub(super) fn handle(&self) -> ServerHandle {
        self.responder.handle.clone()
    }

    pub(super) fn open_connections(&self) -> usize {
        self.conns.len()
    }

    pub(super) fn exit(&self) -> Option<Exit> {
        self.exit
    }

    /// Reports `event` to the program's events hook, if it gave one.
    pub(super) fn event(&self, event: ServerEvent<'_>) {
        if let Some(hook) = &self.config.events {
            hook(&event);
        }
    }

    /// Drives connection `id` (see `Connection::drive`), then closes it if
    /// it is done, or asks for another turn if it was cut short.
    pub(super) fn drive(&mut self, reactor: &mut Reactor<HttpServer>, id: ConnId) {
        let open = self.conns.len();
        let date = self.date.get();
        let Some(conn) = self.conns.get_mut(id) else {
            return; // closed earlier in this turn: a stale token
        };
        let kit = Kit {
            scratch: &mut self.scratch,
            spares: &mut self.spares,
            date,
            config: &self.config,
            token: id.token(),
            timer: ServerTimer::Deadline(id),
        };
        let mut answering = Answering {
            workers: self.responder.jobs.workers(),
            jobs_queued: self.responder.jobs.queued(),
            responder: &mut self.responder,
            conn: id,
            open_connections: open,
            draining: self.draining_since.is_some(),
            accept_backoff: self.acceptor.backoff_in_force(),
        };
        let driven = conn.drive(reactor, kit, &mut answering);
        // A stream that began after the drain did — its request answered in
        // the drain, or on a connection already closing — is told too.
        if self.draining_since.is_some() {
            conn.drain_stream();
        }
        if reactor.is_tracing() {
            let line = trace::driven(id, &driven, conn);
            reactor.trace(|t| t.push_str(&line));
        }
        if conn.phase() == Phase::Closed {
            self.close(reactor, id);
        } else if driven.cut_short {
            reactor.call_soon(ServerTimer::Resume(id));
        }
    }

    /// Closes a connection: cancels its jobs and its deadline, frees its
    /// entry (its id goes stale), and resumes accepting if the server was
    /// full.
    pub(super) fn close(&mut self, reactor: &mut Reactor<HttpServer>, id: ConnId) {
        let Some(mut conn) = self.conns.remove(id) else {
            return;
        };
        conn.abandon(reactor);
        // Dropping the socket closes it, and closing removes it from the
        // epoll set (a socket closed while registered is deregistered by
        // the kernel), so no explicit deregister is needed.
        drop(conn);
        reactor.trace(|t| {
            let _ = writeln!(t, "    conn {id}: closed");
        });
        self.acceptor_has_room(reactor);
        self.stop_if_drained(reactor);
    }

    /// A connection's deadline timer fired.
    fn deadline_fired(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        id: ConnId,
        fired: Fired<ServerTimer>,
    ) {
        let date = self.date.get();
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let Some(key) = fired.key else {
            return;
        };
        let expiry = conn.deadline_fired(reactor, key, Instant::now(), fired.what);
        reactor.trace(|t| {
            let _ = writeln!(
                t,
                "  timer: conn {id}'s deadline, {} late: {expiry:?}",
                crate::reactor::Span(fired.late)
            );
        });
        match expiry {
            Expiry::NotYet => {}
            Expiry::Close => self.close(reactor, id),
            Expiry::Drive => self.drive(reactor, id),
            Expiry::TimedOut => {
                let response = self.responder.router.error(StatusCode::REQUEST_TIMEOUT);
                conn.time_out_request(&response, date);
                self.responder.metrics.refused(response.status.as_u16());
                self.drive(reactor, id);
            }
        }
    }
}

impl Handler for HttpServer {
    type Timer = ServerTimer;

    fn ready(&mut self, reactor: &mut Reactor<Self>, token: Token, event: &Event) {
        if token == LISTENER {
            reactor.trace(|t| t.push_str("  listener readable\n"));
            return self.accept_batch(reactor);
        }
        let id = ConnId::from_token(token);
        // A stale token (its connection closed earlier in this batch) finds
        // nothing and is ignored.
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        conn.note_event(event);
        reactor.trace(|t| {
            let _ = writeln!(t, "  conn {id} {}", trace::readiness(event));
        });
        self.drive(reactor, id);
    }

    fn timer(&mut self, reactor: &mut Reactor<Self>, fired: Fired<ServerTimer>) {
        match fired.what {
            ServerTimer::Deadline(id) => self.deadline_fired(reactor, id, fired),
            ServerTimer::JobTimeout(reply_to) => self.job_timed_out(reactor, reply_to),
            ServerTimer::ShutdownDeadline => self.shutdown_timed_out(reactor),
            ServerTimer::ResumeAccepting => self.backoff_ended(reactor),
            ServerTimer::Resume(id) => {
                reactor.trace(|t| {
                    let _ = writeln!(t, "  again: conn {id}, cut short last turn");
                });
                self.drive(reactor, id);
            }
            ServerTimer::AcceptMore => self.accept_batch(reactor),
        }
    }

    fn signal(&mut self, reactor: &mut Reactor<Self>, count: usize) {
        self.on_signals(reactor, count);
    }
}

/// How long ago `at` was, or how long until it comes (for the trace).
pub(super) fn from_now(at: Instant) -> Duration {
    at.saturating_duration_since(Instant::now())
}
