//! Graceful shutdown on SIGTERM/SIGINT: in-flight jobs finish and are flushed,
//! new connections get no response, `/healthz` says 503 `draining` to a
//! connection that is still open, and the process exits 0 within a bounded
//! wait, also when idle or holding an idle keep-alive connection. The tests
//! with calibrated jobs are serialized with `LOCK` (they burn CPU).
//!
//! The drain's key tests — jobs in flight finish, idle connections close,
//! the last request in the grace, exit 0 — run over plain TCP and over TLS
//! (`both_transports!`: `NAME::plain`, `NAME::tls`); over TLS every close
//! they see must carry `close_notify`.

mod common;

use common::{both_transports, calibrate, time_job, Client, Server, JOB, LONGEST_JOB, PROMPT};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::process::ExitStatus;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Serializes the CPU-heavy tests of this file.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Bound on how long a signalled server may take to exit in these tests.
const EXIT_BOUND: Duration = Duration::from_secs(30);

/// Bound for an idle server ("promptly"): well under any shutdown timeout
/// default, so a server that waits out its timeout when idle fails.
const IDLE_EXIT_BOUND: Duration = Duration::from_secs(10);

/// Proves the loop has read every request written on earlier connections:
/// two full `/fast` round-trips on a newer connection (over the server's
/// wire). The earlier sockets were accepted first and were readable from
/// the start, so their bytes were read in the same or an earlier loop
/// iteration than this one's.
fn sync_with_loop(server: &Server) {
    let mut c = server.connect();
    for id in [100, 101] {
        let r = c.get(&format!("/fast?id={id}"));
        assert_eq!(r.text(), format!("fast result {id}"));
    }
}

/// Asserts the process exits with status 0 within `bound`.
fn assert_exits_0(server: &mut Server, bound: Duration) {
    let status: Option<ExitStatus> = server.wait_exit(bound);
    let status = status.unwrap_or_else(|| panic!("no exit within {bound:?} of the signal"));
    assert_eq!(status.code(), Some(0), "exit status {status}");
}

both_transports! {
    fn sigterm_finishes_in_flight_jobs_then_exits_0(wire) {
        let _guard = lock();
        let mut server = Server::start_over(
            wire,
            &["--workers", "2", "--worker-priority", "normal", "--quiet"],
        );
        let (n, job) = calibrate(&server, JOB);
        let mut a = server.connect();
        let mut b = server.connect();
        a.send_get(&format!("/slow_threaded?id=1&n={n}"));
        b.send_get(&format!("/slow_threaded?id=2&n={n}"));
        sync_with_loop(&server);
        server.signal("TERM");
        for (id, c) in [(1, &mut a), (2, &mut b)] {
            let r = c.response();
            assert_eq!(r.status, 200, "in-flight job {id} (n={n}, {job:?}): {r:?}");
            assert!(
                r.text().starts_with(&format!("slow result {id} <--- ")),
                "{r:?}"
            );
            // The server is draining, so it will close: it must say so.
            assert!(
                r.closes(),
                "response during drain lacks Connection: close: {r:?}"
            );
            c.assert_closed();
        }
        // Both answers were written after the server began draining (they say
        // Connection: close), so from here on it must not serve a new
        // connection: refused, or accepted by the kernel and closed without a
        // response (over TLS, the handshake may be what is cut).
        match Client::try_connect_over(wire, server.addr) {
            Err(_) => {}
            Ok(mut d) => {
                let _ = d.try_send(common::get_req("/fast?id=3").as_bytes());
                d.assert_closed();
            }
        }
        assert_exits_0(&mut server, EXIT_BOUND);
    }
}

#[test]
fn healthz_is_503_draining_on_an_open_connection_during_drain() {
    let _guard = lock();
    let mut server = Server::start(&["--workers", "2", "--worker-priority", "normal", "--quiet"]);
    let (n_short, short) = calibrate(&server, JOB);
    // A job at least three times longer, so it is surely still running when
    // the short one has finished (the cost grows faster than linearly in n).
    let mut n_long = n_short;
    while n_long < 20000 && time_job(&server, n_long) < short * 3 {
        n_long = (n_long + n_long / 4).min(20000);
    }
    // A runs the long job, B the short one, both in flight at the signal.
    let mut a = Client::connect(server.addr);
    let mut b = Client::connect(server.addr);
    a.send_get(&format!("/slow_threaded?id=1&n={n_long}"));
    b.send_get(&format!("/slow_threaded?id=2&n={n_short}"));
    sync_with_loop(&server);
    server.signal("TERM");
    // B's answer comes one short job after the signal, well into the drain,
    // while A's long job still runs. Only now does A ask /healthz, so the
    // server must read it during the drain: the contract's "/healthz 503" is
    // only observable this way, since new connections are not accepted.
    let rb = b.response();
    assert!(rb.text().starts_with("slow result 2 <--- "), "{rb:?}");
    let asked = Instant::now();
    a.send_get("/healthz");
    let ra = a.response();
    let job_left = asked.elapsed();
    assert!(ra.text().starts_with("slow result 1 <--- "), "{ra:?}");
    match common::read_response(&mut a.reader, false) {
        Ok(h) => {
            assert_eq!((h.status, h.text().as_str()), (503, "draining"), "{h:?}");
            assert_eq!(h.header("cache-control"), Some("no-store"), "{h:?}");
            assert!(
                h.closes(),
                "503 during drain lacks Connection: close: {h:?}"
            );
            common::assert_standard_headers(&h, false);
            a.assert_closed();
        }
        Err(e) => panic!(
            "/healthz sent {job_left:?} before the in-flight job's answer got no response \
             ({e}); short job {short:?} n={n_short}, long n={n_long}"
        ),
    }
    assert_exits_0(&mut server, EXIT_BOUND);
}

both_transports! {
    fn sigterm_on_idle_server_exits_0_and_closes_idle_connections(wire) {
        let mut server = Server::start_over(wire, &["--quiet"]);
        // An idle keep-alive connection must not hold the shutdown up.
        let mut c = server.connect();
        assert_eq!(c.get("/healthz").text(), "ok");
        server.signal("TERM");
        c.assert_closed();
        assert_exits_0(&mut server, IDLE_EXIT_BOUND);
    }
}

#[test]
fn sigint_on_idle_server_exits_0() {
    let mut server = Server::start(&["--quiet"]);
    assert_eq!(common::get(server.addr, "/healthz").text(), "ok");
    server.signal("INT");
    assert_exits_0(&mut server, IDLE_EXIT_BOUND);
}

#[test]
fn shutdown_timeout_bounds_a_drain_that_cannot_finish() {
    let _guard = lock();
    let mut server = Server::start(&["--workers", "1", "--shutdown-timeout", "1", "--quiet"]);
    let mut a = Client::connect(server.addr);
    a.send_get(LONGEST_JOB);
    sync_with_loop(&server);
    let signalled = Instant::now();
    server.signal("TERM");
    assert_exits_0(&mut server, PROMPT);
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "exited {took:?} after SIGTERM, before the 1 s shutdown timeout, with a job in flight"
    );
    let said = server.stderr.wait_for(PROMPT, |l| l.contains("abandoned"));
    assert_eq!(
        said.as_deref(),
        Some("eddy: shutdown timeout passed; abandoned 1 connection(s)"),
        "stderr: {:?}",
        server.stderr.snapshot()
    );
    // The abandoned client is closed, with no answer.
    a.assert_closed();
}

#[test]
fn second_signal_exits_at_once_with_status_1() {
    let _guard = lock();
    let mut server = Server::start(&["--workers", "1", "--quiet"]);
    let mut a = Client::connect(server.addr);
    a.send_get(LONGEST_JOB);
    sync_with_loop(&server);
    server.signal("TERM");
    // The drain has begun (it says so on stderr) and waits for the job,
    // for up to the default 30 s shutdown timeout...
    let draining = server.stderr.wait_for(PROMPT, |l| l.contains("draining"));
    assert!(
        draining.is_some(),
        "no drain: {:?}",
        server.stderr.snapshot()
    );
    // ...unless a second signal says stop now.
    server.signal("INT");
    let status = server
        .wait_exit(PROMPT)
        .unwrap_or_else(|| panic!("no exit within {PROMPT:?} of a second signal"));
    assert_eq!(status.code(), Some(1), "exit status {status}");
    let said = server
        .stderr
        .wait_for(PROMPT, |l| l.contains("second signal"));
    assert!(said.is_some(), "stderr: {:?}", server.stderr.snapshot());
    a.assert_closed();
}

#[test]
fn the_loop_sleeps_while_it_drains() {
    let _guard = lock();
    let mut server = Server::start(&[
        "--workers",
        "1",
        "--shutdown-timeout",
        "5",
        "--trace",
        "--quiet",
    ]);
    let (n, job) = calibrate(&server, JOB);
    // A job that outlives the drain's window below keeps the drain going.
    let mut a = Client::connect(server.addr);
    a.send_get(LONGEST_JOB);
    sync_with_loop(&server);
    // Block the loop with /slow, and while it computes, let connections
    // wait in the accept backlog and the signal arrive: when the loop wakes,
    // one poll reports the listener and the signal pipe together. The drain
    // drops the listener, and the loop must not go on believing connections
    // wait to be accepted (it once polled with a zero timeout for the whole
    // drain, one core at 100%).
    let mut b = common::block_the_loop(&server, 2, n, job);
    let waiting: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(server.addr).expect("connect into the backlog"))
        .collect();
    server.signal("TERM");
    let r = b.response();
    assert_eq!(r.status, 200, "{r:?}");
    // Now draining, waiting for the job. The loop should sleep: wake for
    // its heartbeat, not turn over and over.
    let (turns0, t0) = (server.turns(), Instant::now());
    std::thread::sleep(Duration::from_secs(1)); // the window measured, not a wait for an event
    let (turns, wall) = (server.turns() - turns0, t0.elapsed());
    let bound = Server::idle_turns_bound(wall, 0);
    assert!(
        turns <= bound,
        "the loop turned {turns} times in {wall:?} of drain (at most {bound}; a /slow of n={n} \
         cost {job:?} of CPU)"
    );
    drop(waiting);
    assert_exits_0(&mut server, PROMPT);
}

/// What one keep-alive client of [`a_drain_loses_no_request`] saw.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    /// Requests written whole.
    sent: u64,
    /// Complete answers read.
    answered: u64,
    /// Answers that said `Connection: close` (at most one).
    goodbyes: u64,
}

/// One keep-alive client sending `/fast` back to back until the server says
/// goodbye: a `Connection: close` answer, or a close. Every request it sent
/// before either must have been answered. `started` counts answers across
/// all clients, so the test can wait for real traffic before the signal.
fn keep_asking(addr: SocketAddr, id: u64, started: &std::sync::atomic::AtomicU64) -> Tally {
    use std::sync::atomic::Ordering;
    let mut c = Client::connect(addr);
    let mut tally = Tally::default();
    loop {
        let path = format!("/fast?id={id}");
        if c.stream
            .write_all(common::get_req(&path).as_bytes())
            .is_err()
        {
            return tally; // the server closed first: this request was never sent
        }
        tally.sent += 1;
        let Ok(r) = common::read_response(&mut c.reader, false) else {
            return tally; // closed with a request unanswered: counted as lost
        };
        assert_eq!(r.text(), format!("fast result {id}"), "{r:?}");
        tally.answered += 1;
        started.fetch_add(1, Ordering::Relaxed);
        if r.closes() {
            tally.goodbyes += 1;
            return tally;
        }
    }
}

/// The idle clients of [`a_drain_loses_no_request`]: each had its answer
/// before the signal and has nothing in flight at it. Once the drain has
/// begun, each asks once more, as a request already on its way would: the
/// drain's grace must answer it, with `Connection: close`, and then close.
fn ask_once_in_the_grace(c: &mut Client, id: u64) -> Tally {
    let mut tally = Tally::default();
    if c.stream
        .write_all(common::get_req(&format!("/fast?id={id}")).as_bytes())
        .is_err()
    {
        return tally;
    }
    tally.sent = 1;
    let Ok(r) = common::read_response(&mut c.reader, false) else {
        return tally; // closed with the request unanswered: lost
    };
    assert_eq!(r.text(), format!("fast result {id}"), "{r:?}");
    tally.answered = 1;
    if r.closes() && c.check_closed().is_ok() {
        tally.goodbyes = 1;
    }
    tally
}

#[test]
fn a_drain_loses_no_request() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let _guard = lock();
    const BUSY: u64 = 48;
    const IDLE: u64 = 8;
    // Workers at normal priority: the jobs must end within --job-timeout
    // while 48 clients keep both cores busy (at SCHED_IDLE they starved
    // past it and were answered 504). The grace is long so that a busy
    // client's next request, sent after an answer that was written just
    // before the signal, is "on its way" even if a loaded machine holds
    // its thread back for seconds; it ends the drain no later, since every
    // connection here says goodbye long before it.
    let mut server = Server::start(&[
        "--workers",
        "2",
        "--worker-priority",
        "normal",
        "--drain-grace",
        "20",
        "--quiet",
    ]);
    let addr = server.addr;
    let (n, cost) = calibrate(&server, JOB);
    // Idle at the signal, on purpose: connected, answered once, and then
    // nothing in flight.
    let mut idle: Vec<Client> = (0..IDLE)
        .map(|i| {
            let mut c = Client::connect(addr);
            common::assert_fast(&c.get(&format!("/fast?id={}", 1000 + i)), 1000 + i);
            c
        })
        .collect();
    // Busy at the signal: each sends its next request as soon as it has
    // the last answer.
    let started = Arc::new(AtomicU64::new(0));
    let busy: Vec<_> = (0..BUSY)
        .map(|id| {
            let started = Arc::clone(&started);
            std::thread::spawn(move || keep_asking(addr, id, &started))
        })
        .collect();
    let traffic = common::wait_until(common::IO_TIMEOUT, || {
        started.load(Ordering::Relaxed) >= BUSY * 10
    });
    assert!(
        traffic,
        "only {} answers before the signal",
        started.load(Ordering::Relaxed)
    );
    // Jobs in flight too, as in production: sent after the traffic is
    // going and read by the loop (sync_with_loop) just before the signal.
    // Each costs at least JOB of CPU, so at least that much wall time on a
    // worker; two round-trips and a `kill` take a fraction of it (0.12 s
    // measured on a 2-core machine at load average 11), so every job is
    // running or queued at the signal, and answers with `Connection: close`.
    let jobs: Vec<Client> = (1..=4)
        .map(|id| {
            let mut c = Client::connect(addr);
            c.send_get(&format!("/slow_threaded?id={id}&n={n}"));
            c
        })
        .collect();
    sync_with_loop(&server);
    server.signal("TERM");
    let draining = server.stderr.wait_for(PROMPT, |l| l.contains("draining"));
    assert!(draining.is_some(), "{:?}", server.stderr.snapshot());
    let idle_tallies: Vec<Tally> = idle
        .iter_mut()
        .zip(1000..)
        .map(|(c, id)| ask_once_in_the_grace(c, id))
        .collect();
    let busy_tallies: Vec<Tally> = busy.into_iter().map(|c| c.join().unwrap()).collect();
    for (id, mut c) in jobs.into_iter().enumerate() {
        let r = c.response();
        assert!(
            r.text()
                .starts_with(&format!("slow result {} <--- ", id + 1)),
            "{r:?}"
        );
        assert!(
            r.closes(),
            "job {} (n={n}, {cost:?} of CPU) was answered before the drain: {r:?}",
            id + 1
        );
    }
    assert_exits_0(&mut server, EXIT_BOUND);
    let sent: u64 = busy_tallies.iter().map(|t| t.sent).sum();
    common::say(&format!(
        "a_drain_loses_no_request: {BUSY} busy keep-alive clients sent {sent} requests, \
         {IDLE} idle ones one each in the grace; per connection (sent, answered, goodbyes): \
         busy {:?}, idle {:?}",
        busy_tallies
            .iter()
            .map(|t| (t.sent, t.answered, t.goodbyes))
            .collect::<Vec<_>>(),
        idle_tallies
            .iter()
            .map(|t| (t.sent, t.answered, t.goodbyes))
            .collect::<Vec<_>>(),
    ));
    // Per connection: every request sent was answered, and the connection
    // ended with exactly one goodbye (Connection: close).
    let wrong = |tallies: &[Tally]| -> Vec<(usize, Tally)> {
        tallies
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, t)| t.sent != t.answered || t.goodbyes != 1)
            .collect()
    };
    assert!(
        wrong(&idle_tallies).is_empty(),
        "idle at the signal, asked in the grace, and lost or not told goodbye: {:?}",
        wrong(&idle_tallies)
    );
    assert!(
        wrong(&busy_tallies).is_empty(),
        "busy at the signal, and lost or not told goodbye: {:?}",
        wrong(&busy_tallies)
    );
}

both_transports! {
    fn an_idle_connection_may_send_one_last_request_in_the_drain_grace(wire) {
        let mut server = Server::start_over(wire, &["--drain-grace", "20", "--quiet"]);
        let mut c = server.connect();
        assert_eq!(c.get("/healthz").text(), "ok");
        server.signal("TERM");
        let draining = server.stderr.wait_for(PROMPT, |l| l.contains("draining"));
        assert!(draining.is_some(), "{:?}", server.stderr.snapshot());
        // The drain has begun and this connection is idle: it is not closed,
        // and what it asks now is answered — with goodbye.
        let r = c.get("/healthz");
        assert_eq!((r.status, r.text().as_str()), (503, "draining"), "{r:?}");
        assert!(r.closes(), "{r:?}");
        c.assert_closed();
        // With nothing else open, the drain ends at once, not after the grace.
        assert_exits_0(&mut server, PROMPT);
    }

    fn an_idle_connection_is_closed_when_the_drain_grace_ends(wire) {
        let mut server = Server::start_over(wire, &["--drain-grace", "0.5", "--quiet"]);
        let mut c = server.connect();
        assert_eq!(c.get("/healthz").text(), "ok");
        let signalled = Instant::now();
        server.signal("TERM");
        c.assert_closed();
        let closed = signalled.elapsed();
        assert!(
            closed >= Duration::from_millis(400),
            "closed {closed:?} after the signal, before the 0.5 s grace"
        );
        assert_exits_0(&mut server, PROMPT);
    }
}

#[test]
fn connections_waiting_in_the_backlog_at_the_signal_are_served() {
    let _guard = lock();
    let mut server = Server::start(&["--workers", "1", "--quiet"]);
    let (n, job) = calibrate(&server, JOB);
    // Block the loop with /slow; while it computes, the signal arrives and
    // clients connect (into the accept backlog: the kernel completes their
    // handshake) and send a request each. Closing the listener would reset
    // them: they must be accepted and answered instead.
    let mut b = common::block_the_loop(&server, 1, n, job);
    // The signal first, then the clients: when the loop wakes, the signal
    // pipe's event comes before the listener's (epoll reports them in the
    // order they became ready), so the drain begins with them still in the
    // backlog, not already accepted.
    server.signal("TERM");
    let mut waiting: Vec<Client> = (0..4)
        .map(|id| {
            let mut c = Client::connect(server.addr);
            c.send_get(&format!("/fast?id={id}"));
            c
        })
        .collect();
    assert_eq!(b.response().status, 200);
    for (id, c) in waiting.iter_mut().enumerate() {
        let r = common::read_response(&mut c.reader, false)
            .unwrap_or_else(|e| panic!("client {id}, from the backlog, got no answer: {e}"));
        assert_eq!(r.text(), format!("fast result {id}"), "{r:?}");
        assert!(r.closes(), "{r:?}");
    }
    assert_exits_0(&mut server, PROMPT);
}
