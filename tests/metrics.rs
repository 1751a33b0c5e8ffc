//! `/metrics`, read the way Prometheus would: a strict parser for the text
//! exposition format checks every line — `# HELP` and `# TYPE` before each
//! family's samples, metric and label names, label quoting, histogram
//! invariants (cumulative buckets, a `+Inf` bucket equal to `_count`, a
//! `_sum`) — and then the values: requests by route and status, job
//! counters, and the loop-lag histogram jumping while `/slow` blocks the
//! loop.

mod common;

use std::collections::BTreeMap;

use common::{Client, Server};

/// One sample: metric name, labels, value.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed exposition: family name → (type, samples).
struct Exposition {
    families: BTreeMap<String, (String, Vec<Sample>)>,
}

impl Exposition {
    /// The value of the sample `name` with exactly `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.families.values().flat_map(|(_, s)| s).find_map(|s| {
            let wanted: BTreeMap<String, String> = labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            (s.name == name && s.labels == wanted).then_some(s.value)
        })
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses `{a="x",b="y"}` (after the metric name); returns labels and rest.
fn parse_labels(text: &str) -> (BTreeMap<String, String>, &str) {
    let mut labels = BTreeMap::new();
    let Some(mut rest) = text.strip_prefix('{') else {
        return (labels, text);
    };
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return (labels, after);
        }
        let eq = rest.find('=').expect("label without =");
        let name = &rest[..eq];
        assert!(
            valid_name(name) && !name.starts_with("__"),
            "bad label name {name:?}"
        );
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .expect("label value not quoted");
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().expect("unterminated label value") {
                (i, '"') => break i,
                (_, '\\') => match chars.next().expect("dangling escape").1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => panic!("bad escape \\{c}"),
                },
                (_, c) => value.push(c),
            }
        };
        assert!(
            labels.insert(name.to_string(), value).is_none(),
            "duplicate label {name}"
        );
        rest = &rest[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// The family a sample belongs to (histogram samples carry a suffix).
fn family_of<'a>(name: &'a str, families: &BTreeMap<String, (String, Vec<Sample>)>) -> &'a str {
    if families.contains_key(name) {
        return name;
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if families.get(base).is_some_and(|(t, _)| t == "histogram") {
                return base;
            }
        }
    }
    panic!("sample {name} has no # TYPE before it");
}

/// Parses the whole exposition, panicking on anything Prometheus would
/// reject, and checks every histogram's invariants.
fn parse(text: &str) -> Exposition {
    assert!(text.ends_with('\n'), "exposition must end with a newline");
    let mut families: BTreeMap<String, (String, Vec<Sample>)> = BTreeMap::new();
    let mut helped = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(valid_name(name), "bad name in HELP: {line}");
            assert!(
                !helped.contains(&name.to_string()),
                "second HELP for {name}"
            );
            helped.push(name.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE without type");
            assert!(
                helped.last().map(String::as_str) == Some(name),
                "TYPE {name} not right after its HELP"
            );
            assert!(
                matches!(kind, "counter" | "gauge" | "histogram"),
                "unexpected type {kind}"
            );
            assert!(
                families
                    .insert(name.to_string(), (kind.to_string(), Vec::new()))
                    .is_none(),
                "second TYPE for {name}"
            );
        } else {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line {line:?}"
            );
            let name_end = line.find(['{', ' ']).expect("sample without value");
            let name = &line[..name_end];
            assert!(valid_name(name), "bad metric name {name:?}");
            let (labels, rest) = parse_labels(&line[name_end..]);
            let value: f64 = rest
                .trim_start()
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}"));
            let family = family_of(name, &families).to_string();
            let (kind, samples) = families.get_mut(&family).unwrap();
            if kind == "counter" {
                assert!(value >= 0.0, "negative counter {line}");
            }
            samples.push(Sample {
                name: name.to_string(),
                labels,
                value,
            });
        }
    }
    for (family, (kind, samples)) in &families {
        assert!(
            !samples.is_empty() || kind == "histogram" || kind == "counter",
            "{family} has no samples"
        );
        if kind == "histogram" {
            check_histogram(family, samples);
        }
    }
    Exposition { families }
}

/// Cumulative buckets in increasing `le`, a `+Inf` bucket equal to
/// `_count`, and a `_sum`, for each label set.
fn check_histogram(family: &str, samples: &[Sample]) {
    let mut series: BTreeMap<Vec<(String, String)>, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        let key = s
            .labels
            .iter()
            .filter(|(k, _)| *k != "le")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        series.entry(key).or_default().push(s);
    }
    for (labels, samples) in series {
        let buckets: Vec<_> = samples
            .iter()
            .filter(|s| s.name.ends_with("_bucket"))
            .collect();
        assert!(!buckets.is_empty(), "{family}{labels:?}: no buckets");
        let mut last_le = f64::NEG_INFINITY;
        let mut last_count = 0.0;
        for b in &buckets {
            let le = b.labels.get("le").expect("bucket without le");
            let le: f64 = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().expect("le")
            };
            assert!(
                le > last_le,
                "{family}{labels:?}: buckets not in increasing le"
            );
            assert!(
                b.value >= last_count,
                "{family}{labels:?}: buckets not cumulative"
            );
            last_le = le;
            last_count = b.value;
        }
        assert_eq!(
            last_le,
            f64::INFINITY,
            "{family}{labels:?}: last bucket is not +Inf"
        );
        let count = samples
            .iter()
            .find(|s| s.name.ends_with("_count"))
            .expect("no _count")
            .value;
        assert_eq!(
            last_count, count,
            "{family}{labels:?}: +Inf bucket != _count"
        );
        assert!(
            samples.iter().any(|s| s.name.ends_with("_sum")),
            "{family}{labels:?}: no _sum"
        );
    }
}

fn scrape(server: &Server) -> Exposition {
    let response = common::get(server.addr, "/metrics");
    assert_eq!(response.status, 200);
    let content_type = response.header("content-type").expect("Content-Type");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse(&response.text())
}

#[test]
fn metrics_parse_strictly_and_count_requests_and_jobs() {
    let server = Server::start(&["--quiet", "--workers", "1", "--queue", "1"]);
    for (path, _) in [
        ("/fast?id=1", 200),
        ("/fast?id=2", 200),
        ("/fast", 400),
        ("/nope", 404),
        ("/fail?id=1", 500),
    ] {
        common::get(server.addr, path);
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
    let (n, job) = common::calibrate(server.addr, common::JOB);
    let before = scrape(&server);
    let late = |m: &Exposition| {
        m.value("eddy_loop_lag_seconds_count", &[]).unwrap()
            - m.value("eddy_loop_lag_seconds_bucket", &[("le", "0.1")])
                .unwrap()
    };
    // /slow runs heavy_lifting on the loop thread: the heartbeat timer due
    // during it can only run once it is over, hundreds of ms late.
    let mut client = Client::connect(server.addr);
    client.send_get(&format!("/slow?id=1&n={n}"));
    assert_eq!(client.response().status, 200);
    let after = scrape(&server);
    let lag_sum = after.value("eddy_loop_lag_seconds_sum", &[]).unwrap()
        - before.value("eddy_loop_lag_seconds_sum", &[]).unwrap();
    assert!(
        late(&after) > late(&before),
        "no timer ran more than 100 ms late while /slow blocked the loop for {job:?}"
    );
    assert!(
        lag_sum >= job.as_secs_f64() / 4.0,
        "loop lag grew by only {lag_sum:.3} s during a {job:?} block"
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
