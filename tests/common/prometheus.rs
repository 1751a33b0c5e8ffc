//! A strict reader of the Prometheus text exposition format (0.0.4), as
//! Prometheus itself would read `/metrics`: `# HELP` then `# TYPE` before
//! each family, a family's lines together, valid metric and label names,
//! quoted and escaped label values separated by commas, no duplicate
//! series, and each histogram's invariants (cumulative buckets in
//! increasing `le`, a `+Inf` bucket equal to `_count`, a `_sum`). Anything
//! else panics, naming the line. `tests/metrics.rs` checks the parser
//! rejects what it should.

use std::collections::{BTreeMap, BTreeSet};

use super::Server;

/// One sample: metric name, labels, value.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed exposition: family name → (type, samples).
pub struct Exposition {
    pub families: BTreeMap<String, (String, Vec<Sample>)>,
}

impl Exposition {
    /// The value of the sample `name` with exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
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
        // Between two labels a comma; after the last one, `}` (with or
        // without a trailing comma before it).
        match rest.strip_prefix(',') {
            Some(after) => rest = after,
            None => assert!(rest.starts_with('}'), "labels not separated by a comma"),
        }
    }
}

/// The family a sample belongs to (histogram samples carry a suffix).
fn family_of<'a>(name: &'a str, families: &BTreeMap<String, (String, Vec<Sample>)>) -> &'a str {
    if let Some((kind, _)) = families.get(name) {
        assert!(
            kind != "histogram",
            "histogram sample {name} without a suffix"
        );
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
pub fn parse(text: &str) -> Exposition {
    assert!(text.ends_with('\n'), "exposition must end with a newline");
    let mut families: BTreeMap<String, (String, Vec<Sample>)> = BTreeMap::new();
    let mut helped = Vec::new();
    // The family whose samples may come now: a family's lines stand
    // together, right after its `# TYPE`.
    let mut current = String::new();
    let mut series = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            current.clear();
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
            current = name.to_string();
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
            assert!(
                family == current,
                "sample {name} stands apart from its family's lines (after {current})"
            );
            assert!(
                series.insert((name.to_string(), labels.clone())),
                "duplicate series {line:?}"
            );
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

pub fn scrape(server: &Server) -> Exposition {
    let response = super::get(server.addr, "/metrics");
    assert_eq!(response.status, 200);
    let content_type = response.header("content-type").expect("Content-Type");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse(&response.text())
}

/// The job counters, read from one scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Jobs {
    pub submitted: u64,
    pub completed: u64,
    pub panicked: u64,
    pub cancelled: u64,
    pub timed_out: u64,
    pub rejected: u64,
    pub queued: u64,
    pub running: u64,
}

impl Exposition {
    /// A sample that must be there, as a whole number.
    pub fn count(&self, name: &str) -> u64 {
        let value = self
            .value(name, &[])
            .unwrap_or_else(|| panic!("no sample {name}"));
        assert!(value >= 0.0 && value.fract() == 0.0, "{name} = {value}");
        value as u64
    }

    /// The job counters and gauges.
    pub fn jobs(&self) -> Jobs {
        Jobs {
            submitted: self.count("eddy_jobs_submitted_total"),
            completed: self.count("eddy_jobs_completed_total"),
            panicked: self.count("eddy_jobs_panicked_total"),
            cancelled: self.count("eddy_jobs_cancelled_total"),
            timed_out: self.count("eddy_jobs_timed_out_total"),
            rejected: self.count("eddy_jobs_rejected_total"),
            queued: self.count("eddy_jobs_queued"),
            running: self.count("eddy_jobs_running"),
        }
    }
}

/// Scrapes until no job is queued or running (bounded), then checks that
/// every submitted job ended exactly one way, and returns the counters.
pub fn settled_jobs(server: &Server) -> Jobs {
    let mut jobs = Jobs::default();
    let settled = super::wait_until(super::IO_TIMEOUT, || {
        jobs = scrape(server).jobs();
        jobs.queued == 0 && jobs.running == 0
    });
    assert!(settled, "jobs still in flight: {jobs:?}");
    assert_eq!(
        jobs.submitted,
        jobs.completed + jobs.panicked + jobs.cancelled + jobs.timed_out,
        "a job ended twice, or not at all: {jobs:?}"
    );
    jobs
}
