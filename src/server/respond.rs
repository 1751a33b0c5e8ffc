//! Answering one decoded request: route it, then run its inline handler or
//! offload its job.
//!
//! A connection asks for each answer through `connection::Respond`; the
//! server's answer to that is [`Answering`], which borrows the
//! [`Responder`] (router, jobs, counters) for one connection's drive. This
//! is the linear path of a request, after decoding:
//!
//! `Router::resolve` → `Router::answer` → `Answer::Now` (an inline handler
//! ran, or 404/405/OPTIONS) | `Answer::Offload` (`Jobs::submit`, or 503 when
//! the queue is full) | `Answer::Failed` (a panic: 500, reported).
//!
//! Before that, for a request with a body, `Respond::admit` says how large
//! a body its route takes — and, when the client waits on `Expect:
//! 100-continue` for a request no route serves, answers at once instead.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::http::HttpServer;
use super::jobs::{Jobs, ReplyTo};
use super::ConnId;
use crate::config::Config;
use crate::connection::{JobTicket, Reply, Respond};
use crate::http::{Limits, Refusal, Request, Response, StatusCode};
use crate::job::Job;
use crate::log::{EventLog, ServerEvent};
use crate::metrics::Metrics;
use crate::panic_report::PanicReport;
use crate::reactor::{LoopHandle, Reactor};
use crate::router::{self, Answer, Resolved, Router};
use crate::status::{ServerHandle, ServerStatus};

/// Everything that turns a decoded request into an answer.
pub(crate) struct Responder {
    pub(super) router: Router,
    /// The offloaded jobs and the pool they run on.
    pub(super) jobs: Jobs,
    /// Everything `/metrics` counts.
    pub(super) metrics: Metrics,
    /// What each connection's decoder is held to (its `max_body` is the
    /// default a route may change).
    pub(super) limits: Limits,
    /// Where the server's events go (a panic's line, here).
    pub(super) events: Option<EventLog>,
    /// The server's handle, lent to inline handlers through their status.
    pub(super) handle: ServerHandle,
    /// How streamed bodies wake the loop (`streams.rs`).
    pub(super) loop_handle: LoopHandle<HttpServer>,
}

impl Responder {
    pub(super) fn new(
        router: Router,
        config: &Config,
        limits: Limits,
        handle: LoopHandle<HttpServer>,
    ) -> Responder {
        let metrics = Metrics::new(router.names());
        let jobs = Jobs::new(config, handle.clone(), router.offloads());
        Responder {
            router,
            jobs,
            metrics,
            limits,
            events: config.events.clone(),
            loop_handle: handle.clone(),
            handle: ServerHandle::new(move || {
                handle.add_callback(|http, reactor| http.begin_shutdown(reactor))
            }),
        }
    }

    /// Reports a caught panic: the `Panicked` event.
    pub(super) fn report_panic(&self, who: &str, route: Option<usize>, report: &PanicReport) {
        if let Some(events) = &self.events {
            events(&ServerEvent::Panicked {
                who,
                route: self.metrics.route_name(route),
                report,
            });
        }
    }
}

/// The [`Responder`], lent to one connection's drive, with what its
/// inline handlers may see of the server.
pub(super) struct Answering<'a> {
    pub(super) responder: &'a mut Responder,
    /// The connection being driven: where offloaded answers go back to.
    pub(super) conn: ConnId,
    /// What inline handlers see of the server, read once per drive (the
    /// queue's length is an atomic read, not free per request).
    pub(super) open_connections: usize,
    pub(super) draining: bool,
    pub(super) accept_backoff: Duration,
    pub(super) workers: usize,
    pub(super) jobs_queued: usize,
}

impl Answering<'_> {
    /// Hands `job` to the pool, its answer to go to place `seq`: its
    /// ticket, or the 503 to answer when the queue is full — said now, with
    /// when to come back, rather than queueing without limit (the seed's
    /// process per request had no limit at all).
    fn submit(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        job: Job,
        seq: u64,
        route: Option<usize>,
    ) -> Result<(u64, JobTicket), Response> {
        let responder = &mut *self.responder;
        let reply_to = ReplyTo {
            conn: self.conn,
            seq,
        };
        match responder.jobs.submit(reactor, job, reply_to, route) {
            Ok((number, ticket)) => {
                responder.metrics.job_submitted();
                Ok((number, ticket))
            }
            Err(()) => {
                responder.metrics.job_rejected();
                let busy = responder.router.error(StatusCode::SERVICE_UNAVAILABLE);
                Err(busy.with_header("Retry-After", "1"))
            }
        }
    }
}

impl Respond<HttpServer> for Answering<'_> {
    fn respond(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        request: &mut Request,
        seq: u64,
        decoded: Instant,
    ) -> Reply {
        let responder = &mut *self.responder;
        let resolved = (responder.router).resolve(&request.method, &request.target, request.path());
        if let Resolved::Found(_, _, captures) = &resolved {
            router::keep_captures(request, captures);
        }
        let route = resolved.route_index();
        let request = &*request;
        let status = ServerStatus {
            draining: self.draining,
            open_connections: self.open_connections,
            workers: self.workers,
            jobs_queued: self.jobs_queued,
            jobs_in_flight: responder.jobs.in_flight(),
            jobs_running: responder.jobs.running(),
            jobs_parked: responder.jobs.parked(),
            accept_backoff: self.accept_backoff,
            metrics: &responder.metrics,
            loop_lag: reactor.lag(),
            handle: &responder.handle,
        };
        let response = match responder.router.answer(resolved, request, &status) {
            Answer::Now(response) => response,
            Answer::Failed(report) => {
                responder.report_panic("handler", route, &report);
                responder.router.error(StatusCode::INTERNAL_SERVER_ERROR)
            }
            // A streaming job waits for the front of the line (see
            // `Reply::Held`); the connection hands it back to `release`.
            Answer::Offload(job) if job.streams() => {
                reactor.trace(|t| {
                    let (method, target) = (&request.method, &request.target);
                    let _ = writeln!(t, "    {method} {target} → a stream, held for its turn");
                });
                return Reply::Held { route, job };
            }
            Answer::Offload(job) => match self.submit(reactor, job, seq, route) {
                Ok((number, job)) => {
                    reactor.trace(|t| {
                        let (method, target) = (&request.method, &request.target);
                        let _ = writeln!(t, "    {method} {target} → offloaded as job {number}");
                    });
                    return Reply::Later { route, job };
                }
                Err(busy) => busy,
            },
        };
        let responder = &mut *self.responder;
        if let Some(body) = response.body.stream() {
            super::streams::attach(body, responder, self.conn);
        }
        let code = response.status.as_u16();
        responder.metrics.request(route, code, decoded.elapsed());
        reactor.trace(|t| {
            let (method, target) = (&request.method, &request.target);
            let _ = writeln!(t, "    {method} {target} → inline {code}");
        });
        Reply::Now { route, response }
    }

    fn admit(&mut self, request: &Request, expects_continue: bool) -> Result<usize, Response> {
        let router = &self.responder.router;
        let default = self.responder.limits.max_body;
        match router.body_limit(request, default) {
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
            Err(_) => Ok(default),
        }
    }

    fn error(&self, refusal: Refusal) -> Response {
        self.responder.router.refusal(refusal)
    }

    fn release(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        job: Job,
        seq: u64,
        route: Option<usize>,
        decoded: Instant,
    ) -> Result<JobTicket, Response> {
        match self.submit(reactor, job, seq, route) {
            Ok((number, ticket)) => {
                let conn = self.conn;
                reactor.trace(|t| {
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

    fn refused(&mut self, reactor: &mut Reactor<HttpServer>, refusal: Refusal) {
        self.responder.metrics.refused(refusal.status.as_u16());
        reactor.trace(|t| {
            let _ = writeln!(
                t,
                "    refused: {} ({})",
                refusal.status.as_u16(),
                refusal.reason
            );
        });
    }
}
