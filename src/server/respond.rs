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

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::http::HttpServer;
use super::jobs::{Jobs, ReplyTo};
use super::ConnId;
use crate::config::Config;
use crate::connection::{Reply, Respond};
use crate::http::{Limits, Request, Response, StatusCode};
use crate::metrics::Metrics;
use crate::panic_report::PanicReport;
use crate::reactor::{LoopHandle, Reactor};
use crate::router::{Answer, Router};
use crate::status::ServerStatus;

/// Everything that turns a decoded request into an answer.
pub(crate) struct Responder {
    router: Router,
    /// The offloaded jobs and the pool they run on.
    pub(super) jobs: Jobs,
    /// Everything `/metrics` counts.
    pub(super) metrics: Metrics,
    /// What each connection's decoder is held to.
    pub(super) limits: Limits,
}

impl Responder {
    pub(super) fn new(
        router: Router,
        config: &Config,
        limits: Limits,
        handle: LoopHandle<HttpServer>,
    ) -> Responder {
        let metrics = Metrics::new(router.paths());
        Responder {
            router,
            jobs: Jobs::start(config, handle),
            metrics,
            limits,
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

impl Respond<HttpServer> for Answering<'_> {
    fn respond(
        &mut self,
        reactor: &mut Reactor<HttpServer>,
        request: &Request,
        seq: u64,
        decoded: Instant,
    ) -> Reply {
        let responder = &mut *self.responder;
        let resolved = responder.router.resolve(request);
        let route = resolved.path_index();
        let status = ServerStatus {
            draining: self.draining,
            open_connections: self.open_connections,
            workers: self.workers,
            jobs_queued: self.jobs_queued,
            jobs_in_flight: responder.jobs.in_flight(),
            accept_backoff: self.accept_backoff,
            metrics: &responder.metrics,
            loop_lag: reactor.lag(),
        };
        let response = match responder.router.answer(resolved, request, &status) {
            Answer::Now(response) => response,
            Answer::Failed(report) => {
                report_panic(&responder.metrics, "handler", route, &report);
                Response::error(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Answer::Offload(job) => {
                let reply_to = ReplyTo {
                    conn: self.conn,
                    seq,
                };
                let submitted = responder.jobs.submit(reactor, job, reply_to, route);
                match submitted {
                    Ok((number, job)) => {
                        responder.metrics.job_submitted();
                        reactor.trace(|t| {
                            let _ = writeln!(
                                t,
                                "    {} {} → offloaded as job {number}",
                                request.method, request.target
                            );
                        });
                        return Reply::Later { route, job };
                    }
                    // Queue full: say so now, and when to come back, rather
                    // than queueing without limit (the seed's process per
                    // request had no limit at all).
                    Err(()) => {
                        responder.metrics.job_rejected();
                        Response::error(StatusCode::SERVICE_UNAVAILABLE)
                            .with_header("Retry-After", "1")
                    }
                }
            }
        };
        responder
            .metrics
            .request(route, response.status.as_u16(), decoded.elapsed());
        reactor.trace(|t| {
            let _ = writeln!(
                t,
                "    {} {} → inline {}",
                request.method,
                request.target,
                response.status.as_u16()
            );
        });
        Reply::Now { route, response }
    }

    fn refused(&mut self, reactor: &mut Reactor<HttpServer>, status: StatusCode) {
        self.responder.metrics.refused(status.as_u16());
        reactor.trace(|t| {
            let _ = writeln!(t, "    refused: {}", status.as_u16());
        });
    }
}

/// Writes the one line a caught panic costs on stderr (and its backtrace, if
/// `--backtraces` asked for one): `eddy: job 3 on /fail panicked: job 3
/// failed on purpose (at src/demo.rs:83:34)`.
pub(super) fn report_panic(
    metrics: &Metrics,
    who: &str,
    route: Option<usize>,
    report: &PanicReport,
) {
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "eddy: {who} on {} panicked: {report}",
        metrics.route_name(route)
    );
    if let Some(backtrace) = &report.backtrace {
        let _ = write!(err, "{backtrace}");
    }
}
