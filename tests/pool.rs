//! The worker pool under panics: a panicking job (`/fail`) costs exactly one
//! 500 whose body names the panic message and one line on stderr (not Rust's
//! panic report, and a backtrace only with `--backtraces`), the connection
//! and server go on, and the pool keeps its full number of workers (two jobs
//! still run in parallel afterwards). The parallel check burns CPU and measures time, so
//! the tests here are serialized with `LOCK`.

mod common;

use common::{assert_parallel, assert_standard_headers, get, Client, Server};
use std::sync::{Mutex, MutexGuard};

/// Serializes the tests of this file so they don't compete for the cores.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn failing_job_answers_500_naming_the_panic() {
    let _guard = lock();
    let server = Server::start(&["--workers", "2", "--quiet"]);
    let mut c = Client::connect(server.addr);
    let r = c.get("/fail?id=3");
    assert_eq!(r.status, 500, "{r:?}");
    assert_standard_headers(&r, false);
    assert!(
        r.text().contains("job 3 failed on purpose"),
        "500 body does not name the panic: {:?}",
        r.text()
    );
    // A failed job is an answer like any other: the connection stays open
    // and serves the next request.
    assert!(!r.closes(), "a 500 closed the connection: {r:?}");
    let r = c.get("/fast?id=4");
    assert_eq!((r.status, r.text().as_str()), (200, "fast result 4"));
    let r = get(server.addr, "/healthz");
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
}

#[test]
fn pool_keeps_its_workers_after_panics() {
    let _guard = lock();
    let server = Server::start(&["--workers", "2", "--worker-priority", "normal", "--quiet"]);
    // More panics than workers: a pool that loses a thread per panic is empty.
    for id in 0..5 {
        let r = get(server.addr, &format!("/fail?id={id}"));
        assert_eq!(r.status, 500, "/fail?id={id}: {r:?}");
        assert!(r.text().contains(&format!("job {id} failed on purpose")));
    }
    assert_parallel(&server);
}

/// Everything on stderr after `count` `/fail`s (`/fail?id=0` first).
fn panic_lines(server: &Server, count: usize) -> Vec<String> {
    for id in 0..count {
        assert_eq!(get(server.addr, &format!("/fail?id={id}")).status, 500);
    }
    // The loop wrote each line before the answer, but the thread reading
    // stderr may not have seen the last one yet: wait for it.
    let last = format!("job {} failed on purpose", count - 1);
    let _ = server
        .stderr
        .wait_for(common::PROMPT, |l| l.contains(&last));
    server.stderr.snapshot()
}

#[test]
fn a_panicking_job_costs_one_line_on_stderr_not_rusts_report() {
    let _guard = lock();
    // RUST_BACKTRACE=1 would make Rust's own hook print (and resolve) a
    // backtrace for each panic: eddy's hook must not.
    let server = Server::start_with_env(&[("RUST_BACKTRACE", "1")], &["--workers", "1", "--quiet"]);
    let lines = panic_lines(&server, 3);
    assert_eq!(lines.len(), 3, "stderr: {lines:#?}");
    for (id, line) in lines.iter().enumerate() {
        let start = format!(
            "eddy: job {} on /fail panicked: job {id} failed on purpose (at src/demo.rs:",
            id + 1
        );
        assert!(
            line.starts_with(&start),
            "{line:?} does not start with {start:?}"
        );
    }
}

#[test]
fn backtraces_come_only_when_asked_for() {
    let _guard = lock();
    let server = Server::start(&["--workers", "1", "--quiet", "--backtraces"]);
    let first = panic_lines(&server, 1).join("\n");
    assert!(
        first.starts_with("eddy: job 1 on /fail panicked: job 0 failed on purpose"),
        "{first}"
    );
    // A resolved backtrace names the closure that panicked. Its lines were
    // written before the answer, but the thread reading stderr may not have
    // seen them yet.
    let frame = server
        .stderr
        .wait_for(common::PROMPT, |l| l.contains("demo::fail"));
    let text = server.stderr.snapshot().join("\n");
    assert!(frame.is_some(), "no backtrace in: {text}");
}
