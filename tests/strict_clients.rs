//! Every kind of answer eddy sends, fed as raw bytes to a strict client
//! parser: h11 (Python), which refuses anything RFC 9112 does not allow in a
//! response — a bad status line, a field it cannot parse, a body that does
//! not end where its framing says, bytes after the last answer.
//!
//! The exchanges are made with the real binary over raw sockets: each sends
//! its request(s) with the connection ending after them (`Connection:
//! close`, or an error that closes), so everything read until EOF is eddy's
//! answer, byte for byte. Then `tests/strict/h11_check.py` replays each with
//! an h11 client connection. Without python3 and h11 (`apt-get install python3-h11`,
//! which `.ci/run` does) the test says why it skipped.

mod common;

use common::{Server, LONGEST_JOB};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};

/// One exchange: a name, what h11 should believe was asked (method and
/// target, one per request), the statuses each answer must carry (interim
/// ones first), and the raw bytes to send.
struct Exchange {
    name: &'static str,
    asked: Vec<(&'static str, &'static str)>,
    statuses: Vec<Vec<u16>>,
    raw: Vec<u8>,
}

fn one(name: &'static str, method: &'static str, statuses: &[u16], raw: &str) -> Exchange {
    Exchange {
        name,
        asked: vec![(method, "/")],
        statuses: vec![statuses.to_vec()],
        raw: raw.as_bytes().to_vec(),
    }
}

/// `method target` with Host, `extra` fields, and `Connection: close`.
fn closing(method: &str, target: &str, extra: &str) -> String {
    format!("{method} {target} HTTP/1.1\r\nHost: eddy\r\n{extra}Connection: close\r\n\r\n")
}

/// Sends `raw` and reads every byte until eddy closes.
fn exchange(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
    stream.write_all(raw).expect("write");
    let mut out = Vec::new();
    stream
        .read_to_end(&mut out)
        .expect("read until eddy closes");
    out
}

/// The JSON string for `bytes`, read as Latin-1 (so every byte survives).
fn json_string(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\u{b:04x}")),
        }
    }
    out.push('"');
    out
}

/// The Python that has h11: `python3` on the PATH, else Debian's own
/// `/usr/bin/python3` (where `apt-get install python3-h11` puts it, even
/// when a pyenv or venv `python3` comes first on the PATH).
fn python_with_h11() -> Result<&'static str, String> {
    let mut tried = Vec::new();
    for python in ["python3", "/usr/bin/python3"] {
        match Command::new(python).args(["-c", "import h11"]).output() {
            Ok(probe) if probe.status.success() => return Ok(python),
            Ok(_) => tried.push(format!("{python} has no h11")),
            Err(e) => tried.push(format!("no {python} ({e})")),
        }
    }
    Err(format!(
        "{} (apt-get install python3-h11, or pip install h11)",
        tried.join(", ")
    ))
}

#[test]
fn a_strict_client_parser_accepts_every_kind_of_answer() {
    let python = match python_with_h11() {
        Ok(python) => python,
        Err(why) => {
            common::skip(
                "strict_clients",
                &format!("{why}; .ci/run installs Debian's python3-h11"),
            );
            return;
        }
    };
    let server = Server::start(&[
        "--quiet",
        "--workers",
        "1",
        "--max-body",
        "10",
        "--header-timeout",
        "0.3",
        "--job-timeout",
        "0.3",
    ]);
    let longest = closing("GET", LONGEST_JOB, "");
    let mut cases = vec![
        one(
            "200 inline",
            "GET",
            &[200],
            &closing("GET", "/fast?id=1", ""),
        ),
        one("HEAD", "HEAD", &[200], &closing("HEAD", "/fast?id=1", "")),
        one("404", "GET", &[404], &closing("GET", "/nope", "")),
        one("405", "POST", &[405], &closing("POST", "/fast?id=1", "")),
        one(
            "500 job panic",
            "GET",
            &[500],
            &closing("GET", "/fail?id=1", ""),
        ),
        one(
            "200 job",
            "GET",
            &[200],
            &closing("GET", "/slow_threaded?id=1&n=10", ""),
        ),
        one("504 job timeout", "GET", &[504], &longest),
        one("/metrics", "GET", &[200], &closing("GET", "/metrics", "")),
        one("OPTIONS *", "OPTIONS", &[200], &closing("OPTIONS", "*", "")),
        one("400", "GET", &[400], "asdf\r\n\r\n"),
        one("408", "GET", &[408], "GET /fast?id=1 HTTP/1.1\r\n"),
        one(
            "413",
            "POST",
            &[413],
            &closing("POST", "/fast", "Content-Length: 11\r\n"),
        ),
        one(
            "417",
            "GET",
            &[417],
            &closing("GET", "/fast", "Expect: x\r\n"),
        ),
        one(
            "431",
            "GET",
            &[431],
            &closing("GET", "/", &format!("X: {}\r\n", "v".repeat(9000))),
        ),
        one(
            "501",
            "POST",
            &[501],
            &closing("POST", "/", "Transfer-Encoding: gzip\r\n"),
        ),
        one("505", "GET", &[505], "GET / HTTP/2.0\r\n\r\n"),
        one(
            "HTTP/1.0 request",
            "GET",
            &[200],
            "GET /fast?id=1 HTTP/1.0\r\n\r\n",
        ),
        one(
            "100 Continue, then 200",
            "GET",
            &[100, 200],
            &closing(
                "GET",
                "/fast?id=1",
                "Expect: 100-continue\r\nContent-Length: 2\r\n",
            ),
        ),
        one(
            "405 instead of 100 Continue",
            "POST",
            &[405],
            &closing(
                "POST",
                "/fast",
                "Expect: 100-continue\r\nContent-Length: 2\r\n",
            ),
        ),
        one(
            "a body on GET: answered, then close",
            "GET",
            &[200],
            "GET /fast?id=1 HTTP/1.1\r\nHost: eddy\r\nContent-Length: 2\r\n\r\nhi",
        ),
    ];
    // Keep-alive answers, and pipelining: two answers on one connection,
    // the first without Connection: close.
    cases.push(Exchange {
        name: "keep-alive then close, pipelined",
        asked: vec![("GET", "/"), ("GET", "/")],
        statuses: vec![vec![200], vec![200]],
        raw: format!(
            "GET /fast?id=1 HTTP/1.1\r\nHost: eddy\r\n\r\n{}",
            closing("GET", "/healthz", "")
        )
        .into_bytes(),
    });
    // The 100 Continue above needs its body sent after it; eddy's `100`
    // comes once the head is read, so sending both at once is not that
    // exchange. Send the head, then the body after the 100 arrived.
    let mut json = String::from("[");
    for (i, case) in cases.iter().enumerate() {
        let raw = if case.statuses[0] == [100, 200] {
            continue_exchange(server.addr, &case.raw)
        } else {
            exchange(server.addr, &case.raw)
        };
        assert!(!raw.is_empty(), "{}: no answer", case.name);
        let requests: Vec<String> = case
            .asked
            .iter()
            .map(|(m, t)| format!("[\"{m}\",\"{t}\"]"))
            .collect();
        let statuses: Vec<String> = case.statuses.iter().map(|s| format!("{s:?}")).collect();
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            "{{\"name\":{},\"requests\":[{}],\"statuses\":[{}],\"raw\":{}}}",
            json_string(case.name.as_bytes()),
            requests.join(","),
            statuses.join(","),
            json_string(&raw)
        ));
    }
    json.push(']');
    let mut child = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/strict/h11_check.py"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {python}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("h11 check");
    let report = String::from_utf8_lossy(&out.stdout);
    common::say(&format!("strict_clients: {}", report.trim_end()));
    assert!(
        out.status.success(),
        "h11 refused some answers:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `Expect: 100-continue` exchange: the head, then — once `100
/// Continue` has arrived — the 2-byte body, then everything until close.
fn continue_exchange(addr: SocketAddr, head: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
    stream.write_all(head).expect("write head");
    let want = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut out = vec![0; want.len()];
    stream.read_exact(&mut out).expect("read 100 Continue");
    stream.write_all(b"hi").expect("write body");
    stream
        .read_to_end(&mut out)
        .expect("read until eddy closes");
    out
}
