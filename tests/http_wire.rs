//! The HTTP/1.1 wire behaviour, in raw bytes on real sockets: keep-alive and
//! HTTP/1.0 connection handling, HEAD, 404/405/400 statuses, request bodies
//! (Content-Length, chunked, `Expect: 100-continue`) framed correctly so a
//! pipelined request after them is answered, pipelined responses in request
//! order even when jobs finish out of order, malformed input, and the headers
//! every response carries.
//!
//! The tests in `both_transports!` blocks (keep-alive, HTTP/1.0's close,
//! pipelining, bodies, `Expect: 100-continue`, the half-close) run over
//! plain TCP and over TLS: `NAME::plain` and `NAME::tls` (issue 22 point 10;
//! tests/common/mod.rs, `Wire`).

mod common;

use common::{
    assert_standard_headers, both_transports, get, get_req, Client, Response, Server, Wire,
};
use std::io::Read;

/// A fresh server with default settings and no access log.
fn server() -> Server {
    server_over(Wire::Plain)
}

/// [`server`] speaking `wire`.
fn server_over(wire: Wire) -> Server {
    Server::start_over(wire, &["--quiet"])
}

/// Asserts a 200 `fast result ID` response.
fn assert_fast(r: &Response, id: u32) {
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.text(), format!("fast result {id}"));
    assert_standard_headers(r, false);
}

both_transports! {
    fn keep_alive_serves_several_requests_on_one_connection(wire) {
        let s = server_over(wire);
        let mut c = s.connect();
        for id in 1..=3 {
            let r = c.get(&format!("/fast?id={id}"));
            assert_fast(&r, id);
            assert!(!r.closes(), "HTTP/1.1 response closes by default: {r:?}");
        }
    }

    fn http10_closes_by_default(wire) {
        let s = server_over(wire);
        let mut c = s.connect();
        c.send(b"GET /fast?id=1 HTTP/1.0\r\n\r\n");
        let r = c.response();
        assert_fast(&r, 1);
        assert!(
            r.closes(),
            "HTTP/1.0 response lacks Connection: close: {r:?}"
        );
        c.assert_closed();
    }
}

#[test]
fn http10_keep_alive_keeps_the_connection() {
    let s = server();
    let mut c = Client::connect(s.addr);
    for id in 1..=2 {
        c.send(format!("GET /fast?id={id} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").as_bytes());
        let r = c.response();
        assert_fast(&r, id);
        let conn = r.header("connection").unwrap_or("");
        assert!(conn.eq_ignore_ascii_case("keep-alive"), "{r:?}");
    }
}

#[test]
fn health_and_metrics_must_not_be_cached() {
    // They say how the server is now; a cache must not answer for it.
    let s = server();
    for path in ["/healthz", "/metrics"] {
        let r = get(s.addr, path);
        assert_eq!(r.status, 200, "{path}: {r:?}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}: {r:?}");
    }
    let r = get(s.addr, "/fast?id=1");
    assert_eq!(r.header("cache-control"), None, "{r:?}");
}

both_transports! {
    fn head_matches_get_without_a_body(wire) {
        let s = server_over(wire);
        let mut c = s.connect();
        for path in ["/fast?id=5", "/healthz"] {
            // HEAD then GET in one write: if HEAD sent body bytes, they would be
            // read as the GET's status line.
            let head = format!("HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            c.send(format!("{head}{}", get_req(path)).as_bytes());
            let h = c.head_response();
            let g = c.response();
            assert_eq!((h.status, g.status), (200, 200), "{path}: {h:?} {g:?}");
            assert_standard_headers(&h, true);
            assert_standard_headers(&g, false);
            assert_eq!(
                h.header("content-length"),
                Some(g.body.len().to_string().as_str())
            );
            assert_eq!(h.header("content-type"), g.header("content-type"));
        }
    }
}

#[test]
fn unknown_path_is_404() {
    let s = server();
    let r = get(s.addr, "/nope");
    assert_eq!(r.status, 404, "{r:?}");
    assert_standard_headers(&r, false);
}

#[test]
fn other_method_on_known_path_is_405_with_allow() {
    let s = server();
    for req in [
        "POST /fast?id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
        "DELETE /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    ] {
        let mut c = Client::connect(s.addr);
        c.send(req.as_bytes());
        let r = c.response();
        assert_eq!(r.status, 405, "{req:?}: {r:?}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{req:?}");
        assert_standard_headers(&r, false);
    }
}

/// `Allow` tells the truth (RFC 9110 §10.2.1): every method a 405 lists is
/// one the path then answers, and OPTIONS lists those and itself — a list
/// that left OPTIONS out of its own answer misled a newcomer. (The 405's
/// list is the contract's `GET, HEAD`.)
#[test]
fn every_method_a_405_allows_is_answered() {
    let s = server();
    let mut c = Client::connect(s.addr);
    c.send(b"DELETE /fast?id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 405, "{r:?}");
    let allow = r.header("allow").expect("a 405 carries Allow").to_string();
    for method in allow.split(", ") {
        c.send(format!("{method} /fast?id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes());
        let r = if method == "HEAD" {
            c.head_response()
        } else {
            c.response()
        };
        assert_eq!(r.status, 200, "{method}, listed in Allow: {allow}: {r:?}");
        assert_ne!(method, "OPTIONS", "the contract's 405 lists GET, HEAD");
    }
    // OPTIONS lists the 405's methods and itself.
    c.send(b"OPTIONS /fast?id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let r = c.response();
    assert_eq!(
        r.header("allow"),
        Some(format!("{allow}, OPTIONS").as_str())
    );
}

#[test]
fn options_lists_the_methods_of_the_server_and_of_a_path() {
    let s = server();
    let mut c = Client::connect(s.addr);
    for (target, status) in [("*", 200), ("/fast", 200), ("/nowhere", 404)] {
        c.send(format!("OPTIONS {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes());
        let r = c.response();
        assert_eq!(r.status, status, "OPTIONS {target}: {r:?}");
        assert_standard_headers(&r, false);
        if status == 200 {
            // RFC 9110 §9.3.7: the methods, and Content-Length: 0 for no content.
            // The list names OPTIONS itself: the path just answered it.
            let allow = Some("GET, HEAD, OPTIONS");
            assert_eq!(r.header("allow"), allow, "OPTIONS {target}");
            assert_eq!((r.header("content-length"), r.body.len()), (Some("0"), 0));
        }
    }
    // The connection is still good.
    assert_fast(&c.get("/fast?id=9"), 9);
}

#[test]
fn bad_parameters_are_400() {
    let s = server();
    for path in [
        "/fast",
        "/slow_threaded",
        "/slow_threaded?n=10",
        "/slow_threaded?id=1&n=20001",
        "/slow_threaded?id=1&n=abc",
        "/slow_threaded?id=1&n=-1",
        "/slow?id=1&n=20001",
    ] {
        let r = get(s.addr, path);
        assert_eq!(r.status, 400, "{path}: {r:?}");
        assert_standard_headers(&r, false);
    }
    // The bounds themselves are fine (0 is cheap; 20000 is too slow to test).
    let r = get(s.addr, "/slow_threaded?id=9&n=0");
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.text().starts_with("slow result 9 <--- "), "{r:?}");
}

/// Sends `first` (a POST to the GET-only `/fast`) and a pipelined `GET
/// /fast?id=2` in one write, over `wire`; asserts the answers are the 405
/// for the POST, then `fast result 2`. `first`'s body looks like a request
/// for id 99, so a server that ignores the body answers it instead. (POST,
/// not GET: a body on a GET closes the connection after the answer, see
/// tests/framing.rs.)
fn assert_body_framed(wire: Wire, first: &str) {
    let s = server_over(wire);
    let mut c = s.connect();
    c.send(format!("{first}{}", get_req("/fast?id=2")).as_bytes());
    let r = c.response();
    assert_eq!((r.status, r.closes()), (405, false), "{r:?}");
    assert_fast(&c.response(), 2);
}

both_transports! {
    fn content_length_body_is_framed(wire) {
        let body = get_req("/fast?id=99");
        assert_body_framed(
            wire,
            &format!(
                "POST /fast?id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        );
    }

    fn chunked_body_is_framed(wire) {
        let body = get_req("/fast?id=99");
        let (a, b) = body.split_at(10);
        assert_body_framed(
            wire,
            &format!(
                "POST /fast?id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                 {:x};name=value\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                a.len(),
                b.len()
            ),
        );
    }

    fn expect_100_continue_comes_before_the_body(wire) {
        let s = server_over(wire);
        let mut c = s.connect();
        c.send(b"GET /fast?id=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        let want = b"HTTP/1.1 100 Continue\r\n\r\n";
        let mut got = vec![0u8; want.len()];
        c.reader.read_exact(&mut got).expect("read 100 Continue");
        assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
        c.send(b"hello");
        assert_fast(&c.response(), 1);
    }

    fn pipelined_responses_come_in_request_order(wire) {
        let s = server_over(wire);
        let mut c = s.connect();
        // Job 1 is much bigger than job 3, so it finishes last if they run
        // concurrently: its response must still come first.
        let paths = [
            "/slow_threaded?id=1&n=1500",
            "/fast?id=2",
            "/slow_threaded?id=3&n=0",
            "/fast?id=4",
        ];
        c.send(paths.map(get_req).concat().as_bytes());
        for (i, path) in paths.iter().enumerate() {
            let id = i + 1;
            let r = c.response();
            assert_eq!(r.status, 200, "response #{id} ({path}): {r:?}");
            let want = if path.starts_with("/fast") {
                format!("fast result {id}")
            } else {
                format!("slow result {id} <--- ")
            };
            assert!(
                r.text().starts_with(&want),
                "response #{id} ({path}): {:?}",
                r.text()
            );
        }
        // Many in one write: more than the 64 KiB of input the server
        // buffers, so it must come back for the rest without a new edge
        // from the socket (over TLS, from plaintext already decrypted).
        let many: String = (0..2000).map(|id| get_req(&format!("/fast?id={id}"))).collect();
        assert!(many.len() > 64 << 10, "{} bytes", many.len());
        c.send(many.as_bytes());
        for id in 0..2000 {
            let r = common::read_response(&mut c.reader, false)
                .unwrap_or_else(|e| panic!("answer {id} of 2000 pipelined: {e}"));
            assert_fast(&r, id);
        }
    }

    fn malformed_request_is_400_then_close(wire) {
        let s = server_over(wire);
        let mut c = s.connect();
        c.send(b"asdf\r\n\r\n");
        let r = c.response();
        assert_eq!(r.status, 400, "{r:?}");
        assert!(r.closes(), "400 without Connection: close: {r:?}");
        assert_standard_headers(&r, false);
        c.assert_closed();
    }

    fn connection_close_request_is_honoured(wire) {
        let s = server_over(wire);
        let mut c = s.connect();
        c.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let r = c.response();
        assert_eq!((r.status, r.text().as_str()), (200, "ok"));
        assert_standard_headers(&r, false);
        assert!(r.closes(), "no Connection: close in answer to one: {r:?}");
        c.assert_closed();
    }

    /// The client's end of input — a FIN, over TLS `close_notify` and then
    /// the FIN — ends the connection once what came before it is answered.
    fn requests_sent_before_a_half_close_are_answered(wire) {
        let s = server_over(wire);
        // HTTP/1.0, then the client's FIN (what `nc -N` does): answered, closed.
        let mut c = s.connect();
        c.send(b"GET /fast?id=1 HTTP/1.0\r\n\r\n");
        c.half_close();
        assert_fast(&c.response(), 1);
        c.assert_closed();
        // Two pipelined HTTP/1.1 requests, then the FIN: both answered, in
        // order, then the close. (Whether the last says `Connection: close`
        // depends on whether the FIN was read before it was answered; see the
        // next test, which makes sure it was.)
        let mut c = s.connect();
        c.send(format!("{}{}", get_req("/fast?id=2"), get_req("/healthz")).as_bytes());
        c.half_close();
        assert_fast(&c.response(), 2);
        let r = c.response();
        assert_eq!((r.status, r.text().as_str()), (200, "ok"), "{r:?}");
        c.assert_closed();
        // A request cut short by the FIN can never complete: closed, no answer.
        let mut c = s.connect();
        c.send(b"GET /fast?id=3 HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        c.half_close();
        c.assert_closed();
    }

    fn the_last_answer_before_a_half_close_says_close(wire) {
        // The server closes after answering a client that sent its FIN, so
        // that answer must say `Connection: close` (RFC 9112 §9.6) — when the
        // FIN was read before the answer was made. Hold the loop on /slow so
        // that the requests and the FIN are all in the socket when it reads.
        // (Connected first: a TLS handshake needs the loop.)
        let s = server_over(wire);
        let (n, cost) = common::calibrate(&s, common::JOB);
        let mut c = s.connect();
        let mut blocker = common::block_the_loop(&s, 9, n, cost);
        c.send(format!("{}{}", get_req("/fast?id=4"), get_req("/fast?id=5")).as_bytes());
        c.half_close();
        assert_eq!(blocker.response().status, 200);
        let first = c.response();
        assert_fast(&first, 4);
        assert!(!first.closes(), "only the last answer closes: {first:?}");
        let last = c.response();
        assert_fast(&last, 5);
        assert!(
            last.closes(),
            "the answer after a FIN lacks Connection: close: {last:?}"
        );
        c.assert_closed();
    }
}
