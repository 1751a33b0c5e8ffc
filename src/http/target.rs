//! The request-target and the Host value: which bytes may stand where.
//!
//! This file owns the URI grammar a server needs (RFC 3986, as RFC 9112 §3.2
//! and RFC 9110 §4 use it): the three target forms eddy accepts, the
//! characters each part may hold, and the `host[:port]` syntax shared by an
//! absolute-form target's authority and the `Host` field. Pure functions over
//! bytes; `head.rs` calls them while it judges a head, `request.rs` to find
//! the path of a target already accepted.
//!
//! Strict on purpose. A character RFC 3986 does not allow (`\`, `<`, `{`, a
//! raw space or byte ≥ 0x80, a broken `%` escape) is a target two parsers
//! may read differently — one decodes it, one rejects it, one passes it on —
//! and RFC 9112 §3.2 says a server SHOULD answer 400 to an invalid target.

use super::refusal::Refusal;

/// `pchar` (RFC 3986 §3.3: unreserved / sub-delims / ":" / "@"; `%`
/// escapes are checked apart) plus `/` and `?`: every byte an origin-form
/// target may hold after its first `/`. A path's `?` starts the query, and
/// a query may hold further `?` and `/`, so one class serves both.
const PATH_OR_QUERY: [bool; 256] = byte_class(b"-._~!$&'()*+,;=:@/?");

/// `reg-name` (RFC 3986 §3.2.2): unreserved and sub-delims; `%` apart.
const REG_NAME: [bool; 256] = byte_class(b"-._~!$&'()*+,;=");

/// A lookup table: ASCII letters and digits, plus the bytes of `extra`.
const fn byte_class(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

/// Checks a request-target (RFC 9112 §3.2) for a request with `method`:
///
/// - origin-form, `/path?query` — what every client sends to a server;
/// - asterisk-form, `*` — only for `OPTIONS` (§3.2.4);
/// - absolute-form, `http://host[:port]/path?query` — which a server MUST
///   accept (§3.2.2). A userinfo part (`http://user@host/`) is refused:
///   RFC 9110 §4.2.4 forbids sending one, and it is a classic way to make
///   a URL look like it names another host.
///
/// Authority-form is for CONNECT through a proxy, which eddy is not. A
/// `#fragment` is the client's alone and is never sent (no form has one),
/// so `#` is one more character that is not allowed.
pub(crate) fn check_target(method: &str, target: &[u8]) -> Result<(), Refusal> {
    let invalid = Refusal::bad("invalid request target");
    let ok = match target {
        [b'/', rest @ ..] => valid_path_and_query(rest),
        b"*" if method != "OPTIONS" => {
            return Err(Refusal::bad("`*` target on a method other than OPTIONS"))
        }
        b"*" => true,
        _ => match absolute_form_path_start(target) {
            Some(start) => {
                let authority = &target[scheme_len(target).unwrap_or(0)..start];
                if authority.contains(&b'@') {
                    return Err(Refusal::bad("userinfo in the request target"));
                }
                valid_host(authority) && valid_path_and_query(&target[start..])
            }
            None => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(invalid)
    }
}

/// For an absolute-form target (`http://host[:port]/path`), the byte index
/// where the part after the authority begins; `None` for any other form or
/// an empty authority (an `http` URI with no host MUST be rejected, RFC 9110
/// §4.2.1).
pub(crate) fn absolute_form_path_start(target: &[u8]) -> Option<usize> {
    let scheme_len = scheme_len(target)?;
    let rest = &target[scheme_len..];
    let authority_len = rest
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .unwrap_or(rest.len());
    (authority_len > 0).then_some(scheme_len + authority_len)
}

/// The length of `http://` or `https://` (any case) at the front, if there.
fn scheme_len(target: &[u8]) -> Option<usize> {
    [&b"http://"[..], b"https://"]
        .iter()
        .find(|scheme| {
            target
                .get(..scheme.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(scheme))
        })
        .map(|scheme| scheme.len())
}

/// Whether a Host value (or an authority) is `uri-host [ ":" port ]` (RFC
/// 9110 §7.2, RFC 3986 §3.2.2): a bracketed IP literal or a reg-name (which
/// covers IPv4 too), then an optional all-digit port. An empty value is
/// allowed: a client sends one when the target has no authority (RFC 9112
/// §3.2), and RFC 9112 §3.3 lets the server then use its own name.
pub(crate) fn valid_host(value: &[u8]) -> bool {
    let value = value.trim_ascii();
    let (host_ok, port) = match value.strip_prefix(b"[") {
        // `[` IP-literal `]`: hex digits, dots and colons (or IPvFuture,
        // whose characters are reg-name ones plus `:`).
        Some(literal) => {
            let Some(end) = literal.iter().position(|&b| b == b']') else {
                return false;
            };
            let inside = &literal[..end];
            let port = match &literal[end + 1..] {
                [] => &b""[..],
                [b':', port @ ..] => port,
                _ => return false,
            };
            let ok =
                !inside.is_empty() && inside.iter().all(|&b| REG_NAME[b as usize] || b == b':');
            (ok, port)
        }
        // A reg-name or IPv4 address: everything up to the first colon.
        None => {
            let (host, port) = match value.iter().position(|&b| b == b':') {
                Some(colon) => (&value[..colon], &value[colon + 1..]),
                None => (value, &b""[..]),
            };
            (all_in(host, &REG_NAME), port)
        }
    };
    host_ok && port.iter().all(u8::is_ascii_digit)
}

/// An origin-form target after its leading `/` (or an absolute-form's part
/// after the authority): path bytes, then optionally `?` and query bytes.
fn valid_path_and_query(rest: &[u8]) -> bool {
    all_in(rest, &PATH_OR_QUERY)
}

/// Whether every byte of `bytes` is in `class`, or starts a well-formed
/// `%XX` escape (RFC 3986 §2.1: `%` followed by two hex digits, nothing
/// else; a lone `%` is how "decoded differently by each parser" starts).
fn all_in(mut bytes: &[u8], class: &[bool; 256]) -> bool {
    // Runs of allowed bytes are one tight scan (this is on every request's
    // path); only a `%` or a refused byte stops it.
    loop {
        let Some(stop) = bytes.iter().position(|&b| !class[b as usize]) else {
            return true;
        };
        let escape = bytes.get(stop + 1..stop + 3);
        if bytes[stop] != b'%' || !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
            return false;
        }
        bytes = &bytes[stop + 3..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(method: &str, target: &str) -> bool {
        check_target(method, target.as_bytes()).is_ok()
    }

    #[test]
    fn origin_form_allows_exactly_rfc_3986s_characters() {
        for good in [
            "/",
            "/fast?id=1",
            "/a/b;c=d/e:f@g",
            "/s?q=a+b&x=%20%7E&y=/?z",
            "/~user/-._!$&'()*,=",
            "/p?",
        ] {
            assert!(ok("GET", good), "{good}");
        }
        for bad in [
            "/fast\\x?id=p1",
            "/fast?id=p1<x>",
            "/fast?id=p1{|}^`",
            "/a b",
            "/a\"b",
            "/a[b]",
            "/a#b",
            "/caf\u{e9}",
            "/a\x7fb",
            "/%zz",
            "/%4",
            "/%",
            "",
            "fast",
        ] {
            assert!(!ok("GET", bad), "{bad:?}");
        }
    }

    #[test]
    fn asterisk_form_is_for_options_only() {
        assert!(ok("OPTIONS", "*"));
        assert!(!ok("GET", "*"));
        assert!(!ok("OPTIONS", "**"));
    }

    #[test]
    fn absolute_form_needs_a_host_and_no_userinfo() {
        for good in [
            "http://localhost/fast?id=p1",
            "HTTP://a:8888/fast?id=7",
            "https://h?x=1",
            "http://[::1]:80/",
            "http://a",
        ] {
            assert!(ok("GET", good), "{good}");
        }
        for bad in [
            "http://user@localhost/fast?id=p1",
            "http://u:p@a/",
            "http:///p",
            "http://a b/",
            "http://a:80x/",
            "http://a/<",
            "ftp://a/",
            "example.com/",
            "a:443",
        ] {
            assert!(!ok("GET", bad), "{bad:?}");
        }
        assert_eq!(absolute_form_path_start(b"http://a:1/p"), Some(10));
        assert_eq!(absolute_form_path_start(b"http:///p"), None);
        assert_eq!(absolute_form_path_start(b"/p"), None);
    }

    #[test]
    fn host_values() {
        for good in [
            "a",
            "a:80",
            "a:",
            "127.0.0.1:8888",
            "[::1]:8888",
            "[::1]",
            "xn--e-8ja.example",
            "a%2Db",
            "",
        ] {
            assert!(valid_host(good.as_bytes()), "{good:?}");
        }
        for bad in [
            "a b", "a/b", "u@a", "a:80x", "a:80:81", "[::1", "[::1]x", "[]", "a?b", "a%zz",
        ] {
            assert!(!valid_host(bad.as_bytes()), "{bad:?}");
        }
    }
}
