//! The seed experiment (the Tornado question's `call_multi.py`) and the other
//! CPU-heavy timing tests: fast requests overtake offloaded slow ones, the
//! blocking `/slow` baseline holds fast ones up, and two workers really run two
//! jobs at once, also when they are pipelined on one connection. Every test here burns CPU and measures time, so they are
//! serialized with `LOCK` and calibrated at run time (no absolute
//! milliseconds): each first finds a job size `n` that costs ≥ 0.4 s of CPU here.

mod common;

use common::{
    assert_parallel, assert_parallel_pipelined, calibrate, Client, Response, Server, JOB,
};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::Instant;

/// Serializes the tests of this file so they don't compete for the cores.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One request of the experiment and when its response arrived.
struct Arrival {
    slow: bool,
    sent: Instant,
    arrived: Instant,
}

/// The seed's call_multi.py: 3 requests to `slow_route` then 20 to `/fast`,
/// each on its own connection, all connected and written before any response
/// is read (slow ones first); then each is read on its own thread. Asserts
/// every response is the right 200 body and returns the arrival times.
fn call_multi(addr: SocketAddr, slow_route: &str, n: u32) -> Vec<Arrival> {
    let mut pending = Vec::new();
    for id in 1..=3 {
        let path = format!("/{slow_route}?id={id}&n={n}");
        pending.push((true, format!("slow result {id} <--- "), path));
    }
    for id in 1..=20 {
        let path = format!("/fast?id={id}");
        pending.push((false, format!("fast result {id}"), path));
    }
    let sent: Vec<_> = pending
        .into_iter()
        .map(|(slow, expect, path)| {
            let mut c = Client::connect(addr);
            c.send_get(&path);
            (slow, expect, path, Instant::now(), c)
        })
        .collect();
    let readers: Vec<_> = sent
        .into_iter()
        .map(|(slow, expect, path, sent, mut c)| {
            thread::spawn(move || {
                let r: Response = c.response();
                let arrived = Instant::now();
                let body = r.text();
                assert_eq!(r.status, 200, "{path}: {r:?}");
                if slow {
                    assert!(
                        body.starts_with(&expect) && body.ends_with(" s"),
                        "{path}: {body:?}"
                    );
                } else {
                    assert_eq!(body, expect, "{path}");
                }
                Arrival {
                    slow,
                    sent,
                    arrived,
                }
            })
        })
        .collect();
    readers.into_iter().map(|h| h.join().unwrap()).collect()
}

/// When the first slow response arrived.
fn first_slow(arrivals: &[Arrival]) -> Instant {
    arrivals
        .iter()
        .filter(|a| a.slow)
        .map(|a| a.arrived)
        .min()
        .unwrap()
}

#[test]
fn fast_requests_overtake_offloaded_slow_ones() {
    let _guard = lock();
    let server = Server::start(&["--workers", "2", "--worker-priority", "normal", "--quiet"]);
    let (n, job) = calibrate(&server, JOB);
    let arrivals = call_multi(server.addr, "slow_threaded", n);
    let first_slow = first_slow(&arrivals);
    for (i, a) in arrivals.iter().enumerate().filter(|(_, a)| !a.slow) {
        assert!(
            a.arrived < first_slow,
            "fast request #{} (latency {:?}) arrived after the first slow response \
             (n={n}, one job {job:?})",
            i - 2,
            a.arrived - a.sent
        );
    }
}

#[test]
fn blocking_slow_route_holds_fast_requests_up() {
    let _guard = lock();
    let server = Server::start(&["--quiet"]);
    let (n, job) = calibrate(&server, JOB);
    let arrivals = call_multi(server.addr, "slow", n);
    let first_slow = first_slow(&arrivals);
    let fast: Vec<_> = arrivals.iter().filter(|a| !a.slow).collect();
    assert!(
        fast.iter().any(|a| a.arrived > first_slow),
        "no fast response came after the first /slow one: /slow did not block the loop"
    );
    let worst = fast.iter().map(|a| a.arrived - a.sent).max().unwrap();
    assert!(
        worst >= job / 2,
        "slowest fast latency {worst:?} < half a job ({job:?}, n={n}): /slow did not block"
    );
}

#[test]
fn two_workers_run_two_jobs_in_parallel() {
    let _guard = lock();
    let server = Server::start(&["--workers", "2", "--worker-priority", "normal", "--quiet"]);
    assert_parallel(&server);
}

#[test]
fn pipelined_jobs_of_one_connection_run_in_parallel() {
    let _guard = lock();
    let server = Server::start(&["--workers", "2", "--worker-priority", "normal", "--quiet"]);
    assert_parallel_pipelined(&server);
}
