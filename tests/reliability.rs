//! Issue 20's edges, each a way a deployment could lose an answer, hang a
//! client or misreport itself, with the test that proves it is closed:
//!
//! - point 1: blocking producers pipelined behind paced bodies no longer
//!   hold every worker (a streaming job starts at the front of its line);
//! - point 4: a parked paced body is `eddy_jobs_parked`, not running;
//! - point 6: a drain closes an idle connection at the grace's end, without
//!   lingering on it;
//! - point 7: after a FIN, the last whole answer says `Connection: close`
//!   even with a partial request behind it;
//! - point 8: the access log counts the body bytes the socket took, and
//!   marks an answer cut short.
//!
//! Points 2, 3 and the empty piece of 4 are proved on the pool alone
//! (`src/pool.rs`), point 5 on a connection driven by hand
//! (`src/connection/tests.rs`).

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{read_response, Client, Server, IO_TIMEOUT};
use eddy::{inline, offload, AccessRecord, Config, Job, Response, Router, StatusCode};

const MIB: usize = 1 << 20;
const PIECE: usize = 64 * 1024;

/// `/paced`: a 32 MiB body made in 64 KiB pieces, whose producer gives its
/// worker back whenever the pipe is full (more than any socket buffers,
/// so it must be resumed, on a worker, many times). `/blocking`: a 1 MiB
/// body written by a producer that blocks in `send` while its pipe is full
/// (more than the pipe holds). `/metrics`: the gauges.
fn streams() -> Router {
    Router::new()
        .get(
            "/paced",
            offload(|_, _| {
                Ok(Job::stream(|_, head| {
                    let mut left = 32 * MIB;
                    let piece = move |_: &_| {
                        let n = left.min(PIECE);
                        left -= n;
                        Ok((n > 0).then(|| vec![b'p'; n]))
                    };
                    let length = Some(32 * MIB as u64);
                    head.start_paced(Response::new(StatusCode::OK), length, piece);
                }))
            }),
        )
        .get(
            "/blocking",
            offload(|_, _| {
                Ok(Job::stream(|_, head| {
                    let length = Some(MIB as u64);
                    let mut body = head.start(Response::new(StatusCode::OK), length);
                    for _ in 0..MIB / PIECE {
                        if body.send(&[b'b'; PIECE]).is_err() {
                            return;
                        }
                    }
                    let _ = body.finish();
                }))
            }),
        )
        .get(
            "/metrics",
            inline(|_, status| Response::text(StatusCode::OK, status.prometheus())),
        )
}

/// Issue 20, point 1. Each connection pipelines a paced body and then a
/// blocking producer. Started as soon as it was decoded, each blocking
/// producer filled its pipe behind its connection's paced body and blocked
/// its worker there; with as many such connections as workers, no worker
/// was left to resume a paced body, and every connection stalled until the
/// idle timeout cut it. A streaming job now starts when its answer reaches
/// the front of the line: every byte arrives, well inside the timeout.
#[test]
fn blocking_producers_behind_paced_bodies_do_not_starve_the_pool() {
    let idle = Duration::from_secs(20);
    let config = Config {
        workers: 2,
        idle_timeout: idle,
        ..Config::default()
    };
    let server = common::serve_in_process(streams(), config);
    let started = Instant::now();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let addr = server.addr;
            thread::spawn(move || {
                let mut c = Client::connect(addr);
                c.send(b"GET /paced HTTP/1.1\r\nHost: x\r\n\r\nGET /blocking HTTP/1.1\r\nHost: x\r\n\r\n");
                let paced = read_response(&mut c.reader, false);
                let blocking = read_response(&mut c.reader, false);
                (paced.map(|r| r.body.len()), blocking.map(|r| r.body.len()))
            })
        })
        .collect();
    for client in clients {
        let (paced, blocking) = client.join().unwrap();
        assert_eq!(paced.expect("the paced body was cut"), 32 * MIB);
        assert_eq!(blocking.expect("the blocking body was cut"), MIB);
    }
    let took = started.elapsed();
    assert!(
        took < idle / 2,
        "66 MiB took {took:?}: a stall cut short by luck?"
    );
    server.handle.shutdown().unwrap();
    server.serving.join().unwrap().unwrap();
}

/// The value of the gauge `name` in a Prometheus scrape.
fn gauge(scrape: &str, name: &str) -> Option<usize> {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// Issue 20, point 4: `eddy_jobs_running` counts workers busy, never more
/// than there are; a paced body waiting for its client to read is
/// `eddy_jobs_parked`. (It used to be "in flight minus queued": three
/// stalled downloads on one worker read as three jobs running.)
#[test]
fn a_parked_body_is_counted_parked_not_running() {
    let config = Config {
        workers: 1,
        ..Config::default()
    };
    let server = common::serve_in_process(streams(), config);
    // Three downloads whose clients read nothing.
    let stalled: Vec<Client> = (0..3)
        .map(|_| {
            let mut c = Client::connect(server.addr);
            c.send_get("/paced");
            c
        })
        .collect();
    let mut scrape = String::new();
    let parked = common::wait_until(IO_TIMEOUT, || {
        scrape = common::get(server.addr, "/metrics").text();
        gauge(&scrape, "eddy_jobs_parked") == Some(3)
    });
    assert!(parked, "three stalled downloads are not parked:\n{scrape}");
    let running = gauge(&scrape, "eddy_jobs_running").expect("eddy_jobs_running");
    assert!(
        running <= 1,
        "{running} jobs running on one worker:\n{scrape}"
    );
    drop(stalled);
    server.handle.shutdown().unwrap();
    server.serving.join().unwrap().unwrap();
}

/// Issue 20, point 6: with `--drain-grace 1`, an idle keep-alive connection
/// is closed when the grace ends — it has nothing unread to protect — and
/// the process exits then, not a linger (2 s) later.
#[test]
fn a_drain_closes_an_idle_connection_at_the_grace_without_lingering() {
    let mut server = Server::start(&["--drain-grace", "1", "--quiet"]);
    let mut c = Client::connect(server.addr);
    assert_eq!(c.get("/healthz").text(), "ok");
    let signalled = Instant::now();
    server.signal("TERM");
    let status = server
        .wait_exit(IO_TIMEOUT)
        .expect("no exit after the signal");
    let exited = signalled.elapsed();
    assert_eq!(status.code(), Some(0));
    assert!(
        exited >= Duration::from_millis(900),
        "exited {exited:?} after the signal, before the 1 s grace"
    );
    // Lingering would add LINGER_IDLE (2 s): the exit came at about 3 s.
    assert!(
        exited < Duration::from_millis(1800),
        "exited {exited:?} after the signal: it lingered on an idle connection"
    );
    c.assert_closed();
}

/// Issue 20, point 7: a client sends a whole request, the start of another,
/// and its FIN. The second can never complete, so the connection closes
/// after the first answer — which must say so.
#[test]
fn after_a_fin_the_last_whole_answer_says_close_despite_a_partial_request() {
    let server = Server::start(&["--quiet"]);
    let stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    (&stream)
        .write_all(b"GET /fast?id=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /fa")
        .unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut reader = BufReader::new(&stream);
    let r = read_response(&mut reader, false).unwrap();
    assert_eq!(r.text(), "fast result 1");
    assert!(r.closes(), "the last answer before the close: {r:?}");
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}

/// What the access log said of one answer.
#[derive(Debug)]
struct Logged {
    status: u16,
    body_bytes: usize,
    cut_short: bool,
    json: String,
}

/// Issue 20, point 8: `body_bytes` is what the socket took (nginx's
/// `$body_bytes_sent`), not what was handed to the output buffer; a client
/// that leaves mid-answer leaves a record that says so.
#[test]
fn the_access_log_counts_the_body_bytes_the_socket_took() {
    const BIG: usize = 32 * MIB; // more than loopback's socket buffers
    let (records, logged) = mpsc::channel();
    let records = Arc::new(Mutex::new(records));
    let config = Config {
        access_log: Some(Arc::new(move |r: &AccessRecord<'_>| {
            let _ = records.lock().unwrap().send(Logged {
                status: r.status,
                body_bytes: r.body_bytes,
                cut_short: r.cut_short,
                json: r.json().to_string(),
            });
        })),
        ..Config::default()
    };
    let router = Router::new().get(
        "/big",
        inline(|_, _| Response::text(StatusCode::OK, vec![b'x'; BIG])),
    );
    let server = common::serve_in_process(router, config);

    // Read whole: every byte counted, nothing cut.
    let whole = common::get(server.addr, "/big");
    assert_eq!(whole.body.len(), BIG);
    let record = logged.recv_timeout(IO_TIMEOUT).unwrap();
    assert_eq!((record.status, record.body_bytes), (200, BIG), "{record:?}");
    assert!(!record.cut_short, "{record:?}");
    assert!(
        record.json.contains("\"cut_short\":false"),
        "{}",
        record.json
    );

    // Leave after the head and a little of the body.
    let mut c = Client::connect(server.addr);
    c.send_get("/big");
    let mut some = vec![0; 64 * 1024];
    c.reader.read_exact(&mut some).unwrap();
    drop(c);
    let record = logged.recv_timeout(IO_TIMEOUT).unwrap();
    assert_eq!(record.status, 200, "{record:?}");
    assert!(record.cut_short, "{record:?}");
    assert!(
        record.body_bytes < BIG,
        "a client that left counted the whole {BIG} bytes: {record:?}"
    );
    assert!(
        record.json.contains("\"cut_short\":true"),
        "{}",
        record.json
    );
    server.handle.shutdown().unwrap();
    server.serving.join().unwrap().unwrap();
}
