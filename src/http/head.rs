//! The rules for one request head: from the bytes of a complete head
//! (request line, header fields, empty line) to a [`Request`] and the way its
//! body is framed, or to the status that refuses it.
//!
//! A pure function with no state: `decode.rs` finds the head in the stream
//! (and enforces the limits that apply before it is complete); this file
//! decides whether it is acceptable. httparse does the tokenizing; the rules
//! it does not know about (framing, Host, versions it cannot name) are here,
//! each next to the reason for it. RFC 9112 is the reference throughout.
//!
//! Most of the strictness is about one attack, request smuggling: when two
//! parties on the path (a proxy and eddy, say) disagree on where a request
//! ends, an attacker can hide a second request inside the first one's body.
//! Every ambiguity in framing is therefore refused, never guessed at.

use super::decode::Limits;
use super::request::{absolute_form_path_start, Header, Request, Version};
use super::response::StatusCode;

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
    /// The request, with an empty body still to be filled.
    pub request: Request,
    /// How its body is delimited.
    pub framing: BodyFraming,
    /// HTTP/1.1 with `Expect: 100-continue` and a body: the client may wait
    /// for `100 Continue` before sending it.
    pub expect_continue: bool,
}

/// The most header fields `Limits::max_headers` can allow: httparse's slots
/// live on the stack (2 KiB for 64), so a head costs no allocation.
pub const MAX_HEADER_SLOTS: usize = 128;

/// Parses one complete head (ending with its empty line) under `limits`,
/// into `request` (a recycled one: its buffers are reused).
pub(crate) fn parse_head(
    head: &[u8],
    limits: &Limits,
    mut request: Request,
) -> Result<Head, StatusCode> {
    const BAD: StatusCode = StatusCode::BAD_REQUEST;
    // Exactly max_headers slots: one field more and httparse says
    // TooManyHeaders. The bound stops a client from making us build an
    // ever-growing header list (431, RFC 6585 §5).
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADER_SLOTS];
    let mut parsed = httparse::Request::new(&mut slots[..limits.max_headers.min(MAX_HEADER_SLOTS)]);
    // httparse's default request config is already strict where it matters:
    // it rejects obs-fold (a line starting with SP/HT; RFC 9112 §5.2 lets a
    // server reject it, and folding is a classic way to hide a header from
    // one parser but not another), whitespace between a field name and its
    // colon (RFC 9112 §5.1 says MUST reject with 400, for the same reason),
    // and CTL bytes other than HTAB in values (RFC 9110 §5.5). Tests pin
    // each of these, so an httparse upgrade that relaxes one fails loudly.
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        // Cannot happen, decode.rs hands over a whole head; still, no panic.
        Ok(httparse::Status::Partial) => return Err(BAD),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        }
        Err(httparse::Error::Version) => return Err(version_error(head)),
        Err(_) => return Err(BAD),
    }
    let (Some(method), Some(target), Some(minor)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(BAD);
    };
    let version = if minor == 0 {
        Version::Http10
    } else {
        Version::Http11
    };
    check_target(method, target)?;
    request.refill(method, target, version, parsed.headers);
    let headers = &request.headers;

    // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without
    // Host, and to any request with more than one (which Host would a proxy
    // and we each pick?).
    // And to one whose value is not a host[:port] (§3.2: "invalid field
    // value"): spaces, a path, userinfo, a port that is not digits.
    let host_ok = {
        let mut hosts = values(headers, "host");
        match (hosts.next(), hosts.next()) {
            (Some(host), None) => valid_host(host),
            (None, None) => version == Version::Http10,
            _ => false,
        }
    };
    if !host_ok {
        return Err(BAD);
    }

    let framing = body_framing(version, headers, limits)?;
    // RFC 9110 §10.1.1: only 100-continue is defined, and an HTTP/1.0 client
    // cannot understand a 1xx, so its expectation MUST be ignored. Other
    // Expect values are ignored too (417 is only a MAY): the body then simply
    // arrives after the client's own wait.
    let expect_continue = version == Version::Http11
        && framing != BodyFraming::None
        && values(headers, "expect").any(|v| v.eq_ignore_ascii_case(b"100-continue"));
    request.keep_alive = keep_alive(version, headers);
    Ok(Head {
        request,
        framing,
        expect_continue,
    })
}

/// httparse reports every version but `HTTP/1.0` and `HTTP/1.1` as one
/// error. The third word of the request line tells the two cases apart:
/// `HTTP/` and a digit is HTTP we do not speak (505, RFC 9110 §15.6.6);
/// anything else is not HTTP at all (400).
fn version_error(head: &[u8]) -> StatusCode {
    let line = head.split(|&b| b == b'\r').next().unwrap_or(head);
    let version = line.splitn(3, |&b| b == b' ').nth(2).unwrap_or(b"");
    match version.strip_prefix(b"HTTP/") {
        Some([digit, ..]) if digit.is_ascii_digit() => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The request-target forms a server accepts (RFC 9112 §3.2): origin-form
/// (`/path?query`), asterisk-form (`*`, only for OPTIONS) and absolute-form
/// (`http://host/path`, which servers MUST accept, §3.2.2). Authority-form
/// is for CONNECT through a proxy, which eddy is not.
fn check_target(method: &str, target: &str) -> Result<(), StatusCode> {
    // httparse lets raw bytes >= 0x80 through; a URI is ASCII (RFC 3986 §2,
    // anything else is percent-encoded), so such a target is malformed.
    // A `#fragment` is for the client alone and is never sent (RFC 9112
    // §3.2's forms have none).
    let ascii = target.bytes().all(|b| b.is_ascii_graphic() && b != b'#');
    let form_ok = target.starts_with('/')
        || (target == "*" && method == "OPTIONS")
        || absolute_form_path_start(target).is_some();
    if ascii && form_ok {
        Ok(())
    } else {
        Err(StatusCode::BAD_REQUEST)
    }
}

/// Whether a Host value is `uri-host [ ":" port ]` (RFC 9110 §7.2, RFC
/// 3986 §3.2.2): a bracketed IP literal or a reg-name (which covers IPv4
/// too), then an optional all-digit port. An empty value is allowed: a
/// client sends one when the target has no authority (RFC 9112 §3.2).
fn valid_host(value: &[u8]) -> bool {
    // unreserved, pct-encoded and sub-delims; the `%` is let through without
    // checking its two hex digits, since the value is never decoded.
    fn reg_name_byte(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b)
    }
    let value = value.trim_ascii();
    let (host_ok, port) = match value.strip_prefix(b"[") {
        // `[` IP-literal `]`: hex digits, dots and colons (or IPvFuture).
        Some(literal) => {
            let Some(end) = literal.iter().position(|&b| b == b']') else {
                return false;
            };
            let inside = &literal[..end];
            let port = match &literal[end + 1..] {
                [] => &b""[..],
                [b':', port @ ..] => port,
                _ => return false,
            };
            let ok = !inside.is_empty() && inside.iter().all(|&b| reg_name_byte(b) || b == b':');
            (ok, port)
        }
        // A reg-name or IPv4 address: everything up to the first colon.
        None => {
            let colon = value.iter().position(|&b| b == b':');
            let (host, port) = match colon {
                Some(colon) => (&value[..colon], &value[colon + 1..]),
                None => (value, &b""[..]),
            };
            (host.iter().all(|&b| reg_name_byte(b)), port)
        }
    };
    host_ok && port.iter().all(u8::is_ascii_digit)
}

/// How the body is delimited: RFC 9112 §6.3, minus every case where the
/// answer would be a guess.
fn body_framing(
    version: Version,
    headers: &[Header],
    limits: &Limits,
) -> Result<BodyFraming, StatusCode> {
    let content_length = content_length(headers)?;
    if values(headers, "transfer-encoding").next().is_some() {
        // RFC 9112 §6.1: HTTP/1.0 has no Transfer-Encoding, so one in a 1.0
        // request MUST be treated as faulty framing: some parsers would
        // honour it and some not.
        if version == Version::Http10 {
            return Err(StatusCode::BAD_REQUEST);
        }
        // RFC 9112 §6.3: with both, Transfer-Encoding wins, but a server MAY
        // reject instead. Both at once is the textbook smuggling request
        // (CL.TE / TE.CL): whoever reads the other one gets a different
        // body, so refuse it.
        if content_length.is_some() {
            return Err(StatusCode::BAD_REQUEST);
        }
        check_transfer_codings(headers)?;
        return Ok(BodyFraming::Chunked);
    }
    match content_length {
        None | Some(0) => Ok(BodyFraming::None),
        // Refuse at head time, before reading (or buffering) any body.
        Some(n) if n > limits.max_body as u64 => Err(StatusCode::CONTENT_TOO_LARGE),
        Some(n) => Ok(BodyFraming::Length(n)),
    }
}

/// The `Content-Length`, if any (RFC 9112 §6.2, RFC 9110 §8.6). Several
/// fields, or a comma list in one, are accepted only when every value is the
/// same number; two different lengths mean two possible bodies.
fn content_length(headers: &[Header]) -> Result<Option<u64>, StatusCode> {
    let mut length = None;
    for value in values(headers, "content-length") {
        for element in value.split(|&b| b == b',') {
            let n = parse_decimal(element.trim_ascii()).ok_or(StatusCode::BAD_REQUEST)?;
            if length.is_some_and(|seen| seen != n) {
                return Err(StatusCode::BAD_REQUEST);
            }
            length = Some(n);
        }
    }
    Ok(length)
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

/// Accepts exactly one coding, `chunked` (RFC 9112 §6.1, §7). eddy
/// implements no other coding, and a server SHOULD answer 501 to one it does
/// not understand; that covers `gzip, chunked`. `chunked, gzip` (chunked not
/// final) and `chunked, chunked` (applied twice, which a sender MUST NOT do)
/// also get 501 here; RFC 9112 §6.3 would also allow 400 for the first. What
/// matters is that none of them is ever read as a body.
fn check_transfer_codings(headers: &[Header]) -> Result<(), StatusCode> {
    let mut chunked = false;
    for value in values(headers, "transfer-encoding") {
        // Several fields form one list, in order (RFC 9110 §5.3).
        for coding in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            if coding.is_empty() {
                continue; // empty list elements do not count (RFC 9110 §5.6.1)
            }
            if chunked || !coding.eq_ignore_ascii_case(b"chunked") {
                return Err(StatusCode::NOT_IMPLEMENTED);
            }
            chunked = true;
        }
    }
    // A Transfer-Encoding with no coding at all frames nothing: malformed.
    if chunked {
        Ok(())
    } else {
        Err(StatusCode::BAD_REQUEST)
    }
}

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
        match decode(raw) {
            Decoded::Reject(status) => status,
            other => panic!("accepted {raw:?}: {other:?}"),
        }
    }

    fn request(raw: &str) -> Request {
        match decode(raw) {
            Decoded::Request(request) => request,
            other => panic!("no request for {raw:?}: {other:?}"),
        }
    }

    const BAD: StatusCode = StatusCode::BAD_REQUEST;

    #[test]
    fn versions() {
        assert_eq!(request("GET / HTTP/1.0\r\n\r\n").version, Version::Http10);
        let v505 = StatusCode::HTTP_VERSION_NOT_SUPPORTED;
        assert_eq!(status("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), v505);
        assert_eq!(status("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), v505);
        assert_eq!(status("GET / HTTP/3\r\nHost: a\r\n\r\n"), v505);
        assert_eq!(status("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), v505); // the HTTP/2 preface
        assert_eq!(status("asdf\r\n\r\n"), BAD); // Tornado's HTTPServerRawTest
        assert_eq!(status("GET / http/1.1\r\nHost: a\r\n\r\n"), BAD); // HTTP-name is case-sensitive
        assert_eq!(status("GET / HTTP/1.1x\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("GET / FTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("GET /\r\n\r\n"), BAD); // HTTP/0.9
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
        assert_eq!(request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").target, "*");
        assert_eq!(status("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        let absolute = request("GET http://a:8888/fast?id=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(
            (absolute.target.as_str(), absolute.path()),
            ("http://a:8888/fast?id=1", "/fast")
        );
        assert_eq!(status("GET example.com/ HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
        assert_eq!(status("GET /caf\u{e9} HTTP/1.1\r\nHost: a\r\n\r\n"), BAD); // raw non-ASCII
        assert_eq!(status("GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n"), BAD);
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
        for good in [
            "a",
            "a:80",
            "a:",
            "127.0.0.1:8888",
            "[::1]:8888",
            "[::1]",
            "xn--e-8ja.example",
            "",
        ] {
            let raw = format!("GET / HTTP/1.1\r\nHost: {good}\r\n\r\n");
            assert_eq!(request(&raw).method, "GET", "Host: {good}");
        }
        for bad in [
            "a b", "a/b", "u@a", "a:80x", "a:80:81", "[::1", "[::1]x", "[]", "a?b",
        ] {
            let raw = format!("GET / HTTP/1.1\r\nHost: {bad}\r\n\r\n");
            assert_eq!(status(&raw), BAD, "Host: {bad}");
        }
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
        assert_eq!(
            request(&(post("Content-Length: 3\r\ncontent-length: 3\r\n") + "abc")).body,
            b"abc"
        );
        assert_eq!(
            request(&(post("Content-Length: 3 , 3\r\n") + "abc")).body,
            b"abc"
        );
        for bad in [
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
        for te in [
            "gzip",
            "gzip, chunked",
            "chunked, gzip",
            "chunked, chunked",
            "chunked;q=1",
        ] {
            assert_eq!(status(&chunked(te)), v501, "{te:?}");
        }
        let two = post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n");
        assert_eq!(status(&two), v501);
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
            |raw: &str| parse_head(raw.as_bytes(), &Limits::default(), Request::default()).unwrap();
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
        // Other expectations are ignored, not refused with 417.
        let other = post("Expect: something-else\r\nContent-Length: 1\r\n") + "x";
        assert_eq!(request(&other).body, b"x");
    }
}
