//! The server's loop rules, pinned through `Server::turn`: the real server
//! in-process, driven one turn at a time by the test, with clients on
//! plain sockets in the same thread. Deterministic — no sleeps; every wait
//! is a turn's bounded `max_wait`, a client's bounded read, or (one) a
//! bounded look at a kernel counter — and each test names the rule it pins
//! (docs/architecture.md's exercises break them one by one):
//!
//! - a response far larger than the socket buffer reaches a slow reader
//!   whole, and the loop *sleeps* while the reader takes nothing: WRITABLE
//!   interest is asked for while output is pending, and only then;
//! - a listener backlog larger than one accept batch is accepted in full
//!   without a new edge: the loop remembers that the backlog was not empty;
//! - requests buffered beyond a connection's `DRIVE_ROUNDS` are served in
//!   the next turn, which does not sleep first: fairness without stalling;
//!   and those still in the socket after it, with no new edge: a
//!   connection forgets that its socket is readable only on `WouldBlock`;
//! - every event one poll returns is handled in that turn: two clients
//!   ready together are both answered by one `turn`.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use eddy::{demo, inline, Config, Response, Router, Server, StatusCode};

/// A `max_wait` long enough that a turn which sleeps it out is unmistakable.
const LONG: Duration = Duration::from_secs(5);

/// A short `max_wait`: turns that end by it slept.
const SHORT: Duration = Duration::from_millis(100);

/// How long output may stop moving before a test calls it stalled: a
/// hundred times the longest gap between two reads that moved bytes in
/// passing runs (32 ms: reading MiBs in a debug build), and still a failure
/// in seconds when a rule is broken and the bytes stop for good.
const STALL: Duration = Duration::from_secs(3);

fn config() -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        workers: 1,
        ..Config::default()
    }
}

/// Turns until `done` holds (at most `turns` turns of at most `max_wait`).
fn turn_until(
    server: &mut Server,
    turns: usize,
    max_wait: Duration,
    mut done: impl FnMut(&Server) -> bool,
) {
    for _ in 0..turns {
        if done(server) {
            return;
        }
        server.turn(Some(max_wait)).unwrap();
    }
    assert!(done(server), "not done after {turns} turns");
}

/// Reads whatever is there without blocking; returns how many bytes.
fn read_available(client: &mut TcpStream, into: &mut Vec<u8>) -> usize {
    let mut buf = [0u8; 64 * 1024];
    let mut total = 0;
    loop {
        match client.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => {
                into.extend_from_slice(&buf[..n]);
                total += n;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return total
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_large_answer_reaches_a_slow_reader_whole_while_the_loop_sleeps() {
    const BIG: usize = 16 << 20; // far beyond any socket buffer here
    let router = Router::new().get(
        "/big",
        inline(|_, _| Response::text(StatusCode::OK, vec![b'x'; BIG])),
    );
    let mut server = Server::bind(config(), router).unwrap();
    let mut client = TcpStream::connect(server.local_addr().unwrap()).unwrap();
    turn_until(&mut server, 20, SHORT, |s| s.open_connections() == 1);
    // Nothing pending, no WRITABLE interest: an idle connection wakes no
    // one (asked for, a writable socket would be reported at once).
    let idle = server.turn(Some(SHORT)).unwrap();
    assert_eq!(idle.events, 0, "an idle connection woke the loop: {idle:?}");
    client
        .write_all(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    client.set_nonblocking(true).unwrap();
    let mut got = Vec::new();
    // The answer starts: the socket buffers fill, and the server stalls.
    turn_until(&mut server, 20, SHORT, |_| {
        read_available(&mut client, &mut got) > 0
    });
    // The reader takes nothing now. The loop must sleep, not spin: each
    // turn waits out its max_wait (the heartbeat aside) with nothing to do.
    let mut sleeping = 0;
    let started = Instant::now();
    while sleeping < 3 {
        let turn = server.turn(Some(SHORT)).unwrap();
        if turn.events == 0 {
            sleeping += 1;
        }
        assert!(started.elapsed() < LONG, "the loop never settled to sleep");
    }
    // Then the reader reads, and every byte arrives: each read makes room,
    // and the socket's WRITABLE event wakes a turn that writes more. The
    // output must keep moving. A loop that never asked for WRITABLE gets no
    // event: its turns end at their max_wait or the heartbeat, and the bytes
    // stop — which fails here after `STALL`, not at a minute's deadline.
    let mut moved = Instant::now();
    let (mut turns, mut woken) = (0, 0);
    while got.len() < BIG + 100 || !got.ends_with(&[b'x'; 64]) {
        if read_available(&mut client, &mut got) > 0 {
            moved = Instant::now();
        }
        let turn = server.turn(Some(SHORT)).unwrap();
        turns += 1;
        woken += usize::from(turn.events > 0);
        assert!(
            moved.elapsed() < STALL,
            "{} of {} bytes after {turns} turns ({woken} woken by an event), and none for \
             {STALL:?}: the writes stopped",
            got.len(),
            BIG
        );
    }
    let body_start = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(got.len() - body_start, BIG, "the whole body, nothing more");
    // Output done: WRITABLE is dropped again, so a quiet turn sleeps.
    let quiet = server.turn(Some(SHORT)).unwrap();
    let quiet2 = server.turn(Some(SHORT)).unwrap();
    assert!(
        quiet.events == 0 || quiet2.events == 0,
        "{quiet:?} {quiet2:?}"
    );
}

#[test]
fn a_backlog_larger_than_one_accept_batch_is_accepted_without_a_new_edge() {
    let mut server = Server::bind(config(), demo::router()).unwrap();
    // 300 connections, all in the kernel's backlog before the loop turns:
    // the listener's readiness edge comes once for all of them.
    let clients: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(server.local_addr().unwrap()).unwrap())
        .collect();
    let started = Instant::now();
    let mut turns = 0;
    while server.open_connections() < clients.len() {
        let turn = server.turn(Some(LONG)).unwrap();
        turns += 1;
        assert!(
            turns <= 6,
            "{} of {} accepted after {turns} turns ({turn:?}): the rest wait for an edge that will not come",
            server.open_connections(),
            clients.len()
        );
    }
    // Three batches of at most 128, and no turn sat out its max_wait.
    assert!(
        turns >= 3,
        "accepted in {turns} turns: batches larger than 128?"
    );
    assert!(started.elapsed() < LONG, "{:?}", started.elapsed());
}

/// A listener whose accepted sockets get a receive buffer of about
/// `bytes` (Linux copies it to them): a socket buffer that holds more than
/// a turn's rounds read, so the rounds limit is what stops a turn, not the
/// data running out (a default buffer holds about 128 KiB at first).
fn listener_with_receive_buffer(bytes: usize) -> std::net::TcpListener {
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let size = bytes as libc::c_int;
    // SAFETY: setsockopt on a socket we own, with a c_int that outlives it.
    let set = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0, "SO_RCVBUF: {}", std::io::Error::last_os_error());
    listener
}

#[test]
fn requests_beyond_the_drive_rounds_are_served_next_turn_without_sleeping() {
    let listener = listener_with_receive_buffer(4 << 20);
    let mut server = Server::from_listener(listener, config(), demo::router()).unwrap();
    let mut client = TcpStream::connect(server.local_addr().unwrap()).unwrap();
    turn_until(&mut server, 20, SHORT, |s| s.open_connections() == 1);
    // Pipeline far more than one turn's rounds take (4 rounds of at most
    // 64 KiB read each): 1 MiB of requests, written before the loop turns.
    // Padded to 1 KiB each, so their answers are small beside them and the
    // output limit (1 MiB pending) is never what stops a round.
    let request = format!(
        "GET /fast?id=1 HTTP/1.1\r\nHost: a\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(980)
    );
    client.set_nonblocking(true).unwrap();
    let mut written = 0;
    while written < (1 << 20) {
        match client.write(request.as_bytes()) {
            Ok(n) => written += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        written >= 1 << 20,
        "the kernel buffered only {written} bytes"
    );
    let answers = |bytes: &[u8]| bytes.windows(13).filter(|w| w == b"fast result 1").count();
    let mut got = Vec::new();
    let first = server.turn(Some(LONG)).unwrap();
    assert!(first.events >= 1, "{first:?}");
    read_available(&mut client, &mut got);
    let after_first = answers(&got);
    assert!(after_first > 0, "the first turn answered nothing");
    assert!(
        after_first < written / request.len(),
        "one turn answered all {after_first}: the rounds are not bounded"
    );
    // The connection was cut short with work left. The next turn resumes
    // it at once (a `call_soon`): it does not wait for an edge (none will
    // come for bytes already there) or sleep out its max_wait.
    let second = server.turn(Some(LONG)).unwrap();
    assert_eq!(second.soon, 1, "the connection was not resumed: {second:?}");
    assert!(second.slept < Duration::from_secs(1), "{second:?}");
    read_available(&mut client, &mut got);
    let mut answered = answers(&got);
    assert!(answered > after_first, "the second turn answered nothing");
    // And so on until every request is answered. No new edge comes — every
    // byte was there before the first turn — so the bytes still in the
    // socket are read only because the connection remembers that it stopped
    // reading with its socket still readable (it forgets only on
    // `WouldBlock`). The answers must keep coming.
    let total = written / request.len();
    let (mut moved, mut turns) = (Instant::now(), 2);
    while answered < total {
        server.turn(Some(SHORT)).unwrap();
        turns += 1;
        if read_available(&mut client, &mut got) > 0 {
            answered = answers(&got);
            moved = Instant::now();
        }
        assert!(
            moved.elapsed() < STALL,
            "{answered} of {total} answered after {turns} turns, and none for {STALL:?}: \
             the bytes left in the socket were forgotten"
        );
    }
}

/// Waits until the server's end has taken every byte `client` wrote: no
/// byte of it is unacknowledged (`TIOCOUTQ`, alias `SIOCOUTQ`, on a TCP
/// socket). The peer acknowledges only what is in its receive queue, so
/// the server's socket is then readable — whatever the kernel deferred.
/// Only visible by looking, hence the bounded poll (at once in practice:
/// the loopback delivers before `write` returns unless softirqs are put
/// off to a busy ksoftirqd).
fn wait_delivered(client: &TcpStream) {
    use std::os::fd::AsRawFd;
    let started = Instant::now();
    loop {
        let mut unacked: libc::c_int = 0;
        // SAFETY: TIOCOUTQ writes one c_int through the pointer we pass,
        // to a local that outlives the call, on a socket we own.
        let asked = unsafe { libc::ioctl(client.as_raw_fd(), libc::TIOCOUTQ, &mut unacked) };
        assert_eq!(asked, 0, "TIOCOUTQ: {}", std::io::Error::last_os_error());
        if unacked == 0 {
            return;
        }
        assert!(
            started.elapsed() < LONG,
            "{unacked} bytes still unacknowledged after {LONG:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Reads one answer whole — its head and a `Content-Length` body — waiting
/// at most `LONG` for it; `who` names the client in a failure.
fn read_answer(who: &str, client: &mut TcpStream) -> String {
    client.set_read_timeout(Some(LONG)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .and_then(|n| n.trim().parse::<usize>().ok())
                .unwrap_or_else(|| panic!("no Content-Length: {text:?}"));
            if got.len() >= end + 4 + length {
                return text.into_owned();
            }
        }
        match client.read(&mut buf) {
            Ok(0) => panic!("{who}: closed after {:?}", String::from_utf8_lossy(&got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "{who}: {e} after {:?}: not answered by the turn its request was ready in",
                String::from_utf8_lossy(&got)
            ),
        }
    }
}

#[test]
fn every_event_of_one_poll_is_handled_in_that_turn() {
    let mut server = Server::bind(config(), demo::router()).unwrap();
    let addr = server.local_addr().unwrap();
    let mut a = TcpStream::connect(addr).unwrap();
    let mut b = TcpStream::connect(addr).unwrap();
    turn_until(&mut server, 20, SHORT, |s| s.open_connections() == 2);
    // Both requests are in the server's sockets before the loop turns
    // again, so its one poll reports both. Edge-triggered, an event left
    // unhandled is not reported again: a turn that handled only some of
    // its events would leave the other client waiting for ever.
    a.write_all(b"GET /fast?id=1 HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    b.write_all(b"GET /fast?id=2 HTTP/1.1\r\nHost: b\r\n\r\n")
        .unwrap();
    wait_delivered(&a);
    wait_delivered(&b);
    let turn = server.turn(Some(LONG)).unwrap();
    // This thread is the server: whatever that one turn wrote is all the
    // clients will get until the next.
    let answer_a = read_answer("client a", &mut a);
    let answer_b = read_answer("client b", &mut b);
    assert!(answer_a.ends_with("fast result 1"), "{answer_a:?}");
    assert!(answer_b.ends_with("fast result 2"), "{answer_b:?}");
    assert!(turn.events >= 2, "both came in one poll: {turn:?}");
}
