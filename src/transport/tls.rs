//! The TLS transport: a rustls session over a plain transport — Tornado's
//! `SSLIOStream`, the same interface as [`Plain`] with records in between.
//!
//! Layered like rustls's own `Stream` over a `TcpStream`: the [`Plain`]
//! transport underneath carries *ciphertext* (its socket, readiness,
//! half-close and lingering, unchanged), the session turns it into
//! plaintext, and the protocol above sees only the plaintext [`Buffers`].
//! Nothing here blocks and nothing calls `complete_io` or `rustls::Stream`,
//! which loop on a socket until done: on a non-blocking socket that is a
//! busy loop or a stall. Each step goes as far as it can and returns.
//!
//! The hangs TLS is known for on readiness loops, and what avoids each:
//!
//! - **Plaintext no edge announces.** The last handshake flight may carry
//!   application data: decrypted inside the session, it will never raise a
//!   socket edge. [`Tls::read`] drains the session's plaintext on every
//!   call, and [`Transport::may_read`] stays true while any is left (or
//!   while ciphertext waits unprocessed), so the connection is driven again
//!   without an edge.
//! - **A read that must write.** Processing a ClientHello produces the
//!   server's flight; a key update or an alert may come at any time. The
//!   interest is derived from `wants_write` — the session's, not only the
//!   protocol's — so `WRITABLE` is asked whenever the session has bytes to
//!   send, whatever the protocol is doing, and every drive writes them.
//! - **The received-plaintext buffer full** (rustls refuses more records
//!   until the plaintext is read). Plaintext is drained into the input
//!   buffer before each record is fed, and ciphertext is fed only while the
//!   protocol wants input: a protocol that stops reading stops the records,
//!   then the socket, then the client (the same backpressure as plain).
//! - **A flush that hit `WouldBlock`.** Ciphertext waits in the plain
//!   transport's output buffer, which asks `WRITABLE` for it like any
//!   output.
//!
//! A TCP EOF without `close_notify` is a truncation: the requests whole
//! before it are answered (as after a FIN), but it is not a clean end.
//!
//! **The handshake is CPU work** — the seed's monster. Processing a
//! client's handshake flight means a key exchange and, for the first one, a
//! signature with the server's key: 0.23–0.34 ms of the loop's time with
//! ECDSA P-256, 0.83–1.15 ms with RSA 2048 (measured, docs/performance.md,
//! "HTTPS"), or whatever a hardware key takes. So a transport made with
//! `offload` does not process a flight while handshaking: it feeds the
//! records to the session and lets the session go ([`Session::Leaving`]).
//! The server takes it as a [`HandshakeStep`], a handshake thread
//! processes it, and it comes back through the Waker
//! ([`Tls::resume`]) — a job like any other, whose result is the session
//! itself. While it is away the transport reads nothing and asks for no
//! write; the socket's readiness is remembered for its return.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::event::Source;
use rustls::{ServerConfig, ServerConnection};

use super::{Buffers, Life, Plain, Security, Stream, TlsNews, Transport};

/// The first byte of a TLS record that starts a handshake. A connection
/// whose first byte is an ASCII letter instead is plain HTTP (`GET …`).
const HANDSHAKE: u8 = 0x16;

/// Ciphertext buffered before it is fed to the session, at most: a TLS
/// record is at most 16 KiB plus its overhead, so this is a few records.
const CIPHERTEXT_INPUT: usize = 64 * 1024;

/// Plaintext the session may hold for sending beyond what the socket took:
/// the protocol's output stays bounded by its own limits plus this.
const SESSION_SEND_BUFFER: usize = 64 * 1024;

/// The answer to plain HTTP sent to the TLS port, written as plain bytes
/// before the connection closes (nginx answers the same case with its "The
/// plain HTTP request was sent to HTTPS port"). The transport knows no
/// HTTP: these are fixed bytes, not an encoded response.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 59\r\n\
Connection: close\r\n\
\r\n\
400 Bad Request: this port speaks HTTPS; use https:// here\n";

/// How long a connection refused for plain HTTP reads and drops what its
/// client still sends, after the answer, before it closes: long enough for
/// the rest of a request already on its way (so no reset destroys the
/// answer), short because nothing it sends can be served.
const PLAIN_HTTP_LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// What the first bytes of a connection turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    /// Nothing read yet.
    Unknown,
    /// A TLS record: the session has it.
    Tls,
    /// Plain HTTP: answered with [`PLAIN_HTTP_ANSWER`], then closed.
    PlainHttp,
}

/// Where the session is.
enum Session {
    /// On the loop: read, written and processed here.
    Here(Box<ServerConnection>),
    /// On the loop, failed (a bad record, a handshake error): nothing more
    /// is fed to it; what it decrypted before is still read, its alert is
    /// written, then the transport closes.
    Failed(Box<ServerConnection>),
    /// A handshake flight is fed to it, to be processed off the loop: the
    /// server takes it ([`Tls::take_handshake_step`]).
    Leaving(Box<ServerConnection>),
    /// On a handshake thread, until [`Tls::resume`].
    Away,
}

/// A session with a client's handshake flight fed to it and not yet
/// processed: the CPU work of a handshake, to be done off the loop
/// ([`HandshakeStep::run`]) and handed back to its transport.
pub(crate) struct HandshakeStep {
    session: Box<ServerConnection>,
    /// What processing said: `Err` for a handshake that failed (its alert
    /// is queued in the session).
    outcome: Result<(), rustls::Error>,
    /// The time `run` took.
    took: Duration,
}

impl HandshakeStep {
    /// Processes the flight: the key exchange, the signature, the
    /// server's next flight sealed and queued.
    pub(crate) fn run(&mut self) {
        let started = Instant::now();
        self.outcome = self.session.process_new_packets().map(|_| ());
        self.took = started.elapsed();
    }

    /// `run` panicked (in the crypto provider, or in an embedder's signing
    /// key): the handshake failed, and the connection with it.
    pub(crate) fn panicked(&mut self) {
        self.outcome = Err(rustls::Error::General("the handshake panicked".into()));
    }

    /// How long [`run`](Self::run) took (for the trace).
    pub(crate) fn took(&self) -> Duration {
        self.took
    }
}

/// A rustls server session over a plain transport of ciphertext.
pub(crate) struct Tls<S> {
    /// Ciphertext: the socket, its readiness, the half-close, lingering.
    wire: Plain<S>,
    session: Session,
    /// Handshake flights are processed off the loop ([`HandshakeStep`]).
    offload: bool,
    /// Plaintext: what the protocol reads and writes.
    plain: Buffers,
    opening: Opening,
    /// Plaintext or ciphertext may be left in the session that the next
    /// read takes without a socket edge.
    pending: bool,
    /// What the counters have not heard yet ([`Tls::take_news`]).
    news: TlsNews,
    /// The handshake's end was reported.
    handshake_told: bool,
}

impl<S: Stream> Tls<S> {
    /// A TLS transport over a freshly accepted socket, with a new session of
    /// `config`; with `offload`, its handshake flights are processed off
    /// the loop.
    pub(crate) fn new(socket: S, config: Arc<ServerConfig>, offload: bool) -> io::Result<Tls<S>> {
        let mut session = ServerConnection::new(config).map_err(io::Error::other)?;
        session.set_buffer_limit(Some(SESSION_SEND_BUFFER));
        Ok(Tls {
            wire: Plain::new(socket),
            session: Session::Here(Box::new(session)),
            offload,
            plain: Buffers::default(),
            opening: Opening::Unknown,
            pending: false,
            news: TlsNews::default(),
            handshake_told: false,
        })
    }

    /// The socket (for tests, which play its other end).
    #[cfg(test)]
    pub(crate) fn wire_socket(&mut self) -> &mut S {
        self.wire.socket()
    }

    /// The session, if it is on the loop (failed or not).
    fn here(&self) -> Option<&ServerConnection> {
        match &self.session {
            Session::Here(session) | Session::Failed(session) => Some(session),
            Session::Leaving(_) | Session::Away => None,
        }
    }

    /// The same, to change.
    fn here_mut(&mut self) -> Option<&mut ServerConnection> {
        match &mut self.session {
            Session::Here(session) | Session::Failed(session) => Some(session),
            Session::Leaving(_) | Session::Away => None,
        }
    }

    /// True once the session failed.
    fn is_failed(&self) -> bool {
        matches!(self.session, Session::Failed(_))
    }

    /// The handshake flight to process off the loop, if one was fed since
    /// the last look; the session is away until [`resume`](Self::resume).
    pub(crate) fn take_handshake_step(&mut self) -> Option<HandshakeStep> {
        match std::mem::replace(&mut self.session, Session::Away) {
            Session::Leaving(session) => Some(HandshakeStep {
                session,
                outcome: Ok(()),
                took: Duration::ZERO,
            }),
            other => {
                self.session = other;
                None
            }
        }
    }

    /// A processed flight comes back: the session is on the loop again,
    /// with the server's next flight to write (or its alert, if the
    /// handshake failed), and the next read goes on without an edge.
    pub(crate) fn resume(&mut self, step: HandshakeStep) {
        self.session = match step.outcome {
            Ok(()) => Session::Here(step.session),
            Err(_) => Session::Failed(step.session),
        };
        self.pending = true;
    }

    /// What happened since the last look, for the counters: plain HTTP
    /// refused, a handshake done or failed — each told once.
    pub(crate) fn take_news(&mut self) -> TlsNews {
        if let Some(handshaking) = self.here().map(|session| session.is_handshaking()) {
            if !self.handshake_told && self.opening == Opening::Tls {
                if self.is_failed() && handshaking {
                    self.news.handshake = Some(false);
                } else if !handshaking {
                    self.news.handshake = Some(true);
                }
                self.handshake_told = self.news.handshake.is_some();
            }
        }
        std::mem::take(&mut self.news)
    }

    /// Moves the session's plaintext into the input buffer while fewer than
    /// `limit` bytes wait there; returns the bytes moved.
    fn drain_plaintext(&mut self, scratch: &mut [u8], limit: usize) -> usize {
        let (Session::Here(session) | Session::Failed(session)) = &mut self.session else {
            return 0;
        };
        let mut moved = 0;
        while self.plain.unconsumed() < limit {
            match session.reader().read(scratch) {
                // close_notify: the client's clean end of input.
                Ok(0) => {
                    self.plain.end_input();
                    return moved;
                }
                Ok(n) => {
                    self.plain.received(&scratch[..n]);
                    moved += n;
                }
                // A TCP EOF with no close_notify: a truncation. What came
                // whole before it is still answered, as after a FIN.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.plain.end_input();
                    return moved;
                }
                Err(_) => return moved, // WouldBlock: nothing decrypted waits
            }
        }
        self.pending = true; // stopped at the limit: more may wait
        moved
    }

    /// Looks at the connection's first bytes: a handshake goes to the
    /// session; plain HTTP is answered in plain and the connection ends.
    fn open(&mut self, scratch: &mut [u8]) {
        let Some(&first) = self.wire.buffers_ref().input().first() else {
            return;
        };
        if first == HANDSHAKE || !first.is_ascii_alphabetic() {
            self.opening = Opening::Tls;
            return;
        }
        self.opening = Opening::PlainHttp;
        self.news.plain_http = true;
        let wire = self.wire.buffers();
        let unread = wire.unconsumed();
        wire.consume(unread);
        wire.output().extend_from_slice(PLAIN_HTTP_ANSWER);
        self.wire.write();
        self.end_wire(scratch);
    }

    /// Ends the wire: half-close and linger if every byte is out, else
    /// close (a client that stopped reading gets no more time).
    fn end_wire(&mut self, scratch: &mut [u8]) {
        if self.wire.buffers_ref().unwritten() == 0 {
            let ends = Instant::now() + PLAIN_HTTP_LINGER;
            self.wire.finish(scratch, ends);
        } else {
            self.wire.close();
        }
    }

    /// Moves the session's records into the wire's output.
    fn seal(&mut self) {
        let (Session::Here(session) | Session::Failed(session)) = &mut self.session else {
            return;
        };
        while session.wants_write() {
            if session.write_tls(self.wire.buffers().output()).is_err() {
                break;
            }
        }
    }

    /// Feeds the records that wait in the wire's input to the session and
    /// processes them — here, or, for a handshake flight with `offload`, by
    /// letting the session leave. Returns the ciphertext bytes fed; `None`
    /// when the session can take no more now (it failed, or it left).
    fn feed(&mut self) -> Option<usize> {
        let Session::Here(session) = &mut self.session else {
            return None;
        };
        let mut records = self.wire.buffers_ref().input();
        // An error here is the session refusing more records while its
        // plaintext waits: drained before each feed, so it does not
        // happen; taken as nothing fed, which ends the read.
        let fed = session.read_tls(&mut records).unwrap_or_default();
        self.wire.buffers().consume(fed);
        if fed > 0 && self.offload && session.is_handshaking() {
            // The seed's monster: this flight's processing is the key
            // exchange and the signature, 0.83–1.15 ms of the loop's
            // time with RSA 2048. Measured before it moved (bench/tls.sh,
            // docs/performance.md "HTTPS"): RSA handshakes at 300/s raised
            // /fast p99 6.7–10.5× (2.0–3.2× over a client-core control),
            // past issue 22's 2× bound. So it goes to a handshake thread.
            if let Session::Here(session) = std::mem::replace(&mut self.session, Session::Away) {
                self.session = Session::Leaving(session);
            }
            return None;
        }
        if session.process_new_packets().is_err() {
            // Its alert is queued: written by the next `write`, then the
            // transport closes.
            if let Session::Here(session) = std::mem::replace(&mut self.session, Session::Away) {
                self.session = Session::Failed(session);
            }
            return None;
        }
        Some(fed)
    }
}

impl<S: Stream> Transport for Tls<S> {
    fn source(&mut self) -> &mut dyn Source {
        self.wire.source()
    }

    fn note_readiness(&mut self, readable: bool, writable: bool, closed: bool) {
        self.wire.note_readiness(readable, writable, closed);
    }

    /// Reads ciphertext, feeds it to the session record by record, and
    /// moves the plaintext into the input buffer, until the socket is
    /// drained or `limit` plaintext bytes wait; returns the plaintext bytes.
    /// Nothing while the session is away.
    fn read(&mut self, scratch: &mut [u8], limit: usize) -> usize {
        if self.here().is_none() {
            return 0;
        }
        self.pending = false;
        let mut total = self.drain_plaintext(scratch, limit);
        while self.life() == Life::Open && !self.is_failed() && self.plain.unconsumed() < limit {
            if self.wire.buffers_ref().unconsumed() == 0 {
                let read = self.wire.read(scratch, CIPHERTEXT_INPUT);
                if self.opening == Opening::Unknown {
                    self.open(scratch);
                    if self.opening == Opening::PlainHttp {
                        return 0;
                    }
                }
                if read == 0 {
                    break; // drained (or the client's FIN, handled below)
                }
            }
            let Some(fed) = self.feed() else {
                break;
            };
            total += self.drain_plaintext(scratch, limit);
            if fed == 0 {
                break;
            }
        }
        // The client's FIN with no record left: feed the end to the session,
        // which tells a close_notify from a truncation.
        let wire = self.wire.buffers_ref();
        let ended = wire.input_ended() && wire.unconsumed() == 0 && !self.plain.input_ended();
        if let (true, Some(session)) = (ended, self.here_mut()) {
            let _ = session.read_tls(&mut io::empty());
            let _ = session.process_new_packets();
            total += self.drain_plaintext(scratch, limit);
            if !self.plain.input_ended() {
                self.plain.end_input();
            }
        }
        self.pending |= self.wire.buffers_ref().unconsumed() > 0;
        total
    }

    /// Seals the plaintext output into records and writes them; returns the
    /// plaintext bytes the session took.
    ///
    /// Plaintext goes into the session only while the socket has taken
    /// every record sealed before: the ciphertext waiting is then at most
    /// one session buffer (`SESSION_SEND_BUFFER`), and what the client has
    /// not read stays plaintext in the protocol's output, under the
    /// protocol's own bounds — it stops reading, its write-stall deadline
    /// runs. Sealing whatever the protocol wrote, whether the socket took
    /// it or not, once let a client that stopped reading grow the server
    /// by 108 MiB in 20 s (RSS 6 → 881 MiB), found by the plain suite's
    /// slow-reader tests run over TLS (tests/backpressure.rs,
    /// tests/streaming.rs).
    fn write(&mut self) -> usize {
        let mut taken = 0;
        loop {
            self.seal();
            self.wire.write();
            if self.wire.buffers_ref().unwritten() > 0 {
                break; // the socket is full: WRITABLE brings us back
            }
            let (Session::Here(session) | Session::Failed(session)) = &mut self.session else {
                break;
            };
            if self.plain.unwritten() == 0 {
                break;
            }
            match session.writer().write(self.plain.to_write()) {
                Ok(0) | Err(_) => break, // the session's send buffer is full
                Ok(n) => {
                    self.plain.wrote(n);
                    taken += n;
                }
            }
        }
        if self.is_failed() && self.wire.buffers_ref().unwritten() == 0 {
            self.wire.close();
        }
        taken
    }

    /// Sends `close_notify`, then ends the wire (half-close and linger). A
    /// session away on a handshake thread cannot say it: the wire closes.
    fn finish(&mut self, scratch: &mut [u8], ends: Instant) {
        if self.here().is_none() {
            return self.wire.close();
        }
        if self.opening == Opening::Tls && !self.is_failed() {
            if let Some(session) = self.here_mut() {
                session.send_close_notify();
            }
            self.seal();
            self.wire.write();
        }
        if self.wire.buffers_ref().unwritten() == 0 {
            self.wire.finish(scratch, ends);
        } else {
            self.wire.close();
        }
    }

    fn discard(&mut self, scratch: &mut [u8]) {
        self.wire.discard(scratch);
    }

    /// Closes at once — but an established session still says
    /// `close_notify` first when the socket takes it (one write, no wait):
    /// an idle timeout or the drain's deadline is an orderly end too, and a
    /// client must be able to tell it from a truncation.
    fn close(&mut self) {
        let established = self.here().is_some_and(|session| !session.is_handshaking());
        if self.wire.life() == Life::Open && established && !self.is_failed() {
            if let Some(session) = self.here_mut() {
                session.send_close_notify();
            }
            self.seal();
            self.wire.write();
        }
        self.wire.close();
    }

    fn life(&self) -> Life {
        self.wire.life()
    }

    fn buffers(&mut self) -> &mut Buffers {
        &mut self.plain
    }

    fn buffers_ref(&self) -> &Buffers {
        &self.plain
    }

    /// False while the session is away: nothing can be read until it is
    /// back, and its return drives the connection.
    fn may_read(&self) -> bool {
        self.here().is_some() && (self.wire.may_read() || self.pending)
    }

    fn may_write(&self) -> bool {
        self.wire.may_write()
    }

    fn wants_write(&self) -> bool {
        let session = self.here().is_some_and(|session| session.wants_write());
        self.plain.unwritten() > 0 || session || self.wire.wants_write()
    }

    fn security(&self) -> Security {
        let Some(session) = self.here().filter(|session| !session.is_handshaking()) else {
            return Security::Handshaking;
        };
        Security::Tls(match session.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "TLS",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::PLAIN_HTTP_ANSWER;

    /// The fixed answer's `Content-Length` is its body's length (a client
    /// would otherwise wait for bytes that never come).
    #[test]
    fn the_plain_http_answer_says_its_own_length() {
        let text = std::str::from_utf8(PLAIN_HTTP_ANSWER).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len());
    }
}
