//! `--trace` is for a person reading along, so it says only what happened:
//! no line while the server is idle (the loop still wakes for its 250 ms
//! heartbeat, but a turn that only slept writes nothing), no heartbeat
//! lines at all, and each turn's header dated in milliseconds since the
//! server started (`turn 12 at 1534.201 ms`), never a raw `Instant`.

mod common;

use common::{Client, Server, IO_TIMEOUT};
use std::time::Duration;

/// A window in which an idle server may write no trace line: nearly five
/// heartbeats, each of which used to write a block of its own.
const QUIET: Duration = Duration::from_millis(1200);

/// Waits out `QUIET` and returns the lines `server` wrote on stderr in it.
/// A sleep, not a wait for an event: what it checks is that none comes.
fn lines_in_a_quiet_window(server: &Server) -> Vec<String> {
    let before = server.stderr.snapshot().len();
    std::thread::sleep(QUIET);
    server.stderr.snapshot().split_off(before)
}

/// `turn N at T ms`, with N a number and T milliseconds with three decimals.
fn is_a_turn_header(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("turn ") else {
        return false;
    };
    let Some((number, at)) = rest.split_once(" at ") else {
        return false;
    };
    let Some((whole, decimals)) = at.strip_suffix(" ms").and_then(|t| t.split_once('.')) else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(number) && digits(whole) && digits(decimals) && decimals.len() == 3
}

#[test]
fn the_trace_is_silent_while_idle_and_dates_each_turn_in_milliseconds() {
    let s = Server::start(&["--quiet", "--trace"]);
    let idle = lines_in_a_quiet_window(&s);
    assert!(idle.is_empty(), "an idle server traced {idle:#?}");

    let mut c = Client::connect(s.addr);
    assert_eq!(c.get("/fast?id=3").text(), "fast result 3");
    drop(c);
    // The request's turn, then the close's: the last line the exchange
    // causes is the connection's end.
    let closed = s.stderr.wait_for(IO_TIMEOUT, |l| l.ends_with(": closed"));
    assert!(closed.is_some(), "stderr: {:#?}", s.stderr.snapshot());
    let after = lines_in_a_quiet_window(&s);
    assert!(after.is_empty(), "traced while idle again: {after:#?}");

    let lines = s.stderr.snapshot();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("GET /fast?id=3 → inline 200")),
        "{lines:#?}"
    );
    for line in &lines {
        assert!(!line.contains("heartbeat"), "{line:?} in {lines:#?}");
        assert!(!line.contains("Instant {"), "{line:?} in {lines:#?}");
        if line.starts_with("turn") {
            assert!(is_a_turn_header(line), "{line:?} in {lines:#?}");
        }
    }
    // Every block has its header: the first line is one.
    assert!(
        lines.first().is_some_and(|l| is_a_turn_header(l)),
        "{lines:#?}"
    );
}

#[test]
fn the_header_check_knows_a_header() {
    assert!(is_a_turn_header("turn 12 at 1534.201 ms"));
    assert!(is_a_turn_header("turn 1 at 0.000 ms"));
    for not in [
        "turn 12",
        "turn 12 at Instant { tv_sec: 1, tv_nsec: 2 }",
        "turn 12 at 1.534 s",
        "turn 12 at 1534.2 ms",
        "turn x at 1534.201 ms",
        "  turn 12 at 1534.201 ms",
    ] {
        assert!(!is_a_turn_header(not), "{not:?}");
    }
}
