//! Answering one connection's requests: the server's side of
//! `connection::Respond`.
//!
//! [`Answering`] borrows what answers need — the router, the jobs table,
//! the counters, the loop (for a job's timer) — for one drive of one
//! connection. The linear path of a request, after decoding:
//!
//! `Router::resolve` → `Router::answer` → `Answer::Now` (an inline handler
//! ran, or 404/405/OPTIONS) | `Answer::Offload` (`Jobs::submit`, or 503 when
//! the queue is full; a streaming job is held for its turn) |
//! `Answer::Failed` (a panic: 500, reported) | `Answer::Upgrade` (a
//! WebSocket route's `101`: the connection's protocol becomes a
//! `WebSocket`, its senders' pipe given a way back into the loop).
//!
//! Before that, for a request with a body, `admit` says how large a body
//! its route takes — and, when the client waits on `Expect: 100-continue`
//! for a request no route serves, answers at once instead.
//!
//! An inline handler sees the server through a [`ServerStatus`] whose
//! figures `Answering` gives only when asked ([`StatusSource`]).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::jobs::{JobTimeout, Jobs, ReplyTo};
use super::streams::Streams;
use super::ConnId;
use crate::config::Config;
use crate::connection::{JobTicket, OffLoop, Reply, Respond};
#[cfg(feature = "websocket")]
use crate::connection::{Keepalive, WebSocket};
use crate::histogram::Histogram;
use crate::http::{Refusal, Request, Response, StatusCode};
use crate::job::Job;
use crate::log::{EventLog, ServerEvent};
use crate::metrics::Metrics;
use crate::reactor::{Handler, Reactor};
use crate::router::{self, Answer, Resolved, Router};
use crate::status::{ServerHandle, ServerStatus, StatusSource};

/// Everything that turns a decoded request into an answer: the router,
/// the jobs table, the counters, and what inline handlers and streamed
/// bodies are given.
pub(crate) struct Responder {
    router: Router,
    jobs: Jobs,
    metrics: Metrics,
    streams: Streams,
    /// The server's handle, lent to inline handlers through their status.
    handle: ServerHandle,
    /// Where a handler's panic is reported.
    events: Option<EventLog>,
    /// The default body limit (a route may change it).
    max_body: usize,
}

/// What inline handlers may see that the server knows without asking
/// anyone: plain reads, taken per drive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub(crate) open_connections: usize,
    pub(crate) draining: bool,
    pub(crate) accept_backoff: Duration,
}

impl Responder {
    pub(crate) fn new(
        router: Router,
        jobs: Jobs,
        metrics: Metrics,
        streams: Streams,
        handle: ServerHandle,
        config: &Config,
    ) -> Responder {
        Responder {
            router,
            jobs,
            metrics,
            streams,
            handle,
            events: config.events.clone(),
            max_body: config.max_body,
        }
    }

    /// Lends itself to one drive of connection `conn`.
    pub(crate) fn answering<'a, H: Handler>(
        &'a mut self,
        reactor: &'a mut Reactor<H>,
        conn: ConnId,
        facts: Facts,
    ) -> Answering<'a, H> {
        Answering {
            responder: self,
            reactor,
            conn,
            facts,
        }
    }

    /// The router (its error pages).
    pub(crate) fn router(&self) -> &Router {
        &self.router
    }

    /// The jobs table and the counters, for a job's message.
    pub(crate) fn jobs(&mut self) -> (&mut Jobs, &mut Metrics) {
        (&mut self.jobs, &mut self.metrics)
    }

    /// The counters.
    pub(crate) fn metrics(&mut self) -> &mut Metrics {
        &mut self.metrics
    }

    /// What streamed bodies are given.
    pub(crate) fn streams(&self) -> &Streams {
        &self.streams
    }

    /// The server's handle.
    pub(crate) fn handle(&self) -> &ServerHandle {
        &self.handle
    }
}

/// The [`Responder`], lent to one connection's drive.
pub(crate) struct Answering<'a, H: Handler> {
    responder: &'a mut Responder,
    reactor: &'a mut Reactor<H>,
    /// The connection being driven: where offloaded answers go back to.
    conn: ConnId,
    facts: Facts,
}

impl<H> Answering<'_, H>
where
    H: Handler,
    H::Timer: From<JobTimeout>,
{
    /// Hands `job` to the pool, its answer to go to place `seq`: its
    /// ticket, or the 503 to answer when the queue is full — said now, with
    /// when to come back, rather than queueing without limit (the seed's
    /// process per request had no limit at all).
    fn submit(
        &mut self,
        job: Job,
        seq: u64,
        route: Option<usize>,
    ) -> Result<(u64, JobTicket), Response> {
        let reply_to = ReplyTo {
            conn: self.conn,
            seq,
        };
        let responder = &mut *self.responder;
        (responder.jobs)
            .submit(self.reactor, &mut responder.metrics, job, reply_to, route)
            .map_err(|()| {
                let busy = responder.router.error(StatusCode::SERVICE_UNAVAILABLE);
                busy.with_header("Retry-After", "1")
            })
    }

    /// The socket an accepted upgrade opens: the `101`, and the protocol
    /// that speaks after it, whose senders' pipe wakes the loop the way a
    /// streamed body's does (`Message::StreamReady`).
    #[cfg(feature = "websocket")]
    #[cold] // kept out of `respond`, which every `/fast` request runs
    fn socket(&mut self, upgrade: router::Upgrade) -> (Response, WebSocket) {
        let (producer, outbox) = crate::stream::pipe(None);
        self.responder.streams.attach_socket(&outbox, self.conn);
        let keepalive = Keepalive {
            interval: upgrade.ping_interval,
            timeout: upgrade.ping_timeout,
        };
        let socket = WebSocket::new(
            upgrade.handler,
            outbox,
            crate::websocket::Sender::new(producer),
            upgrade.max_message,
            keepalive,
            std::sync::Arc::clone(&self.responder.metrics.sockets),
        );
        (upgrade.response, socket)
    }

    /// Reports a caught panic: the `Panicked` event.
    fn report_panic(&self, route: Option<usize>, report: &crate::panic_report::PanicReport) {
        if let Some(events) = &self.responder.events {
            events(&ServerEvent::Panicked {
                who: "handler",
                route: self.responder.metrics.route_name(route),
                report,
            });
        }
    }
}

impl<H> Respond for Answering<'_, H>
where
    H: Handler,
    H::Timer: From<JobTimeout>,
{
    fn respond(&mut self, request: &mut Request, seq: u64, decoded: Instant) -> Reply {
        let router = &self.responder.router;
        let resolved = router.resolve(&request.method, &request.target, request.path());
        if let Resolved::Found(_, _, captures) = &resolved {
            router::keep_captures(request, captures);
        }
        let route = resolved.route_index();
        let request = &*request;
        let response = match router.answer(resolved, request, &ServerStatus::new(&*self)) {
            Answer::Now(response) => response,
            Answer::Failed(report) => {
                self.report_panic(route, &report);
                router.error(StatusCode::INTERNAL_SERVER_ERROR)
            }
            // A streaming job waits for the front of the line (see
            // `Reply::Held`); the connection hands it back to `release`.
            Answer::Offload(job) if job.streams() => {
                self.reactor.trace(|t| {
                    let (method, target) = (&request.method, &request.target);
                    let _ = writeln!(t, "    {method} {target} → a stream, held for its turn");
                });
                return Reply::Held { route, job };
            }
            #[cfg(feature = "websocket")]
            Answer::Upgrade(upgrade) => {
                self.responder
                    .metrics
                    .request(route, 101, decoded.elapsed());
                self.reactor.trace(|t| {
                    let (method, target) = (&request.method, &request.target);
                    let _ = writeln!(t, "    {method} {target} → 101, a WebSocket");
                });
                let (response, socket) = self.socket(*upgrade);
                return Reply::Upgrade {
                    route,
                    response,
                    to: Box::new(socket),
                };
            }
            Answer::Offload(job) => match self.submit(job, seq, route) {
                Ok((number, job)) => {
                    self.reactor.trace(|t| {
                        let (method, target) = (&request.method, &request.target);
                        let _ = writeln!(t, "    {method} {target} → offloaded as job {number}");
                    });
                    return Reply::Later { route, job };
                }
                Err(busy) => busy,
            },
        };
        if let Some(body) = response.body.stream() {
            self.responder.streams.attach(body, self.conn);
        }
        let code = response.status.as_u16();
        self.responder
            .metrics
            .request(route, code, decoded.elapsed());
        self.reactor.trace(|t| {
            let (method, target) = (&request.method, &request.target);
            let _ = writeln!(t, "    {method} {target} → inline {code}");
        });
        Reply::Now { route, response }
    }

    fn admit(&mut self, request: &Request, expects_continue: bool) -> Result<usize, Response> {
        let router = &self.responder.router;
        match router.body_limit(request, self.responder.max_body) {
            Ok(limit) => Ok(limit),
            // A client that waits for `100 Continue` is answered now, rather
            // than sent a 100 and then a 404 for a body it uploaded in vain;
            // the connection then closes, the body unread. Without the
            // wait, the body is read and answered as usual.
            Err(status) if expects_continue => {
                let response = router.error(status);
                let resolved = router.resolve(&request.method, &request.target, request.path());
                Err(match resolved {
                    Resolved::MethodNotAllowed(_, allow) => {
                        response.with_header("Allow", allow.to_string())
                    }
                    _ => response,
                })
            }
            Err(_) => Ok(self.responder.max_body),
        }
    }

    fn error(&self, refusal: Refusal) -> Response {
        self.responder.router.refusal(refusal)
    }

    fn refused(&mut self, refusal: Refusal) {
        self.responder.metrics.refused(refusal.status.as_u16());
        self.reactor.trace(|t| {
            let (status, reason) = (refusal.status.as_u16(), refusal.reason);
            let _ = writeln!(t, "    refused: {status} ({reason})");
        });
    }

    fn release(
        &mut self,
        job: Job,
        seq: u64,
        route: Option<usize>,
        decoded: Instant,
    ) -> Result<JobTicket, Response> {
        match self.submit(job, seq, route) {
            Ok((number, ticket)) => {
                let conn = self.conn;
                self.reactor.trace(|t| {
                    let _ = writeln!(t, "    conn {conn}: its turn, released as job {number}");
                });
                Ok(ticket)
            }
            Err(busy) => {
                let code = busy.status.as_u16();
                self.responder
                    .metrics
                    .request(route, code, decoded.elapsed());
                Err(busy)
            }
        }
    }

    fn off_loop(&mut self, work: OffLoop) -> bool {
        self.responder.jobs.run_detached(work)
    }

    fn give_up(&mut self, job: JobTicket) {
        if let Some(number) = self.responder.jobs.give_up(self.reactor, job) {
            self.reactor.trace(|t| {
                let _ = writeln!(t, "    job {number} given up: nobody will read its answer");
            });
        }
    }
}

impl<H: Handler> StatusSource for Answering<'_, H> {
    fn draining(&self) -> bool {
        self.facts.draining
    }

    fn open_connections(&self) -> usize {
        self.facts.open_connections
    }

    fn workers(&self) -> usize {
        self.responder.jobs.workers()
    }

    fn jobs_queued(&self) -> usize {
        self.responder.jobs.queued()
    }

    fn jobs_in_flight(&self) -> usize {
        self.responder.jobs.in_flight()
    }

    fn jobs_running(&self) -> usize {
        self.responder.jobs.running()
    }

    fn jobs_parked(&self) -> usize {
        self.responder.jobs.parked()
    }

    fn accept_backoff(&self) -> Duration {
        self.facts.accept_backoff
    }

    fn metrics(&self) -> &Metrics {
        &self.responder.metrics
    }

    fn loop_lag(&self) -> &Histogram {
        self.reactor.lag()
    }

    fn handle(&self) -> &ServerHandle {
        &self.responder.handle
    }
}
