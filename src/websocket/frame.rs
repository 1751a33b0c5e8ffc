//! WebSocket frames (RFC 6455 §5): the decoder that turns a client's bytes
//! into messages and control frames, and the encoder of the server's
//! frames.
//!
//! This file owns the *stream* of one connection after its `101`: where a
//! frame ends, how fragments make one message, and every rule a client's
//! frame must pass, each at its line with its section of the RFC. What the
//! bytes of a text message must be is `utf8.rs`'s.
//!
//! The caller keeps a read buffer and calls [`Decoder::decode`] with it;
//! the decoder says how many bytes it consumed and what, if anything, they
//! completed. It takes *every* byte it is given, as it arrives: a header's
//! bytes into a 14-byte array of its own (the longest header: 2 bytes, 8 of
//! extended length, 4 of masking key), a payload's bytes unmasked into the
//! message being put together. So the caller's buffer never holds a partial
//! frame between two calls, however large the frame, and the decoder holds
//! at most `max_message` bytes of payload (checked when a header announces
//! them, before any arrive). A call stops early only where a message or a
//! control frame completes, to hand it out.
//!
//! Failing the connection (§7.1.7) is the caller's: `decode` returns the
//! [`Violation`], with the close code to send (1002, 1007 or 1009) and a
//! short reason, and from then on returns the same `Violation` and
//! consumes nothing, like the HTTP decoder after a `Reject`. No sockets
//! here: every split of a byte stream is a unit test.

use super::utf8::Utf8Check;

/// What a client sent: a whole message (its fragments joined) or a control
/// frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A text message, valid UTF-8 (§5.6, §8.1).
    Text(String),
    /// A binary message (§5.6).
    Binary(Vec<u8>),
    /// A Ping (§5.5.2): the caller answers with a Pong carrying the same
    /// payload, "as soon as is practical".
    Ping(Vec<u8>),
    /// A Pong (§5.5.3): an answer to a Ping, or unsolicited (a heartbeat,
    /// which expects no answer).
    Pong(Vec<u8>),
    /// A Close (§5.5.1): its status code and reason if it had a body,
    /// `None` if it was empty. The caller answers with a Close of its own
    /// (§5.5.1), then closes the TCP connection (§7.1.1); the decoder reads
    /// nothing more.
    Close(Option<(u16, String)>),
}

/// A frame that breaks the protocol: the connection must be failed (§7.1.7)
/// with a Close carrying `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Violation {
    /// 1002 (protocol error), 1007 (a text payload that is not UTF-8) or
    /// 1009 (a message over the limit), from §7.4.1.
    pub(crate) code: u16,
    /// Why, in a few words: the Close frame's reason, and the log's.
    pub(crate) reason: &'static str,
}

/// §7.4.1: "a protocol error".
const PROTOCOL_ERROR: u16 = 1002;
/// §7.4.1: "data within a message that was not consistent with the type of
/// the message (e.g., non-UTF-8 \[RFC3629\] data within a text message)".
const INVALID_DATA: u16 = 1007;
/// §7.4.1: "a message that is too big for it to process".
const TOO_BIG: u16 = 1009;

impl Violation {
    /// A 1002, for a frame that breaks §5's rules.
    const fn protocol(reason: &'static str) -> Violation {
        Violation {
            code: PROTOCOL_ERROR,
            reason,
        }
    }
}

/// Text that is not UTF-8, in a message or a Close's reason (§8.1).
const NOT_UTF8: Violation = Violation {
    code: INVALID_DATA,
    reason: "text is not UTF-8",
};

/// The longest frame header: 2 bytes, 8 of 64-bit length, 4 of masking key
/// (§5.2).
const MAX_HEADER: usize = 14;

/// The longest payload a control frame may carry (§5.5).
const MAX_CONTROL_PAYLOAD: usize = 125;

/// What a data frame's payload belongs to: a text or a binary message
/// (a continuation frame is the kind of the message it continues).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    Text,
    Binary,
}

/// The three control frames (§5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    Close,
    Ping,
    Pong,
}

/// What a frame carries, known once its first byte is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carries {
    /// A fragment of a data message; `first` if it is the message's first
    /// frame (opcode Text or Binary, not Continuation).
    Data {
        data: Data,
        first: bool,
    },
    Control(Control),
}

/// A frame whose header is complete and whose payload is arriving.
#[derive(Debug)]
struct Frame {
    carries: Carries,
    /// FIN (§5.2): the last frame of its message.
    fin: bool,
    /// The masking key (§5.3): payload byte `i` is XORed with `mask[i % 4]`.
    mask: [u8; 4],
    /// Payload bytes still to come; never 0 (an empty frame completes with
    /// its header).
    remaining: u64,
    /// Payload bytes already read: where the next one falls in the key.
    read: u64,
}

/// Where the decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Reading frames.
    Reading,
    /// A Close was returned. The client may send nothing after it (§5.5.1:
    /// "the endpoint MUST NOT send any more data frames" after its Close),
    /// and the server is closing: whatever still comes is consumed and
    /// dropped.
    Closed,
    /// A `Violation` was returned: the stream can no longer be read, and
    /// every later call returns it again.
    Failed(Violation),
}

/// Decodes the frames of one connection's client, in order.
#[derive(Debug)]
pub(crate) struct Decoder {
    /// The largest message, its fragments together, the decoder will hold
    /// (1009 beyond; §10.4: implementations SHOULD limit frame and message
    /// sizes). Without it a client could make the server buffer without
    /// end.
    max_message: usize,
    /// The next frame's header, as far as it has arrived: kept here, so the
    /// caller's buffer never has to hold one across calls.
    header: [u8; MAX_HEADER],
    /// How many bytes of `header` have arrived.
    header_len: usize,
    /// The frame whose payload is arriving, once its header is complete.
    frame: Option<Frame>,
    /// The kind of the data message being put together, from its first
    /// frame to its FIN: `None` between messages. It stays open while
    /// control frames come between its fragments (§5.4).
    open: Option<Data>,
    /// That message's payload so far, unmasked.
    message: Vec<u8>,
    /// The payload of the control frame arriving, apart from `message`:
    /// one may come in the middle of a fragmented message (§5.4).
    control: Vec<u8>,
    /// Where the text message's bytes stand as UTF-8: fed each payload
    /// byte as it is unmasked, so the first invalid byte fails the
    /// connection at once (§8.1), not when (or if) the message ends.
    utf8: Utf8Check,
    /// Reading, closed or failed.
    status: Status,
}

/// One step of [`Decoder::decode`]: bytes consumed, and what they
/// completed.
type Step = Result<(usize, Option<Incoming>), Violation>;

impl Decoder {
    /// A decoder at the start of a connection, holding messages to
    /// `max_message` bytes.
    pub(crate) fn new(max_message: usize) -> Decoder {
        Decoder {
            max_message,
            header: [0; MAX_HEADER],
            header_len: 0,
            frame: None,
            open: None,
            message: Vec::new(),
            control: Vec::new(),
            utf8: Utf8Check::new(),
            status: Status::Reading,
        }
    }

    /// Consumes a prefix of `input`; returns how many bytes it consumed
    /// and, if a message or control frame completed, that item. The caller
    /// calls again with the rest until it returns `(0, None)`.
    ///
    /// Every byte is taken (see the module doc): the call returns early,
    /// with an item, only where one completes, and otherwise returns
    /// `(input.len(), None)`. An item consumes at least its frame's last
    /// byte, so `(0, _)` comes only for empty input — a loop over `decode`
    /// always ends.
    ///
    /// After a `Close` is returned, every later call consumes all of
    /// `input` and returns `None`: the client may send nothing more
    /// (§5.5.1), and the caller is closing.
    ///
    /// `Err`: the connection must be failed with that close code (§7.1.7).
    /// Every later call returns the same `Err` and consumes nothing.
    pub(crate) fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<Incoming>), Violation> {
        match self.status {
            Status::Failed(violation) => return Err(violation),
            Status::Closed => return Ok((input.len(), None)),
            Status::Reading => {}
        }
        let mut used = 0;
        while used < input.len() {
            let rest = &input[used..];
            let step = match self.frame.take() {
                None => self.read_header(rest),
                Some(frame) => self.read_payload(frame, rest),
            };
            match step {
                Ok((n, item)) => {
                    // Each step takes a byte at least: a header is
                    // incomplete, or a frame has payload still to come.
                    debug_assert!(n > 0 && n <= rest.len());
                    used += n;
                    if item.is_some() {
                        return Ok((used, item));
                    }
                }
                Err(violation) => {
                    self.status = Status::Failed(violation);
                    return Err(violation);
                }
            }
        }
        Ok((used, None))
    }

    /// Takes header bytes; once the first two are in, checks what they
    /// say, and once the whole header is in, starts its frame.
    fn read_header(&mut self, input: &[u8]) -> Step {
        let mut used = self.take_header(input, 2);
        if self.header_len < 2 {
            return Ok((used, None));
        }
        // The first two bytes say almost everything that can be wrong with
        // a frame: checked as soon as they arrive, so a bad frame fails
        // without waiting for the rest of its header.
        let carries = self.check_first_two()?;
        let need = header_size(self.header[1]);
        used += self.take_header(&input[used..], need);
        if self.header_len < need {
            return Ok((used, None));
        }
        self.header_len = 0;
        let length = self.payload_length(carries)?;
        let mut mask = [0; 4];
        mask.copy_from_slice(&self.header[need - 4..need]);
        if let Carries::Data { data, first: true } = carries {
            self.open = Some(data);
            self.message.clear();
            self.utf8 = Utf8Check::new();
        }
        let frame = Frame {
            carries,
            fin: self.header[0] & 0x80 != 0,
            mask,
            remaining: length,
            read: 0,
        };
        if length == 0 {
            return Ok((used, self.complete(frame)?));
        }
        self.frame = Some(frame);
        Ok((used, None))
    }

    /// Copies bytes from `input` into the header until it holds `upto`;
    /// returns how many it took.
    fn take_header(&mut self, input: &[u8], upto: usize) -> usize {
        let n = upto.saturating_sub(self.header_len).min(input.len());
        self.header[self.header_len..self.header_len + n].copy_from_slice(&input[..n]);
        self.header_len += n;
        n
    }

    /// The rules the first two bytes must pass (§5.2's diagram: FIN, RSV1–3,
    /// opcode; MASK, payload length).
    fn check_first_two(&self) -> Result<Carries, Violation> {
        let [first, second] = [self.header[0], self.header[1]];
        let fin = first & 0x80 != 0;
        // §5.2: RSV1–3 "MUST be 0 unless an extension is negotiated that
        // defines meanings for non-zero values"; none is (handshake.rs
        // accepts no extension, so no permessage-deflate and its RSV1).
        if first & 0x70 != 0 {
            return Err(Violation::protocol("reserved bit set"));
        }
        let carries = match first & 0x0f {
            0x0 => match self.open {
                Some(data) => Carries::Data { data, first: false },
                // §5.4: a continuation continues a message begun by a Text
                // or Binary frame; there is none.
                None => return Err(Violation::protocol("continuation with no message")),
            },
            opcode @ (0x1 | 0x2) => {
                // §5.4: "the fragments of one message MUST NOT be
                // interleaved between the fragments of another message"
                // (with no extension to say otherwise).
                if self.open.is_some() {
                    return Err(Violation::protocol("new message inside a fragmented one"));
                }
                let data = if opcode == 0x1 {
                    Data::Text
                } else {
                    Data::Binary
                };
                Carries::Data { data, first: true }
            }
            0x8 => Carries::Control(Control::Close),
            0x9 => Carries::Control(Control::Ping),
            0xa => Carries::Control(Control::Pong),
            // §5.2: 0x3–0x7 and 0xB–0xF are reserved; "If an unknown opcode
            // is received, the receiving endpoint MUST _Fail the WebSocket
            // Connection_."
            _ => return Err(Violation::protocol("reserved opcode")),
        };
        // §5.1: "The server MUST close the connection upon receiving a frame
        // that is not masked." Masking (§5.3, §10.3) keeps a script from
        // choosing the bytes a proxy on the path sees, so that it cannot
        // make one misread them as an HTTP request and poison its cache.
        if second & 0x80 == 0 {
            return Err(Violation::protocol("client frame not masked"));
        }
        if let Carries::Control(_) = carries {
            // §5.5: "All control frames MUST have a payload length of 125
            // bytes or less and MUST NOT be fragmented." 126 and 127 announce
            // an extended length: more than 125 either way.
            if !fin {
                return Err(Violation::protocol("fragmented control frame"));
            }
            if usize::from(second & 0x7f) > MAX_CONTROL_PAYLOAD {
                return Err(Violation::protocol("control frame over 125 bytes"));
            }
        }
        Ok(carries)
    }

    /// The payload length of the complete header, checked: well encoded,
    /// and within the message limit.
    fn payload_length(&self, carries: Carries) -> Result<u64, Violation> {
        let h = &self.header;
        let length = match h[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            127 => u64::from_be_bytes([h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]]),
            short => u64::from(short),
        };
        // §5.2: with 127, "the most significant bit MUST be 0".
        if length >> 63 != 0 {
            return Err(Violation::protocol("64-bit length with its top bit set"));
        }
        // §5.2: "in all cases, the minimal number of bytes MUST be used to
        // encode the length, for example, the length of a 124-byte-long
        // string can't be encoded as the sequence 126, 0, 124." The RFC
        // names no action for a receiver; eddy refuses, as it refuses every
        // other malformed framing: no conforming client sends one, and a
        // length has one spelling only. (autobahn-python's author asked
        // the same, crossbario/autobahn-python#19: "peer must fail on
        // overlong payload length encodings"; tungstenite accepts them.)
        let minimal = match h[1] & 0x7f {
            126 => length > 125,
            127 => length > 0xffff,
            _ => true,
        };
        if !minimal {
            return Err(Violation::protocol("payload length not minimally encoded"));
        }
        // 1009 as soon as the header says so, before any of the payload is
        // read or held: the fragments so far are all in `message`.
        if let Carries::Data { .. } = carries {
            let room = self.max_message.saturating_sub(self.message.len());
            if length > room as u64 {
                return Err(Violation {
                    code: TOO_BIG,
                    reason: "message too big",
                });
            }
        }
        Ok(length)
    }

    /// Takes payload bytes of `frame`, unmasked, into its message or
    /// control payload; completes the frame with its last byte.
    fn read_payload(&mut self, mut frame: Frame, input: &[u8]) -> Step {
        // Fits in usize: no more than `input.len()`.
        let n = frame.remaining.min(input.len() as u64) as usize;
        let target = match frame.carries {
            Carries::Data { .. } => &mut self.message,
            Carries::Control(_) => &mut self.control,
        };
        let start = target.len();
        target.extend_from_slice(&input[..n]);
        // §5.3: "octet i of the transformed data is the XOR of octet i of
        // the original data with octet at index i modulo 4 of the masking
        // key", i counted from the frame's first payload byte.
        let offset = (frame.read % 4) as usize;
        for (i, byte) in target[start..].iter_mut().enumerate() {
            *byte ^= frame.mask[(offset + i) % 4];
        }
        if let Carries::Data {
            data: Data::Text, ..
        } = frame.carries
        {
            // §8.1: not UTF-8 → fail, at the first byte that shows it.
            self.utf8.feed(&target[start..]).map_err(|()| NOT_UTF8)?;
        }
        frame.remaining -= n as u64;
        frame.read += n as u64;
        if frame.remaining > 0 {
            self.frame = Some(frame);
            return Ok((n, None));
        }
        Ok((n, self.complete(frame)?))
    }

    /// A frame whose payload is all in: a control frame is handed out at
    /// once (even between a message's fragments, §5.4), a data frame with
    /// FIN completes its message.
    fn complete(&mut self, frame: Frame) -> Result<Option<Incoming>, Violation> {
        match frame.carries {
            Carries::Control(Control::Ping) => Ok(Some(Incoming::Ping(self.take_control()))),
            Carries::Control(Control::Pong) => Ok(Some(Incoming::Pong(self.take_control()))),
            Carries::Control(Control::Close) => {
                let close = close_body(&self.take_control())?;
                self.status = Status::Closed;
                Ok(Some(Incoming::Close(close)))
            }
            Carries::Data { .. } if !frame.fin => Ok(None),
            Carries::Data { data, .. } => {
                self.open = None;
                let payload = std::mem::take(&mut self.message);
                match data {
                    Data::Binary => Ok(Some(Incoming::Binary(payload))),
                    Data::Text => {
                        // §8.1: a message that ends inside a character is
                        // not UTF-8 either.
                        self.utf8.finish().map_err(|()| NOT_UTF8)?;
                        // Checked byte by byte already; `from_utf8` checks
                        // again rather than trust that with `unsafe`.
                        let text = String::from_utf8(payload).map_err(|_| NOT_UTF8)?;
                        Ok(Some(Incoming::Text(text)))
                    }
                }
            }
        }
    }

    /// The control payload just read, leaving the buffer empty.
    fn take_control(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.control)
    }
}

/// The length of a client frame's header, from its second byte: 2, the
/// extended length (§5.2: 2 bytes after 126, 8 after 127), and the 4-byte
/// masking key every client frame carries (checked before this is asked).
fn header_size(second: u8) -> usize {
    let extended = match second & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + extended + 4
}

/// A Close frame's body (§5.5.1): empty, or a 2-byte status code then a
/// UTF-8 reason.
fn close_body(payload: &[u8]) -> Result<Option<(u16, String)>, Violation> {
    let (code, reason) = match payload {
        [] => return Ok(None),
        // §5.5.1: "If there is a body, the first two bytes of the body MUST
        // be a 2-byte unsigned integer".
        [_] => return Err(Violation::protocol("close body of one byte")),
        [high, low, reason @ ..] => (u16::from_be_bytes([*high, *low]), reason),
    };
    if !receivable_close_code(code) {
        return Err(Violation::protocol("invalid close code"));
    }
    // §5.5.1: the reason "is not guaranteed to be human readable" but is
    // UTF-8 all the same, and §8.1 applies.
    let reason = std::str::from_utf8(reason).map_err(|_| NOT_UTF8)?;
    Ok(Some((code, reason.to_owned())))
}

/// Whether a peer may send `code` in a Close (§7.4.1, §7.4.2, and IANA's
/// "WebSocket Close Code Number Registry" for those assigned since).
fn receivable_close_code(code: u16) -> bool {
    match code {
        // §7.4.2: 0–999 are "not used".
        0..=999 => false,
        // §7.4.1: normal closure, going away, protocol error, unsupported
        // data.
        1000..=1003 => true,
        // 1004 is reserved; 1005 (no status) and 1006 (closed abnormally)
        // "MUST NOT be set as a status code in a Close control frame".
        1004..=1006 => false,
        // §7.4.1: invalid data, policy violation, too big, a missing
        // extension, an unexpected condition; then IANA's 1012 (service
        // restart), 1013 (try again later), 1014 (bad gateway).
        1007..=1014 => true,
        // 1015 (TLS handshake failed) MUST NOT be sent either; 1016–2999
        // are reserved for this protocol and its extensions, unassigned.
        1015..=2999 => false,
        // §7.4.2: 3000–3999 for libraries and frameworks (registered with
        // IANA), 4000–4999 for private use.
        3000..=4999 => true,
        // Beyond §7.4.2's ranges: nothing is defined.
        5000.. => false,
    }
}

/// The opcodes the server sends (§5.2); the server's messages are never
/// fragmented, so there is no continuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opcode {
    /// A text message: the payload must be UTF-8.
    Text,
    /// A binary message.
    Binary,
    /// A Ping: at most 125 bytes.
    Ping,
    /// A Pong: at most 125 bytes, a Ping's payload echoed.
    Pong,
    /// A Close: at most 125 bytes; [`encode_close`] builds its body.
    Close,
}

impl Opcode {
    /// The opcode's four bits (§5.2).
    fn bits(self) -> u8 {
        match self {
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xa,
        }
    }
}

/// Appends one unmasked, final server frame.
///
/// FIN set, RSV bits clear, no mask: §5.1, "A server MUST NOT mask any
/// frames that it sends to the client". The length in the fewest bytes
/// that hold it (§5.2). A control frame's payload must be at most 125
/// bytes (§5.5): the caller's to keep (checked in debug builds).
pub(crate) fn encode(out: &mut Vec<u8>, opcode: Opcode, payload: &[u8]) {
    debug_assert!(
        matches!(opcode, Opcode::Text | Opcode::Binary) || payload.len() <= MAX_CONTROL_PAYLOAD,
        "a control frame carries at most 125 bytes"
    );
    out.reserve(10 + payload.len());
    out.push(0x80 | opcode.bits());
    match payload.len() {
        short @ 0..=125 => out.push(short as u8),
        medium @ 126..=0xffff => {
            out.push(126);
            out.extend_from_slice(&(medium as u16).to_be_bytes());
        }
        long => {
            out.push(127);
            out.extend_from_slice(&(long as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// Appends a Close frame with `code` and `reason` (§5.5.1). The reason is
/// cut, at a character boundary, to the 123 bytes a control frame leaves
/// it after the code.
pub(crate) fn encode_close(out: &mut Vec<u8>, code: u16, reason: &str) {
    debug_assert!(
        receivable_close_code(code),
        "{code} may not be sent in a Close"
    );
    let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut body = [0u8; MAX_CONTROL_PAYLOAD];
    body[..2].copy_from_slice(&code.to_be_bytes());
    body[2..2 + end].copy_from_slice(&reason.as_bytes()[..end]);
    encode(out, Opcode::Close, &body[..2 + end]);
}

/// The code of a Close frame [`encode_close`] made (a [`Sender`]'s close,
/// met again in its pipe); `None` for any other frame.
///
/// [`Sender`]: super::Sender
pub(crate) fn sent_close_code(frame: &[u8]) -> Option<u16> {
    match frame {
        [0x88, _, high, low, ..] => Some(u16::from_be_bytes([*high, *low])),
        _ => None,
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

    /// The masking key of RFC 6455 §5.7's examples.
    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// A large limit, for the tests that are not about it.
    const MAX: usize = 1 << 20;

    /// A client frame: `first` (FIN, RSV, opcode), the length in the fewest
    /// bytes, the payload masked with [`KEY`].
    fn client(first: u8, payload: &[u8]) -> Vec<u8> {
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
        frame.extend_from_slice(&KEY);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
        frame
    }

    /// A client frame whose header is given whole (mask bit, length and
    /// extended length as the test wants them), then [`KEY`] and the
    /// payload masked.
    fn client_raw(header: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut frame = header.to_vec();
        frame.extend_from_slice(&KEY);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
        frame
    }

    /// A server frame as a client would send it: the mask bit set, [`KEY`]
    /// after the length, the payload masked.
    fn as_client(server: &[u8]) -> Vec<u8> {
        let header = header_size(server[1]) - 4;
        let mut header_bytes = server[..header].to_vec();
        header_bytes[1] |= 0x80;
        client_raw(&header_bytes, &server[header..])
    }

    /// What a decoder makes of `stream` fed in pieces of `sizes` (cycled;
    /// a 0 is a call with no new bytes), as a connection feeds it: append a
    /// piece, decode until nothing completes, drain what was consumed. Checks
    /// on the way that `decode` keeps its contract.
    fn feed(max: usize, stream: &[u8], sizes: &[usize]) -> (Vec<Incoming>, Option<Violation>) {
        let mut decoder = Decoder::new(max);
        let mut buf = Vec::new();
        let mut items = Vec::new();
        let mut from = 0;
        let mut sizes = sizes.iter().cycle();
        while from < stream.len() {
            let to = (from + sizes.next().unwrap()).min(stream.len());
            buf.extend_from_slice(&stream[from..to]);
            from = to;
            loop {
                match decoder.decode(&buf) {
                    Ok((used, item)) => {
                        assert!(used <= buf.len(), "consumed {used} of {}", buf.len());
                        buf.drain(..used);
                        let Some(item) = item else {
                            assert!(buf.is_empty(), "every byte is taken");
                            break;
                        };
                        assert!(used > 0, "an item consumes its last byte");
                        items.push(item);
                    }
                    Err(violation) => {
                        // Poisoned: the same answer, nothing consumed.
                        assert_eq!(decoder.decode(&buf), Err(violation));
                        assert_eq!(decoder.decode(b"\x81\x80abcd"), Err(violation));
                        return (items, Some(violation));
                    }
                }
            }
        }
        assert_eq!(decoder.decode(&[]), Ok((0, None)));
        (items, None)
    }

    /// `stream` fed whole.
    fn whole(stream: &[u8]) -> (Vec<Incoming>, Option<Violation>) {
        feed(MAX, stream, &[stream.len().max(1)])
    }

    /// The violation `stream` meets, fed one byte at a time, and how many
    /// bytes had been fed when it came; `None` if it meets none.
    fn fails_at(max: usize, stream: &[u8]) -> Option<(usize, Violation)> {
        let mut decoder = Decoder::new(max);
        for (i, byte) in stream.iter().enumerate() {
            if let Err(violation) = decoder.decode(std::slice::from_ref(byte)) {
                return Some((i + 1, violation));
            }
        }
        None
    }

    /// The reason of a 1002 that comes after `at` bytes of `stream`.
    fn protocol_error_at(stream: &[u8], at: usize) -> &'static str {
        let Some((fed, violation)) = fails_at(MAX, stream) else {
            panic!("{stream:02x?} decoded without a violation");
        };
        assert_eq!((fed, violation.code), (at, 1002), "{violation:?}");
        violation.reason
    }

    fn text(s: &str) -> Incoming {
        Incoming::Text(s.into())
    }

    /// RFC 6455 §5.7's examples of client frames: masked ones decode, the
    /// unmasked one is a server's and fails.
    #[test]
    fn the_rfc_examples() {
        let hello = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(whole(&hello), (vec![text("Hello")], None));
        assert_eq!(client(FIN | TEXT, b"Hello"), hello);
        let pong = [
            0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(
            whole(&pong),
            (vec![Incoming::Pong(b"Hello".to_vec())], None)
        );
        let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        assert_eq!(protocol_error_at(&unmasked, 2), "client frame not masked");
    }

    /// §5.1: every client frame is masked, whatever it carries.
    #[test]
    fn an_unmasked_frame_is_1002_at_its_second_byte() {
        for first in [
            FIN | TEXT,
            FIN | BINARY,
            TEXT,
            FIN | PING,
            FIN | PONG,
            FIN | CLOSE,
        ] {
            let mut frame = client(first, b"abc");
            frame[1] &= 0x7f;
            assert_eq!(protocol_error_at(&frame, 2), "client frame not masked");
        }
    }

    /// §5.2: no extension is negotiated, so no RSV bit may be set.
    #[test]
    fn a_reserved_bit_is_1002() {
        for rsv in [0x40, 0x20, 0x10, 0x70] {
            let frame = client(FIN | rsv | TEXT, b"hi");
            assert_eq!(protocol_error_at(&frame, 2), "reserved bit set");
        }
    }

    /// §5.2: an unknown opcode fails the connection.
    #[test]
    fn a_reserved_opcode_is_1002() {
        for opcode in (0x3..=0x7).chain(0xb..=0xf) {
            let frame = client(FIN | opcode, b"");
            assert_eq!(protocol_error_at(&frame, 2), "reserved opcode");
        }
    }

    /// §5.5: a control frame is never fragmented and carries at most 125
    /// bytes — refused at its second byte, before its payload comes.
    #[test]
    fn control_frames_are_final_and_short() {
        for opcode in [PING, PONG, CLOSE] {
            let fragmented = client(opcode, b"");
            assert_eq!(
                protocol_error_at(&fragmented, 2),
                "fragmented control frame"
            );
            for len in [126, 127, 65536] {
                let long = client(FIN | opcode, &vec![b'x'; len]);
                assert_eq!(protocol_error_at(&long, 2), "control frame over 125 bytes");
            }
        }
        let ping = client(FIN | PING, &[7; 125]);
        assert_eq!(whole(&ping), (vec![Incoming::Ping(vec![7; 125])], None));
    }

    /// §5.4: a continuation continues a message, and a message does not
    /// begin inside another.
    #[test]
    fn fragments_belong_to_one_open_message() {
        let orphan = client(FIN | CONTINUATION, b"x");
        assert_eq!(
            protocol_error_at(&orphan, 2),
            "continuation with no message"
        );
        // A finished message leaves none open.
        let stream = [client(FIN | TEXT, b"done"), orphan].concat();
        assert_eq!(
            protocol_error_at(&stream, 10 + 2),
            "continuation with no message"
        );
        for second in [TEXT, FIN | TEXT, BINARY, FIN | BINARY] {
            let stream = [client(BINARY, b"part"), client(second, b"x")].concat();
            assert_eq!(
                protocol_error_at(&stream, 10 + 2),
                "new message inside a fragmented one"
            );
        }
    }

    /// §5.4: control frames may come between fragments; each is handed
    /// out at once, and the message goes on.
    #[test]
    fn a_text_in_three_fragments_with_a_ping_between() {
        let stream = [
            client(TEXT, "Hello, ".as_bytes()),
            client(FIN | PING, b"are you there?"),
            client(CONTINUATION, "wör".as_bytes()),
            client(FIN | PONG, b""),
            client(FIN | CONTINUATION, b"ld"),
        ]
        .concat();
        let expected = vec![
            Incoming::Ping(b"are you there?".to_vec()),
            Incoming::Pong(Vec::new()),
            text("Hello, wörld"),
        ];
        assert_eq!(whole(&stream), (expected.clone(), None));
        assert_eq!(feed(MAX, &stream, &[1]), (expected, None));
        // The ping comes out before the rest of the message has arrived.
        let mut decoder = Decoder::new(MAX);
        let first = client(TEXT, b"Hello, ");
        let ping = client(FIN | PING, b"?");
        assert_eq!(decoder.decode(&first), Ok((first.len(), None)));
        assert_eq!(
            decoder.decode(&ping),
            Ok((ping.len(), Some(Incoming::Ping(b"?".to_vec()))))
        );
    }

    /// §5.2: the 64-bit length's top bit must be 0.
    #[test]
    fn a_64_bit_length_with_its_top_bit_set_is_1002() {
        let mut header = vec![FIN | BINARY, 0x80 | 127];
        header.extend_from_slice(&(1u64 << 63 | 5).to_be_bytes());
        let frame = client_raw(&header, b"hello");
        // Once the header, masking key included, is in.
        assert_eq!(
            protocol_error_at(&frame, 14),
            "64-bit length with its top bit set"
        );
    }

    /// §5.2: "the minimal number of bytes MUST be used to encode the
    /// length" — eddy refuses the others (see `payload_length`).
    #[test]
    fn a_length_not_minimally_encoded_is_1002() {
        let cases: [(&[u8], usize); 4] = [
            (&[FIN | BINARY, 0x80 | 126, 0, 125], 125),
            (&[FIN | BINARY, 0x80 | 126, 0, 0], 0),
            (&[FIN | BINARY, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 5], 5),
            (
                &[FIN | BINARY, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff],
                0xffff,
            ),
        ];
        for (header, len) in cases {
            let frame = client_raw(header, &vec![b'x'; len]);
            let at = header.len() + 4;
            assert_eq!(
                protocol_error_at(&frame, at),
                "payload length not minimally encoded"
            );
        }
        // The smallest length each form is for is fine.
        let at_126 = client_raw(&[FIN | BINARY, 0x80 | 126, 0, 126], &[1; 126]);
        assert_eq!(whole(&at_126), (vec![Incoming::Binary(vec![1; 126])], None));
        let at_64k = client_raw(
            &[FIN | BINARY, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0, 0],
            &[2; 65536],
        );
        assert_eq!(
            whole(&at_64k),
            (vec![Incoming::Binary(vec![2; 65536])], None)
        );
    }

    /// Payloads at the edges of each length form, text and binary.
    #[test]
    fn seven_16_and_64_bit_lengths() {
        for len in [0, 1, 125, 126, 127, 65535, 65536, 70000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let frame = client(FIN | BINARY, &bytes);
            let header = match len {
                0..=125 => 2,
                126..=65535 => 4,
                _ => 10,
            };
            assert_eq!(frame.len(), header + 4 + len);
            assert_eq!(
                whole(&frame),
                (vec![Incoming::Binary(bytes)], None),
                "{len}"
            );
            let letters: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let frame = client(FIN | TEXT, letters.as_bytes());
            assert_eq!(feed(MAX, &frame, &[1000]), (vec![text(&letters)], None));
        }
    }

    /// §10.4: the limit holds the whole message, and a header that would
    /// break it is refused before its payload is read.
    #[test]
    fn a_message_over_the_limit_is_1009_at_its_header() {
        let too_big = Violation {
            code: 1009,
            reason: "message too big",
        };
        // One frame: exactly the limit is fine, one more byte is not —
        // refused at the header's last byte (6: no extended length).
        assert_eq!(
            feed(10, &client(FIN | BINARY, &[0; 10]), &[1]),
            (vec![Incoming::Binary(vec![0; 10])], None)
        );
        assert_eq!(
            fails_at(10, &client(FIN | BINARY, &[0; 11])),
            Some((6, too_big))
        );
        // Fragments count together: 6 + 5 fails at the second header.
        let stream = [
            client(TEXT, b"123456"),
            client(FIN | CONTINUATION, b"78901"),
        ]
        .concat();
        assert_eq!(fails_at(10, &stream), Some((12 + 6, too_big)));
        let stream = [client(TEXT, b"123456"), client(FIN | CONTINUATION, b"7890")].concat();
        assert_eq!(feed(10, &stream, &[3]), (vec![text("1234567890")], None));
        // A length the decoder could never hold, without waiting for it.
        let mut header = vec![FIN | BINARY, 0x80 | 127];
        header.extend_from_slice(&(1u64 << 62).to_be_bytes());
        assert_eq!(fails_at(10, &client_raw(&header, b"")), Some((14, too_big)));
        // Control frames are not messages: a ping of 50 under a limit of 10.
        assert_eq!(
            feed(10, &client(FIN | PING, &[0; 50]), &[7]),
            (vec![Incoming::Ping(vec![0; 50])], None)
        );
    }

    /// §8.1: the first byte that shows a text is not UTF-8 fails the
    /// connection — in the middle of a frame, in the first fragment of
    /// many — not at the message's end.
    #[test]
    fn text_that_is_not_utf8_is_1007_at_its_first_bad_byte() {
        let not_utf8 = Violation {
            code: 1007,
            reason: "text is not UTF-8",
        };
        // ED A0 80 is U+D800, a surrogate: bad at A0, byte 6 + 3 + 2.
        let frame = client(FIN | TEXT, b"abc\xed\xa0\x80def");
        assert_eq!(fails_at(MAX, &frame), Some((11, not_utf8)));
        // The first fragment is enough; the rest never comes.
        let first = client(TEXT, b"ok \xf4\x90\x80\x80");
        assert_eq!(whole(&first), (Vec::new(), Some(not_utf8)));
        // A character split between fragments is fine...
        let stream = [
            client(TEXT, b"a\xce"),
            client(FIN | PING, b""),
            client(FIN | CONTINUATION, b"\xbab"),
        ]
        .concat();
        assert_eq!(
            whole(&stream),
            (vec![Incoming::Ping(Vec::new()), text("aκb")], None)
        );
        // ...a message that ends inside one is not: at its final frame.
        let stream = [client(TEXT, b"a\xce"), client(FIN | CONTINUATION, b"")].concat();
        assert_eq!(fails_at(MAX, &stream), Some((stream.len(), not_utf8)));
        // Overlong forms, in any frame of the message.
        let stream = [
            client(TEXT, b"fine"),
            client(FIN | CONTINUATION, b"\xc0\x80"),
        ]
        .concat();
        assert_eq!(fails_at(MAX, &stream), Some((10 + 6 + 1, not_utf8)));
        // A binary message is bytes, whatever they are.
        let binary = client(FIN | BINARY, b"\xed\xa0\x80\xff");
        assert_eq!(
            whole(&binary),
            (vec![Incoming::Binary(b"\xed\xa0\x80\xff".to_vec())], None)
        );
    }

    /// §5.5.1 and §7.4: a Close's body is empty or a valid code and a UTF-8
    /// reason.
    #[test]
    fn close_bodies() {
        let close = |body: &[u8]| whole(&client(FIN | CLOSE, body));
        assert_eq!(close(b""), (vec![Incoming::Close(None)], None));
        assert_eq!(
            close(b"\x03\xe8"),
            (vec![Incoming::Close(Some((1000, String::new())))], None)
        );
        assert_eq!(
            close(&[b"\x03\xe9", "gone for lunch ☕".as_bytes()].concat()),
            (
                vec![Incoming::Close(Some((1001, "gone for lunch ☕".into())))],
                None
            )
        );
        let longest = [&[0x03, 0xe8][..], &[b'r'; 123]].concat();
        assert_eq!(close(&longest).0.len(), 1);
        assert_eq!(
            close(b"\x03").1,
            Some(Violation::protocol("close body of one byte"))
        );
        for code in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            let body = u16::to_be_bytes(code);
            assert_eq!(
                close(&body).1,
                Some(Violation::protocol("invalid close code")),
                "{code}"
            );
        }
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
            4000, 4999,
        ] {
            let body = u16::to_be_bytes(code);
            assert_eq!(
                close(&body),
                (vec![Incoming::Close(Some((code, String::new())))], None),
                "{code}"
            );
        }
        assert_eq!(close(b"\x03\xe8\xce").1, Some(NOT_UTF8));
        assert_eq!(close(b"\x03\xe8a\xff").1, Some(NOT_UTF8));
    }

    /// After a Close, the rest is consumed and dropped.
    #[test]
    fn nothing_is_read_after_a_close() {
        let close = client(FIN | CLOSE, b"\x03\xe8");
        let after = client(FIN | TEXT, b"too late");
        let mut decoder = Decoder::new(MAX);
        let stream = [close.clone(), after.clone()].concat();
        assert_eq!(
            decoder.decode(&stream),
            Ok((
                close.len(),
                Some(Incoming::Close(Some((1000, String::new()))))
            ))
        );
        assert_eq!(decoder.decode(&after), Ok((after.len(), None)));
        // Not even a violation: an unmasked frame is dropped too.
        assert_eq!(decoder.decode(b"\x81\x05Hello"), Ok((7, None)));
        // And a Close between fragments ends the message unfinished.
        let stream = [client(BINARY, b"half"), close.clone(), after].concat();
        assert_eq!(
            whole(&stream),
            (vec![Incoming::Close(Some((1000, String::new())))], None)
        );
    }

    /// Every kind of frame, fragmented and not, with 16-bit lengths and
    /// characters split between fragments.
    fn stream_of_every_kind() -> (Vec<u8>, Vec<Incoming>) {
        let long_text = "ünïcödé and 🦀 ".repeat(12);
        let bytes = long_text.as_bytes();
        let cut = 1 + bytes.iter().position(|&b| b == 0xf0).unwrap(); // inside the crab
        let stream = [
            client(FIN | TEXT, b"Hello"),
            client(BINARY, &[0, 1, 2]),
            client(FIN | PING, b"ping"),
            client(CONTINUATION, &[]),
            client(FIN | CONTINUATION, &[3, 4]),
            client(TEXT, &bytes[..cut]),
            client(FIN | CONTINUATION, &bytes[cut..]),
            client(FIN | BINARY, &[9; 300]),
            client(FIN | PONG, b""),
            client(FIN | TEXT, b""),
            client(FIN | CLOSE, b"\x03\xe8bye"),
        ]
        .concat();
        let items = vec![
            text("Hello"),
            Incoming::Ping(b"ping".to_vec()),
            Incoming::Binary(vec![0, 1, 2, 3, 4]),
            text(&long_text),
            Incoming::Binary(vec![9; 300]),
            Incoming::Pong(Vec::new()),
            text(""),
            Incoming::Close(Some((1000, "bye".into()))),
        ];
        (stream, items)
    }

    /// A tiny xorshift (Marsaglia's 64-bit): reproducible pseudo-random
    /// numbers with no crate.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A number in `0..n`.
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn every_split_gives_the_same_items() {
        let (stream, items) = stream_of_every_kind();
        assert_eq!(whole(&stream), (items.clone(), None));
        assert_eq!(
            feed(MAX, &stream, &[1]),
            (items.clone(), None),
            "byte by byte"
        );
        assert_eq!(feed(MAX, &stream, &[0, 1, 0, 2]), (items.clone(), None));
        for cut in 0..=stream.len() {
            let sizes = [cut, stream.len()];
            assert_eq!(
                feed(MAX, &stream, &sizes),
                (items.clone(), None),
                "cut at {cut}"
            );
        }
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200 {
            let sizes: Vec<usize> = (0..1 + rng.below(8)).map(|_| rng.below(40)).collect();
            let sizes = if sizes.iter().all(|&s| s == 0) {
                vec![1]
            } else {
                sizes
            };
            assert_eq!(
                feed(MAX, &stream, &sizes),
                (items.clone(), None),
                "{sizes:?}"
            );
        }
    }

    /// A stream of a few client frames, each most often well formed but
    /// sometimes not (a reserved bit, a bad opcode, bad text, an odd
    /// length), then perhaps a flipped bit, or perhaps plain noise: input
    /// that reaches every rule.
    fn random_stream(rng: &mut XorShift) -> Vec<u8> {
        if rng.below(10) == 0 {
            return (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        }
        let mut out = Vec::new();
        for _ in 0..rng.below(8) {
            let opcode = match rng.below(12) {
                0..=2 => CONTINUATION,
                3..=5 => TEXT,
                6 | 7 => BINARY,
                8 => PING,
                9 => PONG,
                10 => CLOSE,
                _ => rng.below(16) as u8,
            };
            let mut first = opcode;
            if rng.below(4) != 0 {
                first |= FIN;
            }
            if rng.below(30) == 0 {
                first |= 0x10 << rng.below(3);
            }
            match rng.below(40) {
                0 => {
                    // A 64-bit length of any value, and no payload to match.
                    let mut header = vec![first, 0x80 | 127];
                    header.extend_from_slice(&rng.next().to_be_bytes());
                    out.extend(client_raw(&header, b""));
                    continue;
                }
                1 => {
                    // A 16-bit length, often a short one.
                    let len = rng.below(130);
                    let header = [first, 0x80 | 126, 0, len as u8];
                    out.extend(client_raw(&header, &vec![b'a'; len]));
                    continue;
                }
                _ => {}
            }
            let len = match rng.below(10) {
                0 => 126 + rng.below(200),
                1 | 2 => 0,
                _ => rng.below(24),
            };
            let mut payload: Vec<u8> = match rng.below(4) {
                0 => (0..len).map(|_| rng.next() as u8).collect(),
                1 => "é🦀x".bytes().cycle().take(len).collect(),
                _ => (0..len).map(|_| b'a' + rng.below(26) as u8).collect(),
            };
            if opcode == CLOSE && len >= 2 {
                let codes = [1000, 1001, 1005, 1012, 3000, 4999, 999, 5000];
                let code: u16 = codes[rng.below(codes.len())];
                payload[..2].copy_from_slice(&code.to_be_bytes());
            }
            out.extend(client(first, &payload));
        }
        if !out.is_empty() && rng.below(3) == 0 {
            let at = rng.below(out.len());
            out[at] ^= 1 << rng.below(8);
        }
        out
    }

    /// 10,000 pseudo-random inputs: no panic, every call within its
    /// input, progress on every item, and the same items and violation
    /// however the input is split. A small limit, so 1009 is reached too.
    #[test]
    fn random_input_never_panics_and_does_not_depend_on_the_split() {
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        let mut seen = std::collections::BTreeSet::new();
        for round in 0..10_000 {
            let stream = random_stream(&mut rng);
            let max = 16 + rng.below(200);
            let sizes: Vec<usize> = (0..1 + rng.below(5)).map(|_| rng.below(20)).collect();
            let sizes = if sizes.iter().all(|&s| s == 0) {
                vec![1]
            } else {
                sizes
            };
            let once = feed(max, &stream, &[stream.len().max(1)]);
            let split = feed(max, &stream, &sizes);
            assert_eq!(once, split, "round {round}: {stream:02x?} in {sizes:?}");
            for item in &once.0 {
                seen.insert(match item {
                    Incoming::Text(_) => "text",
                    Incoming::Binary(_) => "binary",
                    Incoming::Ping(_) => "ping",
                    Incoming::Pong(_) => "pong",
                    Incoming::Close(_) => "close",
                });
            }
            if let Some(violation) = once.1 {
                seen.insert(violation.reason);
            }
        }
        // The generator reaches every item and every rule.
        let reached: Vec<&str> = seen.into_iter().collect();
        assert_eq!(reached.len(), 5 + 13, "{reached:?}");
    }

    /// §5.2: the length in the fewest bytes, unmasked, FIN set.
    #[test]
    fn the_encoder_writes_each_length_form() {
        let cases: [(usize, &[u8]); 5] = [
            (0, &[0x82, 0]),
            (125, &[0x82, 125]),
            (126, &[0x82, 126, 0, 126]),
            (65535, &[0x82, 126, 0xff, 0xff]),
            (65536, &[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
        ];
        for (len, header) in cases {
            let payload = vec![0xa5; len];
            let mut out = Vec::new();
            encode(&mut out, Opcode::Binary, &payload);
            assert_eq!(&out[..header.len()], header, "{len}");
            assert_eq!(&out[header.len()..], payload, "{len}");
            // Masked as a client would, it decodes to what was sent.
            assert_eq!(
                whole(&as_client(&out)),
                (vec![Incoming::Binary(payload)], None)
            );
        }
    }

    /// RFC 6455 §5.7's unmasked (server) examples, and one of each opcode.
    #[test]
    fn the_encoder_writes_the_rfc_examples() {
        let mut out = Vec::new();
        encode(&mut out, Opcode::Text, b"Hello");
        encode(&mut out, Opcode::Ping, b"Hello");
        assert_eq!(
            out,
            [
                0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, //
                0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f,
            ]
        );
        let mut out = Vec::new();
        encode(&mut out, Opcode::Pong, b"p");
        encode(&mut out, Opcode::Binary, b"");
        encode(&mut out, Opcode::Close, b"");
        assert_eq!(out, [0x8a, 1, b'p', 0x82, 0, 0x88, 0]);
    }

    #[test]
    fn encode_close_cuts_a_long_reason_at_a_character() {
        let mut out = Vec::new();
        encode_close(&mut out, 1000, "bye");
        assert_eq!(out, [0x88, 5, 0x03, 0xe8, b'b', b'y', b'e']);
        // 100 two-byte characters: 61 fit in the 123 bytes left.
        let mut out = Vec::new();
        encode_close(&mut out, 1009, &"é".repeat(100));
        assert_eq!(out[1], 2 + 122);
        let decoded = whole(&as_client(&out));
        assert_eq!(
            decoded,
            (vec![Incoming::Close(Some((1009, "é".repeat(61))))], None)
        );
    }
}
