//! WebSocket (issue 23): the real binary's `/ws` over real sockets, with a
//! client written byte by byte (`tests/common/websocket.rs`) — so every rule of RFC 6455 §5 can be
//! broken on purpose and the server's answer checked — and the handshake's
//! refusals (§4.2).
//!
//! The tests of a framing or handshake rule run over plain TCP and over
//! TLS (`both_transports!`: `NAME::plain`, `NAME::tls`; issue 23, point
//! 9): the same frames, byte by byte, inside a TLS session the second
//! time, against a server started with the test certificate. The others
//! (offloading, metrics, the access log, backpressure) are about the
//! socket's life, not its wire, and run plain; `wss://` has a Python
//! client of its own below.
#![cfg(feature = "websocket")]

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::websocket::*;
use common::{both_transports, InProcess, Server, Wire, IO_TIMEOUT};

/// Proof that a test's `tls` half goes over TLS: the server at `addr`
/// answers the same upgrade sent in plain with a plain `400` ("this port
/// speaks HTTPS"), not a `101`, so the test's `101` and frames came
/// through the TLS session (whose handshake `Client::connect_over` did,
/// verifying the test certificate). Over plain TCP there is nothing to
/// prove.
fn assert_only_tls_is_upgraded(wire: Wire, addr: SocketAddr) {
    if wire == Wire::Plain {
        return;
    }
    let plain = Ws::connect_with(Wire::Plain, addr, &upgrade(""), b"");
    assert_eq!(plain.status(), 400, "{:?}", plain.head);
}

both_transports! {
    fn the_handshake_accepts_with_rfc_6455s_answer_and_echoes_text_and_binary(wire) {
        let server = Server::start_over(wire, &[]);
        assert_only_tls_is_upgraded(wire, server.addr);
        let mut ws = Ws::open(wire, server.addr);
        assert_eq!(ws.header("Sec-WebSocket-Accept"), Some(ACCEPT));
        assert!(ws
            .header("Upgrade")
            .unwrap()
            .eq_ignore_ascii_case("websocket"));
        assert!(
            ws.header("Sec-WebSocket-Extensions").is_none(),
            "no extension is accepted"
        );
        ws.send(&masked(TEXT, "héllo".as_bytes()));
        let echo = ws.frame();
        assert_eq!(
            (echo.fin, echo.opcode, echo.text()),
            (true, TEXT, "héllo".into())
        );
        let bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        ws.send(&masked(BINARY, &bytes));
        let echo = ws.frame();
        assert_eq!((echo.opcode, echo.payload == bytes), (BINARY, true));
        // A clean close: ours echoed with our code, then the server's FIN.
        ws.send(&masked(CLOSE, &close_payload(1000, b"bye")));
        assert_eq!(ws.close_code(), Some(1000));
        ws.assert_eof();
    }

    fn a_frame_in_the_same_write_as_the_handshake_is_not_lost(wire) {
        let server = Server::start_over(wire, &[]);
        assert_only_tls_is_upgraded(wire, server.addr);
        let early = masked(TEXT, b"early");
        let mut ws = Ws::connect_with(wire, server.addr, &upgrade(""), &early);
        assert_eq!(ws.status(), 101, "{:?}", ws.head);
        assert_eq!(ws.frame().text(), "early");
    }

    fn handshakes_that_break_a_rule_are_refused_with_the_rfcs_status(wire) {
        let server = Server::start_over(wire, &[]);
        assert_only_tls_is_upgraded(wire, server.addr);
        let answer = |request: &str| {
            let ws = Ws::connect_with(wire, server.addr, request, b"");
            (ws.status(), ws.head)
        };
        // §4.2.2: another version → 426 naming the one spoken here.
        let other_version = upgrade("").replace("Version: 13", "Version: 8");
        let ws = Ws::connect_with(wire, server.addr, &other_version, b"");
        assert_eq!(ws.status(), 426);
        assert_eq!(ws.header("Sec-WebSocket-Version"), Some("13"));
        // A key that is not 16 bytes of base64 → 400.
        let (status, head) = answer(&upgrade("").replace(KEY, "c2hvcnQ="));
        assert_eq!(status, 400, "{head:?}");
        let no_key = upgrade("").replace(&format!("Sec-WebSocket-Key: {KEY}\r\n"), "");
        let (status, head) = answer(&no_key);
        assert_eq!(status, 400, "{head:?}");
        // An Origin that is not the request's own host → 403; its own → 101.
        let (status, head) = answer(&upgrade("Origin: http://evil.example\r\n"));
        assert_eq!(status, 403, "{head:?}");
        let (status, head) = answer(&upgrade("Origin: http://127.0.0.1\r\n"));
        assert_eq!(status, 101, "{head:?}");
        // A plain GET → 426 with `Upgrade: websocket` (RFC 9110 §15.5.22).
        let get = "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n";
        let plain = Ws::connect_with(wire, server.addr, get, b"");
        assert_eq!(plain.status(), 426);
        assert_eq!(plain.header("Upgrade"), Some("websocket"));
    }

    /// Each way to break RFC 6455 §5, and the close code the server must send
    /// for it (1002 protocol error, 1007 bad data, 1009 too big), then its FIN.
    fn every_framing_rule_broken_gets_its_close_code_and_the_end(wire) {
        let server = Server::start_over(wire, &[]);
        assert_only_tls_is_upgraded(wire, server.addr);
        let start = |opcode| frame(false, 0, opcode, b"ab", true);
        let cases: Vec<(&str, Vec<u8>, u16)> = vec![
            (
                "an unmasked client frame",
                frame(true, 0, TEXT, b"hi", false),
                1002,
            ),
            (
                "RSV1 set, no extension",
                frame(true, 4, TEXT, b"hi", true),
                1002,
            ),
            ("reserved opcode 3", masked(0x3, b""), 1002),
            ("reserved control opcode 0xB", masked(0xB, b""), 1002),
            ("a fragmented ping", frame(false, 0, PING, b"", true), 1002),
            ("a ping over 125 bytes", masked(PING, &[b'x'; 126]), 1002),
            (
                "a continuation with nothing started",
                masked(0x0, b"x"),
                1002,
            ),
            (
                "a new message inside a fragmented one",
                [start(TEXT), masked(TEXT, b"x")].concat(),
                1002,
            ),
            (
                "invalid UTF-8 in a text message",
                masked(TEXT, b"\xc0\x80"),
                1007,
            ),
            (
                "invalid UTF-8 in the first fragment, before the message ends",
                frame(false, 0, TEXT, b"ok\xed\xa0\x80", true),
                1007,
            ),
            (
                "a close with a 1-byte payload",
                masked(CLOSE, b"\x03"),
                1002,
            ),
            (
                "a close with code 1005 (never sent)",
                masked(CLOSE, &close_payload(1005, b"")),
                1002,
            ),
            (
                "a close with code 999",
                masked(CLOSE, &close_payload(999, b"")),
                1002,
            ),
            (
                "a close reason not UTF-8",
                masked(CLOSE, &close_payload(1000, b"\xff")),
                1007,
            ),
        ];
        for (what, bytes, code) in cases {
            let mut ws = Ws::open(wire, server.addr);
            ws.send(&bytes);
            assert_eq!(ws.close_code(), Some(code), "{what}");
            ws.assert_eof();
        }
        // Over the 1 MiB limit: refused as soon as the header says so, before
        // the payload (which is never sent here).
        let mut ws = Ws::open(wire, server.addr);
        let mut header = vec![0x82, 0x80 | 127];
        header.extend_from_slice(&((1u64 << 20) + 1).to_be_bytes());
        header.extend_from_slice(&[1, 2, 3, 4]);
        ws.send(&header);
        assert_eq!(ws.close_code(), Some(1009), "a message over the limit");
    }

    /// §5.5.1: after its close frame a client sends nothing more, and
    /// whatever it still sends is dropped. A text right behind the close,
    /// in the same write (so read in the same turn), is not echoed: the
    /// next frame is the close's reply, then the end.
    fn data_after_the_clients_close_is_dropped(wire) {
        let server = Server::start_over(wire, &[]);
        assert_only_tls_is_upgraded(wire, server.addr);
        let mut ws = Ws::open(wire, server.addr);
        let close = masked(CLOSE, &close_payload(1000, b""));
        ws.send(&[close, masked(TEXT, b"too late")].concat());
        let reply = ws.frame();
        assert_eq!((reply.opcode, reply.code()), (CLOSE, Some(1000)), "{reply:?}");
        ws.assert_eof();
    }

    fn pings_are_answered_pongs_ignored_and_control_frames_may_interleave_fragments(wire) {
        let server = Server::start_over(wire, &[]);
        assert_only_tls_is_upgraded(wire, server.addr);
        let mut ws = Ws::open(wire, server.addr);
        ws.send(&masked(PING, b"are you there"));
        let pong = ws.frame();
        assert_eq!((pong.opcode, pong.text()), (PONG, "are you there".into()));
        // An unsolicited pong needs no answer: the next echo is the next frame.
        ws.send(&masked(PONG, b"unasked"));
        // A text in three fragments with a ping between: the pong comes at
        // once, the echo of the whole message after the last fragment.
        ws.send(&frame(false, 0, TEXT, b"one ", true));
        ws.send(&frame(false, 0, 0x0, b"two ", true));
        ws.send(&masked(PING, b"mid"));
        let pong = ws.frame();
        assert_eq!((pong.opcode, pong.text()), (PONG, "mid".into()));
        ws.send(&frame(true, 0, 0x0, b"three", true));
        let echo = ws.frame();
        assert_eq!((echo.opcode, echo.text()), (TEXT, "one two three".into()));
    }
}

/// The seed's experiment over one socket: `heavy N` runs on the pool, and
/// the message sent right after it (in the same write, so it is read in
/// the same turn) is echoed before its answer comes; another socket is
/// answered meanwhile too. Done on the loop, `heavy 5000` (a debug build's
/// second or so) would come first, and `after` after it.
#[test]
fn a_heavy_message_holds_up_neither_its_own_socket_nor_another() {
    let server = Server::start(&["--workers", "2"]);
    let mut ws = Ws::open(server.wire, server.addr);
    let mut other = Ws::open(server.wire, server.addr);
    ws.send(&[masked(TEXT, b"heavy 5000"), masked(TEXT, b"after")].concat());
    other.send(&masked(TEXT, b"elsewhere"));
    assert_eq!(other.frame().text(), "elsewhere");
    let first = ws.frame().text();
    assert_eq!(first, "after", "the message after `heavy` waited for it");
    let heavy = ws.frame().text();
    assert_eq!(heavy, "heavy 5000 = 42285779266055435222");
}

both_transports! {
    /// SIGTERM: every socket gets 1001 ("going away"), the server waits for
    /// the close reply, and exits 0.
    fn a_drain_says_1001_to_every_socket_and_exits_once_they_reply(wire) {
        let mut server = Server::start_over(wire, &[]);
        assert_only_tls_is_upgraded(wire, server.addr);
        let mut a = Ws::open(wire, server.addr);
        let mut b = Ws::open(wire, server.addr);
        a.send(&masked(TEXT, b"x"));
        assert_eq!(a.frame().text(), "x");
        let started = Instant::now();
        server.signal("TERM");
        for ws in [&mut a, &mut b] {
            assert_eq!(ws.close_code(), Some(1001));
            ws.send(&masked(CLOSE, &close_payload(1001, b"")));
            ws.assert_eof();
        }
        let status = server.wait_exit(IO_TIMEOUT).expect("the server exits");
        assert!(status.success(), "{status:?}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }
}

/// Python's `websockets` (the asyncio library's synchronous client): text,
/// binary, `heavy N` answered after the message that followed it, a
/// ping's pong, and a clean close with 1000.
#[test]
fn python_websockets_talks_to_ws() {
    let server = Server::start(&["--workers", "2"]);
    let script = format!(
        r#"
from websockets.sync.client import connect
with connect("ws://{addr}/ws") as ws:
    ws.send("hello")
    assert ws.recv(timeout=10) == "hello"
    ws.send(b"\x00\x01\xff")
    assert ws.recv(timeout=10) == b"\x00\x01\xff"
    ws.send("heavy 3000")
    ws.send("quick")
    first, second = ws.recv(timeout=30), ws.recv(timeout=30)
    assert first == "quick", first
    assert second.startswith("heavy 3000 = "), second
    assert ws.ping().wait(10)
    ws.close(1000)
    print("closed", ws.close_code)
"#,
        addr = server.addr
    );
    let Some(out) = common::python_with("python_websockets_talks_to_ws", "websockets", &script)
    else {
        return;
    };
    assert_eq!(out.trim(), "closed 1000");
}

/// `websocket-client`, the other Python client Tornado users reach for.
#[test]
fn python_websocket_client_talks_to_ws() {
    let server = Server::start(&[]);
    let script = format!(
        r#"
import websocket
ws = websocket.create_connection("ws://{addr}/ws", timeout=10)
ws.send("one")
assert ws.recv() == "one"
ws.send_binary(bytes(range(256)) * 1000)
assert ws.recv() == bytes(range(256)) * 1000
ws.ping("p")
op, data = ws.recv_data_frame(True)
assert (op, data.data) == (websocket.ABNF.OPCODE_PONG, b"p"), (op, data)
ws.close()
print("ok")
"#,
        addr = server.addr
    );
    let Some(out) =
        common::python_with("python_websocket_client_talks_to_ws", "websocket", &script)
    else {
        return;
    };
    assert_eq!(out.trim(), "ok");
}

/// A server of `router` on a thread of this process, speaking `wire`:
/// over TLS, `Config::tls` is the test certificate and key, as
/// `common::serve_in_process_over` sets it (and checks the server says
/// `https://`).
fn serve(wire: Wire, router: eddy::Router) -> InProcess {
    common::serve_in_process_over(wire, router, eddy::Config::default())
}

/// Echoes every message.
struct Echo;

impl eddy::websocket::Handler for Echo {
    fn message(
        &mut self,
        message: eddy::websocket::Message,
        socket: &mut eddy::websocket::Socket<'_>,
    ) {
        let _ = socket.send(message);
    }
}

both_transports! {
    /// The route's own rules: another origin it allows is accepted, one it
    /// does not is refused; of the subprotocols offered, the one it picks is
    /// named in the 101, and none when it picks none.
    fn a_route_allows_origins_and_picks_a_subprotocol(wire) {
        let route = eddy::websocket(|_| Ok(Echo))
            .allow_origin(|origin| origin == "https://app.example")
            .protocols(|offered| {
                offered.contains(&"chat.v2").then(|| "chat.v2".to_string())
            });
        let server = serve(wire, eddy::Router::new().get("/ws", route));
        let addr = server.addr;
        assert_only_tls_is_upgraded(wire, addr);
        let ws = Ws::connect_with(wire, addr, &upgrade("Origin: https://app.example\r\n"), b"");
        assert_eq!(ws.status(), 101, "{:?}", ws.head);
        let elsewhere = upgrade("Origin: https://elsewhere.example\r\n");
        let ws = Ws::connect_with(wire, addr, &elsewhere, b"");
        assert_eq!(ws.status(), 403, "{:?}", ws.head);
        let ws = Ws::connect_with(
            wire,
            addr,
            &upgrade("Sec-WebSocket-Protocol: chat.v1, chat.v2\r\n"),
            b"",
        );
        assert_eq!(ws.header("Sec-WebSocket-Protocol"), Some("chat.v2"));
        let v1 = upgrade("Sec-WebSocket-Protocol: chat.v1\r\n");
        let ws = Ws::connect_with(wire, addr, &v1, b"");
        assert_eq!(
            (ws.status(), ws.header("Sec-WebSocket-Protocol")),
            (101, None)
        );
        server.stop();
    }

    /// The keepalive: a quiet socket is pinged after the interval; a client
    /// that answers stays open ping after ping, one that does not is ended
    /// once the timeout passes.
    fn a_quiet_socket_is_pinged_and_ended_when_nothing_answers(wire) {
        let route = eddy::websocket(|_| Ok(Echo))
            .ping(Duration::from_millis(100), Duration::from_millis(300));
        let server = serve(wire, eddy::Router::new().get("/ws", route));
        let addr = server.addr;
        assert_only_tls_is_upgraded(wire, addr);
        let mut answering = Ws::open(wire, addr);
        let opened = Instant::now();
        let mut silent = Ws::open(wire, addr);
        for _ in 0..3 {
            let ping = answering.frame();
            assert_eq!(ping.opcode, PING);
            answering.send(&masked(PONG, &ping.payload));
        }
        assert_eq!(silent.frame().opcode, PING);
        silent.assert_eof();
        // Not before the interval and the timeout both passed.
        assert!(
            opened.elapsed() >= Duration::from_millis(400),
            "{:?}",
            opened.elapsed()
        );
        // The answering one is still there.
        answering.send(&masked(TEXT, b"still here"));
        loop {
            let frame = answering.frame();
            if frame.opcode == TEXT {
                assert_eq!(frame.text(), "still here");
                break;
            }
            answering.send(&masked(PONG, &frame.payload));
        }
        server.stop();
    }
}

/// Sends from another thread wait while the client does not read: the
/// producer is held back, not the server's memory grown, and when the
/// client reads again every message arrives, whole and in order.
#[test]
fn a_sender_on_another_thread_is_held_back_by_a_slow_reader_and_loses_nothing() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    const MESSAGES: usize = 200;
    const SIZE: usize = 64 * 1024;
    let sent = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&sent);
    struct Producer(Arc<AtomicUsize>);
    impl eddy::websocket::Handler for Producer {
        fn open(&mut self, socket: &mut eddy::websocket::Socket<'_>) {
            let (sender, sent) = (socket.sender(), Arc::clone(&self.0));
            std::thread::spawn(move || {
                for i in 0..MESSAGES {
                    let mut message = vec![(i % 251) as u8; SIZE];
                    message[..8].copy_from_slice(&(i as u64).to_be_bytes());
                    if sender.send(message).is_err() {
                        return;
                    }
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        fn message(&mut self, _: eddy::websocket::Message, _: &mut eddy::websocket::Socket<'_>) {}
    }
    let route = eddy::websocket(move |_| Ok(Producer(Arc::clone(&counted))));
    let server = serve(Wire::Plain, eddy::Router::new().get("/ws", route));
    let addr = server.addr;
    let mut ws = Ws::open(Wire::Plain, addr);
    // Not reading: the producer must stall. Wait until its count stops
    // moving (bounded), then check it is far short of the whole.
    let deadline = Instant::now() + IO_TIMEOUT;
    let mut last = usize::MAX;
    loop {
        let now = sent.load(Ordering::SeqCst);
        if now == last || Instant::now() > deadline {
            break;
        }
        last = now;
        std::thread::sleep(Duration::from_millis(300)); // watching a count settle
    }
    let stalled = sent.load(Ordering::SeqCst);
    assert!(
        stalled < MESSAGES / 2,
        "the producer ran ahead: {stalled} of {MESSAGES} sent"
    );
    for i in 0..MESSAGES {
        let frame = ws.frame();
        // A ping here would be the keepalive's, 30 s after the last frame
        // heard: the flow stalled that long (a lost wake-up did once).
        assert_eq!(
            (frame.opcode, frame.payload.len()),
            (BINARY, SIZE),
            "message {i}"
        );
        assert_eq!(
            frame.payload[..8],
            (i as u64).to_be_bytes(),
            "message {i} out of order"
        );
    }
    server.stop();
}

/// `/metrics` counts the sockets: open now, messages each way, closes by
/// code.
#[test]
fn metrics_count_sockets_messages_and_closes_by_code() {
    let server = Server::start(&[]);
    let mut ws = Ws::open(server.wire, server.addr);
    ws.send(&masked(TEXT, b"a"));
    ws.send(&masked(TEXT, b"b"));
    ws.frame();
    ws.frame();
    let mut bad = Ws::open(server.wire, server.addr);
    bad.send(&frame(true, 0, TEXT, b"x", false));
    assert_eq!(bad.close_code(), Some(1002));
    bad.assert_eof();
    let metrics = common::get(server.addr, "/metrics").text();
    for line in [
        "eddy_websockets_open 1",
        "eddy_websocket_messages_total{direction=\"in\"} 2",
        "eddy_websocket_messages_total{direction=\"out\"} 2",
        "eddy_websocket_closes_total{code=\"1002\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in\n{metrics}"
        );
    }
}

/// WebSocket over TLS (`wss://`): the same socket over the TLS transport,
/// Python's `websockets` trusting the test CA.
#[cfg(feature = "tls")]
#[test]
fn python_websockets_speaks_wss_over_the_tls_transport() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tls");
    let (cert, key) = (format!("{data}/cert.pem"), format!("{data}/key.pem"));
    let server = Server::start(&["--tls-cert", &cert, "--tls-key", &key, "--workers", "2"]);
    let script = format!(
        r#"
import ssl
from websockets.sync.client import connect
context = ssl.create_default_context(cafile="{data}/ca.pem")
with connect("wss://localhost:{port}/ws", ssl=context) as ws:
    ws.send("over tls")
    assert ws.recv(timeout=10) == "over tls"
    ws.send(bytes(range(256)) * 400)
    assert ws.recv(timeout=10) == bytes(range(256)) * 400
    ws.send("heavy 2000")
    ws.send("next")
    assert ws.recv(timeout=30) == "next"
    assert ws.recv(timeout=30).startswith("heavy 2000 = ")
    ws.close(1000)
    print("closed", ws.close_code)
"#,
        port = server.addr.port()
    );
    let test = "python_websockets_speaks_wss_over_the_tls_transport";
    let Some(out) = common::python_with(test, "websockets", &script) else {
        return;
    };
    assert_eq!(out.trim(), "closed 1000");
}

/// The access log: the `101` when the socket opens, and at its end one
/// more record of the upgrading request — status 101, the bytes the
/// socket sent, how long it lived, and how it ended (JSON's `reason`).
#[test]
fn the_access_log_records_the_upgrade_and_the_sockets_end() {
    let server = Server::start(&["--log-format", "json"]);
    let mut ws = Ws::open(server.wire, server.addr);
    ws.send(&masked(TEXT, &[b'x'; 1000]));
    assert_eq!(ws.frame().payload.len(), 1000);
    ws.send(&masked(CLOSE, &close_payload(1000, b"")));
    assert_eq!(ws.close_code(), Some(1000));
    ws.assert_eof();
    let ended = server
        .stdout
        .wait_for(IO_TIMEOUT, |l| l.contains("websocket closed"))
        .expect("a record at the socket's end");
    let lines = server.stdout.snapshot();
    let opened = lines
        .iter()
        .find(|l| l.contains("\"status\":101") && !l.contains("websocket"))
        .expect("a record of the 101");
    assert!(opened.contains("GET /ws HTTP/1.1"), "{opened}");
    assert!(
        ended.contains("\"status\":101") && ended.contains("GET /ws HTTP/1.1"),
        "{ended}"
    );
    // The echo (1000 bytes and a 4-byte header) and the close (4 bytes).
    assert!(ended.contains("\"body_bytes\":1008"), "{ended}");
}

/// A client that floods pings and never reads: every ping would be a pong
/// in the server's output, so the server stops reading while its output
/// holds its bound — the flood stalls in the client's own buffers — and
/// when the client reads, every pong comes, in order.
#[test]
fn a_ping_flood_that_never_reads_is_held_back_not_buffered() {
    let server = Server::start(&[]);
    let mut ws = Ws::open(server.wire, server.addr);
    let pings = 200_000; // 131 bytes each on the wire: 26 MB, far beyond any buffer
                         // Plain TCP only: the flood writes from a thread of its own through a
                         // clone of the socket, which a TLS session cannot be split into (one
                         // object reads and writes it); and rustls's blocking read first
                         // flushes what it sealed but could not send, which would wait on a
                         // server that has stopped reading. The rule under test, the output's
                         // bound holding the reading back, is the protocol's, above the
                         // transport.
    let writer = ws.client.stream.try_clone().unwrap();
    writer
        .set_write_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let flood = std::thread::spawn(move || {
        let mut writer = writer;
        let mut sent = 0;
        for i in 0..pings {
            let mut payload = [b'p'; 125];
            payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
            if writer.write_all(&masked(PING, &payload)).is_err() {
                break; // the write timed out: the server stopped reading
            }
            sent += 1;
        }
        sent
    });
    let sent = flood.join().unwrap();
    assert!(
        sent < pings,
        "the server took all {pings} pings without being read"
    );
    for i in 0..sent {
        let pong = ws.frame();
        assert_eq!(pong.opcode, PONG, "frame {i}");
        assert_eq!(
            pong.payload[..8],
            (i as u64).to_be_bytes(),
            "pong {i} out of order"
        );
    }
}

/// A thread waiting in `Sender::send` on a client that does not read
/// holds nothing the loop needs. Another socket's callback — on the loop —
/// sends to that socket (`try_send`, as a chat's broadcast does) and asks
/// `is_closed`: both answer at once, and the loop goes on. Found by review:
/// `Sender` once held a mutex over the pipe while it waited, and the loop,
/// taking the same mutex, waited for a pipe only it empties. Poked until
/// the answer is `Full` — the pipe is full, so the flood's `send` waits —
/// each poke answered within `IO_TIMEOUT`.
#[test]
fn a_sender_waiting_on_a_slow_reader_never_blocks_the_loop() {
    use eddy::websocket::{Handler, Message, SendError, Sender, Socket};
    use std::sync::{Arc, Mutex};
    /// Floods its own socket from a thread, and leaves its sender where
    /// `Poke` finds it.
    struct Flood(Arc<Mutex<Option<Sender>>>);
    impl Handler for Flood {
        fn open(&mut self, socket: &mut Socket<'_>) {
            let sender = socket.sender();
            *self.0.lock().unwrap() = Some(socket.sender());
            std::thread::spawn(move || while sender.send(vec![7u8; 64 * 1024]).is_ok() {});
        }
        fn message(&mut self, _: Message, _: &mut Socket<'_>) {}
    }
    /// Sends to the flooded socket from the loop, and says what happened.
    struct Poke(Arc<Mutex<Option<Sender>>>);
    impl Handler for Poke {
        fn message(&mut self, _: Message, socket: &mut Socket<'_>) {
            let flooded = self.0.lock().unwrap().clone().unwrap();
            let closed = flooded.is_closed();
            let sent = flooded.try_send("from the loop");
            let _ = socket.send(format!("{closed} {sent:?}"));
        }
    }
    let slot = Arc::new(Mutex::new(None));
    let flood_slot = Arc::clone(&slot);
    let router = eddy::Router::new()
        .get(
            "/flood",
            eddy::websocket(move |_| Ok(Flood(Arc::clone(&flood_slot)))),
        )
        .get(
            "/poke",
            eddy::websocket(move |_| Ok(Poke(Arc::clone(&slot)))),
        );
    let server = serve(Wire::Plain, router);
    let addr = server.addr;
    let flooded = Ws::connect_with(Wire::Plain, addr, &upgrade_to("/flood", ""), b"");
    assert_eq!(flooded.status(), 101);
    let mut poke = Ws::connect_with(Wire::Plain, addr, &upgrade_to("/poke", ""), b"");
    assert_eq!(poke.status(), 101);
    let full = format!("false {:?}", Err::<(), _>(SendError::Full));
    let deadline = Instant::now() + IO_TIMEOUT;
    loop {
        poke.send(&masked(TEXT, b"go"));
        let answer = poke
            .try_frame()
            .expect("the loop answered (not stuck on the sender)");
        if answer.text() == full {
            break;
        }
        assert_eq!(answer.text(), "false Ok(())");
        assert!(Instant::now() < deadline, "the flood never filled the pipe");
    }
    drop((flooded, poke));
    server.stop();
}

/// A socket may have `OFFLOADS_IN_FLIGHT` (4) messages on the pool at
/// once: a fifth is refused, and the demo says so rather than queue
/// without end — one client cannot fill the pool's queue for everyone.
#[test]
fn a_socket_offloads_at_most_four_at_once_and_the_fifth_is_told_busy() {
    assert_eq!(eddy::websocket::OFFLOADS_IN_FLIGHT, 4);
    let server = Server::start(&["--workers", "1"]);
    let mut ws = Ws::open(Wire::Plain, server.addr);
    // Each takes a worker seconds: the fifth comes while four wait.
    let heavy = masked(TEXT, b"heavy 20000");
    ws.send(&[&heavy[..], &heavy, &heavy, &heavy, &heavy].concat());
    assert_eq!(ws.frame().text(), "heavy 20000: busy, try again");
    // The socket itself is still served at once, on the loop.
    ws.send(&masked(TEXT, b"after"));
    assert_eq!(ws.frame().text(), "after");
}

/// A worker never waits on a client that is not reading: an offloaded
/// reply goes into the socket's pipe even past its bound. Four messages,
/// each answered on the pool with 8 MiB — more than the loopback socket,
/// the output and the pipe take from a client that reads nothing — and the
/// one worker must still be free for an HTTP request behind them; had a
/// reply waited for room, that request would be answered 504 (the job
/// timeout, 5 s here).
#[test]
fn an_offloaded_reply_to_a_client_that_does_not_read_does_not_hold_a_worker() {
    use eddy::websocket::{Handler, Message, SendError, Socket};
    use std::sync::{Arc, Condvar, Mutex};
    /// The four offloads' results, and a gate their work waits at until
    /// all four are out: a reply in the pipe before the last message is
    /// read would have it refused (`Full`).
    #[derive(Default)]
    struct Gate {
        results: Mutex<Vec<Result<(), SendError>>>,
        all_out: Condvar,
    }
    struct Big(Arc<Gate>);
    impl Handler for Big {
        fn message(&mut self, _: Message, socket: &mut Socket<'_>) {
            let gate = Arc::clone(&self.0);
            let offloaded = socket.offload(move |_| {
                let results = gate.results.lock().unwrap();
                let _all = gate
                    .all_out
                    .wait_timeout_while(results, IO_TIMEOUT, |r| r.len() < 4)
                    .unwrap();
                Some(Message::Binary(vec![1u8; 8 << 20]))
            });
            self.0.results.lock().unwrap().push(offloaded);
            self.0.all_out.notify_all();
        }
    }
    let gate = Arc::new(Gate::default());
    let socket_gate = Arc::clone(&gate);
    let route = eddy::websocket(move |_| Ok(Big(Arc::clone(&socket_gate))));
    let server = one_worker(route, Duration::from_secs(5));
    let addr = server.addr;
    let mut ws = Ws::open(Wire::Plain, addr);
    let message = masked(BINARY, b"reply");
    ws.send(&[&message[..], &message, &message, &message].concat());
    let mut http = common::Client::connect(addr);
    let answer = http.get("/pooled");
    assert_eq!(*gate.results.lock().unwrap(), vec![Ok(()); 4]);
    assert_eq!((answer.status, answer.text()), (200, "pooled".to_string()));
    drop(ws);
    server.stop();
}

/// An offload's work is handed the socket's `CancelToken`, tripped when the
/// socket closes: long work stops (nobody will read its answer), and work
/// still queued then is not run at all — one client cannot leave a pool
/// busy for hours behind it.
#[test]
fn a_socket_that_closes_cancels_its_offloaded_work() {
    use eddy::websocket::{Handler, Message, Socket};
    use std::sync::{mpsc, Mutex};
    /// Its first message's work runs until cancelled; the second's says
    /// if it ran.
    struct Long(Mutex<mpsc::Sender<&'static str>>);
    impl Handler for Long {
        fn message(&mut self, message: Message, socket: &mut Socket<'_>) {
            let told = self.0.lock().unwrap().clone();
            let long = message == Message::from("long");
            let _ = socket.offload(move |gone| {
                if !long {
                    told.send("queued work ran").unwrap();
                    return None;
                }
                told.send("started").unwrap();
                let bound = Instant::now() + IO_TIMEOUT;
                while !gone.is_cancelled() && Instant::now() < bound {
                    std::thread::yield_now();
                }
                told.send(if gone.is_cancelled() {
                    "cancelled"
                } else {
                    "never cancelled"
                })
                .unwrap();
                None
            });
        }
    }
    let (told, heard) = mpsc::channel();
    let told = Mutex::new(told);
    let route = eddy::websocket(move |_| Ok(Long(Mutex::new(told.lock().unwrap().clone()))));
    let server = one_worker(route, eddy::Config::default().job_timeout);
    let addr = server.addr;
    let mut ws = Ws::open(Wire::Plain, addr);
    ws.send(&[masked(TEXT, b"long"), masked(TEXT, b"short")].concat());
    assert_eq!(heard.recv_timeout(IO_TIMEOUT), Ok("started"));
    ws.send(&masked(CLOSE, &close_payload(1000, b"")));
    assert_eq!(ws.close_code(), Some(1000));
    assert_eq!(heard.recv_timeout(IO_TIMEOUT), Ok("cancelled"));
    // One worker, first in first out: once a job queued after the short
    // work is answered, the short work's turn has passed.
    let mut http = common::Client::connect(addr);
    assert_eq!(http.get("/pooled").status, 200);
    assert_eq!(heard.try_recv(), Err(mpsc::TryRecvError::Empty));
    server.stop();
}

/// `socket` on `/ws`, and `/pooled`, an offloaded route that answers
/// "pooled", served with one worker and `job_timeout`: a `/pooled` answer
/// says that every job queued before it has had its turn.
fn one_worker(socket: eddy::WebSocketRoute, job_timeout: Duration) -> InProcess {
    let pooled = eddy::offload(|_, _| {
        Ok(eddy::Job::new(|_| {
            eddy::Response::text(eddy::StatusCode::OK, "pooled")
        }))
    });
    let router = eddy::Router::new()
        .get("/ws", socket)
        .get("/pooled", pooled);
    let config = eddy::Config {
        workers: 1,
        job_timeout,
        ..eddy::Config::default()
    };
    common::serve_in_process(router, config)
}

/// `/metrics` counts the time threads spent waiting in `Sender::send` on a
/// slow reader (`eddy_websocket_send_wait_seconds_total`), apart from the
/// streamed bodies' wait. A flood outruns a client that reads; each time
/// the pipe fills, the flood waits, and the client's reading ends the wait.
#[test]
fn metrics_count_the_time_senders_waited_on_a_slow_reader() {
    use eddy::websocket::{Handler, Message, Socket};
    struct Flood;
    impl Handler for Flood {
        fn open(&mut self, socket: &mut Socket<'_>) {
            let sender = socket.sender();
            std::thread::spawn(move || while sender.send(vec![7u8; 64 * 1024]).is_ok() {});
        }
        fn message(&mut self, _: Message, _: &mut Socket<'_>) {}
    }
    let router = eddy::Router::new()
        .get("/ws", eddy::websocket(|_| Ok(Flood)))
        .get(
            "/metrics",
            eddy::inline(|_, status| {
                eddy::Response::text(eddy::StatusCode::OK, status.prometheus())
            }),
        );
    let server = serve(Wire::Plain, router);
    let addr = server.addr;
    let waited = || {
        let text = common::Client::connect(addr).get("/metrics").text();
        let metrics = common::prometheus::parse(&text);
        let stream = metrics.value("eddy_stream_wait_seconds_total", &[]);
        assert_eq!(stream, Some(0.0), "a socket counted as a streamed body");
        metrics
            .value("eddy_websocket_send_wait_seconds_total", &[])
            .expect("the family is there")
    };
    assert_eq!(waited(), 0.0);
    let mut ws = Ws::open(Wire::Plain, addr);
    let deadline = Instant::now() + IO_TIMEOUT;
    while waited() == 0.0 {
        for _ in 0..64 {
            assert_eq!(ws.frame().payload.len(), 64 * 1024);
        }
        assert!(Instant::now() < deadline, "no wait was ever counted");
    }
    drop(ws);
    server.stop();
}

both_transports! {
    /// `Sender::close`, from another thread: what it sent before goes out
    /// first, then our Close with its code and reason, and the handshake ends
    /// as it does for `Socket::close` — the client's reply, then the server's
    /// FIN, and the handler told the code. Sends after it, and a second close,
    /// are refused.
    fn a_sender_closes_its_socket_from_another_thread_after_what_it_sent(wire) {
        use eddy::websocket::{Handler, Message, SendError, Socket};
        use std::sync::{mpsc, Mutex};
        type After = (Result<(), SendError>, Result<(), SendError>, bool);
        struct Closer(Mutex<mpsc::Sender<After>>, Mutex<mpsc::Sender<Option<u16>>>);
        impl Handler for Closer {
            fn open(&mut self, socket: &mut Socket<'_>) {
                let (sender, told) = (socket.sender(), self.0.lock().unwrap().clone());
                std::thread::spawn(move || {
                    sender.send("last words").unwrap();
                    assert_eq!(sender.close(4000, "bye"), Ok(()));
                    let after = sender.send("too late");
                    let again = sender.close(1000, "");
                    told.send((after, again, sender.is_closed())).unwrap();
                });
            }
            fn message(&mut self, _: Message, _: &mut Socket<'_>) {}
            fn closed(&mut self, code: Option<u16>) {
                self.1.lock().unwrap().send(code).unwrap();
            }
        }
        let (after_tx, after) = mpsc::channel();
        let (closed_tx, closed) = mpsc::channel();
        let made = Mutex::new(Some((after_tx, closed_tx)));
        let route = eddy::websocket(move |_| {
            let (a, c) = made.lock().unwrap().take().expect("one socket");
            Ok(Closer(Mutex::new(a), Mutex::new(c)))
        });
        let server = serve(wire, eddy::Router::new().get("/ws", route));
        let addr = server.addr;
        assert_only_tls_is_upgraded(wire, addr);
        let mut ws = Ws::open(wire, addr);
        assert_eq!(ws.frame().text(), "last words");
        let close = ws.frame();
        assert_eq!((close.opcode, close.code()), (CLOSE, Some(4000)));
        assert_eq!(&close.payload[2..], b"bye");
        let refused = (Err(SendError::Closed), Err(SendError::Closed), true);
        assert_eq!(after.recv_timeout(IO_TIMEOUT), Ok(refused));
        ws.send(&masked(CLOSE, &close_payload(4000, b"")));
        ws.assert_eof();
        assert_eq!(closed.recv_timeout(IO_TIMEOUT), Ok(Some(4000)));
        server.stop();
    }
}
