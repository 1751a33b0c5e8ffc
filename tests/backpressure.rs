//! What the server does when it cannot take more: a full job queue answers
//! 503 with `Retry-After`; at `--max-conns` further connections wait in the
//! kernel's backlog until a slot frees; out of file descriptors (EMFILE) the
//! accept loop backs off instead of spinning; and a client that pipelines
//! megabytes without reading costs bounded memory, is closed once its
//! output stalls for `--idle-timeout`, and does not slow anyone else down.
//!
//! The tests burn CPU or measure the server's CPU time and memory, so they
//! are serialized with `LOCK`.
//!
//! The slow reader's bound runs over plain TCP and over TLS
//! (`both_transports!`: `NAME::plain`, `NAME::tls`); the others are about
//! the loop and the pool, whatever the transport.

mod common;

use common::prometheus::settled_jobs;

use common::{
    assert_fast, assert_standard_headers, both_transports, calibrate, get, get_req, is_reset,
    open_fds, proc_status_kib, sync_with_loop, wait_until, Client, Response, Server, JOB,
};
use std::io::ErrorKind;
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// Serializes the tests of this file so they don't compete for the cores.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether a response has already arrived on `c`, without waiting for one.
fn answered(c: &mut Client) -> bool {
    if !c.reader.buffer().is_empty() {
        return true;
    }
    c.stream.set_nonblocking(true).unwrap();
    let ready = match c.stream.peek(&mut [0u8; 1]) {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(e) => panic!("peek: {e}"),
    };
    c.stream.set_nonblocking(false).unwrap();
    ready
}

#[test]
fn full_job_queue_answers_503_with_retry_after() {
    let _guard = lock();
    let s = Server::start(&[
        "--workers",
        "1",
        "--queue",
        "1",
        "--worker-priority",
        "normal",
        "--quiet",
    ]);
    // Jobs of at least JOB (400 ms) on any build: they outlast the few
    // round-trips below by far.
    let (n, _) = calibrate(&s, JOB);
    // One worker and one queue place: the job that finds both taken gets
    // 503. That is the 3rd job if the worker took the 1st before the 2nd
    // came, else the 2nd. After each send, a round-trip on a newer
    // connection proves the server has read the job and so has already
    // written a 503 if there is one.
    let mut waiting: Vec<(u32, Client)> = Vec::new();
    let mut refused: Option<(u32, Client, Response)> = None;
    let t0 = Instant::now();
    for id in 1..=3 {
        let mut c = Client::connect(s.addr);
        c.send_get(&format!("/slow_threaded?id={id}&n={n}"));
        sync_with_loop(s.addr);
        if answered(&mut c) {
            let r = c.response();
            refused = Some((id, c, r));
            break;
        }
        waiting.push((id, c));
    }
    let sent = t0.elapsed();
    let Some((id, mut c, r)) = refused else {
        panic!("no 503 among 3 jobs (n={n}) sent in {sent:?}; the queue holds 1");
    };
    assert_eq!(r.status, 503, "job {id}: {r:?}");
    assert_eq!(r.header("retry-after"), Some("1"), "job {id}: {r:?}");
    assert_standard_headers(&r, false);
    // A full queue refuses the job, not the connection: it stays open and
    // serves the next request.
    assert!(!r.closes(), "a 503 closed the connection: {r:?}");
    assert_fast(&c.get("/fast?id=9"), 9);
    // The jobs that got in still run to completion.
    assert!(!waiting.is_empty(), "the very first job was refused");
    for (id, mut c) in waiting {
        let r = c.response();
        assert_eq!(r.status, 200, "job {id}: {r:?}");
        assert!(r.text().starts_with(&format!("slow result {id} <--- ")));
    }
    // The refused job was never submitted; every other one completed.
    let jobs = settled_jobs(&s);
    assert_eq!(jobs.rejected, 1, "{jobs:?}");
    assert_eq!(jobs.completed, jobs.submitted, "{jobs:?}");
}

#[test]
fn max_conns_leaves_further_connections_in_the_backlog() {
    let _guard = lock();
    let s = Server::start(&["--max-conns", "2", "--quiet"]);
    let mut a = Client::connect(s.addr);
    let mut b = Client::connect(s.addr);
    assert_fast(&a.get("/fast?id=1"), 1);
    assert_fast(&b.get("/fast?id=2"), 2);
    // The kernel completes the handshake, but the server does not take it.
    let mut c = Client::connect(s.addr);
    c.send_get("/fast?id=3");
    assert_fast(&b.get("/fast?id=4"), 4);
    // No event marks "not served": give it a bounded window.
    c.stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    match common::read_response(&mut c.reader, false) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("a third connection over --max-conns 2 got {other:?}"),
    }
    c.stream.set_read_timeout(Some(common::IO_TIMEOUT)).unwrap();
    // A slot frees: the waiting connection is accepted and served.
    drop(a);
    assert_fast(&c.response(), 3);
    assert_fast(&b.get("/fast?id=5"), 5);
}

#[test]
fn accept_errors_back_off_instead_of_spinning() {
    let _guard = lock();
    const FDS: u32 = 48;
    let s = Server::start_with_fd_limit(FDS, &["--trace", "--quiet"]);
    let pid = s.pid();
    let mut early = Client::connect(s.addr);
    assert_fast(&early.get("/fast?id=1"), 1);
    // Twice as many connections as the server has descriptors: it accepts
    // until EMFILE, the rest wait in the backlog (which keeps the listener
    // readable — the trap for a loop that retries at once).
    let flood: Vec<TcpStream> = (0..2 * FDS)
        .map(|_| TcpStream::connect(s.addr).expect("connect"))
        .collect();
    // All descriptors taken (less a spare, should the server keep one).
    let full = wait_until(Duration::from_secs(10), || {
        open_fds(pid) >= FDS as usize - 2
    });
    assert!(full, "server holds only {} fds", open_fds(pid));
    let (turns0, t0) = (s.turns(), Instant::now());
    thread::sleep(Duration::from_secs(1)); // the measurement window
    let (turns, wall) = (s.turns() - turns0, t0.elapsed());
    // Each back-off ends in one turn that tries accept again; they double
    // from 10 ms, so a few dozen a second at most. A loop that retried at
    // once would turn thousands of times.
    let bound = Server::idle_turns_bound(wall, 50);
    assert!(
        turns <= bound,
        "the loop turned {turns} times in {wall:?} at EMFILE (at most {bound}): it spins"
    );
    // Connections it already has are still served meanwhile.
    assert_fast(&early.get("/fast?id=2"), 2);
    // And an operator can see it: accept errors counted, a back-off in
    // force. (A scrape may land in the turn between a back-off ending and
    // the next failure, when none is in force: look a few times.)
    let mut seen = Vec::new();
    let paused = (0..20).any(|_| {
        let m = common::prometheus::parse(&early.get("/metrics").text());
        let errors = m.value("eddy_accept_errors_total", &[]).unwrap_or(0.0);
        let backoff = m.value("eddy_accept_backoff_seconds", &[]).unwrap_or(0.0);
        seen.push((errors, backoff));
        errors >= 1.0 && backoff >= 0.01
    });
    assert!(paused, "(accept errors, back-off s) scraped: {seen:?}");
    // Descriptors free up: the backlog drains and a new client is served.
    drop(flood);
    drop(early);
    assert_fast(&get(s.addr, "/fast?id=3"), 3);
}

both_transports! {
    fn slow_reader_costs_bounded_memory_and_is_closed_when_stalled(wire) {
        let _guard = lock();
        let s = Server::start_over(wire, &["--idle-timeout", "2", "--quiet"]);
        let pid = s.pid();
        assert_fast(&s.get("/fast?id=1"), 1);
        let rss_before = proc_status_kib(pid, "VmRSS");
        // Pipelined /fast requests, never reading an answer, until the writes
        // block (the server stopped reading) or 32 MB went out.
        let block = get_req("/fast?id=2").repeat(1000).into_bytes();
        let mut c = s.connect();
        c.stream
            .set_write_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut pushed = 0usize;
        let stalled = loop {
            match c.push(&block) {
                Ok(n) if pushed + n >= 32 << 20 => break false,
                Ok(n) => pushed += n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    break true
                }
                // The server may already have given up on us.
                Err(e) if is_reset(&e) => break true,
                Err(e) => panic!("write after {pushed} bytes: {e}"),
            }
        };
        let stalled_at = Instant::now();
        let grew_mib = proc_status_kib(pid, "VmRSS").saturating_sub(rss_before) / 1024;
        assert!(
            grew_mib < 64,
            "RSS grew {grew_mib} MiB while a client pushed {pushed} bytes without reading"
        );
        assert!(
            stalled,
            "the server read all {pushed} bytes without us reading a byte"
        );
        // Another client is served normally meanwhile.
        let t0 = Instant::now();
        assert_fast(&s.get("/fast?id=3"), 3);
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        // No write progress for --idle-timeout: the server closes. With our
        // requests unread in its buffer the close is a reset, which our
        // (blocked) writes report.
        let bound = Duration::from_secs(15);
        let closed = loop {
            match c.push(&block) {
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if is_reset(&e) => break true,
                Err(e) => panic!("write: {e}"),
            }
            if stalled_at.elapsed() > bound {
                break false;
            }
        };
        assert!(
            closed,
            "stalled reader not closed within {bound:?} (--idle-timeout 2)"
        );
    }
}
