//! Responses: the `Response` value handlers build, and the encoder that
//! turns one into bytes.
//!
//! This file owns the *outgoing* wire format. Keeping it separate from the
//! decoder means the connection can encode many responses into one buffer and
//! write once (may_minihttp's "parse everything, write once"), and that every
//! byte a client sees can be asserted in a unit test without a socket.
//!
//! A response is a status, a body, and the fields a handler chose; the
//! encoder adds the fields the server owns (`Date`, `Content-Length`,
//! `Connection`). Names and values are `Cow<'static, str>`: a handler's
//! usual `"Cache-Control"` costs no allocation, a computed value may be a
//! `String`. Setting a field that is there already replaces it, and the
//! defaults (`Server`, a text `Content-Type`) are flags, not fields, so the
//! common response has an empty field list and allocates nothing.

use std::borrow::Cow;

use super::body::Body;
use super::refusal::Refusal;
use super::status::StatusCode;
use crate::stream::{self, BodySender};

/// `Server: eddy/<version>`, unless a handler replaces or removes it.
const SERVER: &str = concat!("eddy/", env!("CARGO_PKG_VERSION"));

/// The default `Server` field as it goes out, whole: the common response
/// writes it with one copy (see [`encode_response`]).
const SERVER_LINE: &[u8] = concat!("Server: eddy/", env!("CARGO_PKG_VERSION"), "\r\n").as_bytes();

/// The fields the server writes itself, from the response's length and the
/// connection's state; a handler setting one is ignored (they would
/// contradict what the server sends).
const SERVER_OWNED: [&str; 4] = ["content-length", "transfer-encoding", "connection", "date"];

/// A field name or value: static text, or text made at run time.
pub(crate) type Text = Cow<'static, str>;

/// The `Content-Type` of [`Response::text`].
const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// The default `Content-Type` field as it goes out, whole.
const TEXT_PLAIN_LINE: &[u8] = b"Content-Type: text/plain; charset=utf-8\r\n";

/// A response as a handler builds it: a status, fields and a [`Body`].
///
/// The server encodes it (`encode_response`), adding the fields it owns
/// (`Date`, `Content-Length`, `Connection`).
///
/// ```
/// use eddy::{Response, StatusCode};
///
/// let created = Response::text(StatusCode::CREATED, "made")
///     .with_header("Location", "/items/7")
///     .without_header("Server");
/// assert_eq!(created.status, StatusCode::CREATED);
/// assert_eq!(created.header("content-type"), Some("text/plain; charset=utf-8"));
/// assert_eq!(created.header("Server"), None);
/// assert_eq!(created.body.as_bytes(), b"made");
///
/// // The server's own pages: "404 Not Found\n".
/// assert_eq!(Response::error(StatusCode::NOT_FOUND).body.as_bytes(), b"404 Not Found\n");
/// ```
///
/// Kept small (it is returned by value once per request, and a body of up
/// to 64 bytes lives inside it): `Server` and a text `Content-Type` are two
/// flags until a handler sets something else, which then lives among the
/// fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status line's code.
    pub status: StatusCode,
    /// Send `Server: eddy/<version>` (unless `fields` holds a `Server`).
    default_server: bool,
    /// Send `Content-Type: text/plain; charset=utf-8` (unless `fields`
    /// holds a `Content-Type`).
    text_plain: bool,
    /// Every field a handler set, in the order set.
    fields: Vec<(Text, Text)>,
    /// The body; its length becomes `Content-Length`.
    pub body: Body,
}

impl Response {
    /// A response with no body and no `Content-Type`.
    pub fn new(status: StatusCode) -> Response {
        Response {
            status,
            default_server: true,
            text_plain: false,
            fields: Vec::new(),
            body: Body::empty(),
        }
    }

    /// A `text/plain; charset=utf-8` response.
    pub fn text(status: StatusCode, body: impl Into<Body>) -> Response {
        let mut response = Response::new(status).with_body(body);
        response.text_plain = true;
        response
    }

    /// A `text/plain` response whose body is formatted in place, without
    /// allocating when it is short: `Response::format(StatusCode::OK,
    /// format_args!("fast result {id}"))`.
    pub fn format(status: StatusCode, args: std::fmt::Arguments<'_>) -> Response {
        Response::text(status, Body::format(args))
    }

    /// A plain-text error response whose body is `"<code> <reason>\n"`.
    pub fn error(status: StatusCode) -> Response {
        Response::format(status, format_args!("{} {}\n", status.0, status.reason()))
    }

    /// The answer to bytes the decoder refused: a plain-text body
    /// `"<code> <reason>: <why>\n"` (`400 Bad Request: missing Host
    /// header`), so whoever sent them learns which rule they broke.
    pub(crate) fn refusal(refusal: Refusal) -> Response {
        let status = refusal.status;
        let (code, phrase, why) = (status.0, status.reason(), refusal.reason);
        Response::format(status, format_args!("{code} {phrase}: {why}\n"))
    }

    /// Sets the body (builder style).
    pub fn with_body(mut self, body: impl Into<Body>) -> Response {
        self.body = body.into();
        self
    }

    /// Makes the body a stream of `length` bytes (`None`: not known up
    /// front), fed through the returned sender from any thread — a job's
    /// worker, a thread of the host program. See `stream.rs`.
    ///
    /// With a length it goes out with `Content-Length`; without, chunked
    /// to an HTTP/1.1 client, and to an HTTP/1.0 one as the bytes up to
    /// the connection's close.
    pub fn streamed(self, length: Option<u64>) -> (Response, BodySender) {
        let (sender, body) = stream::pipe(length);
        (self.with_body(Body::streamed(body)), sender)
    }

    /// Sets `Content-Type`, replacing any.
    pub fn with_content_type(self, value: impl Into<Cow<'static, str>>) -> Response {
        self.with_header("Content-Type", value)
    }

    /// Sets the field `name` to `value`, replacing any field of that name
    /// (names compare case-insensitively); `Content-Type` and `Server` are
    /// fields like the others here. `Content-Length`, `Transfer-Encoding`,
    /// `Connection` and `Date` are the server's and are ignored.
    pub fn with_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) -> Response {
        let name = name.into();
        if is_server_owned(&name) {
            return self;
        }
        self.forget_default(&name);
        let value = value.into();
        match self
            .fields
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(field) => field.1 = value,
            None => self.fields.push((name, value)),
        }
        self
    }

    /// Adds a field `name: value` even if one of that name is there (for
    /// fields that may repeat, such as `Set-Cookie`).
    pub fn append_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) -> Response {
        let name = name.into();
        if !is_server_owned(&name) {
            self.forget_default(&name);
            self.fields.push((name, value.into()));
        }
        self
    }

    /// Removes every field named `name` (`Server` and `Content-Type`
    /// included).
    pub fn without_header(mut self, name: &str) -> Response {
        self.forget_default(name);
        self.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// The value of the first field named `name` (`Content-Type` and
    /// `Server` included).
    pub fn header(&self, name: &str) -> Option<&str> {
        match self.field(name) {
            Some(value) => Some(value),
            None if self.default_server && name.eq_ignore_ascii_case("server") => Some(SERVER),
            None if self.text_plain && name.eq_ignore_ascii_case("content-type") => {
                Some(TEXT_PLAIN)
            }
            None => None,
        }
    }

    /// The first field a handler set named `name` (no defaults).
    fn field(&self, name: &str) -> Option<&str> {
        let (_, value) = self
            .fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        Some(value)
    }

    /// A handler set (or removed) `name`: its default, if it has one, goes.
    /// So a default flag still set means no field of that name is present,
    /// which lets the encoder write the default without looking.
    fn forget_default(&mut self, name: &str) {
        if name.eq_ignore_ascii_case("server") {
            self.default_server = false;
        } else if name.eq_ignore_ascii_case("content-type") {
            self.text_plain = false;
        }
    }
}

fn is_server_owned(name: &str) -> bool {
    SERVER_OWNED
        .iter()
        .any(|owned| name.eq_ignore_ascii_case(owned))
}

/// What the connection knows about how this response goes out, beyond the
/// response itself.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ResponseMeta {
    /// The request was HEAD: send `Content-Length` as if the body were sent
    /// (RFC 9110 §9.3.2), but no body bytes.
    pub(crate) head_only: bool,
    /// The server closes the connection after this response: say so with
    /// `Connection: close` (RFC 9112 §9.6), so the client does not pipeline
    /// more requests into a socket about to close.
    pub(crate) close: bool,
    /// The request was HTTP/1.0 with `Connection: keep-alive`: confirm with
    /// `Connection: keep-alive`, since 1.0 clients assume close otherwise.
    pub(crate) confirm_keep_alive: bool,
    /// The client reads chunked bodies (it spoke HTTP/1.1), so a stream of
    /// unknown length goes out chunked; else it is delimited by the close,
    /// which `close` must then say.
    pub(crate) chunked: bool,
}

/// The end of a chunked body: a last chunk of size zero and no trailer
/// (RFC 9112 §7.1).
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Appends `data` framed as one chunk (`size in hex CRLF data CRLF`).
/// Empty data would read as the last chunk, so it appends nothing.
pub(crate) fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    let mut digits = [0u8; 16];
    let mut n = data.len();
    let mut start = digits.len();
    while n > 0 {
        start -= 1;
        digits[start] = b"0123456789abcdef"[n % 16];
        n /= 16;
    }
    out.extend_from_slice(&digits[start..]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The interim response sent before reading a body announced with
/// `Expect: 100-continue` (RFC 9110 §10.1.1).
pub(crate) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Appends the encoded `response` to `out`; returns the number of body
/// bytes written (0 for HEAD, 1xx, 204 and 304, and for a streamed body,
/// whose bytes the connection writes as they come).
///
/// Always `HTTP/1.1 <code> <reason>`. Fields in this order: `Server`,
/// `Date` (the caller's cached `date`), `Content-Type`, `Content-Length`
/// (or `Transfer-Encoding: chunked` for a stream of unknown length to a
/// client that reads it), then `Connection` if `meta` asks for one, then
/// the response's own. Every response that may have content says where it
/// ends, so the connection can stay open (unless it is a stream to an
/// HTTP/1.0 client: then the close ends it); a 1xx, 204 or 304 carries
/// neither a length nor a body (RFC 9110 §6.4.1, §8.6). Allocates nothing
/// beyond growing `out`.
pub(crate) fn encode_response(
    response: &Response,
    meta: ResponseMeta,
    date: &[u8],
    out: &mut Vec<u8>,
) -> usize {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, u64::from(response.status.0));
    out.push(b' ');
    out.extend_from_slice(response.status.reason().as_bytes());
    out.extend_from_slice(b"\r\n");
    // The defaults are whole constant lines; only a handler's own value goes
    // through `push_field`'s checks. (Field by field, the common response's
    // two defaults cost ~850 instructions a request under callgrind; as two
    // copies, a few dozen.)
    if response.default_server {
        out.extend_from_slice(SERVER_LINE);
    } else if let Some(server) = response.field("server") {
        push_field(out, "Server", server);
    }
    out.extend_from_slice(b"Date: ");
    out.extend_from_slice(date);
    out.extend_from_slice(b"\r\n");
    let content = !response.status.forbids_content();
    if content {
        if response.text_plain {
            out.extend_from_slice(TEXT_PLAIN_LINE);
        } else if let Some(content_type) = response.field("content-type") {
            push_field(out, "Content-Type", content_type);
        }
        let length = match response.body.stream() {
            None => Some(response.body.len() as u64),
            Some(stream) => stream.length(),
        };
        match length {
            Some(length) => {
                out.extend_from_slice(b"Content-Length: ");
                push_decimal(out, length);
                out.extend_from_slice(b"\r\n");
            }
            // A stream of unknown length: chunked, or (HTTP/1.0) ended by
            // the close, which `meta.close` announces below.
            None if meta.chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
            None => {}
        }
    }
    // A 101 says `Connection: Upgrade` (RFC 9110 §7.8: "a server MUST send
    // a Connection header field containing the upgrade option") — the
    // field is the server's, so the encoder writes it, as it does `close`.
    // `close` wins otherwise: a 1.0 keep-alive client is still told the
    // truth when the server has decided to close (shutdown, an error).
    if response.status == StatusCode::SWITCHING_PROTOCOLS {
        out.extend_from_slice(b"Connection: Upgrade\r\n");
    } else if meta.close {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if meta.confirm_keep_alive {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    for (name, value) in &response.fields {
        // Written above, in their place.
        let placed =
            name.eq_ignore_ascii_case("server") || name.eq_ignore_ascii_case("content-type");
        if !placed {
            push_field(out, name, value);
        }
    }
    out.extend_from_slice(b"\r\n");
    if content && !meta.head_only {
        out.extend_from_slice(response.body.as_bytes());
        response.body.len()
    } else {
        0
    }
}

/// Writes `name: value\r\n`, keeping only token bytes of the name and
/// turning CR and LF in the value into spaces. A field that could carry a
/// line break would let whoever controls it add fields or a whole second
/// response ("response splitting"); handlers never mean to send one.
fn push_field(out: &mut Vec<u8>, name: &str, value: &str) {
    let clean_name = name.bytes().all(super::chunked::is_tchar);
    let clean_value = !value.bytes().any(|b| b == b'\r' || b == b'\n');
    if clean_name && clean_value {
        // The usual case, copied whole rather than byte by byte.
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
    } else {
        out.extend(name.bytes().filter(|&b| super::chunked::is_tchar(b)));
        out.extend_from_slice(b": ");
        out.extend(
            value
                .bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    }
    out.extend_from_slice(b"\r\n");
}

/// Writes `n` in decimal using a stack buffer: no `String`, no allocation.
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20]; // u64::MAX has 20 digits
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";

    fn encode(response: &Response, meta: ResponseMeta) -> String {
        let mut out = Vec::new();
        encode_response(response, meta, DATE, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn expected(extra: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nServer: eddy/{}\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n{extra}\r\n{body}",
            env!("CARGO_PKG_VERSION")
        )
    }

    #[test]
    fn get_response_exact_bytes() {
        let r = Response::text(StatusCode::OK, "hello");
        assert_eq!(encode(&r, ResponseMeta::default()), expected("", "hello"));
    }

    #[test]
    fn head_keeps_content_length_and_drops_body() {
        let r = Response::text(StatusCode::OK, "hello");
        let meta = ResponseMeta {
            head_only: true,
            ..ResponseMeta::default()
        };
        assert_eq!(encode(&r, meta), expected("", ""));
    }

    #[test]
    fn close_and_keep_alive_variants() {
        let r = Response::text(StatusCode::OK, "hello");
        let close = ResponseMeta {
            close: true,
            ..ResponseMeta::default()
        };
        assert_eq!(
            encode(&r, close),
            expected("Connection: close\r\n", "hello")
        );
        let keep = ResponseMeta {
            confirm_keep_alive: true,
            ..ResponseMeta::default()
        };
        assert_eq!(
            encode(&r, keep),
            expected("Connection: keep-alive\r\n", "hello")
        );
        let both = ResponseMeta {
            close: true,
            confirm_keep_alive: true,
            head_only: false,
            chunked: true,
        };
        assert_eq!(encode(&r, both), expected("Connection: close\r\n", "hello"));
    }

    #[test]
    fn handler_fields_come_last_replace_each_other_and_cannot_split() {
        let r = Response::text(StatusCode::OK, "hello")
            .with_header("Allow", "GET")
            .with_header("allow", "GET, HEAD")
            .with_header("X-Evil", "a\r\nSet-Cookie: x")
            .append_header("Set-Cookie", "a=1")
            .append_header("Set-Cookie", String::from("b=2"));
        let text = encode(&r, ResponseMeta::default());
        assert!(
            text.ends_with(
                "Content-Length: 5\r\nAllow: GET, HEAD\r\nX-Evil: a  Set-Cookie: x\r\n\
                 Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello"
            ),
            "{text}"
        );
        assert_eq!(r.header("ALLOW"), Some("GET, HEAD"));
    }

    #[test]
    fn content_type_and_server_are_replaced_or_removed_never_doubled() {
        let r = Response::text(StatusCode::OK, "{}")
            .with_header("Content-Type", "application/json")
            .with_content_type("application/problem+json")
            .with_header("server", "mine/1");
        let text = encode(&r, ResponseMeta::default());
        assert_eq!(text.matches("Content-Type").count(), 1, "{text}");
        assert!(text.contains("Content-Type: application/problem+json\r\n"));
        assert!(
            text.contains("\r\nServer: mine/1\r\n")
                || text.starts_with("HTTP/1.1 200 OK\r\nServer: mine/1")
        );
        let bare = encode(&r.without_header("Server"), ResponseMeta::default());
        assert!(!bare.contains("Server"), "{bare}");
        // The server's own fields cannot be set by a handler.
        let r = Response::text(StatusCode::OK, "hello")
            .with_header("Content-Length", "99")
            .with_header("Connection", "upgrade");
        assert_eq!(encode(&r, ResponseMeta::default()), expected("", "hello"));
    }

    #[test]
    fn no_content_codes_carry_no_body_and_no_length() {
        for status in [
            StatusCode::NO_CONTENT,
            StatusCode::NOT_MODIFIED,
            StatusCode(103),
        ] {
            let r = Response::text(status, "ignored");
            let mut out = Vec::new();
            let body = encode_response(&r, ResponseMeta::default(), DATE, &mut out);
            let text = String::from_utf8(out).unwrap();
            assert_eq!(body, 0);
            assert!(text.ends_with("GMT\r\n\r\n"), "{text}");
            assert!(!text.contains("Content-Length"), "{text}");
        }
        let created = encode(&Response::new(StatusCode::CREATED), ResponseMeta::default());
        assert!(created.starts_with("HTTP/1.1 201 Created\r\n"));
        assert!(created.contains("Content-Length: 0\r\n") && !created.contains("Content-Type"));
    }

    #[test]
    fn error_body_names_code_and_reason() {
        let r = Response::error(StatusCode::HTTP_VERSION_NOT_SUPPORTED);
        assert_eq!(r.body.as_bytes(), b"505 HTTP Version Not Supported\n");
        let mut out = Vec::new();
        encode_response(&r, ResponseMeta::default(), DATE, &mut out);
        assert!(out.starts_with(b"HTTP/1.1 505 HTTP Version Not Supported\r\n"));
        assert!(out.windows(20).any(|w| w == b"Content-Length: 31\r\n"));
    }

    #[test]
    fn decimal_writer() {
        for n in [0u64, 7, 10, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn continue_is_exact() {
        assert_eq!(CONTINUE, b"HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!(StatusCode::CONTINUE.reason(), "Continue");
    }
}
