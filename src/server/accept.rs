//! Accepting connections: in batches, within `--max-conns`, and backing off
//! when accept fails instead of spinning.
//!
//! Part of the server (`http.rs` owns the turn's dispatch; this file owns
//! what happens when the listener's token fires). Three rules:
//!
//! - **Batches.** At most `ACCEPT_BATCH` connections per turn, so a flood
//!   of new clients cannot starve established ones. A batch used up with
//!   the backlog not empty asks for another next turn (`call_soon`),
//!   because an edge-triggered listener announces its backlog only once.
//! - **A ceiling.** At `--max-conns` the listener is deregistered until a
//!   connection closes (`HttpServer::close` resumes it); clients wait in the
//!   kernel's backlog meanwhile.
//! - **Back-off.** EMFILE and kin leave the backlog as it was, so retrying
//!   at once would spin: the listener is deregistered and a timer brings
//!   it back after 10 ms, doubling up to 1 s.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::{Interest, Token};

use super::http::HttpServer;
use super::socket::{Listener, Listening, Socket};
use super::{listener, ServerTimer};
use crate::connection::Connection;
use crate::log::ServerEvent;
use crate::reactor::{self, Reactor};

/// The listener's token: the first the reactor leaves to its handler.
pub(super) const LISTENER: Token = reactor::reserved(0);

/// Connections accepted per listener event before the loop serves the ones
/// it has (Tornado accepts a bounded batch too): under a connection flood,
/// established clients still get their turn.
const ACCEPT_BATCH: usize = 128;

/// First and longest pause after an accept error such as EMFILE. Retrying at
/// once would spin: the listener stays readable while the backlog is full.
const BACKOFF_MIN: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Why the listener is not registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pause {
    /// `max_conns` connections are open; a close resumes accepting.
    Full,
    /// accept failed (EMFILE, ...); a timer resumes accepting after this
    /// long.
    Backoff(Duration),
}

/// The listening socket and the state of accepting from it.
pub(crate) struct Acceptor {
    /// `None` once draining: dropping it makes new connects fail at once.
    listener: Option<Listener>,
    listening: Listening,
    /// Why the listener is deregistered, if it is.
    paused: Option<Pause>,
    /// The next back-off, doubled per consecutive failure.
    backoff: Duration,
}

impl Acceptor {
    /// Binds `addr` and registers the listener under [`LISTENER`].
    pub(super) fn bind(
        addr: SocketAddr,
        reuse_port: bool,
        reactor: &mut Reactor<HttpServer>,
    ) -> io::Result<Acceptor> {
        let listener = Listener::Tcp(listener::bind(addr, reuse_port)?);
        Acceptor::listen_on(listener, reactor)
    }

    /// Takes a listening socket bound elsewhere (by the embedding program,
    /// say) and registers it under [`LISTENER`].
    pub(super) fn listen_on(
        mut listener: Listener,
        reactor: &mut Reactor<HttpServer>,
    ) -> io::Result<Acceptor> {
        let listening = listener.listening()?;
        reactor
            .registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        Ok(Acceptor {
            listener: Some(listener),
            listening,
            paused: None,
            backoff: BACKOFF_MIN,
        })
    }

    /// Where it listens.
    pub(super) fn listening(&self) -> &Listening {
        &self.listening
    }

    /// The back-off in force, or zero when accepting normally.
    pub(super) fn backoff_in_force(&self) -> Duration {
        match self.paused {
            Some(Pause::Backoff(backoff)) => backoff,
            _ => Duration::ZERO,
        }
    }

    /// Closes the listener for good (the drain): new connects are refused.
    pub(super) fn close(&mut self, reactor: &mut Reactor<HttpServer>) {
        if let Some(mut listener) = self.listener.take() {
            let _ = reactor.registry().deregister(&mut listener);
        }
    }

    fn pause(&mut self, reactor: &mut Reactor<HttpServer>, why: Pause) {
        if self.paused.is_none() {
            if let Some(listener) = &mut self.listener {
                let _ = reactor.registry().deregister(listener);
            }
        }
        self.paused = Some(why);
    }

    /// Registers the listener again, if it was paused; true if it was.
    fn resume(&mut self, reactor: &mut Reactor<HttpServer>) -> bool {
        if self.paused.take().is_none() {
            return false;
        }
        match &mut self.listener {
            Some(listener) => reactor
                .registry()
                .register(listener, LISTENER, Interest::READABLE)
                .is_ok(),
            None => false,
        }
    }
}

impl HttpServer {
    /// Accepts up to a batch of waiting connections; if the batch is used
    /// up, goes on next turn.
    pub(super) fn accept_batch(&mut self, reactor: &mut Reactor<HttpServer>) {
        if self.accept_up_to(reactor, ACCEPT_BATCH) {
            reactor.call_soon(ServerTimer::AcceptMore);
        }
    }

    /// Accepts waiting connections until the backlog is empty, `limit` were
    /// accepted, or `--max-conns` is reached; true if `limit` was reached
    /// with connections perhaps still waiting.
    pub(super) fn accept_up_to(&mut self, reactor: &mut Reactor<HttpServer>, limit: usize) -> bool {
        if self.acceptor.paused.is_some() {
            return false;
        }
        let mut accepted = 0;
        while accepted < limit {
            if self.conns.len() >= self.config.max_conns {
                self.acceptor.pause(reactor, Pause::Full);
                return false;
            }
            let Some(listener) = &self.acceptor.listener else {
                return false; // draining: the listener is gone
            };
            match listener.accept() {
                Ok((socket, peer)) => {
                    accepted += 1;
                    self.acceptor.backoff = BACKOFF_MIN;
                    self.responder.metrics.connection_accepted();
                    self.open(reactor, socket, peer);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // Interrupted, or the client gave up while in the backlog:
                // neither is our problem; try the next one.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) => {}
                // EMFILE, ENFILE, ENOBUFS, ENOMEM: the backlog is still
                // there, so retrying now would spin. Back off on a timer.
                Err(e) => {
                    let backoff = self.acceptor.backoff;
                    self.event(ServerEvent::AcceptFailed { error: &e, backoff });
                    self.responder.metrics.accept_failed();
                    self.acceptor.pause(reactor, Pause::Backoff(backoff));
                    reactor.call_later(backoff, ServerTimer::ResumeAccepting);
                    self.acceptor.backoff = (backoff * 2).min(BACKOFF_MAX);
                    return false;
                }
            }
        }
        accepted == limit
    }

    /// Registers a freshly accepted socket as a new connection.
    fn open(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        socket: Socket,
        peer: Option<SocketAddr>,
    ) {
        let access_log = self.config.access_log.clone();
        let conn = Connection::new(socket, peer, self.responder.limits, access_log);
        let id = self.conns.insert(Box::new(conn));
        let conn = self.conns.get_mut(id).expect("just inserted");
        let registered =
            reactor
                .registry()
                .register(conn.socket_mut(), id.token(), Interest::READABLE);
        if registered.is_err() {
            self.conns.remove(id);
            return;
        }
        reactor.trace(|t| {
            let from = peer.map_or_else(|| "a Unix socket".to_string(), |peer| peer.to_string());
            let _ = writeln!(t, "    conn {id}: accepted from {from}");
        });
        // Its first round sets its first deadline: the header timeout,
        // counted from the connect.
        self.drive(reactor, id);
    }

    /// A connection closed: if `--max-conns` paused accepting, resume.
    pub(super) fn acceptor_has_room(&mut self, reactor: &mut Reactor<HttpServer>) {
        if self.acceptor.paused == Some(Pause::Full) && self.acceptor.resume(reactor) {
            // Registering again reports the listener readable if the
            // backlog is not empty; look anyway, next turn.
            reactor.call_soon(ServerTimer::AcceptMore);
        }
    }

    /// An accept back-off ended: listen again.
    pub(super) fn backoff_ended(&mut self, reactor: &mut Reactor<HttpServer>) {
        if matches!(self.acceptor.paused, Some(Pause::Backoff(_))) && self.acceptor.resume(reactor)
        {
            reactor.call_soon(ServerTimer::AcceptMore);
        }
    }
}
