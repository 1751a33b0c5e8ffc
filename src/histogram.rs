//! A Prometheus histogram with fixed buckets: the one statistic both the
//! reactor (loop lag) and the server's metrics (request durations) keep.
//!
//! A leaf: it imports nothing from the crate, so the reactor can keep one
//! without knowing what a request is.

use std::fmt::Write;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds: from half a millisecond
/// (a fast request on a quiet loop) to half a minute (the job timeout).
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];

/// A Prometheus histogram with fixed buckets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Histogram {
    /// Observations per bucket (not cumulative; the last is `+Inf`).
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    /// Records one observation.
    pub(crate) fn observe(&mut self, value: Duration) {
        let seconds = value.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(BUCKETS.len());
        self.counts[bucket] += 1;
        self.sum += seconds;
        self.count += 1;
    }

    /// Number of observations (for tests: `render` is what reports it).
    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Writes the `_bucket`, `_sum` and `_count` samples, with `labels`
    /// (already formatted, like `route="/fast"`, or empty) on each.
    pub(crate) fn render(&self, name: &str, labels: &str, out: &mut String) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count;
            let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_in_the_count() {
        let mut h = Histogram::default();
        for ms in [0, 1, 3, 700, 40_000] {
            h.observe(Duration::from_millis(ms));
        }
        let mut out = String::new();
        h.render("x", "", &mut out);
        assert!(out.contains("x_bucket{le=\"0.001\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"1\"} 4\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"30\"} 4\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 5\n"), "{out}");
        assert!(out.contains("x_count 5\n"), "{out}");
    }
}
