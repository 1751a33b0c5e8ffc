//! The server under load: hundreds of stalled half-requests (a slowloris
//! crowd) do not delay a fresh request; 500 keep-alive connections open at
//! once, 20 requests each, every answer the right one; and a run of 50
//! panicking jobs leaves the pool with its full number of workers. The tests
//! are CPU-heavy, so they are serialized with `LOCK`.

mod common;

use common::{assert_parallel, check_fast, get, Client, Server};
use std::sync::{Barrier, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// Serializes the tests of this file so they don't compete for the cores.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn stalled_half_requests_do_not_delay_a_fresh_request() {
    let _guard = lock();
    let s = Server::start(&["--quiet"]);
    let stalled: Vec<Client> = (0..200)
        .map(|_| {
            let mut c = Client::connect(s.addr);
            c.send(b"GET /fast?id=1 HTTP/1.1\r\nHo");
            c
        })
        .collect();
    let t0 = Instant::now();
    let r = get(s.addr, "/fast?id=2");
    let took = t0.elapsed();
    check_fast(&r, 2).unwrap();
    // The stalled ones expire only after the default 10 s header timeout.
    assert!(
        took < Duration::from_secs(5),
        "fresh request behind 200 stalled ones took {took:?}"
    );
    drop(stalled);
}

#[test]
fn five_hundred_keep_alive_connections_get_the_right_answers() {
    let _guard = lock();
    const THREADS: u64 = 25;
    const CONNS: u64 = 20; // per thread: 500 connections in all
    const ROUNDS: u64 = 20; // requests per connection
    let s = Server::start(&["--quiet"]);
    let all_open = Barrier::new(THREADS as usize);
    let addr = s.addr;
    let failures: Vec<String> = thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let all_open = &all_open;
                scope.spawn(move || {
                    let mut conns: Vec<Client> =
                        (0..CONNS).map(|_| Client::connect(addr)).collect();
                    all_open.wait();
                    let mut failures = Vec::new();
                    for round in 0..ROUNDS {
                        // One request in flight on every connection at once.
                        let id = |c: u64| t * 10_000 + c * 100 + round;
                        for (c, conn) in (0..).zip(conns.iter_mut()) {
                            conn.send_get(&format!("/fast?id={}", id(c)));
                        }
                        for (c, conn) in (0..).zip(conns.iter_mut()) {
                            let r = conn.response();
                            if let Err(e) = check_fast(&r, id(c)) {
                                failures.push(e);
                            } else if r.closes() {
                                failures.push(format!("keep-alive closed: {r:?}"));
                            }
                        }
                    }
                    failures
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} answers wrong, e.g. {:?}",
        failures.len(),
        THREADS * CONNS * ROUNDS,
        &failures[..failures.len().min(5)]
    );
}

#[test]
fn fifty_panics_in_a_row_leave_the_pool_whole() {
    let _guard = lock();
    let s = Server::start(&["--workers", "2", "--worker-priority", "normal", "--quiet"]);
    // 50 connections, all sent before any answer is read: the panics come
    // back to back on both workers.
    let mut conns: Vec<Client> = (0..50).map(|_| Client::connect(s.addr)).collect();
    for (id, c) in conns.iter_mut().enumerate() {
        c.send_get(&format!("/fail?id={id}"));
    }
    for (id, c) in conns.iter_mut().enumerate() {
        let r = c.response();
        assert_eq!(r.status, 500, "/fail?id={id}: {r:?}");
        assert!(
            r.text().contains(&format!("job {id} failed on purpose")),
            "{r:?}"
        );
    }
    assert_parallel(&s);
}
