//! A response body that keeps short texts inside the response itself.
//!
//! Most answers of a small API are short: `fast result 17`, `ok`,
//! `404 Not Found`. Giving each one a heap buffer would cost an allocation
//! per request for a dozen bytes, so a [`Body`] holds up to
//! [`INLINE_BODY`] bytes inline and spills to a `Vec` only beyond that.
//! [`Body::format`] writes `format_args!` output straight into it, which is
//! how the demo's `/fast` answers without allocating.
//!
//! A body may also be *streamed* ([`Body::streamed`]): its bytes arrive later,
//! through a pipe from another thread (`stream.rs`). The codec only needs to
//! know that, and the length if there is one, to write the head.

use std::fmt;

use crate::stream::StreamBody;

/// Bodies up to this many bytes are stored inline.
pub(crate) const INLINE_BODY: usize = 64;

/// The bytes of a response body, as [`Response::text`](crate::Response::text)
/// and [`Response::with_body`](crate::Response::with_body) take them: made
/// from a `&str`, a `String` or a `Vec<u8>`.
///
/// Opaque: whether the bytes sit inline, on the heap or come later through
/// a pipe is the server's business; a handler reads them back with
/// [`as_bytes`](Body::as_bytes).
#[derive(Clone)]
pub struct Body(Repr);

/// What a [`Body`] holds.
#[derive(Clone)]
enum Repr {
    /// Short: the first `len` bytes of `bytes`.
    Inline {
        /// How many bytes are used.
        len: u8,
        /// The storage.
        bytes: [u8; INLINE_BODY],
    },
    /// Long: on the heap.
    Heap(Vec<u8>),
    /// Streamed: the bytes come later, through a pipe (`stream.rs`). It
    /// holds none itself: `as_bytes` is empty.
    Stream(StreamBody),
}

impl Body {
    /// An empty body.
    pub(crate) const fn empty() -> Body {
        Body(Repr::Inline {
            len: 0,
            bytes: [0; INLINE_BODY],
        })
    }

    /// A body holding the formatted `args`, inline if it fits.
    pub(crate) fn format(args: fmt::Arguments<'_>) -> Body {
        let mut body = Body::empty();
        // Writing to a Body cannot fail; a Display impl that errors would be
        // a bug in that impl, and its partial output is still a body.
        let _ = fmt::Write::write_fmt(&mut body, args);
        body
    }

    /// A streamed body: the loop's end of a pipe.
    pub(crate) fn streamed(stream: StreamBody) -> Body {
        Body(Repr::Stream(stream))
    }

    /// The bytes (none for a streamed body, whose bytes never sit here).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Heap(bytes) => bytes,
            Repr::Stream(_) => &[],
        }
    }

    /// The pipe of a streamed body.
    pub(crate) fn stream(&self) -> Option<&StreamBody> {
        match &self.0 {
            Repr::Stream(stream) => Some(stream),
            _ => None,
        }
    }

    /// Length in bytes of a body held here (the `Content-Length`); 0 for a
    /// streamed one, whose length, if known, is the stream's.
    pub(crate) fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Appends bytes, moving to the heap when they no longer fit inline.
    pub(crate) fn extend_from_slice(&mut self, more: &[u8]) {
        match &mut self.0 {
            Repr::Inline { len, bytes } => {
                let used = usize::from(*len);
                if used + more.len() <= INLINE_BODY {
                    bytes[used..used + more.len()].copy_from_slice(more);
                    *len = (used + more.len()) as u8;
                } else {
                    let mut heap = Vec::with_capacity(used + more.len());
                    heap.extend_from_slice(&bytes[..used]);
                    heap.extend_from_slice(more);
                    self.0 = Repr::Heap(heap);
                }
            }
            Repr::Heap(heap) => heap.extend_from_slice(more),
            // A streamed body's bytes come through its pipe; appending here
            // would be a second body. Start over as a held one instead.
            Repr::Stream(_) => self.0 = Repr::Heap(more.to_vec()),
        }
    }
}

impl fmt::Write for Body {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl Default for Body {
    fn default() -> Body {
        Body::empty()
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Body {
        let mut body = Body::empty();
        body.extend_from_slice(text.as_bytes());
        body
    }
}

impl From<String> for Body {
    /// Takes the string's buffer as it is: it is allocated already.
    fn from(text: String) -> Body {
        Body(Repr::Heap(text.into_bytes()))
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Body {
        Body(Repr::Heap(bytes))
    }
}

impl PartialEq for Body {
    fn eq(&self, other: &Body) -> bool {
        match (&self.0, &other.0) {
            (Repr::Stream(a), Repr::Stream(b)) => a == b,
            (Repr::Stream(_), _) | (_, Repr::Stream(_)) => false,
            _ => self.as_bytes() == other.as_bytes(),
        }
    }
}

impl Eq for Body {}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Stream(stream) => write!(f, "{stream:?}"),
            _ => write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_bodies_stay_inline_and_long_ones_spill() {
        let short = Body::format(format_args!("fast result {}", 17));
        assert!(matches!(short.0, Repr::Inline { .. }));
        assert_eq!(short.as_bytes(), b"fast result 17");

        let long = Body::format(format_args!("{}", "x".repeat(INLINE_BODY + 1)));
        assert!(matches!(long.0, Repr::Heap(_)));
        assert_eq!(long.len(), INLINE_BODY + 1);

        let mut grown = Body::from("a".repeat(INLINE_BODY).as_str());
        assert!(matches!(grown.0, Repr::Inline { .. }));
        grown.extend_from_slice(b"b");
        assert_eq!(grown.len(), INLINE_BODY + 1);
        assert!(grown.as_bytes().ends_with(b"ab"));
    }
}
