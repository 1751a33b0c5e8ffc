//! The `Range` request header (RFC 9110 §14.2), for one byte range.
//!
//! A pure function over the header's bytes and the representation's
//! length. eddy answers a single range (206) and treats anything else it
//! may ignore as absent (RFC 9110 §14.2: "a server MAY ignore the Range
//! header field"): a syntax it does not know, another unit, or several
//! ranges — a multipart/byteranges answer costs more code than the clients
//! that ask for it (a few download managers) are worth here, and the whole
//! body is always a correct answer.

use std::ops::Range;

/// What to send for a `Range` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// No usable range: the whole representation, 200.
    Whole,
    /// These bytes, 206 with `Content-Range: bytes first-last/len`.
    Part(Range<u64>),
    /// A well-formed single range that asks for nothing the representation
    /// has: 416 with `Content-Range: bytes */len` (RFC 9110 §15.5.17).
    Unsatisfiable,
}

/// The range `header` (the field's value, if the request had one) selects
/// from a representation of `len` bytes.
///
/// ```text
/// bytes=0-99     the first 100 bytes     bytes=500-   from byte 500 on
/// bytes=-100     the last 100 bytes      bytes=0-0,5-9  several: Whole
/// ```
pub(crate) fn byte_range(header: Option<&[u8]>, len: u64) -> ByteRange {
    let Some(value) = header.and_then(|v| std::str::from_utf8(v).ok()) else {
        return ByteRange::Whole;
    };
    let Some((unit, set)) = value.trim().split_once('=') else {
        return ByteRange::Whole;
    };
    // The unit is case-insensitive (§14.1); a list with several ranges, or
    // an empty element, is one this server chooses to ignore.
    if !unit.eq_ignore_ascii_case("bytes") || set.contains(',') {
        return ByteRange::Whole;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return ByteRange::Whole;
    };
    match (digits(first), digits(last)) {
        // `-N`: the last N bytes; a suffix of 0 asks for nothing.
        (None, Some(suffix)) if first.is_empty() => {
            if suffix == 0 || len == 0 {
                ByteRange::Unsatisfiable
            } else {
                ByteRange::Part(len.saturating_sub(suffix)..len)
            }
        }
        // `A-` and `A-B`: a last position past the end means the end.
        (Some(first), last) if last.is_some() || last_is_empty(set) => {
            if last.is_some_and(|last| last < first) {
                // Not a valid range at all (§14.1.2): ignore the header.
                return ByteRange::Whole;
            }
            if first >= len {
                return ByteRange::Unsatisfiable;
            }
            let end = last.map_or(len, |last| last.saturating_add(1).min(len));
            ByteRange::Part(first..end)
        }
        _ => ByteRange::Whole,
    }
}

/// `A-` (open-ended): nothing after the dash.
fn last_is_empty(set: &str) -> bool {
    set.trim().ends_with('-')
}

/// A non-empty run of ASCII digits; `None` for anything else (or a number
/// past `u64`, which no file has).
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, len: u64) -> ByteRange {
        byte_range(Some(value.as_bytes()), len)
    }

    #[test]
    fn one_range_of_each_form() {
        assert_eq!(range("bytes=0-99", 1000), ByteRange::Part(0..100));
        assert_eq!(range("bytes=500-", 1000), ByteRange::Part(500..1000));
        assert_eq!(range("bytes=-100", 1000), ByteRange::Part(900..1000));
        assert_eq!(range("BYTES=0-0", 1000), ByteRange::Part(0..1));
        // Past the end means to the end; a suffix longer than the whole is
        // the whole.
        assert_eq!(range("bytes=900-5000", 1000), ByteRange::Part(900..1000));
        assert_eq!(range("bytes=-5000", 1000), ByteRange::Part(0..1000));
        assert_eq!(range(" bytes=1-2 ", 10), ByteRange::Part(1..3));
    }

    #[test]
    fn a_range_past_the_end_is_unsatisfiable() {
        assert_eq!(range("bytes=1000-", 1000), ByteRange::Unsatisfiable);
        assert_eq!(range("bytes=1000-2000", 1000), ByteRange::Unsatisfiable);
        assert_eq!(range("bytes=-0", 1000), ByteRange::Unsatisfiable);
        assert_eq!(range("bytes=0-", 0), ByteRange::Unsatisfiable);
        assert_eq!(range("bytes=-1", 0), ByteRange::Unsatisfiable);
    }

    #[test]
    fn what_it_may_ignore_is_the_whole() {
        assert_eq!(byte_range(None, 10), ByteRange::Whole);
        for value in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=1-2-3",
            "bytes=+1-2",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(range(value, 10), ByteRange::Whole, "{value:?}");
        }
        assert_eq!(byte_range(Some(b"bytes=\xff-1"), 10), ByteRange::Whole);
    }
}
