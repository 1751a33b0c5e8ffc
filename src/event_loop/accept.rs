//! Accepting connections: in batches, within `--max-conns`, and backing off
//! when accept fails instead of spinning.
//!
//! Part of the event loop (`event_loop.rs` owns the turn; this file owns
//! what happens when the listener's token fires). Three rules:
//!
//! - **Batches.** At most `ACCEPT_BATCH` connections per turn, so a flood
//!   of new clients cannot starve established ones. The listener stays
//!   "ready" in our own bookkeeping (`accept_ready`), because an
//!   edge-triggered listener announces its backlog only once.
//! - **A ceiling.** At `--max-conns` the listener is deregistered until a
//!   connection closes (`EventLoop::close` resumes it); clients wait in the
//!   kernel's backlog meanwhile.
//! - **Back-off.** EMFILE and kin leave the backlog as it was, so retrying
//!   at once would spin: the listener is deregistered and a timer brings
//!   it back after 10 ms, doubling up to 1 s.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::Interest;

use super::{EventLoop, TimerEvent, LISTENER};
use crate::connection::Connection;

/// Connections accepted per listener event before the loop serves the ones
/// it has (Tornado accepts a bounded batch too): under a connection flood,
/// established clients still get their turn.
const ACCEPT_BATCH: usize = 128;

/// First and longest pause after an accept error such as EMFILE. Retrying at
/// once would spin: the listener stays readable while the backlog is full.
pub(super) const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Why the listener is not registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AcceptPause {
    /// `max_conns` connections are open; a close resumes accepting.
    Full,
    /// accept failed (EMFILE, ...); a timer resumes accepting after this
    /// long.
    Backoff(Duration),
}

impl EventLoop {
    /// Accepts up to a batch of waiting connections.
    pub(super) fn accept_batch(&mut self) {
        self.accept_up_to(ACCEPT_BATCH);
    }

    /// Accepts waiting connections until the backlog is empty, `limit` were
    /// accepted, or `--max-conns` is reached.
    pub(super) fn accept_up_to(&mut self, limit: usize) {
        for _ in 0..limit {
            if self.conns.len() >= self.config.max_conns {
                self.pause_accepting(AcceptPause::Full);
                return;
            }
            let Some(listener) = &self.listener else {
                // Draining: the listener is gone, and so is anything that
                // waited in its backlog. Forget the readiness too, or the
                // loop would poll without sleeping until the drain ends.
                self.accept_ready = false;
                return;
            };
            match listener.accept() {
                Ok((socket, peer)) => {
                    self.accept_backoff = ACCEPT_BACKOFF_MIN;
                    self.metrics.borrow_mut().connection_accepted();
                    self.open(socket, peer);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.accept_ready = false;
                    return;
                }
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
                    let _ = writeln!(
                        io::stderr(),
                        "eddy: accept failed ({e}); pausing for {:?}",
                        self.accept_backoff
                    );
                    self.metrics.borrow_mut().accept_failed();
                    self.pause_accepting(AcceptPause::Backoff(self.accept_backoff));
                    let at = Instant::now() + self.accept_backoff;
                    self.timers.insert(at, TimerEvent::ResumeAccepting);
                    self.accept_backoff = (self.accept_backoff * 2).min(ACCEPT_BACKOFF_MAX);
                    return;
                }
            }
        }
        // Batch used up: `accept_ready` stays true, so the next poll does not
        // sleep and we come back after serving everyone else once.
    }

    /// Registers a freshly accepted socket as a new connection.
    fn open(&mut self, socket: TcpStream, peer: SocketAddr) {
        // Responses are written whole, one write per batch: nothing to gain
        // from Nagle's algorithm, and a small answer must not wait for an ACK.
        let _ = socket.set_nodelay(true);
        let id = self
            .conns
            .insert(Box::new(Connection::new(socket, peer, self.limits)));
        let conn = self.conns.get_mut(id).expect("just inserted");
        if self
            .poll
            .registry()
            .register(conn.socket_mut(), id.token(), Interest::READABLE)
            .is_err()
        {
            self.conns.remove(id);
            return;
        }
        conn.sync_deadline(&mut self.timers, id, &self.config);
    }

    pub(super) fn pause_accepting(&mut self, why: AcceptPause) {
        if self.accept_paused.is_none() {
            if let Some(listener) = &mut self.listener {
                let _ = self.poll.registry().deregister(listener);
            }
        }
        self.accept_paused = Some(why);
    }

    pub(super) fn resume_accepting(&mut self) {
        if self.accept_paused.take().is_none() {
            return;
        }
        if let Some(listener) = &mut self.listener {
            // Registering again reports the listener readable if the backlog
            // is not empty; `accept_ready` makes sure we look regardless.
            let _ = self
                .poll
                .registry()
                .register(listener, LISTENER, Interest::READABLE);
            self.accept_ready = true;
        }
    }
}
