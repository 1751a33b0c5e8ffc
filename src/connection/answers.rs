//! A connection's answering side: decoding the requests that arrived,
//! asking for their answers, placing each answer in line, and writing what
//! may leave.
//!
//! Part of the connection (`mod.rs`). The connection does not know routes:
//! for each request it asks a [`Respond`] — the server, which routes it —
//! and gets a [`Reply`]: the answer now, or the ticket of a job that will
//! bring it later through [`Connection::fill`]. Either way the answer goes
//! into the request's place in the response queue, so pipelined answers
//! leave in order however they were produced. "Parse everything, write
//! once" (may_minihttp): every request that arrived in one read is answered
//! before the one `write` of a round.

use std::io;
use std::time::{Duration, Instant};

type Encoded = super::queue::Encoded<After>;
use super::queue::Place;
use super::record::{Logged, Seen};
use super::streaming::{Framing, Outgoing};
use super::{Closing, Connection, Phase, Stream};
use crate::http::response::CONTINUE;
use crate::http::{
    encode_response, Decoded, Refusal, Request, RequestDecoder, Response, ResponseMeta, Version,
};
use crate::job::{CancelToken, Job};
use crate::reactor::{Handler, Reactor, TimerKey};

/// At most this many requests may wait for their answers on one connection;
/// beyond it the connection stops decoding (and then reading) until answers
/// leave. Bounds the work one client can queue by pipelining.
const MAX_PIPELINED: usize = 64;

/// Stop decoding new requests while this much output is waiting to be
/// written: a client that pipelines but never reads would otherwise make us
/// buffer answers without end. With decoding stopped, input backs up too,
/// and the kernel's buffers push back on the client.
const MAX_PENDING_OUTPUT: usize = 1 << 20;

/// Who answers a connection's requests: the server (which routes them),
/// or the fuzz harness.
pub trait Respond<H: Handler> {
    /// The answer to `request`, whose place in line is `seq`, decoded at
    /// `decoded` (for its duration in the metrics). The request is lent
    /// mutably so the router can record what its path parameters captured.
    fn respond(
        &mut self,
        reactor: &mut Reactor<H>,
        request: &mut Request,
        seq: u64,
        decoded: Instant,
    ) -> Reply;

    /// A head announced a body (none of it read yet): the body limit for
    /// this request, or the answer to give instead of reading it — when the
    /// client waits on `Expect: 100-continue` for a request that will not
    /// be served.
    fn admit(&mut self, request: &Request, expects_continue: bool) -> Result<usize, Response>;

    /// The server's own answer to bytes the decoder refused (its error
    /// page, naming the refusal's reason).
    fn error(&self, refusal: Refusal) -> Response;

    /// The decoder refused bytes with `refusal`; its answer is queued
    /// already (for counting and the trace).
    fn refused(&mut self, reactor: &mut Reactor<H>, refusal: Refusal);

    /// A job held by [`Reply::Held`] reached the front of its
    /// connection's line: submit it now. Its ticket, or the answer to give
    /// instead (503 when the pool's queue is full).
    fn release(
        &mut self,
        reactor: &mut Reactor<H>,
        job: Job,
        seq: u64,
        route: Option<usize>,
        decoded: Instant,
    ) -> Result<JobTicket, Response>;
}

/// An answer to a request, as a [`Respond`] gives it.
pub enum Reply {
    /// The answer is here.
    Now {
        /// The route that answered (for the metrics), if one did.
        route: Option<usize>,
        /// The answer.
        response: Response,
    },
    /// A job will bring the answer through [`Connection::fill`].
    Later {
        /// The route that offloaded it.
        route: Option<usize>,
        /// The job's token and timeout timer.
        job: JobTicket,
    },
    /// A streaming job, held until its answer reaches the front of the
    /// line, then handed to [`Respond::release`]. An answer that cannot be
    /// written yet needs no bytes yet: a producer started behind another
    /// stream would fill its pipe and block its worker until that stream
    /// ended — W such connections held all W workers, and the paced bodies
    /// in front of them, which needed a worker to go on, never did.
    Held {
        /// The route that offloaded it.
        route: Option<usize>,
        /// The job, not yet submitted.
        job: Job,
    },
}

/// The job behind a request's place, if its route offloaded it.
#[derive(Debug)]
pub(super) enum Offloaded {
    /// Answered on the loop: no job.
    No,
    /// A streaming job waiting for its place to reach the front.
    Held(Job),
    /// Submitted: its token and timeout timer.
    Submitted(JobTicket),
}

/// What the connection holds on to for an offloaded request's job.
#[derive(Debug, Clone)]
pub struct JobTicket {
    /// Tripping it tells the job nobody wants its answer any more.
    pub cancel: CancelToken,
    /// The job-timeout timer, disarmed when the answer comes.
    pub timer: TimerKey,
}

/// What a connection remembers about a request until its answer arrives.
#[derive(Debug)]
pub struct Pending {
    /// HEAD: send the headers of the answer, not its body.
    head_only: bool,
    /// An HTTP/1.0 client asked for keep-alive and must be told it got it.
    confirm_keep_alive: bool,
    /// The request ends the connection (`Connection: close`, or HTTP/1.0).
    close: bool,
    /// It was HTTP/1.0: a streamed answer cannot be chunked to it.
    http10: bool,
    /// When the request was decoded, for the access log's duration.
    started: Instant,
    /// What the access log will say of the request; only when it is on.
    seen: Option<Box<Seen>>,
    /// The route answering it, for the metrics.
    route: Option<usize>,
    /// For offloaded requests: the job that will bring the answer.
    pub(super) job: Offloaded,
}

/// What filling a place did.
#[derive(Debug)]
pub enum Filled {
    /// The answer is in its place.
    Placed {
        /// The job that was working on it, if the request was offloaded
        /// (its timer can now be disarmed).
        job: Option<JobTicket>,
        /// The route that answered, for the metrics.
        route: Option<usize>,
        /// When the request was decoded, for the metrics.
        started: Instant,
    },
    /// The place was not pending: answered already (by a job timeout, say)
    /// or never issued. The answer is dropped.
    Unwanted,
}

impl Filled {
    fn of(pending: &Pending) -> Filled {
        Filled::Placed {
            job: match &pending.job {
                Offloaded::Submitted(ticket) => Some(ticket.clone()),
                Offloaded::No | Offloaded::Held(_) => None,
            },
            route: pending.route,
            started: pending.started,
        }
    }
}

impl<S: Stream> Connection<S> {
    /// Decodes every complete request that has arrived (as far as the
    /// limits allow) and places its answer; returns how many it decoded.
    pub(super) fn answer<H: Handler, R: Respond<H>>(
        &mut self,
        reactor: &mut Reactor<H>,
        date: &[u8],
        respond: &mut R,
    ) -> usize {
        let mut decoded = 0;
        self.decode_paused = false;
        while self.reads_requests() {
            if self.answers_limit_reached() {
                self.decode_paused = self.in_pos < self.inbuf.len();
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
            let logging = self.access_log.is_some();
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
            let (used, found) = self
                .decoder
                .decode_with(&self.inbuf[self.in_pos..], &mut admit);
            self.in_pos += used;
            match found {
                Decoded::Request(mut request) => {
                    decoded += 1;
                    self.requests_seen += 1;
                    request.peer = self.peer;
                    self.place(reactor, &mut request, date, respond, admitted);
                    self.decoder.recycle(request);
                }
                Decoded::Continue => {
                    self.queue.push_encoded(Encoded {
                        bytes: CONTINUE.to_vec(),
                        close: false,
                        then: None,
                    });
                }
                Decoded::Incomplete => break,
                Decoded::Reject(refused) => {
                    // Framing is lost: nothing after this point can be
                    // trusted to be a request. Answer, then close.
                    let response = refusal.unwrap_or_else(|| respond.error(refused));
                    self.stop_reading(Closing::Refused);
                    // A head refused whole (501, 505, 431) still has the
                    // request line it began with, if that parsed.
                    let seen = admitted.or_else(|| {
                        let rest = &self.inbuf[self.in_pos..];
                        logging.then(|| Seen::of_refused_head(rest)).flatten()
                    });
                    self.queue_error(&response, seen, Some(refused.reason), date);
                    respond.refused(reactor, refused);
                }
            }
        }
        decoded
    }

    /// True while no further request may be decoded: too many answers
    /// owed, or too much output waiting.
    pub(super) fn answers_limit_reached(&self) -> bool {
        // Answers waiting in the queue (behind a slow job, or a stream that
        // may last for ever) are output too: not counting them let 64
        // pipelined 1 MiB answers pile up behind each event stream (a
        // review measured 645 MiB from ten connections).
        self.queue.len() >= MAX_PIPELINED
            || self.pending_output() + self.queue.encoded_bytes() >= MAX_PENDING_OUTPUT
    }

    /// Reserves `request`'s place in line, asks for its answer, and puts
    /// the answer there (or remembers the job that will bring it).
    fn place<H: Handler, R: Respond<H>>(
        &mut self,
        reactor: &mut Reactor<H>,
        request: &mut Request,
        date: &[u8],
        respond: &mut R,
        seen: Option<Box<Seen>>,
    ) {
        let close = !request.keep_alive;
        if close {
            self.stop_reading(Closing::Asked);
        }
        let started = Instant::now();
        let seq = self.queue.reserve(Pending {
            head_only: request.is_head(),
            confirm_keep_alive: request.version == Version::Http10 && request.keep_alive,
            close,
            http10: request.version == Version::Http10,
            started,
            seen: seen.or_else(|| self.access_log.is_some().then(|| Seen::of(request))),
            route: None,
            job: Offloaded::No,
        });
        match respond.respond(reactor, request, seq, started) {
            Reply::Now { route, response } => {
                if let Some(pending) = self.queue.pending_mut(seq) {
                    pending.route = route;
                }
                self.fill(seq, response, date);
            }
            Reply::Later { route, job } => {
                if let Some(pending) = self.queue.pending_mut(seq) {
                    pending.route = route;
                    pending.job = Offloaded::Submitted(job);
                }
            }
            Reply::Held { route, job } => {
                if let Some(pending) = self.queue.pending_mut(seq) {
                    pending.route = route;
                    pending.job = Offloaded::Held(job);
                }
            }
        }
    }

    /// Submits the job held at the front of the line, if one is (see
    /// [`Reply::Held`]): nothing is written before it, so its producer's
    /// bytes can go out as it makes them.
    pub(super) fn release_front<H: Handler, R: Respond<H>>(
        &mut self,
        reactor: &mut Reactor<H>,
        date: &[u8],
        respond: &mut R,
    ) {
        if self.streaming.is_some() {
            return;
        }
        let Some((seq, pending)) = self.queue.front_pending_mut() else {
            return;
        };
        if !matches!(pending.job, Offloaded::Held(_)) {
            return;
        }
        let Offloaded::Held(job) = std::mem::replace(&mut pending.job, Offloaded::No) else {
            unreachable!("checked just above");
        };
        let (route, started) = (pending.route, pending.started);
        match respond.release(reactor, job, seq, route, started) {
            Ok(ticket) => pending.job = Offloaded::Submitted(ticket),
            Err(response) => {
                self.fill(seq, response, date);
            }
        }
    }

    /// True if the front of the line holds a job waiting to be submitted.
    pub(super) fn front_is_held(&self) -> bool {
        self.streaming.is_none()
            && self
                .queue
                .front_pending()
                .is_some_and(|pending| matches!(pending.job, Offloaded::Held(_)))
    }

    /// Puts the answer to request `seq` in its place. While draining, and
    /// after the client's FIN (no request can follow it), the last answer
    /// says `Connection: close` and ends the connection — the last one *so
    /// far*: with bytes of another request already buffered, that request
    /// is answered too, and its answer says goodbye instead. After a FIN,
    /// buffered bytes that can never become a whole request do not count:
    /// the connection closes after the last whole one, so its answer says
    /// so (`no_request_follows`).
    pub fn fill(&mut self, seq: u64, response: Response, date: &[u8]) -> Filled {
        let draining = matches!(self.phase, Phase::Draining { .. });
        let last_call = draining || self.ready.eof;
        let goodbye = last_call && self.queue.is_last(seq) && self.no_request_follows();
        let filled;
        let mut closes = false;
        // The oldest request, with no streamed body still going out before
        // it: everything before it is in the output buffer already, so
        // encode straight into it — and it is next in line for the access
        // log too.
        let front = match self.streaming {
            None => self.queue.take_front(seq),
            Some(_) => None,
        };
        if let Some(pending) = front {
            filled = Filled::of(&pending);
            let (close, then) = encode(pending, &response, goodbye, date, &mut self.out);
            closes = close;
            self.leaving(then);
        } else {
            let mut taken = Filled::Unwanted;
            self.queue.fill(seq, |pending| {
                taken = Filled::of(&pending);
                let mut bytes = Vec::new();
                let (close, then) = encode(pending, &response, goodbye, date, &mut bytes);
                closes = close;
                Encoded { bytes, close, then }
            });
            filled = taken;
        }
        // A stream ended by the close (HTTP/1.0): nothing may be read
        // after its request.
        if closes && !goodbye {
            self.stop_reading(Closing::Asked);
        }
        if goodbye && !matches!(filled, Filled::Unwanted) {
            let why = if draining {
                Closing::Goodbye
            } else {
                Closing::PeerFinished
            };
            self.stop_reading(why);
        }
        filled
    }

    /// True if no request will be answered after those decoded so far:
    /// nothing of one is buffered, or — once the client's FIN is in, so the
    /// buffered bytes are all there will ever be — what is buffered cannot
    /// complete one. Asked only when the client or the server is ending the
    /// connection, so the probe below is off the keep-alive path.
    fn no_request_follows(&self) -> bool {
        if self.between_requests() {
            return true;
        }
        if !self.ready.eof {
            return false; // the rest of a request may still be on its way
        }
        // Reading stopped, or a request is half-decoded with every byte
        // in: nothing more will be decoded.
        if !self.reads_requests() || !self.decoder.is_idle() {
            return true;
        }
        // Mid-`answer`, at a request boundary: would the bytes left make a
        // request (or a refusal, which is an answer too)? A fresh decoder
        // on a copy of the limits says, touching nothing.
        // (A `100 Continue` is no answer: look on past it, at the body.)
        let mut probe = RequestDecoder::new(self.decoder.limits());
        let mut rest = &self.inbuf[self.in_pos..];
        loop {
            match probe.decode(rest) {
                (used, Decoded::Continue) => rest = &rest[used..],
                (_, found) => return matches!(found, Decoded::Incomplete),
            }
        }
    }

    /// The job for place `seq` ran out of time: tell it to stop, answer
    /// `response` (a 504) in its place. `Unwanted` if the place was
    /// answered meanwhile.
    pub fn time_out_job(&mut self, seq: u64, response: Response, date: &[u8]) -> Filled {
        let filled = self.fill(seq, response, date);
        if let Filled::Placed { job: Some(job), .. } = &filled {
            job.cancel.time_out();
        }
        filled
    }

    /// Gives up on a request that did not arrive in time: `response` (a
    /// 408), then close.
    pub fn time_out_request(&mut self, response: &Response, date: &[u8]) {
        self.stop_reading(Closing::TimedOut);
        self.queue_error(response, None, None, date);
    }

    /// Queues `response`, an error answer that ends the connection, given
    /// to bytes that are not a request the server serves; `seen` is what
    /// the access log can say of them, if anything, and `reason` why they
    /// were refused.
    fn queue_error(
        &mut self,
        response: &Response,
        seen: Option<Box<Seen>>,
        reason: Option<&'static str>,
        date: &[u8],
    ) {
        let meta = ResponseMeta {
            head_only: false,
            close: true,
            confirm_keep_alive: false,
            chunked: false,
        };
        let mut bytes = Vec::new();
        let body_bytes = encode_response(response, meta, date, &mut bytes);
        let logged = self.access_log.is_some().then(|| {
            let status = response.status.as_u16();
            Logged::new(seen, status, body_bytes, Duration::ZERO).with_reason(reason)
        });
        self.queue.push_encoded(Encoded {
            bytes,
            close: true,
            then: logged.map(After::Logged),
        });
    }

    /// Gives up every answer still in line (the connection is closing, or
    /// a failed stream broke its framing): each job is given up
    /// ([`give_up`]), and each answer is logged as nginx logs a client that
    /// left, status 499.
    pub(super) fn abandon_queue<H: Handler>(&mut self, reactor: &mut Reactor<H>) {
        if self.queue.is_empty() {
            return;
        }
        let places: Vec<_> = self.queue.abandon().collect();
        for place in places {
            let logged = match place {
                Place::Pending(pending) => {
                    match &pending.job {
                        Offloaded::Submitted(job) => give_up(job, reactor),
                        // Never submitted: dropped, it never runs.
                        Offloaded::Held(_) | Offloaded::No => {}
                    }
                    let duration = pending.started.elapsed();
                    pending
                        .seen
                        .map(|seen| Logged::new(Some(seen), 0, 0, duration).abandoned())
                }
                Place::Encoded(encoded) => match encoded.then {
                    Some(After::Logged(logged)) => Some(logged.abandoned()),
                    Some(After::Streamed(outgoing)) => {
                        outgoing.into_logged().map(Logged::abandoned)
                    }
                    None => None,
                },
            };
            self.log(logged);
        }
    }

    /// What happens as an answer's bytes leave the queue: its line is
    /// logged, or its streamed body starts.
    /// Its record waits until its bytes are written (`unwritten.rs`).
    fn leaving(&mut self, then: Option<After>) {
        match then {
            Some(After::Logged(logged)) => {
                let (end, body) = (self.output_end(), logged.body_bytes());
                self.unwritten.hold(logged, end - body, body, end);
            }
            Some(After::Streamed(mut outgoing)) => {
                outgoing.begins_at(self.output_end());
                self.streaming = Some(outgoing);
            }
            None => {}
        }
    }

    /// The output offset just past the last byte in the output buffer,
    /// counted from the connection's first byte written.
    pub(super) fn output_end(&self) -> u64 {
        self.bytes_written - self.out_pos as u64 + self.out.len() as u64
    }

    /// Hands an answer's record to the access log as it goes out.
    pub(super) fn log(&self, logged: Option<Logged>) {
        if let (Some(logged), Some(hook)) = (logged, &self.access_log) {
            hook(&logged.record(self.peer));
        }
    }

    /// Moves the answers that may leave (answered places at the front of
    /// the queue) into the output buffer and writes as much as the socket
    /// takes; returns the bytes written. An error means the client is gone.
    pub(super) fn flush<H: Handler>(&mut self, reactor: &mut Reactor<H>) -> io::Result<usize> {
        // A streamed body holds the front of the line until it ends.
        while self.pump_stream(reactor) {
            let Some(encoded) = self.queue.pop_encoded() else {
                break;
            };
            self.out.extend_from_slice(&encoded.bytes);
            // Every answer that closes changed the phase when it was made.
            debug_assert!(!encoded.close || !self.reads_requests());
            // Logged as it leaves the queue: in request order.
            self.leaving(encoded.then);
        }
        let mut written = 0;
        while self.ready.writable && self.out_pos < self.out.len() {
            match self.socket.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out_pos += n;
                    written += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.ready.writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        self.bytes_written += written as u64;
        while let Some(logged) = self.unwritten.next_written(self.bytes_written) {
            self.log(Some(logged));
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        Ok(written)
    }

    /// Bytes encoded and not yet written.
    pub(super) fn pending_output(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// True while encoded output waits to be written.
    pub fn has_output(&self) -> bool {
        self.pending_output() > 0
    }
}

/// The one place a connection gives up a job whose answer it no longer
/// wants: its token trips (a queued job is skipped, a running one told to
/// stop) and its timeout timer is disarmed. The job is counted, once, as
/// cancelled when its outcome comes back to the loop (`server/jobs.rs`).
fn give_up<H: Handler>(job: &JobTicket, reactor: &mut Reactor<H>) {
    job.cancel.cancel();
    reactor.cancel(job.timer);
}

/// What leaves the queue with an answer's bytes.
#[derive(Debug)]
pub enum After {
    /// Its access-log record.
    Logged(Logged),
    /// Its streamed body, which goes out next (and is logged when it ends).
    Streamed(Box<Outgoing>),
}

/// Encodes the answer to the request `pending` describes into `out`;
/// returns whether the connection closes after it, and its access-log
/// record if the log is on.
fn encode(
    pending: Pending,
    response: &Response,
    goodbye: bool,
    date: &[u8],
    out: &mut Vec<u8>,
) -> (bool, Option<After>) {
    // A streamed body that will be sent (not to a HEAD, not with a status
    // that has no content: then the pipe is dropped, and its producer
    // told), and how its end will be known.
    let sent = !pending.head_only && !response.status.forbids_content();
    let stream = response.body.stream().and_then(|body| {
        if !sent {
            body.decline();
            return None;
        }
        let framing = match body.length() {
            Some(length) => Framing::Length { left: length },
            None if pending.http10 => Framing::UntilClose,
            None => Framing::Chunked,
        };
        Some((body, framing))
    });
    let framing = stream.as_ref().map(|(_, framing)| *framing);
    let close = pending.close || goodbye || framing == Some(Framing::UntilClose);
    let meta = ResponseMeta {
        head_only: pending.head_only,
        close,
        confirm_keep_alive: pending.confirm_keep_alive && !close,
        chunked: !pending.http10,
    };
    let body_bytes = encode_response(response, meta, date, out);
    let (status, duration) = (response.status.as_u16(), pending.started.elapsed());
    let logged = (pending.seen).map(|seen| Logged::new(Some(seen), status, body_bytes, duration));
    let then = match stream {
        Some((body, framing)) => Some(After::Streamed(Box::new(Outgoing::new(
            body.clone(),
            framing,
            logged,
        )))),
        None => logged.map(After::Logged),
    };
    (close, then)
}
