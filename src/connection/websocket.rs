//! WebSocket (RFC 6455) as a protocol in the connection's slot: what speaks
//! after a WebSocket route's `101` (with the `websocket` feature).
//!
//! Sans-IO like [`Http1`](super::http1): it is handed the transport's
//! buffers and the time, and never a socket or the loop. Each
//! [`receive`](Upgraded::receive) decodes what arrived (`crate::websocket`,
//! the codec), hands each message to the route's [`Handler`] — on the loop
//! thread — answers pings, takes what other threads sent through the
//! socket's [`Sender`] pipe while the output has room, and acts on the
//! time: a ping when the socket was quiet for the interval, the end when a
//! ping went unanswered or a close was not returned in time.
//!
//! Its life is [`Stage`]: open; closing (our close frame is out, the
//! client's awaited, for [`CLOSE_WAIT`] at most); closed (nothing more is
//! said, and once the output is written the connection ends — the server
//! closes TCP first, RFC 6455 §7.1.1, half-closing and lingering as it
//! does after any last answer).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::upgrade::{OffLoop, Upgraded};
use crate::stream::{Next, StreamBody};
use crate::transport::Buffers;
use crate::websocket::{
    encode, encode_close, sent_close_code, Decoder, Handler, Incoming, Message, Opcode, Sender,
    Socket, SocketStats, OUTPUT_BOUND,
};

/// How long our close frame waits for the client's before the connection
/// ends anyway: a client that never answers a close must not hold a
/// connection (Tornado waits 5 s too).
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// A socket's keepalive: a ping after `interval` of silence, and the end
/// if nothing at all comes back within `timeout` of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keepalive {
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
}

/// Where a socket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Messages flow both ways.
    Open,
    /// Our close frame (with `code`) is sent; the client's is awaited
    /// until `until`. What else arrives is dropped (RFC 6455 §5.5.1).
    Closing { code: u16, until: Instant },
    /// The close handshake is over, abandoned, or never happened: nothing
    /// more is said. `code` is what the handler was told.
    Closed { code: Option<u16> },
}

/// The WebSocket protocol on one connection.
pub(crate) struct WebSocket {
    handler: Box<dyn Handler>,
    decoder: Decoder,
    stage: Stage,
    /// The loop's end of the pipe the socket's [`Sender`]s write frames
    /// into; each chunk is one whole frame. Dropped at the close, so every
    /// sender learns at once that nobody will read (a waiting one wakes).
    outbox: Option<StreamBody>,
    /// Handed to the handler (`Socket::sender`).
    sender: Sender,
    /// Frames wait in the outbox that the output's bound kept out: the
    /// outbox's waker is not armed, so it is up to writing to bring the
    /// connection back ([`Upgraded::held_back`]).
    held_back: bool,
    keepalive: Keepalive,
    /// When the socket was last heard from (any frame).
    heard: Instant,
    /// A ping went out at this time and nothing came back since.
    pinged: Option<Instant>,
    /// `open` was called.
    opened: bool,
    /// The server drains: a 1001 close goes out next, and the client's
    /// reply is awaited until this time (the drain's grace).
    draining: Option<Instant>,
    /// The server's socket counters.
    stats: Arc<SocketStats>,
}

impl WebSocket {
    /// A socket for `handler`, its senders' pipe (`outbox`, with `sender`
    /// its producer end), messages bounded by `max_message` bytes.
    pub(crate) fn new(
        handler: Box<dyn Handler>,
        outbox: StreamBody,
        sender: Sender,
        max_message: usize,
        keepalive: Keepalive,
        stats: Arc<SocketStats>,
    ) -> WebSocket {
        stats.opened();
        // The pipe goes when the socket closes, however it ends: its
        // offloads' work is told then.
        let gone = sender.gone();
        outbox.on_gone(Box::new(move || gone.cancel()));
        WebSocket {
            handler,
            decoder: Decoder::new(max_message),
            stage: Stage::Open,
            outbox: Some(outbox),
            sender,
            held_back: false,
            keepalive,
            heard: Instant::now(),
            pinged: None,
            opened: false,
            draining: None,
            stats,
        }
    }

    /// Calls the handler with a [`Socket`] over `output`, then sends the
    /// close it asked for, if it did.
    fn call(
        &mut self,
        buffers: &mut Buffers,
        now: Instant,
        off_loop: &mut dyn FnMut(OffLoop) -> bool,
        f: impl FnOnce(&mut dyn Handler, &mut Socket<'_>),
    ) {
        let mut close = None;
        let unwritten = buffers.unwritten();
        let output = buffers.output();
        let mut socket = Socket::new(output, unwritten, &self.sender, &mut close, off_loop);
        f(&mut *self.handler, &mut socket);
        self.stats.messages_out(socket.sent());
        if let Some((code, reason)) = close {
            self.send_close(buffers, code, &reason, now + CLOSE_WAIT);
        }
    }

    /// Sends our close frame and waits for the client's until `until`.
    fn send_close(&mut self, buffers: &mut Buffers, code: u16, reason: &str, until: Instant) {
        if self.stage == Stage::Open {
            encode_close(buffers.output(), code, reason);
            self.stage = Stage::Closing { code, until };
        }
    }

    /// The socket is closed: the handler hears it, once.
    fn closed(&mut self, code: Option<u16>) {
        if !matches!(self.stage, Stage::Closed { .. }) {
            self.stage = Stage::Closed { code };
            self.outbox = None;
            self.stats.closed(code.into());
            self.handler.closed(code);
        }
    }

    /// One decoded item.
    fn take(
        &mut self,
        item: Incoming,
        buffers: &mut Buffers,
        now: Instant,
        off_loop: &mut dyn FnMut(OffLoop) -> bool,
    ) {
        match (item, self.stage) {
            (Incoming::Text(text), Stage::Open) => {
                self.stats.message_in();
                let message = Message::Text(text);
                self.call(buffers, now, off_loop, |h, s| h.message(message, s))
            }
            (Incoming::Binary(bytes), Stage::Open) => {
                self.stats.message_in();
                let message = Message::Binary(bytes);
                self.call(buffers, now, off_loop, |h, s| h.message(message, s))
            }
            // RFC 6455 §5.5.2: a ping is answered with a pong carrying its
            // payload, "as soon as is practical".
            (Incoming::Ping(payload), Stage::Open) => {
                encode(buffers.output(), Opcode::Pong, &payload)
            }
            // An unsolicited pong is allowed and needs no answer (§5.5.3);
            // like any frame, it showed the client is there.
            (Incoming::Pong(_), _) => {}
            // §5.5.1: the client closed first; our close echoes its code
            // (1000 for an empty close, which has none to echo).
            (Incoming::Close(close), Stage::Open) => {
                let code = close.as_ref().map(|(code, _)| *code);
                encode_close(buffers.output(), code.unwrap_or(1000), "");
                self.closed(code.or(Some(1005)));
            }
            // Our close was first: this is its answer.
            (Incoming::Close(_), Stage::Closing { code, .. }) => self.closed(Some(code)),
            // After our close, what else comes is dropped.
            (_, _) => {}
        }
    }

    /// Decodes what arrived, item by item, until the input is used up, the
    /// socket closes, or a rule is broken (then the close with its code).
    /// Not while the output holds [`OUTPUT_BOUND`] unsent: every ping
    /// read is a pong written, so a client that sends and never reads
    /// would grow the output without end (a ping flood). Unread, its bytes
    /// wait in the input, then in the socket, then in the client.
    fn decode(
        &mut self,
        buffers: &mut Buffers,
        now: Instant,
        off_loop: &mut dyn FnMut(OffLoop) -> bool,
    ) {
        while !matches!(self.stage, Stage::Closed { .. })
            && buffers.unconsumed() > 0
            && buffers.unwritten() < OUTPUT_BOUND
        {
            match self.decoder.decode(buffers.input()) {
                Ok((0, None)) => break,
                Ok((used, item)) => {
                    buffers.consume(used);
                    self.heard = now;
                    self.pinged = None;
                    if let Some(item) = item {
                        self.take(item, buffers, now, off_loop);
                    }
                }
                Err(violation) => {
                    // The rest is not read: the connection fails (§7.1.7).
                    let unread = buffers.unconsumed();
                    buffers.consume(unread);
                    self.send_close(buffers, violation.code, violation.reason, now + CLOSE_WAIT);
                    self.closed(Some(violation.code));
                }
            }
        }
    }

    /// Frames other threads sent, while the output has room: one whole
    /// frame per chunk, so they never split around our own. A Close among
    /// them (`Sender::close`) is ours: the socket is closing from then on.
    fn take_sent(&mut self, buffers: &mut Buffers, now: Instant) {
        self.held_back = false;
        let Some(outbox) = &self.outbox else {
            return;
        };
        while self.stage == Stage::Open {
            if buffers.unwritten() >= OUTPUT_BOUND {
                // Stopped short of `Wait`, so no waker is armed: a write
                // that empties the output must bring us back (found by
                // tests/websocket.rs's slow reader: the flow stalled until
                // the keepalive's ping, 30 s later).
                self.held_back = true;
                return;
            }
            match outbox.next() {
                Next::Chunk(frame) => {
                    buffers.output().extend_from_slice(&frame);
                    match sent_close_code(&frame) {
                        Some(code) => {
                            let until = now + CLOSE_WAIT;
                            self.stage = Stage::Closing { code, until };
                        }
                        None => self.stats.messages_out(1),
                    }
                }
                // Empty: the pipe's waker is armed, and the next send
                // brings the loop back here.
                Next::Wait | Next::End(_) => return,
            }
        }
    }

    /// What the time says: the drain's close, a ping due, a ping or a
    /// close unanswered too long.
    fn keep_time(&mut self, buffers: &mut Buffers, now: Instant) {
        if let Some(until) = self.draining.take() {
            // RFC 6455 §7.4.1: 1001, "going away" — a server shutting down.
            self.send_close(buffers, 1001, "the server is shutting down", until);
        }
        match self.stage {
            Stage::Open => {
                if let Some(pinged) = self.pinged {
                    if now >= pinged + self.keepalive.timeout {
                        // No answer: the peer or the path is gone. No close
                        // handshake with someone who does not answer.
                        self.closed(None);
                    }
                } else if now >= self.heard + self.keepalive.interval {
                    encode(buffers.output(), Opcode::Ping, b"");
                    self.pinged = Some(now);
                }
            }
            Stage::Closing { code, until } if now >= until => self.closed(Some(code)),
            Stage::Closing { .. } | Stage::Closed { .. } => {}
        }
    }
}

impl Upgraded for WebSocket {
    fn receive(
        &mut self,
        buffers: &mut Buffers,
        now: Instant,
        off_loop: &mut dyn FnMut(OffLoop) -> bool,
    ) {
        if !self.opened {
            self.opened = true;
            self.heard = now;
            self.call(buffers, now, off_loop, |h, s| h.open(s));
        }
        // What other threads sent goes out first, before and after the
        // messages are read: a message decoded against a pipe the loop could
        // have emptied would find it full, and its offload refused, from a
        // client that reads (found by review: a backlog read after the
        // output drained got "busy" for every `heavy`).
        self.take_sent(buffers, now);
        self.decode(buffers, now, off_loop);
        if buffers.input_ended() && !matches!(self.stage, Stage::Closed { .. }) {
            // TCP ended with no close frame: RFC 6455's 1006, told as none.
            self.closed(None);
        }
        self.take_sent(buffers, now);
        self.keep_time(buffers, now);
    }

    fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Closed { .. })
    }

    fn held_back(&self, buffers: &Buffers) -> bool {
        self.held_back && buffers.unwritten() < OUTPUT_BOUND
    }

    fn wake_at(&self) -> Option<Instant> {
        match self.stage {
            Stage::Open => Some(match self.pinged {
                Some(pinged) => pinged + self.keepalive.timeout,
                None => self.heard + self.keepalive.interval,
            }),
            Stage::Closing { until, .. } => Some(until),
            Stage::Closed { .. } => None,
        }
    }

    fn begin_drain(&mut self, grace_ends: Instant) {
        if let Some(outbox) = &self.outbox {
            outbox.drain();
        }
        if self.stage == Stage::Open {
            self.draining = Some(grace_ends);
        }
    }

    fn ended(&mut self) {
        self.closed(None);
    }

    fn ending(&self) -> &'static str {
        match self.stage {
            Stage::Closed { code: Some(_) } => "websocket closed",
            _ => "websocket ended with no close frame",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::websocket::SendError;
    use std::sync::Mutex;

    /// Offloads each message, and keeps what `offload` said.
    struct Offloads(Arc<Mutex<Vec<Result<(), SendError>>>>);

    impl Handler for Offloads {
        fn message(&mut self, _: Message, socket: &mut Socket<'_>) {
            let said = socket.offload(|_| None);
            self.0.lock().unwrap().push(said);
        }
    }

    /// A masked text frame.
    fn text(payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![0x81, 0x80 | payload.len() as u8, 1, 2, 3, 4];
        frame.extend(
            payload
                .iter()
                .zip([1, 2, 3, 4].iter().cycle())
                .map(|(b, m)| b ^ m),
        );
        frame
    }

    /// A message read while other threads' frames fill the pipe is read
    /// only after the loop took what the output has room for: its offload
    /// is not refused for a pipe the loop could have emptied. (Decoded
    /// first, as it once was, a backlog read after the output drained found
    /// the pipe full, and every `heavy` in it was told "busy".)
    #[test]
    fn what_other_threads_sent_goes_out_before_the_messages_behind_it_are_read() {
        let (producer, outbox) = crate::stream::pipe(None);
        let sender = Sender::new(producer);
        let said = Arc::new(Mutex::new(Vec::new()));
        let keepalive = Keepalive {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
        };
        let handler = Box::new(Offloads(Arc::clone(&said)));
        let stats = Arc::default();
        let mut socket = WebSocket::new(handler, outbox, sender.clone(), 1 << 20, keepalive, stats);
        while sender.try_send(vec![0u8; 64 * 1024]).is_ok() {} // the pipe is full
        let mut buffers = Buffers::default();
        buffers.received(&text(b"heavy"));
        let mut pool = |_: OffLoop| true;
        let now = Instant::now();
        socket.receive(&mut buffers, now, &mut pool);
        // The pipe went into the output, up to its bound: the message waits.
        assert!(buffers.unwritten() >= OUTPUT_BOUND);
        assert!(said.lock().unwrap().is_empty(), "read with the output full");
        // The client read it all; the message is read, with room for its
        // answer.
        let written = buffers.unwritten();
        buffers.wrote(written);
        socket.receive(&mut buffers, now, &mut pool);
        assert_eq!(*said.lock().unwrap(), vec![Ok(())]);
    }
}
