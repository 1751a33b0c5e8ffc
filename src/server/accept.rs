//! The acceptor: the listening socket and the state of accepting — in
//! batches, within `--max-conns`, and backing off when accept fails
//! instead of spinning.
//!
//! Three rules:
//!
//! - **Batches.** At most `ACCEPT_BATCH` connections per turn, so a flood
//!   of new clients cannot starve established ones. A batch used up with
//!   the backlog not empty asks for another next turn (`call_soon`),
//!   because an edge-triggered listener announces its backlog only once.
//! - **A ceiling.** At `--max-conns` the listener is deregistered until a
//!   connection closes ([`Acceptor::has_room`]); clients wait in the
//!   kernel's backlog meanwhile.
//! - **Back-off.** EMFILE and kin leave the backlog as it was, so retrying
//!   at once would spin: the listener is deregistered and a timer brings
//!   it back after 10 ms, doubling up to 1 s.
//!
//! The acceptor hands out sockets one at a time ([`Acceptor::next`]); the
//! server makes each a connection.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::{Interest, Token};

use super::listener;
use super::listening::{Listener, Listening};
use crate::reactor::{self, Handler, Reactor};
use crate::transport::Socket;

/// The listener's token.
pub(crate) const LISTENER: Token = reactor::reserved(0);

/// Connections accepted per turn, at most.
pub(crate) const ACCEPT_BATCH: usize = 128;

/// The first back-off after an accept error, and the longest.
const BACKOFF_MIN: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What the acceptor's timers (and `call_soon`s) carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AcceptTimer {
    /// A back-off ended: listen again.
    BackoffOver,
    /// A batch was used up with the backlog not empty, or the listener was
    /// registered again: accept more, without waiting for an edge.
    More,
}

/// Why the listener is deregistered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pause {
    /// At `--max-conns`.
    Full,
    /// After an accept error, for this long.
    Backoff(Duration),
}

/// What [`Acceptor::next`] found.
pub(crate) enum Accepted {
    /// A new client.
    Socket(Socket, Option<SocketAddr>),
    /// The backlog is empty (or the acceptor is paused or closed).
    Nothing,
    /// Accepting failed (EMFILE, say): backing off for the duration given.
    Failed(io::Error, Duration),
}

/// The listening socket and the state of accepting.
pub(crate) struct Acceptor {
    /// `None` once closed for the drain.
    listener: Option<Listener>,
    listening: Listening,
    paused: Option<Pause>,
    /// The next back-off.
    backoff: Duration,
}

impl Acceptor {
    /// Binds `addr` and registers the listener.
    pub(crate) fn bind<H: Handler>(
        addr: SocketAddr,
        reuse_port: bool,
        reactor: &mut Reactor<H>,
    ) -> io::Result<Acceptor> {
        let listener = Listener::Tcp(listener::bind(addr, reuse_port)?);
        Acceptor::listen_on(listener, reactor)
    }

    /// Registers a listener made elsewhere.
    pub(crate) fn listen_on<H: Handler>(
        mut listener: Listener,
        reactor: &mut Reactor<H>,
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
    pub(crate) fn listening(&self) -> &Listening {
        &self.listening
    }

    /// The server speaks HTTPS on this listener (for how it is named).
    pub(crate) fn speaks_tls(&mut self) {
        if let Listening::Tcp(addr) = self.listening {
            self.listening = Listening::Https(addr);
        }
    }

    /// The back-off in force (zero when accepting normally).
    pub(crate) fn backoff_in_force(&self) -> Duration {
        match self.paused {
            Some(Pause::Backoff(backoff)) => backoff,
            _ => Duration::ZERO,
        }
    }

    /// Accepts one connection, if the server has room (`open` of `max`
    /// connections) and one waits.
    pub(crate) fn next<H>(&mut self, reactor: &mut Reactor<H>, open: usize, max: usize) -> Accepted
    where
        H: Handler,
        H::Timer: From<AcceptTimer>,
    {
        if self.paused.is_some() {
            return Accepted::Nothing;
        }
        if open >= max {
            self.pause(reactor, Pause::Full);
            return Accepted::Nothing;
        }
        loop {
            let Some(listener) = &self.listener else {
                return Accepted::Nothing; // draining: the listener is gone
            };
            match listener.accept() {
                Ok((socket, peer)) => {
                    self.backoff = BACKOFF_MIN;
                    return Accepted::Socket(socket, peer);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Accepted::Nothing,
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
                    let backoff = self.backoff;
                    self.pause(reactor, Pause::Backoff(backoff));
                    reactor.call_later(backoff, AcceptTimer::BackoffOver.into());
                    self.backoff = (backoff * 2).min(BACKOFF_MAX);
                    return Accepted::Failed(e, backoff);
                }
            }
        }
    }

    /// A connection closed: if the acceptor waited for room, it listens
    /// again, and looks at the backlog next turn (registering again reports
    /// the listener readable if the backlog is not empty; look anyway).
    pub(crate) fn has_room<H>(&mut self, reactor: &mut Reactor<H>)
    where
        H: Handler,
        H::Timer: From<AcceptTimer>,
    {
        if self.paused == Some(Pause::Full) && self.resume(reactor) {
            reactor.call_soon(AcceptTimer::More.into());
        }
    }

    /// A back-off's timer fired: listen again.
    pub(crate) fn backoff_over<H>(&mut self, reactor: &mut Reactor<H>)
    where
        H: Handler,
        H::Timer: From<AcceptTimer>,
    {
        if matches!(self.paused, Some(Pause::Backoff(_))) && self.resume(reactor) {
            reactor.call_soon(AcceptTimer::More.into());
        }
    }

    /// Stops listening for good (the drain).
    pub(crate) fn close<H: Handler>(&mut self, reactor: &mut Reactor<H>) {
        if let Some(mut listener) = self.listener.take() {
            let _ = reactor.registry().deregister(&mut listener);
        }
    }

    fn pause<H: Handler>(&mut self, reactor: &mut Reactor<H>, why: Pause) {
        if self.paused.is_none() {
            if let Some(listener) = &mut self.listener {
                let _ = reactor.registry().deregister(listener);
            }
        }
        self.paused = Some(why);
    }

    fn resume<H: Handler>(&mut self, reactor: &mut Reactor<H>) -> bool {
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
