//! One client connection: its socket, its buffers, its place in the HTTP
//! exchange, and its deadline.
//!
//! This is the layer Tornado calls `IOStream` + `HTTP1Connection`. It knows
//! HTTP framing (through the codec in `http/`) but no routes: the loop asks
//! it for the next decoded request, decides who answers, and hands the
//! answer back with [`Connection::fill`].
//!
//! The connection is generic over its stream so that it can be driven
//! without a socket: the event loop uses `mio::net::TcpStream`, the fuzzer
//! and the unit tests a scripted in-memory stream (`fuzzing.rs`).
//!
//! Two parts live in files of their own: `connection/input.rs` (reading,
//! lingering, lending buffers back while idle) and `connection/deadline.rs`
//! (which wait is bounded, and the lazy timer for it).
//!
//! Readiness bookkeeping. mio is edge-triggered: it reports "became readable"
//! once, and stays silent until new bytes arrive after we have seen
//! `WouldBlock`. So the connection remembers readiness itself
//! (`read_ready`, `write_ready`) and only forgets it on `WouldBlock`. That
//! lets it stop reading on purpose (too many pipelined requests waiting) and
//! resume later without waiting for an edge that will never come.

mod deadline;
mod input;

pub use deadline::DeadlineKind;
pub use input::READ_CHUNK;

use deadline::Deadline;

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use mio::event::{Event, Source};
use mio::{Interest, Registry};

use crate::conn_table::ConnId;
use crate::event_loop::TimerEvent;
use crate::http::response::CONTINUE;
use crate::http::{
    encode_response, Decoded, Limits, Request, RequestDecoder, Response, ResponseMeta, StatusCode,
    Version,
};
use crate::response_queue::{JobTicket, Ready, ResponseQueue, Waiting};
use crate::timers::{TimerKey, Timers};

/// At most this many requests may wait for their answers on one connection;
/// beyond it the connection stops decoding (and then reading) until answers
/// leave. Bounds the work one client can queue by pipelining.
const MAX_PIPELINED: usize = 64;

/// Stop decoding new requests while this much output is waiting to be
/// written: a client that pipelines but never reads would otherwise make us
/// buffer answers without end. With decoding stopped, input backs up too,
/// and the kernel's buffers push back on the client.
const MAX_PENDING_OUTPUT: usize = 1 << 20;

/// What reading found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The socket is still open (bytes may or may not have arrived).
    Open,
    /// The client closed or reset: drop the connection and its jobs.
    Gone,
}

/// What decoding found next on a connection.
#[derive(Debug)]
pub enum Inbound {
    /// A whole request, for the loop to answer.
    Request(Request),
    /// Bytes that are not an acceptable request: the error answer (this
    /// status) is queued already and the connection will close. Reported
    /// so the loop can count it.
    Refused(StatusCode),
}

/// One accepted client, over a stream `S` (a `TcpStream` in the server).
pub struct Connection<S> {
    socket: S,
    /// The client's address, for the access log.
    peer: SocketAddr,
    /// Bytes read and not yet decoded live in `inbuf[in_pos..]`. A cursor
    /// instead of draining after every request: pipelined requests are
    /// decoded without moving the bytes behind them.
    inbuf: Vec<u8>,
    in_pos: usize,
    /// Encoded responses; `out[out_pos..]` is not yet written.
    out: Vec<u8>,
    out_pos: usize,
    decoder: RequestDecoder,
    /// One slot per decoded request, in order (see `response_queue.rs`).
    queue: ResponseQueue,
    /// False once no further request will be decoded: the last one asked to
    /// close, was rejected, or the server is draining and said goodbye.
    reading: bool,
    /// The socket may have unread bytes (no `WouldBlock` since the last
    /// readable edge).
    read_ready: bool,
    /// An event said the peer closed its side (or an error): the FIN may be
    /// waiting behind the data, so read all the way to `WouldBlock` or EOF.
    read_closed_hint: bool,
    /// The client's FIN has been read: no byte will follow (see
    /// `Connection::after_fin`).
    fin_received: bool,
    /// The socket may accept more bytes.
    write_ready: bool,
    /// The interest currently registered with the `Poll`, so it is only
    /// re-registered when it changes (a syscall saved per wake).
    registered: Interest,
    /// The deadline this connection's state calls for, if any.
    deadline: Option<Deadline>,
    /// The timer standing for it in the loop's timers. It may fire *earlier*
    /// than `deadline.at`; see `sync_deadline`.
    timer: Option<TimerKey>,
    /// Requests decoded so far.
    requests_seen: u64,
    /// Bytes written so far (write-stall deadline progress).
    bytes_written: u64,
    /// The last `next_request` stopped on a limit (pipeline depth, pending
    /// output) with input left to decode: once answers leave, decode again.
    decode_held: bool,
    /// `Some(bytes discarded)` once the connection is lingering.
    lingering: Option<usize>,
    /// Set when the server begins draining: until then, an idle connection
    /// may still receive one last request (see `begin_drain`).
    drain_grace_end: Option<Instant>,
}

impl<S: Read + Write> Connection<S> {
    /// Wraps a freshly accepted socket, already registered for `READABLE`.
    pub fn new(socket: S, peer: SocketAddr, limits: Limits) -> Connection<S> {
        Connection {
            socket,
            peer,
            inbuf: Vec::new(),
            in_pos: 0,
            out: Vec::new(),
            out_pos: 0,
            decoder: RequestDecoder::new(limits),
            queue: ResponseQueue::default(),
            reading: true,
            read_ready: false,
            read_closed_hint: false,
            fin_received: false,
            write_ready: true,
            registered: Interest::READABLE,
            deadline: None,
            timer: None,
            requests_seen: 0,
            bytes_written: 0,
            decode_held: false,
            lingering: None,
            drain_grace_end: None,
        }
    }

    /// The stream, for registering it (or, in tests, inspecting it).
    pub fn socket_mut(&mut self) -> &mut S {
        &mut self.socket
    }

    /// Records what an event says about the socket. Events are hints: a
    /// "readable" may find nothing (spurious wakeups are allowed), and
    /// "read closed" or "error" are best found out by reading, so they count
    /// as readable too.
    pub fn note_event(&mut self, event: &Event) {
        self.read_closed_hint |= event.is_read_closed() || event.is_error();
        self.note_readiness(
            event.is_readable() || event.is_read_closed() || event.is_error(),
            event.is_writable() || event.is_write_closed() || event.is_error(),
        );
    }

    /// Records readiness directly (what `note_event` does for a real event;
    /// the socket-free harness in `fuzzing.rs` calls it itself).
    pub fn note_readiness(&mut self, readable: bool, writable: bool) {
        self.read_ready |= readable;
        self.write_ready |= writable;
    }

    /// Decodes the next complete request from the buffered input, if there
    /// is one and the connection may take another. Interim `100 Continue`
    /// and error responses are queued here, in order, as they are found.
    pub fn next_request(&mut self, date: &[u8], access_log: bool) -> Option<Inbound> {
        self.decode_held = false;
        while self.reading {
            if self.queue.len() >= MAX_PIPELINED || self.pending_output() >= MAX_PENDING_OUTPUT {
                self.decode_held = self.in_pos < self.inbuf.len();
                return None;
            }
            let (used, decoded) = self.decoder.decode(&self.inbuf[self.in_pos..]);
            self.in_pos += used;
            match decoded {
                Decoded::Request(request) => {
                    self.requests_seen += 1;
                    return Some(Inbound::Request(request));
                }
                Decoded::Continue => {
                    self.queue.push_ready(Ready {
                        bytes: CONTINUE.to_vec(),
                        close: false,
                    });
                }
                Decoded::Incomplete => return None,
                Decoded::Reject(status) => {
                    // Framing is lost: nothing after this point can be
                    // trusted to be a request. Answer, then close.
                    self.reading = false;
                    let response = Response::error(status);
                    if access_log {
                        log_access(self.peer, "-", status, response.body.len(), Instant::now());
                    }
                    let mut bytes = Vec::new();
                    encode_response(&response, close_meta(), date, &mut bytes);
                    self.queue.push_ready(Ready { bytes, close: true });
                    return Some(Inbound::Refused(status));
                }
            }
        }
        None
    }

    /// Reserves the response slot for `request`, answered by route number
    /// `route`, and returns its sequence number. A request that ends the
    /// connection stops further decoding.
    pub fn reserve(&mut self, request: &Request, access_log: bool, route: usize) -> u64 {
        let close = !request.keep_alive;
        if close {
            self.reading = false;
        }
        self.queue.reserve(Waiting {
            head_only: request.is_head(),
            keep_alive_10: request.version == Version::Http10 && request.keep_alive,
            close,
            started: Instant::now(),
            request_line: access_log.then(|| request_line(request)),
            job: None,
            route,
        })
    }

    /// Remembers the job answering slot `seq`: its cancel token and the
    /// timer that enforces the job timeout.
    pub fn track_job(&mut self, seq: u64, job: JobTicket) {
        self.queue.set_job(seq, job);
    }

    /// Hands a request back once it has been answered or dispatched, so the
    /// decoder can reuse its buffers for the next one.
    pub fn recycle(&mut self, request: Request) {
        self.decoder.recycle(request);
    }

    /// Puts the answer to request `seq` in its slot. While draining, the last
    /// answer says `Connection: close` and ends the connection — the last
    /// one *so far*: with bytes of another request already buffered, that
    /// request is answered too, and its answer says goodbye instead.
    pub fn fill(&mut self, seq: u64, response: Response, date: &[u8]) -> Filled {
        let goodbye =
            self.drain_grace_end.is_some() && self.queue.is_last(seq) && self.between_requests();
        let peer = self.peer;
        let filled;
        if let Some(waiting) = self.queue.take_front(seq) {
            // The oldest request: everything before it has been handed to
            // the output buffer already, so encode straight into it.
            filled = Filled::of(&waiting);
            if encode(peer, &waiting, &response, goodbye, date, &mut self.out) {
                self.reading = false;
            }
        } else {
            let mut taken = Filled::NotWaiting;
            self.queue.fill(seq, |waiting| {
                taken = Filled::of(&waiting);
                let mut bytes = Vec::new();
                let close = encode(peer, &waiting, &response, goodbye, date, &mut bytes);
                Ready { bytes, close }
            });
            filled = taken;
        }
        if goodbye && !matches!(filled, Filled::NotWaiting) {
            self.reading = false;
        }
        filled
    }

    /// The job for slot `seq` ran out of time: tell it to stop, answer 504
    /// in its place. `NotWaiting` if the slot was answered meanwhile.
    pub fn time_out_job(&mut self, seq: u64, date: &[u8]) -> Filled {
        let response = Response::error(StatusCode::GATEWAY_TIMEOUT);
        let filled = self.fill(seq, response, date);
        if let Filled::Yes { job: Some(job), .. } = &filled {
            job.cancel.time_out();
        }
        filled
    }

    /// Gives up on a request that did not arrive in time: 408, then close.
    pub fn time_out_request(&mut self, date: &[u8]) {
        self.reading = false;
        let mut bytes = Vec::new();
        encode_response(
            &Response::error(StatusCode(408)),
            close_meta(),
            date,
            &mut bytes,
        );
        self.queue.push_ready(Ready { bytes, close: true });
    }

    /// Moves answers that are ready, in order, into the output buffer and
    /// writes as much as the socket takes. "Parse everything, write once":
    /// all answers ready after one read go out in a single `write`.
    /// An error means the client is gone.
    pub fn flush(&mut self) -> io::Result<()> {
        self.collect_ready();
        while self.write_ready && self.out_pos < self.out.len() {
            match self.socket.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out_pos += n;
                    self.bytes_written += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.write_ready = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        Ok(())
    }

    /// Moves the answers that may leave now (filled slots at the front of
    /// the queue) into the output buffer.
    fn collect_ready(&mut self) {
        while let Some(ready) = self.queue.pop_ready() {
            self.out.extend_from_slice(&ready.bytes);
            if ready.close {
                self.reading = false;
            }
        }
    }

    /// True while encoded output waits to be written.
    pub fn has_output(&self) -> bool {
        self.pending_output() > 0
    }

    fn pending_output(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// True if another round of read → decode → flush could make progress
    /// right now, without a new readiness event: bytes wait in the socket
    /// and there is room to buffer them, or decoding was held on a limit
    /// that the last flush lifted.
    pub fn can_progress(&self) -> bool {
        (self.read_ready && self.wants_input())
            || (self.decode_held
                && self.queue.len() < MAX_PIPELINED
                && self.pending_output() < MAX_PENDING_OUTPUT)
    }

    /// True when there is nothing left to do but close: every answer is
    /// written and no further request will come.
    pub fn is_finished(&self) -> bool {
        self.out.is_empty() && self.queue.is_empty() && !self.reading
    }

    /// The server began draining. Bytes may already wait in the socket that
    /// no event has announced yet (their edge may be later in this very
    /// batch of events), so read as if one had: every request that has
    /// arrived is answered, the last with `Connection: close`. A
    /// connection with nothing in flight is not closed at once either: a
    /// request may be on its way, and closing would lose it (or reset it).
    /// It stays open until `grace_end` (`--drain-grace`), and a request
    /// that comes meanwhile is answered with `Connection: close`.
    pub fn begin_drain(&mut self, grace_end: Instant) {
        self.drain_grace_end = Some(grace_end);
        self.read_ready = true;
    }

    /// The drain's grace ran out with nothing in flight: no more requests.
    /// The loop then half-closes and lingers (`linger`), so bytes the client
    /// sent at the last moment are read and dropped, never reset.
    pub fn end_grace(&mut self) {
        self.reading = false;
    }

    /// No byte of a next request has been read.
    pub fn between_requests(&self) -> bool {
        self.decoder.is_idle() && self.in_pos == self.inbuf.len()
    }

    /// The connection is closing: trip the cancel token of every job still
    /// working for it (nobody will read those answers) and disarm its
    /// timers.
    pub fn abandon(&mut self, timers: &mut Timers<TimerEvent>) {
        for waiting in self.queue.waiting() {
            if let Some(job) = &waiting.job {
                job.cancel.cancel();
                timers.cancel(job.timer);
            }
        }
        if let Some(timer) = self.timer.take() {
            timers.cancel(timer);
        }
    }
}

impl<S: Source> Connection<S> {
    /// Asks for `WRITABLE` only while output is pending: with it always on,
    /// every written response would wake the loop once more for nothing.
    /// Re-registers only when the interest actually changes.
    pub fn sync_interest(&mut self, registry: &Registry, id: ConnId) -> io::Result<()> {
        let wanted = if self.out.is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        if wanted != self.registered {
            registry.reregister(&mut self.socket, id.token(), wanted)?;
            self.registered = wanted;
        }
        Ok(())
    }
}

/// What filling a slot did.
#[derive(Debug)]
pub enum Filled {
    /// The answer is in its slot.
    Yes {
        /// The job that was working on it, if the request was offloaded
        /// (its timer can now be disarmed).
        job: Option<JobTicket>,
        /// The route that answered, for the metrics.
        route: usize,
        /// When the request was decoded, for the metrics.
        started: Instant,
    },
    /// The slot was not waiting: answered already (by a job timeout, say)
    /// or never issued. The answer is dropped.
    NotWaiting,
}

impl Filled {
    fn of(waiting: &Waiting) -> Filled {
        Filled::Yes {
            job: waiting.job.clone(),
            route: waiting.route,
            started: waiting.started,
        }
    }
}

/// Encodes the answer to the request `waiting` describes into `out`, logs it,
/// and returns whether the connection closes after it.
fn encode(
    peer: SocketAddr,
    waiting: &Waiting,
    response: &Response,
    goodbye: bool,
    date: &[u8],
    out: &mut Vec<u8>,
) -> bool {
    let close = waiting.close || goodbye;
    let meta = ResponseMeta {
        head_only: waiting.head_only,
        close,
        keep_alive_10: waiting.keep_alive_10 && !close,
    };
    if let Some(line) = &waiting.request_line {
        log_access(
            peer,
            line,
            response.status,
            response.body.len(),
            waiting.started,
        );
    }
    encode_response(response, meta, date, out);
    close
}

/// Metadata for an error response that ends the connection.
fn close_meta() -> ResponseMeta {
    ResponseMeta {
        head_only: false,
        close: true,
        keep_alive_10: false,
    }
}

/// `GET /fast?id=1 HTTP/1.1`, as the access log shows it.
fn request_line(request: &Request) -> String {
    let version = match request.version {
        Version::Http10 => "HTTP/1.0",
        Version::Http11 => "HTTP/1.1",
    };
    format!("{} {} {}", request.method, request.target, version)
}

/// One access-log line on stdout:
/// `127.0.0.1:50412 "GET /fast?id=1 HTTP/1.1" 200 13 0.084ms`.
/// Write errors are ignored: a closed stdout must not take the server down
/// (`println!` would panic on EPIPE).
fn log_access(peer: SocketAddr, line: &str, status: StatusCode, body_len: usize, started: Instant) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let _ = writeln!(
        io::stdout().lock(),
        "{peer} \"{line}\" {} {body_len} {ms:.3}ms",
        status.as_u16()
    );
}
