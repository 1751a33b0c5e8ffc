//! HTTPS (issue 22): the real binary with `--tls-cert`/`--tls-key`, a test
//! CA made here with the `openssl` command, and real clients — curl,
//! `openssl s_client`, Python's `ssl` — over real sockets.
//!
//! What TLS must not change — pipelining, bodies, streaming with
//! backpressure, SSE, the drain, the timeouts — is tested where the plain
//! behaviour is, over both transports with rustls's own client
//! (`both_transports!` in tests/http_wire.rs, framing.rs, streaming.rs,
//! sse.rs, shutdown.rs, timeouts.rs; tests/common/mod.rs, `Wire`).
//!
//! A missing tool skips its test with the reason (and fails it under
//! `EDDY_REQUIRE_TOOLS=1`, as CI runs).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{python, skip, tool, Server, EDDY};

/// A certificate authority and a server certificate for `localhost` and
/// 127.0.0.1, made by `openssl` in a fresh directory.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// `None` (after saying why) if `openssl` is missing.
    fn make(test: &str) -> Option<Pki> {
        if Command::new("openssl").arg("version").output().is_err() {
            skip(test, "no `openssl` command to make a test CA");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("eddy-tls-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let ca = [
            "req", "-x509", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        ];
        run(&[&ca[..], &ec, &["-subj", "/CN=eddy test CA"]].concat());
        let csr = ["req", "-keyout", "key.pem", "-out", "srv.csr"];
        run(&[&csr[..], &ec, &["-subj", "/CN=localhost"]].concat());
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             extendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);
        Some(Pki { dir })
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// `eddy serve` over HTTPS with this CA's server certificate.
    fn serve(&self, extra: &[&str]) -> Server {
        let (cert, key) = (self.path("cert.pem"), self.path("key.pem"));
        let mut args = vec!["--tls-cert", &cert, "--tls-key", &key];
        args.extend_from_slice(extra);
        Server::start(&args)
    }

    /// A Python script for `server`: `body` after a prelude that gives it
    /// `ctx`, an `ssl` context trusting this CA, and `connect(**options)`,
    /// a TLS socket to the server named `localhost` (`options` go to
    /// `wrap_socket`).
    fn python_script(&self, server: &Server, body: &str) -> String {
        format!(
            r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile={ca:?})
def connect(**options):
    raw = socket.create_connection(("127.0.0.1", {port}), timeout=20)
    return ctx.wrap_socket(raw, server_hostname="localhost", **options)
{body}"#,
            ca = self.path("ca.pem"),
            port = server.addr.port()
        )
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server's `/metrics`, fetched over HTTPS with curl.
fn metrics(test: &str, pki: &Pki, server: &Server) -> Option<String> {
    let ca = pki.path("ca.pem");
    let url = format!("https://localhost:{}/metrics", server.addr.port());
    let out = tool(test, "curl", &["-sS", "--cacert", &ca, &url], b"")?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn curl_verifies_the_certificate_and_keeps_the_connection_alive() {
    let test = "curl_verifies_the_certificate_and_keeps_the_connection_alive";
    let Some(pki) = Pki::make(test) else { return };
    let server = pki.serve(&["--quiet"]);
    let port = server.addr.port();
    let (one, two) = (
        format!("https://localhost:{port}/fast?id=1"),
        format!("https://localhost:{port}/fast?id=2"),
    );
    let ca = pki.path("ca.pem");
    let args = [
        "-sS",
        "--http1.1",
        "--cacert",
        &ca,
        &one,
        &two,
        "-w",
        " [%{http_code} %{num_connects}]\n",
    ];
    let Some(out) = tool(test, "curl", &args, b"") else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    // The second request reused the first's connection: 0 new connects.
    assert_eq!(
        text,
        "fast result 1 [200 1]\nfast result 2 [200 0]\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn openssl_s_client_speaks_1_3_and_1_2_with_alpn_and_1_1_is_refused() {
    let test = "openssl_s_client_speaks_1_3_and_1_2_with_alpn_and_1_1_is_refused";
    let Some(pki) = Pki::make(test) else { return };
    let server = pki.serve(&["--quiet"]);
    let connect = server.addr.to_string();
    let ca = pki.path("ca.pem");
    let request = b"GET /fast?id=7 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    for (flag, version) in [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")] {
        let args = [
            "s_client",
            "-connect",
            &connect,
            flag,
            "-CAfile",
            &ca,
            "-alpn",
            "h2,http/1.1",
            "-servername",
            "localhost",
            "-ign_eof",
        ];
        let Some(out) = tool(test, "openssl", &args, request) else {
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("Protocol  : {version}")), "{text}");
        assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
        assert!(text.contains("ALPN protocol: http/1.1"), "never h2: {text}");
        assert!(
            text.contains("HTTP/1.1 200 OK") && text.contains("fast result 7"),
            "{text}"
        );
    }
    let args = ["s_client", "-connect", &connect, "-tls1_1"];
    let Some(out) = tool(test, "openssl", &args, b"") else {
        return;
    };
    // s_client names the version it *tried* even when refused; the
    // cipher and the alert say whether a session was made.
    let (text, errors) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        text.contains("Cipher is (NONE)"),
        "TLS 1.1 was spoken: {text}"
    );
    assert!(
        errors.contains("alert"),
        "refused without an alert: {errors}"
    );
}

/// Pipelining, `Expect: 100-continue` and a body, over TLS: Python's `ssl`
/// writes three requests in one record burst and reads the answers in order.
#[test]
fn python_ssl_pipelines_and_uploads_over_tls() {
    let test = "python_ssl_pipelines_and_uploads_over_tls";
    let Some(pki) = Pki::make(test) else { return };
    let server = pki.serve(&["--quiet"]);
    let script = pki.python_script(
        &server,
        r#"
ctx.set_alpn_protocols(["h2", "http/1.1"])
s = connect()
assert s.selected_alpn_protocol() == "http/1.1", s.selected_alpn_protocol()
s.sendall(b"GET /fast?id=1 HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /slow_threaded?id=2&n=100 HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /fast?id=3 HTTP/1.1\r\nHost: x\r\n\r\n")
got = b""
while got.count(b"HTTP/1.1 200 OK") < 3 or not got.endswith(b"fast result 3"):
    chunk = s.recv(65536)
    assert chunk, got
    got += chunk
first, second, third = got.index(b"result 1"), got.index(b"slow result 2"), got.index(b"result 3")
assert first < second < third, got
s.sendall(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
reply = s.recv(65536)
assert reply.startswith(b"HTTP/1.1 404"), reply
print("ok", s.version())
"#,
    );
    let Some(out) = python(test, &script) else {
        return;
    };
    assert!(out.starts_with("ok TLSv1.3"), "{out}");
}

#[test]
fn plain_http_to_the_tls_port_is_told_so_with_a_400_and_counted() {
    let test = "plain_http_to_the_tls_port_is_told_so_with_a_400_and_counted";
    let Some(pki) = Pki::make(test) else { return };
    let server = pki.serve(&["--quiet"]);
    let mut plain = TcpStream::connect(server.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    plain
        .write_all(b"GET /fast?id=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    plain.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(
        answer.ends_with("this port speaks HTTPS; use https:// here\n"),
        "{answer}"
    );
    let Some(metrics) = metrics(test, &pki, &server) else {
        return;
    };
    assert!(
        metrics.contains("eddy_tls_plain_http_total 1\n"),
        "{metrics}"
    );
}

/// Bytes that are neither a ClientHello nor plain HTTP: an alert, then the
/// close.
#[test]
fn garbage_instead_of_a_client_hello_gets_an_alert_and_the_close() {
    let test = "garbage_instead_of_a_client_hello_gets_an_alert_and_the_close";
    let Some(pki) = Pki::make(test) else { return };
    let server = pki.serve(&["--quiet"]);
    let mut client = TcpStream::connect(server.addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // A handshake record holding a ClientHello of four bytes of nonsense.
    let hello = [
        0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef,
    ];
    client.write_all(&hello).unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    // An alert record (type 21), fatal (2), decode_error (50); then EOF.
    assert_eq!(got, [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 50], "{got:?}");
    // Counted: one handshake failed; and the first /metrics' own handshake
    // is counted by the second (the second's own too, if its handshake
    // ended in a drive before its request came: 1 or 2).
    let Some(_) = metrics(test, &pki, &server) else {
        return;
    };
    let Some(metrics) = metrics(test, &pki, &server) else {
        return;
    };
    assert!(
        metrics.contains("eddy_tls_handshake_failures_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("eddy_tls_handshakes_total 1\n")
            || metrics.contains("eddy_tls_handshakes_total 2\n"),
        "{metrics}"
    );
}

/// A handshake that never finishes is bounded by the header timeout.
#[test]
fn a_handshake_that_never_finishes_is_closed_at_the_header_timeout() {
    let test = "a_handshake_that_never_finishes_is_closed_at_the_header_timeout";
    let Some(pki) = Pki::make(test) else { return };
    let server = pki.serve(&["--quiet", "--header-timeout", "1"]);
    let mut client = TcpStream::connect(server.addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // The first bytes of a ClientHello's record, and then silence.
    client.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
    let began = Instant::now();
    let mut got = Vec::new();
    let _ = client.read_to_end(&mut got);
    let took = began.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "closed after {took:?}"
    );
}

#[test]
fn a_certificate_or_key_that_cannot_be_used_is_named_and_exits_2_before_binding() {
    let test = "a_certificate_or_key_that_cannot_be_used_is_named_and_exits_2_before_binding";
    let Some(pki) = Pki::make(test) else { return };
    let garbage = pki.dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let missing = pki.dir.join("missing.pem");
    let (cert, key, ca_key) = (
        pki.path("cert.pem"),
        pki.path("key.pem"),
        pki.path("ca.key"),
    );
    let cases: [(&str, &str, &Path, &str); 3] = [
        (&missing.to_string_lossy(), &key, &missing, "No such file"),
        (
            &cert,
            &garbage.to_string_lossy(),
            &garbage,
            "no PRIVATE KEY",
        ),
        // The CA's key does not go with the server's certificate.
        (&cert, &ca_key, Path::new(&ca_key), "does not go with"),
    ];
    for (cert, key, named, reason) in cases {
        let out = Command::new("timeout")
            .args([
                "30",
                EDDY,
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--tls-cert",
                cert,
                "--tls-key",
                key,
            ])
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
        assert!(!stdout.contains("listening on"), "it bound: {stdout}");
        assert!(
            stderr.contains(&*named.to_string_lossy()),
            "the file is not named: {stderr}"
        );
        assert!(stderr.contains(reason), "the reason is not said: {stderr}");
    }
}

/// Every orderly close sends `close_notify` (a client told to expect it
/// sees a clean end, not a truncation), and a client's `close_notify`
/// mid-request is its end of input, as a FIN is: the half request is
/// dropped, and the server's own `close_notify` answers it.
#[test]
fn close_notify_both_ways() {
    let test = "close_notify_both_ways";
    let Some(pki) = Pki::make(test) else { return };
    let server = pki.serve(&["--quiet"]);
    let script = pki.python_script(
        &server,
        r#"
s = connect(suppress_ragged_eofs=False)  # a TCP EOF without close_notify raises
s.sendall(b"GET /fast?id=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
got = b""
while True:
    chunk = s.recv(65536)  # SSLEOFError on a TCP EOF without close_notify
    if not chunk:
        break
    got += chunk
assert got.startswith(b"HTTP/1.1 200 OK") and got.endswith(b"fast result 1"), got
s = connect(suppress_ragged_eofs=False)
s.sendall(b"GET /fast?id=2 HTTP/1.1\r\nHo")
s.unwrap()  # our close_notify, and the server's in answer
print("ok")
"#,
    );
    let Some(out) = python(test, &script) else {
        return;
    };
    assert!(out.starts_with("ok"), "{out}");
}

/// The JSON access log names the TLS version each answer went over.
#[test]
fn the_json_access_log_names_the_tls_version() {
    let test = "the_json_access_log_names_the_tls_version";
    let Some(pki) = Pki::make(test) else { return };
    let server = pki.serve(&["--log-format", "json"]);
    let ca = pki.path("ca.pem");
    let url = format!("https://localhost:{}/fast?id=5", server.addr.port());
    let Some(out) = tool(
        test,
        "curl",
        &["-sS", "--tlsv1.3", "--cacert", &ca, &url],
        b"",
    ) else {
        return;
    };
    assert!(out.status.success(), "{out:?}");
    let line = server
        .stdout
        .wait_for(common::IO_TIMEOUT, |l| l.contains("/fast?id=5"))
        .expect("an access-log line");
    assert!(line.ends_with(",\"tls\":\"TLSv1.3\"}"), "{line}");
}

/// `examples/https.rs`, run as a user would: PEM files in, HTTPS out.
#[test]
fn the_https_example_serves_over_tls() {
    let test = "the_https_example_serves_over_tls";
    let Some(pki) = Pki::make(test) else { return };
    let (cert, key) = (pki.path("cert.pem"), pki.path("key.pem"));
    let app = common::Example::start("https", &["--addr", "127.0.0.1:0", &cert, &key]);
    let url = format!("https://localhost:{}/hello", app.addr.port());
    let ca = pki.path("ca.pem");
    let Some(out) = tool(test, "curl", &["-sS", "--cacert", &ca, &url], b"") else {
        return;
    };
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello over TLS\n",
        "{out:?}"
    );
}

impl Pki {
    /// A new server certificate and key from the same CA, written over the
    /// served files the way a deploy hook does: each to a temporary name,
    /// then renamed into place. Returns the new certificate's serial.
    fn rotate(&self, test: &str) -> String {
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&self.dir)
                .output()
                .unwrap();
            assert!(out.status.success(), "{test}: openssl {args:?}: {out:?}");
            out
        };
        run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "key.new",
            "-out",
            "new.csr",
            "-subj",
            "/CN=localhost",
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            "new.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "cert.new",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);
        std::fs::rename(self.dir.join("key.new"), self.dir.join("key.pem")).unwrap();
        std::fs::rename(self.dir.join("cert.new"), self.dir.join("cert.pem")).unwrap();
        let out = run(&["x509", "-in", "cert.pem", "-noout", "-serial"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// SIGHUP re-reads the certificate and key: new handshakes get the new
/// certificate, a connection made before goes on, and a session from
/// before resumes; then a half-written key keeps the new one serving, and
/// each reload is said and counted.
#[test]
fn sighup_rotates_the_certificate_and_a_bad_pair_keeps_the_old() {
    let test = "sighup_rotates_the_certificate_and_a_bad_pair_keeps_the_old";
    let Some(pki) = Pki::make(test) else { return };
    let server = pki.serve(&["--quiet"]);
    let script = pki.python_script(
        &server,
        r#"
ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # a session object right after the handshake
def ask(s, n):
    s.sendall(b"GET /fast?id=%d HTTP/1.1\r\nHost: x\r\n\r\n" % n)
    got = b""
    while not got.endswith(b"fast result %d" % n):
        chunk = s.recv(65536)
        assert chunk, got
        got += chunk
def serial(s):
    return s.getpeercert()["serialNumber"]
before = connect()
ask(before, 1)
print("serial", serial(before), flush=True)
sys.stdin.readline()  # the test rotated the files and sent SIGHUP
ask(before, 2)  # the old connection goes on
after = connect()
ask(after, 3)
print("serial", serial(after), flush=True)
resumed = connect(session=before.session)
ask(resumed, 4)
print("resumed", resumed.session_reused, flush=True)
"#,
    );
    let child = Command::new("timeout")
        .args(["60", "python3", "-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        skip(test, "cannot run `python3`");
        return;
    };
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    use std::io::BufRead;
    lines.read_line(&mut line).unwrap();
    let first = line.trim().to_string();
    assert!(first.starts_with("serial "), "{first:?}");
    let new_serial = pki.rotate(test);
    server.signal("HUP");
    server
        .stderr
        .wait_for(common::IO_TIMEOUT, |l| {
            l.contains("TLS certificate reloaded")
        })
        .expect("the reload was not reported");
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut rest = String::new();
    lines.read_to_string(&mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{rest}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rest = rest.lines();
    let second = rest.next().unwrap_or_default();
    assert_ne!(first, second, "the new handshake got the old certificate");
    assert_eq!(
        second.trim_start_matches("serial ").to_lowercase(),
        new_serial.trim_start_matches("serial=").to_lowercase(),
        "not the rotated certificate"
    );
    assert_eq!(
        rest.next(),
        Some("resumed True"),
        "resumption did not survive the reload"
    );

    // A half-written key: the reload fails, is said and counted, and the
    // certificate rotated in above serves on.
    std::fs::write(pki.dir.join("key.pem"), "-----BEGIN PRIVATE KEY-----\nMIGH").unwrap();
    server.signal("HUP");
    let failed = server
        .stderr
        .wait_for(common::IO_TIMEOUT, |l| l.contains("TLS reload failed"))
        .expect("the failed reload was not reported");
    assert!(failed.contains("key.pem"), "{failed}");
    let Some(metrics) = metrics(test, &pki, &server) else {
        return;
    };
    assert!(metrics.contains("eddy_tls_reloads_total 1\n"), "{metrics}");
    assert!(
        metrics.contains("eddy_tls_reload_failures_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("eddy_tls_cert_not_after_seconds "),
        "{metrics}"
    );
}

/// The library's way to rotate: `ServerHandle::reload_tls`, reported
/// through the events hook.
#[test]
fn a_server_handle_reloads_the_certificate() {
    use std::sync::Mutex;
    let test = "a_server_handle_reloads_the_certificate";
    let Some(pki) = Pki::make(test) else { return };
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&events);
    let tls = eddy::TlsConfig::from_pem_files(pki.path("cert.pem"), pki.path("key.pem")).unwrap();
    let config = eddy::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        tls: Some(tls),
        events: Some(Arc::new(move |event: &eddy::ServerEvent<'_>| {
            seen.lock().unwrap().push(event.to_string());
        })),
        ..eddy::Config::default()
    };
    let server = eddy::Server::bind(config, eddy::Router::new()).unwrap();
    assert!(server.listening().to_string().starts_with("https://"));
    let handle = server.handle();
    let serving = std::thread::spawn(move || server.run());
    pki.rotate(test);
    handle.reload_tls().unwrap();
    let deadline = Instant::now() + common::IO_TIMEOUT;
    while !events
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.contains("reloaded"))
    {
        assert!(Instant::now() < deadline, "{:?}", events.lock().unwrap());
        std::thread::sleep(Duration::from_millis(10)); // polling a hook's record
    }
    handle.shutdown().unwrap();
    assert_eq!(serving.join().unwrap().unwrap(), eddy::Exit::Drained);
}

/// A configuration the program built has no files to read again: a reload
/// says so (the event and the failure counter), and it serves on.
#[test]
fn a_reload_of_a_programs_own_configuration_says_there_is_nothing_to_read() {
    use std::sync::Mutex;
    let test = "a_reload_of_a_programs_own_configuration_says_there_is_nothing_to_read";
    let Some(pki) = Pki::make(test) else { return };
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&events);
    let config = eddy::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        tls: Some(eddy::TlsConfig::from_rustls(build_own_config(&pki))),
        events: Some(Arc::new(move |event: &eddy::ServerEvent<'_>| {
            seen.lock().unwrap().push(event.to_string());
        })),
        ..eddy::Config::default()
    };
    let server = eddy::Server::bind(config, eddy::Router::new()).unwrap();
    let handle = server.handle();
    let serving = std::thread::spawn(move || server.run());
    handle.reload_tls().unwrap();
    handle.shutdown().unwrap();
    assert_eq!(serving.join().unwrap().unwrap(), eddy::Exit::Drained);
    // The reload was asked before the drain: its event came first.
    let events = events.lock().unwrap();
    assert!(
        events[0].contains("TLS reload failed") && events[0].contains("nothing to read again"),
        "{events:?}"
    );
}

/// A rustls `ServerConfig` built the way a program would, from the test
/// PKI's files, through `eddy::rustls`.
fn build_own_config(pki: &Pki) -> Arc<eddy::rustls::ServerConfig> {
    use eddy::rustls::pki_types::pem::PemObject;
    use eddy::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(pki.path("cert.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki.path("key.pem")).unwrap();
    #[allow(deprecated)] // the provider eddy uses (src/tls.rs says why)
    let provider = Arc::new(eddy::rustls::crypto::ring::default_provider());
    let config = eddy::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    Arc::new(config)
}

/// Python's `requests` (urllib3 underneath), verifying the certificate
/// against the test CA: a GET, a POST with a body, on one kept-alive
/// session.
#[test]
fn python_requests_gets_and_posts_over_https() {
    let test = "python_requests_gets_and_posts_over_https";
    let Some(pki) = Pki::make(test) else { return };
    let server = pki.serve(&["--quiet"]);
    let check = Command::new("python3")
        .args(["-c", "import requests"])
        .output();
    if !check.is_ok_and(|out| out.status.success()) {
        skip(test, "no `requests` for python3 (pip install requests)");
        return;
    }
    let script = format!(
        r#"
import requests
s = requests.Session()
base = "https://localhost:{port}"
r = s.get(base + "/fast?id=9", verify={ca:?})
assert r.status_code == 200 and r.text == "fast result 9", (r.status_code, r.text)
r = s.post(base + "/nowhere", data=b"hello", verify={ca:?})
assert r.status_code == 404, r.status_code
r = s.get(base + "/slow_threaded?id=2&n=100", verify={ca:?})
assert r.status_code == 200 and r.text.startswith("slow result 2"), r.text
print("ok")
"#,
        ca = pki.path("ca.pem"),
        port = server.addr.port()
    );
    let Some(out) = python(test, &script) else {
        return;
    };
    assert_eq!(out, "ok\n");
}

/// The seed's monster, over TLS: a handshake's signature is CPU work (a
/// millisecond with RSA 2048, far more with a hardware key), and done on
/// the loop it holds up every request of every connection. Here a signing
/// key that blocks until the test lets it go stands for the slow one:
/// while it holds one client's handshake, another client (the normal key,
/// chosen by its SNI) completes its handshake and gets its answer — the
/// signature runs on a handshake thread, not the loop. Then the first is
/// let go, and it too is answered.
#[test]
fn a_handshake_stuck_in_its_signature_holds_up_no_other_connection() {
    use eddy::rustls;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use rustls::sign::{CertifiedKey, Signer, SigningKey};
    use std::sync::mpsc;
    use std::sync::{Condvar, Mutex};

    /// Open once the test says so; until then every signature waits.
    #[derive(Debug, Default)]
    struct Gate {
        open: Mutex<bool>,
        opened: Condvar,
    }

    #[derive(Debug)]
    struct GatedKey {
        key: Arc<dyn SigningKey>,
        gate: Arc<Gate>,
        started: Mutex<mpsc::Sender<()>>,
    }

    #[derive(Debug)]
    struct GatedSigner {
        signer: Box<dyn Signer>,
        gate: Arc<Gate>,
        started: mpsc::Sender<()>,
    }

    impl SigningKey for GatedKey {
        fn choose_scheme(&self, offered: &[rustls::SignatureScheme]) -> Option<Box<dyn Signer>> {
            Some(Box::new(GatedSigner {
                signer: self.key.choose_scheme(offered)?,
                gate: Arc::clone(&self.gate),
                started: self.started.lock().unwrap().clone(),
            }))
        }

        fn algorithm(&self) -> rustls::SignatureAlgorithm {
            self.key.algorithm()
        }
    }

    impl Signer for GatedSigner {
        fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
            let _ = self.started.send(());
            let mut open = self.gate.open.lock().unwrap();
            while !*open {
                open = self.gate.opened.wait(open).unwrap();
            }
            self.signer.sign(message)
        }

        fn scheme(&self) -> rustls::SignatureScheme {
            self.signer.scheme()
        }
    }

    /// `localhost` (by SNI) gets the normal key; a client with no SNI (it
    /// connected to an IP address) the gated one.
    #[derive(Debug)]
    struct BySni {
        normal: Arc<CertifiedKey>,
        gated: Arc<CertifiedKey>,
    }

    impl rustls::server::ResolvesServerCert for BySni {
        fn resolve(&self, hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            Some(match hello.server_name() {
                Some("localhost") => Arc::clone(&self.normal),
                _ => Arc::clone(&self.gated),
            })
        }
    }

    let data = |name: &str| format!("{}/tests/data/tls/{name}", env!("CARGO_MANIFEST_DIR"));
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(data("cert.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(data("key.pem")).unwrap();
    #[allow(deprecated)] // the provider eddy uses (src/tls.rs says why)
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = provider.key_provider.load_private_key(key).unwrap();
    let gate = Arc::new(Gate::default());
    let (started, signing) = mpsc::channel();
    let gated = GatedKey {
        key: Arc::clone(&key),
        gate: Arc::clone(&gate),
        started: Mutex::new(started),
    };
    let resolver = BySni {
        normal: Arc::new(CertifiedKey::new(chain.clone(), key)),
        gated: Arc::new(CertifiedKey::new(chain, Arc::new(gated))),
    };
    let server_config = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    // Two threads, so the second handshake has one while the first holds
    // the other (the default is one per core, and a machine may have one).
    let tls = eddy::TlsConfig::from_rustls(Arc::new(server_config)).with_handshake_threads(2);
    let config = eddy::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        tls: Some(tls),
        ..eddy::Config::default()
    };
    let router = eddy::Router::new().get(
        "/fast",
        eddy::inline(|_, _| eddy::Response::text(eddy::StatusCode::OK, "fast")),
    );
    let server = eddy::Server::bind(config, router).unwrap();
    let addr = server.local_addr().unwrap();
    let handle = server.handle();
    let serving = std::thread::spawn(move || server.run());

    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(data("ca.pem")).unwrap() {
        roots.add(ca.unwrap()).unwrap();
    }
    let client_config = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    // One GET over a fresh TLS connection; the whole answer, or the error.
    let get = move |name: ServerName<'static>| -> Result<String, String> {
        let session = rustls::ClientConnection::new(Arc::clone(&client_config), name)
            .map_err(|e| e.to_string())?;
        let socket = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        socket.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
        let mut tls = rustls::StreamOwned::new(session, socket);
        tls.write_all(b"GET /fast HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        match tls.read_to_string(&mut answer) {
            Ok(_) => Ok(answer),
            // Some clients see the TCP close before the close_notify.
            Err(_) if answer.ends_with("fast") => Ok(answer),
            Err(e) => Err(format!("{e}; read {answer:?}")),
        }
    };

    let ip = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let stuck = {
        let get = get.clone();
        std::thread::spawn(move || get(ip))
    };
    signing
        .recv_timeout(common::IO_TIMEOUT)
        .expect("the first handshake reaches its signature");
    // The first handshake is inside its signature, which will not return
    // until the gate opens; the second must not wait for it.
    let localhost = ServerName::try_from("localhost").unwrap();
    let answered = get(localhost);
    let stuck_meanwhile = !stuck.is_finished();
    *gate.open.lock().unwrap() = true;
    gate.opened.notify_all();
    let answered =
        answered.expect("the second client's handshake and GET, during the first's signature");
    assert!(
        answered.starts_with("HTTP/1.1 200") && answered.ends_with("fast"),
        "{answered:?}"
    );
    assert!(
        stuck_meanwhile,
        "the first handshake was not held by its signature"
    );
    let first = stuck
        .join()
        .unwrap()
        .expect("the first client, once its signature is done");
    assert!(first.starts_with("HTTP/1.1 200"), "{first:?}");
    handle.shutdown().unwrap();
    assert_eq!(serving.join().unwrap().unwrap(), eddy::Exit::Drained);
}
