//! bench/ws_load.rs — a cheap WebSocket load generator for bench/ws.sh.
//!
//! Standard library only (no crate): built by the script with
//! `rustc -O -o ws_load bench/ws_load.rs`. One thread; the sockets are
//! non-blocking and waited on with ppoll(2), declared here by hand. Client
//! frames are built once (masked with a fixed key: RFC 6455 asks clients for
//! an unpredictable one, which only matters to proxies; servers cannot tell)
//! and written as they are; an echo is checked byte for byte against the
//! frame the server must send back.
//!
//!   ws_load echo    HOST PORT [--conns C] [--inflight K] [--size S] [--secs D]
//!                   [--warmup W] [--server-pid PID]
//!       C connections (default 1), each keeping K text messages of S bytes
//!       (default 16, 32) in flight: every echo received is answered with a
//!       new message at once. Counts the echoes received during D seconds
//!       (default 10) after W seconds (default 1) of warm-up.
//!   ws_load latency HOST PORT [--secs D] [--lead L] [--interval-us I]
//!                   [--heavy-socks H] [--heavy-n N] [--size S] [--server-pid PID]
//!       H sockets (default 2) each keep one `heavy N` (default 20000) in
//!       flight, each followed at once by a small message on the same socket
//!       (whose echo time is recorded: the same-socket case); after L seconds
//!       (default 1.5) another socket sends an S-byte text message every I
//!       microseconds (default 1000) for D seconds, open loop (a late echo
//!       does not delay the next send), and records each echo's round trip.
//!       With H = 0 it is the control: the same probe with no heavy job.
//!   ws_load same    HOST PORT [--reps R] [--heavy-n N]
//!       On one socket, R times (default 5), one after another: `heavy N`
//!       (default 2000) and a small text message right after it in the same
//!       write; how long until the small message's echo, and until the
//!       heavy answer.
//!   ws_load idle    HOST PORT N [--hold SECS] [--echo 1|0]
//!       Opens N WebSockets one after another (handshake, one echo each;
//!       with --echo 0 the handshake only), prints `ready N in T s` and
//!       holds them (not reading) for SECS (default 120) or until killed.
//!
//! Every mode ends with one line `result key=value ...` (the script reads
//! it). With --server-pid the result also carries the server's CPU over the
//! measured window (utime + stime of the whole process from
//! /proc/PID/stat, in % of one core, and the busiest thread's share), next
//! to the client's own: which of the two bounds the figure; and the whole
//! machine's (/proc/stat, every CPU: 200% is two busy cores), so that CPU
//! time other programs took is seen too. Exit 1 on any
//! protocol error (a wrong echo, a close, a reset), with `error: ...`.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::raw::{c_int, c_long, c_ulong};
use std::os::unix::io::AsRawFd;
use std::time::{Duration, Instant};

// ---- the few libc calls std does not wrap ---------------------------------

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: i16,
    revents: i16,
}
#[repr(C)]
struct Timespec {
    tv_sec: c_long,
    tv_nsec: c_long,
}
extern "C" {
    fn ppoll(fds: *mut PollFd, nfds: c_ulong, ts: *const Timespec, sigmask: *const u8) -> c_int;
    fn sysconf(name: c_int) -> c_long;
}
const POLLIN: i16 = 0x1;
const POLLOUT: i16 = 0x4;
const SC_CLK_TCK: c_int = 2;

/// Waits until one of `fds` is ready or `timeout` passes.
fn wait(fds: &mut [PollFd], timeout: Duration) {
    let ts = Timespec {
        tv_sec: timeout.as_secs() as c_long,
        tv_nsec: timeout.subsec_nanos() as c_long,
    };
    let rc = unsafe { ppoll(fds.as_mut_ptr(), fds.len() as c_ulong, &ts, std::ptr::null()) };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != ErrorKind::Interrupted {
            die(&format!("ppoll: {e}"));
        }
    }
}

fn die(why: &str) -> ! {
    println!("error: {why}");
    std::process::exit(1);
}

// ---- CPU accounting ----------------------------------------------------------

/// utime + stime in clock ticks from a /proc/.../stat file.
fn ticks(path: &str) -> Option<u64> {
    let s = std::fs::read_to_string(path).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// The whole process's ticks, and each thread's.
struct CpuSnap {
    at: Instant,
    total: u64,
    threads: Vec<(String, u64)>,
}

/// The whole machine's busy ticks, every CPU (/proc/stat's `cpu` line:
/// user, nice, system, irq, softirq, steal).
fn machine_snap() -> Option<CpuSnap> {
    let at = Instant::now();
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let f: Vec<u64> = s.lines().next()?.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total = f.get(0)? + f.get(1)? + f.get(2)? + f.get(5)? + f.get(6)? + f.get(7).copied().unwrap_or(0);
    Some(CpuSnap { at, total, threads: Vec::new() })
}

fn snap(pid: &str) -> Option<CpuSnap> {
    let at = Instant::now();
    let total = ticks(&format!("/proc/{pid}/stat"))?;
    let mut threads = Vec::new();
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for e in dir.flatten() {
            let tid = e.file_name().to_string_lossy().into_owned();
            if let Some(t) = ticks(&format!("/proc/{pid}/task/{tid}/stat")) {
                threads.push((tid, t));
            }
        }
    }
    Some(CpuSnap { at, total, threads })
}

/// `key=value` pairs: the process's CPU in % of one core between two
/// snapshots, and (for the server) its busiest thread's.
fn cpu_fields(prefix: &str, a: &Option<CpuSnap>, b: &Option<CpuSnap>) -> String {
    let (Some(a), Some(b)) = (a, b) else { return String::new() };
    let hz = unsafe { sysconf(SC_CLK_TCK) }.max(1) as f64;
    let secs = (b.at - a.at).as_secs_f64().max(1e-9);
    let pct = |d: u64| 100.0 * d as f64 / hz / secs;
    let mut busiest = 0;
    for (tid, t1) in &b.threads {
        if let Some((_, t0)) = a.threads.iter().find(|(t, _)| t == tid) {
            busiest = busiest.max(t1.saturating_sub(*t0));
        }
    }
    let mut s = format!(" {prefix}_cpu={:.1}", pct(b.total.saturating_sub(a.total)));
    if b.threads.len() > 1 {
        s += &format!(" {prefix}_thread_max={:.1}", pct(busiest));
    }
    s
}

// ---- frames --------------------------------------------------------------------

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// RFC 6455 §1.3's example: the accept value for KEY.
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A masked client frame (FIN set).
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    let n = payload.len();
    if n < 126 {
        f.push(0x80 | n as u8);
    } else if n < 65536 {
        f.push(0x80 | 126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    f.extend_from_slice(&MASK);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    f
}

/// The unmasked frame a server sends for a text message.
fn server_text(payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x81];
    let n = payload.len();
    if n < 126 {
        f.push(n as u8);
    } else {
        f.push(126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

/// One complete server frame at the front of `buf`: (first byte, payload
/// range, frame length); None if incomplete.
fn parse(buf: &[u8]) -> Option<(u8, usize, usize, usize)> {
    if buf.len() < 2 {
        return None;
    }
    if buf[1] & 0x80 != 0 {
        die("the server sent a masked frame");
    }
    let (len, start) = match buf[1] & 0x7f {
        126 => {
            if buf.len() < 4 {
                return None;
            }
            (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4)
        }
        127 => {
            if buf.len() < 10 {
                return None;
            }
            (u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize, 10)
        }
        n => (n as usize, 2),
    };
    if buf.len() < start + len {
        return None;
    }
    Some((buf[0], start, start + len, start + len))
}

// ---- one connection ------------------------------------------------------------

struct Conn {
    s: TcpStream,
    rbuf: Vec<u8>,
    rlen: usize,
    wbuf: Vec<u8>,
    woff: usize,
}

impl Conn {
    /// Connects and upgrades (blocking), then turns non-blocking.
    fn open(host: &str, port: u16, nonblocking: bool) -> std::io::Result<Conn> {
        let mut s = TcpStream::connect((host, port))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let req = format!(
            "GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        s.write_all(req.as_bytes())?;
        let mut rbuf = vec![0u8; 1 << 16];
        let mut rlen = 0;
        let end = loop {
            let n = s.read(&mut rbuf[rlen..])?;
            if n == 0 {
                return Err(std::io::Error::new(ErrorKind::UnexpectedEof, "closed during the handshake"));
            }
            rlen += n;
            if let Some(i) = rbuf[..rlen].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if rlen == rbuf.len() {
                return Err(std::io::Error::new(ErrorKind::InvalidData, "handshake answer too long"));
            }
        };
        let head = String::from_utf8_lossy(&rbuf[..end]).to_string();
        if !head.starts_with("HTTP/1.1 101") {
            return Err(std::io::Error::new(
                ErrorKind::InvalidData,
                format!("not upgraded: {}", head.lines().next().unwrap_or("")),
            ));
        }
        if !head.to_ascii_lowercase().contains(&ACCEPT.to_ascii_lowercase()) {
            return Err(std::io::Error::new(ErrorKind::InvalidData, "wrong Sec-WebSocket-Accept"));
        }
        rbuf.copy_within(end..rlen, 0);
        rlen -= end;
        s.set_nonblocking(nonblocking)?;
        Ok(Conn { s, rbuf, rlen, wbuf: Vec::new(), woff: 0 })
    }

    /// Reads what is there (non-blocking); false at EOF.
    fn fill(&mut self) -> bool {
        loop {
            if self.rlen == self.rbuf.len() {
                let n = self.rbuf.len();
                self.rbuf.resize(2 * n, 0);
            }
            match self.s.read(&mut self.rbuf[self.rlen..]) {
                Ok(0) => return false,
                Ok(n) => {
                    self.rlen += n;
                    if self.rlen < self.rbuf.len() {
                        return true;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => die(&format!("read: {e}")),
            }
        }
    }

    /// Writes as much of the output as the socket takes.
    fn flush(&mut self) {
        while self.woff < self.wbuf.len() {
            match self.s.write(&self.wbuf[self.woff..]) {
                Ok(n) => self.woff += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => die(&format!("write: {e}")),
            }
        }
        if self.woff == self.wbuf.len() {
            self.wbuf.clear();
            self.woff = 0;
        }
    }

    /// Takes every complete frame; `f` gets (first byte, payload). Pings
    /// are answered here; a close is an error.
    fn frames(&mut self, mut f: impl FnMut(u8, &[u8])) {
        let mut at = 0;
        let mut pongs = Vec::new();
        while let Some((b0, p0, p1, len)) = parse(&self.rbuf[at..self.rlen]) {
            let payload = &self.rbuf[at + p0..at + p1];
            match b0 & 0x0f {
                0x9 => pongs.push(client_frame(0xA, payload)),
                0xA => {}
                0x8 => {
                    let code = if payload.len() >= 2 { u16::from_be_bytes([payload[0], payload[1]]) } else { 1005 };
                    die(&format!("the server closed the WebSocket (code {code})"));
                }
                _ => f(b0, payload),
            }
            at += len;
        }
        self.rbuf.copy_within(at..self.rlen, 0);
        self.rlen -= at;
        for p in pongs {
            self.wbuf.extend_from_slice(&p);
        }
    }
}

// ---- arguments -----------------------------------------------------------------

struct Args {
    pos: Vec<String>,
    opts: Vec<(String, String)>,
}

impl Args {
    fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.opts.iter().rev().find(|(k, _)| k == name) {
            Some((_, v)) => v.parse().unwrap_or_else(|_| die(&format!("bad value for {name}: {v}"))),
            None => default,
        }
    }
    fn has(&self, name: &str) -> bool {
        self.opts.iter().any(|(k, _)| k == name)
    }
}

fn parse_args() -> Args {
    let mut pos = Vec::new();
    let mut opts = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if let Some(k) = a.strip_prefix("--") {
            let v = it.next().unwrap_or_else(|| die(&format!("--{k} needs a value")));
            opts.push((k.to_string(), v));
        } else {
            pos.push(a);
        }
    }
    if pos.len() < 3 {
        die("usage: ws_load echo|latency|same|idle HOST PORT [N] [--options]");
    }
    Args { pos, opts }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn server_snap(args: &Args) -> Option<CpuSnap> {
    if args.has("server-pid") {
        snap(&args.get("server-pid", String::new()))
    } else {
        None
    }
}

// ---- echo ----------------------------------------------------------------------

fn echo(args: &Args, host: &str, port: u16) {
    let conns: usize = args.get("conns", 1);
    let k: usize = args.get("inflight", 16);
    let size: usize = args.get("size", 32);
    let secs: f64 = args.get("secs", 10.0);
    let warmup: f64 = args.get("warmup", 1.0);
    if size >= 65536 || k == 0 {
        die("--size must be below 65536 and --inflight above 0");
    }
    let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    let one = client_frame(0x1, &payload);
    let batch: Vec<u8> = one.iter().copied().cycle().take(one.len() * k).collect();

    let mut cs: Vec<Conn> = (0..conns)
        .map(|i| Conn::open(host, port, true).unwrap_or_else(|e| die(&format!("connection {i}: {e}"))))
        .collect();
    for c in cs.iter_mut() {
        c.wbuf.extend_from_slice(&batch);
        c.flush();
    }
    let start = Instant::now();
    let t_warm = start + Duration::from_secs_f64(warmup);
    let t_end = t_warm + Duration::from_secs_f64(secs);
    let mut got = 0u64;
    let mut at_warm: Option<(u64, Instant)> = None;
    let (mut s0, mut c0, mut m0) = (None, None, None);
    let mut fds: Vec<PollFd> =
        cs.iter().map(|c| PollFd { fd: c.s.as_raw_fd(), events: POLLIN, revents: 0 }).collect();
    let mut bad = None;
    let mut polls = 0u64;
    loop {
        let now = Instant::now();
        if at_warm.is_none() && now >= t_warm {
            s0 = server_snap(args);
            c0 = snap("self");
            m0 = machine_snap();
            at_warm = Some((got, Instant::now()));
        }
        if now >= t_end {
            break;
        }
        let next = if at_warm.is_none() { t_warm } else { t_end };
        for (f, c) in fds.iter_mut().zip(cs.iter()) {
            f.events = if c.wbuf.is_empty() { POLLIN } else { POLLIN | POLLOUT };
            f.revents = 0;
        }
        wait(&mut fds, next - now);
        polls += 1;
        for (i, c) in cs.iter_mut().enumerate() {
            let r = fds[i].revents;
            if r == 0 {
                continue;
            }
            if r & !POLLOUT != 0 {
                if !c.fill() {
                    die(&format!("connection {i}: the server closed it"));
                }
                let mut n = 0usize;
                c.frames(|b0, p| {
                    if b0 != 0x81 || p != &payload[..] {
                        bad.get_or_insert_with(|| format!("connection {i}: a wrong echo: first byte {b0:#x}, {} bytes", p.len()));
                    }
                    n += 1;
                });
                got += n as u64;
                while n > 0 {
                    let m = n.min(k);
                    c.wbuf.extend_from_slice(&batch[..m * one.len()]);
                    n -= m;
                }
            }
            c.flush();
        }
        if let Some(why) = &bad {
            die(why);
        }
    }
    let (s1, c1, m1) = (server_snap(args), snap("self"), machine_snap());
    let (g0, t0) = at_warm.unwrap_or((0, start));
    let window = t0.elapsed().as_secs_f64();
    let messages = got - g0;
    println!(
        "result mode=echo conns={conns} inflight={k} size={size} secs={window:.2} messages={messages} rate={:.0} polls={polls}{}{}{}",
        messages as f64 / window,
        cpu_fields("client", &c0, &c1),
        cpu_fields("server", &s0, &s1),
        cpu_fields("machine", &m0, &m1)
    );
}

// ---- latency -------------------------------------------------------------------

fn latency(args: &Args, host: &str, port: u16) {
    let secs: f64 = args.get("secs", 10.0);
    let lead: f64 = args.get("lead", 1.5);
    let interval = Duration::from_micros(args.get("interval-us", 1000u64));
    let heavy_socks: usize = args.get("heavy-socks", 2);
    let heavy_n: u32 = args.get("heavy-n", 20000);
    let size: usize = args.get("size", 32).max(16);
    let grace = Duration::from_secs_f64(args.get("grace", 5.0));

    // Socket 0 is the probe; 1..=H carry the heavy jobs.
    let mut cs: Vec<Conn> = (0..=heavy_socks)
        .map(|i| Conn::open(host, port, true).unwrap_or_else(|e| die(&format!("connection {i}: {e}"))))
        .collect();
    let heavy_msg = client_frame(0x1, format!("heavy {heavy_n}").as_bytes());
    let heavy_prefix = format!("heavy {heavy_n} = ");
    // After each heavy: a small message on the same socket, its echo timed.
    let mut after_sent: Vec<Vec<Instant>> = vec![Vec::new(); heavy_socks + 1];
    let mut after_ms: Vec<f64> = Vec::new();
    let mut heavy_sent = 0u64;
    let mut heavy_done = 0u64;
    let mut heavy_ms: Vec<f64> = Vec::new();
    let mut heavy_at: Vec<Option<Instant>> = vec![None; heavy_socks + 1];
    let send_heavy = |c: &mut Conn, i: usize, after_sent: &mut Vec<Vec<Instant>>, heavy_at: &mut Vec<Option<Instant>>| {
        c.wbuf.extend_from_slice(&heavy_msg);
        let seq = after_sent[i].len();
        let mut small = format!("after {seq:08}");
        small.extend(std::iter::repeat('y').take(size.saturating_sub(small.len())));
        c.wbuf.extend_from_slice(&client_frame(0x1, small.as_bytes()));
        let now = Instant::now();
        heavy_at[i] = Some(now);
        after_sent[i].push(now);
        c.flush();
    };
    for i in 1..=heavy_socks {
        send_heavy(&mut cs[i], i, &mut after_sent, &mut heavy_at);
        heavy_sent += 1;
    }

    let start = Instant::now();
    let t_probe = start + Duration::from_secs_f64(lead);
    let t_stop = t_probe + Duration::from_secs_f64(secs);
    let mut sent: Vec<Instant> = Vec::new();
    let mut rtt: Vec<f64> = Vec::new();
    let mut echoed = 0u64;
    let mut next_send = t_probe;
    let (mut s0, mut c0, mut s1, mut c1) = (None, None, None, None);
    let (mut m0, mut m1) = (None, None);
    let (mut probing, mut stopped) = (false, false);
    let mut fds: Vec<PollFd> =
        cs.iter().map(|c| PollFd { fd: c.s.as_raw_fd(), events: POLLIN, revents: 0 }).collect();
    let mut bad: Option<String> = None;
    loop {
        let now = Instant::now();
        if !probing && now >= t_probe {
            probing = true;
            s0 = server_snap(args);
            c0 = snap("self");
            m0 = machine_snap();
        }
        if !stopped && now >= t_stop {
            stopped = true;
            s1 = server_snap(args);
            c1 = snap("self");
            m1 = machine_snap();
        }
        // Done: every probe answered, or the grace after the last is over.
        if now >= t_stop && (echoed as usize == sent.len() || now >= t_stop + grace) {
            break;
        }
        if now >= next_send && now < t_stop {
            let seq = sent.len();
            let mut m = format!("fast {seq:010}");
            m.extend(std::iter::repeat('x').take(size - m.len()));
            cs[0].wbuf.extend_from_slice(&client_frame(0x1, m.as_bytes()));
            sent.push(Instant::now());
            cs[0].flush();
            // Open loop: the schedule does not wait for echoes; a send
            // that is late (the client was descheduled) is not made up.
            next_send += interval;
            if next_send < now {
                next_send = now + interval;
            }
        }
        let until = if now < t_stop { next_send.min(t_stop) } else { t_stop + grace };
        for (f, c) in fds.iter_mut().zip(cs.iter()) {
            f.events = if c.wbuf.is_empty() { POLLIN } else { POLLIN | POLLOUT };
            f.revents = 0;
        }
        wait(&mut fds, until.saturating_duration_since(Instant::now()));
        for i in 0..cs.len() {
            let r = fds[i].revents;
            if r == 0 {
                continue;
            }
            if r & !POLLOUT != 0 {
                if !cs[i].fill() {
                    die(&format!("connection {i}: the server closed it"));
                }
                let mut answers: Vec<Vec<u8>> = Vec::new();
                cs[i].frames(|b0, p| {
                    if b0 != 0x81 {
                        bad.get_or_insert_with(|| format!("connection {i}: a frame with first byte {b0:#x}"));
                    }
                    answers.push(p.to_vec());
                });
                let t = Instant::now();
                for p in answers {
                    if i == 0 {
                        let seq = std::str::from_utf8(&p).ok().and_then(|s| s.get(5..15)).and_then(|s| s.parse::<usize>().ok());
                        match seq {
                            Some(seq) if seq < sent.len() && p.starts_with(b"fast ") => {
                                rtt.push((t - sent[seq]).as_secs_f64() * 1e3);
                                echoed += 1;
                            }
                            _ => {
                                bad.get_or_insert_with(|| format!("probe: unexpected {:?}", String::from_utf8_lossy(&p)));
                            }
                        }
                    } else if p.starts_with(b"after ") {
                        let seq = std::str::from_utf8(&p[6..14]).ok().and_then(|s| s.parse::<usize>().ok());
                        match seq {
                            Some(seq) if seq < after_sent[i].len() => after_ms.push((t - after_sent[i][seq]).as_secs_f64() * 1e3),
                            _ => {
                                bad.get_or_insert_with(|| format!("heavy socket {i}: unexpected {:?}", String::from_utf8_lossy(&p)));
                            }
                        }
                    } else if p.starts_with(heavy_prefix.as_bytes()) {
                        heavy_done += 1;
                        if let Some(at) = heavy_at[i].take() {
                            heavy_ms.push((t - at).as_secs_f64() * 1e3);
                        }
                        if t < t_stop {
                            send_heavy(&mut cs[i], i, &mut after_sent, &mut heavy_at);
                            heavy_sent += 1;
                        }
                    } else {
                        bad.get_or_insert_with(|| format!("heavy socket {i}: unexpected {:?}", String::from_utf8_lossy(&p)));
                    }
                }
            }
            cs[i].flush();
        }
        if let Some(why) = &bad {
            die(why);
        }
    }
    let window = secs;
    rtt.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let after_total: usize = after_sent.iter().map(|v| v.len()).sum();
    let after_max = after_ms.iter().cloned().fold(f64::NAN, f64::max);
    let heavy_med = {
        let mut h = heavy_ms.clone();
        h.sort_by(|a, b| a.partial_cmp(b).unwrap());
        pct(&h, 50.0)
    };
    println!(
        "result mode=latency heavy_socks={heavy_socks} heavy_n={heavy_n} interval_us={} secs={window:.2} \
         sent={} echoed={echoed} lost={} send_rate={:.0} p50_ms={:.3} p99_ms={:.3} p999_ms={:.3} max_ms={:.3} \
         heavy_sent={heavy_sent} heavy_done={heavy_done} heavy_med_ms={heavy_med:.0} \
         after_sent={after_total} after_echoed={} after_max_ms={after_max:.3}{}{}{}",
        interval.as_micros(),
        sent.len(),
        sent.len() as u64 - echoed,
        sent.len() as f64 / window,
        pct(&rtt, 50.0),
        pct(&rtt, 99.0),
        pct(&rtt, 99.9),
        rtt.last().copied().unwrap_or(f64::NAN),
        after_ms.len(),
        cpu_fields("client", &c0, &c1),
        cpu_fields("server", &s0, &s1),
        cpu_fields("machine", &m0, &m1)
    );
}

// ---- same ------------------------------------------------------------------------

/// Blocking: reads frames until `done` says so (pings answered).
fn read_until(c: &mut Conn, mut on: impl FnMut(&[u8], Instant) -> bool) {
    loop {
        let mut answers = Vec::new();
        c.frames(|_, p| answers.push(p.to_vec()));
        c.flush();
        let t = Instant::now();
        for p in answers {
            if on(&p, t) {
                return;
            }
        }
        if c.rlen == c.rbuf.len() {
            let n = c.rbuf.len();
            c.rbuf.resize(2 * n, 0);
        }
        match c.s.read(&mut c.rbuf[c.rlen..]) {
            Ok(0) => die("the server closed the connection"),
            Ok(n) => c.rlen += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => die(&format!("read: {e}")),
        }
    }
}

fn same(args: &Args, host: &str, port: u16) {
    let reps: usize = args.get("reps", 5);
    let heavy_n: u32 = args.get("heavy-n", 2000);
    let mut c = Conn::open(host, port, false).unwrap_or_else(|e| die(&format!("connect: {e}")));
    c.s.set_read_timeout(Some(Duration::from_secs(args.get("timeout", 300))))
        .unwrap();
    let prefix = format!("heavy {heavy_n} = ");
    let (mut echo_ms, mut heavy_ms) = (Vec::new(), Vec::new());
    let mut echo_first = 0;
    for r in 0..reps {
        let small = format!("after heavy {r:04}");
        let mut out = client_frame(0x1, format!("heavy {heavy_n}").as_bytes());
        out.extend_from_slice(&client_frame(0x1, small.as_bytes()));
        let t0 = Instant::now();
        c.s.write_all(&out).unwrap_or_else(|e| die(&format!("write: {e}")));
        let (mut te, mut th) = (None, None);
        read_until(&mut c, |p, t| {
            if p == small.as_bytes() {
                te = Some(t);
            } else if p.starts_with(prefix.as_bytes()) {
                th = Some(t);
            } else {
                die(&format!("unexpected {:?}", String::from_utf8_lossy(p)));
            }
            te.is_some() && th.is_some()
        });
        let (te, th) = (te.unwrap(), th.unwrap());
        if te < th {
            echo_first += 1;
        }
        let e = (te - t0).as_secs_f64() * 1e3;
        let h = (th - t0).as_secs_f64() * 1e3;
        println!("rep {r} echo_ms={e:.3} heavy_ms={h:.1} first={}", if te < th { "echo" } else { "heavy" });
        echo_ms.push(e);
        heavy_ms.push(h);
    }
    let sorted = |v: &Vec<f64>| {
        let mut v = v.clone();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v
    };
    let (e, h) = (sorted(&echo_ms), sorted(&heavy_ms));
    println!(
        "result mode=same heavy_n={heavy_n} reps={reps} echo_med_ms={:.3} echo_max_ms={:.3} heavy_med_ms={:.1} echo_first={echo_first}",
        pct(&e, 50.0),
        e.last().copied().unwrap_or(f64::NAN),
        pct(&h, 50.0)
    );
}

// ---- idle ----------------------------------------------------------------------

fn idle(args: &Args, host: &str, port: u16) {
    let n: usize = args.pos.get(3).and_then(|s| s.parse().ok()).unwrap_or_else(|| die("idle needs N"));
    let hold: f64 = args.get("hold", 120.0);
    let echo: u8 = args.get("echo", 1);
    let payload = b"hello, idle";
    let frame = client_frame(0x1, payload);
    let want = server_text(payload);
    let t0 = Instant::now();
    let mut cs = Vec::with_capacity(n);
    for i in 0..n {
        let mut c = Conn::open(host, port, false)
            .unwrap_or_else(|e| die(&format!("after {i} connections: {e}")));
        if echo == 0 {
            cs.push(c.s);
            continue;
        }
        c.s.write_all(&frame).unwrap_or_else(|e| die(&format!("after {i} connections: write: {e}")));
        let mut ok = false;
        read_until(&mut c, |p, _| {
            ok = p == &want[2..];
            true
        });
        if !ok {
            die(&format!("after {i} connections: a wrong echo"));
        }
        // What the reads left in memory is the client's business: shrink it.
        c.rbuf = Vec::new();
        cs.push(c.s);
    }
    println!("ready {n} in {:.2} s", t0.elapsed().as_secs_f64());
    std::thread::sleep(Duration::from_secs_f64(hold));
    drop(cs);
    println!("result mode=idle conns={n}");
}

fn main() {
    let args = parse_args();
    let host = args.pos[1].clone();
    let port: u16 = args.pos[2].parse().unwrap_or_else(|_| die("bad port"));
    match args.pos[0].as_str() {
        "echo" => echo(&args, &host, port),
        "latency" => latency(&args, &host, port),
        "same" => same(&args, &host, port),
        "idle" => idle(&args, &host, port),
        m => die(&format!("unknown mode {m}")),
    }
}
