//! The integration-test harness: start the real `eddy` binary on an ephemeral
//! port, talk raw HTTP/1.1 bytes to it over `std::net::TcpStream`, and read
//! what it prints. Std only; every wait here has a bound, so a broken server
//! fails a test instead of hanging it.
//!
//! Two transports ([`Wire`]): plain TCP, and (with the `tls` feature, a
//! default) TLS through rustls's blocking client (`eddy::rustls`, no other
//! crate), verifying the checked-in test certificate in `tests/data/tls`.
//! [`Server::start_over`] and [`serve_in_process_over`] serve a wire,
//! [`Client::connect_over`] speaks it, and [`both_transports!`] writes a
//! test once and runs it over each: `NAME::plain` and `NAME::tls`.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod prometheus;
pub mod websocket;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long any single socket read or write may block before the test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// The path of the binary under test, built by cargo for these tests.
pub const EDDY: &str = env!("CARGO_BIN_EXE_eddy");

/// Lines a child process has printed on one stream, plus whether it hit EOF.
/// The condvar is notified on every new line and at EOF, so waiting for a
/// line is an event, not a sleep.
#[derive(Default)]
pub struct Lines {
    state: Mutex<(Vec<String>, bool)>,
    changed: Condvar,
}

impl Lines {
    /// Starts a thread that reads `stream` line by line into a new `Lines`
    /// until EOF. Draining matters: a server whose stdout pipe fills up blocks.
    pub fn drain(stream: impl Read + Send + 'static) -> Arc<Lines> {
        let lines = Arc::new(Lines::default());
        let sink = Arc::clone(&lines);
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                sink.state.lock().unwrap().0.push(line);
                sink.changed.notify_all();
            }
            sink.state.lock().unwrap().1 = true;
            sink.changed.notify_all();
        });
        lines
    }

    /// A copy of every line read so far.
    pub fn snapshot(&self) -> Vec<String> {
        self.state.lock().unwrap().0.clone()
    }

    /// Waits (at most `timeout`) for a line satisfying `pred`; returns it, or
    /// `None` on timeout or if the stream ended without one.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let guard = self.state.lock().unwrap();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |(lines, eof)| {
                !*eof && !lines.iter().any(|l| pred(l))
            })
            .unwrap();
        guard.0.iter().find(|l| pred(l)).cloned()
    }

    /// The last line for which `f` gives `Some`, mapped (without copying
    /// every line, which may be many: `--trace` writes several per turn).
    pub fn find_last<T>(&self, f: impl Fn(&str) -> Option<T>) -> Option<T> {
        self.state.lock().unwrap().0.iter().rev().find_map(|l| f(l))
    }

    /// Waits (at most `timeout`) for EOF; returns whether it came.
    pub fn wait_eof(&self, timeout: Duration) -> bool {
        let guard = self.state.lock().unwrap();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |(_, eof)| !*eof)
            .unwrap();
        guard.1
    }
}

/// A running `eddy serve` child. Dropping it kills the process (if it is
/// still running) and reaps it; if the test is failing, its stderr is shown.
pub struct Server {
    child: Child,
    /// Where the server said it listens (parsed from its first stdout line).
    pub addr: SocketAddr,
    /// What it speaks there, as its listening line says (`http://` or
    /// `https://`).
    pub wire: Wire,
    /// Everything the server printed on stdout, starting with the listening line.
    pub stdout: Arc<Lines>,
    /// Everything the server printed on stderr.
    pub stderr: Arc<Lines>,
}

impl Server {
    /// [`Server::start`] speaking `wire`: over TLS, with the test
    /// certificate and key ([`Wire::serve_flags`]) before `extra`.
    pub fn start_over(wire: Wire, extra: &[&str]) -> Server {
        let flags = wire.serve_flags();
        let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        let server = Server::start(&args);
        assert_eq!(server.wire, wire, "eddy {args:?} serves another wire");
        server
    }

    /// A new connection to the server, over its wire.
    pub fn connect(&self) -> Client {
        Client::connect_over(self.wire, self.addr)
    }

    /// One GET on a fresh connection, over the server's wire.
    pub fn get(&self, path: &str) -> Response {
        self.connect().get(path)
    }

    /// Spawns `eddy serve --addr 127.0.0.1:0 --worker-priority normal <extra>` and waits (bounded) for
    /// its `listening on http://IP:PORT` line.
    pub fn start(extra: &[&str]) -> Server {
        Server::spawn(Command::new(EDDY), extra)
    }

    /// Like [`Server::start`], but with at most `limit` open file descriptors
    /// (`ulimit -n` in a shell that then `exec`s eddy, so the pid is eddy's).
    pub fn start_with_fd_limit(limit: u32, extra: &[&str]) -> Server {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            &format!("ulimit -n {limit} && exec \"$0\" \"$@\""),
            EDDY,
        ]);
        Server::spawn(cmd, extra)
    }

    /// Like [`Server::start`], with environment variables set for eddy.
    pub fn start_with_env(env: &[(&str, &str)], extra: &[&str]) -> Server {
        let mut cmd = Command::new(EDDY);
        cmd.envs(env.iter().copied());
        Server::spawn(cmd, extra)
    }

    /// Runs `cmd serve --addr 127.0.0.1:0 <extra>` (`cmd` is eddy itself or a
    /// wrapper that execs it) and waits for the listening line.
    fn spawn(mut cmd: Command, extra: &[&str]) -> Server {
        let mut child = cmd
            // Workers at normal priority unless a test says otherwise: the
            // binary's default (`idle`, SCHED_IDLE) gives them no core while
            // anything else on the machine is busy, so under another build
            // a 50 ms job took tens of seconds and tests/access_log.rs's
            // job answered 504 (issue 20, point 9). Later flags win.
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--worker-priority",
                "normal",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn eddy");
        let stdout = Lines::drain(child.stdout.take().unwrap());
        let stderr = Lines::drain(child.stderr.take().unwrap());
        // `http://` or, with --tls-cert, `https://`.
        let listening = |l: &str| {
            ["listening on http://", "listening on https://"]
                .into_iter()
                .find(|prefix| l.starts_with(prefix))
        };
        let Some(line) = stdout.wait_for(IO_TIMEOUT, |l| listening(l).is_some()) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "eddy {extra:?} printed no listening line; stdout {:?}, stderr {:?}",
                stdout.snapshot(),
                stderr.snapshot()
            );
        };
        let prefix = listening(&line).expect("matched above");
        let addr = line[prefix.len()..]
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("bad listening line {line:?}: {e}"));
        let wire = Wire::of_url(prefix.trim_start_matches("listening on "));
        Server {
            child,
            addr,
            wire,
            stdout,
            stderr,
        }
    }

    /// The server's process id (for `kill`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (`"TERM"`, `"INT"`) with the `kill` command.
    pub fn signal(&self, name: &str) {
        signal(self.pid(), name);
    }

    /// How many turns the event loop has finished, as `--trace` (which the
    /// server must have been started with) reports them on stderr: the
    /// number of the last `turn N at T ms` block written. A block is written
    /// when its turn ends, and only if the turn did something — but its
    /// number counts the silent turns before it, and a turn that spins (its
    /// poll told not to sleep) is never silent. An idle loop wakes for its
    /// 250 ms heartbeat and for events, a handful of turns a second; a loop
    /// that spins makes thousands, and a busy machine that slows it down
    /// still leaves it hundreds. Counting turns is why that holds where a
    /// CPU share would not: other load makes a spinning loop's share smaller.
    pub fn turns(&self) -> u64 {
        self.stderr
            .find_last(|l| {
                let rest = l.strip_prefix("turn ")?;
                rest.split(' ').next()?.parse().ok()
            })
            .unwrap_or(0)
    }

    /// The most turns an idle loop may take in `window`: twice its
    /// heartbeat rate (4 a second), plus `events` turns for what the test
    /// itself sends or finishes in it, plus 10.
    pub fn idle_turns_bound(window: Duration, events: u64) -> u64 {
        (8.0 * window.as_secs_f64()).ceil() as u64 + events + 10
    }

    /// Polls `try_wait` until the process exits or `timeout` passes.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_child(&mut self.child, timeout)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("--- eddy stderr ---\n{}", self.stderr.snapshot().join("\n"));
        }
    }
}

/// Writes a line straight to the test process's stderr. libtest captures
/// `println!` and `eprintln!` of a passing test, so a skip reason or a count
/// the test promises to print would never reach the CI log; a write to the
/// `Stderr` handle itself is not captured.
pub fn say(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// The environment variable that turns a test's skip into a failure.
/// `.ci/run` sets it to `1`: there it has just installed every tool the
/// tests use, so a tool still missing means the install failed, and a test
/// that skipped would pass having proved nothing.
pub const REQUIRE_TOOLS: &str = "EDDY_REQUIRE_TOOLS";

/// Every skip for a missing outside tool (nginx, chromium, python3, h11,
/// curl) goes through here. With [`REQUIRE_TOOLS`]`=1` (CI) it panics with
/// the reason, failing the test; otherwise it [`say`]s the reason (a write
/// libtest does not capture, so `cargo test` shows it) and the caller
/// returns.
pub fn skip(test: &str, why: &str) {
    let line = format!("SKIPPED {test}: {why}");
    if std::env::var(REQUIRE_TOOLS).is_ok_and(|v| v == "1") {
        panic!("{line} ({REQUIRE_TOOLS}=1: a missing tool fails the run)");
    }
    say(&line);
}

/// Runs a command with a 30 s bound; its output, or `None` if the program
/// is missing (after saying so).
pub fn tool(
    test: &str,
    program: &str,
    args: &[&str],
    input: &[u8],
) -> Option<std::process::Output> {
    let child = std::process::Command::new("timeout")
        .arg("30")
        .arg(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        skip(test, &format!("cannot run `{program}`"));
        return None;
    };
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.code() == Some(127) {
        skip(test, &format!("no `{program}` command"));
        return None;
    }
    Some(out)
}

/// Runs a Python script; its stdout, after asserting it succeeded (`None`
/// if there is no python3, after saying so).
pub fn python(test: &str, script: &str) -> Option<String> {
    let out = tool(test, "python3", &["-c", script], b"")?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    Some(stdout.into_owned())
}

/// [`python`], for a script that imports `module`: skipped (after saying
/// so) when this python3 lacks it.
pub fn python_with(test: &str, module: &str, script: &str) -> Option<String> {
    let out = tool(test, "python3", &["-c", &format!("import {module}")], b"")?;
    if !out.status.success() {
        skip(
            test,
            &format!("no python3 with `{module}` (pip install {module})"),
        );
        return None;
    }
    python(test, script)
}

/// Polls `child.try_wait()` every 10 ms until it exits or `timeout` passes.
pub fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `eddy <args>` to completion (bounded) and returns (status, stdout, stderr).
pub fn run_eddy(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Command::new(EDDY)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn eddy");
    let out = Lines::drain(child.stdout.take().unwrap());
    let err = Lines::drain(child.stderr.take().unwrap());
    let Some(status) = wait_child(&mut child, IO_TIMEOUT) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("eddy {args:?} did not exit within {IO_TIMEOUT:?}");
    };
    assert!(out.wait_eof(IO_TIMEOUT) && err.wait_eof(IO_TIMEOUT));
    (status, out.snapshot().join("\n"), err.snapshot().join("\n"))
}

/// One parsed HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The version on the status line, e.g. `HTTP/1.1`.
    pub version: String,
    pub status: u16,
    /// Header (name, value) pairs in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (case-insensitive), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the response says `Connection: close`.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Reads one response: status line, headers, and (unless `head`, i.e. the
/// request was HEAD) a body of exactly Content-Length bytes, or a chunked
/// body to its last chunk. A response with neither is an error: every eddy
/// response says where it ends (but a streamed one to an HTTP/1.0 client,
/// which tests read to the close themselves). A chunked body cut short is
/// `UnexpectedEof`.
pub fn read_response(r: &mut impl BufRead, head: bool) -> io::Result<Response> {
    let bad = |msg: String| io::Error::new(io::ErrorKind::InvalidData, msg);
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let status_line = line
        .strip_suffix("\r\n")
        .ok_or_else(|| bad(format!("status line not CRLF-terminated: {line:?}")))?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_string();
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(bad("EOF inside the header block".into()));
        }
        let l = line
            .strip_suffix("\r\n")
            .ok_or_else(|| bad(format!("header line not CRLF-terminated: {line:?}")))?;
        if l.is_empty() {
            break;
        }
        let (name, value) = l
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header line {l:?}")))?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let mut resp = Response {
        version,
        status,
        headers,
        body: Vec::new(),
    };
    let chunked = resp
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if !head && chunked {
        resp.body = read_chunked(r)?;
    } else if !head && status >= 200 && status != 204 && status != 304 {
        let len: usize = resp
            .header("content-length")
            .ok_or_else(|| bad(format!("no Content-Length in {resp:?}")))?
            .parse()
            .map_err(|_| bad(format!("bad Content-Length in {resp:?}")))?;
        resp.body = vec![0; len];
        r.read_exact(&mut resp.body)?;
    }
    Ok(resp)
}

/// A chunked body, strictly: `size CRLF data CRLF` until a zero size, then
/// the empty line (no extensions or trailers: eddy sends none).
fn read_chunked(r: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = read_chunk(r)? {
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads one chunk of a chunked body: its data, or `None` for the last
/// chunk (no trailers expected). A stream cut short is `UnexpectedEof`.
pub fn read_chunk(r: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let bad = |msg: String| io::Error::new(io::ErrorKind::InvalidData, msg);
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let size = line
        .strip_suffix("\r\n")
        .and_then(|s| usize::from_str_radix(s, 16).ok())
        .ok_or_else(|| bad(format!("bad chunk size line {line:?}")))?;
    let mut data = vec![0; size + 2];
    r.read_exact(&mut data)?;
    if !data.ends_with(b"\r\n") {
        return Err(bad("chunk data not followed by CRLF".into()));
    }
    data.truncate(size);
    Ok((size > 0).then_some(data))
}

/// What a test talks over: plain TCP, or TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// HTTP on the socket itself.
    Plain,
    /// HTTPS: rustls's blocking client over the socket, verifying the test
    /// certificate (`tests/data/tls/cert.pem`, for `localhost` and
    /// 127.0.0.1, ECDSA P-256) against its CA (`ca.pem`).
    #[cfg(feature = "tls")]
    Tls,
}

impl Wire {
    /// The wire a URL's scheme names (`http://…`, `https://…`).
    pub fn of_url(url: &str) -> Wire {
        if url.starts_with("https://") {
            #[cfg(feature = "tls")]
            return Wire::Tls;
            #[cfg(not(feature = "tls"))]
            panic!("{url}: HTTPS, in a test built without the `tls` feature");
        }
        Wire::Plain
    }

    /// The `eddy serve` flags for this wire: none, or `--tls-cert` and
    /// `--tls-key` with the test certificate and key.
    pub fn serve_flags(self) -> Vec<String> {
        match self {
            Wire::Plain => Vec::new(),
            #[cfg(feature = "tls")]
            Wire::Tls => vec![
                "--tls-cert".into(),
                tls_data("cert.pem"),
                "--tls-key".into(),
                tls_data("key.pem"),
            ],
        }
    }

    /// A new connection to `addr` over this wire ([`Client::connect_over`]).
    pub fn connect(self, addr: SocketAddr) -> Client {
        Client::connect_over(self, addr)
    }

    /// One GET on a fresh connection over this wire.
    pub fn get(self, addr: SocketAddr, path: &str) -> Response {
        self.connect(addr).get(path)
    }
}

/// The path of a file of the test PKI in `tests/data/tls` (its README says
/// how it was made).
pub fn tls_data(name: &str) -> String {
    format!("{}/tests/data/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Writes a test once and runs it over both wires:
///
/// ```ignore
/// both_transports! {
///     /// What it shows.
///     fn name(wire) { let s = Server::start_over(wire, &[]); /* … */ }
/// }
/// ```
///
/// defines `fn name(wire: Wire)` and the tests `name::plain` and, with the
/// `tls` feature, `name::tls`: the failing test's name says which wire
/// failed, and `cargo test ::tls` runs the TLS half. (A function and a
/// module may share a name: they live in different namespaces.)
#[allow(unused_macros)] // each test binary uses its own subset
macro_rules! both_transports {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($wire:ident) $body:block
    )*) => {$(
        $(#[$attr])*
        fn $name($wire: $crate::common::Wire) $body

        mod $name {
            #[test]
            fn plain() {
                super::$name($crate::common::Wire::Plain);
            }

            #[cfg(feature = "tls")]
            #[test]
            fn tls() {
                super::$name($crate::common::Wire::Tls);
            }
        }
    )*};
}
#[allow(unused_imports)] // each test binary uses its own subset
pub(crate) use both_transports;

/// What a [`Client`] reads and writes through: the socket itself, or a TLS
/// session over it (one object: a session cannot be split into a reader and
/// a writer the way a socket is cloned).
pub trait Duplex: Read + Write + Send {
    /// Ends the client's sending, keeping its reading: a FIN; over TLS,
    /// `close_notify` first, then the FIN.
    fn close_write(&mut self) -> io::Result<()>;

    /// One write that never reads, as a client that does not read the
    /// answers writes: the bytes of `bytes` taken. (rustls's blocking
    /// `write` reads when the socket will not take its records.)
    fn push(&mut self, bytes: &[u8]) -> io::Result<usize>;
}

impl Duplex for TcpStream {
    fn close_write(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    fn push(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write(bytes)
    }
}

#[cfg(feature = "tls")]
impl Duplex for eddy::rustls::StreamOwned<eddy::rustls::ClientConnection, TcpStream> {
    fn close_write(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush()?;
        self.sock.shutdown(Shutdown::Write)
    }

    /// Records sealed before go out first; the bytes the session takes are
    /// sealed and written; a socket that will not take them is the error
    /// (its write timeout).
    fn push(&mut self, bytes: &[u8]) -> io::Result<usize> {
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.sock)?;
        }
        let taken = self.conn.writer().write(bytes)?;
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.sock)?;
        }
        Ok(taken)
    }
}

/// The TLS client's configuration, made once: the test CA as the only root,
/// the `ring` provider eddy uses, ALPN `http/1.1` as browsers offer it.
#[cfg(feature = "tls")]
fn tls_client_config() -> Arc<eddy::rustls::ClientConfig> {
    use eddy::rustls::pki_types::pem::PemObject;
    use eddy::rustls::pki_types::CertificateDer;
    static CONFIG: std::sync::OnceLock<Arc<eddy::rustls::ClientConfig>> =
        std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let mut roots = eddy::rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(tls_data("ca.pem")).expect("read ca.pem") {
            roots.add(cert.expect("a certificate in ca.pem")).unwrap();
        }
        #[allow(deprecated)] // the provider eddy uses (src/tls.rs says why)
        let provider = Arc::new(eddy::rustls::crypto::ring::default_provider());
        let mut config = eddy::rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    });
    Arc::clone(config)
}

/// A client connection over plain TCP or TLS, with `IO_TIMEOUT` on every
/// read and write, so several responses can be read from one keep-alive
/// connection.
pub struct Client {
    /// The socket, for what is done to a socket: timeouts, `local_addr`,
    /// `peek`, a raw `shutdown`. Bytes written here bypass TLS: a test that
    /// runs over both wires writes with [`Client::send`] and half-closes
    /// with [`Client::half_close`].
    pub stream: TcpStream,
    /// Buffered reads of the plaintext; writes go through `get_mut()`. Over
    /// plain TCP, a clone of `stream`; over TLS, the session over it.
    pub reader: BufReader<Box<dyn Duplex>>,
    /// Which of the two it is.
    pub wire: Wire,
}

impl Client {
    /// Connects to `addr` over plain TCP (panics if refused).
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to eddy");
        Client::from_stream(stream)
    }

    /// Connects to `addr` over `wire`; over TLS, the handshake is done
    /// before this returns (panics if either fails).
    pub fn connect_over(wire: Wire, addr: SocketAddr) -> Client {
        Client::try_connect_over(wire, addr)
            .unwrap_or_else(|e| panic!("connect to eddy over {wire:?}: {e}"))
    }

    /// [`Client::connect_over`], saying why it failed instead of panicking:
    /// the connect was refused, or the TLS handshake failed or was cut.
    pub fn try_connect_over(wire: Wire, addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect(addr)?;
        match wire {
            Wire::Plain => Ok(Client::from_stream(stream)),
            #[cfg(feature = "tls")]
            Wire::Tls => Client::tls_over(stream),
        }
    }

    /// Wraps an already-connected socket, plain, setting the timeouts.
    pub fn from_stream(stream: TcpStream) -> Client {
        set_timeouts(&stream);
        let reader = BufReader::new(Box::new(stream.try_clone().unwrap()) as Box<dyn Duplex>);
        Client {
            stream,
            reader,
            wire: Wire::Plain,
        }
    }

    /// A TLS session over an already-connected socket, its handshake done
    /// (bounded by the socket's timeouts), verifying the test certificate
    /// for `localhost`.
    #[cfg(feature = "tls")]
    fn tls_over(stream: TcpStream) -> io::Result<Client> {
        use eddy::rustls::{pki_types::ServerName, ClientConnection, StreamOwned};
        set_timeouts(&stream);
        let name = ServerName::try_from("localhost").unwrap();
        let mut conn =
            ClientConnection::new(tls_client_config(), name).map_err(io::Error::other)?;
        let mut sock = stream.try_clone()?;
        while conn.is_handshaking() {
            conn.complete_io(&mut sock)?;
        }
        let session: Box<dyn Duplex> = Box::new(StreamOwned::new(conn, sock));
        Ok(Client {
            stream,
            reader: BufReader::new(session),
            wire: Wire::Tls,
        })
    }

    /// Writes raw bytes, all at once.
    pub fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes).expect("write to eddy");
    }

    /// [`Client::send`], returning the error instead of panicking (for a
    /// test where the server may have closed first).
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let out = self.reader.get_mut();
        out.write_all(bytes)?;
        out.flush()
    }

    /// One write that never reads ([`Duplex::push`]): for a client that
    /// sends without reading the answers.
    pub fn push(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.reader.get_mut().push(bytes)
    }

    /// Ends the client's sending (a FIN; over TLS `close_notify`, then the
    /// FIN), as `nc -N` does: the server answers what came whole, then
    /// closes.
    pub fn half_close(&mut self) {
        self.reader
            .get_mut()
            .close_write()
            .expect("half-close the connection");
    }

    /// Writes `GET <path> HTTP/1.1` with a Host header.
    pub fn send_get(&mut self, path: &str) {
        self.send(get_req(path).as_bytes());
    }

    /// Reads the next response to a non-HEAD request (panics on error).
    pub fn response(&mut self) -> Response {
        read_response(&mut self.reader, false).expect("read a response from eddy")
    }

    /// Reads the next response to a HEAD request: no body is read.
    pub fn head_response(&mut self) -> Response {
        read_response(&mut self.reader, true).expect("read a HEAD response from eddy")
    }

    /// Sends a GET and reads its response.
    pub fn get(&mut self, path: &str) -> Response {
        self.send_get(path);
        self.response()
    }

    /// Asserts that the server closes the connection (EOF or reset) without
    /// sending any further byte, within `IO_TIMEOUT`. Over TLS the EOF must
    /// follow `close_notify` (the contract's "close_notify on every orderly
    /// close"): a bare TCP EOF is a truncation, and fails.
    pub fn assert_closed(&mut self) {
        if let Err(e) = self.check_closed() {
            panic!("{e}");
        }
    }

    /// [`Client::assert_closed`] as a check: `Err` says what came instead
    /// (bytes, or no close within the read timeout).
    pub fn check_closed(&mut self) -> Result<(), String> {
        let buffered = self.reader.buffer().to_vec();
        if !buffered.is_empty() {
            return Err(format!(
                "expected close, got bytes {:?}",
                String::from_utf8_lossy(&buffered)
            ));
        }
        let mut buf = [0u8; 1024];
        // EINTR is not an answer: `read` says to call it again (a blocking
        // read with a timeout returns it when the test process is stopped
        // and resumed, as a loaded run of the suite once saw).
        let read = loop {
            match self.reader.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                read => break read,
            }
        };
        match read {
            Ok(0) => Ok(()),
            Ok(n) => Err(format!(
                "expected close, got bytes {:?}",
                String::from_utf8_lossy(&buf[..n])
            )),
            Err(e) if is_reset(&e) => Ok(()),
            Err(e) => Err(format!("expected close, got {e}")),
        }
    }

    /// Reads the answer to a request the server must refuse: `status`, the
    /// standard headers, `Connection: close`, and then the close itself.
    /// `Err` describes the first thing that differed.
    pub fn check_error(&mut self, status: u16) -> Result<Response, String> {
        let r = read_response(&mut self.reader, false).map_err(|e| format!("no response: {e}"))?;
        if r.status != status {
            return Err(format!("got {} {:?}", r.status, r.text()));
        }
        check_standard_headers(&r, false)?;
        if !r.closes() {
            return Err(format!("{status} without Connection: close: {r:?}"));
        }
        self.check_closed()?;
        Ok(r)
    }

    /// [`Client::check_error`], panicking on a difference.
    pub fn assert_error(&mut self, status: u16) -> Response {
        self.check_error(status).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// Sends `request` (raw bytes, one write) on a fresh connection and checks it
/// is refused as [`Client::check_error`] describes, while a keep-alive
/// connection opened before it is served before and after.
pub fn check_rejected(addr: SocketAddr, request: &[u8], status: u16) -> Result<(), String> {
    check_rejected_over(Wire::Plain, addr, request, status)
}

/// [`check_rejected`] over `wire`.
pub fn check_rejected_over(
    wire: Wire,
    addr: SocketAddr,
    request: &[u8],
    status: u16,
) -> Result<(), String> {
    let mut bystander = Client::connect_over(wire, addr);
    check_fast(&bystander.get("/fast?id=1"), 1).map_err(|e| format!("bystander: {e}"))?;
    let mut c = Client::connect_over(wire, addr);
    c.try_send(request).map_err(|e| format!("write: {e}"))?;
    c.check_error(status)?;
    check_fast(&bystander.get("/fast?id=2"), 2).map_err(|e| format!("bystander after: {e}"))
}

/// Whether `r` is the 200 `fast result ID` answer, with the standard headers.
pub fn check_fast(r: &Response, id: u64) -> Result<(), String> {
    if r.status != 200 || r.text() != format!("fast result {id}") {
        return Err(format!("expected `fast result {id}`, got {r:?}"));
    }
    check_standard_headers(r, false)
}

/// [`check_fast`], panicking on a difference.
pub fn assert_fast(r: &Response, id: u64) {
    check_fast(r, id).unwrap_or_else(|e| panic!("{e}"))
}

/// Proves the loop has read every request written on connections accepted
/// before this call: two full `/fast` round-trips on a newer connection. The
/// earlier sockets were accepted first and were readable from the start, so
/// their bytes were read in the same or an earlier loop iteration than this
/// one's.
pub fn sync_with_loop(addr: SocketAddr) {
    let mut c = Client::connect(addr);
    for id in [100, 101] {
        assert_fast(&c.get(&format!("/fast?id={id}")), id);
    }
}

/// `IO_TIMEOUT` on reads and writes, and no Nagle delay.
fn set_timeouts(stream: &TcpStream) {
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
}

/// Whether an I/O error means the peer reset or aborted the connection.
pub fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// The bytes of `GET <path> HTTP/1.1` with a Host header and nothing else.
pub fn get_req(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
}

/// One GET on a fresh connection.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    Client::connect(addr).get(path)
}

/// Asserts the headers every response must carry: Content-Length (matching
/// the body unless `head`), Content-Type when there is a body, an
/// IMF-fixdate Date, Server
/// `eddy/0.1.0`, and an `HTTP/1.1` status line.
pub fn assert_standard_headers(r: &Response, head: bool) {
    check_standard_headers(r, head).unwrap_or_else(|e| panic!("{e}"))
}

/// [`assert_standard_headers`] as a check: `Err` names what is missing.
pub fn check_standard_headers(r: &Response, head: bool) -> Result<(), String> {
    if r.version != "HTTP/1.1" {
        return Err(format!("status line version in {r:?}"));
    }
    let len = r.header("content-length");
    let Some(len) = len else {
        return Err(format!("no Content-Length: {r:?}"));
    };
    if !head && len.parse::<usize>().ok() != Some(r.body.len()) {
        return Err(format!("Content-Length differs from the body: {r:?}"));
    }
    if !r.body.is_empty() && r.header("content-type").is_none() {
        return Err(format!("no Content-Type with a body: {r:?}"));
    }
    let date = r.header("date").unwrap_or_default();
    if !(date.len() == 29 && date.ends_with(" GMT") && date.as_bytes()[3] == b',') {
        return Err(format!("Date missing or not IMF-fixdate: {r:?}"));
    }
    if r.header("server") != Some("eddy/0.1.0") {
        return Err(format!("Server is not eddy/0.1.0: {r:?}"));
    }
    Ok(())
}

/// Calibration target of the timing tests: one job at the chosen `n` costs
/// at least this much CPU time on this machine and build.
pub const JOB: Duration = Duration::from_millis(400);

/// The largest job allowed (`n=20000`): ~23 s in the test build on the
/// 2-core test machine (`curl '/slow_threaded?id=1&n=20000'` → 22.8 s), so
/// a test that would wait for it to finish fails long before it could.
pub const LONGEST_JOB: &str = "/slow_threaded?id=1&n=20000";

/// The bound for "promptly" in tests with a `LONGEST_JOB` in flight: under
/// half of one, far more than anything prompt should take.
pub const PROMPT: Duration = Duration::from_secs(10);

/// The CPU time one job of size `n` costs: a `/slow?id=0&n=N` round-trip on
/// a fresh connection, measured on the loop thread's CPU clock.
///
/// Why CPU time, and why `/slow`: a wall-clock time says how much CPU the
/// job *got*, not what it *costs*. The workers run at `SCHED_IDLE`, so on a
/// machine with any other load a `/slow_threaded` job's wall time is mostly
/// waiting for a core; timed that way, calibration picked a tiny `n`, and
/// the same `n` run as `/slow` (on the loop, at normal priority) blocked the
/// loop for milliseconds. The loop thread's CPU clock counts only the work,
/// whatever else runs, and `/slow` gets a core at normal priority, so
/// calibrating takes about as long on a loaded machine as on an idle one.
/// A job's cost is the same on the loop and on a worker (the same function).
pub fn time_job(server: &Server, n: u32) -> Duration {
    let pid = server.pid();
    let cpu0 = loop_cpu_time(pid);
    let r = server.get(&format!("/slow?id=0&n={n}"));
    let cost = loop_cpu_time(pid) - cpu0;
    assert_eq!(r.status, 200, "calibration job n={n}: {r:?}");
    cost
}

/// Finds an `n` for which one job costs at least `min` of CPU time on this
/// machine and build (start at 500, grow ×1.25, cap 20000); returns `(n,
/// its cost)`. The cost bounds the loop's block from below: `/slow` of that
/// `n` blocks the loop at least that long, however busy the machine is. On
/// a worker it is a size, not a bound: a thread on a less contended core
/// runs the same work faster (a CI run saw a 0.41 s-CPU size run 0.25 s on
/// a worker), so a test that needs a job to *run* past some time checks the
/// job's own reported time (`reported_seconds`); and it may take far longer
/// (a `SCHED_IDLE` worker on a loaded machine waits for a core).
///
/// That wait can be unbounded: with one core busy elsewhere, a 0.4 s job on
/// an idle-priority worker once took over 30 s (and timed out, 504). So a
/// test that runs calibrated jobs on the pool to prove something other
/// than the workers' priority starts eddy with `--worker-priority normal`.
pub fn calibrate(server: &Server, min: Duration) -> (u32, Duration) {
    let mut n = 500u32;
    loop {
        let cost = time_job(server, n);
        if cost >= min || n == 20000 {
            return (n, cost);
        }
        n = (n + n / 4).min(20000);
    }
}

/// The running time a `/slow` or `/slow_threaded` answer reports in its
/// body (`slow result ID <--- 0.612 s`): how long the job ran, by the wall
/// clock of the thread that ran it.
pub fn reported_seconds(response: &Response) -> f64 {
    let text = response.text();
    text.strip_prefix("slow result ")
        .and_then(|rest| rest.split_once(" <--- "))
        .and_then(|(_, secs)| secs.strip_suffix(" s"))
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("not a slow result: {response:?}"))
}

/// Asserts that two `/slow_threaded` jobs sent at once on two connections
/// *run at the same time* on the pool.
///
/// Each job reports its own running time (`slow result 1 <--- 0.612 s`).
/// Two jobs that run side by side each take about as long as the pair's wall
/// time, so their reported times add up to about twice it; a pool that runs
/// them one after the other gives a sum about equal to it. That holds on a
/// busy machine too (with one free core, two concurrent jobs share it and
/// each still reports the whole span), unlike "the pair takes less than
/// twice one job", which needs two idle cores. The speed-up over one job is
/// printed as well, for the record. Three attempts, as it is still timing.
pub fn assert_parallel(server: &Server) {
    check_parallel(server, false);
}

/// [`assert_parallel`] for two jobs pipelined on *one* connection: the
/// second is offloaded as soon as it is decoded, not after the first is
/// answered (only the answers wait for each other).
pub fn assert_parallel_pipelined(server: &Server) {
    check_parallel(server, true);
}

fn check_parallel(server: &Server, pipelined: bool) {
    let addr = server.addr;
    let (n, cost) = calibrate(server, JOB);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let first = get_req(&format!("/slow_threaded?id=1&n={n}"));
        let second = get_req(&format!("/slow_threaded?id=2&n={n}"));
        let t0 = Instant::now();
        let (ra, rb) = if pipelined {
            let mut a = Client::connect(addr);
            a.send(format!("{first}{second}").as_bytes());
            (a.response(), a.response())
        } else {
            let mut a = Client::connect(addr);
            let mut b = Client::connect(addr);
            a.send(first.as_bytes());
            b.send(second.as_bytes());
            (a.response(), b.response())
        };
        let pair = t0.elapsed().as_secs_f64();
        let ran = job_seconds(&ra, 1) + job_seconds(&rb, 2);
        println!(
            "two jobs (n={n}, pipelined: {pipelined}): pair {pair:.3} s, one costs {:.3} s \
             of CPU, reported run times sum {ran:.3} s",
            cost.as_secs_f64()
        );
        if ran > 1.5 * pair {
            return;
        }
        seen.push((pair, ran));
    }
    panic!(
        "two jobs (n={n}, pipelined: {pipelined}) did not overlap: \
         (pair wall s, sum of run times s) = {seen:?}"
    );
}

/// The running time a `/slow_threaded?id=ID` job reports in its body.
fn job_seconds(response: &Response, id: u32) -> f64 {
    let text = response.text();
    let seconds = text
        .strip_prefix(&format!("slow result {id} <--- "))
        .and_then(|rest| rest.strip_suffix(" s"))
        .unwrap_or_else(|| panic!("not a slow result {id}: {response:?}"));
    seconds.parse().expect("seconds")
}

/// One field of `/proc/PID/status` in KiB (e.g. `VmRSS`).
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The CPU time (user + system) process `pid` has used so far, from
/// `/proc/PID/stat` (fields 14 and 15, in clock ticks of `getconf CLK_TCK`).
pub fn cpu_time(pid: u32) -> Duration {
    cpu_time_in(&format!("/proc/{pid}/stat"))
}

/// Sends `/slow?id=ID&n=N` (a job of about `job`) and returns once the
/// loop is computing it — its thread has burnt CPU on it — with the client
/// whose answer comes when the loop is free again.
pub fn block_the_loop(server: &Server, id: u32, n: u32, job: Duration) -> Client {
    let pid = server.pid();
    let mut c = server.connect();
    let busy0 = loop_cpu_time(pid);
    c.send_get(&format!("/slow?id={id}&n={n}"));
    let computing = wait_until(job, || loop_cpu_time(pid) >= busy0 + job / 8);
    assert!(computing, "the loop never started /slow (n={n}, {job:?})");
    c
}

/// The CPU time of the main thread of process `pid` alone: in `eddy serve`,
/// the event loop (the workers are threads of their own).
pub fn loop_cpu_time(pid: u32) -> Duration {
    cpu_time_in(&format!("/proc/{pid}/task/{pid}/stat"))
}

fn cpu_time_in(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).expect("read /proc stat");
    // The command name (field 2) may hold spaces; the fields after it don't.
    let rest = &stat[stat.rfind(')').expect("comm in stat") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field N is at index N - 3.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64)
}

/// `getconf CLK_TCK`, or the usual 100 if it cannot be run.
fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// How many file descriptors process `pid` has open.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc fd")
        .count()
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes; returns
/// whether it held. For states only visible by looking (e.g. in `/proc`).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Where cargo put example `name` (built before the tests run): beside the
/// running test's own binary, in `target/<profile>/examples/`.
pub fn example_path(name: &str) -> std::path::PathBuf {
    let me = std::env::current_exe().unwrap();
    let profile_dir = me.parent().and_then(|deps| deps.parent()).unwrap();
    profile_dir.join("examples").join(name)
}

/// A running example program that prints `listening on http://ADDR…` first.
/// Killed when dropped.
pub struct Example {
    pub child: Child,
    pub addr: SocketAddr,
    pub stdout: Arc<Lines>,
    pub stderr: Arc<Lines>,
}

impl Example {
    /// Runs example `name` with `args` and waits for its first line.
    pub fn start(name: &str, args: &[&str]) -> Example {
        let mut child = Command::new(example_path(name))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("run examples/{name} (built by `cargo test`; by `cargo build --examples` when tests are named): {e}")
            });
        let stdout = Lines::drain(child.stdout.take().unwrap());
        let stderr = Lines::drain(child.stderr.take().unwrap());
        let first = stdout.wait_for(IO_TIMEOUT, |_| true).expect("a first line");
        let addr = first
            .strip_prefix("listening on http://")
            .or_else(|| first.strip_prefix("listening on https://"))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("first line {first:?}, stderr {:?}", stderr.snapshot()))
            .parse()
            .unwrap();
        Example {
            child,
            addr,
            stdout,
            stderr,
        }
    }

    /// Sends a signal by name (`"TERM"`, `"INT"`) to the example.
    pub fn signal(&self, name: &str) {
        signal(self.child.id(), name);
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends signal `name` (`"TERM"`, `"INT"`) to process `pid` with `kill`.
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} failed: {status}");
}

/// A server running in this process, on a thread, on an ephemeral port.
pub struct InProcess {
    pub addr: SocketAddr,
    /// What it speaks.
    pub wire: Wire,
    pub handle: eddy::ServerHandle,
    pub serving: thread::JoinHandle<io::Result<eddy::Exit>>,
}

impl InProcess {
    /// Shuts the server down and waits for its thread to end; its `run`
    /// must have ended well.
    pub fn stop(self) {
        self.handle.shutdown().unwrap();
        self.serving.join().unwrap().unwrap();
    }
}

/// Serves `router` with `config` on `127.0.0.1:0` (the config's address is
/// replaced), on a thread of its own.
pub fn serve_in_process(router: eddy::Router, config: eddy::Config) -> InProcess {
    let config = eddy::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..config
    };
    let server = eddy::Server::bind(config, router).unwrap();
    let addr = server.local_addr().unwrap();
    let wire = Wire::of_url(&server.listening().to_string());
    let handle = server.handle();
    InProcess {
        addr,
        wire,
        handle,
        serving: thread::spawn(move || server.run()),
    }
}

/// [`serve_in_process`] speaking `wire`: over TLS, `config.tls` is the test
/// certificate and key.
pub fn serve_in_process_over(wire: Wire, router: eddy::Router, config: eddy::Config) -> InProcess {
    let config = match wire {
        Wire::Plain => config,
        #[cfg(feature = "tls")]
        Wire::Tls => eddy::Config {
            tls: Some(
                eddy::TlsConfig::from_pem_files(tls_data("cert.pem"), tls_data("key.pem"))
                    .expect("the test certificate and key"),
            ),
            ..config
        },
    };
    let served = serve_in_process(router, config);
    assert_eq!(served.wire, wire, "the server speaks another wire");
    served
}
