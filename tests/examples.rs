//! The examples, run as a user would run them: `examples/api.rs` over real
//! sockets (every route and the custom 404, and its access log), and
//! `examples/embed.rs` to the end (its host log, its stop from code).

mod common;

use common::{example_path, Client, Example, IO_TIMEOUT};
use std::process::Command;

#[test]
fn the_api_example_routes_methods_parameters_and_a_custom_404() {
    let app = Example::start("api", &["--addr", "127.0.0.1:0"]);
    let (stdout, stderr) = (&app.stdout, &app.stderr);
    let mut c = Client::connect(app.addr);
    let r = c.get("/items/42");
    assert_eq!((r.status, r.text().as_str()), (200, "item 42"));
    c.send(b"POST /items HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    let r = c.response();
    assert_eq!((r.status, r.text().as_str()), (201, "got 5 bytes"));
    assert_eq!(r.header("location"), Some("/items/1"));
    c.send(b"DELETE /items/42 HTTP/1.1\r\nHost: a\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("content-length"),
        None,
        "a 204 has no Content-Length"
    );
    let r = c.get("/nowhere");
    assert_eq!((r.status, r.text().as_str()), (404, "no such page"));
    // A method the route lacks gets the error page, with its Allow.
    c.send(b"PUT /items HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    let r = c.response();
    assert_eq!((r.status, r.text().as_str()), (405, "405: no such page"));
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    // One access-log line per request, each with the client's address
    // (combined format: the IP, without the port).
    let me = format!("{} - - [", c.stream.local_addr().unwrap().ip());
    let logged = stdout.wait_for(IO_TIMEOUT, |l| l.contains("\"PUT /items HTTP/1.1\" 405"));
    assert!(logged.is_some(), "{:?}", stdout.snapshot());
    let lines = stdout.snapshot();
    assert_eq!(lines.len(), 6, "{lines:#?}");
    for line in &lines[1..] {
        assert!(line.starts_with(&me), "{line:?} does not start with {me}");
    }
    assert!(
        lines[3].contains("\"DELETE /items/42 HTTP/1.1\" 204 0 "),
        "{lines:#?}"
    );
    assert!(stderr.snapshot().is_empty(), "{:?}", stderr.snapshot());
}

#[test]
fn the_embed_example_runs_logs_through_its_host_and_stops_from_code() {
    let out = Command::new(example_path("embed"))
        .output()
        .expect("run examples/embed (built by `cargo test`; by `cargo build --examples` when tests are named)");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "host: /status says \"1 connection(s) open\"");
    assert_eq!(lines[1], "host: server stopped (Drained)");
    assert!(
        lines[2].starts_with("host log: access 127.0.0.1 - - ["),
        "{stdout}"
    );
    assert!(
        lines[2].contains("\"GET /status HTTP/1.1\" 200 20 "),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("host log: event eddy: draining")),
        "{stdout}"
    );
    // eddy itself printed nothing: the library's defaults.
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}
