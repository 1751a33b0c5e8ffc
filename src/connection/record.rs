//! What the access log will say of an answer, from the request's decoding
//! to the answer's last byte written: [`Seen`] (copied off the request)
//! and [`Logged`] (the answer's record, waiting with it).
//!
//! Part of the connection (`mod.rs`). A leaf: the answering side makes
//! records, the streaming side finishes a streamed answer's, and
//! `unwritten.rs` holds them until their bytes are written; none of those
//! files needs another for it.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use crate::http::{Request, Version};
use crate::log::{AccessLog, AccessRecord};
use crate::transport::Buffers;

/// The status the access log gives an answer that never went out because
/// its connection closed first — the client left mid-job, say. Not an HTTP
/// status: nginx's number for the same case, so log tools already know it.
const ABANDONED: u16 = 499;

/// What the access log will say about an answer, kept with it until it is
/// written, so lines come in request order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Logged {
    seen: Option<Box<Seen>>,
    status: u16,
    body_bytes: usize,
    duration: Duration,
    /// The answer did not go out whole: its connection closed first, or
    /// its streamed body failed.
    cut_short: bool,
    /// Why the bytes were refused, for a protocol-level refusal.
    reason: Option<&'static str>,
}

impl Logged {
    /// The record of an answer with `status` and `body_bytes` of body,
    /// `duration` after its request was decoded, to the request `seen`.
    pub(crate) fn new(
        seen: Option<Box<Seen>>,
        status: u16,
        body_bytes: usize,
        duration: Duration,
    ) -> Logged {
        Logged {
            seen,
            status,
            body_bytes,
            duration,
            cut_short: false,
            reason: None,
        }
    }

    /// With the reason a protocol-level refusal gave.
    pub(crate) fn with_reason(self, reason: Option<&'static str>) -> Logged {
        Logged { reason, ..self }
    }

    /// Body bytes the answer carries.
    pub(crate) fn body_bytes(&self) -> u64 {
        self.body_bytes as u64
    }

    /// The record of a streamed answer: the body bytes it actually
    /// carried, and its duration until its body ended (nginx's
    /// `$request_time` also runs to the last byte).
    pub(crate) fn with_body(self, bytes: u64, streaming: Duration, whole: bool) -> Logged {
        Logged {
            body_bytes: bytes as usize,
            duration: self.duration + streaming,
            cut_short: !whole,
            ..self
        }
    }

    /// The record of an answer the socket did not take whole: `body`
    /// bytes of its body went out.
    pub(crate) fn cut(self, body: u64) -> Logged {
        Logged {
            body_bytes: body as usize,
            cut_short: true,
            ..self
        }
    }

    /// The record of an answer that never went out: the connection closed
    /// first (nginx's 499).
    pub(crate) fn abandoned(self) -> Logged {
        Logged {
            status: ABANDONED,
            body_bytes: 0,
            ..self
        }
    }

    /// The record as the access log's hook sees it, now, from `peer`.
    pub(crate) fn record<'a>(
        &'a self,
        peer: Option<SocketAddr>,
        tls: Option<&'a str>,
    ) -> AccessRecord<'a> {
        let seen = self.seen.as_deref();
        AccessRecord {
            time: SystemTime::now(),
            peer,
            request_line: seen.map(|s| s.request_line.as_str()),
            status: self.status,
            body_bytes: self.body_bytes,
            cut_short: self.cut_short,
            referer: seen.and_then(|s| s.referer.as_deref()),
            user_agent: seen.and_then(|s| s.user_agent.as_deref()),
            duration: self.duration,
            reason: self.reason,
            tls,
        }
    }
}

/// The access log's record of a connection a `101` switched, written at
/// its end: the upgrading request, status 101, the bytes the new protocol
/// sent and how long it spoke — the one line nginx writes for a WebSocket
/// it proxies (its `$request_time` runs to the close). The `101` itself
/// has its own record, written when it went out.
pub(crate) struct SocketLog {
    hook: AccessLog,
    seen: Option<Box<Seen>>,
    peer: Option<SocketAddr>,
    tls: Option<&'static str>,
    since: Instant,
    /// Bytes the connection had sent (or queued) when it switched.
    before: u64,
}

impl SocketLog {
    /// The record-to-be of a connection switching now, whose transport
    /// has `buffers`.
    pub(crate) fn new(
        hook: AccessLog,
        seen: Option<Box<Seen>>,
        peer: Option<SocketAddr>,
        tls: Option<&'static str>,
        buffers: &Buffers,
    ) -> SocketLog {
        SocketLog {
            hook,
            seen,
            peer,
            tls,
            since: Instant::now(),
            before: buffers.written() + buffers.unwritten() as u64,
        }
    }

    /// Writes the record: the connection ended, `how` (the protocol says).
    pub(crate) fn write(self, buffers: &Buffers, how: &'static str) {
        let sent = buffers.written().saturating_sub(self.before);
        let logged =
            Logged::new(self.seen, 101, sent as usize, self.since.elapsed()).with_reason(Some(how));
        (self.hook)(&logged.record(self.peer, self.tls));
    }
}

/// What the access log needs of a request, copied out of it (only while
/// the log is on) to wait with its place until the answer leaves. Boxed
/// where it waits: a place is moved several times a request, and inline it
/// would make every place 48 bytes larger, log or no log (that cost the
/// quiet `/fast` path ~140 instructions a request under callgrind).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    /// `GET /fast?id=1 HTTP/1.1`.
    request_line: String,
    referer: Option<Vec<u8>>,
    user_agent: Option<Vec<u8>>,
}

impl Seen {
    /// What the log needs of `request`.
    pub(crate) fn of(request: &Request) -> Box<Seen> {
        let version = match request.version {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        };
        Box::new(Seen {
            request_line: format!("{} {} {}", request.method, request.target, version),
            referer: request.header("referer").map(<[u8]>::to_vec),
            user_agent: request.header("user-agent").map(<[u8]>::to_vec),
        })
    }

    /// The request line a refused head began with, if it is one eddy
    /// would have parsed (so a log never shows what was not a request).
    pub(crate) fn of_refused_head(input: &[u8]) -> Option<Box<Seen>> {
        let line = crate::http::request_line(input)?;
        Some(Box::new(Seen {
            request_line: line.to_string(),
            referer: None,
            user_agent: None,
        }))
    }
}
