//! A connection over a real socket pair, driven by hand with a real
//! reactor and a scripted [`Respond`]: for what only the reactor can
//! show (which timers are armed), or what the server's routes cannot
//! stage at will (a stream that fails with a job queued behind it).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use mio::{Interest, Token};

use super::spares::Spares;
use super::{Connection, JobTicket, Kit, Phase, Reply, Respond, Stream};
use crate::config::Config;
use crate::http::{Limits, Refusal, Request, Response, StatusCode};
use crate::job::{CancelToken, Job};
use crate::reactor::{Handler, Reactor};

impl Stream for mio::net::TcpStream {
    fn shutdown_write(&self) -> std::io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}

/// A loop that is never run: it lends its registry and timers.
struct Loop;

impl Handler for Loop {
    type Timer = ();
    fn ready(&mut self, _: &mut Reactor<Self>, _: Token, _: &mio::event::Event) {}
}

/// Answers `/fail` with a streamed body whose producer stops after 3 of
/// its 10 bytes, and anything else with a job (whose timer it keeps).
#[derive(Default)]
struct Script {
    job: Option<JobTicket>,
}

impl Respond<Loop> for Script {
    fn respond(
        &mut self,
        reactor: &mut Reactor<Loop>,
        request: &mut Request,
        _: u64,
        _: Instant,
    ) -> Reply {
        if request.path() == "/fail" {
            let (response, mut body) = Response::new(StatusCode::OK).streamed(Some(10));
            body.send(b"abc").unwrap();
            drop(body); // stopped short: the body fails
            return Reply::Now {
                route: None,
                response,
            };
        }
        let timer = reactor.call_later(Duration::from_secs(3600), ());
        let job = JobTicket {
            cancel: CancelToken::new(),
            timer,
        };
        self.job = Some(job.clone());
        Reply::Later { route: None, job }
    }

    fn admit(&mut self, _: &Request, _: bool) -> Result<usize, Response> {
        Ok(1024)
    }

    fn error(&self, refusal: Refusal) -> Response {
        Response::refusal(refusal)
    }

    fn refused(&mut self, _: &mut Reactor<Loop>, _: Refusal) {}

    fn release(
        &mut self,
        _: &mut Reactor<Loop>,
        _: Job,
        _: u64,
        _: Option<usize>,
        _: Instant,
    ) -> Result<JobTicket, Response> {
        Err(Response::error(StatusCode::SERVICE_UNAVAILABLE))
    }
}

/// A connected pair: the client's end, and the server's as a connection
/// registered in `reactor`, with `sent` already in its receive queue.
fn connected(reactor: &Reactor<Loop>, sent: &[u8]) -> (TcpStream, Connection<mio::net::TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    client.write_all(sent).unwrap();
    // Blocking, until every byte is in: then one drive reads them all.
    let mut seen = vec![0; sent.len()];
    while server.peek(&mut seen).unwrap() < sent.len() {}
    server.set_nonblocking(true).unwrap();
    let mut socket = mio::net::TcpStream::from_std(server);
    let registry = reactor.registry();
    registry
        .register(&mut socket, Token(0), Interest::READABLE)
        .unwrap();
    let mut conn = Connection::new(socket, None, Limits::default(), None);
    conn.note_readiness(true, true);
    (client, conn)
}

/// One drive of `conn` with `script` answering.
fn drive(
    reactor: &mut Reactor<Loop>,
    conn: &mut Connection<mio::net::TcpStream>,
    script: &mut Script,
) {
    let mut scratch = vec![0; super::READ_CHUNK];
    let mut spares = Spares::default();
    let config = Config::default();
    let kit = Kit {
        scratch: &mut scratch,
        spares: &mut spares,
        date: b"Thu, 01 Jan 1970 00:00:00 GMT",
        config: &config,
        token: Token(0),
        timer: (),
    };
    conn.drive(reactor, kit, script);
}

/// Issue 20, point 5: the answers behind a failed stream are given up by
/// the one function that gives up jobs — token tripped *and* timer
/// disarmed. (`abandon_queue` used to trip tokens only: the job's timer
/// stayed armed for a place that no longer existed.)
#[test]
fn a_failed_stream_gives_up_the_job_behind_it_timer_and_all() {
    let mut reactor = Reactor::<Loop>::new().unwrap();
    let sent = b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\nGET /job HTTP/1.1\r\nHost: x\r\n\r\n";
    let (mut client, mut conn) = connected(&reactor, sent);
    let mut script = Script::default();
    drive(&mut reactor, &mut conn, &mut script);
    let job = script.job.expect("the second request was offloaded");
    assert!(
        job.cancel.is_cancelled(),
        "the job behind the failed stream runs on"
    );
    assert!(
        !reactor.is_armed(job.timer),
        "the job's timer is still armed for a place that is gone"
    );
    assert!(matches!(
        conn.phase(),
        Phase::Lingering { .. } | Phase::Closed
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
