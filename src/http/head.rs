//! The rules for one request head: from the bytes of a complete head
//! (request line, header fields, empty line) to a [`Request`] and the way its
//! body is framed, or to the status that refuses it.
//!
//! A pure function with no state: `decode.rs` finds the head in the stream
//! (and enforces the limits that apply before it is complete); this file
//! decides whether it is acceptable. The request line is parsed here, by
//! hand; httparse tokenizes the header fields; the rules neither knows about
//! (versions, framing, Host, Expect) are here, each next to the reason for
//! it, and the target's grammar is in `target.rs`. RFC 9112 is the
//! reference throughout.
//!
//! Most of the strictness is about one attack, request smuggling: when two
//! parties on the path (a proxy and eddy, say) disagree on where a request
//! ends, an attacker can hide a second request inside the first one's body.
//! Every ambiguity in framing is therefore refused, never guessed at.

use super::chunked::is_tchar;
use super::limits::Limits;
use super::refusal::Refusal;
use super::request::{Header, Request, Version};
use super::status::StatusCode;
use super::target::{check_target, valid_host};

/// How the body after a head is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    /// No body: neither `Content-Length` nor `Transfer-Encoding` (a request
    /// without them has none, RFC 9112 §6.3 rule 7), or `Content-Length: 0`.
    None,
    /// Exactly this many bytes follow (`Content-Length`).
    Length(u64),
    /// A chunked body follows (`Transfer-Encoding: chunked`).
    Chunked,
}

/// An accepted head.
#[derive(Debug)]
pub(crate) struct Head {
    /// The request, with an empty body still to be filled. Its `keep_alive`
    /// is already false when the framing, though read without doubt here,
    /// is one an intermediary could read differently (see
    /// [`ambiguous_framing`]): the request is answered, then the connection
    /// closes.
    pub(crate) request: Box<Request>,
    /// How its body is delimited.
    pub(crate) framing: BodyFraming,
    /// HTTP/1.1 with `Expect: 100-continue` and a body: the client may wait
    /// for `100 Continue` before sending it.
    pub(crate) expect_continue: bool,
}

/// The most header fields `Limits::max_headers` can allow: httparse's slots
/// live on the stack (2 KiB for 64), so a head costs no allocation.
pub(super) const MAX_HEADER_SLOTS: usize = 128;

/// Parses one complete head (ending with its empty line) under `limits`,
/// into `request` (a recycled one: its buffers are reused).
pub(crate) fn parse_head(
    head: &[u8],
    limits: &Limits,
    mut request: Box<Request>,
) -> Result<Head, Refusal> {
    // decode.rs hands over a head that ends in CRLF CRLF and has no bare
    // LF, so the first LF ends the request line.
    let line_end = head
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(MALFORMED_LINE)?;
    let line = parse_request_line(&head[..line_end.saturating_sub(1)])?;
    // Exactly max_headers slots: one field more and httparse says
    // TooManyHeaders. The bound stops a client from making us build an
    // ever-growing header list (431, RFC 6585 §5).
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADER_SLOTS];
    let slots = &mut slots[..limits.max_headers.min(MAX_HEADER_SLOTS)];
    // httparse's header parser is already strict where it matters: it
    // rejects obs-fold (a line starting with SP/HT; RFC 9112 §5.2 lets a
    // server reject it, and folding is a classic way to hide a header from
    // one parser but not another), whitespace between a field name and its
    // colon (RFC 9112 §5.1 says MUST reject with 400, for the same reason),
    // and CTL bytes other than HTAB in values (RFC 9110 §5.5). Tests pin
    // each of these, so an httparse upgrade that relaxes one fails loudly.
    let fields = match httparse::parse_headers(&head[line_end + 1..], slots) {
        Ok(httparse::Status::Complete((_, fields))) => fields,
        // Cannot happen, decode.rs hands over a whole head; still, no panic.
        Ok(httparse::Status::Partial) => return Err(Refusal::bad("malformed header section")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Refusal::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "too many header fields",
            ))
        }
        // A space before the colon, or a line that starts with one
        // (obs-fold), is a bad name to httparse.
        Err(httparse::Error::HeaderName) => return Err(Refusal::bad("invalid header field name")),
        Err(httparse::Error::HeaderValue) => {
            return Err(Refusal::bad("invalid header field value"))
        }
        Err(_) => return Err(Refusal::bad("malformed header field line")),
    };
    request.refill(line.method, line.target, line.version, fields);
    let headers = &request.headers;
    let version = line.version;

    // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without
    // Host, and to any request with more than one (which Host would a proxy
    // and we each pick?).
    // And to one whose value is not a host[:port] (§3.2: "invalid field
    // value"): spaces, a path, userinfo, a port that is not digits.
    let host = {
        let mut hosts = values(headers, "host");
        match (hosts.next(), hosts.next()) {
            (Some(host), None) if valid_host(host) => Ok(()),
            (Some(_), None) => Err("invalid Host header"),
            (None, None) if version == Version::Http10 => Ok(()),
            (None, None) => Err("missing Host header"),
            _ => Err("more than one Host header"),
        }
    };
    host.map_err(Refusal::bad)?;

    let (framing, repeated_length) = body_framing(version, headers)?;
    let expect_continue = expectation(version, headers)? && framing != BodyFraming::None;
    request.keep_alive = keep_alive(version, headers)
        && !ambiguous_framing(&request.method, framing, repeated_length);
    Ok(Head {
        request,
        framing,
        expect_continue,
    })
}

/// The three parts of a request line.
struct RequestLine<'a> {
    method: &'a str,
    target: &'a str,
    version: Version,
}

/// `method SP request-target SP HTTP-version` (RFC 9112 §3), without its
/// CRLF. Written out rather than left to httparse, because the version
/// rules below need to see what httparse folds into one error, and the
/// target rules are RFC 3986's (`target.rs`), stricter than httparse's.
/// One space exactly between the parts: RFC 9112 §3 allows a lenient
/// parser to accept more, and a lenient parser is what a smuggler wants.
fn parse_request_line(line: &[u8]) -> Result<RequestLine<'_>, Refusal> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(MALFORMED_LINE); // two words: HTTP/0.9's `GET /`, which eddy does not speak
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(MALFORMED_LINE);
    }
    let method = std::str::from_utf8(method).map_err(|_| MALFORMED_LINE)?;
    // The version first: a request in a version eddy does not speak (the
    // HTTP/2 preface, `PRI * HTTP/2.0`, say) is 505 whatever its target.
    let version = parse_version(version)?;
    check_target(method, target)?;
    Ok(RequestLine {
        method,
        // check_target accepts ASCII only.
        target: std::str::from_utf8(target).map_err(|_| Refusal::bad("invalid request target"))?,
        version,
    })
}

/// The request line `input` begins with (past any empty lines), if it is a
/// whole line that parses: what the access log shows for a head refused
/// after its line was read (501 for an unknown transfer coding, 431). Looks
/// no further than a request line may be long.
pub(crate) fn request_line(input: &[u8]) -> Option<&str> {
    let start = input.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let input = &input[start..];
    let window = &input[..input.len().min(Limits::default().max_head)];
    let end = window.iter().position(|&b| b == b'\n')?;
    let line = input[..end].strip_suffix(b"\r")?;
    parse_request_line(line).ok()?;
    std::str::from_utf8(line).ok()
}

/// `HTTP-version = "HTTP/" DIGIT "." DIGIT` (RFC 9112 §2.3), case-sensitive.
///
/// - Anything else is malformed: 400 (`HTTP/1`, `HTTP/01.01`, `HTTP/1.10`,
///   `http/1.1`).
/// - A well-formed HTTP/1.x with x ≥ 2 is served as HTTP/1.1: RFC 9110
///   §2.5 says a server SHOULD answer with the highest minor version it
///   supports of the request's major version, and a 1.x sender promises to
///   be understood by a 1.1 recipient.
/// - A well-formed version with another major (0.9, 2.0, 3.0) is one eddy
///   does not speak: 505 (RFC 9110 §15.6.6). That includes the HTTP/2
///   connection preface, `PRI * HTTP/2.0`.
fn parse_version(version: &[u8]) -> Result<Version, Refusal> {
    match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            match (major, minor) {
                (b'1', b'0') => Ok(Version::Http10),
                (b'1', _) => Ok(Version::Http11),
                _ => Err(Refusal::new(
                    StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                    "only HTTP/1.x is served",
                )),
            }
        }
        _ => Err(Refusal::bad("malformed HTTP version")),
    }
}

/// The 400 for a request line that is not `method SP target SP version`.
const MALFORMED_LINE: Refusal = Refusal::bad("malformed request line");

/// Framing this parser reads without doubt but an intermediary in front of
/// it might read differently; the request is answered and the connection
/// then closed, so nothing after it is read as a request (`docs/limits.md`
/// lists these cases and why each is "answer, then close"):
///
/// - `Content-Length` sent twice with the same value: RFC 9110 §8.6 lets a
///   recipient accept it, but a proxy that refuses it or keeps only one
///   field line may not agree with us on what follows.
/// - A body on GET or HEAD: it has no meaning there (RFC 9110 §9.3.1, §9.3.2)
///   and some proxies do not forward it — or do not expect one and read it
///   as the next request.
fn ambiguous_framing(method: &str, framing: BodyFraming, repeated_length: bool) -> bool {
    let bodiless_method = method == "GET" || method == "HEAD";
    repeated_length || (bodiless_method && framing != BodyFraming::None)
}

/// The `Expect` field (RFC 9110 §10.1.1): whether the client asked for
/// `100 Continue`. Only `100-continue` is defined; a server MAY answer any
/// other expectation with 417, and eddy does, rather than leave a client
/// waiting for something it will never get. An HTTP/1.0 client cannot
/// understand a 1xx, so its `100-continue` MUST be ignored.
fn expectation(version: Version, headers: &[Header]) -> Result<bool, Refusal> {
    let mut continue_asked = false;
    for value in values(headers, "expect") {
        for member in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            if member.is_empty() {
                continue; // empty list elements do not count (RFC 9110 §5.6.1)
            }
            if !member.eq_ignore_ascii_case(b"100-continue") {
                return Err(Refusal::new(
                    StatusCode::EXPECTATION_FAILED,
                    "Expect other than 100-continue",
                ));
            }
            continue_asked = true;
        }
    }
    Ok(continue_asked && version == Version::Http11)
}

/// How the body is delimited: RFC 9112 §6.3, minus every case where the
/// answer would be a guess. Also says whether `Content-Length` came on more
/// than one field line (see [`ambiguous_framing`]).
fn body_framing(version: Version, headers: &[Header]) -> Result<(BodyFraming, bool), Refusal> {
    refuse_lookalike_framing_names(headers)?;
    let (content_length, repeated) = content_length(headers)?;
    if values(headers, "transfer-encoding").next().is_some() {
        // RFC 9112 §6.1: HTTP/1.0 has no Transfer-Encoding, so one in a 1.0
        // request MUST be treated as faulty framing: some parsers would
        // honour it and some not.
        if version == Version::Http10 {
            return Err(Refusal::bad("Transfer-Encoding in an HTTP/1.0 request"));
        }
        // RFC 9112 §6.3: with both, Transfer-Encoding wins, but a server MAY
        // reject instead. Both at once is the textbook smuggling request
        // (CL.TE / TE.CL): whoever reads the other one gets a different
        // body, so refuse it.
        if content_length.is_some() {
            return Err(Refusal::bad("both Content-Length and Transfer-Encoding"));
        }
        check_transfer_codings(headers)?;
        return Ok((BodyFraming::Chunked, repeated));
    }
    // Whether the length is too large is the decoder's question (the
    // limit may depend on the route).
    let framing = match content_length {
        None | Some(0) => BodyFraming::None,
        Some(n) => BodyFraming::Length(n),
    };
    Ok((framing, repeated))
}

/// 400 for a field name that is not `Content-Length` or `Transfer-Encoding`
/// but becomes one once `_` and `-` are ignored: `Content_Length`,
/// `Transfer---Encoding`, `transfer_encoding`. To eddy they are unknown
/// fields; to a proxy, a CGI gateway (`HTTP_CONTENT_LENGTH`) or a framework
/// that normalises names, they may be the real thing. Two readings of the
/// framing is exactly what request smuggling needs, and no client sends
/// these by mistake.
fn refuse_lookalike_framing_names(headers: &[Header]) -> Result<(), Refusal> {
    // The letters and digits of a name, lowercased, equal to `word`'s.
    fn spells(name: &[u8], word: &[u8]) -> bool {
        name.iter()
            .filter(|b| b.is_ascii_alphanumeric())
            .map(u8::to_ascii_lowercase)
            .eq(word.iter().copied())
    }
    for header in headers {
        let name = header.name.as_bytes();
        // Shorter names cannot spell either word (a cheap test first: this
        // runs for every field of every request).
        if name.len() < b"contentlength".len() {
            continue;
        }
        let exact = name.eq_ignore_ascii_case(b"content-length")
            || name.eq_ignore_ascii_case(b"transfer-encoding");
        if !exact && (spells(name, b"contentlength") || spells(name, b"transferencoding")) {
            return Err(Refusal::bad(
                "header name that reads as Content-Length or Transfer-Encoding",
            ));
        }
    }
    Ok(())
}

/// The `Content-Length` (RFC 9112 §6.2, RFC 9110 §8.6), if any, and whether
/// it came on more than one field line. Each field must be one number:
/// RFC 9110 §8.6 lets a recipient accept a list of equal values
/// (`1000,1000`), but nginx and others refuse it, and a length two parsers
/// might read two ways is not worth accepting. Several field lines with
/// the same number are accepted (and the connection is closed after the
/// answer, see [`ambiguous_framing`]); different numbers mean two possible
/// bodies.
fn content_length(headers: &[Header]) -> Result<(Option<u64>, bool), Refusal> {
    let mut length = None;
    let mut fields = 0;
    for value in values(headers, "content-length") {
        let n = parse_decimal(value.trim_ascii()).ok_or(Refusal::bad("invalid Content-Length"))?;
        if length.is_some_and(|seen| seen != n) {
            return Err(Refusal::bad("conflicting Content-Length values"));
        }
        length = Some(n);
        fields += 1;
    }
    Ok((length, fields > 1))
}

/// `1*DIGIT` as a `u64`: no sign, no hex, no inner spaces, not empty, no
/// overflow. Lenient number parsers (`+5`, `0x5`, `5 5`) are exactly where
/// two implementations start disagreeing about a length.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let digit = b.is_ascii_digit().then(|| u64::from(b - b'0'))?;
        n.checked_mul(10)?.checked_add(digit)
    })
}

/// Accepts exactly one framing: `chunked`, last, once, with no parameters
/// (RFC 9112 §6.1, §7). Several fields form one list, in order (RFC 9110
/// §5.3).
///
/// - `chunked` not last (`chunked, gzip`), or twice (`chunked, chunked`),
///   or with a parameter (`chunked;q=1`, which defines none): the body's
///   end cannot be known. RFC 9112 §6.3 says a server MUST answer 400 and
///   close when the final coding is not chunked.
/// - One coding eddy does not implement, alone (`gzip`), or before the
///   final `chunked` (`gzip, chunked`): 501 — a server SHOULD answer 501 to
///   a coding it does not understand (§6.1). Either way no byte after the
///   head is ever read as a body.
fn check_transfer_codings(headers: &[Header]) -> Result<(), Refusal> {
    // A coding's name, without its `;parameters`.
    fn name(coding: &[u8]) -> &[u8] {
        coding
            .split(|&b| b == b';')
            .next()
            .unwrap_or(coding)
            .trim_ascii()
    }
    let codings = || {
        values(headers, "transfer-encoding")
            .flat_map(|value| value.split(|&b| b == b','))
            .map(<[u8]>::trim_ascii)
            .filter(|coding| !coding.is_empty()) // empty list elements do not count (RFC 9110 §5.6.1)
    };
    let named_chunked = |coding: &[u8]| name(coding).eq_ignore_ascii_case(b"chunked");
    let Some(last) = codings().last() else {
        // A Transfer-Encoding with no coding at all frames nothing.
        return Err(Refusal::bad("empty Transfer-Encoding"));
    };
    let count = codings().count();
    if codings().filter(|coding| named_chunked(coding)).count() > 1 {
        return Err(Refusal::bad("chunked applied more than once"));
    }
    if !last.eq_ignore_ascii_case(b"chunked") {
        // `gzip` alone is a coding we lack; anything else means the final
        // coding is not chunked (or is chunked with parameters).
        let lacking = count == 1 && !named_chunked(last);
        return Err(if lacking {
            UNKNOWN_CODING
        } else {
            Refusal::bad("chunked is not the final transfer coding")
        });
    }
    if count > 1 {
        return Err(UNKNOWN_CODING);
    }
    Ok(())
}

/// The 501 for a transfer coding eddy does not implement (RFC 9112 §6.1).
const UNKNOWN_CODING: Refusal =
    Refusal::new(StatusCode::NOT_IMPLEMENTED, "unsupported transfer coding");

/// Persistence (RFC 9112 §9.3): `Connection` is a comma-separated list of
/// case-insensitive tokens. HTTP/1.1 persists unless `close` is listed;
/// HTTP/1.0 only if `keep-alive` is (and `close` is not).
fn keep_alive(version: Version, headers: &[Header]) -> bool {
    let (mut close, mut keep_alive) = (false, false);
    for value in values(headers, "connection") {
        for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            close |= token.eq_ignore_ascii_case(b"close");
            keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
        }
    }
    match version {
        Version::Http11 => !close,
        Version::Http10 => keep_alive && !close,
    }
}

/// The values of every field named `name` (case-insensitive), in order.
fn values<'a>(headers: &'a [Header], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_slice())
}

#[cfg(test)]
mod tests {
    use super::super::decode::{Decoded, RequestDecoder};
    use super::*;

    /// Decodes one complete request, returning the result of the first call.
    fn decode(raw: &str) -> Decoded {
        RequestDecoder::new(Limits::default())
            .decode(raw.as_bytes())
            .1
    }

    fn status(raw: &str) -> StatusCode {
        refusal(raw).status
    }

    fn refusal(raw: &str) -> Refusal {
        match decode(raw) {
            Decoded::Reject(refusal) => refusal,
            other => panic!("accepted {raw:?}: {other:?}"),
        }
    }

    fn request(raw: &str) -> Request {
        match decode(raw) {
            Decoded::Request(request) => *request,
            other => panic!("no request for {raw:?}: {other:?}"),
        }
    }

    const BAD: StatusCode = StatusCode::BAD_REQUEST;

    #[test]
    fn versions() {
        assert_eq!(request("GET / HTTP/1.0\r\n\r\n").version, Version::Http10);
        let v505 = StatusCode::HTTP_VERSION_NOT_SUPPORTED;
        assert_eq!(status("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), v505);
        assert_eq!(status("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), v505);
        assert_eq!(status("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), v505);
        // A well-formed 1.x is served as HTTP/1.1 (RFC 9110 §2.5): Host
        // required, keep-alive by default.
        let newer = request("GET / HTTP/1.2\r\nHost: a\r\n\r\n");
        assert_eq!((newer.version, newer.keep_alive), (Version::Http11, true));
        assert_eq!(status("GET / HTTP/1.9\r\n\r\n"), BAD); // no Host
                                                           // Malformed versions are 400, however close to a real one.
        for bad in [
            "HTTP/1",
            "HTTP/01.01",
            "HTTP/1.10",
            "HTTP/3",
            "HTTP/1.",
            "HTTP/a.1",
        ] {
            assert_eq!(
                status(&format!("GET / {bad}\r\nHost: a\r\n\r\n")),
                BAD,
                "{bad}"
            );
        }
        assert_eq!(status("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), v505); // the HTTP/2 preface
        assert_eq!(status("asdf\r\n\r\n"), BAD); // Tornado's HTTPServerRawTest
        assert_eq!(status("GET / http/1.1\r\nHost: a\r\n\r\n"), BAD); // HTTP-name is case-sensitive
        assert_eq!(status("GET / HTTP/1.1x\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("GET / FTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("GET /\r\n\r\n"), BAD); // HTTP/0.9
    }

    /// Each refusal names its cause: the line the answer's body, `--trace`
    /// and the access log carry (issue 20: a bare `400 Bad Request` left a
    /// newcomer guessing).
    #[test]
    fn every_refusal_names_its_reason() {
        let cases = [
            ("GET / HTTP/1.1\r\n\r\n", "missing Host header"),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                "more than one Host header",
            ),
            ("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", "invalid Host header"),
            (&post("Content-Length: abc\r\n"), "invalid Content-Length"),
            (
                &post("Content-Length: 1\r\nContent-Length: 2\r\n"),
                "conflicting Content-Length values",
            ),
            (
                &post("Content-Length: 1\r\nTransfer-Encoding: chunked\r\n"),
                "both Content-Length and Transfer-Encoding",
            ),
            (
                &post("Content_Length: 1\r\n"),
                "header name that reads as Content-Length or Transfer-Encoding",
            ),
            (
                &post("Transfer-Encoding: chunked, gzip\r\n"),
                "chunked is not the final transfer coding",
            ),
            (
                &post("Transfer-Encoding: chunked, chunked\r\n"),
                "chunked applied more than once",
            ),
            (
                &post("Transfer-Encoding: gzip\r\n"),
                "unsupported transfer coding",
            ),
            (
                &post("Expect: teapot\r\n"),
                "Expect other than 100-continue",
            ),
            (
                "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                "Transfer-Encoding in an HTTP/1.0 request",
            ),
            ("asdf\r\n\r\n", "malformed request line"),
            ("GET /\r\n\r\n", "malformed request line"),
            (
                "GET / HTTP/1.1x\r\nHost: a\r\n\r\n",
                "malformed HTTP version",
            ),
            (
                "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
                "only HTTP/1.x is served",
            ),
            (
                "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n",
                "invalid request target",
            ),
            (
                "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
                "`*` target on a method other than OPTIONS",
            ),
            (
                "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n",
                "userinfo in the request target",
            ),
            (
                "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
                "invalid header field name",
            ),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n",
                "invalid header field name",
            ),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n",
                "invalid header field value",
            ),
        ];
        for (raw, reason) in cases {
            assert_eq!(refusal(raw).reason, reason, "{raw:?}");
        }
    }

    #[test]
    fn malformed_request_lines() {
        assert_eq!(status("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"), BAD); // method not a token
        assert_eq!(status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), BAD); // double space
        assert_eq!(status(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), BAD);
    }

    #[test]
    fn target_forms() {
        // The grammar itself is tested in target.rs; here, that the head
        // applies it.
        assert_eq!(request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").target, "*");
        assert_eq!(status("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        let absolute = request("GET http://a:8888/fast?id=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(
            (absolute.target.as_str(), absolute.path()),
            ("http://a:8888/fast?id=1", "/fast")
        );
        assert_eq!(
            status("GET http://user@a/ HTTP/1.1\r\nHost: a\r\n\r\n"),
            BAD
        );
        assert_eq!(status("GET example.com/ HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("GET /caf\u{e9} HTTP/1.1\r\nHost: a\r\n\r\n"), BAD); // raw non-ASCII
        assert_eq!(status("GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(
            status("GET /fast\\x?id=p1 HTTP/1.1\r\nHost: a\r\n\r\n"),
            BAD
        );
        assert_eq!(status("GET /?id=<x> HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
    }

    #[test]
    fn header_syntax() {
        assert_eq!(
            status("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n"),
            BAD
        ); // obs-fold
        assert_eq!(
            status("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\tfolded\r\n\r\n"),
            BAD
        );
        assert_eq!(status("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), BAD); // space before first field
        assert_eq!(status("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), BAD); // space before colon
        assert_eq!(status("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), BAD);
        assert_eq!(
            status("GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n"),
            BAD
        ); // NUL
        assert_eq!(
            status("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n"),
            BAD
        ); // CTL
        assert_eq!(
            status("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n"),
            BAD
        ); // DEL
        assert_eq!(status("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), BAD); // bare CR
        assert_eq!(status("GET / HTTP/1.1\r\nHost: a\r\nX\r\n\r\n"), BAD); // no colon
        assert_eq!(status("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n"), BAD); // empty name
        let r = request("GET / HTTP/1.1\r\nHost: a\r\nX:  a\tb  \r\nY:\r\n\r\n"); // HTAB is fine
        assert_eq!(
            (r.header("x"), r.header("y")),
            (Some(&b"a\tb"[..]), Some(&b""[..]))
        );
    }

    #[test]
    fn host_rules() {
        assert_eq!(status("GET / HTTP/1.1\r\n\r\n"), BAD);
        assert_eq!(status("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), BAD);
        assert_eq!(status("GET / HTTP/1.0\r\nHost: a\r\nHOST: a\r\n\r\n"), BAD);
        assert!(request("GET / HTTP/1.0\r\n\r\n").headers.is_empty()); // 1.0 needs none
                                                                       // The value's syntax is target.rs's `valid_host`; an empty one is
                                                                       // allowed (RFC 9112 §3.2).
        assert_eq!(request("GET / HTTP/1.1\r\nHost:\r\n\r\n").method, "GET");
        assert_eq!(
            request("GET / HTTP/1.1\r\nHost: [::1]:8\r\n\r\n").method,
            "GET"
        );
        assert_eq!(status("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), BAD);
    }

    #[test]
    fn too_many_headers() {
        let fields = |n: usize| (0..n).map(|i| format!("X-{i}: v\r\n")).collect::<String>();
        let ok = format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", fields(63));
        assert_eq!(request(&ok).headers.len(), 64);
        let over = format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", fields(64));
        assert_eq!(status(&over), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }

    fn post(headers: &str) -> String {
        format!("POST / HTTP/1.1\r\nHost: a\r\n{headers}\r\n")
    }

    #[test]
    fn content_length_rules() {
        assert_eq!(
            request(&(post("Content-Length: 3\r\n") + "abc")).body,
            b"abc"
        );
        assert_eq!(
            request(&(post("Content-Length: 003\r\n") + "abc")).body,
            b"abc"
        );
        // The same length on two field lines is accepted, but the answer
        // closes the connection (see `ambiguous_framing`).
        let twice = request(&(post("Content-Length: 3\r\ncontent-length: 3\r\n") + "abc"));
        assert_eq!(
            (twice.body.as_slice(), twice.keep_alive),
            (&b"abc"[..], false)
        );
        assert!(request(&(post("Content-Length: 3\r\n") + "abc")).keep_alive);
        for bad in [
            "3 , 3",
            "1000,1000",
            "",
            "abc",
            "+3",
            "-3",
            "0x3",
            "3 3",
            "3,",
            "3, 4",
            "3.0",
            "18446744073709551616",
        ] {
            assert_eq!(
                status(&post(&format!("Content-Length: {bad}\r\n"))),
                BAD,
                "{bad:?}"
            );
        }
        assert_eq!(
            status(&post("Content-Length: 3\r\nContent-Length: 4\r\n")),
            BAD
        );
        let too_big = post(&format!("Content-Length: {}\r\n", (1 << 20) + 1));
        assert_eq!(status(&too_big), StatusCode::CONTENT_TOO_LARGE); // nothing of the body sent
        assert!(request(&post("Content-Length: 0\r\n")).body.is_empty());
        assert!(request(&post("")).body.is_empty()); // neither CL nor TE: no body
    }

    #[test]
    fn transfer_encoding_rules() {
        let chunked =
            |te: &str| post(&format!("Transfer-Encoding: {te}\r\n")) + "1\r\nx\r\n0\r\n\r\n";
        assert_eq!(request(&chunked("chunked")).body, b"x");
        assert_eq!(request(&chunked("  ChunKed ")).body, b"x");
        assert_eq!(request(&chunked(", chunked")).body, b"x");
        let v501 = StatusCode::NOT_IMPLEMENTED;
        // A coding eddy lacks, alone or before the final chunked: 501.
        for te in ["gzip", "gzip, chunked", "x-custom;p=1"] {
            assert_eq!(status(&chunked(te)), v501, "{te:?}");
        }
        // chunked not last, twice, or with a parameter: the body's end is
        // unknown, 400 (RFC 9112 §6.3: MUST).
        for te in [
            "chunked, gzip",
            "chunked, chunked",
            "chunked;q=1",
            "gzip, deflate",
            "gzip, chunked;x=y",
        ] {
            assert_eq!(status(&chunked(te)), BAD, "{te:?}");
        }
        let two = post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n");
        assert_eq!(status(&two), BAD);
        let split = post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n");
        assert_eq!(status(&split), v501, "one list across two fields");
        assert_eq!(status(&chunked("")), BAD);
        assert_eq!(
            status(&post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n")),
            BAD
        );
        assert_eq!(
            status(&post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n")),
            BAD
        );
        let http10 = "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        assert_eq!(status(http10), BAD);
    }

    #[test]
    fn names_that_normalise_to_framing_fields_are_400() {
        for name in [
            "Transfer_Encoding",
            "Content_Length",
            "Transfer---Encoding",
            "Transfer___Encoding",
            "content__length",
            "TRANSFER-ENCODING-",
        ] {
            let raw = post(&format!("{name}: 5\r\n"));
            assert_eq!(status(&raw), BAD, "{name}");
        }
        // Names that merely contain the words are just unknown fields.
        for name in ["X-Content-Length", "Content-Length-Hint", "Transfer"] {
            let raw = post(&format!("{name}: 5\r\n"));
            assert!(request(&raw).body.is_empty(), "{name}");
        }
    }

    #[test]
    fn a_body_on_get_or_head_is_read_then_the_connection_closes() {
        for (method, framing) in [
            ("GET", "Content-Length: 5\r\n\r\nhello"),
            ("HEAD", "Content-Length: 5\r\n\r\nhello"),
            (
                "GET",
                "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            ),
        ] {
            let r = request(&format!("{method} / HTTP/1.1\r\nHost: a\r\n{framing}"));
            assert_eq!(
                (r.body.as_slice(), r.keep_alive),
                (&b"hello"[..], false),
                "{method} {framing:?}"
            );
        }
        // An empty body, said explicitly, is no body at all.
        assert!(request("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").keep_alive);
        // Other methods may carry one.
        assert!(request(&(post("Content-Length: 1\r\n") + "x")).keep_alive);
    }

    #[test]
    fn keep_alive_rules() {
        let keep = |raw: &str| request(raw).keep_alive;
        assert!(keep("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(!keep(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        ));
        assert!(!keep(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n"
        ));
        assert!(keep(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n"
        ));
        assert!(!keep("GET / HTTP/1.0\r\n\r\n"));
        assert!(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        assert!(keep(
            "GET / HTTP/1.0\r\nConnection: foo ,Keep-Alive\r\n\r\n"
        ));
    }

    #[test]
    fn expect_rules() {
        let head =
            |raw: &str| parse_head(raw.as_bytes(), &Limits::default(), Box::default()).unwrap();
        assert!(head(&post("Expect: 100-Continue\r\nContent-Length: 1\r\n")).expect_continue);
        assert!(
            head(&post(
                "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n"
            ))
            .expect_continue
        );
        assert!(!head(&post("Expect: 100-continue\r\nContent-Length: 0\r\n")).expect_continue);
        let http10 = "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n";
        assert!(!head(http10).expect_continue);
        assert!(!head(&post("Expect:\r\nContent-Length: 1\r\n")).expect_continue);
        // Any other expectation is one eddy cannot meet: 417 (RFC 9110 §10.1.1).
        let v417 = StatusCode::EXPECTATION_FAILED;
        for other in ["something-else", "100-continue, foo", "100-continue=1"] {
            let raw = post(&format!("Expect: {other}\r\nContent-Length: 1\r\n")) + "x";
            assert_eq!(status(&raw), v417, "{other}");
        }
        assert_eq!(status("GET / HTTP/1.0\r\nExpect: foo\r\n\r\n"), v417);
    }
}
