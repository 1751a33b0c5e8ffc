//! The request decoder: a state machine that turns a byte stream into
//! requests, one at a time.
//!
//! This file owns the *stream*: where one request ends and the next begins,
//! and the limits that must hold while a request is still arriving. What a
//! head means is decided in `head.rs`; how a chunked body is read, in
//! `chunked.rs`.
//!
//! The caller (the connection) keeps a read buffer and calls
//! [`RequestDecoder::decode`] with it; the decoder says how many bytes it
//! consumed and what it found. A head is consumed only once it is complete
//! (heads are small and bounded, so the caller can hold one), while body
//! bytes are moved into the decoder as they arrive, so the caller's buffer
//! never has to hold a whole body. No sockets here: every split of a byte
//! stream is a unit test (mini-redis's `Frame::check`/`parse` idea).

use super::chunked::{is_tchar, ChunkedDecoder};
use super::head::{parse_head, BodyFraming};
pub(crate) use super::limits::Limits;
use super::refusal::Refusal;
use super::request::Request;
use super::status::StatusCode;

/// The caller's say on a head that announces a body (see
/// [`RequestDecoder::decode_with`]): the body limit, or a refusal.
pub(crate) type Admit<'a> = dyn FnMut(&Request, bool) -> Result<usize, StatusCode> + 'a;

/// What one call to [`RequestDecoder::decode`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A whole request (head and body) was decoded. Boxed, like every
    /// request on its way through the decoder: a `Request` is 160 bytes,
    /// moved from the parser to the caller and back about seven times a
    /// request, each move a `memcpy` call. A box moves as one pointer and is
    /// recycled like the buffers inside it, so it costs no allocation;
    /// boxing took a keep-alive `/fast` request from 7,310 to 6,711
    /// instructions under callgrind.
    Request(Box<Request>),
    /// The head of a request that carries `Expect: 100-continue` was decoded
    /// and none of its body has arrived yet: the caller should send
    /// `100 Continue` (ordered after earlier responses). Emitted at most once
    /// per request, before its `Request`.
    Continue,
    /// More bytes are needed.
    Incomplete,
    /// The input is not acceptable HTTP; answer with the refusal's status
    /// (its reason in the body) and close. After a Reject the decoder is
    /// poisoned: every later call returns the same Reject and consumes
    /// nothing.
    Reject(Refusal),
}

/// At most this many bytes of empty lines (four CRLFs) before a request line.
/// RFC 9112 §2.2: a server SHOULD ignore at least one empty line there (old
/// clients sent a CRLF after a POST body). A few, not any number: they are
/// not a request, and an endless stream of them is only a way to hold a
/// connection open.
const MAX_EMPTY_LINE_BYTES: usize = 8;

/// Where the decoder is between two calls. The `Body` state holds the
/// request being filled in place: boxing it would cost an allocation per
/// request with a body, and there is one decoder per connection.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum State {
    /// Waiting for a complete head. Nothing of it is consumed until it is all
    /// there, so the only thing to remember is whether part of one has been
    /// seen (for [`RequestDecoder::is_idle`]).
    Head { started: bool },
    /// The head has been accepted; its body is being read into
    /// `request.body`.
    Body {
        request: Box<Request>,
        reader: BodyReader,
    },
    /// A Reject was returned. The stream's framing can no longer be trusted,
    /// so nothing after this point may ever be decoded as a request.
    Failed(Refusal),
}

/// How the rest of a body is read.
#[derive(Debug)]
enum BodyReader {
    /// `Content-Length`: this many bytes still to come.
    Length { remaining: u64 },
    /// `Transfer-Encoding: chunked`.
    Chunked(ChunkedDecoder),
}

/// One transition: the next state, bytes consumed, and what to report.
type Step = (State, usize, Decoded);

/// Decodes the requests of one connection, in order.
#[derive(Debug)]
pub(crate) struct RequestDecoder {
    /// The bounds this connection is held to.
    limits: Limits,
    /// Where we are in the stream; see [`State`].
    state: State,
    /// A request handed back by the caller, to be filled in place by the
    /// next head (see `request.rs`): its buffers are reused, not reallocated.
    spare: Option<Box<Request>>,
}

impl RequestDecoder {
    /// A decoder at the start of a connection.
    pub(crate) fn new(limits: Limits) -> Self {
        RequestDecoder {
            limits,
            state: State::Head { started: false },
            spare: None,
        }
    }

    /// The bounds this decoder holds requests to.
    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes back a request the caller is done with, so the next one can
    /// reuse its buffers.
    pub(crate) fn recycle(&mut self, request: Box<Request>) {
        self.spare = Some(request);
    }

    /// True if a recycled request is waiting to be filled.
    pub(crate) fn has_spare(&self) -> bool {
        self.spare.is_some()
    }

    /// Gives up the spare request, if any (to lend it while the connection
    /// is idle).
    pub(crate) fn take_spare(&mut self) -> Option<Box<Request>> {
        self.spare.take()
    }

    /// Decodes from the front of `buf`. Returns how many bytes of `buf` were
    /// consumed (the caller drains them) and what was found. The caller calls
    /// again with the remaining bytes (plus any new bytes) until
    /// `Incomplete`. Body bytes may be consumed (moved into the decoder)
    /// before the request is complete, so the caller's buffer never has to
    /// hold a whole body. Pipelined requests come out one call at a time.
    ///
    /// Every body is held to `Limits::max_body`; [`decode_with`](Self::decode_with)
    /// lets the caller choose per request.
    pub(crate) fn decode(&mut self, buf: &[u8]) -> (usize, Decoded) {
        let max_body = self.limits.max_body;
        self.decode_with(buf, &mut |_, _| Ok(max_body))
    }

    /// [`decode`](Self::decode), asking `admit` about each head that
    /// announces a body, before any of it is read: `admit(request,
    /// expects_continue)` returns the body limit for that request (413
    /// beyond it), or a status to refuse it with now — what a server does
    /// when a client waits on `Expect: 100-continue` for a request it will
    /// not serve, rather than let it send a body for nothing.
    pub(crate) fn decode_with(&mut self, buf: &[u8], admit: &mut Admit<'_>) -> (usize, Decoded) {
        // Take the state out, compute the next one, put it back: every
        // transition is one match arm, and no arm can forget to set it.
        let state = std::mem::replace(&mut self.state, State::Head { started: false });
        let step = match state {
            State::Failed(refusal) => Err(refusal),
            State::Head { .. } => self.read_head(buf, admit),
            State::Body { request, reader } => read_body(request, reader, buf),
        };
        let (next, consumed, decoded) =
            step.unwrap_or_else(|refusal| (State::Failed(refusal), 0, Decoded::Reject(refusal)));
        self.state = next;
        (consumed, decoded)
    }

    /// True while the decoder is between requests and has seen no byte of
    /// the next one (empty lines aside): the connection is idle, not in the
    /// middle of a request. This lets the caller apply the idle timeout
    /// rather than the header timeout. "Seen" means passed to `decode`: the
    /// caller that has just read bytes should decode them before asking.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.state, State::Head { started: false })
    }

    /// The `Head` state: look for a complete head, accept or refuse it, then
    /// start on its body with whatever followed it in `buf`.
    fn read_head(&mut self, buf: &[u8], admit: &mut Admit<'_>) -> Result<Step, Refusal> {
        let skip = empty_lines(buf)?;
        let rest = &buf[skip..];
        let Some(head_len) = find_head_end(rest, &self.limits)? else {
            let started = !rest.is_empty();
            return Ok((State::Head { started }, 0, Decoded::Incomplete));
        };
        let recycled = self.spare.take().unwrap_or_default();
        let head = parse_head(&rest[..head_len], &self.limits, recycled)?;
        let consumed = skip + head_len;
        if head.framing == BodyFraming::None {
            let next = State::Head { started: false };
            return Ok((next, consumed, Decoded::Request(head.request)));
        }
        // The caller's refusal comes with its own answer (a 404 or 405 to
        // a client waiting on `Expect: 100-continue`, say); the reason
        // says only when it was given.
        let max_body = admit(&head.request, head.expect_continue)
            .map_err(|status| Refusal::new(status, "refused before its body was read"))?;
        let reader = match head.framing {
            // Refused at head time, before reading (or buffering) any body.
            BodyFraming::Length(n) if n > max_body as u64 => {
                return Err(Refusal::new(
                    StatusCode::CONTENT_TOO_LARGE,
                    "Content-Length over the body limit",
                ))
            }
            BodyFraming::Length(n) => BodyReader::Length { remaining: n },
            BodyFraming::Chunked | BodyFraming::None => BodyReader::Chunked(
                ChunkedDecoder::new(max_body).with_trailer_limit(self.limits.max_head),
            ),
        };
        let after_head = &buf[consumed..];
        // A client that asked for 100 Continue may be waiting for it before
        // sending the body. If some body is already here it did not wait,
        // and a 100 would be noise.
        if head.expect_continue && after_head.is_empty() {
            let next = State::Body {
                request: head.request,
                reader,
            };
            return Ok((next, consumed, Decoded::Continue));
        }
        let (next, used, decoded) = read_body(head.request, reader, after_head)?;
        Ok((next, consumed + used, decoded))
    }
}

/// The `Body` state: move what has arrived of the body into the request;
/// when it is complete, hand the request out and wait for the next head.
fn read_body(
    mut request: Box<Request>,
    mut reader: BodyReader,
    buf: &[u8],
) -> Result<Step, Refusal> {
    let (used, done) = match &mut reader {
        BodyReader::Length { remaining } => {
            // Content-Length was checked against the limit at head time.
            let n = (*remaining).min(buf.len() as u64) as usize;
            request.body.extend_from_slice(&buf[..n]);
            *remaining -= n as u64;
            (n, *remaining == 0)
        }
        BodyReader::Chunked(chunked) => chunked.decode(buf, &mut request.body)?,
    };
    Ok(if done {
        (
            State::Head { started: false },
            used,
            Decoded::Request(request),
        )
    } else {
        (State::Body { request, reader }, used, Decoded::Incomplete)
    })
}

/// How many bytes of empty lines (CRLF pairs) start `buf`; 400 beyond
/// [`MAX_EMPTY_LINE_BYTES`].
fn empty_lines(buf: &[u8]) -> Result<usize, Refusal> {
    let mut skip = 0;
    while buf[skip..].starts_with(b"\r\n") {
        skip += 2;
        if skip > MAX_EMPTY_LINE_BYTES {
            return Err(Refusal::bad("too many empty lines before the request"));
        }
    }
    Ok(skip)
}

/// Finds the end of the head at the front of `buf` (just past its empty
/// line); `None` while it has not all arrived. Checks on the way the limits
/// that must hold before the head is complete.
fn find_head_end(buf: &[u8], limits: &Limits) -> Result<Option<usize>, Refusal> {
    // The method comes first, and is a token: a byte that cannot be in one
    // before the first space is a 400 at once, not after a header timeout.
    // That is what a TLS ClientHello (0x16 ...) or other non-HTTP traffic
    // gets, before it fills a head. Checked before anything else, so the
    // answer does not depend on how the bytes were split. (A lone CR may
    // still become an empty line before the request, which is allowed.)
    let method = buf.iter().take_while(|&&b| b != b' ');
    if buf != b"\r" && method.take(limits.max_head).any(|&b| !is_tchar(b)) {
        // 0x16 is a TLS record's first byte (a handshake): `https://` to a
        // plain port, the one mistake here worth naming (RFC 8446 §5.1).
        return Err(Refusal::bad(if buf[0] == 0x16 {
            "TLS handshake on a plain HTTP port"
        } else {
            "malformed request line"
        }));
    }
    // The target is measured next, even in a request line whose end has not
    // arrived: a client streaming an endless target gets 414, the precise
    // answer, rather than the 431 that a growing head would otherwise earn.
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    if target_len(&buf[..line_end]) > limits.max_target {
        return Err(TARGET_TOO_LONG);
    }
    // Only the first max_head bytes can hold a head's end: scanning stops
    // there, so a client cannot make each call scan more.
    let window = &buf[..buf.len().min(limits.max_head)];
    for (i, &b) in window.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        // RFC 9112 §2.2 lets a recipient take a bare LF as a line end; we
        // don't. A proxy that doesn't would see different lines than we do,
        // and httparse (which does) would otherwise decide it for us.
        if i == 0 || window[i - 1] != b'\r' {
            return Err(Refusal::bad("bare LF line ending (CRLF required)"));
        }
        if window[..=i].ends_with(b"\r\n\r\n") {
            return Ok(Some(i + 1));
        }
    }
    if buf.len() < limits.max_head {
        return Ok(None);
    }
    // The head limit is reached. If the request line has not even ended,
    // it is the line that is too long, and its target is almost all of it:
    // 414 (RFC 9112 §3). Deciding by the target's length *so far* instead
    // gave 431 or 414 for the same stream depending on where the reads
    // split it (found by the decoder fuzz target).
    if window.contains(&b'\n') {
        Err(Refusal::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "header section too large",
        ))
    } else {
        Err(TARGET_TOO_LONG)
    }
}

/// 414, however the too-long target was found.
const TARGET_TOO_LONG: Refusal = Refusal::new(StatusCode::URI_TOO_LONG, "request target too long");

/// The length of the request-target in a request line that may not have
/// fully arrived: the bytes after the first space, up to the next space.
fn target_len(line: &[u8]) -> usize {
    let Some(space) = line.iter().position(|&b| b == b' ') else {
        return 0;
    };
    let rest = &line[space + 1..];
    rest.iter().position(|&b| b == b' ').unwrap_or(rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &str = "GET /fast?id=1 HTTP/1.1\r\nHost: a\r\n\r\n";

    /// Feeds `pieces` as a connection would: append each to a buffer, decode
    /// until Incomplete, drain what was consumed. Returns the requests and
    /// how many Continue events were seen.
    fn feed(decoder: &mut RequestDecoder, pieces: &[&[u8]]) -> (Vec<Request>, usize) {
        let (mut buf, mut requests, mut continues) = (Vec::new(), Vec::new(), 0);
        for piece in pieces {
            buf.extend_from_slice(piece);
            loop {
                let (used, decoded) = decoder.decode(&buf);
                buf.drain(..used);
                match decoded {
                    Decoded::Request(request) => requests.push(*request),
                    Decoded::Continue => continues += 1,
                    Decoded::Incomplete => break,
                    Decoded::Reject(refusal) => panic!("rejected with {refusal:?}"),
                }
            }
        }
        assert!(
            buf.is_empty(),
            "left over: {:?}",
            String::from_utf8_lossy(&buf)
        );
        (requests, continues)
    }

    fn decode_pieces(pieces: &[&[u8]]) -> (Vec<Request>, usize) {
        let mut decoder = RequestDecoder::new(Limits::default());
        let result = feed(&mut decoder, pieces);
        assert!(decoder.is_idle());
        result
    }

    fn first(limits: Limits, raw: &[u8]) -> (usize, Decoded) {
        RequestDecoder::new(limits).decode(raw)
    }

    fn status(limits: Limits, raw: &[u8]) -> Option<StatusCode> {
        match first(limits, raw).1 {
            Decoded::Reject(refusal) => Some(refusal.status),
            _ => None,
        }
    }

    /// Five requests of every kind, pipelined.
    const STREAM: &[u8] = b"GET /fast?id=1 HTTP/1.1\r\nHost: a\r\n\r\n\
        POST /cl HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello\
        POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
        4;ext=\"v\"\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\n\
        GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n\
        POST /expect HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc\
        \r\nGET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

    /// The final status of `stream` fed in pieces of `size` bytes.
    fn status_in_pieces(stream: &[u8], size: usize) -> Option<StatusCode> {
        let mut decoder = RequestDecoder::new(Limits::default());
        let mut buf = Vec::new();
        for piece in stream.chunks(size) {
            buf.extend_from_slice(piece);
            loop {
                let (used, decoded) = decoder.decode(&buf);
                buf.drain(..used);
                match decoded {
                    Decoded::Reject(refusal) => return Some(refusal.status),
                    Decoded::Incomplete => break,
                    _ => {}
                }
            }
        }
        None
    }

    /// The refusal (status and reason) `stream` gets, fed in pieces cut at
    /// `cuts`.
    fn refusal_in_pieces(stream: &[u8], cuts: &[usize]) -> Option<Refusal> {
        let mut decoder = RequestDecoder::new(Limits::default());
        let mut buf = Vec::new();
        let mut from = 0;
        for &to in cuts.iter().chain([&stream.len()]) {
            buf.extend_from_slice(&stream[from..to]);
            from = to;
            loop {
                let (used, decoded) = decoder.decode(&buf);
                buf.drain(..used);
                match decoded {
                    Decoded::Reject(refusal) => return Some(refusal),
                    Decoded::Incomplete => break,
                    _ => {}
                }
            }
        }
        None
    }

    /// A refusal's reason, like its status, does not depend on how the
    /// reads split the bytes: the fuzz target compares whole `Refusal`s
    /// across splits, and this pins the same for one stream of each kind,
    /// cut at every byte and fed a byte at a time.
    #[test]
    fn the_reason_does_not_depend_on_the_split() {
        let post = |fields: &str, body: &str| {
            format!("POST / HTTP/1.1\r\nHost: a\r\n{fields}\r\n{body}").into_bytes()
        };
        let streams: Vec<Vec<u8>> = vec![
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            b"asdf\r\n\r\n".to_vec(),
            b"GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n".to_vec(),
            b"\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n".to_vec(),
            vec![0x16, 0x03, 0x01, 0x00, 0xa5, 0x01],
            post("Content-Length: abc\r\n", ""),
            post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", ""),
            post("Transfer-Encoding: chunked\r\n", "3\r\nabcd\r\n0\r\n\r\n"),
            post("Transfer-Encoding: gzip\r\n", ""),
            post("Content-Length: 2000000\r\n", "abc"),
            b"GET / HTTP/2.0\r\nHost: a\r\n\r\n".to_vec(),
        ];
        for stream in &streams {
            let whole = refusal_in_pieces(stream, &[]);
            assert!(
                whole.is_some(),
                "{:?} accepted",
                String::from_utf8_lossy(stream)
            );
            let bytes: Vec<usize> = (1..stream.len()).collect();
            assert_eq!(refusal_in_pieces(stream, &bytes), whole, "byte by byte");
            for cut in 0..=stream.len() {
                assert_eq!(refusal_in_pieces(stream, &[cut]), whole, "cut at {cut}");
            }
        }
    }

    /// Found by the decoder fuzz target: an endless request line got 414
    /// when it arrived whole but 431 when it arrived byte by byte.
    #[test]
    fn an_overlong_request_line_is_414_however_it_is_split() {
        let mut stream = b"GET /".to_vec();
        stream.extend(std::iter::repeat_n(b'a', 8192));
        for size in [1, 7, 4096, stream.len()] {
            assert_eq!(
                status_in_pieces(&stream, size),
                Some(StatusCode::URI_TOO_LONG),
                "pieces of {size}"
            );
        }
        // A head whose request line ended in time is too large, not too long.
        let mut head = b"GET / HTTP/1.1\r\nX: ".to_vec();
        head.extend(std::iter::repeat_n(b'v', 9000));
        for size in [1, 4096, head.len()] {
            assert_eq!(
                status_in_pieces(&head, size),
                Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
                "pieces of {size}"
            );
        }
    }

    #[test]
    fn non_http_bytes_are_refused_before_a_head_arrives() {
        // The first bytes of a TLS ClientHello: no line end will ever come,
        // and waiting for one would cost the header timeout. Nor can a
        // method contain a control byte, a colon or a slash.
        let hello: &[u8] = &[0x16, 0x03, 0x01, 0x00, 0xa5, 0x01];
        for stream in [hello, b"GE\x00T / HTTP/1.1", b"GET/ HTTP/1.1", b"a:b"] {
            for size in [1, stream.len()] {
                assert_eq!(
                    status_in_pieces(stream, size),
                    Some(StatusCode::BAD_REQUEST),
                    "{stream:?} in pieces of {size}"
                );
            }
        }
        // A method still arriving is just incomplete.
        assert_eq!(status_in_pieces(b"GE", 1), None);
    }

    #[test]
    fn stream_decodes_to_the_expected_requests() {
        let (requests, continues) = decode_pieces(&[STREAM]);
        let summary: Vec<_> = requests
            .iter()
            .map(|r| {
                (
                    r.method.as_str(),
                    r.target.as_str(),
                    r.body.as_slice(),
                    r.keep_alive,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("GET", "/fast?id=1", &b""[..], true),
                ("POST", "/cl", b"hello", true),
                ("POST", "/chunked", b"Wikipedia", true),
                ("GET", "/old", b"", true),
                ("POST", "/expect", b"abc", true),
                ("GET", "/last", b"", false),
            ]
        );
        assert_eq!(continues, 0, "the body came with the head: no 100 needed");
    }

    #[test]
    fn every_split_gives_the_same_requests() {
        let (whole, _) = decode_pieces(&[STREAM]);
        for i in 0..=STREAM.len() {
            let (requests, continues) = decode_pieces(&[&STREAM[..i], &STREAM[i..]]);
            assert_eq!(requests, whole, "split at {i}");
            assert!(continues <= 1);
        }
        for i in (0..=STREAM.len()).step_by(5) {
            for j in (i..=STREAM.len()).step_by(7) {
                let pieces = [&STREAM[..i], &STREAM[i..j], &STREAM[j..]];
                assert_eq!(decode_pieces(&pieces).0, whole, "split at {i}, {j}");
            }
        }
        let bytes: Vec<&[u8]> = STREAM.chunks(1).collect();
        let (requests, continues) = decode_pieces(&bytes);
        assert_eq!((requests, continues), (whole, 1));
    }

    #[test]
    fn pipelined_requests_come_out_one_call_at_a_time() {
        let three = GET.repeat(3);
        let mut decoder = RequestDecoder::new(Limits::default());
        let mut rest = three.as_bytes();
        for _ in 0..3 {
            let (used, decoded) = decoder.decode(rest);
            assert!(matches!(decoded, Decoded::Request(_)));
            assert_eq!(used, GET.len());
            rest = &rest[used..];
        }
        assert_eq!(decoder.decode(rest), (0, Decoded::Incomplete));
    }

    #[test]
    fn continue_comes_once_when_the_head_arrives_alone() {
        let head =
            b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
        let mut decoder = RequestDecoder::new(Limits::default());
        assert_eq!(decoder.decode(head), (head.len(), Decoded::Continue));
        assert_eq!(decoder.decode(b""), (0, Decoded::Incomplete));
        assert!(!decoder.is_idle());
        let (used, decoded) = decoder.decode(b"abc");
        assert_eq!(used, 3);
        assert!(matches!(decoded, Decoded::Request(r) if r.body == b"abc"));
    }

    #[test]
    fn body_bytes_are_taken_before_the_request_is_complete() {
        let mut decoder = RequestDecoder::new(Limits::default());
        let head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n";
        let (used, decoded) = decoder.decode(format!("{head}0123").as_bytes());
        assert_eq!((used, decoded), (head.len() + 4, Decoded::Incomplete));
        assert_eq!(decoder.decode(b"4567"), (4, Decoded::Incomplete));
        let (used, decoded) = decoder.decode(b"89GET");
        assert_eq!(used, 2);
        assert!(matches!(decoded, Decoded::Request(r) if r.body == b"0123456789"));
    }

    #[test]
    fn idle_means_no_byte_of_a_request_seen() {
        let mut decoder = RequestDecoder::new(Limits::default());
        assert!(decoder.is_idle());
        assert_eq!(decoder.decode(b"\r\n"), (0, Decoded::Incomplete));
        assert!(decoder.is_idle(), "an empty line is not a request");
        assert_eq!(decoder.decode(b"GET / HT"), (0, Decoded::Incomplete));
        assert!(!decoder.is_idle());
        assert!(matches!(
            decoder.decode(GET.as_bytes()).1,
            Decoded::Request(_)
        ));
        assert!(decoder.is_idle());
    }

    #[test]
    fn leading_empty_lines() {
        let l = Limits::default();
        let four = format!("\r\n\r\n\r\n\r\n{GET}");
        assert_eq!(first(l, four.as_bytes()).0, four.len());
        let five = format!("\r\n{four}");
        assert_eq!(status(l, five.as_bytes()), Some(StatusCode::BAD_REQUEST));
        assert_eq!(
            status(l, b"\nGET / HTTP/1.1\r\n"),
            Some(StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn bare_lf_in_the_head_is_rejected_at_once() {
        let l = Limits::default();
        assert_eq!(
            status(l, b"GET / HTTP/1.1\nHost: a\n\n"),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            status(l, b"GET / HTTP/1.1\r\nHost: a\n"),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            status(l, b"GET / HTTP/1.1\r\nHost: a\r\n\n"),
            Some(StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn head_size_limit() {
        let l = Limits {
            max_head: 64,
            ..Limits::default()
        };
        let big =
            "GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789012345678901234567890123456789\r\n\r\n";
        let v431 = Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert_eq!(status(l, big.as_bytes()), v431); // complete but too large
        assert_eq!(status(l, &big.as_bytes()[..64]), v431); // end can no longer fit
        assert_eq!(status(l, &big.as_bytes()[..63]), None); // might still end in time
        let exact = "GET / HTTP/1.1\r\nHost: a\r\nX: 01234567890123456789012345678901\r\n\r\n";
        assert_eq!(exact.len(), 64);
        assert!(matches!(first(l, exact.as_bytes()).1, Decoded::Request(_)));
        let endless = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(9000));
        assert_eq!(status(Limits::default(), endless.as_bytes()), v431);
    }

    #[test]
    fn target_length_limit() {
        let l = Limits {
            max_target: 10,
            ..Limits::default()
        };
        let v414 = Some(StatusCode::URI_TOO_LONG);
        assert_eq!(
            status(l, b"GET /123456789 HTTP/1.1\r\nHost: a\r\n\r\n"),
            None
        );
        assert_eq!(
            status(l, b"GET /1234567890 HTTP/1.1\r\nHost: a\r\n\r\n"),
            v414
        );
        assert_eq!(status(l, b"GET /1234567890"), v414); // before the line ends
        let endless = format!("GET /{}", "a".repeat(9000)); // 414, not 431
        assert_eq!(status(Limits::default(), endless.as_bytes()), v414);
    }

    #[test]
    fn a_reject_poisons_the_decoder() {
        // CL.TE smuggling: whoever trusted Content-Length would read "0\r\n\r\n"
        // as the body and then "GET /admin" as a request of its own.
        let smuggle = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\
            Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n";
        let mut decoder = RequestDecoder::new(Limits::default());
        let both = Refusal::bad("both Content-Length and Transfer-Encoding");
        let reject = (0, Decoded::Reject(both));
        assert_eq!(decoder.decode(smuggle), reject);
        assert_eq!(decoder.decode(&smuggle[69..]), reject);
        assert_eq!(decoder.decode(GET.as_bytes()), reject);
        assert!(!decoder.is_idle());
    }

    #[test]
    fn a_bad_chunk_poisons_the_decoder_mid_body() {
        let mut decoder = RequestDecoder::new(Limits::default());
        let head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab";
        assert_eq!(decoder.decode(head), (head.len(), Decoded::Incomplete));
        let reject = (0, Decoded::Reject(Refusal::bad("malformed chunked body")));
        // Four bytes where the size said three: the rest is never a request.
        assert_eq!(
            decoder.decode(format!("cd\r\n0\r\n\r\n{GET}").as_bytes()),
            reject
        );
        assert_eq!(decoder.decode(GET.as_bytes()), reject);
    }

    #[test]
    fn chunked_body_over_the_limit() {
        let l = Limits {
            max_body: 4,
            ..Limits::default()
        };
        let raw =
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\n";
        assert_eq!(status(l, raw), Some(StatusCode::CONTENT_TOO_LARGE));
    }
}
