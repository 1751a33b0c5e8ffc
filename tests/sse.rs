//! Server-sent events over real sockets: a stream that outlives the idle
//! timeout while it waits for news, the write-stall deadline cutting one
//! whose client stopped reading, a client that leaves stopping its
//! producer, and `examples/sse.rs` ticking and saying goodbye on a drain.
//!
//! The first two run over plain TCP and over TLS (`both_transports!`:
//! `NAME::plain`, `NAME::tls`); the example serves plain HTTP only.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::{both_transports, read_chunk, Client, Example, IO_TIMEOUT};
use eddy::sse::{event_stream, Event};
use eddy::{inline, Config, Response, Router, StatusCode};

/// The next event's text, as its chunk carries it; `None` at the end.
fn next_event(c: &mut Client) -> Option<String> {
    read_chunk(&mut c.reader)
        .unwrap()
        .map(|data| String::from_utf8(data).unwrap())
}

both_transports! {
    fn an_event_stream_outlives_the_idle_timeout_but_not_a_client_that_stops_reading(wire) {
        // `gone` says when the flood's producer learned its client was cut off.
        let gone = Arc::new(AtomicBool::new(false));
        let flood_gone = Arc::clone(&gone);
        let router = Router::new()
            .get(
                "/events",
                inline(move |_, _| {
                    let (answer, mut events) = event_stream();
                    std::thread::spawn(move || {
                        events.send(&Event::new("first").id("1")).unwrap();
                        // Silent for several idle timeouts, then news.
                        let _ = events.wait_drain(Duration::from_millis(1500));
                        events.send(&Event::new("second").named("late")).unwrap();
                        events.close().unwrap();
                    });
                    answer
                }),
            )
            .get(
                "/flood",
                inline(move |_, _| {
                    let (answer, mut events) = event_stream();
                    let gone = Arc::clone(&flood_gone);
                    std::thread::spawn(move || {
                        let big = Event::new("x".repeat(16 * 1024));
                        while events.send(&big).is_ok() {}
                        gone.store(true, Ordering::SeqCst);
                    });
                    answer
                }),
            )
            .get(
                "/after",
                inline(|_, _| Response::text(StatusCode::OK, "after")),
            );
        let config = Config {
            idle_timeout: Duration::from_millis(300),
            ..Config::default()
        };
        let addr = common::serve_in_process_over(wire, router, config).addr;

        let mut c = wire.connect(addr);
        c.send(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
        // The head alone: the body is read event by event below.
        let head = c.head_response();
        assert_eq!((head.version.as_str(), head.status), ("HTTP/1.1", 200));
        assert_eq!(head.header("content-type"), Some("text/event-stream"));
        assert_eq!(head.header("transfer-encoding"), Some("chunked"));
        assert_eq!(head.header("cache-control"), Some("no-store"));
        assert_eq!(
            next_event(&mut c).as_deref(),
            Some("id: 1\ndata: first\n\n")
        );
        // 1.5 s of silence, five idle timeouts: the stream is still there.
        assert_eq!(
            next_event(&mut c).as_deref(),
            Some("event: late\ndata: second\n\n")
        );
        assert_eq!(next_event(&mut c), None, "closed well: the last chunk");
        assert_eq!(
            c.get("/after").text(),
            "after",
            "and the connection goes on"
        );

        // A client that never reads: the write-stall deadline cuts it, and its
        // producer hears.
        let mut stalled = wire.connect(addr);
        stalled.send(b"GET /flood HTTP/1.1\r\nHost: x\r\n\r\n");
        let cut = common::wait_until(IO_TIMEOUT, || gone.load(Ordering::SeqCst));
        assert!(cut, "a client that stopped reading held its stream open");
        drop(stalled);
    }
}

both_transports! {
    fn a_client_that_leaves_stops_its_event_producer(wire) {
        let (gone_tx, gone_rx) = mpsc::channel::<()>();
        let gone_tx = std::sync::Mutex::new(gone_tx);
        let router = Router::new().get(
            "/events",
            inline(move |_, _| {
                let (answer, mut events) = event_stream();
                let gone = gone_tx.lock().unwrap().clone();
                std::thread::spawn(move || {
                    // A tick every 20 ms until the send fails.
                    while events.wait_drain(Duration::from_millis(20)).is_ok() {
                        if events.send(&Event::new("tick")).is_err() {
                            break;
                        }
                    }
                    let _ = gone.send(());
                });
                answer
            }),
        );
        let addr = common::serve_in_process_over(wire, router, Config::default()).addr;
        let mut c = wire.connect(addr);
        c.send(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
        c.head_response();
        assert_eq!(next_event(&mut c).as_deref(), Some("data: tick\n\n"));
        drop(c);
        assert!(
            gone_rx.recv_timeout(IO_TIMEOUT).is_ok(),
            "the producer outlived its client"
        );
    }
}

#[test]
fn the_sse_example_ticks_and_says_goodbye_when_the_server_drains() {
    let mut app = Example::start("sse", &["--addr", "127.0.0.1:0"]);
    let mut c = Client::connect(app.addr);
    // A second client, connected and idle when the drain begins.
    let mut late = Client::connect(app.addr);
    c.send(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = c.head_response();
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert_eq!(
        next_event(&mut c).as_deref(),
        Some("id: 1\ndata: tick 1\n\n")
    );
    assert_eq!(
        next_event(&mut c).as_deref(),
        Some("id: 2\ndata: tick 2\n\n")
    );
    app.signal("TERM");
    // Ticks may cross the signal; the goodbye comes next, then the end.
    let mut last = next_event(&mut c);
    while last.as_deref().is_some_and(|e| e.contains("tick")) {
        last = next_event(&mut c);
    }
    let bye = Some("event: bye\ndata: the server is shutting down\n\n");
    assert_eq!(last.as_deref(), bye);
    assert_eq!(next_event(&mut c), None);
    // A stream asked for during the drain (within its grace, on a
    // connection that will close) hears of it at once: its first event is
    // the goodbye, not a tick a second later.
    late.send(b"GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    late.head_response();
    assert_eq!(next_event(&mut late).as_deref(), bye);
    let exit = common::wait_child(&mut app.child, IO_TIMEOUT).expect("it exits after the drain");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn answers_pipelined_behind_an_event_stream_wait_unmade_not_piled_up() {
    // Each `/big` answer is 1 MiB; the connection's output bound is 1 MiB.
    // Answers queued behind a stream that may never end count against it,
    // so the server stops decoding instead of making 60 of them.
    let made = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&made);
    let router = Router::new()
        .get(
            "/events",
            inline(|_, _| {
                let (answer, mut events) = event_stream();
                std::thread::spawn(move || {
                    while events.send(&Event::new("tick")).is_ok() {
                        if events.wait_drain(Duration::from_millis(50)).is_err() {
                            break;
                        }
                    }
                });
                answer
            }),
        )
        .get(
            "/big",
            inline(move |_, _| {
                counted.fetch_add(1, Ordering::SeqCst);
                Response::text(StatusCode::OK, vec![b'b'; 1 << 20])
            }),
        )
        .get("/sync", inline(|_, _| Response::text(StatusCode::OK, "ok")));
    let addr = common::serve_in_process(router, Config::default()).addr;
    let mut c = Client::connect(addr);
    let mut pipelined = b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    for _ in 0..60 {
        pipelined.extend_from_slice(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    c.send(&pipelined);
    c.head_response();
    assert_eq!(next_event(&mut c).as_deref(), Some("data: tick\n\n"));
    // Turns after the one that read the batch: it has been decoded as far
    // as it will be.
    for _ in 0..3 {
        assert_eq!(Client::connect(addr).get("/sync").text(), "ok");
    }
    let made = made.load(Ordering::SeqCst);
    assert!(made <= 2, "{made} answers of 1 MiB made behind the stream");
}
