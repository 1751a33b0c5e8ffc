//! Where `eddy serve` listens besides IPv4: a Unix domain socket (`--addr
//! unix:PATH`), IPv6 (`--addr [::1]:0`, and the wildcard `[::]:0`), and a socket systemd passes in
//! (socket activation: `LISTEN_FDS`, descriptor 3) — each with a real
//! request answered over it.

mod common;

use common::{Lines, EDDY, IO_TIMEOUT};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

/// A running eddy and its `listening on` line.
struct Running {
    child: Child,
    listening: String,
    _stdout: Arc<Lines>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` (eddy, or a shell that execs it) and waits for its
/// `listening on` line.
fn start(mut cmd: Command) -> Running {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn eddy");
    let stdout = Lines::drain(child.stdout.take().unwrap());
    let line = stdout.wait_for(IO_TIMEOUT, |l| l.starts_with("listening on "));
    let listening = line.unwrap_or_else(|| panic!("no listening line: {:?}", stdout.snapshot()));
    Running {
        child,
        listening: listening["listening on ".len()..].to_string(),
        _stdout: stdout,
    }
}

/// Sends one `GET /fast?id=7` with `Connection: close` and reads to EOF.
fn ask(mut stream: impl Read + Write) -> String {
    stream
        .write_all(b"GET /fast?id=7 HTTP/1.1\r\nHost: eddy\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn a_unix_socket_serves_http() {
    let dir = std::env::temp_dir().join(format!("eddy-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("eddy.sock");
    // A stale socket from an earlier run is replaced, not an error.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let mut cmd = Command::new(EDDY);
    cmd.args(["serve", "--quiet", "--addr"])
        .arg(format!("unix:{}", path.display()));
    let running = start(cmd);
    assert_eq!(running.listening, format!("unix:{}", path.display()));
    let answer = ask(UnixStream::connect(&path).unwrap());
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nfast result 7"), "{answer}");
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ipv6_loopback_serves_http() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        common::say("listening: ipv6_loopback_serves_http skipped: this host has no IPv6 loopback");
        return;
    }
    let mut cmd = Command::new(EDDY);
    cmd.args(["serve", "--quiet", "--addr", "[::1]:0"]);
    let running = start(cmd);
    assert!(
        running.listening.starts_with("http://[::1]:"),
        "{}",
        running.listening
    );
    let addr: std::net::SocketAddr = running.listening["http://".len()..].parse().unwrap();
    let answer = ask(std::net::TcpStream::connect(addr).unwrap());
    assert!(answer.ends_with("\r\n\r\nfast result 7"), "{answer}");
}

#[test]
fn the_ipv6_wildcard_serves_both_families() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        common::say("listening: the_ipv6_wildcard_serves_both_families skipped: no IPv6 loopback");
        return;
    }
    let mut cmd = Command::new(EDDY);
    cmd.args(["serve", "--quiet", "--addr", "[::]:0"]);
    let running = start(cmd);
    assert!(
        running.listening.starts_with("http://[::]:"),
        "{}",
        running.listening
    );
    let port: u16 = running
        .listening
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let answer = ask(std::net::TcpStream::connect(("::1", port)).unwrap());
    assert!(
        answer.ends_with("\r\n\r\nfast result 7"),
        "over ::1: {answer}"
    );
    // Linux maps IPv4 onto an IPv6 wildcard unless net.ipv6.bindv6only is 1.
    let v6only = std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").unwrap_or_default();
    if v6only.trim() == "1" {
        common::say("listening: IPv4 over [::] not checked: net.ipv6.bindv6only is 1");
        return;
    }
    let answer = ask(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
    assert!(
        answer.ends_with("\r\n\r\nfast result 7"),
        "over 127.0.0.1: {answer}"
    );
}

#[test]
fn a_socket_systemd_passes_in_is_served() {
    // What systemd's eddy.socket does: bind the socket, then start eddy
    // with it as descriptor 3, LISTEN_FDS=1 and LISTEN_PID its pid. The
    // shell learns its pid ($$) and execs eddy, which keeps it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fd = listener.as_raw_fd();
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" serve --quiet",
        EDDY,
    ]);
    // SAFETY: between fork and exec only dup2 and fcntl run, which are
    // async-signal-safe. They put the listener at descriptor 3 without
    // close-on-exec (dup2 drops the flag; if it is at 3 already, fcntl does).
    unsafe {
        cmd.pre_exec(move || {
            let moved = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 3)
            };
            if moved < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let running = start(cmd);
    assert_eq!(running.listening, format!("http://{addr}"));
    let answer = ask(std::net::TcpStream::connect(addr).unwrap());
    assert!(answer.ends_with("\r\n\r\nfast result 7"), "{answer}");
}
