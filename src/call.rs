//! `eddy call`: the seed's `call_multi.py`, as a second small reactor.
//!
//! The Tornado question measured its server with a client that schedules 3
//! slow requests and then 20 fast ones *all at once* — each on its own
//! connection, through Tornado's `AsyncHTTPClient` — and prints every
//! answer as it arrives. If the slow work blocks the server, the fast
//! answers come late; if it is offloaded, they overtake the slow ones.
//!
//! This module is that client, built from the same parts as the server: one
//! thread, one `mio::Poll`, one non-blocking `TcpStream` per request, and
//! the same `Timers` (`reactor/timers.rs`) for deadlines. Nothing here knows about the server's
//! internals; it speaks HTTP/1.1 over real sockets like any other client.
//!
//! - `plan` lists the requests: `/<route>?id=k&n=N` for the slow ones,
//!   `/fast?id=k` for the fast ones, slow first.
//! - `run` issues every connect before reading any answer, then turns the
//!   poll until each request has finished — answered, failed, or past its
//!   timeout. The token of a request's socket is its index in the plan.
//!   Each request is an `exchange::Exchange`, an explicit state machine
//!   (connecting → sending → receiving).
//! - `Report` holds what happened: a line per answer as it came, then a
//!   `Summary` (fast max, slow max, did every fast answer beat every slow
//!   one) and, for `--svg`, a `Timeline` (`timeline.rs`).
//! - [`command`] is all the `eddy` binary calls: the call, its summary and
//!   timeline printed, and the exit code. The module is public for the
//!   binary alone, and hidden from the docs.

mod exchange;
mod report;

use std::fmt;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};

use crate::demo::DEFAULT_N;
use crate::reactor::{TimerKey, Timers};
use exchange::{Exchange, Failure, Step};
use report::{Kind, Outcome, Report};

/// How long one request may take, from its connect to its last body byte,
/// before it counts as "timed out". Generous: the largest demo job
/// (`n=20000`) takes about 1.5 s in a release build.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The most slow (or fast) requests one call may make. Each request is its
/// own connection, so its own file descriptor in the client *and* in the
/// server, and the usual soft limit is 1024 per process.
pub const MAX_PER_KIND: usize = 500;

/// Which slow route the call exercises: the seed's two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `/slow`: the heavy work runs on the server's loop and blocks it.
    Slow,
    /// `/slow_threaded`: the heavy work runs on the worker pool.
    SlowThreaded,
}

impl Mode {
    /// Reads the command-line spelling (`slow`, `slow_threaded`).
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "slow" => Some(Mode::Slow),
            "slow_threaded" => Some(Mode::SlowThreaded),
            _ => None,
        }
    }

    /// The route's path without the slash, which is also its CLI spelling.
    pub(crate) fn route(self) -> &'static str {
        match self {
            Mode::Slow => "slow",
            Mode::SlowThreaded => "slow_threaded",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.route())
    }
}

/// Everything `eddy call` was asked to do.
#[derive(Debug, Clone)]
pub struct CallOptions {
    /// Which slow route to call.
    pub mode: Mode,
    /// The server's address as the user wrote it (`localhost:8888`): it goes
    /// into the printed URLs and the `Host` header.
    pub host: String,
    /// The same address, resolved: what the sockets connect to.
    pub addr: SocketAddr,
    /// How many slow requests, sent first.
    pub slow: usize,
    /// How many fast requests, sent right after.
    pub fast: usize,
    /// The slow requests' job size: `heavy_lifting(n)` on the server.
    pub n: u32,
    /// Where to write the timeline picture, if anywhere.
    pub svg: Option<PathBuf>,
    /// Per-request time limit; `REQUEST_TIMEOUT` unless a test shortens it.
    pub timeout: Duration,
}

impl CallOptions {
    /// The seed's run: 3 slow and 20 fast requests, `n=2000`, to the seed's
    /// port on this machine.
    pub fn new(mode: Mode) -> CallOptions {
        CallOptions {
            mode,
            host: "127.0.0.1:8888".into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 8888)),
            slow: 3,
            fast: 20,
            n: DEFAULT_N,
            svg: None,
            timeout: REQUEST_TIMEOUT,
        }
    }
}

/// One request the call will make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    /// Slow or fast.
    pub(crate) kind: Kind,
    /// The `id` query parameter: 1, 2, ... within its kind, as in the seed.
    pub(crate) id: usize,
    /// Path and query, e.g. `/fast?id=3`.
    pub(crate) path: String,
}

impl Planned {
    /// The full URL, for printing.
    pub(crate) fn url(&self, host: &str) -> String {
        format!("http://{host}{}", self.path)
    }

    /// The request's bytes. `Connection: close`, like a one-shot
    /// `AsyncHTTPClient` fetch: one request per connection, and the server
    /// closes once it has answered.
    fn http_request(&self, host: &str) -> Vec<u8> {
        format!(
            "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: eddy-call\r\nConnection: close\r\n\r\n",
            self.path
        )
        .into_bytes()
    }
}

/// The requests of one call, in sending order: the slow ones, then the fast.
pub(crate) fn plan(options: &CallOptions) -> Vec<Planned> {
    let route = options.mode.route();
    let slow = (1..=options.slow).map(|id| Planned {
        kind: Kind::Slow,
        id,
        path: format!("/{route}?id={id}&n={}", options.n),
    });
    let fast = (1..=options.fast).map(|id| Planned {
        kind: Kind::Fast,
        id,
        path: format!("/fast?id={id}"),
    });
    slow.chain(fast).collect()
}

/// A request whose exchange is still under way.
struct InFlight {
    exchange: Exchange,
    /// When its connect was issued.
    began: Instant,
    /// Its timeout, cancelled when it finishes first.
    timer: TimerKey,
}

/// Makes the call: prints the schedule to `out`, sends every request,
/// prints each answer to `out` as it arrives (and each failure to `err`),
/// and returns the report once every request has finished. The summary is
/// the caller's to print. `Err` only if the poll itself fails.
pub(crate) fn run(
    options: &CallOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Report> {
    let plan = plan(options);
    writeln!(out, "Scheduling GET requests:")?;
    writeln!(out, "------------------------")?;
    for request in &plan {
        writeln!(out, "{}", request.url(&options.host))?;
    }
    writeln!(out, "\nStart sending requests....")?;
    out.flush()?;

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(plan.len().max(1));
    let mut timers = Timers::default();
    let mut report = Report::new(options.mode, options.n, plan.len());
    // Indexed like `plan`; a request's entry is emptied when it finishes.
    let mut in_flight: Vec<Option<InFlight>> = Vec::with_capacity(plan.len());
    let zero = Instant::now();

    // Every connect before any answer is read, slow ones first: the seed's
    // "all at once". Each request is written as soon as its socket connects.
    for (index, request) in plan.iter().enumerate() {
        let began = Instant::now();
        let bytes = request.http_request(&options.host);
        match Exchange::connect(options.addr, bytes, Token(index), poll.registry()) {
            Ok(exchange) => {
                let timer = timers.insert(began + options.timeout, index);
                in_flight.push(Some(InFlight {
                    exchange,
                    began,
                    timer,
                }));
            }
            Err(failure) => {
                in_flight.push(None);
                let outcome = Outcome::new(request, zero, began, None, Err(failure));
                report.record(index, outcome, &options.host, out, err)?;
            }
        }
    }

    let mut pending = in_flight.iter().flatten().count();
    while pending > 0 {
        // Sleep until a socket is ready or the nearest request times out.
        let timeout = timers
            .next_deadline()
            .map(|deadline| deadline.saturating_duration_since(Instant::now()));
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in events.iter() {
            let index = event.token().0;
            // A late event for a request that already finished finds nothing.
            let Some(Some(flight)) = in_flight.get_mut(index) else {
                continue;
            };
            let Step::Finished(result) = flight.exchange.advance(poll.registry()) else {
                continue;
            };
            let flight = in_flight[index].take().expect("checked above");
            timers.cancel(flight.timer);
            let planned = &plan[index];
            let result = result.and_then(|answer| report::judge(planned.kind, planned.id, &answer));
            let outcome = Outcome::new(
                &plan[index],
                zero,
                flight.began,
                flight.exchange.sent(),
                result,
            );
            report.record(index, outcome, &options.host, out, err)?;
            pending -= 1;
        }
        let now = Instant::now();
        while let Some((_, index)) = timers.pop_due(now) {
            let Some(mut flight) = in_flight[index].take() else {
                continue;
            };
            flight.exchange.abandon();
            let failure = Failure::TimedOut(options.timeout);
            let sent = flight.exchange.sent();
            let outcome = Outcome::new(&plan[index], zero, flight.began, sent, Err(failure));
            report.record(index, outcome, &options.host, out, err)?;
            pending -= 1;
        }
    }
    Ok(report)
}

/// `eddy call` itself, once its options are parsed (`cli.rs`): makes the
/// call (`run`), prints the summary, draws the timeline if asked, and
/// turns the outcome into the exit code: 0 if every request was answered
/// `200` in full, else 1.
pub fn command(options: &CallOptions) -> i32 {
    let (mut out, mut err) = (io::stdout(), io::stderr());
    let report = match run(options, &mut out, &mut err) {
        Ok(report) => report,
        Err(e) => {
            let _ = writeln!(err, "eddy call: the client's event loop failed: {e}");
            return 1;
        }
    };
    let _ = writeln!(out, "{}", report.summary());
    let mut code = 0;
    if let Some(path) = &options.svg {
        match std::fs::write(path, report.timeline().to_svg()) {
            Ok(()) => {
                let _ = writeln!(out, "timeline written to {}", path.display());
            }
            Err(e) => {
                let _ = writeln!(err, "eddy call: cannot write {}: {e}", path.display());
                code = 1;
            }
        }
    }
    let failed = report.failures();
    if failed > 0 {
        let total = report.outcomes().count();
        let refused = report
            .outcomes()
            .filter(|o| matches!(o.result, Err(Failure::Refused)))
            .count();
        let hint = if refused == total {
            format!(
                " (is eddy serving on {}? start it with `eddy serve --addr {}`)",
                options.host, options.host
            )
        } else {
            String::new()
        };
        let _ = writeln!(err, "eddy call: {failed} of {total} requests failed{hint}");
        code = 1;
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;
    use std::thread;

    /// Options for a call with `slow` + `fast` requests to `addr`.
    fn options(addr: SocketAddr, slow: usize, fast: usize) -> CallOptions {
        CallOptions {
            host: addr.to_string(),
            addr,
            slow,
            fast,
            ..CallOptions::new(Mode::SlowThreaded)
        }
    }

    /// A one-thread server that accepts `conns` connections and gives each
    /// to `answer` (in accept order).
    fn fake_server(conns: usize, answer: fn(std::net::TcpStream)) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for socket in listener.incoming().take(conns) {
                answer(socket.unwrap());
            }
        });
        addr
    }

    /// A fake server that reads one request and writes `response` (raw
    /// bytes), then closes.
    fn answering(response: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            if let Some(Ok(mut socket)) = listener.incoming().next() {
                read_head(&mut socket);
                let _ = std::io::Write::write_all(&mut socket, response);
            }
        });
        addr
    }

    /// Reads one request head, so the answer is not reset out of the
    /// client's hands by unread input.
    fn read_head(socket: &mut std::net::TcpStream) {
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
    }

    #[test]
    fn the_plan_sends_slow_first_with_the_seed_ids() {
        let urls: Vec<_> = plan(&CallOptions::new(Mode::Slow))
            .iter()
            .map(|p| p.url("localhost:8888"))
            .collect();
        assert_eq!(urls.len(), 23);
        assert_eq!(urls[0], "http://localhost:8888/slow?id=1&n=2000");
        assert_eq!(urls[2], "http://localhost:8888/slow?id=3&n=2000");
        assert_eq!(urls[3], "http://localhost:8888/fast?id=1");
        assert_eq!(urls[22], "http://localhost:8888/fast?id=20");
    }

    #[test]
    fn answers_are_recorded_and_a_wrong_or_short_body_is_named() {
        let addr =
            answering(b"HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\nslow result 1 <--- 0.001 s");
        let report = run(&options(addr, 1, 0), &mut io::sink(), &mut io::sink()).unwrap();
        assert_eq!(report.failures(), 0);

        // A 200 that is not the demo's answer: something else listens there.
        let errors = one_fast_request_fails(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        assert!(
            errors.contains("200, but not the demo's answer: \"hello\""),
            "{errors}"
        );
        let errors = one_fast_request_fails(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nfast");
        assert!(errors.contains("/fast?id=1): short body"), "{errors}");
    }

    /// Calls `/fast?id=1` once against a server answering `response`,
    /// asserts that the call counts it as failed, and returns what it said
    /// on stderr.
    fn one_fast_request_fails(response: &'static [u8]) -> String {
        let addr = answering(response);
        let mut errors = Vec::new();
        let report = run(&options(addr, 0, 1), &mut io::sink(), &mut errors).unwrap();
        assert_eq!(report.failures(), 1);
        let errors = String::from_utf8(errors).unwrap();
        assert!(
            errors.contains(&format!("request 1 (http://{addr}/fast?id=1): ")),
            "{errors}"
        );
        errors
    }

    #[test]
    fn a_silent_server_times_out() {
        let addr = fake_server(1, |socket| {
            thread::sleep(Duration::from_secs(2));
            drop(socket);
        });
        let options = CallOptions {
            timeout: Duration::from_millis(200),
            ..options(addr, 0, 1)
        };
        let t0 = Instant::now();
        let mut errors = Vec::new();
        let report = run(&options, &mut io::sink(), &mut errors).unwrap();
        assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
        assert_eq!(report.failures(), 1);
        assert!(String::from_utf8(errors).unwrap().contains("timed out"));
    }

    #[test]
    fn a_closed_port_is_refused() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap(); // the listener is dropped: nothing listens there now
        let mut errors = Vec::new();
        let report = run(&options(addr, 1, 1), &mut io::sink(), &mut errors).unwrap();
        assert_eq!(report.failures(), 2);
        let errors = String::from_utf8(errors).unwrap();
        assert_eq!(errors.matches("refused").count(), 2, "{errors}");
    }
}
