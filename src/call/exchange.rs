//! One request on its own connection, as a small explicit state machine.
//!
//! ```text
//!   connect() ──► Connecting ──writable──► Sending ──all written──► Receiving ──complete──► done
//!                    │ error                 │ error                  │ EOF / error
//!                    └──────────────► done with a Failure ◄───────────┘
//! ```
//!
//! This is the client-side mirror of the server's `Connection`, and it obeys
//! the same readiness rules, written where they bite:
//!
//! - a non-blocking `connect` returns at once, before the handshake is done.
//!   The socket is registered for `WRITABLE`; the first writable event means
//!   "the handshake ended", *not* "it succeeded": `take_error` says whether
//!   it failed (refused), and `peer_addr` whether it is really connected;
//! - events are hints: any step may find `WouldBlock` and simply wait for
//!   the next event;
//! - reads go on until `WouldBlock` (or EOF): edge-triggered readiness
//!   reports new bytes once, so bytes left unread would never be announced
//!   again;
//! - write interest is only wanted while there is something to write: once
//!   the request is out, the socket is re-registered for `READABLE` alone.
//!
//! The response is parsed by [`parse_response`], a pure function over the
//! bytes received so far, so every way the bytes can be split across reads
//! is a unit test without a socket.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::http::chunked::ChunkedDecoder;

/// Bytes read per `read` call.
const READ_CHUNK: usize = 4096;

/// The largest response accepted. The demo's answers are a few dozen bytes;
/// anything near this is not the demo app, and must not grow our memory.
const MAX_RESPONSE: usize = 1 << 20;

/// Why a request did not end in a `200` with its full body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Nothing listens on the address (`ECONNREFUSED`).
    Refused,
    /// No complete response arrived within the per-request timeout.
    TimedOut(Duration),
    /// A complete response, but not `200 OK`; `body` is its first line.
    BadStatus {
        /// The status code received.
        status: u16,
        /// The first line of the body, for the error message.
        body: String,
    },
    /// A `200`, but not the answer the demo app gives to that request (not
    /// `fast result ID` or `slow result ID <--- ...`): something else is
    /// listening there. `body` is its first line.
    WrongBody(String),
    /// The server closed the connection before `Content-Length` bytes came.
    ShortBody {
        /// Body bytes received.
        got: usize,
        /// Body bytes promised by `Content-Length`.
        expected: usize,
    },
    /// The server closed the connection before a complete response head.
    Closed,
    /// The bytes received are not an HTTP/1.x response we can frame.
    Malformed(String),
    /// Any other socket error (a reset, for example), as the OS words it.
    Io(String),
}

impl Failure {
    /// Classifies a socket error.
    fn from_io(error: &io::Error) -> Failure {
        match error.kind() {
            io::ErrorKind::ConnectionRefused => Failure::Refused,
            _ => Failure::Io(error.to_string()),
        }
    }

    /// A word or two for where a whole sentence will not fit (the timeline).
    pub(crate) fn short(&self) -> &'static str {
        match self {
            Failure::Refused => "refused",
            Failure::TimedOut(_) => "timed out",
            Failure::BadStatus { .. } => "bad status",
            Failure::WrongBody(_) => "wrong body",
            Failure::ShortBody { .. } => "short body",
            Failure::Closed => "closed early",
            Failure::Malformed(_) => "malformed",
            Failure::Io(_) => "I/O error",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused => write!(f, "refused (nothing is listening there)"),
            Failure::TimedOut(after) => {
                write!(f, "timed out: no response within {} s", after.as_secs_f64())
            }
            Failure::BadStatus { status, body } => write!(f, "bad status {status}: {body:?}"),
            Failure::WrongBody(body) => write!(f, "200, but not the demo's answer: {body:?}"),
            Failure::ShortBody { got, expected } => write!(
                f,
                "short body: the connection closed after {got} of {expected} body bytes"
            ),
            Failure::Closed => write!(f, "the connection closed before a response"),
            Failure::Malformed(why) => write!(f, "malformed response: {why}"),
            Failure::Io(why) => write!(f, "I/O error: {why}"),
        }
    }
}

/// A complete response, as far as the caller cares: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    /// The status code.
    pub(crate) status: u16,
    /// The body, exactly `Content-Length` bytes (or everything up to EOF).
    pub(crate) body: Vec<u8>,
}

/// What the bytes received so far amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// Not a whole response yet: keep reading.
    Incomplete,
    /// A whole response.
    Complete(Received),
    /// Never going to be a whole response.
    Failed(Failure),
}

/// Parses a response from `bytes`, everything received so far. `eof` says
/// the server has closed its side, so nothing more will come.
///
/// Framing follows RFC 9112 §6.3: `Transfer-Encoding: chunked` (decoded by
/// the server's own `ChunkedDecoder`: the seed's Tornado server sends
/// chunked answers when a handler calls `flush()`), else `Content-Length`,
/// else the body runs to the close. Any other transfer coding is refused
/// rather than misread.
pub(crate) fn parse_response(bytes: &[u8], eof: bool) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if !eof => return Parsed::Incomplete,
        Ok(httparse::Status::Partial) if bytes.is_empty() => {
            return Parsed::Failed(Failure::Closed)
        }
        Ok(httparse::Status::Partial) => {
            return Parsed::Failed(Failure::Malformed(
                "the connection closed inside the response head".into(),
            ))
        }
        Err(e) => return Parsed::Failed(Failure::Malformed(e.to_string())),
    };
    let status = response.code.unwrap_or_default();
    let mut content_length = None;
    let mut chunked = false;
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            if !header.value.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                let coding = String::from_utf8_lossy(header.value).into_owned();
                return Parsed::Failed(Failure::Malformed(format!("transfer coding {coding:?}")));
            }
            chunked = true;
            continue;
        }
        if header.name.eq_ignore_ascii_case("content-length") {
            let parsed = std::str::from_utf8(header.value)
                .ok()
                .and_then(|text| text.trim().parse::<usize>().ok());
            match parsed {
                Some(len) => content_length = Some(len),
                None => return Parsed::Failed(Failure::Malformed("a bad Content-Length".into())),
            }
        }
    }
    let body = &bytes[head_len..];
    let complete = |body: &[u8]| {
        Parsed::Complete(Received {
            status,
            body: body.to_vec(),
        })
    };
    if chunked {
        // Chunked wins over Content-Length (RFC 9112 §6.3). Responses here
        // are small, so decoding all of it again per read is fine.
        let mut decoded = Vec::new();
        return match ChunkedDecoder::new(MAX_RESPONSE).decode(body, &mut decoded) {
            Ok((_, true)) => complete(&decoded),
            Ok((_, false)) if eof => Parsed::Failed(Failure::Malformed(
                "the connection closed inside a chunked body".into(),
            )),
            Ok((_, false)) => Parsed::Incomplete,
            Err(_) => Parsed::Failed(Failure::Malformed("bad chunked framing".into())),
        };
    }
    match content_length {
        Some(expected) if body.len() >= expected => complete(&body[..expected]),
        Some(expected) if eof => Parsed::Failed(Failure::ShortBody {
            got: body.len(),
            expected,
        }),
        Some(_) => Parsed::Incomplete,
        None if eof => complete(body),
        None => Parsed::Incomplete,
    }
}

/// Where one exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `connect` was issued; waiting for a writable event to learn how the
    /// handshake ended.
    Connecting,
    /// Connected; `written` bytes of the request are out.
    Sending {
        /// Bytes of the request written so far.
        written: usize,
    },
    /// The whole request is out; reading the response.
    Receiving,
}

/// What [`Exchange::advance`] left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Waiting for the next readiness event.
    Pending,
    /// The exchange is over: an answer or why not. The socket is closed.
    Finished(Result<Received, Failure>),
}

/// One request on its own connection, from `connect` to the last body byte.
pub(crate) struct Exchange {
    /// The connection. Dropped (closed) as soon as the exchange finishes.
    socket: Option<TcpStream>,
    /// This exchange's token: its index in the caller's list of requests.
    token: Token,
    phase: Phase,
    /// The request's bytes, written as the socket accepts them.
    request: Vec<u8>,
    /// The response's bytes received so far.
    input: Vec<u8>,
    /// When the write that handed the request's last byte to the kernel
    /// began.
    sent: Option<Instant>,
}

impl Exchange {
    /// Issues a non-blocking connect to `addr` and registers the socket for
    /// `WRITABLE` under `token`. An error here (rare: the OS refusing at once)
    /// is the exchange's failure.
    pub(crate) fn connect(
        addr: SocketAddr,
        request: Vec<u8>,
        token: Token,
        registry: &Registry,
    ) -> Result<Exchange, Failure> {
        let mut socket = TcpStream::connect(addr).map_err(|e| Failure::from_io(&e))?;
        registry
            .register(&mut socket, token, Interest::WRITABLE)
            .map_err(|e| Failure::from_io(&e))?;
        Ok(Exchange {
            socket: Some(socket),
            token,
            phase: Phase::Connecting,
            request,
            input: Vec::new(),
            sent: None,
        })
    }

    /// When the request's last byte went out, if it has.
    pub(crate) fn sent(&self) -> Option<Instant> {
        self.sent
    }

    /// Moves the exchange as far as it can go without blocking, after a
    /// readiness event for its token (which may be spurious: every step
    /// copes with finding nothing to do).
    pub(crate) fn advance(&mut self, registry: &Registry) -> Step {
        let step = self.try_advance(registry);
        if let Step::Finished(_) = step {
            self.close();
        }
        step
    }

    /// Gives up (the caller's timeout passed): closes the socket.
    pub(crate) fn abandon(&mut self) {
        self.close();
    }

    fn close(&mut self) {
        // Dropping the socket closes it, and a closed descriptor leaves the
        // epoll set by itself (none of ours is duplicated), as in the
        // server's `HttpServer::close`: no deregister needed.
        self.socket = None;
    }

    fn try_advance(&mut self, registry: &Registry) -> Step {
        let Some(socket) = self.socket.as_mut() else {
            return Step::Pending; // already finished; a late event
        };
        loop {
            match self.phase {
                Phase::Connecting => {
                    // Step 1: did the handshake fail? The error, if any, is
                    // parked on the socket (SO_ERROR) until taken.
                    match socket.take_error() {
                        Ok(None) => {}
                        Ok(Some(e)) | Err(e) => return Step::Finished(Err(Failure::from_io(&e))),
                    }
                    // Step 2: is it connected, or was the event early?
                    match socket.peer_addr() {
                        Ok(_) => self.phase = Phase::Sending { written: 0 },
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => return Step::Pending,
                        Err(e) => return Step::Finished(Err(Failure::from_io(&e))),
                    }
                }
                Phase::Sending { written } if written == self.request.len() => {
                    // Nothing more to write: stop asking for writable events,
                    // or every ACK would wake the poll for nothing.
                    if let Err(e) = registry.reregister(socket, self.token, Interest::READABLE) {
                        return Step::Finished(Err(Failure::from_io(&e)));
                    }
                    self.phase = Phase::Receiving;
                }
                Phase::Sending { written } => {
                    // Stamped *before* the write: once the last byte is out
                    // the server may start at once, and if this thread is
                    // descheduled right after the write, a stamp taken then
                    // would make the latency shorter than the server's work.
                    let now = Instant::now();
                    match socket.write(&self.request[written..]) {
                        Ok(0) => return Step::Finished(Err(Failure::Closed)),
                        Ok(n) => {
                            let written = written + n;
                            if written == self.request.len() {
                                self.sent = Some(now);
                            }
                            self.phase = Phase::Sending { written };
                        }
                        // The socket buffer is full: the next writable
                        // event says there is room again.
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Pending,
                        // A signal interrupted the call: just retry.
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Step::Finished(Err(Failure::from_io(&e))),
                    }
                }
                Phase::Receiving => return self.receive(),
            }
        }
    }

    /// Reads until `WouldBlock`, EOF, or a complete response.
    fn receive(&mut self) -> Step {
        let socket = self
            .socket
            .as_mut()
            .expect("receive runs on an open socket");
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            let eof = match socket.read(&mut chunk) {
                Ok(0) => true,
                Ok(n) => {
                    self.input.extend_from_slice(&chunk[..n]);
                    false
                }
                // Drained: the next readable event announces new bytes.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Pending,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Step::Finished(Err(Failure::from_io(&e))),
            };
            match parse_response(&self.input, eof) {
                Parsed::Complete(answer) => return Step::Finished(Ok(answer)),
                Parsed::Failed(failure) => return Step::Finished(Err(failure)),
                Parsed::Incomplete if self.input.len() > MAX_RESPONSE => {
                    let why = format!("larger than {MAX_RESPONSE} bytes");
                    return Step::Finished(Err(Failure::Malformed(why)));
                }
                Parsed::Incomplete => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESPONSE: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nfast result 7";

    fn answer(status: u16, body: &str) -> Parsed {
        Parsed::Complete(Received {
            status,
            body: body.as_bytes().to_vec(),
        })
    }

    #[test]
    fn every_split_of_a_response_is_incomplete_until_the_last_byte() {
        for cut in 0..RESPONSE.len() {
            assert_eq!(parse_response(&RESPONSE[..cut], false), Parsed::Incomplete);
        }
        assert_eq!(
            parse_response(RESPONSE, false),
            answer(200, "fast result 7")
        );
    }

    #[test]
    fn an_early_close_says_where_it_happened() {
        assert_eq!(parse_response(b"", true), Parsed::Failed(Failure::Closed));
        assert!(matches!(
            parse_response(&RESPONSE[..10], true),
            Parsed::Failed(Failure::Malformed(_))
        ));
        let cut = RESPONSE.len() - 5;
        assert_eq!(
            parse_response(&RESPONSE[..cut], true),
            Parsed::Failed(Failure::ShortBody {
                got: 8,
                expected: 13
            })
        );
    }

    #[test]
    fn chunked_answers_are_decoded_at_every_split() {
        let bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
            5\r\nfast \r\n8\r\nresult 7\r\n0\r\n\r\n";
        for cut in 0..bytes.len() {
            assert_eq!(
                parse_response(&bytes[..cut], false),
                Parsed::Incomplete,
                "cut {cut}"
            );
        }
        assert_eq!(parse_response(bytes, false), answer(200, "fast result 7"));
        let cut = bytes.len() - 5;
        assert!(matches!(
            parse_response(&bytes[..cut], true),
            Parsed::Failed(Failure::Malformed(_))
        ));
    }

    #[test]
    fn without_content_length_the_body_runs_to_the_close() {
        let bytes = b"HTTP/1.1 200 OK\r\n\r\npartial";
        assert_eq!(parse_response(bytes, false), Parsed::Incomplete);
        assert_eq!(parse_response(bytes, true), answer(200, "partial"));
    }

    #[test]
    fn other_statuses_and_bad_framing() {
        let bytes = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nfull";
        assert_eq!(parse_response(bytes, false), answer(503, "full"));
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
        ] {
            assert!(
                matches!(
                    parse_response(bad, false),
                    Parsed::Failed(Failure::Malformed(_))
                ),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
