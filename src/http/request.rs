//! A decoded request: plain data, plus the few lookups handlers need.
//!
//! This file owns the *shape* of a request after the decoder (`decode.rs`)
//! has accepted it. By the time a `Request` exists every framing rule has been
//! checked, so everything here is a read-only view that cannot fail.
//!
//! A connection decodes many requests, so a `Request` is recycled: after the
//! handler is done, the connection hands it back to its decoder
//! (`RequestDecoder::recycle`), which fills the same strings and vectors in
//! place for the next request. In steady state no request costs an
//! allocation.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;

use super::target::absolute_form_path_start;

/// The HTTP version of a request: 1.0 or 1.1.
///
/// There are only two: a well-formed HTTP/1.x with x ≥ 2 is served as
/// HTTP/1.1 (RFC 9110 §2.5), and the decoder answers 505 to other major
/// versions, so handlers never see another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0: closes after each response unless the client asks otherwise.
    Http10,
    /// HTTP/1.1: persistent connections, `Host` required, chunked bodies.
    Http11,
}

/// One header field as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name as sent (names are case-insensitive: compare with
    /// `eq_ignore_ascii_case`, or use [`Request::header`]).
    pub name: String,
    /// The field value without surrounding whitespace. Bytes, not a `String`:
    /// values may legally carry non-UTF-8 "obs-text" (RFC 9110 §5.5).
    pub value: Vec<u8>,
}

/// A whole request: head and (de-chunked) body.
///
/// What a handler reads; the server made it, and checked every framing
/// rule first, so the lookups cannot fail (a missing part is `None`).
///
/// ```
/// use eddy::{inline, Request, Response, Router, ServerStatus, StatusCode};
///
/// // GET /hello/ada?greeting=hi%20there
/// fn hello(req: &Request, _status: &ServerStatus) -> Response {
///     let name = req.param("name").unwrap_or_default(); // "ada"
///     let greeting = req.query_param("greeting").unwrap_or("hello".into());
///     let agent = req.header("User-Agent").map(String::from_utf8_lossy);
///     let agent = agent.unwrap_or("no agent".into());
///     Response::text(StatusCode::OK, format!("{greeting}, {name} ({agent})\n"))
/// }
///
/// let router = Router::new().get("/hello/:name", inline(hello));
/// # let _ = router;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method as sent, e.g. `"GET"` (methods are case-sensitive, RFC 9110 §9.1).
    pub method: String,
    /// The request-target as sent, e.g. `"/fast?id=1"`.
    pub target: String,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// Header fields in the order received.
    pub headers: Vec<Header>,
    /// The body, de-chunked if it was chunked; empty if there was none.
    pub body: Vec<u8>,
    /// Whether the client expects the connection to stay open: HTTP/1.1
    /// unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`
    /// (RFC 9112 §9.3).
    pub keep_alive: bool,
    /// The client's address (`None` over a Unix socket, or for a request
    /// not read from a socket).
    pub peer: Option<SocketAddr>,
    /// What the route's path parameters captured: names and byte ranges of
    /// [`path`](Self::path). Set by the router; read with
    /// [`param`](Self::param).
    pub(crate) params: Vec<(Arc<str>, Range<usize>)>,
}

impl Request {
    /// The path: the target up to `?`. For an absolute-form target
    /// (`http://host/p?q`) this is the path part (`/p`, or `/` if empty), so
    /// routing works the same for requests sent to a proxy-style target.
    pub fn path(&self) -> &str {
        let origin = self.origin_part();
        let path = origin.split_once('?').map_or(origin, |(path, _)| path);
        if path.is_empty() {
            "/"
        } else {
            path
        }
    }

    /// The query: the target after the first `?`, if there is one.
    pub fn query(&self) -> Option<&str> {
        self.origin_part().split_once('?').map(|(_, query)| query)
    }

    /// The value a route's path parameter captured (`id` for a route
    /// `/items/:id` asked for `/items/42`: `42`; `path` for `/static/*path`),
    /// percent-decoded. `None` if the route has no such parameter.
    pub fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        let (_, range) = self.params.iter().find(|(n, _)| &**n == name)?;
        let raw = self.path().get(range.clone())?;
        Some(percent_decode_path(raw))
    }

    /// [`path`](Self::path), percent-decoded as a parameter is: `%20` is a
    /// space, `%2E%2E` is `..`, `+` is itself.
    pub(crate) fn decoded_path(&self) -> Cow<'_, str> {
        percent_decode_path(self.path())
    }

    /// The header fields in the order received: names as sent, values as
    /// bytes (they may carry non-UTF-8 "obs-text").
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_slice()))
    }

    /// The first value of `key` in the query, percent-decoded with `+` as a
    /// space (the HTML form encoding, which is what browsers send). A key
    /// present without `=` gives `Some("")`. Invalid escapes are kept as-is:
    /// a lookup is not the place to reject a request.
    ///
    /// Borrowed from the target when there is nothing to decode (the usual
    /// case), so a lookup costs no allocation.
    pub fn query_param(&self, key: &str) -> Option<Cow<'_, str>> {
        self.query()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == key).then(|| percent_decode(v))
        })
    }

    /// Refills this request's head in place from a parsed one, keeping the
    /// capacity of every string and vector (see the module doc).
    pub(crate) fn refill(
        &mut self,
        method: &str,
        target: &str,
        version: Version,
        fields: &[httparse::Header<'_>],
    ) {
        self.method.clear();
        self.method.push_str(method);
        self.target.clear();
        self.target.push_str(target);
        self.version = version;
        for (i, field) in fields.iter().enumerate() {
            match self.headers.get_mut(i) {
                Some(header) => {
                    header.name.clear();
                    header.name.push_str(field.name);
                    header.value.clear();
                    header.value.extend_from_slice(field.value);
                }
                None => self.headers.push(Header {
                    name: field.name.to_owned(),
                    value: field.value.to_vec(),
                }),
            }
        }
        // Surplus entries keep their buffers for a later, larger head.
        self.headers.truncate(fields.len());
        self.body.clear();
        self.keep_alive = false;
        // The connection sets these after decoding; a recycled request must
        // not carry the last client's over.
        self.peer = None;
        self.params.clear();
    }

    /// The value of the first header named `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }

    /// True for `HEAD`, whose response carries headers but no body.
    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    /// The target without an absolute-form's `scheme://authority`.
    fn origin_part(&self) -> &str {
        match absolute_form_path_start(self.target.as_bytes()) {
            Some(start) => &self.target[start..],
            None => &self.target,
        }
    }
}

impl Default for Request {
    /// An empty request, to be filled by the decoder.
    fn default() -> Request {
        Request {
            method: String::new(),
            target: String::new(),
            version: Version::Http11,
            headers: Vec::new(),
            body: Vec::new(),
            keep_alive: false,
            peer: None,
            params: Vec::new(),
        }
    }
}

/// Decodes `%XX` escapes in a path segment (where `+` is a plus).
fn percent_decode_path(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    // The query rule, with `+` protected first: it means itself here.
    match percent_decode(&s.replace('+', "%2B")) {
        Cow::Owned(decoded) => Cow::Owned(decoded),
        Cow::Borrowed(decoded) => Cow::Owned(decoded.to_string()),
    }
}

/// Decodes `%XX` escapes and `+` (as space). Invalid escapes stay literal;
/// bytes that are not UTF-8 after decoding become U+FFFD. Borrows `s` when
/// it holds neither.
fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push((hi << 4) | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The value of one hex digit.
fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str) -> Request {
        Request {
            method: "GET".into(),
            target: target.into(),
            version: Version::Http11,
            headers: vec![
                Header {
                    name: "Host".into(),
                    value: b"a".to_vec(),
                },
                Header {
                    name: "X-Two".into(),
                    value: b"first".to_vec(),
                },
                Header {
                    name: "x-two".into(),
                    value: b"second".to_vec(),
                },
            ],
            body: Vec::new(),
            keep_alive: true,
            peer: None,
            params: Vec::new(),
        }
    }

    #[test]
    fn path_and_query() {
        let r = request("/fast?id=1&n=2");
        assert_eq!(r.path(), "/fast");
        assert_eq!(r.query(), Some("id=1&n=2"));
        assert_eq!(request("/healthz").query(), None);
        assert_eq!(request("/healthz?").query(), Some(""));
        assert_eq!(request("*").path(), "*");
    }

    #[test]
    fn absolute_form_routes_like_origin_form() {
        let r = request("http://example.com:8888/fast?id=7");
        assert_eq!((r.path(), r.query()), ("/fast", Some("id=7")));
        assert_eq!(request("HTTP://example.com").path(), "/");
        assert_eq!(request("https://h?x=1").query(), Some("x=1"));
    }

    #[test]
    fn query_param_decoding() {
        let r = request("/s?id=a%20b+c&flag&id=second&bad=%zz%4&pct=%41%c3%a9");
        assert_eq!(r.query_param("id").as_deref(), Some("a b c")); // first value wins
        assert_eq!(r.query_param("flag").as_deref(), Some(""));
        assert_eq!(r.query_param("bad").as_deref(), Some("%zz%4"));
        assert_eq!(r.query_param("pct").as_deref(), Some("Aé"));
        assert_eq!(r.query_param("missing"), None);
        assert_eq!(request("/s?i%64=5").query_param("id").as_deref(), Some("5"));
    }

    #[test]
    fn header_lookup_is_case_insensitive_and_first_wins() {
        let r = request("/");
        assert_eq!(r.header("x-TWO"), Some(&b"first"[..]));
        assert_eq!(r.header("host"), Some(&b"a"[..]));
        assert_eq!(r.header("nope"), None);
        assert!(!r.is_head());
    }
}
