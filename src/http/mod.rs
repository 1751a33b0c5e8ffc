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

pub mod body;
pub mod chunked;
pub mod date;
pub mod decode;
mod head;
pub mod limits;
pub mod range;
pub mod refusal;
pub mod request;
pub mod response;
pub mod status;
mod target;

pub use body::Body;
pub use date::{parse_http_date, DateCache, UtcTime};
pub use decode::{Decoded, RequestDecoder};
pub use head::request_line;
pub use limits::Limits;
pub use range::{byte_range, ByteRange};
pub use refusal::Refusal;
pub use request::{Header, Request, Version};
pub use response::{encode_response, Response, ResponseMeta};
pub use status::StatusCode;
