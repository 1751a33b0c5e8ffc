//! `--trace`: what each turn did, written for a person learning the loop.
//!
//! The reactor collects a block of lines per turn (`Reactor::trace`) and
//! writes it at the turn's end; the reactor's own lines say which step of
//! the turn it is in (callbacks, timers, poll), and the server's say what
//! each step meant: which connection was ready, which request it held and
//! who answered it, what was written, what the connection waits for now.
//! These helpers format the server's lines. They run only while tracing.

use std::time::{Duration, Instant};

use mio::event::Event;
use mio::Interest;

use super::ConnId;
use crate::connection::{Connection, Driven, Phase};
use crate::reactor::Span;
use crate::transport::{Life, Transport};

/// What an event said: `readable`, `writable`, `readable, writable`, ...
pub(crate) fn readiness(event: &Event) -> &'static str {
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

/// The line after a drive: what it read, decoded and wrote (whatever was
/// not zero), and what the connection now waits for — its interest and its
/// deadline — or that it closes.
pub(crate) fn driven<T: Transport>(id: ConnId, driven: &Driven, conn: &Connection<T>) -> String {
    let mut parts: Vec<String> = Vec::new();
    if driven.read > 0 {
        parts.push(format!("read {} B", driven.read));
    }
    if driven.requests > 0 {
        parts.push(format!("{} request(s)", driven.requests));
    }
    if driven.written > 0 {
        parts.push(format!("wrote {} B", driven.written));
    }
    match conn.state() {
        (Life::Closed, _) => parts.push("closing".into()),
        (life, phase) => {
            let interest = if conn.interest() == Interest::READABLE {
                "R"
            } else {
                "RW"
            };
            parts.push(format!("interest {interest}"));
            match conn.deadline() {
                Some((kind, at)) => {
                    let kind = kind.name();
                    parts.push(format!("{kind} deadline in {}", Span(from_now(at))));
                }
                None => parts.push("no deadline".into()),
            }
            match (life, phase) {
                (Life::Lingering { .. }, _) => parts.push("lingering".into()),
                (_, Some(Phase::Serving)) => {}
                (_, Some(Phase::Draining { .. })) => parts.push("draining".into()),
                (_, Some(Phase::Closing(why))) => parts.push(format!("closing: {why:?}")),
                (_, Some(Phase::Switching)) => parts.push("switching protocols".into()),
                (_, None) => parts.push("upgraded".into()),
            }
        }
    }
    if driven.cut_short {
        parts.push("cut short: again next turn".into());
    }
    let mut line = format!("    conn {id}: ");
    line.push_str(&parts.join(", "));
    line.push('\n');
    line
}

/// How long until `at` (zero if it passed).
pub(crate) fn from_now(at: Instant) -> Duration {
    at.saturating_duration_since(Instant::now())
}
