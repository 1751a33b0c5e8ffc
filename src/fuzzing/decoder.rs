//! The request decoder fed one stream in pieces: the `decoder` fuzz
//! target's checks, here so that the target (`fuzz/fuzz_targets/decoder.rs`)
//! and the corpus replay test (`tests/fuzz_corpus.rs`) run the same code.
//!
//! Input layout (so that every input is meaningful):
//!
//! - byte 0, the control byte: its low 4 bits are `k`, the number of
//!   piece-size bytes that follow; bit 4 set selects tight limits (small
//!   head, target, field count and body) so the limit paths are reachable
//!   with short inputs; the other bits are ignored.
//! - bytes `1..=k`: piece sizes, used in a cycle until the stream is cut up
//!   (a size of 0 is an empty read: `decode` called with no new bytes).
//! - the rest: the byte stream a client sent.
//!
//! The stream is fed as a connection would: append a piece to a buffer,
//! decode until `Incomplete` (or `Reject`), drain what was consumed. Checks:
//!
//! - `consumed <= buf.len()`, and a `Request` or `Continue` consumes bytes;
//! - at most one `Continue` per request, and only before that request;
//! - after a `Reject`, every later call (with any bytes) returns the same
//!   `Reject` and consumes 0;
//! - the split feed, which hands every request back with
//!   `RequestDecoder::recycle` (and starts with a junk-filled spare), and
//!   the unsplit feed (the whole stream in one piece, no recycling) give
//!   the same requests, the same final `Reject` (or none), the same
//!   `is_idle()` and, unless rejected, the same leftover bytes.

use super::pieces::{self, Pieces};
use crate::http::{Decoded, Header, Limits, Refusal, Request, RequestDecoder, Version};

/// What one feed of the stream produced.
#[derive(Debug, PartialEq)]
struct Outcome {
    requests: Vec<Request>,
    reject: Option<Refusal>,
    leftover: Vec<u8>,
    idle: bool,
}

/// Tight bounds: each limit can be hit by a stream of a few hundred bytes.
const TIGHT: Limits = Limits {
    max_head: 96,
    max_headers: 4,
    max_target: 24,
    max_body: 48,
};

/// Feeds `data` (control byte, piece sizes, stream: see the module doc) to
/// the decoder split and whole, and panics if an invariant breaks.
pub fn check_decoder(data: &[u8]) {
    let Some(Pieces {
        control,
        stream,
        pieces,
    }) = pieces::read(data)
    else {
        return;
    };
    let limits = if control & 0x10 != 0 {
        TIGHT
    } else {
        Limits::default()
    };

    let (split, continues) = feed(limits, &pieces, true);
    let (whole, whole_continues) = feed(limits, &[stream], false);

    assert!(
        continues <= split.requests.len() + 1,
        "{continues} Continue for {} requests",
        split.requests.len()
    );
    assert!(
        whole_continues <= 1,
        "unsplit stream gave {whole_continues} Continue"
    );
    assert_eq!(
        split,
        whole,
        "split into {:?} vs unsplit",
        pieces.iter().map(|p| p.len()).collect::<Vec<_>>()
    );
}

/// A spare whose every field holds something no request should inherit.
fn junk() -> Box<Request> {
    let mut junk = Box::<Request>::default();
    junk.method = "JUNK".into();
    junk.target = "/junk?stale=1".into();
    junk.version = Version::Http10;
    junk.headers = vec![Header {
        name: "Content-Length".into(),
        value: b"999".to_vec(),
    }];
    junk.body = b"stale body".to_vec();
    junk.keep_alive = false;
    junk.peer = Some(([10, 0, 0, 1], 9).into());
    junk
}

/// Feeds `pieces` to a fresh decoder as a connection would, checking the
/// per-call invariants; with `recycle`, hands each request back to the
/// decoder for reuse (a copy is kept). Returns the outcome and how many
/// `Continue` came.
fn feed(limits: Limits, pieces: &[&[u8]], recycle: bool) -> (Outcome, usize) {
    let mut decoder = RequestDecoder::new(limits);
    if recycle {
        decoder.recycle(junk());
    }
    let mut buf: Vec<u8> = Vec::new();
    let mut requests = Vec::new();
    let mut reject: Option<Refusal> = None;
    let mut continues = 0;
    // A Continue was seen and its request has not come out yet.
    let mut awaiting_body = false;

    for piece in pieces {
        buf.extend_from_slice(piece);
        if let Some(status) = reject {
            // Poisoned: whatever arrives, the same Reject, nothing consumed.
            assert_eq!(decoder.decode(&buf), (0, Decoded::Reject(status)));
            assert_eq!(decoder.decode(piece), (0, Decoded::Reject(status)));
            assert_eq!(decoder.decode(b""), (0, Decoded::Reject(status)));
            continue;
        }
        loop {
            let (used, decoded) = decoder.decode(&buf);
            assert!(
                used <= buf.len(),
                "consumed {used} of {} bytes ({decoded:?})",
                buf.len()
            );
            buf.drain(..used);
            match decoded {
                Decoded::Request(request) => {
                    assert!(used > 0, "a Request that consumed nothing");
                    awaiting_body = false;
                    if recycle {
                        requests.push(Request::clone(&request));
                        decoder.recycle(request);
                    } else {
                        requests.push(*request);
                    }
                }
                Decoded::Continue => {
                    assert!(used > 0, "a Continue that consumed nothing");
                    assert!(!awaiting_body, "two Continue for one request");
                    awaiting_body = true;
                    continues += 1;
                }
                Decoded::Incomplete => break,
                Decoded::Reject(status) => {
                    assert_eq!(used, 0, "a Reject that consumed bytes");
                    reject = Some(status);
                    // The poison holds at once, for any input.
                    assert_eq!(decoder.decode(&buf), (0, Decoded::Reject(status)));
                    assert_eq!(decoder.decode(b""), (0, Decoded::Reject(status)));
                    break;
                }
            }
        }
    }
    let idle = decoder.is_idle();
    if reject.is_some() {
        assert!(!idle, "a poisoned decoder claims to be idle");
        // What is left over after a Reject is never read again (the
        // connection closes), and it legitimately depends on the split: body
        // bytes consumed by earlier calls are gone, while a call that read a
        // head and the bad body together consumed nothing.
        buf.clear();
    }
    (
        Outcome {
            requests,
            reject,
            leftover: buf,
            idle,
        },
        continues,
    )
}
