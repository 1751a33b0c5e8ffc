//! The line of answers: one place per decoded request, in order, filled
//! however its answer is produced, and moved into the output as the front
//! of the line allows — with the streamed body going out now, and the
//! access log's records until their bytes are written.
//!
//! Part of the HTTP/1.1 protocol (`http1.rs` decides *what* to place; this
//! file keeps the places). "Parse everything, write once" (may_minihttp):
//! every request that arrived in one read is answered before the one
//! `write` of a round.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::phase::Closing;
use super::queue::{Place, QueueStorage, ResponseQueue};
use super::record::{Logged, Seen, SocketLog};
use super::respond::{JobTicket, Respond};
use super::streaming::{Framing, Outgoing, Pumped, STREAM_OUTPUT};
use super::unwritten::Unwritten;
use crate::http::{encode_response, Response, ResponseMeta};
use crate::job::Job;
use crate::log::AccessLog;
use crate::transport::Buffers;

type Encoded = super::queue::Encoded<After>;

/// What a connection remembers about a request until its answer arrives.
#[derive(Debug)]
pub(crate) struct Pending {
    /// HEAD: send the headers of the answer, not its body.
    pub(crate) head_only: bool,
    /// An HTTP/1.0 client asked for keep-alive and must be told it got it.
    pub(crate) confirm_keep_alive: bool,
    /// The request ends the connection (`Connection: close`, or HTTP/1.0).
    pub(crate) close: bool,
    /// It was HTTP/1.0: a streamed answer cannot be chunked to it.
    pub(crate) http10: bool,
    /// When the request was decoded, for the access log's duration.
    pub(crate) started: Instant,
    /// What the access log will say of the request; only when it is on.
    pub(crate) seen: Option<Box<Seen>>,
    /// The route answering it, for the metrics.
    pub(crate) route: Option<usize>,
    /// For offloaded requests: the job that will bring the answer.
    pub(crate) job: Offloaded,
}

/// The job behind a request's place, if its route offloaded it.
#[derive(Debug)]
pub(crate) enum Offloaded {
    /// Answered on the loop: no job.
    No,
    /// A streaming job waiting for its place to reach the front.
    Held(Job),
    /// Submitted: its name in the server's jobs table.
    Submitted(JobTicket),
}

/// What filling a place did.
#[derive(Debug)]
pub(crate) enum Filled {
    /// The answer is in its place.
    Placed {
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
            route: pending.route,
            started: pending.started,
        }
    }
}

/// What leaves the queue with an answer's bytes.
#[derive(Debug)]
pub(crate) enum After {
    /// Its access-log record.
    Logged(Logged),
    /// Its streamed body, which goes out next (and is logged when it ends).
    Streamed(Box<Outgoing>),
}

/// The answers of one connection, in request order.
pub(crate) struct Line {
    /// One place per decoded request (see `queue.rs`).
    queue: ResponseQueue<Pending, After>,
    /// The streamed body going out now, holding the front of the line.
    streaming: Option<Box<Outgoing>>,
    /// Where each answer's record goes once it is written, if anywhere.
    access_log: Option<AccessLog>,
    /// Records whose answers are not all written yet (`unwritten.rs`).
    unwritten: Unwritten<Logged>,
    /// The client's address, for the access log (`None` over a Unix
    /// socket).
    peer: Option<SocketAddr>,
    /// The TLS version the connection speaks, for the access log.
    tls: Option<&'static str>,
}

impl Line {
    pub(crate) fn new(peer: Option<SocketAddr>, access_log: Option<AccessLog>) -> Line {
        Line {
            queue: ResponseQueue::default(),
            streaming: None,
            access_log,
            unwritten: Unwritten::default(),
            peer,
            tls: None,
        }
    }

    /// The client's address (`None` over a Unix socket).
    pub(crate) fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The connection's TLS handshake is done: its version, for the log.
    pub(crate) fn speaks_tls(&mut self, version: &'static str) {
        self.tls = Some(version);
    }

    /// True if the access log is on.
    pub(crate) fn logging(&self) -> bool {
        self.access_log.is_some()
    }

    /// The record-to-be of the connection a `101` switches now (the
    /// request `seen`), if the access log is on.
    pub(crate) fn socket_log(
        &self,
        seen: Option<Box<Seen>>,
        buffers: &Buffers,
    ) -> Option<SocketLog> {
        let hook = self.access_log.clone()?;
        Some(SocketLog::new(hook, seen, self.peer, self.tls, buffers))
    }

    /// Reserves a place at the back of the line; its sequence number.
    pub(crate) fn reserve(&mut self, pending: Pending) -> u64 {
        self.queue.reserve(pending)
    }

    /// Records who answers place `seq`, and the job if one does.
    pub(crate) fn answered_by(&mut self, seq: u64, route: Option<usize>, job: Offloaded) {
        if let Some(pending) = self.queue.pending_mut(seq) {
            pending.route = route;
            pending.job = job;
        }
    }

    /// Puts `response` in place `seq`; says whether the connection closes
    /// after it (`goodbye`: the caller decided this is the last answer).
    /// The oldest request, with no streamed body still going out before
    /// it, is encoded straight into the output — everything before it is
    /// there already — and is next in line for the access log too.
    pub(crate) fn fill(
        &mut self,
        seq: u64,
        response: Response,
        goodbye: bool,
        date: &[u8],
        buffers: &mut Buffers,
    ) -> (Filled, bool) {
        let front = match self.streaming {
            None => self.queue.take_front(seq),
            Some(_) => None,
        };
        if let Some(pending) = front {
            let filled = Filled::of(&pending);
            let (close, then) = encode(pending, &response, goodbye, date, buffers.output());
            self.leaving(then, buffers);
            return (filled, close);
        }
        let mut filled = Filled::Unwanted;
        let mut closes = false;
        self.queue.fill(seq, |pending| {
            filled = Filled::of(&pending);
            let mut bytes = Vec::new();
            let (close, then) = encode(pending, &response, goodbye, date, &mut bytes);
            closes = close;
            Encoded { bytes, close, then }
        });
        (filled, closes)
    }

    /// Queues an interim answer (`100 Continue`) in order.
    pub(crate) fn push_interim(&mut self, bytes: &[u8]) {
        self.queue.push_encoded(Encoded {
            bytes: bytes.to_vec(),
            close: false,
            then: None,
        });
    }

    /// Queues `response`, an error answer that ends the connection, given
    /// to bytes that are not a request the server serves; `seen` is what
    /// the access log can say of them, if anything, and `reason` why they
    /// were refused.
    pub(crate) fn push_error(
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
        let logged = self.logging().then(|| {
            let status = response.status.as_u16();
            Logged::new(seen, status, body_bytes, Duration::ZERO).with_reason(reason)
        });
        self.queue.push_encoded(Encoded {
            bytes,
            close: true,
            then: logged.map(After::Logged),
        });
    }

    /// The job held at the front of the line, if one is and no stream is
    /// going out before it: taken, with its place, route and start.
    pub(crate) fn take_front_held(&mut self) -> Option<(u64, Job, Option<usize>, Instant)> {
        if self.streaming.is_some() {
            return None;
        }
        let (seq, pending) = self.queue.front_pending_mut()?;
        if !matches!(pending.job, Offloaded::Held(_)) {
            return None;
        }
        let Offloaded::Held(job) = std::mem::replace(&mut pending.job, Offloaded::No) else {
            unreachable!("checked just above");
        };
        Some((seq, job, pending.route, pending.started))
    }

    /// True if the front of the line holds a job waiting to be submitted.
    pub(crate) fn front_is_held(&self) -> bool {
        self.streaming.is_none()
            && self
                .queue
                .front_pending()
                .is_some_and(|pending| matches!(pending.job, Offloaded::Held(_)))
    }

    /// True if a job works for a place in line.
    pub(crate) fn has_offloaded(&self) -> bool {
        let offloaded = |pending: &Pending| !matches!(pending.job, Offloaded::No);
        self.queue.pending().any(offloaded)
    }

    /// Moves the answers that may leave (answered places at the front) into
    /// the output, a streamed body first while it lasts. `Some(why)` when a
    /// streamed body's end must close the connection: nothing may follow
    /// it (its end is the close, or it failed), and what waits behind it
    /// was given up.
    pub(crate) fn emit(
        &mut self,
        buffers: &mut Buffers,
        respond: &mut dyn Respond,
    ) -> Option<Closing> {
        loop {
            if let Some(why) = self.pump_stream(buffers, respond) {
                return Some(why);
            }
            if self.streaming.is_some() {
                return None; // it holds the front of the line until it ends
            }
            let encoded = self.queue.pop_encoded()?;
            buffers.output().extend_from_slice(&encoded.bytes);
            // Logged as it leaves the queue: in request order.
            self.leaving(encoded.then, buffers);
        }
    }

    /// Writes the active streamed body's chunks into the output as far as
    /// [`Outgoing::pump`] goes; at its end, logs it and says whether the
    /// connection must close.
    fn pump_stream(&mut self, buffers: &mut Buffers, respond: &mut dyn Respond) -> Option<Closing> {
        let outgoing = self.streaming.as_mut()?;
        let ended = match outgoing.pump(buffers) {
            Pumped::Full | Pumped::Waiting => return None,
            Pumped::Ended(ended) => ended,
        };
        let outgoing = self.streaming.take()?;
        let framing = outgoing.framing();
        self.log_stream(*outgoing, ended.is_ok(), buffers);
        let why = match ended {
            Ok(()) if framing != Framing::UntilClose => return None,
            // Its end is the close: nothing may follow it.
            Ok(()) => Closing::Asked,
            // The client must be able to tell the body is incomplete: no
            // last chunk, and the close right after what was written. What
            // was pipelined behind it can no longer be framed; it is
            // abandoned (and logged as such).
            Err(_) => Closing::StreamFailed,
        };
        self.abandon(respond);
        Some(why)
    }

    /// The access-log record of a streamed answer, with the body bytes it
    /// carried, held until they are written; one that did not end `whole`
    /// is marked cut short.
    fn log_stream(&mut self, outgoing: Outgoing, whole: bool, buffers: &Buffers) {
        if let Some((logged, from, sent)) = outgoing.into_record(whole) {
            (self.unwritten).hold(logged, from, sent, buffers.output_end());
        }
    }

    /// True while the active stream, if any, could move bytes now: its pipe
    /// is not known to be empty and the output has room.
    pub(crate) fn stream_can_progress(&self, buffers: &Buffers) -> bool {
        self.streaming
            .as_ref()
            .is_some_and(|o| o.may_have_more() && buffers.unwritten() < STREAM_OUTPUT)
    }

    /// The stream going out, if any: whether it is long-lived, and the body
    /// bytes it moved so far (the stream-idle deadline's progress).
    pub(crate) fn stream(&self) -> Option<(bool, u64)> {
        self.streaming
            .as_ref()
            .map(|o| (o.is_long_lived(), o.sent()))
    }

    /// The server is draining: a long-lived stream is told, so its producer
    /// can say its last words and finish.
    pub(crate) fn drain_stream(&self) {
        if let Some(outgoing) = &self.streaming {
            outgoing.drain();
        }
    }

    /// Hands the records whose bytes the transport has written to the log.
    pub(crate) fn written(&mut self, buffers: &Buffers) {
        while let Some(logged) = self.unwritten.next_written(buffers.written()) {
            self.log(Some(logged));
        }
    }

    /// Gives up every answer still in line (the connection is closing, or
    /// a failed stream broke its framing): each job is given up, and each
    /// answer is logged as nginx logs a client that left, status 499.
    pub(crate) fn abandon(&mut self, respond: &mut dyn Respond) {
        if self.queue.is_empty() {
            return;
        }
        let places: Vec<_> = self.queue.abandon().collect();
        for place in places {
            let logged = match place {
                Place::Pending(pending) => {
                    match &pending.job {
                        Offloaded::Submitted(job) => respond.give_up(*job),
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

    /// The connection is going away: the stream going out and the answers
    /// the socket did not take whole are logged with what went, and the
    /// rest of the line is given up.
    pub(crate) fn close(&mut self, buffers: &Buffers, respond: &mut dyn Respond) {
        if let Some(outgoing) = self.streaming.take() {
            self.log_stream(*outgoing, false, buffers);
        }
        while let Some((logged, body)) = self.unwritten.next_cut(buffers.written()) {
            self.log(Some(logged.cut(body)));
        }
        self.abandon(respond);
    }

    /// What happens as an answer's bytes leave the queue: its record waits
    /// until its bytes are written (`unwritten.rs`), or its streamed body
    /// starts.
    fn leaving(&mut self, then: Option<After>, buffers: &Buffers) {
        let end = buffers.output_end();
        match then {
            Some(After::Logged(logged)) => {
                let body = logged.body_bytes();
                self.unwritten.hold(logged, end - body, body, end);
            }
            Some(After::Streamed(mut outgoing)) => {
                outgoing.begins_at(end);
                self.streaming = Some(outgoing);
            }
            None => {}
        }
    }

    /// Hands an answer's record to the access log.
    fn log(&self, logged: Option<Logged>) {
        if let (Some(logged), Some(hook)) = (logged, &self.access_log) {
            hook(&logged.record(self.peer, self.tls));
        }
    }

    /// True if place `seq` is the last one reserved.
    pub(crate) fn is_last(&self, seq: u64) -> bool {
        self.queue.is_last(seq)
    }

    /// Places in line.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Nothing in line and no stream going out.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty() && self.streaming.is_none()
    }

    /// True if no place waits (a stream may still be going out).
    pub(crate) fn queue_is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Bytes of answers encoded and waiting in line.
    pub(crate) fn encoded_bytes(&self) -> usize {
        self.queue.encoded_bytes()
    }

    /// Takes queue storage from the spares if this line lent its own.
    pub(crate) fn take_storage(&mut self, spare: impl FnOnce() -> QueueStorage<Pending, After>) {
        if !self.queue.has_storage() {
            self.queue.give_storage(spare());
        }
    }

    /// Lends the queue's storage if it has some and the line is empty.
    pub(crate) fn lend_storage(&mut self) -> Option<QueueStorage<Pending, After>> {
        (self.queue.is_empty() && self.queue.has_storage()).then(|| self.queue.take_storage())
    }
}

/// Encodes the answer to the request `pending` describes into `out`;
/// returns whether the connection closes after it, and what leaves with
/// its bytes.
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
