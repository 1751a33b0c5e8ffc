//! UTF-8, checked as it arrives: a text message's bytes come in fragments
//! and in reads of any size, and RFC 6455 §8.1 says an endpoint that finds
//! a text stream is not UTF-8 MUST fail the connection (1007, §7.4.1).
//!
//! This file owns the check alone, a byte at a time, so that the first
//! byte that cannot be part of valid UTF-8 is reported when it arrives —
//! not when the message ends, which may be never (the Autobahn test suite's
//! "fail fast" cases, 6.4.x). `std::str::from_utf8` answers for a whole
//! buffer; here a sequence may be split between two calls.
//!
//! The rules are the Unicode Standard's Table 3-7, "Well-Formed UTF-8 Byte
//! Sequences" (the same as RFC 3629 §4): the lead byte says how many
//! continuation bytes follow, and narrows the range of the first of them,
//! which is how overlong forms, surrogates and code points past U+10FFFF
//! are refused at their earliest byte.

/// Where a byte stream stands as UTF-8: between characters, or inside one
/// with some continuation bytes still to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utf8Check {
    /// Continuation bytes still to come in the current sequence; 0 between
    /// characters.
    needed: u8,
    /// The smallest byte the next continuation may be: above 0x80 only
    /// right after a lead byte that forbids overlong forms.
    lower: u8,
    /// The largest byte the next continuation may be: below 0xBF only right
    /// after a lead byte that forbids surrogates or code points past
    /// U+10FFFF.
    upper: u8,
}

impl Utf8Check {
    /// A check at the start of a message.
    pub(crate) fn new() -> Utf8Check {
        Utf8Check {
            needed: 0,
            lower: 0x80,
            upper: 0xbf,
        }
    }

    /// Takes the next bytes of the stream; `Err` at the first byte that
    /// cannot start or continue a well-formed sequence (the bytes before it
    /// were fine), even when the sequence began in an earlier call. After
    /// an `Err` the stream is not UTF-8, whatever follows: the caller fails
    /// the connection, and the check's state means nothing.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<(), ()> {
        // Text is mostly ASCII: between characters, a run of it needs no
        // state at all.
        if self.needed == 0 && bytes.is_ascii() {
            return Ok(());
        }
        for &b in bytes {
            if self.needed > 0 {
                if b < self.lower || b > self.upper {
                    return Err(());
                }
                self.needed -= 1;
                self.lower = 0x80;
                self.upper = 0xbf;
                continue;
            }
            // A lead byte: how many continuations follow, and the range of
            // the first one (Table 3-7, row by row).
            let (needed, lower, upper) = match b {
                0x00..=0x7f => continue, // U+0000..U+007F
                // 0x80..=0xBF is a continuation with no lead; 0xC0 and 0xC1
                // could only begin overlong forms of U+0000..U+007F.
                0xc2..=0xdf => (1, 0x80, 0xbf), // U+0080..U+07FF
                0xe0 => (2, 0xa0, 0xbf),        // U+0800..U+0FFF (E0 80..9F: overlong)
                0xe1..=0xec => (2, 0x80, 0xbf), // U+1000..U+CFFF
                0xed => (2, 0x80, 0x9f),        // U+D000..U+D7FF (ED A0..BF: surrogates)
                0xee..=0xef => (2, 0x80, 0xbf), // U+E000..U+FFFF
                0xf0 => (3, 0x90, 0xbf),        // U+10000..U+3FFFF (F0 80..8F: overlong)
                0xf1..=0xf3 => (3, 0x80, 0xbf), // U+40000..U+FFFFF
                0xf4 => (3, 0x80, 0x8f),        // U+100000..U+10FFFF (F4 90..: too large)
                // 0xF5..=0xFF would begin code points past U+10FFFF (or
                // were never UTF-8).
                _ => return Err(()),
            };
            self.needed = needed;
            self.lower = lower;
            self.upper = upper;
        }
        Ok(())
    }

    /// Called at the end of the message: `Err` if it ended inside a
    /// sequence.
    pub(crate) fn finish(&self) -> Result<(), ()> {
        if self.needed == 0 {
            Ok(())
        } else {
            Err(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes` fed in one call, then finished.
    fn check(bytes: &[u8]) -> Result<(), ()> {
        let mut utf8 = Utf8Check::new();
        utf8.feed(bytes)?;
        utf8.finish()
    }

    /// The index of the byte whose feed fails, feeding one byte a call;
    /// `Some(len)` if only `finish` fails, `None` if nothing does.
    fn first_bad_byte(bytes: &[u8]) -> Option<usize> {
        let mut utf8 = Utf8Check::new();
        for (i, b) in bytes.iter().enumerate() {
            if utf8.feed(std::slice::from_ref(b)).is_err() {
                return Some(i);
            }
        }
        utf8.finish().err().map(|()| bytes.len())
    }

    /// Characters of every length, at the edges of their ranges.
    const VALID: &str = "a\u{7f}\u{80}\u{7ff}\u{800}\u{d7ff}\u{e000}\u{fffd}\u{ffff}\
                         \u{10000}\u{10ffff}κόσμε 🦀 Hello-µ@ßöäüàá-UTF-8!!";

    #[test]
    fn valid_text_passes_however_it_is_split() {
        let bytes = VALID.as_bytes();
        assert_eq!(check(bytes), Ok(()));
        // Split in two at every position, and in three at every pair.
        for i in 0..=bytes.len() {
            let mut utf8 = Utf8Check::new();
            assert_eq!(utf8.feed(&bytes[..i]), Ok(()), "split at {i}");
            assert_eq!(utf8.feed(&bytes[i..]), Ok(()), "split at {i}");
            assert_eq!(utf8.finish(), Ok(()));
            for j in i..=bytes.len() {
                let mut utf8 = Utf8Check::new();
                for piece in [&bytes[..i], &bytes[i..j], &bytes[j..]] {
                    assert_eq!(utf8.feed(piece), Ok(()), "split at {i}, {j}");
                }
                assert_eq!(utf8.finish(), Ok(()));
            }
        }
        assert_eq!(first_bad_byte(bytes), None);
        assert_eq!(check(b""), Ok(()));
    }

    /// Agrees with the standard library on every sequence of up to three
    /// bytes drawn from the bytes where the rules change, and on every
    /// four-byte sequence from a lead byte of interest.
    #[test]
    fn agrees_with_std_on_short_sequences() {
        let edges: Vec<u8> = vec![
            0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0,
            0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
        ];
        let mut sequences: Vec<Vec<u8>> = Vec::new();
        for &a in &edges {
            sequences.push(vec![a]);
            for &b in &edges {
                sequences.push(vec![a, b]);
                for &c in &edges {
                    sequences.push(vec![a, b, c]);
                    for lead in [0xf0, 0xf4] {
                        sequences.push(vec![lead, a, b, c]);
                    }
                }
            }
        }
        for bytes in sequences {
            let std = std::str::from_utf8(&bytes).is_ok();
            assert_eq!(check(&bytes).is_ok(), std, "{bytes:02x?}");
        }
    }

    /// Autobahn 6.3–6.8's kinds of bad input, each refused at the byte
    /// where it stops being a prefix of valid UTF-8.
    #[test]
    fn bad_sequences_fail_at_their_first_bad_byte() {
        let cases: [(&[u8], usize); 14] = [
            (b"\xc0\x80", 0),         // overlong NUL: C0 is never a lead
            (b"\xc1\xbf", 0),         // overlong U+007F
            (b"\xe0\x80\x80", 1),     // overlong NUL in three bytes
            (b"\xe0\x9f\xbf", 1),     // overlong U+07FF
            (b"\xf0\x80\x80\x80", 1), // overlong NUL in four bytes
            (b"\xf0\x8f\xbf\xbf", 1), // overlong U+FFFF
            (b"\xed\xa0\x80", 1),     // U+D800, a surrogate
            (b"\xed\xbf\xbf", 1),     // U+DFFF
            (b"\xf4\x90\x80\x80", 1), // U+110000
            (b"\xf5\x80\x80\x80", 0), // past U+10FFFF from its lead
            (b"\x80", 0),             // a lone continuation
            (b"a\xbfb", 1),           // another
            (
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
                12,
            ),
            (b"\xe1\x80a", 2), // a sequence cut short by ASCII
        ];
        for (bytes, at) in cases {
            assert_eq!(first_bad_byte(bytes), Some(at), "{bytes:02x?}");
            assert_eq!(check(bytes), Err(()), "{bytes:02x?}");
        }
    }

    #[test]
    fn a_sequence_cut_off_at_the_end_fails_only_at_finish() {
        for bytes in [&b"\xc2"[..], b"\xe2\x82", b"\xf0\x9f\xa6", b"ok\xf4"] {
            let mut utf8 = Utf8Check::new();
            assert_eq!(utf8.feed(bytes), Ok(()), "{bytes:02x?}");
            assert_eq!(utf8.finish(), Err(()), "{bytes:02x?}");
        }
    }

    /// Autobahn 6.4.1: the first fragment's bad byte is reported while the
    /// rest of the message has not arrived.
    #[test]
    fn fails_fast_before_later_fragments_arrive() {
        let mut utf8 = Utf8Check::new();
        assert_eq!(utf8.feed("κόσμε".as_bytes()), Ok(()));
        assert_eq!(utf8.feed(b"\xf4\x90"), Err(()));
        // And a bad continuation in a second call, its lead in the first.
        let mut utf8 = Utf8Check::new();
        assert_eq!(utf8.feed(b"ok\xed"), Ok(()));
        assert_eq!(utf8.feed(b"\xa0\x80"), Err(()));
    }
}
