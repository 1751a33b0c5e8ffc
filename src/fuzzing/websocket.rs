//! The WebSocket frame decoder fed one stream in pieces: the `websocket`
//! fuzz target's checks, here so that the target
//! (`fuzz/fuzz_targets/websocket.rs`) and the corpus replay test
//! (`tests/fuzz_corpus.rs`) run the same code.
//!
//! Input layout (so that every input is meaningful):
//!
//! - byte 0, the control byte: its low 4 bits are `k`, the number of
//!   piece-size bytes that follow; its high 4 bits pick `max_message` from
//!   [`LIMITS`] (0: the default, 1 MiB; the others small, so 1009 is
//!   reachable with short inputs).
//! - bytes `1..=k`: piece sizes, used in a cycle until the stream is cut up
//!   (a size of 0 is an empty read: `decode` called with no new bytes).
//! - the rest: the byte stream a client sent after the `101`.
//!
//! The stream is decoded three times, each by a fresh [`Decoder`]: whole,
//! in the pieces, and a byte at a time. The first two are fed as the
//! connection feeds it (`connection/websocket.rs`): append a piece to the
//! input buffer, decode until nothing more completes, remove what was
//! consumed. Checks:
//!
//! - nothing panics;
//! - every call consumes at most what it was offered, all of it unless an
//!   item completes (the decoder takes every byte), and at least one byte
//!   for an item;
//! - after a `Violation`, every later call, with any bytes or none, returns
//!   the same `Violation`; after a `Close`, every later call consumes all it
//!   is given and returns nothing (the connection stops reading at either:
//!   nothing more is expected);
//! - **split = whole**: the three feeds give the same items, in order, and
//!   the same violation (code and reason), or none;
//! - no message is longer than `max_message`, no control payload longer
//!   than 125 bytes, and a Close's code is one a peer may send;
//! - the byte-at-a-time feed is checked against a model: a plain reading
//!   of the frames ([`Model`], RFC 6455 §5 restated, sharing no code with
//!   the decoder) that knows, at each byte, what completes there and which
//!   rule, if any, the byte shows broken. The decoder must return exactly
//!   the item the model expects; fail with 1007 exactly where the text so
//!   far (a message's, across its fragments, or a Close's reason) stops
//!   being UTF-8 or a text message ends inside a character — at the first
//!   bad byte, and never for valid text; with 1009 exactly where a data
//!   frame's header takes its message past `max_message`; and with 1002
//!   only at a byte that breaks a rule of §5 (which rule is not compared).

use super::pieces;
use super::websocket_model::{may_be_received, Model};
use crate::websocket::frame::Violation;
use crate::websocket::{Decoder, Incoming, MAX_MESSAGE};

/// The message limits the control byte's high 4 bits choose from: the
/// default, then small ones around the edges of the length forms (125,
/// 126) and of short messages.
const LIMITS: [usize; 16] = [
    MAX_MESSAGE,
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    15,
    16,
    64,
    125,
    126,
    127,
    200,
    65535,
];

/// What one feed of the stream produced.
#[derive(Debug, PartialEq)]
struct Outcome {
    items: Vec<Incoming>,
    violation: Option<Violation>,
}

/// Feeds `data` (control byte, piece sizes, stream: see the module doc) to
/// the decoder whole, split and a byte at a time, and panics if an
/// invariant breaks.
pub fn check_websocket(data: &[u8]) {
    let Some(input) = pieces::read(data) else {
        return;
    };
    let max = LIMITS[usize::from(input.control >> 4)];
    check(max, input.stream, &input.pieces);
}

/// The checks of the module doc on `stream`, with `pieces` (which together
/// must be `stream`) as the split feed.
fn check(max: usize, stream: &[u8], pieces: &[&[u8]]) {
    debug_assert_eq!(pieces.concat(), stream);
    let whole = feed(max, &[stream]);
    let split = feed(max, pieces);
    assert_eq!(
        split,
        whole,
        "max {max}, split into {:?} vs whole",
        pieces.iter().map(|p| p.len()).collect::<Vec<_>>()
    );
    let bytewise = follow(max, stream);
    assert_eq!(bytewise, whole, "max {max}, byte by byte vs whole");
    for (i, item) in whole.items.iter().enumerate() {
        match item {
            Incoming::Text(text) => assert!(text.len() <= max, "a text of {} > {max}", text.len()),
            Incoming::Binary(bytes) => {
                assert!(bytes.len() <= max, "a binary of {} > {max}", bytes.len())
            }
            Incoming::Ping(payload) | Incoming::Pong(payload) => {
                assert!(
                    payload.len() <= 125,
                    "a control payload of {}",
                    payload.len()
                )
            }
            Incoming::Close(close) => {
                assert_eq!(i + 1, whole.items.len(), "an item after the Close");
                if let Some((code, reason)) = close {
                    assert!(may_be_received(*code), "close code {code}");
                    assert!(reason.len() <= 123, "a close reason of {}", reason.len());
                }
            }
        }
    }
}

/// Feeds `pieces` to a fresh decoder as the connection would: append a
/// piece to the buffer, decode until nothing completes, drain what was
/// consumed. Checks each call's contract on the way.
fn feed(max: usize, pieces: &[&[u8]]) -> Outcome {
    let mut decoder = Decoder::new(max);
    let mut buf: Vec<u8> = Vec::new();
    let mut items = Vec::new();
    let mut closed = false;
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&buf) {
                Ok((used, item)) => {
                    assert!(
                        used <= buf.len(),
                        "consumed {used} of {} ({item:?})",
                        buf.len()
                    );
                    buf.drain(..used);
                    let Some(item) = item else {
                        assert!(buf.is_empty(), "{} bytes left untaken", buf.len());
                        break;
                    };
                    assert!(used > 0, "an item that consumed nothing: {item:?}");
                    assert!(!closed, "an item after the Close: {item:?}");
                    closed = matches!(item, Incoming::Close(_));
                    items.push(item);
                }
                Err(violation) => {
                    assert!(!closed, "a violation after the Close: {violation:?}");
                    poisoned(&mut decoder, violation, &buf);
                    return Outcome {
                        items,
                        violation: Some(violation),
                    };
                }
            }
        }
    }
    assert_eq!(decoder.decode(b""), Ok((0, None)), "an empty call");
    Outcome {
        items,
        violation: None,
    }
}

/// After `violation`, the decoder answers every call with it again,
/// consuming nothing, whatever it is given.
fn poisoned(decoder: &mut Decoder, violation: Violation, buf: &[u8]) {
    // A valid masked frame: an empty final text.
    let valid = [0x81, 0x80, 1, 2, 3, 4];
    for input in [buf, b"", &valid] {
        assert_eq!(decoder.decode(input), Err(violation), "the poison holds");
    }
}

/// Feeds `stream` a byte at a time to a fresh decoder and, in step, to the
/// [`Model`]; panics where they disagree.
fn follow(max: usize, stream: &[u8]) -> Outcome {
    let mut decoder = Decoder::new(max);
    let mut model = Model::new(max);
    let mut items = Vec::new();
    for (at, byte) in stream.iter().enumerate() {
        let got = decoder.decode(std::slice::from_ref(byte));
        if model.is_closed() {
            assert_eq!(got, Ok((1, None)), "byte {at}: after the Close");
            continue;
        }
        let expected = model.push(*byte);
        match got {
            Ok((used, item)) => {
                assert_eq!(used, 1, "byte {at}: consumed {used} of 1");
                assert_eq!(
                    expected.broken, None,
                    "byte {at}: accepted a frame that breaks a rule"
                );
                assert!(
                    !expected.over_limit,
                    "byte {at}: accepted a message over {max} bytes"
                );
                assert!(
                    !expected.not_utf8,
                    "byte {at}: accepted text that is not UTF-8"
                );
                assert_eq!(item, expected.item, "byte {at}: the item");
                items.extend(item);
            }
            Err(violation) => {
                let right = match violation.code {
                    1002 => expected.broken.is_some(),
                    1007 => expected.not_utf8,
                    1009 => expected.over_limit,
                    _ => false,
                };
                assert!(
                    right,
                    "byte {at}: {violation:?}, the model says {expected:?}"
                );
                poisoned(&mut decoder, violation, &stream[at + 1..]);
                return Outcome {
                    items,
                    violation: Some(violation),
                };
            }
        }
    }
    Outcome {
        items,
        violation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIN: u8 = 0x80;
    const CONTINUATION: u8 = 0x0;
    const TEXT: u8 = 0x1;
    const BINARY: u8 = 0x2;
    const CLOSE: u8 = 0x8;
    const PING: u8 = 0x9;
    const PONG: u8 = 0xa;

    /// A client frame: `first` (FIN, RSV, opcode), the length in the fewest
    /// bytes, the payload masked with a key made from `key` (so that frames
    /// of one stream have different keys).
    fn client(first: u8, key: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![first];
        match payload.len() {
            n @ 0..=125 => frame.push(0x80 | n as u8),
            n @ 126..=0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [key, key.wrapping_mul(31) ^ 0x5a, !key, key.rotate_left(3)];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        frame
    }

    /// A hand-built stream: its name (the seed files'), the limit's index
    /// in [`LIMITS`], how many items it gives and the close code of the
    /// violation it ends in, if any.
    struct Case {
        name: &'static str,
        limit: u8,
        stream: Vec<u8>,
        items: usize,
        violation: Option<u16>,
    }

    fn cases() -> Vec<Case> {
        let case = |name, limit, stream: Vec<Vec<u8>>, items, violation| Case {
            name,
            limit,
            stream: stream.concat(),
            items,
            violation,
        };
        let long: Vec<u8> = (0..200u8).collect();
        vec![
            // RFC 6455 §5.7's masked "Hello", key 37 fa 21 3d.
            case(
                "rfc_hello",
                0,
                vec![vec![
                    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                ]],
                1,
                None,
            ),
            // Every kind of frame, a 16-bit length, a message in three
            // fragments with a ping and a pong between them, then a Close.
            case(
                "every_kind",
                0,
                vec![
                    client(FIN | TEXT, 1, b"Hello"),
                    client(BINARY, 2, &[0, 1, 2]),
                    client(FIN | PING, 3, b"ping"),
                    client(CONTINUATION, 4, b""),
                    client(FIN | PONG, 5, b""),
                    client(FIN | CONTINUATION, 6, &[3, 4]),
                    client(FIN | BINARY, 7, &long),
                    client(FIN | TEXT, 8, b""),
                    client(
                        FIN | CLOSE,
                        9,
                        &[&b"\x03\xe8bye "[..], "☕".as_bytes()].concat(),
                    ),
                ],
                7,
                None,
            ),
            // Characters cut between fragments, a ping between them.
            case(
                "utf8_across_fragments",
                0,
                vec![
                    client(TEXT, 10, b"a\xce"),
                    client(FIN | PING, 11, b""),
                    client(CONTINUATION, 12, b"\xbab\xf0\x9f"),
                    client(FIN | CONTINUATION, 13, b"\xa6\x80!"),
                ],
                2,
                None,
            ),
            // ED | A0: a surrogate, cut by a ping: 1007 at the A0.
            case(
                "bad_utf8_across_fragments",
                0,
                vec![
                    client(TEXT, 14, b"ok \xed"),
                    client(FIN | PING, 15, b"!"),
                    client(FIN | CONTINUATION, 16, b"\xa0\x80 never"),
                ],
                1,
                Some(1007),
            ),
            // A text that ends inside a character: 1007 at its last frame.
            case(
                "text_ends_inside_a_character",
                0,
                vec![
                    client(TEXT, 17, b"caf\xc3"),
                    client(FIN | CONTINUATION, 18, b""),
                ],
                0,
                Some(1007),
            ),
            // A Close whose reason is not UTF-8.
            case(
                "close_reason_not_utf8",
                0,
                vec![client(FIN | CLOSE, 19, b"\x03\xe8\xff")],
                0,
                Some(1007),
            ),
            // Under a limit of 16 (LIMITS[9]): 10 + 6 bytes fit, 10 + 7 do
            // not.
            case(
                "fragments_over_the_limit",
                9,
                vec![
                    client(TEXT, 20, b"0123456789"),
                    client(FIN | CONTINUATION, 21, b"abcdef"),
                    client(BINARY, 22, b"0123456789"),
                    client(FIN | PING, 23, b"between"),
                    client(FIN | CONTINUATION, 24, b"abcdefg"),
                ],
                2,
                Some(1009),
            ),
            // After a Close, a text is dropped, and so is an unmasked one.
            case(
                "nothing_after_close",
                0,
                vec![
                    client(BINARY, 25, b"half"),
                    client(FIN | CLOSE, 26, b"\x0f\xa0"),
                    client(FIN | TEXT, 27, b"too late"),
                    b"\x81\x05Hello".to_vec(),
                ],
                1,
                None,
            ),
            // 1002s: an unmasked frame, a continuation of nothing, a
            // fragmented ping, a new message inside another, a close code
            // of 1005 (never sent).
            case(
                "unmasked",
                0,
                vec![client(FIN | TEXT, 28, b"ok"), b"\x81\x02no".to_vec()],
                1,
                Some(1002),
            ),
            case(
                "continuation_of_nothing",
                0,
                vec![client(FIN | CONTINUATION, 29, b"x")],
                0,
                Some(1002),
            ),
            case(
                "fragmented_ping",
                0,
                vec![client(TEXT, 30, b"a"), client(PING, 31, b"")],
                0,
                Some(1002),
            ),
            case(
                "message_inside_a_message",
                0,
                vec![client(TEXT, 32, b"a"), client(FIN | BINARY, 33, b"b")],
                0,
                Some(1002),
            ),
            case(
                "close_code_1005",
                0,
                vec![client(FIN | CLOSE, 34, b"\x03\xed")],
                0,
                Some(1002),
            ),
        ]
    }

    /// Each hand-built stream gives what it was built to give, and keeps
    /// every invariant cut at every point, cut at every pair of points (for
    /// the short ones), and byte by byte; under every limit.
    #[test]
    fn hand_built_streams_at_every_split() {
        for case in cases() {
            let stream = &case.stream[..];
            let max = LIMITS[usize::from(case.limit)];
            let outcome = feed(max, &[stream]);
            assert_eq!(outcome.items.len(), case.items, "{}", case.name);
            let code = outcome.violation.map(|v| v.code);
            assert_eq!(code, case.violation, "{}", case.name);
            for max in LIMITS {
                check(max, stream, &[stream]);
                for at in 0..=stream.len() {
                    let (a, b) = stream.split_at(at);
                    check(max, stream, &[a, b]);
                }
                let bytes: Vec<&[u8]> = stream.chunks(1).collect();
                check(max, stream, &bytes);
            }
            if stream.len() <= 64 {
                for i in 0..=stream.len() {
                    for j in i..=stream.len() {
                        let pieces = [&stream[..i], &stream[i..j], &stream[j..]];
                        check(max, stream, &pieces);
                    }
                }
            }
        }
    }

    /// The model agrees with the decoder's own unit tests on the points
    /// where they fail: a surrogate at its second byte, an overlong form,
    /// a 64-bit length with its top bit set.
    #[test]
    fn the_model_fails_where_the_decoder_does() {
        let surrogate = client(FIN | TEXT, 1, b"abc\xed\xa0\x80def");
        let mut model = Model::new(MAX_MESSAGE);
        let flags: Vec<bool> = surrogate.iter().map(|&b| model.push(b).not_utf8).collect();
        assert_eq!(flags.iter().position(|&f| f), Some(6 + 4));
        let mut header = vec![FIN | BINARY, 0x80 | 127];
        header.extend_from_slice(&(1u64 << 63 | 5).to_be_bytes());
        header.extend_from_slice(&[1, 2, 3, 4]);
        let mut model = Model::new(MAX_MESSAGE);
        let last = header.iter().map(|&b| model.push(b)).last().unwrap();
        assert!(last.broken.is_some());
        for case in cases() {
            let max = LIMITS[usize::from(case.limit)];
            assert_eq!(follow(max, &case.stream), feed(max, &[&case.stream]));
        }
    }

    /// The input layout: empty, a control byte alone, more piece sizes
    /// than bytes, every limit.
    #[test]
    fn any_input_is_an_input() {
        check_websocket(b"");
        check_websocket(b"\x0f");
        check_websocket(b"\x0f\x01\x02");
        let stream = &cases()[1].stream;
        for control in 0..=255u8 {
            let mut data = vec![control, 1, 0, 7, 3, 0, 2, 5, 9, 11, 13, 17, 19, 23, 29, 31];
            data.extend_from_slice(stream);
            check_websocket(&data);
        }
    }

    /// Inputs the fuzzer found that broke an earlier version of this
    /// harness (not the decoder): after a 10-byte text fragment, a
    /// continuation with a 64-bit length of 2^64 - 1 overflowed the model's
    /// "fragments so far + length" (the decoder says 1002, top bit set).
    #[test]
    fn fuzz_regressions() {
        check_websocket(&[
            148, 1, 7, 0, 3, 1, 138, 0, 0, 235, 160, 36, 7, 217, 147, 32, 3, 135, 208, 212, 128,
            128, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 63, 135, 208, 212, 128,
        ]);
    }

    /// The seed files: each case whole, under its limit, and cut into
    /// pieces of 1, 7, 0 (an empty read) and 3 bytes.
    fn seeds() -> Vec<(String, Vec<u8>)> {
        let mut seeds = Vec::new();
        for case in cases() {
            let whole = [&[case.limit << 4][..], &case.stream].concat();
            let split = [&[(case.limit << 4) | 4, 1, 7, 0, 3][..], &case.stream].concat();
            seeds.push((format!("{}_whole", case.name), whole));
            seeds.push((format!("{}_split", case.name), split));
        }
        seeds
    }

    fn seed_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/websocket")
    }

    /// Writes `fuzz/seeds/websocket/` from [`cases`]:
    /// `cargo test --lib fuzzing::websocket -- --ignored`.
    #[test]
    #[ignore = "writes fuzz/seeds/websocket"]
    fn write_seeds() {
        std::fs::create_dir_all(seed_dir()).unwrap();
        for (name, bytes) in seeds() {
            std::fs::write(seed_dir().join(name), bytes).unwrap();
        }
    }

    /// The committed seeds are what [`write_seeds`] writes: change a case,
    /// write them again.
    #[test]
    fn the_committed_seeds_are_the_cases() {
        for (name, bytes) in seeds() {
            let path = seed_dir().join(&name);
            let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(committed, bytes, "{name}: run write_seeds");
            check_websocket(&bytes);
        }
    }
}
