//! Streamed answers, in-process, over real sockets: a body produced on a
//! worker (`Job::stream`) or pushed from any thread (`Response::streamed`)
//! goes out chunked, with a known length, or to the close (HTTP/1.0); the
//! answers pipelined behind it still leave in order; a producer that fails
//! leaves the client an answer it can tell is incomplete; a slow reader
//! holds its producer back instead of filling the server's memory; a
//! client that leaves stops its producer and leaks nothing; the idle
//! timeout cuts a silent stream but not a live one; a drain lets streams
//! finish (or cuts them at its timeout).
//!
//! All but the failures, the HEAD and the thousand abandoned streams run
//! over plain TCP and over TLS (`both_transports!`: `NAME::plain`,
//! `NAME::tls`): over TLS a full socket holds back ciphertext the session
//! has already sealed, and a body that ends at the close must end with
//! `close_notify`.

mod common;

use common::{both_transports, read_response, Client, Wire, IO_TIMEOUT};
use std::io::{BufRead, ErrorKind, Read};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use eddy::{inline, offload, Config, Exit, Job, Response, Router, ServerHandle, StatusCode};

/// A running in-process server.
struct Running {
    addr: SocketAddr,
    /// What it speaks.
    wire: Wire,
    handle: ServerHandle,
    serving: JoinHandle<std::io::Result<Exit>>,
    /// The server's events (panic lines), as text.
    events: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// A new connection, over the server's wire.
    fn connect(&self) -> Client {
        self.wire.connect(self.addr)
    }
}

fn serve(wire: Wire, router: Router, config: Config) -> Running {
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&events);
    let config = Config {
        workers: 2,
        events: Some(Arc::new(move |e| sink.lock().unwrap().push(e.to_string()))),
        ..config
    };
    let served = common::serve_in_process_over(wire, router, config);
    Running {
        addr: served.addr,
        wire,
        handle: served.handle,
        serving: served.serving,
        events,
    }
}

fn text(status: u16, body: &str) -> Response {
    Response::text(StatusCode(status), body.to_string())
}

fn lines(n: usize) -> String {
    (0..n).map(|i| format!("line {i}\n")).collect()
}

/// `/lines?n=N`: N lines, written one send each by a job, chunked.
fn lines_route() -> eddy::Route {
    offload(|req, _| {
        let n: usize = req
            .query_param("n")
            .and_then(|v| v.parse().ok())
            .unwrap_or(100);
        Ok(Job::stream(move |_, head| {
            let mut body = head.start(Response::new(StatusCode::OK), None);
            for i in 0..n {
                if body.send(format!("line {i}\n").as_bytes()).is_err() {
                    return;
                }
            }
            let _ = body.finish();
        }))
    })
}

/// `/endless`: 16 KiB chunks until the client is gone; counts what it sent.
fn endless_route(sent: Arc<AtomicU64>) -> eddy::Route {
    offload(move |_, _| {
        let sent = Arc::clone(&sent);
        Ok(Job::stream(move |_, head| {
            let mut body = head.start(Response::new(StatusCode::OK), None);
            let chunk = vec![b'z'; 16 * 1024];
            while body.send(&chunk).is_ok() {
                sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
        }))
    })
}

/// The value of series `name` in a `/metrics`-style text, from `/status`.
fn series(s: &Running, name: &str) -> f64 {
    let text = s.connect().get("/status").text();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

fn status_route() -> eddy::Route {
    inline(|_, status| text(200, &status.prometheus()))
}

/// A server with `/endless` and `/status`, and the count of bytes sent.
fn serve_endless(wire: Wire) -> (Running, Arc<AtomicU64>) {
    let sent = Arc::new(AtomicU64::new(0));
    let router = Router::new()
        .get("/endless", endless_route(Arc::clone(&sent)))
        .get("/status", status_route());
    (serve(wire, router, Config::default()), sent)
}

both_transports! {
    fn a_streamed_body_goes_out_chunked_and_the_answers_behind_it_wait_their_turn(wire) {
        let router = Router::new()
            .get("/lines", lines_route())
            .get("/fast", inline(|_, _| text(200, "fast")))
            .get("/status", status_route());
        let s = serve(wire, router, Config::default());
        let mut c = s.connect();
        c.send(b"GET /lines?n=5000 HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
        let streamed = c.response();
        assert_eq!(streamed.status, 200);
        assert_eq!(streamed.header("transfer-encoding"), Some("chunked"));
        assert_eq!(streamed.header("content-length"), None);
        assert_eq!(streamed.text(), lines(5000));
        let fast = c.response();
        assert_eq!(fast.text(), "fast", "{fast:?}");
        // A job that wrote its whole body completed; its pipe closing after
        // the last byte does not count it cancelled.
        let ended = common::wait_until(IO_TIMEOUT, || {
            series(&s, "eddy_jobs_completed_total") == 1.0
        });
        assert!(ended, "the stream's job never completed");
        assert_eq!(series(&s, "eddy_jobs_cancelled_total"), 0.0);
    }
}

both_transports! {
    fn a_known_length_goes_out_as_content_length_and_http10_gets_the_body_to_the_close(wire) {
        let router = Router::new()
            .get(
                "/sized",
                offload(|_, _| {
                    Ok(Job::stream(|_, head| {
                        let mut body = head.start(Response::new(StatusCode::OK), Some(10));
                        body.send(b"01234").unwrap();
                        body.send(b"56789").unwrap();
                        body.finish().unwrap();
                    }))
                }),
            )
            .get("/lines", lines_route());
        let s = serve(wire, router, Config::default());
        let mut c = s.connect();
        let sized = c.get("/sized");
        assert_eq!(sized.header("content-length"), Some("10"));
        assert_eq!(sized.header("transfer-encoding"), None);
        assert_eq!(sized.text(), "0123456789");
        // HTTP/1.0 reads no chunked body: the bytes come raw, then the close.
        let mut c = s.connect();
        c.send(b"GET /lines?n=50 HTTP/1.0\r\n\r\n");
        let mut raw = String::new();
        c.reader.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("\r\nConnection: close"), "{head}");
        assert!(
            !head.contains("Transfer-Encoding") && !head.contains("Content-Length"),
            "{head}"
        );
        assert_eq!(body, lines(50));
    }
}

#[test]
fn a_producer_that_fails_leaves_an_answer_the_client_can_tell_is_incomplete() {
    let router = Router::new()
        .get(
            "/broken",
            offload(|_, _| {
                Ok(Job::stream(|_, head| {
                    let mut body = head.start(Response::new(StatusCode::OK), None);
                    body.send(b"part of it").unwrap();
                    // returns without finish: the body failed
                }))
            }),
        )
        .get(
            "/short",
            offload(|_, _| {
                Ok(Job::stream(|_, head| {
                    let mut body = head.start(Response::new(StatusCode::OK), Some(10));
                    body.send(b"01234").unwrap();
                    let _ = body.finish(); // 5 bytes short
                }))
            }),
        )
        .get(
            "/panics",
            offload(|_, _| {
                Ok(Job::stream(|_, head| {
                    let mut body = head.start(Response::new(StatusCode::OK), None);
                    body.send(b"part of it").unwrap();
                    panic!("mid-stream on purpose");
                }))
            }),
        )
        .get("/fast", inline(|_, _| text(200, "fast")));
    let s = serve(Wire::Plain, router, Config::default());
    for path in ["/broken", "/panics"] {
        let mut c = s.connect();
        // A request pipelined behind it can no longer be framed: dropped.
        c.send(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
                .as_bytes(),
        );
        let cut = read_response(&mut c.reader, false).unwrap_err();
        assert_eq!(cut.kind(), ErrorKind::UnexpectedEof, "{path}: {cut:?}");
        c.assert_closed();
    }
    let mut c = s.connect();
    c.send(b"GET /short HTTP/1.1\r\nHost: x\r\n\r\n");
    let cut = read_response(&mut c.reader, false).unwrap_err();
    assert_eq!(cut.kind(), ErrorKind::UnexpectedEof, "{cut:?}");
    let events = s.events.lock().unwrap().clone();
    assert!(
        events
            .iter()
            .any(|e| e.contains("panicked: mid-stream on purpose")),
        "{events:?}"
    );
}

#[test]
fn a_job_may_answer_whole_a_head_request_stops_the_producer_and_no_answer_is_a_500() {
    let sent = Arc::new(AtomicU64::new(0));
    let router = Router::new()
        .get(
            "/answer",
            offload(|_, _| {
                Ok(Job::stream(|_, head| {
                    head.answer(text(404, "no such file"))
                }))
            }),
        )
        .get(
            "/unanswered",
            offload(|_, _| Ok(Job::stream(|_, _head| {}))),
        )
        .get("/endless", endless_route(Arc::clone(&sent)))
        .get("/status", status_route());
    let s = serve(Wire::Plain, router, Config::default());
    let mut c = s.connect();
    let r = c.get("/answer");
    assert_eq!((r.status, r.text().as_str()), (404, "no such file"));
    assert_eq!(c.get("/unanswered").status, 500);
    // HEAD: the head as GET would have it, no body; the producer is told.
    c.send(b"HEAD /endless HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = c.head_response();
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert_eq!(c.get("/answer").status, 404, "the connection goes on");
    let stopped = common::wait_until(IO_TIMEOUT, || {
        series(&s, "eddy_streams_open") == 0.0 && series(&s, "eddy_jobs_running") == 0.0
    });
    assert!(stopped, "the HEAD's producer is still streaming");
    // Its body was declined, not abandoned: no client left, so no job was
    // cancelled (a HEAD used to count as one).
    assert_eq!(series(&s, "eddy_jobs_cancelled_total"), 0.0);
}

both_transports! {
    fn a_slow_reader_holds_its_producer_back_and_a_client_that_leaves_stops_it(wire) {
        let (s, sent) = serve_endless(wire);
        let mut c = s.connect();
        c.send(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n");
        // The client reads nothing: once the socket buffers and the pipe are
        // full, the producer blocks, for good. (That it waited at all is no
        // proof: a loop slower than its producer makes it wait now and then
        // while a server that buffers without bound still takes it all.)
        let held = settled(&sent, 64 << 20);
        // The pipe (256 KiB), the output buffer (128 KiB) and the kernel's
        // socket buffers: far below the 64 MiB an unbounded server would take.
        assert!(held < 16 << 20, "the producer ran ahead by {held} bytes");
        // Reading lets it go on, and its wait is counted when it ends.
        let mut buf = vec![0; 1 << 20];
        let mut read = 0;
        while read < 8 << 20 {
            read += c.reader.read(&mut buf).unwrap();
        }
        assert!(
            sent.load(Ordering::Relaxed) > held,
            "reading did not resume the producer"
        );
        let counted = common::wait_until(IO_TIMEOUT, || {
            series(&s, "eddy_stream_wait_seconds_total") > 0.0
        });
        assert!(counted, "the producer's wait is not in the metrics");
        // Leaving stops it: no stream, no job left.
        drop(c);
        let stopped = common::wait_until(IO_TIMEOUT, || {
            series(&s, "eddy_streams_open") == 0.0 && series(&s, "eddy_jobs_running") == 0.0
        });
        assert!(stopped, "the producer outlived its client");
    }

    /// A producer slower than the loop — the usual kind: a feed, a log, a
    /// query's rows — is held back as surely as one that outruns it. The
    /// loop finds its pipe empty, so each send wakes it (where a fast
    /// producer's full pipe wakes nobody), and a turn with a socket that
    /// takes nothing must move no more of the body toward it.
    fn a_producer_slower_than_the_loop_is_held_back_too(wire) {
        let sent = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&sent);
        let router = Router::new().get(
            "/paced",
            inline(move |_, _| {
                let (response, mut body) = Response::new(StatusCode::OK).streamed(None);
                let sent = Arc::clone(&counted);
                std::thread::spawn(move || {
                    // 16 KiB a millisecond: the workload, not a wait.
                    let chunk = vec![b'p'; 16 * 1024];
                    while body.send(&chunk).is_ok() {
                        sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(1));
                    }
                });
                response
            }),
        );
        let s = serve(wire, router, Config::default());
        let mut c = s.connect();
        c.send(b"GET /paced HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(!c.reader.fill_buf().unwrap().is_empty(), "closed at once");
        // The client reads nothing more.
        let held = settled(&sent, 64 << 20);
        assert!(held < 16 << 20, "the producer ran ahead by {held} bytes");
    }
}

/// Waits until a producer's count of bytes sent stops growing — unchanged
/// for half a second — and returns it; or returns early once it passes
/// `limit` (a producer nothing holds back), or at `IO_TIMEOUT`. A producer
/// blocked on a full pipe stops for good; one that is only slowed, or
/// whose bytes the server buffers without bound, goes on. The half second
/// is a window measured, not a synchronisation: on a loaded machine a
/// running producer may look still for a while, which can only make this
/// return early, with a smaller count — pass, never fail.
fn settled(sent: &AtomicU64, limit: u64) -> u64 {
    const STILL: Duration = Duration::from_millis(500);
    let deadline = Instant::now() + IO_TIMEOUT;
    let (mut last, mut since) = (sent.load(Ordering::Relaxed), Instant::now());
    loop {
        let now = sent.load(Ordering::Relaxed);
        if now > limit || Instant::now() >= deadline {
            return now;
        }
        if now != last {
            (last, since) = (now, Instant::now());
        } else if now > 0 && since.elapsed() >= STILL {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `len` bytes that differ from their neighbours, so a lost, doubled or
/// misplaced chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

both_transports! {
    /// A streamed body to a client that stops reading, then reads it all:
    /// the socket fills (over TLS the sealed ciphertext waits in the
    /// transport's output, `WRITABLE` asked for it), the producer is held
    /// back, and when the client reads again every byte arrives, in order
    /// — a flush that met `WouldBlock` is retried. Then a drain ends the
    /// idle connection cleanly (over TLS with `close_notify`), and the
    /// server exits drained. (Moved from tests/tls.rs, where Python's `ssl`
    /// was the client.)
    fn a_paused_reader_gets_every_byte_and_a_drain_ends_it_cleanly(wire) {
        // Far more than the socket buffers, the pipe and the output buffer
        // of a client that reads nothing hold (a_slow_reader_holds_… saw a
        // few MiB): the producer must wait.
        const SIZE: usize = 32 << 20;
        let sent = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&sent);
        let router = Router::new()
            .get(
                "/big",
                offload(move |_, _| {
                    let sent = Arc::clone(&counted);
                    Ok(Job::stream(move |_, head| {
                        let mut body = head.start(Response::new(StatusCode::OK), Some(SIZE as u64));
                        for chunk in pattern(SIZE).chunks(64 * 1024) {
                            if body.send(chunk).is_err() {
                                return;
                            }
                            sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                        }
                        let _ = body.finish();
                    }))
                }),
            )
            .get("/status", status_route());
        let s = serve(wire, router, Config::default());
        let mut c = s.connect();
        c.send(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        // The first bytes have come; now the client reads nothing until the
        // producer has been held back.
        assert!(!c.reader.fill_buf().unwrap().is_empty(), "closed at once");
        let held = settled(&sent, SIZE as u64 - 1);
        assert!(
            held < SIZE as u64 / 2,
            "the producer ran ahead of a client that read nothing: {held} of {SIZE} bytes sent"
        );
        let r = c.response();
        assert_eq!(r.status, 200, "{:?}", (r.version, r.status, r.headers));
        assert_eq!(r.body.len(), SIZE);
        assert!(r.body == pattern(SIZE), "every byte, but not in order");
        let counted = common::wait_until(IO_TIMEOUT, || {
            series(&s, "eddy_stream_wait_seconds_total") > 0.0
        });
        assert!(counted, "the producer's wait is not in the metrics");
        s.handle.shutdown().unwrap();
        c.assert_closed();
        assert_eq!(s.serving.join().unwrap().unwrap(), Exit::Drained);
    }
}

#[test]
fn a_thousand_abandoned_streams_leak_nothing() {
    let (s, _) = serve_endless(Wire::Plain);
    for _ in 0..1000 {
        let mut c = s.connect();
        c.send(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut c.reader, &mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line:?}");
    }
    let settled = common::wait_until(IO_TIMEOUT * 2, || {
        series(&s, "eddy_streams_open") == 0.0
            && series(&s, "eddy_jobs_running") == 0.0
            && series(&s, "eddy_jobs_queued") == 0.0
            && series(&s, "eddy_connections_open") == 1.0 // the /status one
    });
    assert!(
        settled,
        "after 1000 abandoned streams: {}",
        s.connect().get("/status").text()
    );
}

both_transports! {
    fn any_thread_can_feed_a_stream_and_the_idle_timeout_cuts_only_a_silent_one(wire) {
        let router = Router::new()
            .get(
                "/ticks",
                inline(|_, _| {
                    let (response, mut body) = Response::new(StatusCode::OK).streamed(None);
                    std::thread::spawn(move || {
                        // A tick every 100 ms for 2.5 s: longer than the idle
                        // timeout in all, never silent for that long (a loaded
                        // machine may hold this thread back 1.4 s before the
                        // gap is a real silence).
                        for i in 0..25 {
                            std::thread::sleep(Duration::from_millis(100));
                            if body.send(format!("tick {i}\n").as_bytes()).is_err() {
                                return;
                            }
                        }
                        let _ = body.finish();
                    });
                    response
                }),
            )
            .get(
                "/silent",
                inline(|_, _| {
                    let (response, mut body) = Response::new(StatusCode::OK).streamed(None);
                    std::thread::spawn(move || {
                        body.send(b"hello\n").unwrap();
                        // Then nothing, until the client is gone (which ends
                        // the wait at once).
                        while body.wait_drain(IO_TIMEOUT).is_ok() {}
                    });
                    response
                }),
            );
        let idle = Duration::from_millis(1500);
        let config = Config {
            idle_timeout: idle,
            ..Config::default()
        };
        let s = serve(wire, router, config);
        let mut c = s.connect();
        let began = Instant::now();
        let ticks = c.get("/ticks");
        let lasted = began.elapsed();
        assert_eq!(
            ticks.text(),
            (0..25).map(|i| format!("tick {i}\n")).collect::<String>()
        );
        assert!(
            lasted > idle,
            "the stream lasted only {lasted:?}: no longer than the idle timeout, it proves nothing"
        );
        let mut c = s.connect();
        c.send_get("/silent");
        let began = Instant::now();
        let cut = read_response(&mut c.reader, false).unwrap_err();
        assert_eq!(cut.kind(), ErrorKind::UnexpectedEof, "{cut:?}");
        assert!(
            began.elapsed() >= idle - Duration::from_millis(100),
            "cut {:?} after the request: before the idle timeout",
            began.elapsed()
        );
    }
}

both_transports! {
    fn a_drain_lets_a_stream_say_its_last_words_and_cuts_one_that_never_ends(wire) {
        let router = Router::new().get(
            "/events",
            inline(|_, _| {
                let (response, mut body) = Response::new(StatusCode::OK).streamed(None);
                std::thread::spawn(move || {
                    body.send(b"hello\n").unwrap();
                    // Woken by the drain, not by polling for it.
                    loop {
                        match body.wait_drain(IO_TIMEOUT) {
                            Ok(true) => break,
                            Ok(false) => {}
                            Err(_gone) => return,
                        }
                    }
                    let _ = body.send(b"goodbye\n");
                    let _ = body.finish();
                });
                response
            }),
        );
        let s = serve(wire, router, Config::default());
        let mut c = s.connect();
        c.send_get("/events");
        let mut line = String::new();
        while line != "hello\n" {
            line.clear();
            std::io::BufRead::read_line(&mut c.reader, &mut line).unwrap();
        }
        s.handle.shutdown().unwrap();
        let mut rest = String::new();
        c.reader.read_to_string(&mut rest).unwrap();
        assert!(rest.contains("goodbye\n"), "{rest:?}");
        assert!(
            rest.ends_with("0\r\n\r\n"),
            "the stream was not ended well: {rest:?}"
        );
        assert_eq!(s.serving.join().unwrap().unwrap(), Exit::Drained);

        // A stream that does not end is cut when the drain's time is up.
        let sent = Arc::new(AtomicU64::new(0));
        let router = Router::new().get("/endless", endless_route(sent));
        let config = Config {
            shutdown_timeout: Duration::from_millis(500),
            ..Config::default()
        };
        let s = serve(wire, router, config);
        let mut c = s.connect();
        c.send_get("/endless");
        let reader = std::thread::spawn(move || {
            let mut sink = vec![0; 1 << 16];
            loop {
                match c.reader.read(&mut sink) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        });
        s.handle.shutdown().unwrap();
        let exit = s.serving.join().unwrap().unwrap();
        assert!(matches!(exit, Exit::ShutdownTimedOut { .. }), "{exit:?}");
        reader.join().unwrap();
    }
}
