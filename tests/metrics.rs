//! `/metrics`, read the way Prometheus would: a strict parser for the text
//! exposition format checks every line — `# HELP` and `# TYPE` before each
//! family's samples, metric and label names, label quoting, histogram
//! invariants (cumulative buckets, a `+Inf` bucket equal to `_count`, a
//! `_sum`) — and then the values: requests by route and status, job
//! counters, and the loop-lag histogram jumping while `/slow` blocks the
//! loop.

mod common;

use common::prometheus::{parse, scrape, Exposition};
use common::{Client, Server};

#[test]
fn metrics_parse_strictly_and_count_requests_and_jobs() {
    let server = Server::start(&["--quiet", "--workers", "1", "--queue", "1"]);
    for (path, status) in [
        ("/fast?id=1", 200),
        ("/fast?id=2", 200),
        ("/fast", 400),
        ("/nope", 404),
        ("/fail?id=1", 500),
    ] {
        let r = common::get(server.addr, path);
        assert_eq!(r.status, status, "{path}: {r:?}");
    }
    let m = scrape(&server);
    assert_eq!(
        m.value(
            "eddy_requests_total",
            &[("route", "/fast"), ("status", "200")]
        ),
        Some(2.0)
    );
    assert_eq!(
        m.value(
            "eddy_requests_total",
            &[("route", "/fast"), ("status", "400")]
        ),
        Some(1.0)
    );
    assert_eq!(
        m.value(
            "eddy_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        Some(1.0)
    );
    assert_eq!(
        m.value(
            "eddy_requests_total",
            &[("route", "/fail"), ("status", "500")]
        ),
        Some(1.0)
    );
    assert_eq!(
        m.value("eddy_request_duration_seconds_count", &[("route", "/fast")]),
        Some(3.0)
    );
    assert_eq!(m.value("eddy_jobs_panicked_total", &[]), Some(1.0));
    assert_eq!(m.value("eddy_jobs_submitted_total", &[]), Some(1.0));
    assert_eq!(m.value("eddy_workers", &[]), Some(1.0));
    // The scrape's own connection is open while it is answered.
    assert!(m.value("eddy_connections_open", &[]).unwrap() >= 1.0);
}

#[test]
fn loop_lag_jumps_while_slow_blocks_the_loop() {
    let server = Server::start(&["--quiet"]);
    // Twice the usual job: the heartbeat may fall due up to 250 ms into the
    // block, so a block must last well past 350 ms for a >100 ms lateness;
    // one calibrated at 0.4 s of CPU ran 0.337 s the next time, while a
    // benchmark loaded the other core, and the lag it left was under 100 ms.
    let (n, _) = common::calibrate(&server, common::JOB * 2);
    let before = scrape(&server);
    let late = |m: &Exposition| {
        m.value("eddy_loop_lag_seconds_count", &[]).unwrap()
            - m.value("eddy_loop_lag_seconds_bucket", &[("le", "0.1")])
                .unwrap()
    };
    // /slow runs heavy_lifting on the loop thread: the heartbeat timer due
    // during it can only run once it is over, late by up to the whole job.
    // The job says how long it held the loop (by the wall clock, so a
    // loaded machine that stretches the job stretches the lag alike); n is
    // calibrated to cost at least 2 × common::JOB of CPU once.
    let mut client = Client::connect(server.addr);
    client.send_get(&format!("/slow?id=1&n={n}"));
    let r = client.response();
    assert_eq!(r.status, 200, "{r:?}");
    let blocked = common::reported_seconds(&r);
    let after = scrape(&server);
    let lag_sum = after.value("eddy_loop_lag_seconds_sum", &[]).unwrap()
        - before.value("eddy_loop_lag_seconds_sum", &[]).unwrap();
    assert!(
        late(&after) > late(&before),
        "no timer ran more than 100 ms late while /slow blocked the loop for {blocked:.3} s"
    );
    // The heartbeat (every 250 ms) falls due at most 250 ms into the block
    // and runs at its end: the lag it records is the block less <= 250 ms.
    assert!(
        lag_sum >= blocked - 0.3,
        "loop lag grew by only {lag_sum:.3} s during a {blocked:.3} s block (n={n})"
    );
}

/// The parser must reject what Prometheus rejects, or the tests above prove
/// nothing: a sample before its `# TYPE`, and non-cumulative buckets.
#[test]
#[should_panic(expected = "no # TYPE")]
fn parser_rejects_a_sample_without_type() {
    parse("# HELP x A thing.\nx 1\n");
}

#[test]
#[should_panic(expected = "not cumulative")]
fn parser_rejects_decreasing_buckets() {
    parse(
        "# HELP h A histogram.\n# TYPE h histogram\n\
         h_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 4\nh_sum 1\nh_count 4\n",
    );
}

#[test]
#[should_panic(expected = "stands apart")]
fn parser_rejects_a_family_split_in_two() {
    parse(
        "# HELP a One.\n# TYPE a counter\na{x=\"1\"} 1\n\
         # HELP b Two.\n# TYPE b counter\nb 1\na{x=\"2\"} 1\n",
    );
}

#[test]
#[should_panic(expected = "duplicate series")]
fn parser_rejects_a_duplicate_series() {
    parse("# HELP a One.\n# TYPE a counter\na{x=\"1\"} 1\na{x=\"1\"} 2\n");
}

#[test]
#[should_panic(expected = "comma")]
fn parser_rejects_labels_without_a_comma() {
    parse("# HELP a One.\n# TYPE a counter\na{x=\"1\"y=\"2\"} 1\n");
}

#[test]
#[should_panic(expected = "without a suffix")]
fn parser_rejects_a_bare_histogram_sample() {
    parse("# HELP h A histogram.\n# TYPE h histogram\nh 1\n");
}

#[test]
fn answers_refused_before_routing_are_counted_too() {
    let server = Server::start(&["--quiet", "--header-timeout", "0.3", "--max-body", "10"]);
    let get = |fields: &str| format!("GET /fast?id=1 HTTP/1.1\r\nHost: a\r\n{fields}\r\n");
    let post = |fields: &str| format!("POST /fast?id=1 HTTP/1.1\r\nHost: a\r\n{fields}\r\n");
    let cases = [
        ("asdf\r\n\r\n".to_string(), 400),
        (post("Content-Length: 11\r\n"), 413),
        (
            format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(9000)),
            414,
        ),
        (get("Expect: x\r\n"), 417),
        (get(&format!("X: {}\r\n", "v".repeat(9000))), 431),
        (post("Transfer-Encoding: gzip\r\n"), 501),
        ("GET / HTTP/2.0\r\n\r\n".to_string(), 505),
        // Part of a head, then nothing: 408 after --header-timeout.
        ("GET /fast?id=1 HTTP/1.1\r\n".to_string(), 408),
    ];
    for (request, status) in &cases {
        let mut c = Client::connect(server.addr);
        c.send(request.as_bytes());
        assert_eq!(c.assert_error(*status).status, *status);
    }
    let m = scrape(&server);
    for (_, status) in cases {
        let labels = [("route", "unmatched"), ("status", &*status.to_string())];
        assert_eq!(
            m.value("eddy_requests_total", &labels),
            Some(1.0),
            "{status} not counted"
        );
    }
}
