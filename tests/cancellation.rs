//! Offloaded jobs that nobody waits for any more are stopped: a job past
//! `--job-timeout` is answered 504 (the keep-alive connection goes on) and
//! told to stop, and a client that disconnects gets its running job stopped
//! and its queued job skipped. With `--workers 1`, the proof that a job
//! stopped is that the single worker is free again: a tiny job sent next is
//! answered long before the abandoned one could have finished.
//!
//! The abandoned jobs are `common::LONGEST_JOB` (`n=20000`, ~23 s in this
//! build), so `common::PROMPT` (10 s) is under half of one. The tests burn
//! CPU until the job stops, so they are serialized with `LOCK`.

mod common;

use common::prometheus::{settled_jobs, Jobs};
use common::{
    assert_fast, assert_standard_headers, get_req, sync_with_loop, Client, Server, LONGEST_JOB,
    PROMPT,
};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Serializes the tests of this file so they don't compete for the cores.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Connects a client whose reads give up after `PROMPT`, so a server that
/// does not stop the abandoned job fails in `PROMPT`, not in a full job.
fn impatient_client(s: &Server) -> Client {
    let c = Client::connect(s.addr);
    c.stream.set_read_timeout(Some(PROMPT)).unwrap();
    c
}

/// Asks for a zero-size job with the given id on `c` and asserts it is
/// answered 200 within `PROMPT`: the only worker was free to take it.
fn assert_worker_free(c: &mut Client, id: u32) {
    let t0 = Instant::now();
    c.send_get(&format!("/slow_threaded?id={id}&n=0"));
    let r = common::read_response(&mut c.reader, false);
    let took = t0.elapsed();
    let r =
        r.unwrap_or_else(|e| panic!("n=0 job unanswered after {took:?} ({e}): worker still busy"));
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.text().starts_with(&format!("slow result {id} <--- ")),
        "{r:?}"
    );
    assert!(took < PROMPT, "n=0 job took {took:?}: worker still busy");
}

/// Asserts the server has not reported a panic on stderr.
fn assert_no_panic(s: &Server) {
    let stderr = s.stderr.snapshot();
    assert!(
        !stderr.iter().any(|l| l.contains("panicked")),
        "server panicked: {stderr:?}"
    );
}

#[test]
fn job_timeout_answers_504_and_frees_the_worker() {
    let _guard = lock();
    let s = Server::start(&["--workers", "1", "--job-timeout", "0.5", "--quiet"]);
    let mut c = impatient_client(&s);
    let t0 = Instant::now();
    // A pipelined /fast behind the job: answered after the 504, in order.
    c.send(format!("{}{}", get_req(LONGEST_JOB), get_req("/fast?id=2")).as_bytes());
    let r = c.response();
    let took = t0.elapsed();
    assert_eq!(r.status, 504, "{r:?}");
    assert_standard_headers(&r, false);
    assert!(!r.closes(), "504 closed the keep-alive connection: {r:?}");
    assert!(
        took >= Duration::from_millis(450),
        "504 after {took:?}, before the 0.5 s timeout"
    );
    assert!(took < PROMPT, "504 only after {took:?}");
    assert_fast(&c.response(), 2);
    // The same connection, and the only worker, serve the next job.
    assert_worker_free(&mut c, 3);
    assert_no_panic(&s);
    // Counted once, as timed out: not again as cancelled when the stopped
    // job came back.
    let jobs = settled_jobs(&s);
    assert_eq!(
        (
            jobs.submitted,
            jobs.timed_out,
            jobs.cancelled,
            jobs.completed
        ),
        (2, 1, 0, 1),
        "{jobs:?}"
    );
}

#[test]
fn client_gone_stops_its_running_job() {
    assert_leaving_stops_the_job(drop);
}

#[test]
fn half_close_during_a_job_stops_it_too() {
    // TCP cannot tell a half-close from a close until it writes: a FIN
    // while the job runs counts as the client leaving (nginx's 499).
    assert_leaving_stops_the_job(|mut a| {
        a.stream.shutdown(std::net::Shutdown::Write).unwrap();
        a.assert_closed();
    });
}

/// One client starts the longest job on the only worker, then `leave`s; the
/// job must stop (the worker is free for the next one) and be counted as
/// cancelled.
fn assert_leaving_stops_the_job(leave: impl FnOnce(Client)) {
    let _guard = lock();
    let s = Server::start(&["--workers", "1", "--quiet"]);
    let mut a = Client::connect(s.addr);
    a.send_get(LONGEST_JOB);
    // The server has read the request (and so submitted the job) before
    // the client leaves.
    sync_with_loop(s.addr);
    leave(a);
    assert_worker_free(&mut impatient_client(&s), 2);
    assert_no_panic(&s);
    assert_cancelled(&s, 1);
}

#[test]
fn client_gone_skips_its_queued_job() {
    let _guard = lock();
    let s = Server::start(&["--workers", "1", "--quiet"]);
    // A's job takes the worker (or waits for it), B's waits behind it.
    let mut a = Client::connect(s.addr);
    a.send_get(LONGEST_JOB);
    let mut b = Client::connect(s.addr);
    b.send_get(&LONGEST_JOB.replace("id=1", "id=2"));
    sync_with_loop(s.addr);
    drop(b);
    drop(a);
    // Running B's job after A's stopped would keep the worker busy too.
    assert_worker_free(&mut impatient_client(&s), 3);
    assert_no_panic(&s);
    assert_cancelled(&s, 2);
}

/// `/metrics` counts the `abandoned` jobs as cancelled (and the `n=0` job
/// that proved the worker free as completed), nothing else.
fn assert_cancelled(s: &Server, abandoned: u64) {
    let jobs = settled_jobs(s);
    let expected = Jobs {
        submitted: abandoned + 1,
        completed: 1,
        cancelled: abandoned,
        ..Jobs::default()
    };
    assert_eq!(jobs, expected);
}
