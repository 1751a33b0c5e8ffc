//! No thread is started that the program did not ask for: a server whose
//! routes all run inline starts no worker; one with an offloaded route
//! starts `workers` of them. (A file of its own: it counts this process's
//! threads, and other tests' servers would be counted too.)

use eddy::{inline, offload, Config, Job, Response, Router, Server, StatusCode};

/// Threads of this process. A thread is listed from the moment it is
/// created (its name comes a little later), so a count right after `bind`
/// sees every thread `bind` started.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn workers_start_only_when_a_route_offloads() {
    let config = || Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        workers: 3,
        ..Config::default()
    };
    let before = threads();
    let inline_only = Router::new().get("/", inline(|_, _| Response::text(StatusCode::OK, "ok")));
    let quiet = Server::bind(config(), inline_only).unwrap();
    assert_eq!(threads(), before, "an inline-only server started threads");
    drop(quiet);
    let offloading = Router::new().get(
        "/job",
        offload(|_, _| Ok(Job::new(|_| Response::text(StatusCode::OK, "done")))),
    );
    let busy = Server::bind(config(), offloading).unwrap();
    assert_eq!(threads(), before + 3, "three workers, no other thread");
    drop(busy);
}
