//! The HTTP/1.1 protocol on one connection, sans-IO: Tornado's
//! `HTTP1Connection`, without the stream inside it.
//!
//! It is handed the transport's [`Buffers`] and the time, never a socket or
//! the loop: it decodes requests from the input, asks a [`Respond`] for
//! each answer, places the answers in line (`line.rs`) and encodes them
//! into the output, and says which wait its state calls for
//! ([`Http1::wanted`]). Its unit tests and the fuzz harness drive it with
//! bytes alone. Its phase (`phase.rs`) says whether it still reads
//! requests; a `101` hands the connection to another protocol
//! ([`Http1::take_upgrade`]).

use std::net::SocketAddr;
use std::time::Instant;

use super::deadline::{DeadlineKind, Expiry, Wanted};
use super::line::{Filled, Line, Offloaded, Pending};
use super::phase::{Closing, Phase};
use super::record::{Seen, SocketLog};
use super::respond::{Reply, Respond};
use super::spares::Spares;
use super::upgrade::Upgraded;
use crate::http::response::CONTINUE;
use crate::http::{Decoded, Limits, Request, RequestDecoder, Response, Version};
use crate::log::AccessLog;
use crate::transport::{Buffers, Security};

/// At most this many requests may wait for their answers on one connection;
/// beyond it the connection stops decoding (and then reading) until answers
/// leave. Bounds the work one client can queue by pipelining.
const MAX_PIPELINED: usize = 64;

/// Stop decoding new requests while this much output is waiting to be
/// written: a client that pipelines but never reads would otherwise make us
/// buffer answers without end. With decoding stopped, input backs up too,
/// and the kernel's buffers push back on the client.
const MAX_PENDING_OUTPUT: usize = 1 << 20;

/// Stop reading once this many undecoded bytes wait in the input buffer: a
/// client pipelining faster than we answer must not grow our memory.
const MAX_BUFFERED_INPUT: usize = 64 * 1024;

/// A `101` on its way out: the protocol that speaks after it, and the
/// upgrading request as the access log's closing record will name it.
struct Switch {
    to: Box<dyn Upgraded>,
    seen: Option<Box<Seen>>,
}

/// HTTP/1.1 on one connection.
pub(crate) struct Http1 {
    phase: Phase,
    decoder: RequestDecoder,
    /// One place per decoded request, in order.
    line: Line,
    /// Decoding stopped on a limit (pipeline depth, pending output) with
    /// input left: once answers leave, decode again without an event.
    decode_paused: bool,
    /// Requests decoded so far (the header and idle deadlines' progress).
    requests_seen: u64,
    /// The protocol a `101` handed the connection to, until the `101` is
    /// in the output.
    // Boxed: only an upgrading connection has one, and inline it made
    // every connection 8 bytes larger (docs/performance.md).
    upgrade: Option<Box<Switch>>,
    /// Whether the transport's TLS version is known yet (asked until it is,
    /// for the access log: a plain transport answers at once).
    transport_known: bool,
}

impl Http1 {
    /// A new connection's protocol: requests held to `limits`, answers
    /// logged to `access_log` (if any) with the client's address `peer`.
    pub(crate) fn new(
        limits: Limits,
        peer: Option<SocketAddr>,
        access_log: Option<AccessLog>,
    ) -> Http1 {
        Http1 {
            phase: Phase::Serving,
            decoder: RequestDecoder::new(limits),
            line: Line::new(peer, access_log),
            decode_paused: false,
            requests_seen: 0,
            upgrade: None,
            transport_known: false,
        }
    }

    /// Until it knows: the TLS version the transport speaks, if any, for
    /// the access log. Asked after reads (the handshake ends in one).
    pub(crate) fn learn_transport(&mut self, security: Security) {
        match security {
            Security::Plain => self.transport_known = true,
            Security::Handshaking => {}
            Security::Tls(version) => {
                self.line.speaks_tls(version);
                self.transport_known = true;
            }
        }
    }

    /// True until the transport's TLS version (or its absence) is known.
    pub(crate) fn learning_transport(&self) -> bool {
        !self.transport_known
    }

    /// Where it is.
    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }

    /// The most undecoded input it wants buffered: none once it stops
    /// reading requests.
    pub(crate) fn read_limit(&self) -> usize {
        if self.phase.reads_requests() {
            MAX_BUFFERED_INPUT
        } else {
            0
        }
    }

    /// Decodes every complete request in the input (as far as the limits
    /// allow) and places its answer, then submits the streaming job at the
    /// front of the line if it waits; returns the requests decoded.
    pub(crate) fn receive(
        &mut self,
        buffers: &mut Buffers,
        date: &[u8],
        respond: &mut dyn Respond,
    ) -> usize {
        let decoded = self.decode(buffers, date, respond);
        self.release_front(buffers, date, respond);
        decoded
    }

    fn decode(&mut self, buffers: &mut Buffers, date: &[u8], respond: &mut dyn Respond) -> usize {
        let mut decoded = 0;
        self.decode_paused = false;
        while self.phase.reads_requests() {
            if self.answers_limit_reached(buffers) {
                self.decode_paused = buffers.unconsumed() > 0;
                break;
            }
            // A refusal at admission (an answer instead of reading a body)
            // is made with all the answer needs (`Allow` on a 405), which
            // the decoder, a codec, cannot carry: it is kept here.
            let mut refusal = None;
            // A request with a body is seen here first, head decoded: the
            // access log keeps its line even if the body is then refused
            // (413), and a request served takes it along.
            let mut admitted = None;
            let logging = self.line.logging();
            let mut admit = |request: &Request, expects_continue| {
                admitted = logging.then(|| Seen::of(request));
                respond
                    .admit(request, expects_continue)
                    .map_err(|response| {
                        let status = response.status;
                        refusal = Some(response);
                        status
                    })
            };
            let (used, found) = self.decoder.decode_with(buffers.input(), &mut admit);
            buffers.consume(used);
            match found {
                Decoded::Request(mut request) => {
                    decoded += 1;
                    self.requests_seen += 1;
                    request.peer = self.line.peer();
                    self.place(&mut request, date, respond, admitted, buffers);
                    self.decoder.recycle(request);
                }
                Decoded::Continue => self.line.push_interim(CONTINUE),
                Decoded::Incomplete => break,
                Decoded::Reject(refused) => {
                    // Framing is lost: nothing after this point can be
                    // trusted to be a request. Answer, then close.
                    let response = refusal.unwrap_or_else(|| respond.error(refused));
                    self.phase.stop_reading(Closing::Refused);
                    // A head refused whole (501, 505, 431) still has the
                    // request line it began with, if that parsed.
                    let seen = admitted.or_else(|| {
                        logging
                            .then(|| Seen::of_refused_head(buffers.input()))
                            .flatten()
                    });
                    self.line
                        .push_error(&response, seen, Some(refused.reason), date);
                    respond.refused(refused);
                }
            }
        }
        decoded
    }

    /// True while no further request may be decoded: too many answers
    /// owed, or too much output waiting.
    fn answers_limit_reached(&self, buffers: &Buffers) -> bool {
        // Answers waiting in line (behind a slow job, or a stream that may
        // last for ever) are output too: not counting them let 64
        // pipelined 1 MiB answers pile up behind each event stream (a
        // review measured 645 MiB from ten connections).
        self.line.len() >= MAX_PIPELINED
            || buffers.unwritten() + self.line.encoded_bytes() >= MAX_PENDING_OUTPUT
    }

    /// Reserves `request`'s place in line, asks for its answer, and puts
    /// the answer there (or remembers the job that will bring it).
    fn place(
        &mut self,
        request: &mut Request,
        date: &[u8],
        respond: &mut dyn Respond,
        seen: Option<Box<Seen>>,
        buffers: &mut Buffers,
    ) {
        let close = !request.keep_alive;
        if close {
            self.phase.stop_reading(Closing::Asked);
        }
        let started = Instant::now();
        let logging = self.line.logging();
        let seq = self.line.reserve(Pending {
            head_only: request.is_head(),
            confirm_keep_alive: request.version == Version::Http10 && request.keep_alive,
            close,
            http10: request.version == Version::Http10,
            started,
            seen: seen.or_else(|| logging.then(|| Seen::of(request))),
            route: None,
            job: Offloaded::No,
        });
        match respond.respond(request, seq, started) {
            Reply::Now { route, response } => {
                self.line.answered_by(seq, route, Offloaded::No);
                self.fill(seq, response, date, buffers);
            }
            Reply::Later { route, job } => {
                self.line.answered_by(seq, route, Offloaded::Submitted(job))
            }
            Reply::Held { route, job } => self.line.answered_by(seq, route, Offloaded::Held(job)),
            Reply::Upgrade {
                route,
                response,
                to,
            } => {
                self.line.answered_by(seq, route, Offloaded::No);
                self.phase.switch();
                // The closing record's copy of the request (the 101's own
                // goes with its place).
                let seen = self.line.logging().then(|| Seen::of(request));
                self.upgrade = Some(Box::new(Switch { to, seen }));
                self.fill(seq, response, date, buffers);
            }
        }
    }

    /// Submits the job held at the front of the line, if one is (see
    /// `Reply::Held`): nothing is written before it, so its producer's
    /// bytes can go out as it makes them.
    fn release_front(&mut self, buffers: &mut Buffers, date: &[u8], respond: &mut dyn Respond) {
        let Some((seq, job, route, started)) = self.line.take_front_held() else {
            return;
        };
        match respond.release(job, seq, route, started) {
            Ok(ticket) => self
                .line
                .answered_by(seq, route, Offloaded::Submitted(ticket)),
            Err(response) => {
                self.fill(seq, response, date, buffers);
            }
        }
    }

    /// Puts the answer to request `seq` in its place. While draining, and
    /// after the client's FIN (no request can follow it), the last answer
    /// says `Connection: close` and ends the connection — the last one *so
    /// far*: with bytes of another request already buffered, that request
    /// is answered too, and its answer says goodbye instead. After a FIN,
    /// buffered bytes that can never become a whole request do not count:
    /// the connection closes after the last whole one, so its answer says
    /// so (`no_request_follows`).
    pub(crate) fn fill(
        &mut self,
        seq: u64,
        response: Response,
        date: &[u8],
        buffers: &mut Buffers,
    ) -> Filled {
        let draining = self.phase.is_draining();
        let last_call = draining || buffers.input_ended();
        let goodbye = last_call && self.line.is_last(seq) && self.no_request_follows(buffers);
        let (filled, closes) = self.line.fill(seq, response, goodbye, date, buffers);
        // A stream ended by the close (HTTP/1.0): nothing may be read
        // after its request.
        if closes && !goodbye {
            self.phase.stop_reading(Closing::Asked);
        }
        if goodbye && !matches!(filled, Filled::Unwanted) {
            let why = if draining {
                Closing::Goodbye
            } else {
                Closing::PeerFinished
            };
            self.phase.stop_reading(why);
        }
        filled
    }

    /// True if no request will be answered after those decoded so far:
    /// nothing of one is buffered, or — once the client's FIN is in, so the
    /// buffered bytes are all there will ever be — what is buffered cannot
    /// complete one. Asked only when the client or the server is ending the
    /// connection, so the probe below is off the keep-alive path.
    fn no_request_follows(&self, buffers: &Buffers) -> bool {
        if self.between_requests(buffers) {
            return true;
        }
        if !buffers.input_ended() {
            return false; // the rest of a request may still be on its way
        }
        // Reading stopped, or a request is half-decoded with every byte
        // in: nothing more will be decoded.
        if !self.phase.reads_requests() || !self.decoder.is_idle() {
            return true;
        }
        // Mid-`decode`, at a request boundary: would the bytes left make a
        // request (or a refusal, which is an answer too)? A fresh decoder
        // on a copy of the limits says, touching nothing.
        // (A `100 Continue` is no answer: look on past it, at the body.)
        let mut probe = RequestDecoder::new(self.decoder.limits());
        let mut rest = buffers.input();
        loop {
            match probe.decode(rest) {
                (used, Decoded::Continue) => rest = &rest[used..],
                (_, found) => return matches!(found, Decoded::Incomplete),
            }
        }
    }

    /// Moves what may leave into the output (see `Line::emit`); a streamed
    /// body whose end ends the connection stops the reading.
    pub(crate) fn emit(&mut self, buffers: &mut Buffers, respond: &mut dyn Respond) {
        if let Some(why) = self.line.emit(buffers, respond) {
            self.phase.stop_reading(why);
        }
    }

    /// The transport wrote: hand the records now written to the log.
    pub(crate) fn written(&mut self, buffers: &Buffers) {
        self.line.written(buffers);
    }

    /// The client's FIN has arrived. It is either a half-close (the client
    /// sent its requests and waits for the answers, as `nc -N` does) or a
    /// full close, and TCP cannot tell which until we write. So requests
    /// that arrived whole before it are answered; a request cut short by it
    /// is dropped. But an offloaded job still running means closing now
    /// (true): a client that closed must not hold a worker for a whole
    /// job, and nginx treats a client that closes during a proxied request
    /// the same way (its 499).
    pub(crate) fn peer_finished(&mut self) -> bool {
        self.phase.stop_reading(Closing::PeerFinished);
        self.line.has_offloaded()
    }

    /// True when there is nothing left to do but end: every answer is in
    /// the output and written, and no further request will come.
    pub(crate) fn is_finished(&self, buffers: &Buffers) -> bool {
        buffers.unwritten() == 0
            && self.line.is_empty()
            && !self.phase.reads_requests()
            && self.phase != Phase::Switching
    }

    /// The protocol a `101` handed the connection to, once every answer
    /// before it and the `101` itself are in the output; with the access
    /// log's record-to-be of it, if the log is on.
    pub(crate) fn take_upgrade(
        &mut self,
        buffers: &Buffers,
    ) -> Option<(Box<dyn Upgraded>, Option<SocketLog>)> {
        if self.phase == Phase::Switching && self.line.is_empty() {
            let Switch { to, seen } = *self.upgrade.take()?;
            return Some((to, self.line.socket_log(seen, buffers)));
        }
        None
    }

    /// True if another round could make progress now without a new
    /// readiness event: input may wait (`may_read`) and there is room to
    /// buffer it, or decoding was paused on a limit the last write lifted,
    /// or a held job reached the front, or a stream can move bytes into a
    /// socket that takes them (`may_write`).
    pub(crate) fn can_progress(&self, buffers: &Buffers, may_read: bool, may_write: bool) -> bool {
        (may_read && buffers.unconsumed() < self.read_limit())
            || (self.decode_paused && !self.answers_limit_reached(buffers))
            || self.line.front_is_held()
            || (may_write && self.line.stream_can_progress(buffers))
    }

    /// No byte of a next request has been read.
    fn between_requests(&self, buffers: &Buffers) -> bool {
        self.decoder.is_idle() && buffers.unconsumed() == 0
    }

    /// The wait its state calls for:
    /// - output pending: the write-stall deadline, renewed on progress;
    /// - a streamed body waiting for its producer: the stream-idle
    ///   deadline, renewed on every byte (none for a long-lived one: the
    ///   drain's timeout still ends it);
    /// - answers pending, or no further request: none (each job has its
    ///   own timeout);
    /// - between requests while the server drains: the end of the grace;
    /// - between requests: the idle deadline;
    /// - a request arriving, or none yet on a new connection: the header
    ///   deadline, set once per request. For a connection's first request
    ///   it counts from the connect.
    pub(crate) fn wanted(&self, buffers: &Buffers) -> Option<Wanted> {
        let wanted = |kind, progress| {
            Some(Wanted {
                kind,
                progress,
                ends: None,
            })
        };
        if buffers.unwritten() > 0 {
            return wanted(DeadlineKind::Write, buffers.written());
        }
        if let Some((long_lived, sent)) = self.line.stream() {
            return if long_lived {
                None
            } else {
                wanted(DeadlineKind::StreamIdle, sent)
            };
        }
        if !self.line.queue_is_empty() || !self.phase.reads_requests() {
            return None;
        }
        match self.phase {
            Phase::Draining { grace_ends } if self.between_requests(buffers) => Some(Wanted {
                kind: DeadlineKind::DrainGrace,
                progress: 0,
                ends: Some(grace_ends),
            }),
            _ if self.between_requests(buffers) && self.requests_seen > 0 => {
                wanted(DeadlineKind::Idle, self.requests_seen)
            }
            _ => wanted(DeadlineKind::Header, self.requests_seen),
        }
    }

    /// Its deadline of `kind` passed: what the server does (see [`Expiry`]).
    pub(crate) fn deadline_passed(&mut self, kind: DeadlineKind, buffers: &Buffers) -> Expiry {
        match kind {
            DeadlineKind::Idle
            | DeadlineKind::Write
            | DeadlineKind::Linger
            | DeadlineKind::StreamIdle
            // Never asked for by HTTP/1.1 (an upgraded protocol's own).
            | DeadlineKind::Protocol => Expiry::Close,
            DeadlineKind::Header if self.between_requests(buffers) => Expiry::Close,
            // A drain's grace passed with nothing asked: close, lingering
            // if the client may have sent something at the last moment.
            DeadlineKind::DrainGrace => {
                self.phase.stop_reading(Closing::GraceOver);
                Expiry::Drive
            }
            // Part of a request arrived and then stalled (slowloris): 408.
            DeadlineKind::Header => Expiry::TimedOut,
        }
    }

    /// Gives up on a request that did not arrive in time: `response` (a
    /// 408), then close.
    pub(crate) fn time_out_request(&mut self, response: &Response, date: &[u8]) {
        self.phase.stop_reading(Closing::TimedOut);
        self.line.push_error(response, None, None, date);
    }

    /// The server began draining (see `Connection::begin_drain`).
    pub(crate) fn begin_drain(&mut self, grace_ends: Instant) {
        self.phase.begin_drain(grace_ends);
        self.line.drain_stream();
    }

    /// The server drains: a stream that began after the drain did is told
    /// too.
    pub(crate) fn drain_stream(&self) {
        self.line.drain_stream();
    }

    /// The connection is going away (see `Line::close`).
    pub(crate) fn close(&mut self, buffers: &Buffers, respond: &mut dyn Respond) {
        self.line.close(buffers, respond);
    }

    /// True if nothing is in flight: no request half-decoded, nothing in
    /// line.
    pub(crate) fn is_idle(&self) -> bool {
        self.decoder.is_idle() && self.line.is_empty()
    }

    /// Takes storage from the spares if it lent its own.
    pub(crate) fn take_spares(&mut self, spares: &mut Spares) {
        self.line.take_storage(|| spares.queue());
        if !self.decoder.has_spare() {
            if let Some(request) = spares.request() {
                self.decoder.recycle(request);
            }
        }
    }

    /// Lends its storage to the spares (called when idle).
    pub(crate) fn lend_spares(&mut self, spares: &mut Spares) {
        if let Some(storage) = self.line.lend_storage() {
            spares.keep_queue(storage);
        }
        if let Some(request) = self.decoder.take_spare() {
            spares.keep_request(request);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::tests::Script;
    use crate::http::StatusCode;

    const DATE: &[u8] = b"Thu, 01 Jan 1970 00:00:00 GMT";

    /// Issue 21, point 2: the protocol is driven with bytes alone — no
    /// socket, no loop. Two pipelined requests, the first offloaded: the
    /// second's answer waits in line until the first's fills its place,
    /// then both are in the output, in order; and the wait it asks for
    /// follows.
    #[test]
    fn bytes_in_answers_out_in_order_with_no_socket() {
        let mut http = Http1::new(Limits::default(), None, None);
        let mut buffers = Buffers::default();
        let mut script = Script::default();
        buffers
            .received(b"GET /job HTTP/1.1\r\nHost: x\r\n\r\nGET /now HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(http.receive(&mut buffers, DATE, &mut script), 2);
        http.emit(&mut buffers, &mut script);
        assert_eq!(
            buffers.unwritten(),
            0,
            "an answer left before the one ahead of it"
        );
        assert_eq!(
            http.wanted(&buffers),
            None,
            "an answer is owed: the job's timeout bounds it"
        );
        let seq = script.seqs[0];
        let filled = http.fill(
            seq,
            Response::text(StatusCode::OK, "job"),
            DATE,
            &mut buffers,
        );
        assert!(matches!(filled, Filled::Placed { .. }));
        http.emit(&mut buffers, &mut script);
        let out = String::from_utf8_lossy(buffers.to_write()).into_owned();
        let (job, now) = (
            out.find("\r\n\r\njob").unwrap(),
            out.find("\r\n\r\nnow").unwrap(),
        );
        assert!(job < now, "{out}");
        buffers.wrote(buffers.unwritten());
        let wanted = http.wanted(&buffers).map(|w| w.kind);
        assert_eq!(wanted, Some(DeadlineKind::Idle));
    }
}
