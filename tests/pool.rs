//! The worker pool under panics: a panicking job (`/fail`) costs exactly one
//! 500 whose body names the panic message, the connection and server go on,
//! and the pool keeps its full number of workers (two jobs still run in
//! parallel afterwards). The parallel check burns CPU and measures time, so
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
    // Unless the server announced a close, the connection is still usable.
    if r.closes() {
        c.assert_closed();
    } else {
        let r = c.get("/fast?id=4");
        assert_eq!((r.status, r.text().as_str()), (200, "fast result 4"));
    }
    let r = get(server.addr, "/healthz");
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
}

#[test]
fn pool_keeps_its_workers_after_panics() {
    let _guard = lock();
    let server = Server::start(&["--workers", "2", "--quiet"]);
    // More panics than workers: a pool that loses a thread per panic is empty.
    for id in 0..5 {
        let r = get(server.addr, &format!("/fail?id={id}"));
        assert_eq!(r.status, 500, "/fail?id={id}: {r:?}");
        assert!(r.text().contains(&format!("job {id} failed on purpose")));
    }
    assert_parallel(server.addr);
}
