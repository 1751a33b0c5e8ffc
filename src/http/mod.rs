//! The HTTP/1.1 codec: pure functions and state machines over bytes; knows no
//! sockets, no routes.
//!
//! Layout:
//! - `request`: the `Request` a handler sees, and its lookups (path, query, headers).
//! - `decode`: the per-connection decoder: bytes in, requests out, limits enforced.
//! - `head` (private): the rules one request head must pass, with their reasons.
//! - `target` (private): the request-target's grammar (RFC 3986) and Host's.
//! - `chunked`: the chunked transfer coding, a byte-at-a-time state machine.
//! - `status`: status codes and their reason phrases.
//! - `refusal`: why the decoder refused bytes: a status and a short reason.
//! - `response`: `Response`, and the encoder.
//! - `body`: a response body that keeps short texts inline.
//! - `date`: the `Date` header value, formatted once per second, and
//!   HTTP dates parsed (`If-Modified-Since`).
//! - `range`: the `Range` header, for one byte range.
//!
//! Because nothing here touches a socket, every rule, and every way a byte
//! stream can be split across reads, is a plain unit test.

pub(crate) mod body;
pub(crate) mod chunked;
pub(crate) mod date;
pub(crate) mod decode;
mod head;
pub(crate) mod limits;
pub(crate) mod range;
pub(crate) mod refusal;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod status;
mod target;

// What a handler touches (`Body`, `Header`, `Request`, `Response`,
// `StatusCode`, `Version`) is re-exported at the crate's root, from its
// file; these are the crate's own short paths.
pub(crate) use date::{parse_http_date, DateCache, UtcTime};
pub(crate) use decode::{Decoded, RequestDecoder};
pub(crate) use head::request_line;
pub(crate) use limits::Limits;
pub(crate) use range::{byte_range, ByteRange};
pub(crate) use refusal::Refusal;
pub(crate) use request::{Header, Request, Version};
pub(crate) use response::{encode_response, Response, ResponseMeta};
pub(crate) use status::StatusCode;
