//! Responses: status codes, the `Response` value handlers build, and the
//! encoder that turns one into bytes.
//!
//! This file owns the *outgoing* wire format. Keeping it separate from the
//! decoder means the connection can encode many responses into one buffer and
//! write once (may_minihttp's "parse everything, write once"), and that every
//! byte a client sees can be asserted in a unit test without a socket.

use super::body::Body;

/// An HTTP status code, such as `StatusCode::NOT_FOUND`.
///
/// A plain number wrapped in a type so a status cannot be confused with a
/// length or an id. Only the codes eddy sends have names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCode(pub u16);

impl StatusCode {
    /// 100: the client may send the body it announced with `Expect: 100-continue`.
    pub const CONTINUE: StatusCode = StatusCode(100);
    /// 200: success.
    pub const OK: StatusCode = StatusCode(200);
    /// 400: malformed request, or one whose framing is ambiguous.
    pub const BAD_REQUEST: StatusCode = StatusCode(400);
    /// 404: no route for this path.
    pub const NOT_FOUND: StatusCode = StatusCode(404);
    /// 405: the path exists but not for this method (send `Allow`).
    pub const METHOD_NOT_ALLOWED: StatusCode = StatusCode(405);
    /// 408: the request head did not arrive in time.
    pub const REQUEST_TIMEOUT: StatusCode = StatusCode(408);
    /// 413: the body is larger than the server accepts.
    pub const CONTENT_TOO_LARGE: StatusCode = StatusCode(413);
    /// 413 under its pre-RFC 9110 name (the `http` crate's), for readers who know that one.
    pub const PAYLOAD_TOO_LARGE: StatusCode = StatusCode(413);
    /// 414: the request-target is longer than the server accepts.
    pub const URI_TOO_LONG: StatusCode = StatusCode(414);
    /// 417: an `Expect` the server cannot meet.
    pub const EXPECTATION_FAILED: StatusCode = StatusCode(417);
    /// 431: too many header fields, or a header block too large.
    pub const REQUEST_HEADER_FIELDS_TOO_LARGE: StatusCode = StatusCode(431);
    /// 500: the handler failed (for example, a job panicked).
    pub const INTERNAL_SERVER_ERROR: StatusCode = StatusCode(500);
    /// 501: a transfer coding (or other feature) the server does not implement.
    pub const NOT_IMPLEMENTED: StatusCode = StatusCode(501);
    /// 503: overloaded or shutting down; try again later.
    pub const SERVICE_UNAVAILABLE: StatusCode = StatusCode(503);
    /// 504: the job did not finish within its timeout.
    pub const GATEWAY_TIMEOUT: StatusCode = StatusCode(504);
    /// 505: an HTTP version other than 1.0 and 1.1.
    pub const HTTP_VERSION_NOT_SUPPORTED: StatusCode = StatusCode(505);

    /// The reason phrase (RFC 9110 §15). Unknown codes get an empty phrase,
    /// which the status-line grammar allows (RFC 9112 §4).
    pub fn reason(self) -> &'static str {
        match self.0 {
            100 => "Continue",
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            413 => "Content Too Large",
            414 => "URI Too Long",
            417 => "Expectation Failed",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            501 => "Not Implemented",
            503 => "Service Unavailable",
            504 => "Gateway Timeout",
            505 => "HTTP Version Not Supported",
            _ => "",
        }
    }

    /// The code as a number.
    pub fn as_u16(self) -> u16 {
        self.0
    }
}

/// A response as a handler builds it: plain data, encoded later by
/// [`encode_response`], which adds the headers every response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status line's code.
    pub status: StatusCode,
    /// The `Content-Type` value; a `&'static str` because handlers only ever
    /// choose among a few fixed types.
    pub content_type: &'static str,
    /// Extra headers (such as `Allow` or `Retry-After`), written after the
    /// standard ones, in this order.
    pub headers: Vec<(&'static str, String)>,
    /// The body; its length becomes `Content-Length`.
    pub body: Body,
}

impl Response {
    /// A `text/plain; charset=utf-8` response.
    pub fn text(status: StatusCode, body: impl Into<Body>) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A `text/plain` response whose body is formatted in place, without
    /// allocating when it is short: `Response::format(StatusCode::OK,
    /// format_args!("fast result {id}"))`.
    pub fn format(status: StatusCode, args: std::fmt::Arguments<'_>) -> Response {
        Response::text(status, Body::format(args))
    }

    /// Adds a header, returning the response (builder style).
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// A plain-text error response whose body is `"<code> <reason>\n"`.
    pub fn error(status: StatusCode) -> Response {
        Response::format(status, format_args!("{} {}\n", status.0, status.reason()))
    }
}

/// What the connection knows about how this response goes out, beyond the
/// response itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseMeta {
    /// The request was HEAD: send `Content-Length` as if the body were sent
    /// (RFC 9110 §9.3.2), but no body bytes.
    pub head_only: bool,
    /// The server closes the connection after this response: say so with
    /// `Connection: close` (RFC 9112 §9.6), so the client does not pipeline
    /// more requests into a socket about to close.
    pub close: bool,
    /// The request was HTTP/1.0 with `Connection: keep-alive`: confirm with
    /// `Connection: keep-alive`, since 1.0 clients assume close otherwise.
    pub confirm_keep_alive: bool,
}

/// The interim response sent before reading a body announced with
/// `Expect: 100-continue` (RFC 9110 §10.1.1).
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Appends the encoded `response` to `out`.
///
/// Always `HTTP/1.1 <code> <reason>`. Headers in this order: `Server`,
/// `Date` (the caller's cached `date`), `Content-Type`, `Content-Length`,
/// then `Connection` if `meta` asks for one, then `response.headers`.
/// Every response carries `Content-Length`, so the client always knows where
/// it ends and the connection can stay open. Assumes a status of at least
/// 200 (1xx/204/304 must not carry a body; the only 1xx eddy sends is
/// [`CONTINUE`]). Allocates nothing beyond growing `out`.
pub fn encode_response(response: &Response, meta: ResponseMeta, date: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, u64::from(response.status.0));
    out.push(b' ');
    out.extend_from_slice(response.status.reason().as_bytes());
    out.extend_from_slice(b"\r\nServer: eddy/");
    out.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
    out.extend_from_slice(b"\r\nDate: ");
    out.extend_from_slice(date);
    out.extend_from_slice(b"\r\nContent-Type: ");
    push_value(out, response.content_type.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    push_decimal(out, response.body.len() as u64);
    out.extend_from_slice(b"\r\n");
    // `close` wins: a 1.0 keep-alive client is still told the truth when the
    // server has decided to close (shutdown, an error).
    if meta.close {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if meta.confirm_keep_alive {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    for (name, value) in &response.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        push_value(out, value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !meta.head_only {
        out.extend_from_slice(response.body.as_bytes());
    }
}

/// Writes a header value, turning CR and LF into spaces. A value that could
/// carry a line break would let whoever controls it add headers or a whole
/// second response ("response splitting"); handlers never mean to send one.
fn push_value(out: &mut Vec<u8>, value: &[u8]) {
    out.extend(
        value
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
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
        };
        assert_eq!(encode(&r, both), expected("Connection: close\r\n", "hello"));
    }

    #[test]
    fn extra_headers_come_last_and_cannot_split() {
        let r = Response::text(StatusCode::OK, "hello")
            .with_header("Allow", "GET, HEAD")
            .with_header("X-Evil", "a\r\nSet-Cookie: x");
        let text = encode(&r, ResponseMeta::default());
        assert!(text.ends_with(
            "Content-Length: 5\r\nAllow: GET, HEAD\r\nX-Evil: a  Set-Cookie: x\r\n\r\nhello"
        ));
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
