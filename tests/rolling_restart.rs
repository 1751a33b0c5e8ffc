//! A rolling restart behind a real nginx loses no request.
//!
//! Two eddy instances sit behind nginx, configured by `deploy/nginx.conf`
//! itself (its three addresses replaced by ephemeral loopback ports). A few
//! client threads send a steady stream of `/fast` and `/slow_threaded`
//! requests through nginx on keep-alive connections, checking every answer.
//! Meanwhile each instance in turn gets SIGTERM, drains (exit 0), stays down
//! half a second, is started again on the same port and is waited for until
//! nginx sends it traffic again. Not one request may fail: a draining
//! instance refuses new connections and closes idle ones, which nginx's
//! `proxy_next_upstream` retries on the other instance (the test checks in
//! nginx's access log that it did retry away from each instance).
//!
//! Needs an `nginx` binary (on PATH or /usr/sbin/nginx; `.ci/run` installs
//! Debian's nginx-light). Without one the test says why and passes.

mod common;

use std::env;
use std::fs;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{read_response, say, wait_child, Lines, Response, Server};

/// Client threads sending requests through nginx.
const CLIENTS: u64 = 4;

/// `n` of the `/slow_threaded` requests: a few milliseconds of pool work.
const SLOW_N: u32 = 500;

/// Bound on a drain. The in-flight jobs are milliseconds long, but workers
/// run in `SCHED_IDLE` (src/pool.rs) and crawl while other programs keep
/// every core busy; eddy itself gives up at its 30 s --shutdown-timeout.
const DRAIN_BOUND: Duration = Duration::from_secs(40);

/// How long an instance stays down between its exit and its restart. A real
/// restart takes a moment (a new binary, systemd), and a port that is closed
/// for only a few milliseconds may see no request at all; this makes sure
/// nginx meets the closed port and has to retry elsewhere.
const DOWNTIME: Duration = Duration::from_millis(500);

/// Bound on nginx sending traffic to a restarted instance again (nginx waits
/// `fail_timeout`, 3 s in deploy/nginx.conf, before it tries it).
const ROTATION_BOUND: Duration = Duration::from_secs(30);

/// A client thread stops on its own after this, whatever the test does.
const CLIENT_BOUND: Duration = Duration::from_secs(180);

/// How many failures are described in the report (all are counted).
const FAILURES_SHOWN: usize = 10;

/// The flags every instance runs with.
const EDDY_FLAGS: [&str; 3] = ["--quiet", "--workers", "2"];

#[test]
fn rolling_restart_behind_nginx_loses_no_request() {
    let Some(nginx_bin) = find_nginx() else {
        common::skip("rolling_restart", "nginx not found (install nginx-light)");
        return;
    };
    let t0 = Instant::now();
    let dir = TempDir::new();
    let start_on = |addr: SocketAddr| {
        let addr = addr.to_string();
        let mut flags = EDDY_FLAGS.to_vec();
        flags.extend(["--addr", &addr]);
        Server::start(&flags)
    };
    // Each instance is restarted on its own address: not one from port 0
    // (quiet_port says why).
    let mut a = start_on(quiet_port());
    let mut b = start_on(quiet_port());
    let nginx = Nginx::start(&nginx_bin, &dir, a.addr, b.addr);
    say(&format!(
        "nginx {} on {} in front of eddy {} and {}",
        nginx_bin.display(),
        nginx.addr,
        a.addr,
        b.addr
    ));

    let clients = Clients::start(nginx.addr);
    for server in [&a, &b] {
        wait_in_rotation(server, &clients, &nginx);
    }
    for which in ["first", "second"] {
        let server = if which == "first" { &mut a } else { &mut b };
        let addr = server.addr;
        let drain = Instant::now();
        server.signal("TERM");
        let status = server.wait_exit(DRAIN_BOUND);
        let status = status.unwrap_or_else(|| {
            panic!(
                "{which} instance {addr} did not exit within {DRAIN_BOUND:?} of SIGTERM; {}",
                clients.report()
            )
        });
        assert_eq!(
            status.code(),
            Some(0),
            "{which} instance {addr}: exit status {status}; {}",
            clients.report()
        );
        let drained = drain.elapsed();
        thread::sleep(DOWNTIME);
        // The old process has exited (its Drop only reaps it).
        *server = start_on(addr);
        assert_eq!(server.addr, addr, "restarted on another address");
        let restarted = drain.elapsed();
        wait_in_rotation(server, &clients, &nginx);
        say(&format!(
            "{which} instance {addr}: drained in {drained:.2?}, listening again after \
             {restarted:.2?}, back in nginx's rotation after {:.2?}",
            drain.elapsed()
        ));
        // The restart was seen: nginx sent a request to the closed port and
        // retried it on the other instance (else this test proved nothing).
        assert!(
            nginx.retried_from(addr) > 0,
            "nginx never retried a request away from {addr} while it was down; \
             access log:\n{}",
            nginx.access_log_tail()
        );
    }
    // A little more traffic over the two new instances, then stop.
    thread::sleep(Duration::from_millis(300));
    let (sent, failed, failures) = clients.stop();
    let retried = nginx.retried_from(a.addr) + nginx.retried_from(b.addr);
    let report = format!(
        "requests sent {sent}, failed {failed}; nginx retried {retried} on the other \
         instance; took {:.1?}",
        t0.elapsed()
    );
    say(&format!("rolling_restart: {report}"));
    assert!(sent > 0, "no request was sent: {report}");
    assert!(
        failed == 0,
        "{report}; first failures:\n{}\nnginx error log:\n{}",
        failures.join("\n"),
        nginx.error_log()
    );
}

/// Where nginx is: on PATH, else in Debian's /usr/sbin (often not on a
/// non-root PATH).
fn find_nginx() -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .map(|dir| dir.join("nginx"))
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|path| {
            fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Waits (bounded) until nginx has sent `server` a few requests: then nginx
/// has taken it back after its failures (one success resets them) and the
/// next instance may go down without leaving nginx with no live upstream.
fn wait_in_rotation(server: &Server, clients: &Clients, nginx: &Nginx) {
    const SERVED: u64 = 5;
    let deadline = Instant::now() + ROTATION_BOUND;
    loop {
        let served = served_by(server.addr);
        if served >= SERVED {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nginx sent {} only {served} requests within {ROTATION_BOUND:?}; {}\n\
             nginx error log:\n{}",
            server.addr,
            clients.report(),
            nginx.error_log()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// How many `/fast` and `/slow_threaded` requests the instance at `addr` has
/// answered 200, from its own `/metrics` (asked directly, not through nginx).
fn served_by(addr: SocketAddr) -> u64 {
    let metrics = common::get(addr, "/metrics");
    assert_eq!(metrics.status, 200, "{metrics:?}");
    metrics
        .text()
        .lines()
        .filter(|line| {
            line.starts_with("eddy_requests_total{route=\"/fast\",status=\"200\"} ")
                || line.starts_with("eddy_requests_total{route=\"/slow_threaded\",status=\"200\"} ")
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// A fresh directory for nginx's configuration, logs and temp files; removed
/// on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = env::temp_dir().join(format!(
            "eddy-rolling-restart-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(path.join("logs")).expect("create the temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// nginx in the foreground, one process (`master_process off`), so its pid
/// is all there is to kill. Dropping it kills and reaps it.
struct Nginx {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
    stderr: Arc<Lines>,
}

impl Nginx {
    /// Writes the configuration into `dir` and starts nginx; returns once it
    /// accepts connections (bounded).
    fn start(bin: &Path, dir: &TempDir, a: SocketAddr, b: SocketAddr) -> Nginx {
        let addr = quiet_port();
        let dir = dir.0.clone();
        fs::write(dir.join("eddy.conf"), site_config(addr, a, b)).expect("write eddy.conf");
        fs::write(dir.join("nginx.conf"), main_config(&dir)).expect("write nginx.conf");
        let mut child = Command::new(bin)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nginx");
        let stderr = Lines::drain(child.stderr.take().unwrap());
        let nginx = Nginx {
            child,
            addr,
            dir,
            stderr,
        };
        nginx.wait_ready()
    }

    /// Polls (bounded) until nginx accepts a connection, failing early if it
    /// exited (a configuration error, say).
    fn wait_ready(mut self) -> Nginx {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok() {
                return self;
            }
            if let Some(status) = wait_child(&mut self.child, Duration::from_millis(20)) {
                panic!(
                    "nginx exited ({status}) before accepting; stderr:\n{}\nerror log:\n{}",
                    self.stderr.snapshot().join("\n"),
                    self.error_log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not accept on {} within 10 s; error log:\n{}",
                self.addr,
                self.error_log()
            );
        }
    }

    /// nginx's error log so far.
    fn error_log(&self) -> String {
        fs::read_to_string(self.dir.join("logs/error.log")).unwrap_or_default()
    }

    /// Requests the access log shows were tried on `upstream` first and
    /// then on another one (nginx writes `$upstream_addr` as `A, B` when it
    /// retried).
    fn retried_from(&self, upstream: SocketAddr) -> usize {
        let tried_first = format!(" {upstream}, ");
        fs::read_to_string(self.dir.join("logs/access.log"))
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(&tried_first))
            .count()
    }

    /// The access log's last lines.
    fn access_log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.join("logs/access.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("--- nginx error log ---\n{}", self.error_log());
        }
    }
}

/// nginx's main configuration: one foreground process, every path under
/// `dir`, and deploy/nginx.conf's http-context settings included.
fn main_config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format upstreams '$status $request_uri $upstream_addr $upstream_status';
    access_log {d}/logs/access.log upstreams;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/eddy.conf;
}}
"
    )
}

/// deploy/nginx.conf with nginx listening on `listen` and the two upstream
/// servers at `a` and `b`.
fn site_config(listen: SocketAddr, a: SocketAddr, b: SocketAddr) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf");
    let text = fs::read_to_string(&path).expect("read deploy/nginx.conf");
    for needle in [
        "listen 127.0.0.1:8080;",
        "server 127.0.0.1:8001 ",
        "server 127.0.0.1:8002 ",
    ] {
        assert!(
            text.contains(needle),
            "deploy/nginx.conf has no `{needle}`: the test substitutes it"
        );
    }
    text.replace("127.0.0.1:8080", &listen.to_string())
        .replace("127.0.0.1:8001", &a.to_string())
        .replace("127.0.0.1:8002", &b.to_string())
}

/// A loopback address for a listener that the test lets go of and binds
/// again (nginx's, and each eddy across its restart). A port from port 0
/// would come from the kernel's ephemeral range, where any other process's
/// `bind(0)` or `connect` may take it in the gap; one below that range is
/// never handed out that way. The candidates start at a place set by this
/// process's id (so concurrent runs look in different places) and the
/// first one free now is taken.
fn quiet_port() -> SocketAddr {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let low: u64 = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let (base, span) = (10_000, low.saturating_sub(10_000).max(1));
    let start = u64::from(std::process::id()) * 7;
    for _ in 0..span {
        let port = base + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let addr = SocketAddr::from(([127, 0, 0, 1], port as u16));
        if TcpListener::bind(addr).is_ok() {
            return addr;
        }
    }
    panic!("no free loopback port in {base}..{low}");
}

/// The client threads and their tally. Dropping it stops and joins them.
struct Clients {
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
    threads: Vec<JoinHandle<()>>,
}

#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    failed: AtomicU64,
    /// The first few failures, described.
    failures: Mutex<Vec<String>>,
}

impl Clients {
    fn start(addr: SocketAddr) -> Clients {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Tally::default());
        let threads = (0..CLIENTS)
            .map(|thread_no| {
                let (stop, tally) = (Arc::clone(&stop), Arc::clone(&tally));
                thread::spawn(move || client(addr, thread_no, &stop, &tally))
            })
            .collect();
        Clients {
            stop,
            tally,
            threads,
        }
    }

    /// Requests sent and failed so far, as text.
    fn report(&self) -> String {
        format!(
            "requests sent {}, failed {}; first failures: {:?}",
            self.tally.sent.load(Ordering::Relaxed),
            self.tally.failed.load(Ordering::Relaxed),
            self.tally.failures.lock().unwrap()
        )
    }

    /// Stops the threads, waits for them, and returns (sent, failed, the
    /// first failures).
    fn stop(mut self) -> (u64, u64, Vec<String>) {
        self.join();
        (
            self.tally.sent.load(Ordering::Relaxed),
            self.tally.failed.load(Ordering::Relaxed),
            self.tally.failures.lock().unwrap().clone(),
        )
    }

    fn join(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Clients {
    fn drop(&mut self) {
        self.join();
    }
}

/// One client thread: alternates `/fast?id=K` and `/slow_threaded?id=K&n=500`
/// with ids unique to the thread, over one keep-alive connection to nginx,
/// opening a new one when nginx says `Connection: close` or after an error.
fn client(addr: SocketAddr, thread_no: u64, stop: &AtomicBool, tally: &Tally) {
    let started = Instant::now();
    let mut conn: Option<(TcpStream, BufReader<TcpStream>)> = None;
    let mut k = 0u64;
    while !stop.load(Ordering::Relaxed) && started.elapsed() < CLIENT_BOUND {
        k += 1;
        let id = thread_no * 1_000_000 + k;
        let path = if k % 2 == 0 {
            format!("/fast?id={id}")
        } else {
            format!("/slow_threaded?id={id}&n={SLOW_N}")
        };
        tally.sent.fetch_add(1, Ordering::Relaxed);
        let outcome = exchange(&mut conn, addr, &path).and_then(|r| {
            let keep = !r.closes();
            check(&r, &path, id)?;
            Ok(keep)
        });
        match outcome {
            Ok(true) => {}
            Ok(false) => conn = None,
            Err(e) => {
                conn = None;
                tally.failed.fetch_add(1, Ordering::Relaxed);
                let mut failures = tally.failures.lock().unwrap();
                if failures.len() < FAILURES_SHOWN {
                    let at = started.elapsed();
                    failures.push(format!("{path} at {at:.2?}: {e}"));
                }
            }
        }
    }
}

/// Sends `GET path` on the connection (opening it if there is none) and
/// reads the response.
fn exchange(
    conn: &mut Option<(TcpStream, BufReader<TcpStream>)>,
    addr: SocketAddr,
    path: &str,
) -> Result<Response, String> {
    if conn.is_none() {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| format!("connect to nginx: {e}"))?;
        let timeout = Some(Duration::from_secs(20));
        stream
            .set_read_timeout(timeout)
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(timeout)
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        *conn = Some((stream, reader));
    }
    let (stream, reader) = conn.as_mut().expect("connected above");
    stream
        .write_all(common::get_req(path).as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    read_response(reader, false).map_err(|e| format!("read: {e}"))
}

/// Whether `r` is the 200 answer to `path` for request `id`, to the byte.
fn check(r: &Response, path: &str, id: u64) -> Result<(), String> {
    let text = r.text();
    let good = r.status == 200
        && if path.starts_with("/fast") {
            text == format!("fast result {id}")
        } else {
            text.strip_prefix(&format!("slow result {id} <--- "))
                .and_then(|rest| rest.strip_suffix(" s"))
                .is_some_and(|secs| secs.parse::<f64>().is_ok())
        };
    if good {
        Ok(())
    } else {
        Err(format!("got {} {text:?}", r.status))
    }
}
