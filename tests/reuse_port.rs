//! `--reuse-port`: two eddy processes bound to one port both receive
//! traffic, and without the flag the second bind is refused.

mod common;

use std::time::Duration;

use common::Server;

#[test]
fn two_processes_share_a_port_and_both_serve() {
    let first = Server::start(&["--reuse-port"]);
    let port = first.addr.port().to_string();
    let addr = format!("127.0.0.1:{port}");
    // A later --addr overrides the harness's 127.0.0.1:0.
    let second = Server::start(&["--reuse-port", "--addr", &addr]);
    assert_eq!(second.addr, first.addr);

    // The kernel picks a listener per connection by hashing its addresses;
    // fresh connections (fresh source ports) land on both. 64 of them all
    // landing on one listener would happen with probability 2^-63.
    for id in 0..64 {
        let response = common::get(first.addr, &format!("/fast?id={id}"));
        assert_eq!(response.text(), format!("fast result {id}"));
    }
    for server in [&first, &second] {
        let served = server
            .stdout
            .wait_for(Duration::from_secs(10), |l| l.contains("\"GET /fast?id="));
        assert!(
            served.is_some(),
            "one process on port {port} served nothing"
        );
    }
}

#[test]
fn without_reuse_port_the_second_bind_fails() {
    let first = Server::start(&["--quiet"]);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(["serve", "--quiet", "--addr", &first.addr.to_string()])
        .output()
        .expect("run eddy");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot listen"), "{stderr}");
}
