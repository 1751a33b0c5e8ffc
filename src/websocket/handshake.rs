//! The opening handshake, server side (RFC 6455 §4.2): is this request a
//! WebSocket upgrade the server may accept, and what does its `101` say?
//!
//! This file owns the rules a client's handshake must pass (§4.2.1), each
//! next to its reason, and the fields of the answer (§4.2.2). By the time a
//! [`Request`] gets here the HTTP decoder has checked its framing and its
//! `Host` (one, well formed); what is left is WebSocket's. A pure function
//! over the request: the caller (the protocol that answers the request)
//! turns a [`Refused`] into a status and an [`Accepted`] into a `101`, and
//! hands the connection to the frame codec (`frame.rs`).
//!
//! Two choices are the application's, not the codec's, so they come in as
//! functions: whether a page from another origin may connect (the browser
//! sends `Origin`, and only the server can refuse it — §10.2), and which of
//! the subprotocols the client offers to speak (§1.9).

use super::accept::{accept_key, valid_key};
use crate::http::chunked::is_tchar;
use crate::http::{Request, Version};

/// The only version of the protocol eddy speaks, RFC 6455's (§4.1, point
/// 9): what a `426` answer names in its `Sec-WebSocket-Version` field.
pub(crate) const SUPPORTED_VERSION: &str = "13";

/// A handshake the server accepts: what its `101` carries
/// ([`response_head`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accepted {
    /// `Sec-WebSocket-Accept`: proof that the server read this handshake
    /// (§4.2.2, step 5, point 4).
    pub(crate) accept: String,
    /// `Sec-WebSocket-Protocol`: the subprotocol chosen among the client's
    /// offers, if any (§4.2.2, step 5, point 5).
    pub(crate) protocol: Option<String>,
}

/// Why a request is not a handshake the server accepts, and so which
/// answer it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// No `Upgrade: websocket`: not a handshake at all. The route answers
    /// it as it would any request (its fallback, or `426 Upgrade
    /// Required`).
    NotAnUpgrade,
    /// A `Sec-WebSocket-Version` other than 13: `426 Upgrade Required` with
    /// `Sec-WebSocket-Version: 13` ([`SUPPORTED_VERSION`]), so that the
    /// client can retry with a version both speak (§4.2.2, step 4; §4.4).
    Version,
    /// `Sec-WebSocket-Key` missing, repeated, or not the base64 of 16
    /// bytes: `400 Bad Request` (§4.2.1, point 5; §4.2.2, step 4).
    BadKey,
    /// A page from an origin the application does not allow: `403
    /// Forbidden` (§4.2.2, step 4; §10.2).
    Origin,
    /// Any other rule of §4.2.1 broken: `400 Bad Request`, with why.
    BadRequest(&'static str),
}

/// Checks `request` as a WebSocket opening handshake (§4.2.1).
///
/// `origin_allowed(origin)` is asked only when the request carries an
/// `Origin` naming another host or port than its `Host` (Tornado's
/// `check_origin` rule: a page may open a WebSocket to the server it came
/// from; others must be allowed). `choose_protocol(offers)` is asked only
/// when the client offers subprotocols, and gets them in the client's order
/// of preference; a choice that is not among them is ignored, as the
/// client would fail the connection on it (§4.1, the client's step 6).
pub(crate) fn check(
    request: &Request,
    origin_allowed: &dyn Fn(&str) -> bool,
    choose_protocol: &dyn Fn(&[&str]) -> Option<String>,
) -> Result<Accepted, Refused> {
    // §4.2.1, point 3: "An |Upgrade| header field containing the value
    // "websocket", treated as an ASCII case-insensitive value". Without it
    // the request is not a handshake and none of the rules below apply.
    if !list(request, "upgrade").any(|token| token.eq_ignore_ascii_case(b"websocket")) {
        return Err(Refused::NotAnUpgrade);
    }
    // §4.2.1, point 1: "An HTTP/1.1 or higher GET request". (The decoder
    // serves any HTTP/1.x, x ≥ 1, as 1.1.)
    if request.method != "GET" {
        return Err(Refused::BadRequest("a WebSocket handshake is a GET"));
    }
    if request.version != Version::Http11 {
        return Err(Refused::BadRequest("a WebSocket handshake needs HTTP/1.1"));
    }
    // §4.2.1, point 4: "A |Connection| header field that includes the
    // token "Upgrade", treated as an ASCII case-insensitive value". Without
    // it an intermediary could forward `Upgrade` as an ordinary field.
    if !list(request, "connection").any(|token| token.eq_ignore_ascii_case(b"upgrade")) {
        return Err(Refused::BadRequest("Connection lacks the upgrade token"));
    }
    // §4.2.1, point 6: "A |Sec-WebSocket-Version| header field, with a
    // value of 13"; §11.3.5: it appears once in a request. Checked before
    // the key, so that a client of another version learns which one to
    // speak, whatever its key looks like.
    match one(request, "sec-websocket-version") {
        Some(Ok(version)) if version == SUPPORTED_VERSION.as_bytes() => {}
        _ => return Err(Refused::Version),
    }
    // §4.2.1, point 5: "A |Sec-WebSocket-Key| header field with a
    // base64-encoded value that, when decoded, is 16 bytes in length";
    // §11.3.1: it "MUST NOT appear more than once".
    let key = match one(request, "sec-websocket-key") {
        Some(Ok(key)) => std::str::from_utf8(key).ok().filter(|key| valid_key(key)),
        _ => None,
    };
    let key = key.ok_or(Refused::BadKey)?;
    // §4.2.1, point 7, and §10.2: a browser names the page's origin; a
    // server that serves its own pages only answers other origins 403.
    // RFC 6454 §7.3: a user agent sends at most one `Origin`.
    match one(request, "origin") {
        None => {} // not a browser: no page to guard against
        Some(Err(())) => return Err(Refused::BadRequest("more than one Origin")),
        Some(Ok(origin)) => {
            // Not UTF-8: not an origin anyone could allow (RFC 6454 §6
            // serializes one in ASCII).
            let origin = std::str::from_utf8(origin).map_err(|_| Refused::Origin)?;
            let host = request
                .header("host")
                .and_then(|h| std::str::from_utf8(h).ok());
            let same = host.is_some_and(|host| same_origin(origin, host));
            if !same && !origin_allowed(origin) {
                return Err(Refused::Origin);
            }
        }
    }
    // §4.2.1, point 8, and §4.1, point 10: the subprotocols the client
    // offers, in its order of preference, "non-empty strings with
    // characters in the range U+0021 to U+007E not including separator
    // characters" (tokens), and "all be unique strings". Possibly over
    // several field lines (RFC 9110 §5.3: one list, joined).
    let mut offers: Vec<&str> = Vec::new();
    for offer in list(request, "sec-websocket-protocol") {
        let offer = std::str::from_utf8(offer)
            .ok()
            .filter(|offer| offer.bytes().all(is_tchar))
            .ok_or(Refused::BadRequest("a subprotocol that is not a token"))?;
        if offers.contains(&offer) {
            return Err(Refused::BadRequest("a subprotocol offered twice"));
        }
        offers.push(offer);
    }
    let protocol = if offers.is_empty() {
        None
    } else {
        choose_protocol(&offers).filter(|chosen| offers.contains(&chosen.as_str()))
    };
    // §4.2.1, point 9: `Sec-WebSocket-Extensions` is not read. No
    // extension is accepted — permessage-deflate stays off, and with it
    // RSV1, which the frame decoder then refuses (§5.2).
    Ok(Accepted {
        accept: accept_key(key),
        protocol,
    })
}

/// The fields of the `101 Switching Protocols` that accepts a handshake
/// (§4.2.2, step 5), in order: `Upgrade` (point 2),
/// `Sec-WebSocket-Accept` (point 4), and `Sec-WebSocket-Protocol` if a
/// subprotocol was chosen (point 5). No `Sec-WebSocket-Extensions`: none is
/// accepted. `Connection: Upgrade` (point 3) is not here: the response
/// encoder writes it for every 101, the `Connection` field being the
/// server's own (`http::response`).
pub(crate) fn response_head(accepted: &Accepted) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("Upgrade", "websocket".to_string()),
        ("Sec-WebSocket-Accept", accepted.accept.clone()),
    ];
    if let Some(protocol) = &accepted.protocol {
        fields.push(("Sec-WebSocket-Protocol", protocol.clone()));
    }
    fields
}

/// The elements of the comma-separated list field `name`, over every line
/// of it, trimmed, empty ones skipped (RFC 9110 §5.6.1: a recipient
/// accepts and ignores them).
fn list<'r>(request: &'r Request, name: &'r str) -> impl Iterator<Item = &'r [u8]> + 'r {
    request
        .headers()
        .filter(move |(field, _)| field.eq_ignore_ascii_case(name))
        .flat_map(|(_, value)| value.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|element| !element.is_empty())
}

/// The value of field `name` if it is there: `Ok` if on one line,
/// `Err(())` if on several.
fn one<'r>(request: &'r Request, name: &str) -> Option<Result<&'r [u8], ()>> {
    let mut values = request
        .headers()
        .filter(|(field, _)| field.eq_ignore_ascii_case(name))
        .map(|(_, value)| value);
    let first = values.next()?;
    Some(match values.next() {
        None => Ok(first),
        Some(_) => Err(()),
    })
}

/// Whether `origin` (RFC 6454 §7: `scheme "://" host [ ":" port ]`) names
/// the host and port the request was sent to, `host` (its `Host` field):
/// hosts compared case-insensitively, an absent port being its scheme's
/// default (80 for http and ws, 443 for https and wss). `null`, and
/// anything that is not an origin, is never the same.
///
/// The codec does not know whether the connection is TLS, so a `Host`
/// without a port matches an origin on its own scheme's default port: a
/// page on `http://example.com` may open `wss://example.com`, as Tornado
/// (which compares `Origin`'s host with `Host` alone) allows too.
fn same_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => 80,
        "https" | "wss" => 443,
        _ => return false,
    };
    let (Some((origin_host, origin_port)), Some((host, port))) =
        (host_and_port(authority), host_and_port(host))
    else {
        return false;
    };
    let origin_port = origin_port.unwrap_or(default_port);
    origin_host.eq_ignore_ascii_case(host) && port.unwrap_or(default_port) == origin_port
}

/// `host [ ":" port ]` split, the host possibly an IPv6 literal in
/// brackets (RFC 3986 §3.2.2), an empty port the same as none (§6.2.3);
/// `None` if the port is not a number of digits that fits, or the host is
/// empty.
fn host_and_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(literal) => {
            let end = literal.find(']')? + 2; // past the brackets
            match &authority[end..] {
                "" => (&authority[..end], None),
                rest => (&authority[..end], Some(rest.strip_prefix(':')?)),
            }
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = match port {
        None | Some("") => None,
        // `parse` alone would take a sign: `+80`.
        Some(port) if port.bytes().all(|b| b.is_ascii_digit()) => Some(port.parse().ok()?),
        Some(_) => return None,
    };
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Decoded, Limits, RequestDecoder};
    use std::cell::{Cell, RefCell};

    /// RFC 6455 §1.3's key.
    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    /// The fields of a handshake that passes every rule.
    const BASE: [(&str, &str); 5] = [
        ("Host", "server.example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", KEY),
        ("Sec-WebSocket-Version", "13"),
    ];

    /// A request decoded from its bytes, as the server gets it.
    fn decode(line: &str, fields: &[(&str, &str)]) -> Request {
        let mut head = format!("{line}\r\n");
        for (name, value) in fields {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        match RequestDecoder::new(Limits::default()).decode(head.as_bytes()) {
            (_, Decoded::Request(request)) => *request,
            (_, other) => panic!("{head:?} decoded as {other:?}"),
        }
    }

    /// [`BASE`] with `changes`: a name in `changes` replaces every field
    /// of that name in `BASE` with its `Some` values (several make several
    /// lines), or removes it (`None`).
    fn handshake(changes: &[(&str, Option<&str>)]) -> Request {
        let mut fields: Vec<(&str, &str)> = BASE
            .into_iter()
            .filter(|(name, _)| !changes.iter().any(|(c, _)| c.eq_ignore_ascii_case(name)))
            .collect();
        fields.extend(
            changes
                .iter()
                .filter_map(|&(name, value)| Some((name, value?))),
        );
        decode("GET /chat HTTP/1.1", &fields)
    }

    /// `check` with no origin allowed and no subprotocol chosen.
    fn plain(request: &Request) -> Result<Accepted, Refused> {
        check(request, &|_| false, &|_| None)
    }

    /// RFC 6455 §1.2's handshake, from a page on another origin the
    /// application allows, choosing the first subprotocol offered.
    #[test]
    fn the_rfc_example_is_accepted() {
        let request = decode(
            "GET /chat HTTP/1.1",
            &[
                ("Host", "server.example.com"),
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", KEY),
                ("Origin", "http://example.com"),
                ("Sec-WebSocket-Protocol", "chat, superchat"),
                ("Sec-WebSocket-Version", "13"),
            ],
        );
        let asked = RefCell::new(Vec::new());
        let accepted = check(
            &request,
            &|origin| {
                asked.borrow_mut().push(origin.to_string());
                origin == "http://example.com"
            },
            &|offers| offers.first().map(|s| s.to_string()),
        );
        let accepted = accepted.unwrap();
        assert_eq!(asked.into_inner(), ["http://example.com"]);
        assert_eq!(
            accepted,
            Accepted {
                accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into(),
                protocol: Some("chat".into()),
            }
        );
        let fields = response_head(&accepted);
        assert_eq!(
            fields,
            [
                ("Upgrade", "websocket".to_string()),
                (
                    "Sec-WebSocket-Accept",
                    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into()
                ),
                ("Sec-WebSocket-Protocol", "chat".into()),
            ]
        );
        // Without a subprotocol, the field is left out.
        let plain = plain(&handshake(&[])).unwrap();
        assert_eq!(plain.protocol, None);
        assert_eq!(response_head(&plain).len(), 2);
    }

    /// §4.2.1, point 3: `Upgrade` is a case-insensitive list that must
    /// hold `websocket`; without it, the request is someone else's.
    #[test]
    fn without_upgrade_websocket_it_is_not_a_handshake() {
        for upgrade in [None, Some("h2c"), Some("websocketx"), Some("web socket")] {
            let request = handshake(&[("Upgrade", upgrade)]);
            assert_eq!(plain(&request), Err(Refused::NotAnUpgrade), "{upgrade:?}");
        }
        // Not even the method is looked at then.
        let post = decode(
            "POST /chat HTTP/1.1",
            &[("Host", "a"), ("Content-Length", "0")],
        );
        assert_eq!(plain(&post), Err(Refused::NotAnUpgrade));
        for upgrade in [
            &["WebSocket"][..],
            &["h2c, websocket"],
            &["h2c", "WEBSOCKET"],
        ] {
            let changes: Vec<_> = upgrade.iter().map(|u| ("Upgrade", Some(*u))).collect();
            assert!(plain(&handshake(&changes)).is_ok(), "{upgrade:?}");
        }
    }

    /// §4.2.1, point 1.
    #[test]
    fn the_method_is_get_and_the_version_1_1() {
        let mut fields = BASE.to_vec();
        fields.push(("Content-Length", "0"));
        for method in ["POST", "HEAD", "get"] {
            let request = decode(&format!("{method} /chat HTTP/1.1"), &fields);
            assert_eq!(
                plain(&request),
                Err(Refused::BadRequest("a WebSocket handshake is a GET")),
                "{method}"
            );
        }
        let old = decode("GET /chat HTTP/1.0", &BASE);
        assert_eq!(
            plain(&old),
            Err(Refused::BadRequest("a WebSocket handshake needs HTTP/1.1"))
        );
    }

    /// §4.2.1, point 4: `Connection` is a case-insensitive list that must
    /// hold `upgrade`.
    #[test]
    fn connection_must_name_upgrade() {
        let lacks = Err(Refused::BadRequest("Connection lacks the upgrade token"));
        for connection in [None, Some("keep-alive"), Some("upgrades"), Some("close")] {
            let request = handshake(&[("Connection", connection)]);
            assert_eq!(plain(&request), lacks, "{connection:?}");
        }
        for connection in [
            &["keep-alive, Upgrade"][..],
            &["UPGRADE"],
            &["keep-alive", "upgrade"],
        ] {
            let changes: Vec<_> = connection
                .iter()
                .map(|c| ("Connection", Some(*c)))
                .collect();
            assert!(plain(&handshake(&changes)).is_ok(), "{connection:?}");
        }
    }

    /// §4.2.1, point 6: version 13, once — and before the key, so a
    /// client of another version hears which to speak.
    #[test]
    fn the_version_is_13() {
        for version in [
            &[][..],
            &["8"],
            &["13, 8"],
            &["013"],
            &["13", "13"],
            &["14"],
        ] {
            let mut changes: Vec<_> = version
                .iter()
                .map(|v| ("Sec-WebSocket-Version", Some(*v)))
                .collect();
            if version.is_empty() {
                changes.push(("Sec-WebSocket-Version", None));
            }
            assert_eq!(
                plain(&handshake(&changes)),
                Err(Refused::Version),
                "{version:?}"
            );
        }
        let both = handshake(&[
            ("Sec-WebSocket-Version", Some("8")),
            ("Sec-WebSocket-Key", Some("x")),
        ]);
        assert_eq!(plain(&both), Err(Refused::Version));
        assert_eq!(SUPPORTED_VERSION, "13");
    }

    /// §4.2.1, point 5, and §11.3.1.
    #[test]
    fn the_key_is_16_bytes_of_base64_once() {
        for key in [
            &[][..],
            &["dGhlIHNhbXBsZSBub25jZQ"],
            &["dGhlIHNhbXBsZSBub25j"],
            &["dGhlIHNhbXBsZSBub25jZXg="],
            &["not base64 at all!!!!!!="],
            &[KEY, KEY],
        ] {
            let mut changes: Vec<_> = key
                .iter()
                .map(|k| ("Sec-WebSocket-Key", Some(*k)))
                .collect();
            if key.is_empty() {
                changes.push(("Sec-WebSocket-Key", None));
            }
            assert_eq!(plain(&handshake(&changes)), Err(Refused::BadKey), "{key:?}");
        }
        // Any 16 bytes will do, and the accept follows the key as sent.
        let other = handshake(&[("Sec-WebSocket-Key", Some("AAAAAAAAAAAAAAAAAAAAAA=="))]);
        assert_eq!(
            plain(&other).unwrap().accept,
            accept_key("AAAAAAAAAAAAAAAAAAAAAA==")
        );
    }

    /// What `check` makes of `origin` sent to `host`: `Ok(asked)` if
    /// accepted (asked: whether `origin_allowed` was called; it says no),
    /// or the refusal.
    fn origin_check(origin: &str, host: &str) -> Result<bool, Refused> {
        let request = handshake(&[("Origin", Some(origin)), ("Host", Some(host))]);
        let asked = Cell::new(false);
        let allowed = |_: &str| {
            asked.set(true);
            false
        };
        check(&request, &allowed, &|_| None).map(|_| asked.get())
    }

    /// §10.2, with Tornado's rule: the same host and port need no
    /// permission; any other origin does.
    #[test]
    fn another_origin_must_be_allowed() {
        for (origin, host) in [
            ("http://example.com", "example.com"),
            ("https://EXAMPLE.com", "example.com"),
            ("http://example.com:80", "example.com"),
            ("http://example.com", "example.com:80"),
            ("https://example.com", "example.com:443"),
            ("wss://example.com:8443", "Example.COM:8443"),
            ("HTTP://example.com:8080", "example.com:8080"),
            ("http://[::1]:8080", "[::1]:8080"),
            ("http://127.0.0.1", "127.0.0.1"),
            ("http://example.com", "example.com:"),
        ] {
            assert_eq!(origin_check(origin, host), Ok(false), "{origin} to {host}");
        }
        for (origin, host) in [
            ("http://evil.example", "example.com"),
            ("http://example.com.evil.example", "example.com"),
            ("http://example.com:8080", "example.com"),
            ("https://example.com", "example.com:80"),
            ("http://example.com", "example.com:443"),
            ("null", "example.com"),
            ("example.com", "example.com"),
            ("ftp://example.com", "example.com"),
            ("http://example.com:+80", "example.com"),
            ("http://example.com:99999", "example.com:99999"),
            ("http://[::1]", "[::2]"),
            ("http://", "example.com"),
        ] {
            assert_eq!(
                origin_check(origin, host),
                Err(Refused::Origin),
                "{origin} to {host}"
            );
        }
        // Allowed by the application: accepted.
        let request = handshake(&[("Origin", Some("https://friend.example"))]);
        let accepted = check(
            &request,
            &|origin| origin == "https://friend.example",
            &|_| None,
        );
        assert!(accepted.is_ok());
        // No Origin: not a browser, nothing to ask.
        assert!(check(&handshake(&[]), &|_| panic!("asked"), &|_| None).is_ok());
        // Two: refused, whatever they say.
        let two = handshake(&[("Origin", Some("http://a")), ("Origin", Some("http://a"))]);
        assert_eq!(
            plain(&two),
            Err(Refused::BadRequest("more than one Origin"))
        );
    }

    /// What `choose_protocol` is offered for `lines` of
    /// `Sec-WebSocket-Protocol`, and what is chosen when it picks `pick`.
    fn protocol(lines: &[&str], pick: &str) -> Result<(Vec<String>, Option<String>), Refused> {
        let changes: Vec<_> = lines
            .iter()
            .map(|l| ("Sec-WebSocket-Protocol", Some(*l)))
            .collect();
        let offered = RefCell::new(Vec::new());
        let choose = |offers: &[&str]| {
            *offered.borrow_mut() = offers.iter().map(|s| s.to_string()).collect();
            Some(pick.to_string())
        };
        let accepted = check(&handshake(&changes), &|_| false, &choose)?;
        Ok((offered.into_inner(), accepted.protocol))
    }

    /// §4.2.1, point 8; §4.2.2, step 5, point 5.
    #[test]
    fn a_subprotocol_is_chosen_among_the_offers() {
        let offers = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            protocol(&["chat, superchat"], "superchat"),
            Ok((offers(&["chat", "superchat"]), Some("superchat".into())))
        );
        // Several lines are one list; empty elements are skipped.
        assert_eq!(
            protocol(&["chat", " , v2.json,", "mqtt"], "mqtt"),
            Ok((offers(&["chat", "v2.json", "mqtt"]), Some("mqtt".into())))
        );
        // A pick that was not offered (names are case-sensitive) is none.
        assert_eq!(protocol(&["chat"], "Chat"), Ok((offers(&["chat"]), None)));
        // Nothing offered: nothing asked.
        assert_eq!(protocol(&[], "chat"), Ok((Vec::new(), None)));
        assert_eq!(
            protocol(&["chat", "chat"], "chat"),
            Err(Refused::BadRequest("a subprotocol offered twice"))
        );
        for bad in ["a b", "chat/1", "\"chat\""] {
            assert_eq!(
                protocol(&[bad], "chat"),
                Err(Refused::BadRequest("a subprotocol that is not a token")),
                "{bad}"
            );
        }
    }

    /// §4.2.1, point 9: extensions are offered, none is accepted.
    #[test]
    fn extensions_are_ignored() {
        let request = handshake(&[(
            "Sec-WebSocket-Extensions",
            Some("permessage-deflate; client_max_window_bits"),
        )]);
        let accepted = plain(&request).unwrap();
        assert!(response_head(&accepted)
            .iter()
            .all(|(name, _)| !name.eq_ignore_ascii_case("Sec-WebSocket-Extensions")));
    }
}
