//! What one call found: an [`Outcome`] per request, printed as it arrives;
//! the [`Summary`] line that answers the seed's question; the timeline.
//!
//! Every time here is measured on the client, from "time zero" (just before
//! the first connect). A request's *latency* runs from the moment its last
//! request byte went out to the moment its last response byte came in —
//! what a user of the server waits — and that is what the lines, the
//! summary and the bars show.

use std::fmt;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::exchange::{Failure, Received};
use super::{Mode, Planned};
use crate::timeline::{Bar, Series, Timeline};

/// Which half of the experiment a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A heavy request (`/slow` or `/slow_threaded`).
    Slow,
    /// A `/fast` request.
    Fast,
}

/// How one request ended, and when.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// Slow or fast.
    pub(crate) kind: Kind,
    /// Its `id` within its kind.
    pub(crate) id: usize,
    /// Path and query, for messages.
    pub(crate) path: String,
    /// When its connect was issued, from time zero.
    pub(crate) began: Duration,
    /// When its request was fully written, from time zero; `None` if it
    /// never was (refused, say).
    pub(crate) sent: Option<Duration>,
    /// When it finished — answered, failed or timed out — from time zero.
    pub(crate) ended: Duration,
    /// The body of a `200` (lossy UTF-8), or why there is none.
    pub(crate) result: Result<String, Failure>,
}

impl Outcome {
    /// Records that `request` has just finished.
    pub(super) fn new(
        request: &Planned,
        zero: Instant,
        began: Instant,
        sent: Option<Instant>,
        result: Result<String, Failure>,
    ) -> Outcome {
        Outcome {
            kind: request.kind,
            id: request.id,
            path: request.path.clone(),
            began: began - zero,
            sent: sent.map(|sent| sent - zero),
            ended: zero.elapsed(),
            result,
        }
    }

    /// Where its bar starts: when it was sent, or began if it never was.
    pub(crate) fn start(&self) -> Duration {
        self.sent.unwrap_or(self.began)
    }

    /// From send to answer (or to failure).
    pub(crate) fn latency(&self) -> Duration {
        self.ended.saturating_sub(self.start())
    }
}

/// Anything but `200 OK` with the body the demo app gives to that request
/// (`fast result ID`, `slow result ID <--- 1.234 s`) is a failure.
pub(super) fn judge(kind: Kind, id: usize, answer: &Received) -> Result<String, Failure> {
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    if answer.status != 200 {
        return Err(Failure::BadStatus {
            status: answer.status,
            body: first_line(&body),
        });
    }
    let expected = match kind {
        Kind::Fast => body == format!("fast result {id}"),
        Kind::Slow => body.starts_with(&format!("slow result {id} <--- ")),
    };
    if expected {
        Ok(body)
    } else {
        Err(Failure::WrongBody(first_line(&body)))
    }
}

/// The first line of `text`, cut to 60 characters: enough to recognise an
/// answer, never enough to flood the terminal.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

/// Spaneconds, with one decimal, as `f64` for printing.
fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Every outcome of one call, in plan order.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// Which slow route was called.
    pub(crate) mode: Mode,
    /// The job size the slow requests asked for.
    pub(crate) n: u32,
    /// Indexed like the plan; `None` only while a request is in flight.
    outcomes: Vec<Option<Outcome>>,
}

impl Report {
    /// An empty report for a call of `requests` requests.
    pub(super) fn new(mode: Mode, n: u32, requests: usize) -> Report {
        Report {
            mode,
            n,
            outcomes: vec![None; requests],
        }
    }

    /// Stores the outcome of request `index` and prints it: an answer as
    /// `<body>  <latency> ms` on `out`, a failure as
    /// `request K (URL): why` on `err`.
    pub(super) fn record(
        &mut self,
        index: usize,
        outcome: Outcome,
        host: &str,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<()> {
        match &outcome.result {
            Ok(body) => {
                let latency = ms(outcome.latency());
                writeln!(out, "{:<34}{latency:>10.1} ms", first_line(body))?;
                out.flush()?;
            }
            Err(failure) => {
                let url = format!("http://{host}{}", outcome.path);
                writeln!(err, "request {} ({url}): {failure}", index + 1)?;
            }
        }
        self.outcomes[index] = Some(outcome);
        Ok(())
    }

    /// The finished requests, in plan (sending) order.
    pub(crate) fn outcomes(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().flatten()
    }

    /// How many requests failed.
    pub(crate) fn failures(&self) -> usize {
        self.outcomes().filter(|o| o.result.is_err()).count()
    }

    /// The figures the seed experiment is about.
    pub(crate) fn summary(&self) -> Summary {
        let answered = |kind| {
            self.outcomes()
                .filter(move |o| o.kind == kind && o.result.is_ok())
        };
        let fast_last = answered(Kind::Fast).map(|o| o.ended).max();
        let slow_first = answered(Kind::Slow).map(|o| o.ended).min();
        Summary {
            fast_max: answered(Kind::Fast).map(Outcome::latency).max(),
            slow_max: answered(Kind::Slow).map(Outcome::latency).max(),
            every_fast_beat_every_slow: fast_last.zip(slow_first).map(|(f, s)| f < s),
            failed: self.failures(),
            total: self.outcomes.len(),
        }
    }

    /// The picture: one bar per request, in sending order, from send to
    /// answer; slow and fast in two colours, failures in grey.
    pub(crate) fn timeline(&self) -> Timeline {
        let route = self.mode.route();
        let place = match self.mode {
            Mode::Slow => "ON the loop thread",
            Mode::SlowThreaded => "on the worker pool",
        };
        let mut series = vec![
            Series {
                class: "slow".into(),
                name: format!("slow: /{route}?n={}, heavy work {place}", self.n),
                colour: "#d1495b".into(),
            },
            Series {
                class: "fast".into(),
                name: "fast: /fast, answered on the loop thread".into(),
                colour: "#2e86ab".into(),
            },
        ];
        if self.failures() > 0 {
            series.push(Series {
                class: "failed".into(),
                name: "failed".into(),
                colour: "#8c8c8c".into(),
            });
        }
        let bars = self
            .outcomes()
            .map(|o| {
                let (series, note) = match (&o.result, o.kind) {
                    (Ok(_), Kind::Slow) => (0, format!("{:.1} ms", ms(o.latency()))),
                    (Ok(_), Kind::Fast) => (1, format!("{:.1} ms", ms(o.latency()))),
                    (Err(failure), _) => (2, failure.short().to_string()),
                };
                let kind = match o.kind {
                    Kind::Slow => "slow",
                    Kind::Fast => "fast",
                };
                Bar {
                    label: format!("{kind} {}", o.id),
                    series,
                    start_ms: ms(o.start()),
                    end_ms: ms(o.ended),
                    note,
                }
            })
            .collect();
        let (slow, fast) = self.outcomes().fold((0, 0), |(s, f), o| match o.kind {
            Kind::Slow => (s + 1, f),
            Kind::Fast => (s, f + 1),
        });
        let summary = self.summary().to_string();
        Timeline {
            title: format!(
                "eddy call {route}: {slow} slow requests, then {fast} fast ones, all at once"
            ),
            subtitle: summary
                .strip_prefix("summary: ")
                .unwrap_or(&summary)
                .to_string(),
            axis_label: "ms since the call began; a bar runs from a request's send to its answer"
                .into(),
            series,
            bars,
        }
    }
}

/// The last line `eddy call` prints: the seed's question in three figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Summary {
    /// The longest latency of an answered fast request.
    pub(crate) fast_max: Option<Duration>,
    /// The longest latency of an answered slow request.
    pub(crate) slow_max: Option<Duration>,
    /// Whether the last fast answer arrived before the first slow one
    /// (`None` if either kind has no answer to compare).
    pub(crate) every_fast_beat_every_slow: Option<bool>,
    /// Requests that failed.
    pub(crate) failed: usize,
    /// Requests made.
    pub(crate) total: usize,
}

impl fmt::Display for Summary {
    /// `summary: fast max 9.1 ms, slow max 815.0 ms, every fast beat every
    /// slow: yes`, and `; 3 of 23 requests failed` when some did.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let figure = |d: Option<Duration>| match d {
            Some(d) => format!("{:.1} ms", ms(d)),
            None => "-".into(),
        };
        let verdict = match self.every_fast_beat_every_slow {
            Some(true) => "yes",
            Some(false) => "no",
            None => "n/a",
        };
        write!(
            f,
            "summary: fast max {}, slow max {}, every fast beat every slow: {verdict}",
            figure(self.fast_max),
            figure(self.slow_max)
        )?;
        if self.failed > 0 {
            write!(f, "; {} of {} requests failed", self.failed, self.total)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(kind: Kind, id: usize, sent_ms: u64, ended_ms: u64, ok: bool) -> Outcome {
        Outcome {
            kind,
            id,
            path: format!("/x?id={id}"),
            began: Duration::ZERO,
            sent: Some(Duration::from_millis(sent_ms)),
            ended: Duration::from_millis(ended_ms),
            result: if ok {
                Ok("body".into())
            } else {
                Err(Failure::Refused)
            },
        }
    }

    fn report(outcomes: Vec<Outcome>) -> Report {
        Report {
            mode: Mode::SlowThreaded,
            n: 2000,
            outcomes: outcomes.into_iter().map(Some).collect(),
        }
    }

    #[test]
    fn the_summary_compares_arrivals_and_reports_latencies() {
        let r = report(vec![
            outcome(Kind::Slow, 1, 1, 801, true),
            outcome(Kind::Fast, 1, 2, 5, true),
            outcome(Kind::Fast, 2, 2, 12, true),
        ]);
        assert_eq!(
            r.summary().to_string(),
            "summary: fast max 10.0 ms, slow max 800.0 ms, every fast beat every slow: yes"
        );
        let r = report(vec![
            outcome(Kind::Slow, 1, 1, 801, true),
            outcome(Kind::Fast, 1, 2, 900, true),
            outcome(Kind::Fast, 2, 2, 3, false),
        ]);
        assert_eq!(
            r.summary().to_string(),
            "summary: fast max 898.0 ms, slow max 800.0 ms, every fast beat every slow: no; \
             1 of 3 requests failed"
        );
        let r = report(vec![outcome(Kind::Fast, 1, 0, 1, false)]);
        assert!(r.summary().to_string().contains("fast max -"));
        assert!(r
            .summary()
            .to_string()
            .contains("every fast beat every slow: n/a"));
    }

    #[test]
    fn only_200_with_the_demo_body_is_an_answer() {
        let answer = |status, body: &[u8]| Received {
            status,
            body: body.to_vec(),
        };
        assert!(judge(Kind::Fast, 7, &answer(200, b"fast result 7")).is_ok());
        assert!(judge(Kind::Slow, 2, &answer(200, b"slow result 2 <--- 0.031 s")).is_ok());
        // Something else on the port, or the answer to another request.
        for (kind, id, body) in [
            (Kind::Fast, 7, &b"hello"[..]),
            (Kind::Fast, 7, b"fast result 8"),
            (Kind::Slow, 2, b"slow result 3 <--- 0.031 s"),
        ] {
            assert_eq!(
                judge(kind, id, &answer(200, body)),
                Err(Failure::WrongBody(String::from_utf8_lossy(body).into()))
            );
        }
        assert_eq!(
            judge(
                Kind::Fast,
                1,
                &answer(503, b"503 Service Unavailable\nmore")
            ),
            Err(Failure::BadStatus {
                status: 503,
                body: "503 Service Unavailable".into()
            })
        );
    }

    #[test]
    fn the_timeline_has_a_bar_per_request_in_sending_order() {
        let r = report(vec![
            outcome(Kind::Slow, 1, 1, 801, true),
            outcome(Kind::Fast, 1, 2, 5, true),
            outcome(Kind::Fast, 2, 2, 3, false),
        ]);
        let t = r.timeline();
        let rows: Vec<_> = t
            .bars
            .iter()
            .map(|b| (b.label.as_str(), b.series))
            .collect();
        assert_eq!(rows, [("slow 1", 0), ("fast 1", 1), ("fast 2", 2)]);
        assert_eq!(t.series.len(), 3, "a failure adds the grey series");
        assert_eq!(t.bars[2].note, "refused");
    }
}
