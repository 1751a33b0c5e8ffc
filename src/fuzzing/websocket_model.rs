//! The `websocket` fuzz target's reference: RFC 6455 §5 restated plainly,
//! a byte at a time, sharing no code with the decoder it checks
//! (`fuzzing/websocket.rs` compares them byte by byte). Imports only the
//! decoder's output type, to say what it expects.

use crate::websocket::Incoming;

/// Whether a Close may carry `code` (RFC 6455 §7.4.1 and §7.4.2, with
/// IANA's 1012–1014): restated here, not the decoder's table.
pub(super) fn may_be_received(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// What the model makes of one byte.
#[derive(Debug, Default)]
pub(super) struct Expected {
    /// A rule of §5 this byte shows broken: the decoder must fail, 1002.
    pub(super) broken: Option<&'static str>,
    /// The data frame whose header ends here takes its message past the
    /// limit: 1009.
    pub(super) over_limit: bool,
    /// The text so far (a message's or a Close's reason) is not UTF-8 any
    /// more, or a text message ended inside a character: 1007.
    pub(super) not_utf8: bool,
    /// What completes here, if nothing is wrong.
    pub(super) item: Option<Incoming>,
}

/// A frame whose header is in, as the model reads it.
struct ModelFrame {
    opcode: u8,
    fin: bool,
    mask: [u8; 4],
    length: u64,
    read: u64,
    /// A control frame's payload, unmasked (a data frame's goes to its
    /// message).
    control: Vec<u8>,
}

/// The data message being put together.
struct ModelMessage {
    text: bool,
    bytes: Vec<u8>,
    /// How many of `bytes` are known to be whole, valid characters: only
    /// the bytes after them are looked at again.
    checked: usize,
}

impl ModelMessage {
    /// Whether the text so far could still be UTF-8 (it may end inside a
    /// character).
    fn could_be_utf8(&mut self) -> bool {
        match std::str::from_utf8(&self.bytes[self.checked..]) {
            Ok(_) => {
                self.checked = self.bytes.len();
                true
            }
            // Not wrong, only unfinished: a character is cut off.
            Err(e) if e.error_len().is_none() => {
                self.checked += e.valid_up_to();
                true
            }
            Err(_) => false,
        }
    }
}

/// RFC 6455 §5 read plainly, a byte at a time, trusting nothing it did
/// not see: the decoder's reference. It assumes every byte before this one
/// was accepted (the caller stops at the first violation).
pub(super) struct Model {
    max: usize,
    /// The next frame's header, as far as it has come.
    header: Vec<u8>,
    frame: Option<ModelFrame>,
    message: Option<ModelMessage>,
    /// A Close completed: nothing more is read.
    closed: bool,
}

impl Model {
    /// True once a Close was read whole: nothing after it is looked at.
    pub(super) fn is_closed(&self) -> bool {
        self.closed
    }

    pub(super) fn new(max: usize) -> Model {
        Model {
            max,
            header: Vec::new(),
            frame: None,
            message: None,
            closed: false,
        }
    }

    pub(super) fn push(&mut self, byte: u8) -> Expected {
        let mut expected = Expected::default();
        if let Some(mut frame) = self.frame.take() {
            let byte = byte ^ frame.mask[(frame.read % 4) as usize];
            frame.read += 1;
            if frame.opcode & 0x8 != 0 {
                frame.control.push(byte);
            } else {
                let message = self.message.as_mut().expect("a data frame's message");
                message.bytes.push(byte);
                expected.not_utf8 = message.text && !message.could_be_utf8();
            }
            if frame.read == frame.length {
                self.complete(frame, &mut expected);
            } else {
                self.frame = Some(frame);
            }
            return expected;
        }
        self.header.push(byte);
        if self.header.len() == 2 {
            expected.broken = self.first_two();
            return expected;
        }
        let size = match self.header.get(1).map(|b| b & 0x7f) {
            None => return expected,
            Some(126) => 2 + 2 + 4,
            Some(127) => 2 + 8 + 4,
            Some(_) => 2 + 4,
        };
        if self.header.len() < size {
            return expected;
        }
        let header = std::mem::take(&mut self.header);
        let (length, minimal) = match header[1] & 0x7f {
            126 => {
                let n = u64::from(u16::from_be_bytes([header[2], header[3]]));
                (n, n >= 126)
            }
            127 => {
                let mut be = [0; 8];
                be.copy_from_slice(&header[2..10]);
                let n = u64::from_be_bytes(be);
                (n, n > 0xffff)
            }
            n => (u64::from(n), true),
        };
        if length >> 63 != 0 {
            expected.broken = Some("64-bit length with its top bit set");
        } else if !minimal {
            expected.broken = Some("length not minimally encoded");
        }
        let opcode = header[0] & 0x0f;
        if opcode & 0x8 == 0 {
            let so_far = match (opcode, &self.message) {
                (0, Some(message)) => message.bytes.len(),
                _ => 0,
            };
            // Saturating: a 64-bit length may be anything, its top bit
            // set too (the first fuzz run found the overflow).
            expected.over_limit = (so_far as u64).saturating_add(length) > self.max as u64;
        }
        if expected.broken.is_some() || expected.over_limit {
            return expected;
        }
        if opcode == 0x1 || opcode == 0x2 {
            self.message = Some(ModelMessage {
                text: opcode == 0x1,
                bytes: Vec::new(),
                checked: 0,
            });
        }
        let mut mask = [0; 4];
        mask.copy_from_slice(&header[size - 4..]);
        let frame = ModelFrame {
            opcode,
            fin: header[0] & 0x80 != 0,
            mask,
            length,
            read: 0,
            control: Vec::new(),
        };
        if length == 0 {
            self.complete(frame, &mut expected);
        } else {
            self.frame = Some(frame);
        }
        expected
    }

    /// The rules a header's first two bytes must pass (§5.1, §5.2, §5.4,
    /// §5.5).
    fn first_two(&self) -> Option<&'static str> {
        let (first, second) = (self.header[0], self.header[1]);
        let opcode = first & 0x0f;
        if first & 0x70 != 0 {
            return Some("an RSV bit");
        }
        match opcode {
            0x0 if self.message.is_none() => return Some("a continuation of nothing"),
            0x1 | 0x2 if self.message.is_some() => return Some("a message inside another"),
            0x0..=0x2 | 0x8..=0xa => {}
            _ => return Some("a reserved opcode"),
        }
        if second & 0x80 == 0 {
            return Some("not masked");
        }
        if opcode & 0x8 != 0 && (first & 0x80 == 0 || second & 0x7f > 125) {
            return Some("a fragmented or long control frame");
        }
        None
    }

    /// A frame whose payload is all in.
    fn complete(&mut self, frame: ModelFrame, expected: &mut Expected) {
        expected.item = match frame.opcode {
            0x9 => Some(Incoming::Ping(frame.control)),
            0xa => Some(Incoming::Pong(frame.control)),
            0x8 => match &frame.control[..] {
                [] => Some(Incoming::Close(None)),
                [_] => {
                    expected.broken = Some("a close body of one byte");
                    None
                }
                [high, low, reason @ ..] => {
                    let code = u16::from_be_bytes([*high, *low]);
                    if !may_be_received(code) {
                        expected.broken = Some("a close code no peer sends");
                        None
                    } else if let Ok(reason) = std::str::from_utf8(reason) {
                        Some(Incoming::Close(Some((code, reason.to_owned()))))
                    } else {
                        expected.not_utf8 = true;
                        None
                    }
                }
            },
            _ if !frame.fin => None,
            _ => {
                let message = self.message.take().expect("a data frame's message");
                if !message.text {
                    Some(Incoming::Binary(message.bytes))
                } else if let Ok(text) = String::from_utf8(message.bytes) {
                    Some(Incoming::Text(text))
                } else {
                    expected.not_utf8 = true;
                    None
                }
            }
        };
        self.closed = matches!(expected.item, Some(Incoming::Close(_)));
    }
}
