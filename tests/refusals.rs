//! A refusal at the protocol level names its reason (issue 20, point 14):
//! the real binary, over real sockets, is sent one request that breaks each
//! kind of rule, and each refusal must say why in three places —
//!
//! - the answer's body: one line, `400 Bad Request: missing Host header`;
//! - `--trace`, on stderr: `refused: 400 (missing Host header)`;
//! - the JSON access log, on stdout: `"status":400,"reason":"missing Host
//!   header"` (the combined format keeps nginx's fields, see
//!   tests/access_log.rs).
//!
//! A bare `400 Bad Request` left a newcomer guessing which of thirty rules
//! `Content-Length: abc` broke. The rules themselves (which bytes get which
//! status) are tests/framing.rs's; here, only that the reason travels.

mod common;

use common::{read_response, Client, Server, IO_TIMEOUT};
use eddy::StatusCode;
use std::io::Write;
use std::time::Duration;

/// How long a trace or log line may lag behind its answer (both are written
/// at the end of the loop's turn; the answer may arrive first). Short, so a
/// broken feature fails in seconds per case rather than in minutes.
const LINE_WAIT: Duration = Duration::from_secs(5);

/// One request per kind of refusal: its bytes, the status, the reason.
fn cases() -> Vec<(Vec<u8>, u16, &'static str)> {
    let post = |fields: &str| format!("POST /fast?id=1 HTTP/1.1\r\nHost: a\r\n{fields}\r\n");
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(9000));
    let long_head = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
        "v".repeat(9000)
    );
    let cases: Vec<(String, u16, &str)> = vec![
        (
            "GET /fast?id=1 HTTP/1.1\r\n\r\n".into(),
            400,
            "missing Host header",
        ),
        (
            post("Content-Length: abc\r\n"),
            400,
            "invalid Content-Length",
        ),
        ("asdf\r\n\r\n".into(), 400, "malformed request line"),
        (
            post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"),
            400,
            "both Content-Length and Transfer-Encoding",
        ),
        (
            "GET / HTTP/1.1\nHost: a\n\n".into(),
            400,
            "bare LF line ending (CRLF required)",
        ),
        (
            post("Transfer-Encoding: chunked\r\n") + "zz\r\n",
            400,
            "malformed chunked body",
        ),
        (
            post("Content-Length: 2000000\r\n"),
            413,
            "Content-Length over the body limit",
        ),
        (long_target, 414, "request target too long"),
        (long_head, 431, "header section too large"),
        (
            post("Expect: teapot\r\nContent-Length: 1\r\n") + "x",
            417,
            "Expect other than 100-continue",
        ),
        (
            post("Transfer-Encoding: gzip\r\n"),
            501,
            "unsupported transfer coding",
        ),
        (
            "GET / HTTP/2.0\r\nHost: a\r\n\r\n".into(),
            505,
            "only HTTP/1.x is served",
        ),
    ];
    let mut cases: Vec<_> = cases
        .into_iter()
        .map(|(raw, status, reason)| (raw.into_bytes(), status, reason))
        .collect();
    // The first bytes of a TLS ClientHello: `https://` to a plain port.
    cases.push((
        vec![0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00],
        400,
        "TLS handshake on a plain HTTP port",
    ));
    cases
}

#[test]
fn every_refusal_names_its_reason_in_the_body_the_trace_and_the_json_log() {
    let server = Server::start(&["--trace", "--log-format", "json"]);
    let mut failures = Vec::new();
    for (raw, status, reason) in cases() {
        let mut c = Client::connect(server.addr);
        // A head over the limits is refused before it is all read: the
        // rest of the write may meet a closed socket.
        let _ = c.stream.write_all(&raw);
        let shown = String::from_utf8_lossy(&raw[..raw.len().min(60)]).into_owned();
        let r = match read_response(&mut c.reader, false) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{shown:?}: no answer: {e}"));
                continue;
            }
        };
        let phrase = StatusCode(status).reason();
        let body = format!("{status} {phrase}: {reason}\n");
        if (r.status, r.text()) != (status, body.clone()) {
            failures.push(format!(
                "{shown:?}: got {} {:?}, expected {status} {body:?}",
                r.status,
                r.text()
            ));
        }
        let traced = format!("refused: {status} ({reason})");
        if server
            .stderr
            .wait_for(LINE_WAIT, |l| l.contains(&traced))
            .is_none()
        {
            failures.push(format!("{shown:?}: no trace line {traced:?}"));
        }
        let logged = format!("\"status\":{status},\"reason\":\"{reason}\",");
        if server
            .stdout
            .wait_for(LINE_WAIT, |l| l.contains(&logged))
            .is_none()
        {
            failures.push(format!("{shown:?}: no access-log line with {logged:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} refusals did not name their reason:\n{}\nstdout: {:?}",
        failures.len(),
        failures.join("\n"),
        server.stdout.snapshot()
    );
}

/// A request served is not a refusal: its JSON line says `"reason":null`,
/// and the trace line for it names no refusal.
#[test]
fn a_request_served_has_no_reason() {
    let server = Server::start(&["--trace", "--log-format", "json"]);
    let mut c = Client::connect(server.addr);
    common::assert_fast(&c.get("/fast?id=1"), 1);
    let line = server
        .stdout
        .wait_for(IO_TIMEOUT, |l| l.contains("/fast?id=1"))
        .expect("an access-log line");
    assert!(line.contains("\"status\":200,\"reason\":null,"), "{line}");
    assert!(
        !server
            .stderr
            .snapshot()
            .iter()
            .any(|l| l.contains("refused")),
        "{:?}",
        server.stderr.snapshot()
    );
}
