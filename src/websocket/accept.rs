//! The handshake's key arithmetic: `Sec-WebSocket-Accept` from
//! `Sec-WebSocket-Key` (RFC 6455 §4.2.2, step 5, point 4), and whether a key
//! is one at all (§4.2.1, point 5).
//!
//! This file owns two small algorithms, written out rather than taken from
//! a crate: SHA-1 (FIPS 180-4 §6.1, the same as RFC 3174) and base64 (RFC
//! 4648 §4). Each is some forty lines, pinned by its standard's test
//! vectors below; a dependency would be larger than the code it saves.
//!
//! SHA-1 is broken for collisions, and that does not matter here: the
//! accept value is no secret and proves nothing about anyone. It shows the
//! client that the server read *this* handshake as a WebSocket handshake
//! (RFC 6455 §1.3), so that no HTTP server or cache that knows nothing of
//! WebSocket can be taken for one.

/// The GUID every server appends to the client's key (RFC 6455 §1.3): a
/// string no endpoint that does not speak WebSocket would use.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// How many bytes a `Sec-WebSocket-Key` decodes to: a 16-byte nonce,
/// chosen at random by the client for each connection (RFC 6455 §4.1,
/// point 7).
const KEY_BYTES: usize = 16;

/// The `Sec-WebSocket-Accept` value for `key`: base64(SHA-1(key + GUID))
/// (RFC 6455 §4.2.2, step 5, point 4). The key is taken as sent, not
/// decoded; see [`valid_key`] for what a key must be.
pub(crate) fn accept_key(key: &str) -> String {
    let mut input = Vec::with_capacity(key.len() + GUID.len());
    input.extend_from_slice(key.as_bytes());
    input.extend_from_slice(GUID.as_bytes());
    base64_encode(&sha1(&input))
}

/// True if `key` is a `Sec-WebSocket-Key`: "a base64-encoded value that,
/// when decoded, is 16 bytes in length" (RFC 6455 §4.2.1, point 5) — 24
/// characters, the last two `==`.
pub(crate) fn valid_key(key: &str) -> bool {
    base64_decode(key).is_some_and(|bytes| bytes.len() == KEY_BYTES)
}

// ---------------------------------------------------------------------------
// SHA-1 (FIPS 180-4).

/// The SHA-1 digest of `message`, in one pass: every whole 64-byte block,
/// then the last partial one with its padding.
fn sha1(message: &[u8]) -> [u8; 20] {
    // FIPS 180-4 §5.3.1: the initial hash value.
    let mut state: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let mut blocks = message.chunks_exact(64);
    for block in &mut blocks {
        compress(&mut state, block);
    }
    // §5.1.1: the message is padded with a 1 bit, then zeros, then its
    // length in bits as a 64-bit big-endian number, to a multiple of 512
    // bits. A remainder of 56 bytes or more leaves no room for the length
    // in its block: the padding then takes two.
    let rest = blocks.remainder();
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let tail_len = if rest.len() < 56 { 64 } else { 128 };
    let bits = (message.len() as u64).wrapping_mul(8);
    tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_be_bytes());
    for block in tail[..tail_len].chunks_exact(64) {
        compress(&mut state, block);
    }
    let mut digest = [0u8; 20];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

/// One 64-byte block into the hash state (FIPS 180-4 §6.1.2).
fn compress(state: &mut [u32; 5], block: &[u8]) {
    // Step 1: the message schedule, sixteen words of the block, then
    // sixty-four made from them.
    let mut w = [0u32; 80];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for t in 16..80 {
        w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
    }
    // Steps 2–4: eighty rounds, in four groups of twenty, each with its own
    // function (§4.1.1) and constant (§4.2.1).
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for (t, &word) in w.iter().enumerate() {
        let (f, k) = match t {
            0..=19 => ((b & c) | (!b & d), 0x5a82_7999), // Ch
            20..=39 => (b ^ c ^ d, 0x6ed9_eba1),         // Parity
            40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc), // Maj
            _ => (b ^ c ^ d, 0xca62_c1d6),               // Parity
        };
        let temp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(word);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp;
    }
    for (h, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *h = h.wrapping_add(v);
    }
}

// ---------------------------------------------------------------------------
// Base64 (RFC 4648 §4): the standard alphabet, padded.

/// The 64 characters, in the order of the 6-bit values they stand for
/// (RFC 4648 §4, Table 1).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `bytes` in base64, padded with `=` to a multiple of four characters.
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        // Three bytes are four 6-bit values; a short last group is padded
        // with zero bits, and each missing byte with a `=` (§4, cases 2, 3).
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes `text` encodes, or `None` if it is not canonical base64: a
/// length that is not a multiple of four, a character outside the
/// alphabet, padding anywhere but at the end, or pad bits that are not
/// zero. RFC 4648 §3.5 lets a decoder refuse those bits ("decoders MAY
/// chose to reject an encoding if the pad bits have not been set to
/// zero"); this one does, so a key has one spelling only — the one every
/// client's encoder produces.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if text.len() % 4 != 0 {
        return None; // §3.2: an encoding is padded to whole quanta
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let quanta = text.len() / 4;
    for (q, quantum) in text.chunks_exact(4).enumerate() {
        // `=` only in the last quantum, and only as its last one or two
        // characters (§4: "==" after two characters, "=" after three).
        let pad = match (q + 1 == quanta, quantum) {
            (true, [_, _, b'=', b'=']) => 2,
            (true, [_, _, _, b'=']) => 1,
            _ => 0,
        };
        let mut n = 0u32;
        for &c in &quantum[..4 - pad] {
            n = n << 6 | u32::from(sextet(c)?);
        }
        n <<= 6 * pad;
        let bytes = n.to_be_bytes();
        let kept = 3 - pad;
        // The bits past the last whole byte are the pad bits: zero in a
        // canonical encoding (§3.5).
        if bytes[1 + kept..].iter().any(|&b| b != 0) {
            return None;
        }
        out.extend_from_slice(&bytes[1..1 + kept]);
    }
    Some(out)
}

/// The 6-bit value of one base64 character; `None` outside the alphabet
/// (which includes `=`: the decoder strips padding before it asks).
fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 6455 §1.3's worked example.
    #[test]
    fn the_rfc_example_key_gives_its_accept_value() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert!(valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(
            base64_decode("dGhlIHNhbXBsZSBub25jZQ==").unwrap(),
            b"the sample nonce"
        );
    }

    /// FIPS 180-4's examples (and RFC 3174 §7.3's tests 1, 2 and 3).
    #[test]
    fn sha1_test_vectors() {
        let cases: [(&[u8], &str); 4] = [
            (b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (b"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
            ),
            (
                b"The quick brown fox jumps over the lazy dog",
                "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
            ),
        ];
        for (message, digest) in cases {
            assert_eq!(hex(&sha1(message)), digest, "{message:?}");
        }
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha1(&million)),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    /// The padding's edges: a remainder of 55 bytes still has room for the
    /// length, 56 does not, 64 is a whole block of its own. (Digests from
    /// coreutils' `sha1sum`.)
    #[test]
    fn sha1_at_the_block_edges() {
        let cases = [
            (55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"),
            (56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"),
            (63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"),
            (64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"),
        ];
        for (len, digest) in cases {
            assert_eq!(hex(&sha1(&vec![b'a'; len])), digest, "{len} bytes");
        }
    }

    /// RFC 4648 §10.
    #[test]
    fn base64_test_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded).unwrap(), plain.as_bytes());
        }
        // Every byte value, both ways.
        let all: Vec<u8> = (0..=255).collect();
        let encoded = base64_encode(&all);
        assert!(encoded.ends_with("/w=="), "{encoded}");
        assert_eq!(base64_decode(&encoded).unwrap(), all);
    }

    #[test]
    fn bad_keys_are_refused() {
        for key in [
            "",
            "dGhlIHNhbXBsZSBub25jZQ=",      // 23 characters
            "dGhlIHNhbXBsZSBub25jZQ===",    // 25
            "dGhlIHNhbXBsZSBub25jZQ",       // no padding
            "dGhlIHNhbXBsZSBub25jZXg=",     // 17 bytes
            "dGhlIHNhbXBsZSBub25j",         // 15 bytes
            "dGhlIHNhbXBsZSBub25jZQ==AAAA", // padding in the middle
            "dGhlIHNhbXBsZSB=b25jZQ==",     // padding in the middle
            "dGhlIHNhbXBsZSBub25jZ===",     // three `=`
            "dGhlIHNhbXBsZSBub25jZR==",     // pad bits not zero
            "dGhlIHNhbXBsZSBub25j*Q==",     // not in the alphabet
            "dGhlIHNhbXBsZSBub25j-Q==",     // base64url's alphabet
            "dGhlIHNhbXBsZSBub25jZQ== ",    // a space
            "dGhlIHNhbXBsZSBub25jZé=",      // not ASCII
        ] {
            assert!(!valid_key(key), "{key:?} taken for a key");
        }
        // Any 16 bytes, canonically encoded, is a key.
        assert!(valid_key(&base64_encode(&[0xff; 16])));
        assert!(valid_key(&base64_encode(&[0; 16])));
    }
}
