//! Metrics: what the loop counts, and `/metrics` in Prometheus text format.
//!
//! The loop is the only writer, so these are plain integers, no atomics.
//! Counting must not cost the fast path an allocation, so requests are
//! counted per route *index* (the router's registration order, plus one
//! bucket for paths no route matched — never the raw path, which a client
//! could vary without end), and the few statuses a route answers live in a
//! short list that stops growing once every status has been seen.
//!
//! The number that shows a blocked loop is **loop lag**: how late the loop
//! ran a timer that was due. The reactor measures it (its heartbeat fires
//! every 250 ms, so there is always a timer to be late) and this file only
//! renders it: while `/slow` computes on the loop thread, the next heartbeat
//! runs a second late and the histogram's upper buckets jump.
//!
//! The exposition format is small enough to write by hand
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/>): `# HELP`
//! and `# TYPE` before each family, one sample per line, histograms as
//! cumulative `_bucket{le=...}` series ending in `+Inf`, then `_sum` and
//! `_count`.

use std::fmt::Write;
use std::time::Duration;

use crate::histogram::Histogram;
use crate::stream::StreamStats;
#[cfg(feature = "websocket")]
use crate::websocket::SocketStats;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Requests and latency for one route.
#[derive(Debug, Clone, Default)]
struct RouteMetrics {
    /// (status, count), in first-seen order.
    statuses: Vec<(u16, u64)>,
    durations: Histogram,
}

/// Why a job ended, for the job counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobEnd {
    /// It ran and its answer was used.
    Completed,
    /// It panicked; the client got a 500.
    Panicked,
    /// Its client left first: skipped in the queue, or its answer dropped.
    Cancelled,
    /// Its timeout answered 504 (counted then, by `job_timed_out`); this is
    /// the job itself coming back late, or being skipped. Not counted again.
    TimedOut,
}

/// Everything the loop counts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Metrics {
    /// Route names in index order; the last one is `unmatched`.
    route_names: Vec<String>,
    routes: Vec<RouteMetrics>,
    connections_accepted: u64,
    accept_errors: u64,
    /// Plain HTTP sent to the TLS port (answered 400 in plain, closed).
    plain_http_on_tls: u64,
    /// TLS handshakes done, and failed (an alert: a bad ClientHello, no
    /// common version or cipher).
    tls_handshakes: u64,
    tls_handshake_failures: u64,
    /// Connections closed mid-handshake because the handshake threads'
    /// queue was full (`server/handshakes.rs`).
    tls_handshakes_shed: u64,
    /// Certificate reloads that took, and that failed (the old one kept).
    tls_reloads: u64,
    tls_reload_failures: u64,
    /// The serving certificate's expiry (Unix time), when known.
    tls_not_after: Option<u64>,
    jobs_submitted: u64,
    jobs_completed: u64,
    jobs_panicked: u64,
    jobs_cancelled: u64,
    jobs_rejected: u64,
    jobs_timed_out: u64,
    /// Streamed bodies' counters, added to by producer threads too.
    pub(crate) streams: Arc<StreamStats>,
    /// WebSockets' counters, added to by every socket.
    #[cfg(feature = "websocket")]
    pub(crate) sockets: Arc<SocketStats>,
    /// The pipes WebSocket `Sender`s write into: the same counters as a
    /// streamed body's, kept apart so that sockets are not counted as
    /// streams. Only the wait is shown.
    #[cfg(feature = "websocket")]
    pub(crate) senders: Arc<StreamStats>,
}

/// Live values the loop knows at scrape time (gauges).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Gauges {
    /// Connections open now.
    pub(crate) connections_open: usize,
    /// Jobs waiting for a worker.
    pub(crate) jobs_queued: usize,
    /// Jobs on a worker now, counted by the workers themselves.
    pub(crate) jobs_running: usize,
    /// Paced bodies parked until their client reads (no worker held).
    pub(crate) jobs_parked: usize,
    /// Worker threads.
    pub(crate) workers: usize,
    /// 1 while draining for shutdown.
    pub(crate) draining: bool,
    /// The accept back-off in force (zero when accepting normally).
    pub(crate) accept_backoff: Duration,
}

impl Metrics {
    /// Metrics for a router whose paths are `route_names`, in registration
    /// order; one more bucket counts requests no route matched.
    pub(crate) fn new(route_names: Vec<String>) -> Metrics {
        let mut route_names = route_names;
        route_names.push("unmatched".to_string());
        let routes = vec![RouteMetrics::default(); route_names.len()];
        Metrics {
            route_names,
            routes,
            ..Metrics::default()
        }
    }

    /// The name of route `route` (its index in registration order), or
    /// `unmatched` for none.
    pub(crate) fn route_name(&self, route: Option<usize>) -> &str {
        &self.route_names[self.bucket(route)]
    }

    /// Where route `route` is counted: its own bucket, or `unmatched`.
    fn bucket(&self, route: Option<usize>) -> usize {
        let unmatched = self.routes.len() - 1;
        route.map_or(unmatched, |index| index.min(unmatched))
    }

    /// Counts one answered request on route `route` (`None`: no route
    /// matched its path).
    pub(crate) fn request(&mut self, route: Option<usize>, status: u16, took: Duration) {
        let bucket = self.bucket(route);
        let entry = &mut self.routes[bucket];
        count_status(&mut entry.statuses, status);
        entry.durations.observe(took);
    }

    /// Counts an answer given before any route was looked up: the decoder
    /// refused the bytes (400, 413, 414, 417, 431, 501, 505) or the request
    /// did not arrive in time (408). Under `unmatched`, and in the request
    /// counter only: there is no decoded request to time.
    pub(crate) fn refused(&mut self, status: u16) {
        let unmatched = self.bucket(None);
        count_status(&mut self.routes[unmatched].statuses, status);
    }

    /// A new connection was accepted.
    pub(crate) fn connection_accepted(&mut self) {
        self.connections_accepted += 1;
    }

    /// A TLS connection's news: plain HTTP refused, a handshake's end.
    pub(crate) fn tls(&mut self, plain_http: bool, handshake: Option<bool>) {
        self.plain_http_on_tls += u64::from(plain_http);
        match handshake {
            Some(true) => self.tls_handshakes += 1,
            Some(false) => self.tls_handshake_failures += 1,
            None => {}
        }
    }

    /// The certificate now serving expires at `not_after` (Unix time).
    #[cfg(feature = "tls")]
    pub(crate) fn tls_serving(&mut self, not_after: Option<u64>) {
        self.tls_not_after = not_after;
    }

    /// A certificate reload took (`ok`), or failed and the old one serves on.
    #[cfg(feature = "tls")]
    pub(crate) fn tls_reloaded(&mut self, ok: bool) {
        if ok {
            self.tls_reloads += 1;
        } else {
            self.tls_reload_failures += 1;
        }
    }

    /// A connection was closed mid-handshake: the handshake threads'
    /// queue was full.
    #[cfg(feature = "tls")]
    pub(crate) fn tls_handshake_shed(&mut self) {
        self.tls_handshakes_shed += 1;
    }

    /// `accept` failed with something other than "nothing to accept"
    /// (EMFILE, ENFILE, ENOBUFS, ...), and accepting backs off.
    pub(crate) fn accept_failed(&mut self) {
        self.accept_errors += 1;
    }

    /// A job went to the pool.
    pub(crate) fn job_submitted(&mut self) {
        self.jobs_submitted += 1;
    }

    /// A job ended.
    pub(crate) fn job_ended(&mut self, end: JobEnd) {
        match end {
            JobEnd::Completed => self.jobs_completed += 1,
            JobEnd::Panicked => self.jobs_panicked += 1,
            JobEnd::Cancelled => self.jobs_cancelled += 1,
            JobEnd::TimedOut => {}
        }
    }

    /// The queue was full: 503.
    pub(crate) fn job_rejected(&mut self) {
        self.jobs_rejected += 1;
    }

    /// A job ran past its timeout: 504.
    pub(crate) fn job_timed_out(&mut self) {
        self.jobs_timed_out += 1;
    }

    /// The whole exposition, `/metrics`' body, with the gauges and the
    /// reactor's loop-lag histogram as they are now.
    pub(crate) fn render(&self, gauges: &Gauges, loop_lag: &Histogram) -> String {
        let mut out = String::with_capacity(8 * 1024);
        family(
            &mut out,
            "eddy_requests_total",
            "counter",
            "Answers, by route and status. Answers given before a route is looked up count under route=\"unmatched\": 400, 413, 414, 417, 431, 501 and 505 for refused bytes, and 408 for a request that did not arrive within --header-timeout (counted from the connect for a connection's first request, from its first byte for later ones).",
        );
        for (name, route) in self.route_names.iter().zip(&self.routes) {
            for (status, count) in &route.statuses {
                let _ = writeln!(
                    out,
                    "eddy_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                    escape(name)
                );
            }
        }
        family(
            &mut out,
            "eddy_request_duration_seconds",
            "histogram",
            "From decoding a request to its answer being encoded, by route (refused requests and 408s are not timed).",
        );
        for (name, route) in self.route_names.iter().zip(&self.routes) {
            let labels = format!("route=\"{}\"", escape(name));
            route
                .durations
                .render("eddy_request_duration_seconds", &labels, &mut out);
        }
        let counters = [
            (
                "eddy_connections_accepted_total",
                "Connections accepted.",
                self.connections_accepted,
            ),
            (
                "eddy_accept_errors_total",
                "accept() failures other than an empty backlog (EMFILE, ENFILE, ENOBUFS, ...); each starts a back-off.",
                self.accept_errors,
            ),
            (
                "eddy_tls_plain_http_total",
                "Plain HTTP requests sent to the TLS port: answered 400 in plain, then closed.",
                self.plain_http_on_tls,
            ),
            (
                "eddy_tls_handshakes_total",
                "TLS handshakes completed.",
                self.tls_handshakes,
            ),
            (
                "eddy_tls_handshake_failures_total",
                "TLS handshakes that failed with an alert (a malformed ClientHello, no common version or cipher).",
                self.tls_handshake_failures,
            ),
            (
                "eddy_tls_handshakes_shed_total",
                "Connections closed mid-handshake because every handshake thread was busy and their queue full: the machine is out of CPU for new TLS connections.",
                self.tls_handshakes_shed,
            ),
            (
                "eddy_tls_reloads_total",
                "Certificate reloads (SIGHUP, ServerHandle::reload_tls) that took: new handshakes use the new certificate.",
                self.tls_reloads,
            ),
            (
                "eddy_tls_reload_failures_total",
                "Certificate reloads that failed (a file unreadable, half-written, or a key not matching): the old certificate serves on.",
                self.tls_reload_failures,
            ),
            (
                "eddy_jobs_submitted_total",
                "Jobs handed to the worker pool.",
                self.jobs_submitted,
            ),
            (
                "eddy_jobs_completed_total",
                "Jobs that ran and were answered.",
                self.jobs_completed,
            ),
            (
                "eddy_jobs_panicked_total",
                "Jobs that panicked (answered 500).",
                self.jobs_panicked,
            ),
            (
                "eddy_jobs_cancelled_total",
                "Jobs whose client left (or a shutdown timeout abandoned): skipped, stopped or answer dropped.",
                self.jobs_cancelled,
            ),
            (
                "eddy_jobs_rejected_total",
                "Jobs refused with 503 because the queue was full.",
                self.jobs_rejected,
            ),
            (
                "eddy_jobs_timed_out_total",
                "Jobs answered 504 by the job timeout.",
                self.jobs_timed_out,
            ),
            (
                "eddy_stream_bytes_total",
                "Body bytes of streamed answers taken from their producers.",
                self.streams.bytes.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, value) in counters {
            family(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {value}");
        }
        let gauge_values = [
            (
                "eddy_connections_open",
                "Connections open now.",
                gauges.connections_open,
            ),
            (
                "eddy_jobs_queued",
                "Jobs waiting for a worker.",
                gauges.jobs_queued,
            ),
            (
                "eddy_jobs_running",
                "Jobs on a worker now.",
                gauges.jobs_running,
            ),
            (
                "eddy_jobs_parked",
                "Paced bodies waiting for their client to read, holding no worker.",
                gauges.jobs_parked,
            ),
            (
                "eddy_workers",
                "Worker threads in the pool.",
                gauges.workers,
            ),
            (
                "eddy_draining",
                "1 while shutting down gracefully.",
                usize::from(gauges.draining),
            ),
            (
                "eddy_streams_open",
                "Streamed answers whose body is still going out.",
                self.streams.open.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, value) in gauge_values {
            family(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        }
        family(
            &mut out,
            "eddy_stream_wait_seconds_total",
            "counter",
            "Time producers of streamed answers spent blocked because their client read slowly (backpressure).",
        );
        let micros = self.streams.waited_micros();
        write_seconds(&mut out, "eddy_stream_wait_seconds_total", micros);
        if let Some(not_after) = self.tls_not_after {
            family(
                &mut out,
                "eddy_tls_cert_not_after_seconds",
                "gauge",
                "When the serving certificate expires, in seconds since the Unix epoch.",
            );
            let _ = writeln!(out, "eddy_tls_cert_not_after_seconds {not_after}");
        }
        family(
            &mut out,
            "eddy_accept_backoff_seconds",
            "gauge",
            "How long accepting is paused after an accept error (0 when accepting normally; doubles per failure up to 1 s).",
        );
        let _ = writeln!(
            out,
            "eddy_accept_backoff_seconds {}",
            gauges.accept_backoff.as_secs_f64()
        );
        family(
            &mut out,
            "eddy_loop_lag_seconds",
            "histogram",
            "How late the event loop ran timers that were due; large values mean something blocked the loop.",
        );
        loop_lag.render("eddy_loop_lag_seconds", "", &mut out);
        #[cfg(feature = "websocket")]
        self.render_sockets(&mut out);
        out
    }

    /// The WebSocket families: open now, messages each way, closes by code.
    #[cfg(feature = "websocket")]
    fn render_sockets(&self, out: &mut String) {
        let sockets = &self.sockets;
        family(out, "eddy_websockets_open", "gauge", "WebSockets open now.");
        let _ = writeln!(out, "eddy_websockets_open {}", sockets.open());
        family(
            out,
            "eddy_websocket_messages_total",
            "counter",
            "Whole WebSocket messages (text and binary), received and sent.",
        );
        let (received, sent) = sockets.messages();
        let _ = writeln!(
            out,
            "eddy_websocket_messages_total{{direction=\"in\"}} {received}"
        );
        let _ = writeln!(
            out,
            "eddy_websocket_messages_total{{direction=\"out\"}} {sent}"
        );
        family(
            out,
            "eddy_websocket_closes_total",
            "counter",
            "WebSockets closed, by close code (application: 3000-4999; none: the connection ended with no close frame).",
        );
        for (how, count) in sockets.closes() {
            let code = how.label();
            let _ = writeln!(
                out,
                "eddy_websocket_closes_total{{code=\"{code}\"}} {count}"
            );
        }
        family(
            out,
            "eddy_websocket_send_wait_seconds_total",
            "counter",
            "Time threads spent blocked in a WebSocket Sender::send because their client read slowly (backpressure).",
        );
        let micros = self.senders.waited_micros();
        write_seconds(out, "eddy_websocket_send_wait_seconds_total", micros);
    }
}

/// A sample of `name` in seconds, from `micros`, without floating point.
fn write_seconds(out: &mut String, name: &str, micros: u64) {
    let (whole, fraction) = (micros / 1_000_000, micros % 1_000_000);
    let _ = writeln!(out, "{name} {whole}.{fraction:06}");
}

/// One more answer with `status` in a route's (status, count) list.
fn count_status(statuses: &mut Vec<(u16, u64)>, status: u16) {
    match statuses.iter_mut().find(|(s, _)| *s == status) {
        Some((_, count)) => *count += 1,
        None => statuses.push((status, 1)),
    }
}

/// The `# HELP` and `# TYPE` lines that open a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_per_route_and_status_and_strays_are_unmatched() {
        let mut m = Metrics::new(vec!["/fast".into()]);
        m.request(Some(0), 200, Duration::from_millis(1));
        m.request(Some(0), 200, Duration::from_millis(1));
        m.request(Some(0), 400, Duration::from_millis(1));
        m.request(None, 404, Duration::from_millis(1));
        let text = m.render(&Gauges::default(), &Histogram::default());
        assert!(text.contains("eddy_requests_total{route=\"/fast\",status=\"200\"} 2\n"));
        assert!(text.contains("eddy_requests_total{route=\"/fast\",status=\"400\"} 1\n"));
        assert!(text.contains("eddy_requests_total{route=\"unmatched\",status=\"404\"} 1\n"));
    }
}
