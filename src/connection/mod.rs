//! One client connection: its socket, its buffers, its phase, its deadline,
//! and the round that moves it forward.
//!
//! This is the layer Tornado calls `IOStream` + `HTTP1Connection`. It knows
//! HTTP framing (through the codec in `http/`) but no routes: for each
//! request it decodes, it asks a [`Respond`] (the server, or the fuzzer's
//! stand-in) for the answer, and it puts the answer in its place in line.
//!
//! Its life is one enum, [`Phase`]:
//!
//! ```text
//!  Serving ──drain──▶ Draining ──grace over / goodbye──┐
//!     │                  │                             ▼
//!     └─ close asked, error, 408, client's FIN ──▶ Closing ──last byte out──▶ Lingering ──▶ Closed
//!                                                     │   (our FIN; read and drop)     ▲
//!                                                     └── the client finished first ───┘
//! ```
//!
//! and everything it does in one turn is one method, [`Connection::drive`]:
//! read → decode → answer → write, again while that frees room, then set the
//! interest and the deadline. The server and the fuzz harness call the same
//! `drive`: there is one round, not a copy for tests.
//!
//! Readiness is remembered, not re-asked. mio is edge-triggered: it reports
//! "became readable" once, and stays silent until new bytes arrive after a
//! read has seen `WouldBlock`. So the connection keeps its own
//! [`Readiness`] and forgets it only on `WouldBlock`. That lets it stop
//! reading on purpose (too many pipelined requests waiting) and resume
//! later without waiting for an edge that will never come.
//!
//! The parts: `answers.rs` (decoding requests and placing answers, in
//! order), `input.rs` (reading, lingering, lending buffers while idle),
//! `deadline.rs` (which wait is bounded now, and its lazy timer),
//! `queue.rs` (the ordered places), `record.rs` and `unwritten.rs` (the
//! access log's records, held until written), `spares.rs` (the buffers idle
//! connections lend).

mod answers;
mod deadline;
mod input;
pub mod queue;
mod record;
pub mod spares;
mod streaming;
#[cfg(test)]
mod tests;
mod unwritten;

pub use answers::{Filled, JobTicket, Pending, Reply, Respond};
pub use deadline::Expiry;
pub use input::READ_CHUNK;

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use mio::event::{Event, Source};
use mio::{Interest, Registry, Token};

use crate::config::Config;
use crate::http::{Limits, RequestDecoder};
use crate::log::AccessLog;
use crate::reactor::{Handler, Reactor, TimerKey};
use deadline::Deadline;
use queue::ResponseQueue;
use spares::Spares;
use unwritten::Unwritten;

/// Rounds of read → decode → answer → write one connection gets per drive.
/// A client that pipelines without pause could otherwise keep the loop on
/// its connection for ever; past this, the server drives it again next turn.
pub const DRIVE_ROUNDS: usize = 4;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading requests and answering them.
    Serving,
    /// The server is draining: requests that arrive are still answered,
    /// the last with `Connection: close`, and with nothing in flight the
    /// connection waits until `grace_ends` for one (`Connection::begin_drain`).
    Draining {
        /// When an idle connection stops waiting.
        grace_ends: Instant,
    },
    /// No further request will be decoded; the answers owed still go out.
    Closing(Closing),
    /// Our last byte and our FIN are out, but the client may still be
    /// sending: read and drop what comes, so a reset cannot destroy the
    /// last answer in the client's buffers (`Connection::linger`).
    Lingering {
        /// Bytes read and dropped so far.
        discarded: usize,
        /// When it closes however much is still coming (`LINGER_TIME`).
        ends: Instant,
    },
    /// Nothing left: the server drops the connection.
    Closed,
}

/// Why a connection stopped reading requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// The client asked (`Connection: close`, HTTP/1.0), or the framing is
    /// one an intermediary could read differently (see `http/head.rs`).
    Asked,
    /// The bytes were not an acceptable request: an error answer is queued.
    Refused,
    /// A request did not arrive in time: 408 is queued.
    TimedOut,
    /// The server is draining and this answer was the last.
    Goodbye,
    /// The server is draining and the grace passed with nothing asked.
    GraceOver,
    /// The client sent its FIN: it will send nothing more.
    PeerFinished,
    /// A streamed body failed: the close tells the client it is incomplete.
    StreamFailed,
}

/// What the connection believes about its socket, between events.
#[derive(Debug, Clone, Copy)]
pub struct Readiness {
    /// Bytes may wait unread: no `WouldBlock` since the last readable edge.
    readable: bool,
    /// The socket may take more bytes.
    writable: bool,
    /// An event said the peer closed its side (or an error): the FIN may
    /// wait behind the data, so read all the way to `WouldBlock` or EOF.
    closed_hint: bool,
    /// The client's FIN has been read: no byte will follow.
    eof: bool,
}

/// The streams a connection runs over: a mio socket in the server, a
/// scripted stream in the fuzzer. `Source`, so its interest can be set.
pub trait Stream: Read + Write + Source {
    /// Sends our FIN (`shutdown(SHUT_WR)`), keeping the read side open.
    fn shutdown_write(&self) -> io::Result<()>;
}

/// What the server gives a connection for one [`drive`](Connection::drive):
/// the loop's shared buffers and settings, and the name of this
/// connection's deadline timer.
pub struct Kit<'a, T> {
    /// Every read lands here first (one buffer, zeroed once, for all
    /// connections); what arrived is copied into the connection's buffer.
    pub scratch: &'a mut [u8],
    /// Buffers idle connections lent.
    pub spares: &'a mut Spares,
    /// The `Date` header value for this turn.
    pub date: &'a [u8],
    /// The timeouts the deadlines come from.
    pub config: &'a Config,
    /// This connection's token, to set its interest under.
    pub token: Token,
    /// What this connection's deadline timer carries.
    pub timer: T,
}

/// What one [`drive`](Connection::drive) did: counts, for the trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Driven {
    /// Bytes read.
    pub read: usize,
    /// Bytes written.
    pub written: usize,
    /// Requests decoded.
    pub requests: usize,
    /// The rounds were used up with work left: drive it again next turn.
    pub cut_short: bool,
}

/// One accepted client, over a stream `S` (a `TcpStream` in the server).
pub struct Connection<S> {
    socket: S,
    /// The client's address, for the access log and `Request::peer`
    /// (`None` over a Unix socket).
    peer: Option<SocketAddr>,
    phase: Phase,
    ready: Readiness,
    /// Bytes read and not yet decoded live in `inbuf[in_pos..]`. A cursor
    /// instead of draining after every request: pipelined requests are
    /// decoded without moving the bytes behind them.
    inbuf: Vec<u8>,
    in_pos: usize,
    /// Encoded responses; `out[out_pos..]` is not yet written.
    out: Vec<u8>,
    out_pos: usize,
    decoder: RequestDecoder,
    /// One place per decoded request, in order (see `queue.rs`).
    queue: ResponseQueue<Pending, answers::After>,
    /// The streamed body going out now, holding the front of the line
    /// (`streaming.rs`).
    streaming: Option<Box<streaming::Outgoing>>,
    /// Where each answer's record goes once it is written, if anywhere.
    access_log: Option<AccessLog>,
    /// Records whose answers are not all written yet (`unwritten.rs`).
    unwritten: Unwritten<record::Logged>,
    /// Decoding stopped on a limit (pipeline depth, pending output) with
    /// input left: once answers leave, decode again without an event.
    decode_paused: bool,
    /// The interest registered with the poll, so it is re-registered only
    /// when it changes (a syscall saved per wake).
    registered: Interest,
    /// The deadline this connection's state calls for, if any.
    deadline: Option<Deadline>,
    /// The timer standing for it in the reactor. It may fire *earlier*
    /// than `deadline.at`; see `sync_deadline`.
    timer: Option<TimerKey>,
    /// Requests decoded so far (deadline progress).
    requests_seen: u64,
    /// Bytes written so far (write-stall deadline progress).
    bytes_written: u64,
}

impl<S: Stream> Connection<S> {
    /// Wraps a freshly accepted socket, already registered for `READABLE`,
    /// whose answers go to `access_log` (if any) as they leave.
    pub fn new(
        socket: S,
        peer: Option<SocketAddr>,
        limits: Limits,
        access_log: Option<AccessLog>,
    ) -> Connection<S> {
        Connection {
            socket,
            peer,
            access_log,
            unwritten: Unwritten::default(),
            phase: Phase::Serving,
            ready: Readiness {
                readable: false,
                writable: true,
                closed_hint: false,
                eof: false,
            },
            inbuf: Vec::new(),
            in_pos: 0,
            out: Vec::new(),
            out_pos: 0,
            decoder: RequestDecoder::new(limits),
            queue: ResponseQueue::default(),
            streaming: None,
            decode_paused: false,
            registered: Interest::READABLE,
            deadline: None,
            timer: None,
            requests_seen: 0,
            bytes_written: 0,
        }
    }

    /// The stream, for registering it (or, in tests, inspecting it).
    pub fn socket_mut(&mut self) -> &mut S {
        &mut self.socket
    }

    /// Where the connection is in its life.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Records what an event says about the socket. Events are hints: a
    /// "readable" may find nothing (spurious wakeups are allowed), and
    /// "read closed" or "error" are best found out by reading, so they count
    /// as readable too.
    pub fn note_event(&mut self, event: &Event) {
        self.ready.closed_hint |= event.is_read_closed() || event.is_error();
        self.note_readiness(
            event.is_readable() || event.is_read_closed() || event.is_error(),
            event.is_writable() || event.is_write_closed() || event.is_error(),
        );
    }

    /// Records readiness directly (what `note_event` does for a real event;
    /// the socket-free harness in `fuzzing.rs` calls it itself).
    pub fn note_readiness(&mut self, readable: bool, writable: bool) {
        self.ready.readable |= readable;
        self.ready.writable |= writable;
    }

    /// Moves the connection forward as far as it can go without blocking:
    /// read what arrived, answer every complete request (`respond` decides
    /// how), write what is ready — again while that frees room, at most
    /// [`DRIVE_ROUNDS`] times — then set the interest and the deadline.
    /// Afterwards the phase says whether it is [`Phase::Closed`].
    pub fn drive<H, R>(
        &mut self,
        reactor: &mut Reactor<H>,
        mut kit: Kit<'_, H::Timer>,
        respond: &mut R,
    ) -> Driven
    where
        H: Handler,
        R: Respond<H>,
    {
        let mut driven = Driven::default();
        if let Phase::Lingering { .. } = self.phase {
            self.discard(kit.scratch);
        } else {
            self.take_buffers(kit.spares);
            self.rounds(reactor, &mut kit, respond, &mut driven);
        }
        if self.phase == Phase::Closed {
            return driven;
        }
        if self.sync_interest(reactor.registry(), kit.token).is_err() {
            self.phase = Phase::Closed;
            return driven;
        }
        self.sync_deadline(reactor, kit.timer, kit.config);
        self.lend_buffers(kit.spares);
        driven
    }

    /// The rounds of one drive (see [`drive`](Self::drive)).
    fn rounds<H: Handler, R: Respond<H>>(
        &mut self,
        reactor: &mut Reactor<H>,
        kit: &mut Kit<'_, H::Timer>,
        respond: &mut R,
        driven: &mut Driven,
    ) {
        for _ in 0..DRIVE_ROUNDS {
            driven.read += self.read(kit.scratch);
            if self.phase == Phase::Closed {
                return; // reset, or another read error: the client is gone
            }
            driven.requests += self.answer(reactor, kit.date, respond);
            self.release_front(reactor, kit.date, respond);
            match self.flush(reactor) {
                Ok(written) => driven.written += written,
                Err(_) => return self.phase = Phase::Closed,
            }
            if self.ready.eof {
                self.peer_finished();
                if self.phase == Phase::Closed {
                    return;
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

    /// The client's FIN has arrived. It is either a half-close (the client
    /// sent its requests and waits for the answers, as `nc -N` does) or a
    /// full close, and TCP cannot tell which until we write. So requests
    /// that arrived whole before it are answered; a request cut short by it
    /// is dropped. But an offloaded job still running means closing now: a
    /// client that closed must not hold a worker for a whole job, and nginx
    /// treats a client that closes during a proxied request the same way
    /// (its 499). The server then trips the job's token, as for a reset.
    fn peer_finished(&mut self) {
        self.stop_reading(Closing::PeerFinished);
        let offloaded = |pending: &Pending| !matches!(pending.job, answers::Offloaded::No);
        if self.queue.pending().any(offloaded) {
            self.phase = Phase::Closed;
        }
    }

    /// Every answer is out and no request will follow: close — lingering
    /// first if the client may still be sending.
    ///
    /// When the server ends a connection while the client may still send
    /// (an error mid-upload, `Connection: close` with more pipelined),
    /// closing the socket with unread bytes in it makes the kernel send a
    /// reset, and a reset can destroy our last answer in the client's
    /// buffers before it reads it: the client sees "connection reset"
    /// instead of the 413 it was owed. So we half-close (our FIN follows the
    /// answer) and read and drop for a while — until the client closes too,
    /// or it sends nothing for `LINGER_IDLE`, or `LINGER_TIME` passes, or
    /// `LINGER_MAX_BYTES` have been dropped — before the socket is dropped.
    /// nginx does the same (`lingering_close`, `lingering_timeout`,
    /// `lingering_time`).
    ///
    /// Not after a drain's grace with nothing unread, though. That
    /// connection was idle for the whole grace, so its last answer had that
    /// long to be read, and no byte waits to cause a reset; lingering would
    /// only hold the exit for `LINGER_IDLE` more (with `--drain-grace 1`, an
    /// idle keep-alive connection held it about 3 s). One read tells: a
    /// request that arrived at the last moment is found, and lingered on.
    fn finish(&mut self, scratch: &mut [u8]) {
        let client_may_send = !self.ready.eof;
        let grace_over = self.phase == Phase::Closing(Closing::GraceOver);
        if client_may_send && self.socket.shutdown_write().is_ok() {
            self.phase = Phase::Lingering {
                discarded: 0,
                ends: Instant::now() + deadline::LINGER_TIME,
            };
            self.ready.readable = true;
            self.discard(scratch);
            let nothing_unread = !self.ready.readable;
            if grace_over && nothing_unread {
                if let Phase::Lingering { discarded: 0, .. } = self.phase {
                    self.phase = Phase::Closed;
                }
            }
        } else {
            self.phase = Phase::Closed;
        }
    }

    /// Moves from a reading phase to [`Phase::Closing`]; a connection that
    /// stopped reading already keeps its first reason.
    fn stop_reading(&mut self, why: Closing) {
        if self.reads_requests() {
            self.phase = Phase::Closing(why);
        }
    }

    /// True while requests are read and decoded.
    fn reads_requests(&self) -> bool {
        matches!(self.phase, Phase::Serving | Phase::Draining { .. })
    }

    /// True when there is nothing left to do but close: every answer is
    /// written and no further request will come.
    fn is_finished(&self) -> bool {
        self.out.is_empty()
            && self.queue.is_empty()
            && self.streaming.is_none()
            && !self.reads_requests()
    }

    /// True if another round of read → decode → write could make progress
    /// right now, without a new readiness event: bytes wait in the socket
    /// and there is room to buffer them, or decoding was paused on a limit
    /// that the last write lifted.
    fn can_progress(&self) -> bool {
        (self.ready.readable && self.wants_input())
            || (self.decode_paused && !self.answers_limit_reached())
            || self.front_is_held()
            || (self.ready.writable && self.stream_can_progress())
    }

    /// No byte of a next request has been read.
    pub fn between_requests(&self) -> bool {
        self.decoder.is_idle() && self.in_pos == self.inbuf.len()
    }

    /// The server began draining. Bytes may already wait in the socket that
    /// no event has announced yet (their edge may be later in this very
    /// batch of events), so read as if one had: every request that has
    /// arrived is answered, the last with `Connection: close`. A connection
    /// with nothing in flight is not closed at once either: a request may be
    /// on its way, and closing would lose it (or reset it). It stays open
    /// until `grace_ends` (`--drain-grace`), and a request that comes
    /// meanwhile is answered with `Connection: close`.
    pub fn begin_drain(&mut self, grace_ends: Instant) {
        if self.phase == Phase::Serving {
            self.phase = Phase::Draining { grace_ends };
        }
        self.drain_stream();
        self.ready.readable = true;
    }

    /// The connection is going away: give up every job still working for
    /// it (nobody will read those answers) and disarm its timers.
    pub fn abandon<H: Handler>(&mut self, reactor: &mut Reactor<H>) {
        if let Some(outgoing) = self.streaming.take() {
            self.log_stream(*outgoing, false);
        }
        // Answers the socket did not take whole: logged with what went.
        while let Some((logged, body)) = self.unwritten.next_cut(self.bytes_written) {
            self.log(Some(logged.cut(body)));
        }
        self.abandon_queue(reactor);
        if let Some(timer) = self.timer.take() {
            reactor.cancel(timer);
        }
    }

    /// Asks for `WRITABLE` only while output is pending: with it always on,
    /// every written response would wake the loop once more for nothing.
    /// Re-registers only when the interest actually changes.
    fn sync_interest(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        let wanted = self.interest();
        if wanted != self.registered {
            registry.reregister(&mut self.socket, token, wanted)?;
            self.registered = wanted;
        }
        Ok(())
    }

    /// The interest the connection's state calls for.
    pub fn interest(&self) -> Interest {
        if self.out.is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        }
    }
}
