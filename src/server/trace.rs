//! `--trace`: what each turn did, written for a person learning the loop.
//!
//! The reactor collects a block of lines per turn (`Reactor::trace`) and
//! writes it at the turn's end; the reactor's own lines say which step of
//! the turn it is in (callbacks, timers, poll), and the server's say what
//! each step meant: which connection was ready, which request it held and
//! who answered it, what was written, what the connection waits for now.
//! These helpers format the server's lines. They run only while tracing.

use std::fmt::Write as _;

use mio::event::Event;
use mio::Interest;

use super::http::from_now;
use super::ConnId;
use crate::connection::{Connection, Driven, Phase, Stream};
use crate::reactor::Millis;

/// What an event said: `readable`, `writable`, `readable, writable`, ...
pub(super) fn readiness(event: &Event) -> &'static str {
    match (
        event.is_readable(),
        event.is_writable(),
        event.is_read_closed(),
    ) {
        (_, _, true) => "readable (peer closed)",
        (true, true, _) => "readable, writable",
        (true, false, _) => "readable",
        (false, true, _) => "writable",
        (false, false, _) => "ready (error)",
    }
}

/// The line after a drive: bytes read and written, and what the connection
/// now waits for (its interest and its deadline), or that it closes.
pub(super) fn driven<S: Stream>(id: ConnId, driven: &Driven, conn: &Connection<S>) -> String {
    let mut line = format!(
        "    conn {id}: read {} B, {} request(s), wrote {} B",
        driven.read, driven.requests, driven.written
    );
    match conn.phase() {
        Phase::Closed => line.push_str("; closing"),
        phase => {
            let interest = if conn.interest() == Interest::READABLE {
                "R"
            } else {
                "RW"
            };
            let _ = write!(line, "; interest {interest}");
            if let Some((kind, at)) = conn.deadline() {
                let _ = write!(line, "; {kind:?} deadline in {}", Millis(from_now(at)));
            }
            if !matches!(phase, Phase::Serving) {
                let _ = write!(line, "; {phase:?}");
            }
        }
    }
    if driven.cut_short {
        line.push_str("; cut short: again next turn");
    }
    line.push('\n');
    line
}
