//! The command line and stdout: `--help` and `--version` (exit 0), bad flags
//! and values (usage on stderr, exit 2), the `listening on http://IP:PORT`
//! line printed first, and the access log (one line per request unless
//! `--quiet`), and `--trace`'s turn blocks on stderr.

mod common;

use common::{run_eddy, Client, Server, IO_TIMEOUT};
use std::time::Duration;

#[test]
fn help_prints_usage_and_exits_0() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["serve", "--help"],
        &["call", "--help"],
    ] {
        let (status, out, _) = run_eddy(args);
        assert_eq!(status.code(), Some(0), "{args:?}: {status}");
        assert!(
            out.contains("serve") && out.contains("--workers") && out.contains("/metrics"),
            "{args:?} usage: {out:?}"
        );
    }
}

#[test]
fn version_prints_name_and_version() {
    let (status, out, _) = run_eddy(&["--version"]);
    assert_eq!(status.code(), Some(0), "{status}");
    assert_eq!(out.trim(), "eddy 0.1.0");
}

#[test]
fn bad_flags_and_values_exit_2_with_usage_on_stderr() {
    for args in [
        &["serve", "--bogus"][..],
        &["--bogus"],
        &["serve", "--workers"],
        &["serve", "--workers", "0"],
        &["serve", "--workers", "abc"],
        &["serve", "--addr", "not-an-address"],
        &["serve", "--addr", "unix:"],
        &["serve", "--worker-priority", "fast"],
        &["serve", "--max-body", "-5"],
    ] {
        let (status, out, err) = run_eddy(args);
        assert_eq!(
            status.code(),
            Some(2),
            "eddy {args:?}: {status}, stderr {err:?}"
        );
        assert!(!err.trim().is_empty(), "eddy {args:?}: nothing on stderr");
        assert!(
            !out.contains("listening on"),
            "eddy {args:?} started serving: {out:?}"
        );
    }
    // One line saying what is wrong and a pointer to the rest, not the
    // whole help.
    let (_, _, err) = run_eddy(&["serve", "--bogus"]);
    assert_eq!(
        err,
        "eddy: unknown argument \"--bogus\"\nTry 'eddy --help' for the options."
    );
    let (_, _, err) = run_eddy(&["serve", "--quiet=1"]);
    assert!(err.starts_with("eddy: --quiet takes no value"), "{err:?}");
}

#[test]
fn an_address_that_does_not_resolve_says_why_and_exits_3() {
    let (status, out, err) = run_eddy(&["serve", "--addr", "nosuchhost.invalid:20200"]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(!out.contains("listening"), "{out}");
    // The resolver's own words follow the name.
    assert!(
        err.starts_with("eddy: cannot resolve nosuchhost.invalid:20200: "),
        "{err:?}"
    );
    let (status, _, err) = run_eddy(&["call", "slow", "--addr", "nosuchhost.invalid:20200"]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("cannot resolve"), "{err:?}");
}

#[test]
fn listening_line_comes_first() {
    let server = Server::start(&[]);
    let first = server.stdout.snapshot()[0].clone();
    assert_eq!(first, format!("listening on http://{}", server.addr));
    assert!(first.starts_with("listening on http://127.0.0.1:"));
    assert_ne!(server.addr.port(), 0, "printed port 0, not the bound one");
}

#[test]
fn quiet_prints_no_access_log() {
    let mut server = Server::start(&["--quiet"]);
    assert_eq!(common::get(server.addr, "/fast?id=8").status, 200);
    server.signal("TERM");
    let status = server.wait_exit(IO_TIMEOUT).expect("exit after SIGTERM");
    assert!(
        server.stdout.wait_eof(Duration::from_secs(10)),
        "stdout still open"
    );
    let lines = server.stdout.snapshot();
    assert!(
        !lines.iter().any(|l| l.contains("/fast?id=8")),
        "--quiet logged the request: {lines:?} (exit {status})"
    );
}

#[test]
fn trace_prints_a_block_per_turn_with_what_each_request_became() {
    let s = Server::start(&["--quiet", "--trace"]);
    let mut c = Client::connect(s.addr);
    assert_eq!(c.get("/fast?id=3").text(), "fast result 3");
    let asked = s
        .stderr
        .wait_for(IO_TIMEOUT, |l| l.contains("GET /fast?id=3 → inline 200"));
    assert!(asked.is_some(), "stderr: {:?}", s.stderr.snapshot());
    let lines = s.stderr.snapshot();
    // The request's line sits in a turn's block, after the event that
    // brought it and before what the connection then waits for.
    let at = lines
        .iter()
        .position(|l| l.contains("GET /fast?id=3"))
        .unwrap();
    let block_start = lines[..at]
        .iter()
        .rposition(|l| l.starts_with("turn "))
        .unwrap();
    let block = &lines[block_start..];
    assert!(
        block.iter().any(|l| l.contains("poll: slept")),
        "{block:#?}"
    );
    assert!(block.iter().any(|l| l.contains("readable")), "{block:#?}");
    let after = s.stderr.wait_for(IO_TIMEOUT, |l| {
        l.contains("wrote") && l.contains("idle deadline")
    });
    assert!(after.is_some(), "stderr: {:?}", s.stderr.snapshot());
}
