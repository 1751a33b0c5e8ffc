//! A connection over a real socket pair, driven by hand with a scripted
//! [`Respond`] — no loop at all, which the connection never touches: for
//! what the server's routes cannot stage at will (a stream that fails with
//! a job queued behind it, a protocol upgrade to a toy protocol).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::{Connection, JobTicket, Kit, OffLoop, Reply, Respond, Spares, Upgraded};
use crate::config::Config;
use crate::http::{Limits, Refusal, Request, Response, StatusCode};
use crate::job::Job;
use crate::transport::{Buffers, Life, Plain, Transport, READ_CHUNK};

/// Answers `/now` at once, `/fail` with a streamed body whose producer
/// stops after 3 of its 10 bytes, `/upgrade` with a `101` to [`Shout`], and
/// anything else with a job; remembers the jobs it gave (and their places)
/// and those given up. `http1.rs`'s tests use it too.
#[derive(Default)]
pub(super) struct Script {
    pub(super) jobs: Vec<JobTicket>,
    pub(super) seqs: Vec<u64>,
    given_up: Vec<JobTicket>,
}

impl Respond for Script {
    fn respond(&mut self, request: &mut Request, seq: u64, _: Instant) -> Reply {
        match request.path() {
            "/fail" => {
                let (response, mut body) = Response::new(StatusCode::OK).streamed(Some(10));
                body.send(b"abc").unwrap();
                drop(body); // stopped short: the body fails
                Reply::Now {
                    route: None,
                    response,
                }
            }
            "/upgrade" => Reply::Upgrade {
                route: None,
                response: Response::new(StatusCode::SWITCHING_PROTOCOLS)
                    .with_header("Upgrade", "shout")
                    .with_header("Connection", "upgrade"),
                to: Box::new(Shout { done: false }),
            },
            "/now" => Reply::Now {
                route: None,
                response: Response::text(StatusCode::OK, "now\n"),
            },
            _ => {
                let job = JobTicket(self.jobs.len());
                self.jobs.push(job);
                self.seqs.push(seq);
                Reply::Later { route: None, job }
            }
        }
    }

    fn admit(&mut self, _: &Request, _: bool) -> Result<usize, Response> {
        Ok(1024)
    }

    fn error(&self, refusal: Refusal) -> Response {
        Response::refusal(refusal)
    }

    fn refused(&mut self, _: Refusal) {}

    fn release(
        &mut self,
        _: Job,
        _: u64,
        _: Option<usize>,
        _: Instant,
    ) -> Result<JobTicket, Response> {
        Err(Response::error(StatusCode::SERVICE_UNAVAILABLE))
    }

    fn give_up(&mut self, job: JobTicket) {
        self.given_up.push(job);
    }

    fn off_loop(&mut self, work: OffLoop) -> bool {
        work();
        true
    }
}

/// A toy protocol for the upgrade: echoes every byte upper-cased, and is
/// done once it has echoed `BYE`.
struct Shout {
    done: bool,
}

impl Upgraded for Shout {
    fn receive(&mut self, buffers: &mut Buffers, _: Instant, _: &mut dyn FnMut(OffLoop) -> bool) {
        let input = buffers.input().to_ascii_uppercase();
        buffers.consume(input.len());
        self.done |= input.windows(3).any(|w| w == b"BYE");
        buffers.output().extend_from_slice(&input);
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

type Conn = Connection<Plain<mio::net::TcpStream>>;

/// A connected pair: the client's end, and the server's as a connection.
fn connected() -> (TcpStream, Conn) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    let socket = mio::net::TcpStream::from_std(server);
    let conn = Connection::new(Plain::new(socket), None, Limits::default(), None);
    (client, conn)
}

/// Sends `bytes` from the client and waits until the server's socket holds
/// them all (loopback delivers them as `write` returns; the wait is for
/// certainty, not for time): then one drive reads them.
fn send(client: &mut TcpStream, conn: &mut Conn, bytes: &[u8]) {
    client.write_all(bytes).unwrap();
    let mut seen = vec![0; bytes.len()];
    let socket = conn.transport().socket();
    while socket.peek(&mut seen).map_or(0, |n| n) < bytes.len() {
        std::thread::yield_now();
    }
    conn.transport().note_readiness(true, true, false);
}

/// One drive of `conn` with `script` answering (again while cut short).
fn drive<T: Transport>(conn: &mut Connection<T>, script: &mut Script) {
    let mut scratch = vec![0; READ_CHUNK];
    let mut spares = Spares::default();
    let config = Config::default();
    for _ in 0..16 {
        let kit = Kit {
            scratch: &mut scratch,
            spares: &mut spares,
            date: b"Thu, 01 Jan 1970 00:00:00 GMT",
            config: &config,
        };
        if !conn.drive(kit, script).cut_short {
            return;
        }
    }
}

/// Reads from the client until `want` bytes came (or EOF, or 10 s).
fn read_exactly(client: &mut TcpStream, want: usize) -> Vec<u8> {
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = vec![0; want];
    client.read_exact(&mut got).unwrap();
    got
}

/// Issue 20, point 5, now with the jobs table owning each job's life: the
/// answers behind a failed stream are given up through the one path that
/// gives up jobs (`Respond::give_up`, which the server's jobs table
/// answers by tripping the token and disarming the timer).
#[test]
fn a_failed_stream_gives_up_the_job_behind_it() {
    let (mut client, mut conn) = connected();
    let mut script = Script::default();
    let sent = b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\nGET /job HTTP/1.1\r\nHost: x\r\n\r\n";
    send(&mut client, &mut conn, sent);
    drive(&mut conn, &mut script);
    assert_eq!(script.jobs.len(), 1, "the second request was offloaded");
    assert_eq!(
        script.given_up, script.jobs,
        "the job behind the failed stream was not given up"
    );
    assert!(matches!(
        conn.state().0,
        Life::Lingering { .. } | Life::Closed
    ));
    // The client sees 3 of the 10 bytes promised, then the close.
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    drop(conn);
    client.read_to_end(&mut got).unwrap();
    assert!(
        got.ends_with(b"\r\n\r\nabc"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

/// Issue 21, point 2: a `101` hands the transport to the new protocol with
/// every byte that followed the request's head — here a pipelined request
/// before it, and the first bytes for the new protocol in the same write —
/// and the answers before it still leave first, in order.
#[test]
fn an_upgrade_hands_over_the_bytes_after_the_head_and_loses_none() {
    let (mut client, mut conn) = connected();
    let mut script = Script::default();
    let sent = b"GET /now HTTP/1.1\r\nHost: x\r\n\r\n\
                 GET /upgrade HTTP/1.1\r\nHost: x\r\nUpgrade: shout\r\nConnection: upgrade\r\n\r\n\
                 hello, GET / HTTP/1.1\r\n\r\n";
    send(&mut client, &mut conn, sent);
    drive(&mut conn, &mut script);
    assert!(
        script.jobs.is_empty(),
        "bytes after the head were decoded as HTTP"
    );
    let now = b"HTTP/1.1 200 OK\r\n";
    let got = read_exactly(&mut client, now.len());
    assert_eq!(&got, now);
    // Skip the rest of the first answer and the 101's head: up to the 101's
    // blank line.
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"101 Switching Protocols\r\n") {
        client.read_exact(&mut byte).unwrap();
        seen.push(byte[0]);
    }
    while !seen.ends_with(b"\r\n\r\n") {
        client.read_exact(&mut byte).unwrap();
        seen.push(byte[0]);
    }
    let first = b"HELLO, GET / HTTP/1.1\r\n\r\n";
    assert_eq!(read_exactly(&mut client, first.len()), first);
    // The new protocol goes on speaking, then ends the connection.
    send(&mut client, &mut conn, b"more, bye");
    drive(&mut conn, &mut script);
    assert_eq!(read_exactly(&mut client, 9), b"MORE, BYE");
    assert!(
        matches!(conn.state().0, Life::Lingering { .. } | Life::Closed),
        "the protocol was done, the transport did not finish"
    );
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}

/// The TLS transport under a connection, with an in-process rustls client
/// over a real socket pair: the hangs TLS is known for on readiness loops.
#[cfg(feature = "tls")]
mod tls {
    use std::io::ErrorKind;
    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, RootCertStore};

    use super::*;
    use crate::transport::Tls;

    type TlsConn = Connection<Tls<mio::net::TcpStream>>;

    fn data(name: &str) -> String {
        format!("{}/tests/data/tls/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    /// A client that trusts the test CA, and a server connection over TLS
    /// (its handshake flights left for the test to process if `offload`),
    /// connected; the client's socket is non-blocking.
    fn connected(offload: bool) -> (ClientConnection, TcpStream, TlsConn) {
        let server = crate::tls::TlsConfig::from_pem_files(data("cert.pem"), data("key.pem"))
            .unwrap()
            .rustls();
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(data("ca.pem")).unwrap())
            .unwrap();
        #[allow(deprecated)] // the same provider the server uses
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").unwrap();
        let client = ClientConnection::new(Arc::new(config), name).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let raw = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        raw.set_nonblocking(true).unwrap();
        let (socket, _) = listener.accept().unwrap();
        socket.set_nonblocking(true).unwrap();
        let socket = mio::net::TcpStream::from_std(socket);
        let transport = Tls::new(socket, server, offload).unwrap();
        let conn = Connection::new(transport, None, Limits::default(), None);
        (client, raw, conn)
    }

    /// Everything the client has to send, onto its socket; how many bytes.
    fn client_sends(client: &mut ClientConnection, raw: &mut TcpStream) -> usize {
        let mut sent = 0;
        while client.wants_write() {
            sent += client.write_tls(raw).unwrap();
        }
        sent
    }

    /// What the server sent that the client can read now, as plaintext.
    /// (Plaintext is taken out after every record batch: rustls refuses
    /// more records while 16 KiB of it wait — the very hang `Tls::read`
    /// avoids on the server's side.)
    fn client_reads(client: &mut ClientConnection, raw: &mut TcpStream) -> Vec<u8> {
        let mut plain = Vec::new();
        loop {
            match client.read_tls(raw) {
                Ok(0) => break,
                Ok(_) => {
                    client.process_new_packets().unwrap();
                    let _ = client.reader().read_to_end(&mut plain);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        let _ = client.reader().read_to_end(&mut plain);
        plain
    }

    /// Drives `conn` once as one event would: its socket readable and
    /// writable, once all `sent` bytes in flight arrived (so one read takes
    /// them all; the spin is for certainty, bounded by 10 s).
    fn event(conn: &mut TlsConn, script: &mut Script, sent: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = vec![0u8; sent];
        let socket = conn.transport().wire_socket();
        while socket.peek(&mut seen).map_or(0, |n| n) < sent && Instant::now() < deadline {
            std::thread::yield_now();
        }
        conn.transport().note_readiness(true, true, false);
        drive(conn, script);
    }

    /// The handshake's last flight and a request in one write: the request
    /// is decrypted with the flight, inside the session, and no socket edge
    /// will ever announce it. It must be answered in the same drive.
    /// (Drained only before feeding records, it sat in the session until
    /// the client, waiting for its answer, gave up.)
    #[test]
    fn a_request_in_the_handshakes_last_flight_is_answered_without_another_edge() {
        let (mut client, mut raw, mut conn) = connected(false);
        let mut script = Script::default();
        let hello = client_sends(&mut client, &mut raw);
        event(&mut conn, &mut script, hello);
        // The server's flight went out in that same drive: a read that
        // required a write.
        let deadline = Instant::now() + Duration::from_secs(10);
        while client.is_handshaking() && Instant::now() < deadline {
            client_reads(&mut client, &mut raw);
            std::thread::yield_now();
        }
        assert!(!client.is_handshaking(), "the server's flight never came");
        // The client's Finished waits unsent; the request joins it, and
        // both reach the server in one write.
        client
            .writer()
            .write_all(b"GET /now HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let flight = client_sends(&mut client, &mut raw);
        event(&mut conn, &mut script, flight);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut answer = Vec::new();
        while !answer.ends_with(b"now\n") && Instant::now() < deadline {
            answer.extend(client_reads(&mut client, &mut raw));
            std::thread::yield_now();
        }
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with("HTTP/1.1 200 OK\r\n"),
            "no answer: {text:?}"
        );
    }

    /// Far more pipelined plaintext than rustls buffers decrypted (16 KiB)
    /// or the protocol takes at once (64 KiB): every request is answered,
    /// in order, with no "received plaintext buffer full" on the way.
    #[test]
    fn pipelined_plaintext_beyond_the_sessions_buffer_is_all_answered() {
        let (mut client, mut raw, mut conn) = connected(false);
        let mut script = Script::default();
        let deadline = Instant::now() + Duration::from_secs(10);
        while client.is_handshaking() && Instant::now() < deadline {
            let sent = client_sends(&mut client, &mut raw);
            event(&mut conn, &mut script, sent);
            client_reads(&mut client, &mut raw);
        }
        let requests = 3000;
        let all = b"GET /now HTTP/1.1\r\nHost: x\r\n\r\n".repeat(requests);
        let (mut queued, mut answers) = (0, 0);
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while answers < requests && Instant::now() < deadline {
            // As much as the client's session takes, then as many records
            // as the socket takes.
            queued += client.writer().write(&all[queued..]).unwrap_or(0);
            if client.wants_write() {
                let _ = client.write_tls(&mut raw);
            }
            conn.transport().note_readiness(true, true, false);
            drive(&mut conn, &mut script);
            got.extend(client_reads(&mut client, &mut raw));
            answers = got.windows(4).filter(|w| w == b"now\n").count();
        }
        assert!(!conn.is_closed(), "the connection failed on the way");
        assert_eq!(answers, requests);
    }

    /// With `offload`, a handshake flight is not processed in the drive:
    /// the session leaves as a step, and while it is away the connection
    /// reads nothing, writes nothing, wants no `WRITABLE` and asks for no
    /// other drive (`may_read` false: a spin otherwise). Processed
    /// elsewhere and resumed, the next drive — with no new edge — writes
    /// the server's flight; the client's last flight leaves the same way,
    /// and the request in it is answered.
    #[test]
    fn a_handshake_flight_leaves_is_processed_elsewhere_and_resumes() {
        let (mut client, mut raw, mut conn) = connected(true);
        let mut script = Script::default();
        let mut steps = 0;
        let mut answer = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !answer.ends_with(b"now\n") && Instant::now() < deadline {
            if !client.is_handshaking() && client.wants_write() {
                client
                    .writer()
                    .write_all(b"GET /now HTTP/1.1\r\nHost: x\r\n\r\n")
                    .unwrap();
            }
            let sent = client_sends(&mut client, &mut raw);
            if sent > 0 {
                event(&mut conn, &mut script, sent);
            }
            if let Some(mut step) = conn.transport().take_handshake_step() {
                steps += 1;
                // Away: nothing to read, nothing to write, and no drive
                // asked, even with an edge remembered (a spin otherwise).
                assert_eq!(conn.interest(), mio::Interest::READABLE);
                conn.transport().note_readiness(true, true, false);
                drive(&mut conn, &mut script);
                assert!(!conn.transport().may_read(), "a spin while away");
                assert!(conn.transport().take_handshake_step().is_none());
                assert!(client_reads(&mut client, &mut raw).is_empty());
                step.run();
                conn.transport().resume(step);
                assert!(conn.transport().may_read(), "the return must be driven");
                drive(&mut conn, &mut script);
            }
            answer.extend(client_reads(&mut client, &mut raw));
        }
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with("HTTP/1.1 200 OK\r\n"),
            "no answer: {text:?}"
        );
        // TLS 1.3: the ClientHello, then the client's Finished.
        assert_eq!(steps, 2, "handshake flights processed off the drive");
        assert!(!conn.is_closed());
    }
}
