//! One connection driven without a socket or a loop: the fuzzer's entry
//! point.
//!
//! [`check_connection`] feeds arbitrary bytes, cut into pieces, to a real
//! `Connection` — the plain transport over a scripted in-memory stream —
//! driven by the same `Connection::drive` the server runs (rounds, limits,
//! lingering and all). No epoll: the connection never touches the loop. It
//! answers requests the way the server does — some at once, some
//! later and out of order, as offloaded jobs would. Then it checks what came
//! out against what went in:
//!
//! 1. nothing panics;
//! 2. every decoded request gets exactly one final response, plus at most
//!    one error response for a framing error, and never more;
//! 3. responses leave in request order, however the answers were produced;
//! 4. once the connection stops reading requests (an error, a close), no
//!    further request is decoded, and the error response is the last thing
//!    written.
//!
//! `fuzz/fuzz_targets/connection.rs` calls it with libFuzzer's inputs; the
//! tests below call it with every split of a valid pipelined stream.
//!
//! [`check_decoder`] (in `fuzzing/decoder.rs`) is the `decoder` target's
//! entry point: the request decoder alone, fed one stream split and whole.
//! `check_websocket` (in `fuzzing/websocket.rs`, with the `websocket`
//! feature) is the `websocket` target's: the WebSocket frame decoder fed
//! one stream whole, split and byte by byte, the last against a model of
//! RFC 6455's framing. The entry points live in the library, not in the
//! fuzz crate, so that `tests/fuzz_corpus.rs` replays the committed corpus
//! through exactly the code the fuzzer ran, on the stable toolchain, in
//! every `cargo test`.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use mio::event::Source;
use mio::{Interest, Registry, Token};

use crate::config::Config;
use crate::connection::{Connection, JobTicket, Kit, OffLoop, Reply, Respond, Spares};
use crate::http::{Limits, Refusal, Request, Response, StatusCode};
use crate::job::Job;
use crate::transport::{Life, Plain, Stream, Transport};

mod decoder;
mod pieces;
pub use decoder::check_decoder;
#[cfg(feature = "websocket")]
mod websocket;
#[cfg(feature = "websocket")]
mod websocket_model;
#[cfg(feature = "websocket")]
pub use websocket::check_websocket;

/// A fixed Date header, so the same input always gives the same bytes.
const DATE: &[u8] = b"Thu, 01 Jan 1970 00:00:00 GMT";

/// Small limits, so random input reaches them.
const LIMITS: Limits = Limits {
    max_head: 512,
    max_headers: 8,
    max_target: 128,
    max_body: 256,
};

/// An in-memory stream: reads return the pieces delivered so far (then
/// `WouldBlock`), writes accept a varying number of bytes (sometimes
/// none, as a full socket buffer would).
struct ScriptedStream {
    unread: VecDeque<u8>,
    /// Bytes handed to the connection so far.
    consumed: usize,
    written: Vec<u8>,
    /// Drives the write sizes; from the input, so runs are reproducible.
    rng: u64,
}

impl ScriptedStream {
    fn next_random(&mut self) -> u64 {
        // xorshift64: tiny and deterministic; quality is not the point.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

impl Read for ScriptedStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.unread.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.unread.len());
        for (into, byte) in buf.iter_mut().zip(self.unread.drain(..n)) {
            *into = byte;
        }
        self.consumed += n;
        Ok(n)
    }
}

impl Write for ScriptedStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = (self.next_random() % 300) as usize;
        if room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = room.min(buf.len());
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// The scripted stream is never really registered: interest changes are
// accepted and ignored, as a socket's would be by a poll that never reports.
impl Source for ScriptedStream {
    fn register(&mut self, _: &Registry, _: Token, _: Interest) -> io::Result<()> {
        Ok(())
    }
    fn reregister(&mut self, _: &Registry, _: Token, _: Interest) -> io::Result<()> {
        Ok(())
    }
    fn deregister(&mut self, _: &Registry) -> io::Result<()> {
        Ok(())
    }
}

impl Stream for ScriptedStream {
    fn shutdown_write(&self) -> io::Result<()> {
        Ok(())
    }
}

/// Answers like the server would: two of every three requests at once, the
/// third as a "job" answered later (by `run`, newest first).
#[derive(Default)]
struct Answers {
    /// For each decoded request, in order: was it HEAD?
    heads: Vec<bool>,
    /// Offloaded answers not given yet: (place, request index).
    jobs: Vec<(u64, usize)>,
}

impl Respond for Answers {
    fn respond(&mut self, request: &mut Request, seq: u64, _: Instant) -> Reply {
        let index = self.heads.len();
        self.heads.push(request.is_head());
        if index % 3 == 2 {
            self.jobs.push((seq, index));
            let job = JobTicket(index);
            return Reply::Later { route: None, job };
        }
        Reply::Now {
            route: None,
            response: answer(index),
        }
    }

    fn admit(&mut self, _: &Request, _: bool) -> Result<usize, Response> {
        Ok(LIMITS.max_body)
    }

    fn error(&self, refusal: Refusal) -> Response {
        Response::refusal(refusal)
    }

    fn refused(&mut self, _: Refusal) {}

    // The harness answers every job itself (`Reply::Later`), so nothing
    // is ever held for it to release.
    fn release(
        &mut self,
        _: Job,
        _: u64,
        _: Option<usize>,
        _: Instant,
    ) -> Result<JobTicket, Response> {
        Err(Response::error(StatusCode::SERVICE_UNAVAILABLE))
    }

    // A job given up is one whose answer will not be filled: the harness
    // fills it anyway, and the connection drops it (`Filled::Unwanted`).
    fn give_up(&mut self, _: JobTicket) {}

    fn off_loop(&mut self, _: OffLoop) -> bool {
        false
    }
}

/// What one run produced, for the tests to compare.
#[derive(Debug, PartialEq, Eq)]
struct Transcript {
    /// Requests the connection decoded.
    requests: usize,
    /// For each decoded request, in order: was it HEAD (answered without
    /// its body)?
    heads: Vec<bool>,
    /// Everything written, in order.
    output: Vec<u8>,
}

/// Drives a connection with `data` and panics if an invariant breaks. The
/// first byte of `data` chooses how the rest is cut into pieces.
pub fn check_connection(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let pieces = split(stream, seed);
    let transcript = run(&pieces, u64::from(seed) | 1 << 32);
    check(&transcript);
}

/// Cuts `bytes` into pieces of 1..=32 bytes chosen by `seed`; seed 0 keeps
/// it whole.
fn split(bytes: &[u8], seed: u8) -> Vec<&[u8]> {
    if seed == 0 {
        return vec![bytes];
    }
    let mut rng = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut pieces = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let n = ((rng % 32) as usize + 1).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// Feeds `pieces` one at a time, the way the server would see them
/// arrive, driving the connection after each (again while it is cut short),
/// then answers the "jobs" after the next piece, newest first.
fn run(pieces: &[&[u8]], write_seed: u64) -> Transcript {
    let stream = ScriptedStream {
        unread: VecDeque::new(),
        consumed: 0,
        written: Vec::new(),
        rng: write_seed,
    };
    let peer = SocketAddr::from(([127, 0, 0, 1], 1));
    let config = Config::default();
    let mut spares = Spares::default();
    let mut scratch = [0u8; 64];
    let mut conn = Connection::new(Plain::new(stream), Some(peer), LIMITS, None);
    let mut answers = Answers::default();
    // Requests decoded when the connection stopped reading requests.
    let mut decoded_at_stop = None;

    let mut drive = |conn: &mut Connection<Plain<ScriptedStream>>, answers: &mut Answers| {
        // Bounded, so a bug cannot hang the fuzzer.
        for _ in 0..10_000 {
            if conn.is_closed() {
                return;
            }
            let kit = Kit {
                scratch: &mut scratch,
                spares: &mut spares,
                date: DATE,
                config: &config,
            };
            if !conn.drive(kit, answers).cut_short {
                return;
            }
        }
    };
    for piece in pieces {
        let transport = conn.transport();
        transport.socket().unread.extend(piece.iter());
        transport.note_readiness(true, true, false);
        drive(&mut conn, &mut answers);
        // Jobs finish after the next piece, in reverse order.
        while let Some((seq, index)) = answers.jobs.pop() {
            conn.fill(seq, answer(index), DATE);
        }
        drive(&mut conn, &mut answers);
        let reading = matches!(conn.state(), (Life::Open, Some(phase)) if phase.reads_requests());
        if !reading {
            let before = *decoded_at_stop.get_or_insert(answers.heads.len());
            assert_eq!(
                before,
                answers.heads.len(),
                "decoded after it stopped reading"
            );
        }
    }
    // The client reads everything that is left.
    for _ in 0..100_000 {
        conn.transport().note_readiness(false, true, false);
        drive(&mut conn, &mut answers);
        if conn.transport().buffers_ref().unwritten() == 0 {
            break;
        }
    }
    Transcript {
        requests: answers.heads.len(),
        heads: answers.heads,
        output: std::mem::take(&mut conn.transport().socket().written),
    }
}

/// The answer to the request with this index: its number, so order can be
/// checked. (Not the place's sequence number: interim `100 Continue` and
/// error answers take sequence numbers too.)
fn answer(index: usize) -> Response {
    Response::format(StatusCode::OK, format_args!("r{index}"))
}

/// Checks a transcript's output against the invariants in the module doc.
fn check(transcript: &Transcript) {
    let mut rest = &transcript.output[..];
    let mut answers = 0u64;
    let mut continues = 0;
    let mut error = None;
    while !rest.is_empty() {
        assert!(error.is_none(), "output after the error response {error:?}");
        if let Some(after) = rest.strip_prefix(b"HTTP/1.1 100 Continue\r\n\r\n") {
            continues += 1;
            rest = after;
            continue;
        }
        // The next 200 answers request `answers`; a HEAD's has no body.
        let head_only = transcript.heads.get(answers as usize) == Some(&true);
        let (status, body, after) = parse_response(rest, head_only);
        if status == 200 {
            let expected = format!("r{answers}");
            let expected = if head_only { "" } else { expected.as_str() };
            assert_eq!(body, expected.as_bytes(), "out of order");
            answers += 1;
        } else {
            error = Some(status);
        }
        rest = after;
    }
    assert_eq!(
        answers as usize, transcript.requests,
        "one answer per request"
    );
    assert!(
        continues <= transcript.requests + 1,
        "too many 100 Continue"
    );
}

/// Splits one encoded response off the front of `bytes`: (status, body,
/// rest). With `head_only`, a 200's Content-Length describes a body that
/// was not sent.
fn parse_response(bytes: &[u8], head_only: bool) -> (u16, &[u8], &[u8]) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = std::str::from_utf8(&bytes[..end]).expect("ASCII head");
    let status = head[9..12].parse().expect("a status code");
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .expect("Content-Length")
        .parse()
        .expect("a length");
    let body_start = end + 4;
    let length = if head_only && status == 200 {
        0
    } else {
        length
    };
    (
        status,
        &bytes[body_start..body_start + length],
        &bytes[body_start + length..],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five pipelined requests covering each framing.
    const STREAM: &[u8] = b"GET /fast?id=1 HTTP/1.1\r\nHost: a\r\n\r\n\
        POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello\
        POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
        3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n\
        GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n\
        GET /last HTTP/1.1\r\nHost: a\r\n\r\n";

    #[test]
    fn every_split_gives_the_same_answers_as_the_whole() {
        let whole = run(&[STREAM], 7);
        check(&whole);
        assert_eq!(whole.requests, 5);
        for at in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(at);
            let split = run(&[a, b], 7);
            check(&split);
            assert_eq!(split, whole, "split at {at}");
        }
        for seed in 1..=255 {
            let pieces = split(STREAM, seed);
            assert_eq!(run(&pieces, 7), whole, "seed {seed}");
        }
    }

    #[test]
    fn nothing_is_read_or_answered_after_a_framing_error() {
        let mut input = b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n".to_vec();
        input.extend_from_slice(b"GET /b HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
        input.extend_from_slice(b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
        for seed in 0..=255 {
            let pieces = split(&input, seed);
            let transcript = run(&pieces, 3);
            check(&transcript);
            assert_eq!(transcript.requests, 1, "seed {seed}");
            let text = String::from_utf8_lossy(&transcript.output);
            assert!(text.contains("400 Bad Request"), "seed {seed}: {text}");
        }
    }

    /// Inputs the fuzzer found that broke an earlier version of this
    /// harness (not the server): a `100 Continue` taking a place number, and
    /// the body-less answer to HEAD.
    #[test]
    fn fuzz_regressions() {
        check_connection(b"*POST /expect HTTP/1.1\r\nHost: a\r\nExpe: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc\r\nGET /%ast HHost: a\r\nConnec~ion: \x9a\x9a\x9a\x9aclose\r\n\r\n*POST /expect HTost: a\r\nConnec~io");
        check_connection(b"\nHEAD / HTTP/1.1\r\nHost:\r\n\r\n");
        check_connection(b"\x05HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\nHEAD /y HTTP/1.1\r\nHost: a\r\n\r\n");
    }

    #[test]
    fn arbitrary_bytes_keep_the_invariants() {
        // A cheap stand-in for the fuzzer inside `cargo test`.
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..2_000 {
            let mut data = STREAM.to_vec();
            for _ in 0..4 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let at = (rng as usize) % data.len();
                data[at] = (rng >> 32) as u8;
            }
            check_connection(&data);
        }
    }
}
