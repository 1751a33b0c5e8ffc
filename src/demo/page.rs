//! `GET /`: the seed's experiment as a live page in the browser.
//!
//! The page itself is `page.html`, next to this file: HTML, CSS and plain
//! JavaScript in one file, compiled into the binary with `include_str!`, so
//! the server needs no files at run time and the page no build step. What
//! it measures and why is written in the page, for the person reading it.
//!
//! Serving it is one inline route. The bytes are fixed when eddy is
//! compiled, so their ETag is too: a `const fn` hashes them at compile time,
//! and a request costs a copy of the page into the response body and
//! nothing more. `Cache-Control: no-cache` lets a browser keep the page but
//! makes it ask again each time, so a rebuilt server is never hidden behind
//! a stale copy. Answering that question with `304 Not Modified` is not done
//! yet: every request gets the whole page.

use crate::http::{Request, Response, StatusCode};
use crate::status::ServerStatus;

/// The page's bytes.
const PAGE: &str = include_str!("page.html");

/// The page's strong ETag: its FNV-1a 64-bit hash as 16 hex digits, in
/// quotes (`"0123456789abcdef"`), as RFC 9110 §8.8.3 spells an entity tag.
/// A strong tag promises that equal tags mean equal bytes; a hash of the
/// bytes themselves keeps that promise across builds and machines.
const ETAG: &str = match std::str::from_utf8(&ETAG_BYTES) {
    Ok(tag) => tag,
    Err(_) => panic!("hex digits are ASCII"),
};

const ETAG_BYTES: [u8; 18] = quoted_hex(fnv1a(PAGE.as_bytes()));

/// The route's handler: the page, with its type and caching headers.
pub(super) fn page(_: &Request, _: &ServerStatus) -> Response {
    Response::text(StatusCode::OK, PAGE)
        .with_content_type("text/html; charset=utf-8")
        .with_header("ETag", ETAG)
        .with_header("Cache-Control", "no-cache")
}

/// FNV-1a, 64 bits (<http://www.isthe.com/chongo/tech/comp/fnv/>): a few
/// lines, no dependency, and good enough to tell two versions of one page
/// apart. Not a defence against someone crafting collisions; an ETag need
/// not be.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    // `while`, not `for`: iterators are not available in a `const fn`.
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// `"` + 16 lowercase hex digits of `value` + `"`.
const fn quoted_hex(value: u64) -> [u8; 18] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'"'; 18];
    let mut i = 0;
    while i < 16 {
        out[1 + i] = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_etag_is_the_quoted_hash_of_the_page() {
        assert_eq!(ETAG, format!("\"{:016x}\"", fnv1a(PAGE.as_bytes())));
    }

    #[test]
    fn the_page_is_small_and_self_contained() {
        // 20 KiB held the HTTP experiment; the WebSocket panel (issue 23)
        // brought it near 25. A bound still: the page is read, not built.
        assert!(PAGE.len() < 32 * 1024, "{} bytes", PAGE.len());
        for outside in [
            "src=\"http",
            "href=\"http",
            "src=\"//",
            "href=\"//",
            "@import",
        ] {
            assert!(
                !PAGE.contains(outside),
                "the page loads something: {outside}"
            );
        }
    }
}
