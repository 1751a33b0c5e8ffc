//! One client connection: a transport of bytes with a protocol speaking
//! over it, and the round that moves both forward.
//!
//! This is Tornado's split: `IOStream` (the transport: socket, readiness,
//! buffers — `crate::transport`) under `HTTP1Connection` (the protocol —
//! [`Http1`], `http1.rs`). The connection holds one of each: the transport,
//! and the protocol now speaking on it, [`Protocol`] — HTTP/1.1 until a
//! `101` hands the transport, with every byte read past the upgrading
//! request's head, to another ([`Upgraded`], `upgrade.rs`).
//!
//! The protocol is sans-IO: it is handed the transport's buffers and the
//! time, and says what it needs — an answer for this request (through
//! [`Respond`], `respond.rs`), a wait bounded by this deadline
//! (`deadline.rs`), the end. The connection never touches the loop either:
//! after a [`drive`](Connection::drive) the server reads its interest and
//! its deadline, and registers and arms them itself.
//!
//! Everything one turn does to a connection is [`Connection::drive`]:
//! read → decode and answer → write, again while that frees room (at most
//! [`DRIVE_ROUNDS`] times), then the deadline. The server and the fuzz
//! harness call the same `drive`: there is one round, not a copy for tests.
//!
//! The parts, each importing only those after it: `http1.rs` (the
//! protocol), `line.rs` (its ordered answers), `streaming.rs` (a streamed
//! body going out), `record.rs` and `unwritten.rs` (the access log's
//! records, held until written), `queue.rs` (the ordered places),
//! `phase.rs` (the protocol's phase: the one file that writes it),
//! `deadline.rs`, `respond.rs`, `upgrade.rs`, `spares.rs` (the storage
//! idle connections lend).

mod deadline;
mod http1;
mod line;
mod phase;
mod queue;
mod record;
mod respond;
mod spares;
mod streaming;
#[cfg(test)]
mod tests;
mod unwritten;
mod upgrade;
#[cfg(feature = "websocket")]
mod websocket;

pub(crate) use deadline::{DeadlineKind, Expiry};
pub(crate) use line::Filled;
pub(crate) use phase::Phase;
pub(crate) use respond::{JobTicket, Reply, Respond};
pub(crate) use spares::Spares;
pub(crate) use upgrade::{OffLoop, Upgraded};
#[cfg(feature = "websocket")]
pub(crate) use websocket::{Keepalive, WebSocket};

use std::net::SocketAddr;
use std::time::Instant;

use mio::event::{Event, Source};
use mio::Interest;

use crate::config::Config;
use crate::http::{Limits, Response};
use crate::log::AccessLog;
use crate::transport::{Life, Transport};
use deadline::{Deadline, Wanted, LINGER_TIME};
use http1::Http1;
use phase::Closing;
use record::SocketLog;

/// Rounds of read → decode → answer → write one connection gets per drive.
/// A client that pipelines without pause could otherwise keep the loop on
/// its connection for ever; past this, the server drives it again next turn.
pub(crate) const DRIVE_ROUNDS: usize = 4;

/// Undecoded input an upgraded protocol may have buffered before reading
/// stops (the same bound as HTTP/1.1's).
const UPGRADED_INPUT: usize = 64 * 1024;

/// The protocol speaking on a connection now.
// The HTTP/1.1 variant is kept inline though it is the larger: the whole
// connection already lives in one box in the server's table, and boxing
// the variant too would cost an allocation per connection and a pointer hop
// per request, to save bytes only on upgraded connections.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Protocol {
    /// HTTP/1.1: decoding, the ordered line of answers, 100-continue,
    /// pipelining, the phase.
    Http1(Http1),
    /// What a `101` handed the connection to, and the access log's record
    /// of it, written when the connection ends.
    Upgraded(Box<dyn Upgraded>, Option<SocketLog>),
}

/// What the server lends a connection for one [`drive`](Connection::drive).
pub(crate) struct Kit<'a> {
    /// Every read lands here first (one buffer, zeroed once, for all
    /// connections); what arrived is copied into the transport's buffer.
    pub(crate) scratch: &'a mut [u8],
    /// Storage idle connections lent.
    pub(crate) spares: &'a mut Spares,
    /// The `Date` header value for this turn.
    pub(crate) date: &'a [u8],
    /// The timeouts the deadlines come from.
    pub(crate) config: &'a Config,
}

/// What one [`drive`](Connection::drive) did: counts, for the trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Driven {
    /// Bytes read.
    pub(crate) read: usize,
    /// Bytes written.
    pub(crate) written: usize,
    /// Requests decoded.
    pub(crate) requests: usize,
    /// The rounds were used up with work left: drive it again next turn.
    pub(crate) cut_short: bool,
}

/// One accepted client: a transport `T` and the protocol speaking on it.
pub(crate) struct Connection<T> {
    transport: T,
    protocol: Protocol,
    /// The deadline the connection's state calls for, if any.
    deadline: Option<Deadline>,
}

impl<T: Transport> Connection<T> {
    /// A new connection over `transport`, speaking HTTP/1.1 with requests
    /// held to `limits`; answers go to `access_log` (if any) as they leave.
    pub(crate) fn new(
        transport: T,
        peer: Option<SocketAddr>,
        limits: Limits,
        access_log: Option<AccessLog>,
    ) -> Connection<T> {
        Connection {
            transport,
            protocol: Protocol::Http1(Http1::new(limits, peer, access_log)),
            deadline: None,
        }
    }

    /// The socket, for the server to register.
    pub(crate) fn source(&mut self) -> &mut dyn Source {
        self.transport.source()
    }

    /// The transport (for tests and the fuzz harness, which play the
    /// socket's other end).
    pub(crate) fn transport(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Records what an event says about the socket.
    pub(crate) fn note_event(&mut self, event: &Event) {
        self.transport.note_readiness(
            event.is_readable(),
            event.is_writable() || event.is_write_closed(),
            event.is_read_closed() || event.is_error(),
        );
    }

    /// Moves the connection forward as far as it can go without blocking:
    /// read what arrived, answer every complete request (`respond` decides
    /// how), write what is ready — again while that frees room, at most
    /// [`DRIVE_ROUNDS`] times — then set the deadline. Afterwards
    /// [`is_closed`](Self::is_closed) says whether it is done.
    pub(crate) fn drive(&mut self, mut kit: Kit<'_>, respond: &mut dyn Respond) -> Driven {
        let mut driven = Driven::default();
        match self.transport.life() {
            Life::Closed => return driven,
            Life::Lingering { .. } => self.transport.discard(kit.scratch),
            Life::Open => {
                self.take_spares(kit.spares);
                self.rounds(&mut kit, respond, &mut driven);
            }
        }
        if !self.is_closed() {
            self.deadline = Deadline::follow(self.deadline, self.wanted(), kit.config);
            self.lend_spares(kit.spares);
        }
        driven
    }

    /// The rounds of one drive (see [`drive`](Self::drive)).
    fn rounds(&mut self, kit: &mut Kit<'_>, respond: &mut dyn Respond, driven: &mut Driven) {
        for _ in 0..DRIVE_ROUNDS {
            let limit = self.read_limit();
            driven.read += self.transport.read(kit.scratch, limit);
            if self.is_closed() {
                return; // reset, or another read error: the client is gone
            }
            if let Protocol::Http1(http) = &mut self.protocol {
                if http.learning_transport() {
                    http.learn_transport(self.transport.security());
                }
            }
            let buffers = self.transport.buffers();
            match &mut self.protocol {
                Protocol::Http1(http) => {
                    driven.requests += http.receive(buffers, kit.date, respond);
                    http.emit(buffers, respond);
                }
                Protocol::Upgraded(protocol, _) => {
                    protocol.receive(buffers, Instant::now(), &mut |work| respond.off_loop(work))
                }
            }
            driven.written += self.transport.write();
            if self.is_closed() {
                return;
            }
            let buffers = self.transport.buffers();
            if let Protocol::Http1(http) = &mut self.protocol {
                http.written(buffers);
                if buffers.input_ended() && http.peer_finished() {
                    // A job still works for a client that left: close now
                    // (the server then gives the job up).
                    return self.transport.close();
                }
                if let Some((next, log)) = http.take_upgrade(buffers) {
                    // The rest of the input is the new protocol's: it gets
                    // it in the next round, before anything is read.
                    self.protocol = Protocol::Upgraded(next, log);
                    continue;
                }
            }
            if self.is_finished() {
                return self.finish(kit.scratch);
            }
            // Writing may have lifted a limit that held decoding, and no
            // readiness event will say so: go round while that is the case.
            if !self.can_progress() {
                return;
            }
        }
        driven.cut_short = true;
    }

    /// The most undecoded input the protocol wants buffered.
    fn read_limit(&self) -> usize {
        match &self.protocol {
            Protocol::Http1(http) => http.read_limit(),
            Protocol::Upgraded(..) => UPGRADED_INPUT,
        }
    }

    /// True when there is nothing left to do but end: every byte written,
    /// and the protocol will say nothing more.
    fn is_finished(&self) -> bool {
        let buffers = self.transport.buffers_ref();
        match &self.protocol {
            Protocol::Http1(http) => http.is_finished(buffers),
            Protocol::Upgraded(protocol, _) => protocol.is_done() && buffers.unwritten() == 0,
        }
    }

    /// True if another round could make progress without a new event.
    fn can_progress(&self) -> bool {
        let (may_read, may_write) = (self.transport.may_read(), self.transport.may_write());
        let buffers = self.transport.buffers_ref();
        match &self.protocol {
            Protocol::Http1(http) => http.can_progress(buffers, may_read, may_write),
            Protocol::Upgraded(protocol, _) => {
                (may_read && buffers.unconsumed() < UPGRADED_INPUT)
                    || (may_write && protocol.held_back(buffers))
            }
        }
    }

    /// Every answer is out and no request will follow: end — lingering
    /// first if the client may still be sending.
    ///
    /// When the server ends a connection while the client may still send
    /// (an error mid-upload, `Connection: close` with more pipelined),
    /// closing the socket with unread bytes in it makes the kernel send a
    /// reset, and a reset can destroy our last answer in the client's
    /// buffers before it reads it: the client sees "connection reset"
    /// instead of the 413 it was owed. So the transport half-closes (our
    /// FIN follows the answer) and reads and drops for a while — until the
    /// client closes too, or it sends nothing for `LINGER_IDLE`, or
    /// [`LINGER_TIME`] passes, or the transport's `LINGER_MAX_BYTES` have
    /// been dropped — before the socket is dropped. nginx does the same
    /// (`lingering_close`, `lingering_timeout`, `lingering_time`).
    ///
    /// Not after a drain's grace with nothing unread, though. That
    /// connection was idle for the whole grace, so its last answer had that
    /// long to be read, and no byte waits to cause a reset; lingering would
    /// only hold the exit for `LINGER_IDLE` more (with `--drain-grace 1`, an
    /// idle keep-alive connection held it about 3 s). One read tells: a
    /// request that arrived at the last moment is found, and lingered on.
    fn finish(&mut self, scratch: &mut [u8]) {
        let grace_over = matches!(
            &self.protocol,
            Protocol::Http1(http) if http.phase() == Phase::Closing(Closing::GraceOver)
        );
        self.transport.finish(scratch, Instant::now() + LINGER_TIME);
        let nothing_read = matches!(self.transport.life(), Life::Lingering { discarded: 0, .. })
            && !self.transport.may_read();
        if grace_over && nothing_read {
            self.transport.close();
        }
    }

    /// The wait the connection's state calls for: the linger's, or the
    /// protocol's.
    fn wanted(&self) -> Option<Wanted> {
        let buffers = self.transport.buffers_ref();
        match (self.transport.life(), &self.protocol) {
            // Each read that drops bytes is progress: the idle bound
            // starts again, never past the end of the linger.
            (Life::Lingering { discarded, ends }, _) => Some(Wanted {
                kind: DeadlineKind::Linger,
                progress: discarded as u64,
                ends: Some(ends),
            }),
            (Life::Closed, _) => None,
            (Life::Open, Protocol::Http1(http)) => http.wanted(buffers),
            // Output the client is not taking: the write-stall bound, as
            // for HTTP/1.1.
            (Life::Open, Protocol::Upgraded(..)) if buffers.unwritten() > 0 => Some(Wanted {
                kind: DeadlineKind::Write,
                progress: buffers.written(),
                ends: None,
            }),
            // The protocol's own time (a ping, a reply awaited), or, with
            // none, the idle timeout.
            (Life::Open, Protocol::Upgraded(protocol, _)) => Some(match protocol.wake_at() {
                Some(at) => Wanted {
                    kind: DeadlineKind::Protocol,
                    progress: 0,
                    ends: Some(at),
                },
                None => Wanted {
                    kind: DeadlineKind::Idle,
                    progress: buffers.written(),
                    ends: None,
                },
            }),
        }
    }

    /// The deadline it is under, if any, and when it passes.
    pub(crate) fn deadline(&self) -> Option<(DeadlineKind, Instant)> {
        self.deadline.map(|d| (d.kind(), d.at()))
    }

    /// A timer the server armed for this connection fired at `now`: act on
    /// the deadline if it has passed (see [`Expiry`]). The server arms
    /// timers lazily (one may fire before the deadline it stood for moved
    /// later): then [`NotYet`](Expiry::NotYet), and the server arms one
    /// for [`deadline`](Self::deadline).
    pub(crate) fn deadline_passed(&mut self, now: Instant) -> Expiry {
        let Some(deadline) = self.deadline else {
            return Expiry::NotYet;
        };
        if deadline.at() > now {
            return Expiry::NotYet;
        }
        self.deadline = None;
        match (&mut self.protocol, deadline.kind()) {
            (_, DeadlineKind::Linger) => Expiry::Close,
            (Protocol::Http1(http), kind) => {
                http.deadline_passed(kind, self.transport.buffers_ref())
            }
            (Protocol::Upgraded(..), DeadlineKind::Protocol) => Expiry::Drive,
            (Protocol::Upgraded(..), _) => Expiry::Close,
        }
    }

    /// Puts the answer to request `seq` (a job's) in its place.
    pub(crate) fn fill(&mut self, seq: u64, response: Response, date: &[u8]) -> Filled {
        match &mut self.protocol {
            Protocol::Http1(http) => http.fill(seq, response, date, self.transport.buffers()),
            Protocol::Upgraded(..) => Filled::Unwanted,
        }
    }

    /// Gives up on a request that did not arrive in time: `response` (a
    /// 408), then close.
    pub(crate) fn time_out_request(&mut self, response: &Response, date: &[u8]) {
        if let Protocol::Http1(http) = &mut self.protocol {
            http.time_out_request(response, date);
        }
    }

    /// The server began draining. Bytes may already wait in the socket that
    /// no event has announced yet (their edge may be later in this very
    /// batch of events), so read as if one had: every request that has
    /// arrived is answered, the last with `Connection: close`. A connection
    /// with nothing in flight is not closed at once either: a request may be
    /// on its way, and closing would lose it (or reset it). It stays open
    /// until `grace_ends` (`--drain-grace`), and a request that comes
    /// meanwhile is answered with `Connection: close`.
    pub(crate) fn begin_drain(&mut self, grace_ends: Instant) {
        match &mut self.protocol {
            Protocol::Http1(http) => http.begin_drain(grace_ends),
            Protocol::Upgraded(protocol, _) => protocol.begin_drain(grace_ends),
        }
        self.transport.note_readiness(true, false, false);
    }

    /// The server drains: a stream that began since is told too.
    pub(crate) fn drain_stream(&self) {
        if let Protocol::Http1(http) = &self.protocol {
            http.drain_stream();
        }
    }

    /// The connection is going away: every job still working for it is
    /// given up (nobody will read those answers), and what the access log
    /// is owed is logged.
    pub(crate) fn close(&mut self, respond: &mut dyn Respond) {
        self.transport.close();
        let buffers = self.transport.buffers_ref();
        match &mut self.protocol {
            Protocol::Http1(http) => http.close(buffers, respond),
            Protocol::Upgraded(protocol, log) => {
                protocol.ended();
                if let Some(log) = log.take() {
                    log.write(buffers, protocol.ending());
                }
            }
        }
    }

    /// True once the transport is closed: the server drops it.
    pub(crate) fn is_closed(&self) -> bool {
        self.transport.life() == Life::Closed
    }

    /// The interest the transport wants registered.
    pub(crate) fn interest(&self) -> Interest {
        self.transport.interest()
    }

    /// Where it is, for the trace: the transport's life, and the HTTP/1.1
    /// phase (`None` once upgraded).
    pub(crate) fn state(&self) -> (Life, Option<Phase>) {
        let phase = match &self.protocol {
            Protocol::Http1(http) => Some(http.phase()),
            Protocol::Upgraded(..) => None,
        };
        (self.transport.life(), phase)
    }

    /// Takes storage from the spares if this connection lent its own.
    fn take_spares(&mut self, spares: &mut Spares) {
        self.transport.buffers().take(spares.buffers());
        if let Protocol::Http1(http) = &mut self.protocol {
            http.take_spares(spares);
        }
    }

    /// Lends this connection's storage to the spares if it is idle: nothing
    /// buffered, nothing owed. A busy connection keeps its buffers.
    fn lend_spares(&mut self, spares: &mut Spares) {
        let buffers = self.transport.buffers();
        match &mut self.protocol {
            Protocol::Http1(http) if buffers.is_idle() && http.is_idle() => {
                buffers.lend(spares.buffers());
                http.lend_spares(spares);
            }
            // A quiet socket holds no bytes: its buffers are lent like a
            // keep-alive connection's (an idle WebSocket cost 1.7 KiB, an
            // idle HTTP connection 0.6, while it kept them: bench/ws.sh).
            Protocol::Upgraded(..) => buffers.lend(spares.buffers()),
            Protocol::Http1(_) => {}
        }
    }
}
