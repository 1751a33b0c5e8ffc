//! The chunked transfer coding (RFC 9112 §7.1), as a byte-at-a-time state
//! machine.
//!
//! ```text
//! chunked-body = *chunk last-chunk trailer-section CRLF
//! chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! last-chunk   = 1*("0") [ chunk-ext ] CRLF
//! ```
//!
//! Input arrives in arbitrary pieces, so every position between two bytes is
//! a state (`State`); nothing is ever re-scanned and no piece needs to be
//! buffered. Chunk data is copied straight into the body.
//!
//! Everything is strict on purpose. A chunked body ends where *this parser*
//! says it ends; if a proxy in front of us reads the same bytes differently
//! (accepts a bare LF, skips a malformed extension, truncates a long size),
//! the bytes one of us thinks are body the other thinks are the next request:
//! request smuggling. Tornado's chunked reader says the same: Postel's law is
//! wrong here. So every deviation is a 400 and the connection closes.

use super::refusal::Refusal;
use super::status::StatusCode;

/// At most 16 significant hex digits: enough for any `u64`, so the size
/// cannot overflow, and a size with more is rejected rather than silently
/// truncated, which is exactly the disagreement smuggling needs. Leading
/// zeros are not significant: `1*HEXDIG` allows any number of them, so
/// `00000000000000000005` is a valid 5 (they count as ignored bytes).
const MAX_SIZE_DIGITS: u8 = 16;

/// Chunk extensions (and a size's leading zeros) are read and thrown away,
/// so their bytes cost work but produce nothing; without a bound a client
/// could send them forever. The bound is per body (hyper does the same).
const MAX_IGNORED_BYTES: usize = 4096;

/// Where the decoder is, between two bytes of the chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a chunk-size: a hex digit must come.
    SizeStart,
    /// Reading the chunk-size's hex digits; `digits` counts the significant
    /// ones (those after any leading zeros).
    Size { size: u64, digits: u8 },
    /// Inside the chunk extensions after the size.
    Extension { size: u64, at: Ext },
    /// Saw the CR ending the size line; LF must follow.
    SizeLf { size: u64 },
    /// Copying chunk data; `remaining` bytes of this chunk are still to come.
    Data { remaining: u64 },
    /// After chunk data: CR must follow (the data length is exact).
    DataCr,
    /// After chunk data and CR: LF must follow.
    DataLf,
    /// At the start of a trailer line, or of the final empty line.
    TrailerStart,
    /// Inside a trailer field's name: a token, then a colon at once (no
    /// whitespace before it, as in the head).
    TrailerName,
    /// Inside a trailer field's value (read and discarded).
    TrailerLine,
    /// Saw the CR ending a trailer line; LF must follow.
    TrailerLf,
    /// Saw the CR of the final empty line; LF must follow.
    EndLf,
    /// The body is complete; no further byte belongs to it.
    Done,
}

/// Where we are inside `chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )`
/// with `value = token / quoted-string`. BWS is optional whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ext {
    /// After `;` (and maybe whitespace): a name must start.
    NameStart,
    /// Inside a name.
    Name,
    /// Whitespace after a name: `=` or `;` must follow.
    AfterName,
    /// After `=` (and maybe whitespace): a value must start.
    ValueStart,
    /// Inside a token value.
    Token,
    /// Inside a quoted-string value.
    Quoted,
    /// After a backslash inside a quoted string.
    QuotedEscape,
    /// Right after the closing quote.
    AfterQuote,
    /// Whitespace after a size or a value: only `;` may follow.
    Whitespace,
}

/// Decodes one chunked body, fed in pieces of any size.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    /// The current state; see [`State`].
    state: State,
    /// The largest de-chunked body accepted (413 beyond it).
    max_body: usize,
    /// The largest trailer section accepted (431 beyond it): trailers are
    /// header fields, so they get the same bound as the head.
    max_trailer: usize,
    /// Trailer bytes seen so far, against `max_trailer`.
    trailer_bytes: usize,
    /// Extension bytes and leading zeros seen so far, against
    /// [`MAX_IGNORED_BYTES`].
    ignored_bytes: usize,
}

impl ChunkedDecoder {
    /// A decoder for one body of at most `max_body` de-chunked bytes. The
    /// trailer section is limited to 8192 bytes unless
    /// [`with_trailer_limit`](Self::with_trailer_limit) says otherwise.
    pub(crate) fn new(max_body: usize) -> Self {
        ChunkedDecoder {
            state: State::SizeStart,
            max_body,
            max_trailer: 8192,
            trailer_bytes: 0,
            ignored_bytes: 0,
        }
    }

    /// Sets the largest trailer section accepted.
    pub(crate) fn with_trailer_limit(mut self, max_trailer: usize) -> Self {
        self.max_trailer = max_trailer;
        self
    }

    /// Decodes from the front of `input`, appending chunk data to `body`.
    /// Returns how many bytes were consumed and whether the body is complete;
    /// once complete, nothing more is consumed (the rest of `input` is the
    /// next request). Errors: 400 for malformed framing, 413 when the body
    /// would exceed `max_body`, 431 for an oversized trailer section.
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        body: &mut Vec<u8>,
    ) -> Result<(usize, bool), Refusal> {
        let mut pos = 0;
        while pos < input.len() && self.state != State::Done {
            if let State::Data { remaining } = self.state {
                // Copy as much of this chunk as has arrived, in one go.
                let available = (input.len() - pos) as u64;
                let n = remaining.min(available) as usize;
                body.extend_from_slice(&input[pos..pos + n]);
                pos += n;
                self.state = match remaining - n as u64 {
                    0 => State::DataCr,
                    remaining => State::Data { remaining },
                };
            } else {
                self.state = self.next(input[pos], body.len())?;
                pos += 1;
            }
        }
        Ok((pos, self.state == State::Done))
    }

    /// The state after byte `b`, for every state but `Data`.
    fn next(&mut self, b: u8, body_len: usize) -> Result<State, Refusal> {
        const BAD: Result<State, Refusal> = Err(Refusal::bad("malformed chunked body"));
        match self.state {
            // chunk-size = 1*HEXDIG: no sign, no space, no "0x".
            State::SizeStart => match (b as char).to_digit(16) {
                Some(d) => self.size_digit(0, 0, d),
                None => BAD,
            },
            State::Size { size, digits } => match (b as char).to_digit(16) {
                Some(d) => self.size_digit(size, digits, d),
                None => match b {
                    b'\r' => Ok(State::SizeLf { size }),
                    b';' => self.extension(size, Ext::NameStart),
                    b' ' | b'\t' => self.extension(size, Ext::Whitespace),
                    _ => BAD, // including a bare LF
                },
            },
            State::Extension { size, at } => match next_ext(at, b) {
                Some(ExtStep::Continue(at)) => self.extension(size, at),
                Some(ExtStep::LineEnd) => Ok(State::SizeLf { size }),
                None => BAD,
            },
            State::SizeLf { size } if b == b'\n' => {
                if size == 0 {
                    return Ok(State::TrailerStart);
                }
                // Refuse before reading the data, not after buffering it.
                // Subtract rather than add: a 16-digit size plus what came
                // before would wrap a u64 and slip under the limit.
                let room = (self.max_body as u64).saturating_sub(body_len as u64);
                if size > room {
                    return Err(Refusal::new(
                        StatusCode::CONTENT_TOO_LARGE,
                        "chunked body over the body limit",
                    ));
                }
                Ok(State::Data { remaining: size })
            }
            // Chunk data is exactly `size` bytes: anything but CRLF after it
            // means the size lied.
            State::DataCr if b == b'\r' => Ok(State::DataLf),
            State::DataLf if b == b'\n' => Ok(State::SizeStart),
            State::TrailerStart
            | State::TrailerName
            | State::TrailerLine
            | State::TrailerLf
            | State::EndLf => {
                self.trailer_bytes += 1;
                if self.trailer_bytes > self.max_trailer {
                    return Err(Refusal::new(
                        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "chunked trailer section too large",
                    ));
                }
                match (self.state, b) {
                    (State::TrailerStart, b'\r') => Ok(State::EndLf),
                    // A field line starts with a name: whitespace here would be
                    // obs-fold, rejected for the same reason as in the head.
                    (State::TrailerStart, b) if is_tchar(b) => Ok(State::TrailerName),
                    (State::TrailerName, b) if is_tchar(b) => Ok(State::TrailerName),
                    (State::TrailerName, b':') => Ok(State::TrailerLine),
                    (State::TrailerLine, b'\r') => Ok(State::TrailerLf),
                    (State::TrailerLine, b) if b == b'\t' || (b >= 0x20 && b != 0x7f) => {
                        Ok(State::TrailerLine)
                    }
                    (State::TrailerLf, b'\n') => Ok(State::TrailerStart),
                    (State::EndLf, b'\n') => Ok(State::Done),
                    _ => BAD,
                }
            }
            State::Done => Ok(State::Done),
            // A bare LF, or anything else out of place.
            _ => BAD,
        }
    }

    /// One more hex digit `d` of a size read so far as `size` with `digits`
    /// significant digits.
    fn size_digit(&mut self, size: u64, digits: u8, d: u32) -> Result<State, Refusal> {
        if size == 0 && d == 0 {
            // A leading zero: valid, meaningless, and bounded.
            self.ignore_one()?;
            return Ok(State::Size { size, digits });
        }
        if digits == MAX_SIZE_DIGITS {
            return Err(Refusal::bad("chunk size too large")); // would overflow a u64
        }
        Ok(State::Size {
            size: (size << 4) | u64::from(d),
            digits: digits + 1,
        })
    }

    /// Moves to extension state `at`, counting the byte against the bound.
    fn extension(&mut self, size: u64, at: Ext) -> Result<State, Refusal> {
        self.ignore_one()?;
        Ok(State::Extension { size, at })
    }

    /// Counts one byte that carries nothing against [`MAX_IGNORED_BYTES`].
    fn ignore_one(&mut self) -> Result<(), Refusal> {
        self.ignored_bytes += 1;
        if self.ignored_bytes > MAX_IGNORED_BYTES {
            return Err(Refusal::bad("chunk extensions too long"));
        }
        Ok(())
    }
}

/// What one byte does inside a chunk extension.
enum ExtStep {
    /// Still in the extensions, now at this point.
    Continue(Ext),
    /// The CR ending the size line.
    LineEnd,
}

/// The extension grammar, one byte at a time; `None` means the byte is not
/// allowed here (400).
fn next_ext(at: Ext, b: u8) -> Option<ExtStep> {
    use Ext::*;
    let ws = b == b' ' || b == b'\t';
    let next = match at {
        NameStart if ws => NameStart,
        NameStart | Name if is_tchar(b) => Name,
        Name | AfterName if ws => AfterName,
        Name | AfterName if b == b'=' => ValueStart,
        ValueStart if ws => ValueStart,
        ValueStart if b == b'"' => Quoted,
        ValueStart | Token if is_tchar(b) => Token,
        Quoted if b == b'"' => AfterQuote,
        Quoted if b == b'\\' => QuotedEscape,
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
        Quoted if b == b'\t' || (b >= 0x20 && b != 0x7f) => Quoted,
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        QuotedEscape if b == b'\t' || (b >= 0x20 && b != 0x7f) => Quoted,
        Token | AfterQuote | Whitespace if ws => Whitespace,
        Name | AfterName | Token | AfterQuote | Whitespace if b == b';' => NameStart,
        // The line may end right after a name or value, not after whitespace
        // (BWS in the grammar only ever precedes something).
        Name | Token | AfterQuote if b == b'\r' => return Some(ExtStep::LineEnd),
        _ => return None,
    };
    Some(ExtStep::Continue(next))
}

/// `tchar` (RFC 9110 §5.6.2): the characters of a token. The WebSocket
/// handshake reads tokens too (its subprotocol names).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` in one piece; returns the body and bytes consumed.
    fn decode_all(input: &[u8]) -> Result<(Vec<u8>, usize), StatusCode> {
        let mut decoder = ChunkedDecoder::new(1024).with_trailer_limit(64);
        let mut body = Vec::new();
        let (used, done) = decoder.decode(input, &mut body).map_err(|r| r.status)?;
        assert!(done, "incomplete: {:?}", decoder.state);
        Ok((body, used))
    }

    fn status(input: &[u8]) -> StatusCode {
        let mut decoder = ChunkedDecoder::new(1024).with_trailer_limit(64);
        decoder
            .decode(input, &mut Vec::new())
            .expect_err("accepted")
            .status
    }

    #[test]
    fn simple_body_and_stops_at_its_end() {
        let input = b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
        let (body, used) = decode_all(input).unwrap();
        assert_eq!(body, b"Wikipedia");
        assert_eq!(used, input.len() - b"GET / HTTP/1.1\r\n".len());
    }

    #[test]
    fn hex_sizes_and_leading_zeros() {
        let data = [b'x'; 26];
        let mut input = b"1A\r\n".to_vec();
        input.extend_from_slice(&data);
        input.extend_from_slice(b"\r\n0000000000000000\r\n\r\n"); // 16 digits: fine
        assert_eq!(decode_all(&input).unwrap().0, data);
        assert_eq!(
            decode_all(b"000000000000000a\r\n0123456789\r\n0\r\n\r\n")
                .unwrap()
                .0,
            b"0123456789"
        );
        // Leading zeros are not digits that count: twenty of them before a 5,
        // and a 16-digit size after them, are valid sizes (RFC 9112 §7.1's
        // `1*HEXDIG`).
        assert_eq!(
            decode_all(b"00000000000000000005\r\nhello\r\n0\r\n\r\n")
                .unwrap()
                .0,
            b"hello"
        );
        let big = b"00000000ffffffffffffffff\r\n";
        let mut decoder = ChunkedDecoder::new(usize::MAX);
        assert_eq!(decoder.decode(big, &mut Vec::new()), Ok((big.len(), false)));
    }

    #[test]
    fn leading_zeros_are_bounded_like_extensions() {
        let mut input = vec![b'0'; MAX_IGNORED_BYTES + 1];
        input.extend_from_slice(b"1\r\nx\r\n0\r\n\r\n");
        assert_eq!(status(&input), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn extensions_are_checked_then_ignored() {
        let input = b"3;name=value;flag ; q=\"a \\\"b\\\" ;c\"\r\nabc\r\n0;last\r\n\r\n";
        assert_eq!(decode_all(input).unwrap().0, b"abc");
        assert_eq!(
            decode_all(b"3 ;x = y\r\nabc\r\n0\r\n\r\n").unwrap().0,
            b"abc"
        );
        for bad in [
            &b"3;\r\nabc\r\n0\r\n\r\n"[..], // no name
            b"3;=v\r\nabc\r\n0\r\n\r\n",    // no name
            b"3;a=\r\nabc\r\n0\r\n\r\n",    // no value
            b"3;a b\r\nabc\r\n0\r\n\r\n",   // two tokens
            b"3;a=\"b\r\nabc\r\n0\r\n\r\n", // unterminated quote
            b"3;a@b\r\nabc\r\n0\r\n\r\n",   // '@' is not a tchar
            b"3 \r\nabc\r\n0\r\n\r\n",      // whitespace then line end
            b"3;a\nabc\r\n0\r\n\r\n",       // bare LF after extension
        ] {
            assert_eq!(
                status(bad),
                StatusCode::BAD_REQUEST,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn extension_bytes_are_bounded() {
        let mut input = b"1;a=".to_vec();
        input.extend_from_slice(&[b'v'; MAX_IGNORED_BYTES]);
        input.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(status(&input), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn malformed_sizes() {
        assert_eq!(status(b"fffffffffffffffff\r\n"), StatusCode::BAD_REQUEST); // would overflow
        assert_eq!(status(b"010000000000000000\r\n"), StatusCode::BAD_REQUEST); // so would this
        assert_eq!(status(b"\r\n"), StatusCode::BAD_REQUEST); // empty size
        assert_eq!(status(b"-1\r\n"), StatusCode::BAD_REQUEST);
        assert_eq!(status(b"+1\r\n"), StatusCode::BAD_REQUEST);
        assert_eq!(status(b"0x1\r\n"), StatusCode::BAD_REQUEST);
        assert_eq!(status(b" 1\r\n"), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn bare_lf_is_rejected_everywhere() {
        assert_eq!(status(b"3\nabc\r\n0\r\n\r\n"), StatusCode::BAD_REQUEST); // after size
        assert_eq!(status(b"3\r\nabc\n0\r\n\r\n"), StatusCode::BAD_REQUEST); // after data
        assert_eq!(status(b"0\r\nA: b\n\r\n"), StatusCode::BAD_REQUEST); // in trailer
        assert_eq!(status(b"0\r\n\n"), StatusCode::BAD_REQUEST); // final line
    }

    #[test]
    fn missing_crlf_after_data() {
        assert_eq!(status(b"3\r\nabcd\r\n0\r\n\r\n"), StatusCode::BAD_REQUEST);
        assert_eq!(status(b"3\r\nabc\rx0\r\n\r\n"), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn body_limit_is_checked_at_each_size() {
        let mut decoder = ChunkedDecoder::new(5);
        let mut body = Vec::new();
        assert_eq!(decoder.decode(b"3\r\nabc\r\n", &mut body), Ok((8, false)));
        // 3 + 3 > 5: refused at the size line, before any data arrives.
        assert_eq!(
            decoder.decode(b"3\r\n", &mut body),
            Err(Refusal::new(
                StatusCode::CONTENT_TOO_LARGE,
                "chunked body over the body limit"
            ))
        );
    }

    #[test]
    fn a_huge_chunk_size_cannot_wrap_past_the_limit() {
        // 1 byte, then a size of 2^64 - 1: 1 + size wraps a u64 to 0, which
        // an addition would have let through as body (found by an audit:
        // the release build streamed 52 MB into a 100-byte --max-body).
        let mut decoder = ChunkedDecoder::new(100);
        let mut body = Vec::new();
        assert_eq!(decoder.decode(b"1\r\na\r\n", &mut body), Ok((6, false)));
        assert_eq!(
            decoder.decode(b"ffffffffffffffff\r\n", &mut body),
            Err(Refusal::new(
                StatusCode::CONTENT_TOO_LARGE,
                "chunked body over the body limit"
            ))
        );
    }

    #[test]
    fn trailers_are_discarded_and_bounded() {
        let (body, _) = decode_all(b"1\r\nx\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n").unwrap();
        assert_eq!(body, b"x");
        let long = format!("0\r\nX: {}\r\n\r\n", "v".repeat(64));
        assert_eq!(
            status(long.as_bytes()),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
        assert_eq!(status(b"0\r\n folded\r\n\r\n"), StatusCode::BAD_REQUEST);
        // A trailer line is a field line: a name, then a colon at once.
        assert_eq!(status(b"0\r\nnocolon\r\n\r\n"), StatusCode::BAD_REQUEST);
        assert_eq!(status(b"0\r\nX : y\r\n\r\n"), StatusCode::BAD_REQUEST);
        assert_eq!(status(b"0\r\n:y\r\n\r\n"), StatusCode::BAD_REQUEST);
        assert_eq!(decode_all(b"0\r\nX:\r\n\r\n").unwrap().1, 9);
        assert_eq!(status(b"0\r\nX: a\x00b\r\n\r\n"), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn every_split_gives_the_same_body() {
        let input: &[u8] = b"4;a=\"q\"\r\nWiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n";
        for split in 0..=input.len() {
            let mut decoder = ChunkedDecoder::new(1024);
            let mut body = Vec::new();
            let (a, done_a) = decoder.decode(&input[..split], &mut body).unwrap();
            assert_eq!(a, split, "a piece is always consumed whole until done");
            assert_eq!(done_a, split == input.len());
            let (b, done_b) = decoder.decode(&input[split..], &mut body).unwrap();
            assert_eq!(
                (a + b, done_b, body.as_slice()),
                (input.len(), true, &b"Wikipedia"[..])
            );
        }
    }
}
