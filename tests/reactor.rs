//! The reactor on its own, turn by turn, with toy handlers: the echo server
//! of `examples/echo.rs` (included from there, so the example is what is
//! tested) and a probe that only counts. Each test pins one of the loop's
//! rules through `Reactor::turn`, deterministically: no sleeps, every wait
//! bounded by a turn's `max_wait`.

#[path = "../examples/echo.rs"]
mod echo;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use echo::{Echo, LISTENER};
use eddy::reactor::{Fired, Handler, Reactor, TokenTable};
use mio::event::Event;
use mio::net::TcpListener;
use mio::{Interest, Token};

/// Long enough that a turn which sleeps it out is unmistakable.
const LONG: Duration = Duration::from_secs(5);

fn echo_server() -> (Reactor<Echo>, Echo, std::net::SocketAddr) {
    let reactor = Reactor::new().unwrap();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    reactor
        .registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let echo = Echo {
        listener,
        clients: TokenTable::default(),
    };
    (reactor, echo, addr)
}

#[test]
fn the_echo_example_echoes_turn_by_turn() {
    let (mut reactor, mut echo, addr) = echo_server();
    let mut client = TcpStream::connect(addr).unwrap();
    client.write_all(b"hello, reactor").unwrap();
    client.set_nonblocking(true).unwrap();
    let mut got = Vec::new();
    for _ in 0..20 {
        reactor.turn(&mut echo, Some(LONG)).unwrap();
        let mut buf = [0; 64];
        match client.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
        if got.len() == 14 {
            break;
        }
    }
    assert_eq!(got, b"hello, reactor");
    assert_eq!(echo.clients.len(), 1);
    drop(client);
    // The close is an event too: the client leaves the table.
    for _ in 0..5 {
        reactor.turn(&mut echo, Some(LONG)).unwrap();
        if echo.clients.is_empty() {
            return;
        }
    }
    panic!("the closed client is still in the table");
}

#[test]
fn callbacks_queued_before_a_turn_all_run_in_it_on_one_wake() {
    let (mut reactor, mut echo, _) = echo_server();
    let ran = Arc::new(AtomicUsize::new(0));
    let handle = reactor.handle();
    for _ in 0..3 {
        let ran = Arc::clone(&ran);
        let from_another_thread = std::thread::spawn({
            let handle = handle.clone();
            move || {
                handle
                    .add_callback(move |_, _| {
                        ran.fetch_add(1, Ordering::SeqCst);
                    })
                    .unwrap()
            }
        });
        from_another_thread.join().unwrap();
    }
    let turn = reactor.turn(&mut echo, Some(LONG)).unwrap();
    // Three wakes coalesced into one event: a loop that ran one callback
    // per wake would have run one here.
    assert_eq!((turn.callbacks, turn.wakes), (3, 1), "{turn:?}");
    assert_eq!(ran.load(Ordering::SeqCst), 3);
}

#[test]
fn a_callback_queued_by_a_callback_runs_in_the_next_turn() {
    let (mut reactor, mut echo, _) = echo_server();
    let inner_ran = Arc::new(AtomicUsize::new(0));
    let flag = Arc::clone(&inner_ran);
    reactor
        .handle()
        .add_callback(move |_, reactor| {
            let flag = Arc::clone(&flag);
            reactor
                .handle()
                .add_callback(move |_, _| {
                    flag.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
        })
        .unwrap();
    let first = reactor.turn(&mut echo, Some(LONG)).unwrap();
    assert_eq!(
        first.callbacks, 1,
        "only the one queued before the turn: {first:?}"
    );
    assert_eq!(
        inner_ran.load(Ordering::SeqCst),
        0,
        "the inner one waits a turn"
    );
    let second = reactor.turn(&mut echo, Some(LONG)).unwrap();
    assert_eq!(second.callbacks, 1, "{second:?}");
    assert_eq!(inner_ran.load(Ordering::SeqCst), 1);
    // And it was not made to wait: the turn in between did not sleep.
    assert!(first.slept < LONG / 5, "{first:?}");
}

/// Counts what fires, and re-queues one `call_soon` from inside one.
#[derive(Default)]
struct Probe {
    fired: Vec<(&'static str, bool)>,
}

impl Handler for Probe {
    type Timer = &'static str;
    type Message = ();
    fn ready(&mut self, _: &mut Reactor<Self>, _: Token, _: &Event) {}
    fn timer(&mut self, reactor: &mut Reactor<Self>, fired: Fired<&'static str>) {
        self.fired.push((fired.what, fired.key.is_some()));
        if fired.what == "soon" {
            reactor.call_soon("soon again");
        }
    }
}

#[test]
fn timers_fire_once_when_due_cancelled_ones_never_and_call_soon_next_turn() {
    let mut reactor = Reactor::new().unwrap();
    let mut probe = Probe::default();
    let started = Instant::now();
    reactor.call_later(Duration::from_millis(30), "due");
    let cancelled = reactor.call_later(Duration::from_millis(10), "cancelled");
    reactor.cancel(cancelled);
    reactor.call_soon("soon");
    // Turn 1 runs the call_soon first thing; the one it queues waits, and
    // the turn's poll does not sleep because of it.
    let first = reactor.turn(&mut probe, Some(LONG)).unwrap();
    assert_eq!(probe.fired, [("soon", false)]);
    assert_eq!(first.soon, 1);
    assert!(first.slept < LONG / 5, "{first:?}");
    let second = reactor.turn(&mut probe, Some(LONG)).unwrap();
    assert_eq!(second.soon, 1);
    // Then the loop sleeps until the 30 ms timer, and no longer.
    while !probe.fired.iter().any(|(what, _)| *what == "due") {
        reactor.turn(&mut probe, Some(LONG)).unwrap();
        assert!(started.elapsed() < LONG, "the timer never fired");
    }
    assert!(started.elapsed() >= Duration::from_millis(30));
    let names: Vec<_> = probe.fired.iter().map(|(what, _)| *what).collect();
    assert_eq!(names, ["soon", "soon again", "due"]);
    assert!(probe.fired[2].1, "a timer comes with its key");
    // That every fired timer's lateness is kept in the loop-lag histogram
    // is checked in src/reactor/mod.rs: the histogram is not public API.
}

/// Writes down, in order, each thing the reactor asked of it.
#[derive(Default)]
struct Order {
    seen: Vec<&'static str>,
}

impl Handler for Order {
    type Timer = &'static str;
    type Message = ();
    fn ready(&mut self, _: &mut Reactor<Self>, _: Token, _: &Event) {
        self.seen.push("event");
    }
    fn timer(&mut self, _: &mut Reactor<Self>, fired: Fired<&'static str>) {
        self.seen.push(fired.what);
    }
}

#[test]
fn one_turn_runs_callbacks_then_call_soons_then_due_timers_then_events() {
    let mut reactor = Reactor::new().unwrap();
    let mut order = Order::default();
    // One of each, all waiting before the turn, queued in the wrong order:
    // a readable socket, a timer due now, a `call_soon`, and a callback
    // from another thread.
    let (mut ours, mut theirs) = mio::net::UnixStream::pair().unwrap();
    reactor
        .registry()
        .register(&mut ours, Token(0), Interest::READABLE)
        .unwrap();
    theirs.write_all(b"!").unwrap();
    reactor.call_at(Instant::now(), "timer");
    reactor.call_soon("soon");
    let handle = reactor.handle();
    std::thread::spawn(move || {
        handle
            .add_callback(|order: &mut Order, _| order.seen.push("callback"))
            .unwrap()
    })
    .join()
    .unwrap();
    let turn = reactor.turn(&mut order, Some(LONG)).unwrap();
    // Tornado's order: what was queued before the turn, then what is due,
    // then the poll and what it found — so a finished job's answer is out
    // before the loop sleeps, and the poll's timeout is the next deadline
    // still ahead.
    assert_eq!(
        order.seen,
        ["callback", "soon", "timer", "event"],
        "{turn:?}"
    );
    // The socket's event and the Waker's came in the poll of the same turn.
    assert_eq!((turn.events, turn.wakes), (2, 1), "{turn:?}");
}
