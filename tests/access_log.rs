//! The access log, line by line: the real binary answers one request of
//! each kind, and every line it printed is held against a golden line —
//! nginx's combined format by default, one JSON object per line with
//! `--log-format json`.
//!
//! The kinds: a GET with `Referer` and `User-Agent`; a HEAD (no body bytes
//! sent); a 413 and a 501 that keep their request line; bytes that are no
//! request (`-`), the three refusals naming their reason in the JSON line; a `User-Agent` with quotes, a backslash, a tab and a byte
//! that is not UTF-8 (escaped, so the line cannot be broken); two pipelined
//! requests whose answers finish out of order (logged in request order); a
//! client that leaves while its job runs (499, as nginx logs it).
//!
//! What cannot be golden — the timestamp, the duration, the client's port,
//! the slow job's body length — is matched by a placeholder that checks its
//! form: `<time>` `[02/Dec/2026:03:23:39 +0000]`, `<iso>`
//! `2026-12-02T03:23:39Z`, `<dur>` `0.000084`, `<n>` digits.

mod common;

use common::{get_req, sync_with_loop, Client, Server, IO_TIMEOUT};
use std::io::Read;
use std::time::Duration;

/// Sends one request of each kind, in order, waiting for each to be logged;
/// returns the access-log lines the server printed.
fn exercise(extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--workers", "2"];
    args.extend_from_slice(extra);
    let mut server = Server::start(&args);
    let addr = server.addr;
    let one = |request: &[u8]| {
        let mut c = Client::connect(addr);
        c.send(request);
        let mut answer = Vec::new();
        let _ = c.stream.shutdown(std::net::Shutdown::Write);
        let _ = c.reader.read_to_end(&mut answer);
    };
    one(b"GET /fast?id=1 HTTP/1.1\r\nHost: x\r\nReferer: http://x/page\r\nUser-Agent: curl/8.5.0\r\n\r\n");
    one(b"HEAD /fast?id=2 HTTP/1.1\r\nHost: x\r\n\r\n");
    one(b"POST /fast HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
    one(b"POST /fast HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n");
    one(b"asdf\r\n\r\n");
    one(b"GET /fast?id=6 HTTP/1.1\r\nHost: x\r\nUser-Agent: a \"quoted\" \\ agent\t\xff\r\n\r\n");
    // A job, then a fast request behind it: the fast one is answered first
    // but waits for the job's answer, and so does its log line.
    let mut c = Client::connect(addr);
    let both = format!(
        "{}{}",
        get_req("/slow_threaded?id=7&n=3000"),
        get_req("/fast?id=8")
    );
    c.send(both.as_bytes());
    assert_eq!((c.response().status, c.response().status), (200, 200));
    // A client that leaves while its job runs.
    let mut c = Client::connect(addr);
    c.send_get("/slow_threaded?id=9&n=20000");
    sync_with_loop(addr); // the job has been offloaded
    drop(c);
    let abandoned = server.stdout.wait_for(IO_TIMEOUT, |l| l.contains("id=9"));
    assert!(
        abandoned.is_some(),
        "no line for the client that left: {:?}",
        server.stdout.snapshot()
    );
    server.signal("TERM");
    server.wait_exit(IO_TIMEOUT).expect("exit after SIGTERM");
    assert!(
        server.stdout.wait_eof(Duration::from_secs(10)),
        "stdout still open"
    );
    server
        .stdout
        .snapshot()
        .into_iter()
        .filter(|l| !l.starts_with("listening on"))
        .collect()
}

/// True if `line` is `golden` with each placeholder standing for text of
/// its form.
fn matches(golden: &str, line: &str) -> bool {
    let Some((literal, rest)) = golden.split_once('<') else {
        return line == golden;
    };
    let Some(line) = line.strip_prefix(literal) else {
        return false;
    };
    let (name, golden) = rest.split_once('>').expect("a placeholder is closed");
    let taken = match name {
        "time" => span(line, "[00/Mmm/0000:00:00:00 +0000]"),
        "iso" => span(line, "0000-00-00T00:00:00Z"),
        "dur" => {
            let int = line.bytes().take_while(u8::is_ascii_digit).count();
            let frac = line
                .get(int..)
                .and_then(|r| r.strip_prefix('.'))
                .map(|r| r.bytes().take_while(u8::is_ascii_digit).count());
            (int > 0 && frac == Some(6)).then_some(int + 7)
        }
        "n" => Some(line.bytes().take_while(u8::is_ascii_digit).count()).filter(|&n| n > 0),
        other => panic!("unknown placeholder <{other}>"),
    };
    taken.is_some_and(|n| matches(golden, &line[n..]))
}

/// The length of `line`'s start if it has `shape`'s form (`0` a digit, `M`
/// an uppercase letter, `m` a lowercase one, anything else itself).
fn span(line: &str, shape: &str) -> Option<usize> {
    let fits = line.len() >= shape.len()
        && line.bytes().zip(shape.bytes()).all(|(b, s)| match s {
            b'0' => b.is_ascii_digit(),
            b'M' => b.is_ascii_uppercase(),
            b'm' => b.is_ascii_lowercase(),
            s => b == s,
        });
    fits.then_some(shape.len())
}

fn assert_golden(lines: &[String], golden: &[&str]) {
    let report = || {
        let mut s = String::new();
        for (i, line) in lines.iter().enumerate() {
            let ok = golden.get(i).is_some_and(|g| matches(g, line));
            s += &format!("{} {line}\n", if ok { "  " } else { "✗ " });
        }
        s
    };
    assert_eq!(lines.len(), golden.len(), "lines:\n{}", report());
    for (line, golden) in lines.iter().zip(golden) {
        assert!(
            matches(golden, line),
            "expected {golden}\nlines:\n{}",
            report()
        );
    }
}

#[test]
fn combined_lines() {
    let lines = exercise(&[]);
    assert_golden(
        &lines,
        &[
            r#"127.0.0.1 - - <time> "GET /fast?id=1 HTTP/1.1" 200 13 "http://x/page" "curl/8.5.0" <dur>"#,
            r#"127.0.0.1 - - <time> "HEAD /fast?id=2 HTTP/1.1" 200 0 "-" "-" <dur>"#,
            r#"127.0.0.1 - - <time> "POST /fast HTTP/1.1" 413 58 "-" "-" <dur>"#,
            r#"127.0.0.1 - - <time> "POST /fast HTTP/1.1" 501 49 "-" "-" <dur>"#,
            r#"127.0.0.1 - - <time> "-" 400 40 "-" "-" <dur>"#,
            r#"127.0.0.1 - - <time> "GET /fast?id=6 HTTP/1.1" 200 13 "-" "a \x22quoted\x22 \x5C agent\x09\xFF" <dur>"#,
            r#"127.0.0.1 - - <time> "GET /slow_threaded?id=7&n=3000 HTTP/1.1" 200 <n> "-" "-" <dur>"#,
            r#"127.0.0.1 - - <time> "GET /fast?id=8 HTTP/1.1" 200 13 "-" "-" <dur>"#,
            // sync_with_loop's two requests, made before the client leaves.
            r#"127.0.0.1 - - <time> "GET /fast?id=100 HTTP/1.1" 200 15 "-" "-" <dur>"#,
            r#"127.0.0.1 - - <time> "GET /fast?id=101 HTTP/1.1" 200 15 "-" "-" <dur>"#,
            r#"127.0.0.1 - - <time> "GET /slow_threaded?id=9&n=20000 HTTP/1.1" 499 0 "-" "-" <dur>"#,
        ],
    );
}

#[test]
fn json_lines() {
    let lines = exercise(&["--log-format", "json"]);
    let line = |request: &str, status: u16, bytes: &str, referer: &str, agent: &str| {
        // The refusals among the cases name their reason; the rest, none.
        let reason = match status {
            413 => r#""Content-Length over the body limit""#,
            501 => r#""unsupported transfer coding""#,
            400 => r#""malformed request line""#,
            _ => "null",
        };
        format!(
            r#"{{"time":"<iso>","peer":"127.0.0.1:<n>","request_line":{request},"status":{status},"reason":{reason},"body_bytes":{bytes},"cut_short":false,"referer":{referer},"user_agent":{agent},"duration":<dur>,"tls":null}}"#
        )
    };
    let golden = [
        line(
            r#""GET /fast?id=1 HTTP/1.1""#,
            200,
            "13",
            r#""http://x/page""#,
            r#""curl/8.5.0""#,
        ),
        line(r#""HEAD /fast?id=2 HTTP/1.1""#, 200, "0", "null", "null"),
        line(r#""POST /fast HTTP/1.1""#, 413, "58", "null", "null"),
        line(r#""POST /fast HTTP/1.1""#, 501, "49", "null", "null"),
        line("null", 400, "40", "null", "null"),
        line(
            r#""GET /fast?id=6 HTTP/1.1""#,
            200,
            "13",
            "null",
            "\"a \\\"quoted\\\" \\\\ agent\\u0009\u{fffd}\"",
        ),
        line(
            r#""GET /slow_threaded?id=7&n=3000 HTTP/1.1""#,
            200,
            "<n>",
            "null",
            "null",
        ),
        line(r#""GET /fast?id=8 HTTP/1.1""#, 200, "13", "null", "null"),
        line(r#""GET /fast?id=100 HTTP/1.1""#, 200, "15", "null", "null"),
        line(r#""GET /fast?id=101 HTTP/1.1""#, 200, "15", "null", "null"),
        line(
            r#""GET /slow_threaded?id=9&n=20000 HTTP/1.1""#,
            499,
            "0",
            "null",
            "null",
        ),
    ];
    let golden: Vec<&str> = golden.iter().map(String::as_str).collect();
    assert_golden(&lines, &golden);
}

#[test]
fn the_matcher_rejects_what_is_not_of_its_form() {
    assert!(matches("a <dur> b", "a 0.000084 b"));
    assert!(!matches("a <dur> b", "a 0.084ms b"));
    assert!(matches("<time> x", "[02/Dec/2026:03:23:39 +0000] x"));
    assert!(!matches("<time> x", "[2/Dec/2026:03:23:39 +0000] x"));
    assert!(!matches("<n>", ""));
    assert!(!matches("abc", "abd"));
}
