//! `eddy call`, the seed's client, run as a real process against a real
//! server: in `slow_threaded` mode every fast answer beats every slow one;
//! in `slow` mode the blocked loop holds the fast ones up; a closed port and
//! a full job queue are failures named on stderr with exit 1; bad arguments
//! are usage errors (exit 2). `--svg` writes a well-formed picture with one
//! bar per request, checked here by a tiny XML checker.
//!
//! One more test measures the seed's *other* client-visible cost: its
//! watcher thread spun on `time.sleep(0)` while a job ran. Here the server's
//! CPU time during one job is the worker's alone.
//!
//! The CPU-heavy tests compare arrival times or CPU time, so they are
//! serialized with `LOCK` and calibrated at run time: the job size `n` is
//! chosen so one job costs ≥ 0.4 s of CPU on this machine and build.

mod common;

use common::{calibrate, get, run_eddy, Server, JOB};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Serializes the tests of this file so they don't compete for the cores.
static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A temporary SVG path, unique to this test process and `name`.
fn temp_svg(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("eddy-call-{}-{name}.svg", std::process::id()))
}

/// What one successful `eddy call` printed, split into its parts.
struct CallOutput {
    /// The scheduled URLs, in order.
    urls: Vec<String>,
    /// The answer lines (`<body>  <ms> ms`), in arrival order.
    answers: Vec<String>,
    /// The `summary: ...` line.
    summary: String,
}

fn split_output(stdout: &str) -> CallOutput {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "Start sending requests....")
        .unwrap_or_else(|| panic!("no `Start sending requests....` in {stdout}"));
    assert_eq!(lines[0], "Scheduling GET requests:", "{stdout}");
    let urls = lines[2..start]
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.to_string())
        .collect();
    let answers = lines[start + 1..]
        .iter()
        .filter(|l| l.starts_with("fast result ") || l.starts_with("slow result "))
        .map(|l| l.to_string())
        .collect();
    let summary = lines
        .iter()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_else(|| panic!("no summary in {stdout}"))
        .to_string();
    CallOutput {
        urls,
        answers,
        summary,
    }
}

/// A figure from the summary, e.g. `fast max 9.1 ms` → 9.1 ms.
fn summary_ms(summary: &str, what: &str) -> Duration {
    let after = summary
        .split_once(&format!("{what} max "))
        .unwrap_or_else(|| panic!("no `{what} max` in {summary:?}"))
        .1;
    let ms: f64 = after
        .split_once(" ms")
        .and_then(|(ms, _)| ms.parse().ok())
        .unwrap_or_else(|| panic!("bad `{what} max` figure in {summary:?}"));
    Duration::from_secs_f64(ms / 1000.0)
}

/// Runs `eddy call <mode>` with 3 slow and 20 fast requests of size `n`
/// against `server`, asserts it succeeded and printed the schedule, every
/// answer and an SVG with a bar per request; returns what it printed.
fn call_ok(server: &Server, mode: &str, n: u32) -> CallOutput {
    let addr = server.addr.to_string();
    let svg_path = temp_svg(mode);
    let n_text = n.to_string();
    let svg_arg = svg_path.to_str().unwrap();
    let args = [
        "call", mode, "--addr", &addr, "--n", &n_text, "--svg", svg_arg,
    ];
    let (status, out, err) = run_eddy(&args);
    assert_eq!(
        status.code(),
        Some(0),
        "eddy {args:?}: {status}\n{out}\n{err}"
    );
    let output = split_output(&out);

    let mut expected: Vec<String> = (1..=3)
        .map(|id| format!("http://{addr}/{mode}?id={id}&n={n}"))
        .collect();
    expected.extend((1..=20).map(|id| format!("http://{addr}/fast?id={id}")));
    assert_eq!(output.urls, expected, "the schedule, slow first");
    assert_eq!(output.answers.len(), 23, "one line per answer: {out}");
    for line in &output.answers {
        let ms = line.trim_end().strip_suffix(" ms").and_then(|rest| {
            rest.rsplit(' ')
                .next()
                .and_then(|ms| ms.parse::<f64>().ok())
        });
        assert!(ms.is_some(), "answer line without its ms: {line:?}");
    }

    let svg = std::fs::read_to_string(&svg_path).expect("the --svg file");
    let _ = std::fs::remove_file(&svg_path);
    if let Err(e) = check_well_formed(&svg) {
        panic!("{mode} SVG is not well-formed: {e}\n{svg}");
    }
    assert_eq!(svg.matches("<rect class=\"bar slow\"").count(), 3, "{svg}");
    assert_eq!(svg.matches("<rect class=\"bar fast\"").count(), 20, "{svg}");
    assert_eq!(
        svg.matches("class=\"bar ").count(),
        23,
        "one bar per request"
    );
    output
}

#[test]
fn slow_threaded_call_sees_every_fast_answer_beat_every_slow() {
    let _guard = lock();
    let server = Server::start(&["--workers", "2", "--worker-priority", "normal", "--quiet"]);
    let (n, job) = calibrate(&server, JOB);
    let output = call_ok(&server, "slow_threaded", n);
    let first_slow = output
        .answers
        .iter()
        .position(|l| l.starts_with("slow result "))
        .unwrap();
    assert_eq!(
        first_slow, 20,
        "a slow answer came before a fast one (n={n}, one job {job:?}): {:#?}",
        output.answers
    );
    assert!(
        output.summary.ends_with("every fast beat every slow: yes"),
        "{}",
        output.summary
    );
    // The fast answers did not wait for the jobs; the slow ones did the work.
    assert!(
        summary_ms(&output.summary, "fast") < job / 2,
        "{}",
        output.summary
    );
    assert!(
        summary_ms(&output.summary, "slow") >= job / 2,
        "{}",
        output.summary
    );
}

#[test]
fn slow_call_shows_the_blocked_loop_holding_fast_answers_up() {
    let _guard = lock();
    let server = Server::start(&["--quiet"]);
    let (n, job) = calibrate(&server, JOB);
    let output = call_ok(&server, "slow", n);
    assert!(
        output.summary.ends_with("every fast beat every slow: no"),
        "/slow did not block the loop (n={n}, one job {job:?}): {}\n{:#?}",
        output.summary,
        output.answers
    );
    assert!(
        summary_ms(&output.summary, "fast") >= job / 2,
        "the slowest fast answer came in under half a job ({job:?}): {}",
        output.summary
    );
}

/// The seed's watcher thread waited for a job with `while q.empty():
/// time.sleep(0)` — a core kept busy doing nothing. eddy's loop sleeps in
/// `epoll_wait` until the worker rings the Waker: while one job runs, the
/// loop wakes only for its heartbeat. Counted in turns, not as a CPU share,
/// which other load on the machine would shrink.
#[test]
fn waiting_for_a_job_costs_the_loop_no_cpu() {
    let _guard = lock();
    let server = Server::start(&[
        "--workers",
        "1",
        "--worker-priority",
        "normal",
        "--trace",
        "--quiet",
    ]);
    let (n, job) = calibrate(&server, JOB);
    let (turns0, t0) = (server.turns(), Instant::now());
    let r = get(server.addr, &format!("/slow_threaded?id=1&n={n}"));
    assert_eq!(r.status, 200, "{r:?}");
    let (wall, turns) = (t0.elapsed(), server.turns() - turns0);
    // Connect, request, the job's return, the close: a few turns of events.
    let bound = Server::idle_turns_bound(wall, 10);
    assert!(
        turns <= bound,
        "the loop turned {turns} times in {wall:?} while one job ran (n={n}, {job:?} of CPU); \
         an idle loop takes at most {bound}"
    );
}

#[test]
fn call_to_a_closed_port_exits_1_naming_refused() {
    // A port that is bound but does not listen, and stays so while the
    // test runs: the local end of a connection it holds open. A port bound
    // and let go could be taken (and listened on) by anyone before eddy
    // call connects.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let held = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let addr = held.local_addr().unwrap().to_string();
    let args = [
        "call", "slow", "--addr", &addr, "--slow", "1", "--fast", "2",
    ];
    let (status, out, err) = run_eddy(&args);
    assert_eq!(status.code(), Some(1), "{status}\n{out}\n{err}");
    assert!(
        err.contains(&format!(
            "request 1 (http://{addr}/slow?id=1&n=2000): refused"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("request 3 (http://{addr}/fast?id=2): refused")),
        "{err}"
    );
    assert!(
        err.contains("3 of 3 requests failed") && err.contains("is eddy serving on"),
        "{err}"
    );
    assert!(out.contains("3 of 3 requests failed"), "summary: {out}");
}

#[test]
fn call_names_bad_statuses_and_exits_1() {
    let _guard = lock();
    // One worker, one queue place: of four jobs sent at once, at least two
    // find both taken and are answered 503.
    let server = Server::start(&["--workers", "1", "--queue", "1", "--quiet"]);
    let addr = server.addr.to_string();
    let svg_path = temp_svg("bad-status");
    let args = [
        "call",
        "slow_threaded",
        "--addr",
        &addr,
        "--slow",
        "4",
        "--fast",
        "1",
        "--n",
        "3000",
        "--svg",
        svg_path.to_str().unwrap(),
    ];
    let (status, out, err) = run_eddy(&args);
    assert_eq!(status.code(), Some(1), "{status}\n{out}\n{err}");
    assert!(err.contains("): bad status 503: "), "{err}");
    assert!(err.contains("of 5 requests failed"), "{err}");
    assert!(
        out.contains("fast result 1"),
        "the fast request still got through: {out}"
    );
    let svg = std::fs::read_to_string(&svg_path).expect("the --svg file");
    let _ = std::fs::remove_file(&svg_path);
    check_well_formed(&svg).unwrap();
    assert_eq!(
        svg.matches("class=\"bar ").count(),
        5,
        "failures get bars too"
    );
    assert!(svg.matches("<rect class=\"bar failed\"").count() >= 2);
}

#[test]
fn bad_call_arguments_are_usage_errors() {
    for args in [
        &["call"][..],
        &["call", "fast"],
        &["call", "slow", "--bogus"],
        &["call", "slow", "--n", "20001"],
        &["call", "slow_threaded", "--slow", "0"],
        &["call", "slow", "--addr", "not-an-address"],
        &["call", "slow", "--svg"],
    ] {
        let (status, out, err) = run_eddy(args);
        assert_eq!(status.code(), Some(2), "eddy {args:?}: {status}, {err:?}");
        assert!(err.contains("eddy --help"), "{err}");
        assert_eq!(err.lines().count(), 2, "one line and a pointer: {err}");
        assert!(!out.contains("Scheduling"), "eddy {args:?} started calling");
    }
    let (status, out, _) = run_eddy(&["--help"]);
    assert_eq!(status.code(), Some(0));
    assert!(out.contains("eddy call <slow|slow_threaded>"), "{out}");
}

/// Checks that `xml` is well-formed as far as a hand-written writer can get
/// it wrong: one root element; every tag closed, in order; attribute values
/// quoted; `&` only as an entity and no raw `<` in text or values; nothing
/// but whitespace outside the root. Comments, CDATA and DOCTYPE are not
/// expected and are refused.
fn check_well_formed(xml: &str) -> Result<(), String> {
    let mut rest = xml;
    if let Some(after) = rest.strip_prefix("<?xml ") {
        rest = after.split_once("?>").ok_or("unclosed XML declaration")?.1;
    }
    let mut open: Vec<&str> = Vec::new();
    let mut roots = 0;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if open.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root: {text:?}"));
        }
        check_text(text)?;
        let gt = rest[lt..].find('>').ok_or("a tag that never ends")? + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(top) if top == name.trim() => continue,
                top => return Err(format!("</{name}> closes {top:?}")),
            }
        }
        let (tag, closes_itself) = match tag.strip_suffix('/') {
            Some(tag) => (tag, true),
            None => (tag, false),
        };
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let name = &tag[..name_end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == ':') {
            return Err(format!("bad tag name in <{tag}>"));
        }
        check_attributes(&tag[name_end..])?;
        if open.is_empty() {
            roots += 1;
        }
        if !closes_itself {
            open.push(name);
        }
    }
    if !rest.trim().is_empty() {
        return Err(format!("text after the root: {rest:?}"));
    }
    match (roots, open.as_slice()) {
        (1, []) => Ok(()),
        (1, unclosed) => Err(format!("unclosed: {unclosed:?}")),
        (roots, _) => Err(format!("{roots} root elements")),
    }
}

/// `name="value"` pairs, each name once.
fn check_attributes(mut attrs: &str) -> Result<(), String> {
    let mut seen = Vec::new();
    loop {
        attrs = attrs.trim_start();
        if attrs.is_empty() {
            return Ok(());
        }
        let (name, after) = attrs
            .split_once("=\"")
            .ok_or(format!("unquoted: {attrs}"))?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-:".contains(c))
        {
            return Err(format!("bad attribute name {name:?}"));
        }
        if seen.contains(&name) {
            return Err(format!("attribute {name} twice"));
        }
        seen.push(name);
        let (value, after) = after.split_once('"').ok_or("unterminated value")?;
        check_text(value)?;
        attrs = after;
        if !(attrs.is_empty() || attrs.starts_with(char::is_whitespace)) {
            return Err(format!("no space before {attrs:?}"));
        }
    }
}

/// No raw `<`, and every `&` starts one of XML's five entities.
fn check_text(text: &str) -> Result<(), String> {
    if text.contains('<') {
        return Err(format!("raw < in {text:?}"));
    }
    for (i, _) in text.match_indices('&') {
        let entity = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
            .iter()
            .any(|e| text[i..].starts_with(e));
        if !entity {
            return Err(format!("bare & in {text:?}"));
        }
    }
    Ok(())
}

#[test]
fn the_checker_refuses_broken_xml() {
    assert!(check_well_formed("<a><b/></a>").is_ok());
    for bad in [
        "<a><b></a></b>",
        "<a>",
        "<a></a><a></a>",
        "<a x=1></a>",
        "<a>x & y</a>",
        "<a x=\"1\" x=\"2\"/>",
        "text<a/>",
    ] {
        assert!(check_well_formed(bad).is_err(), "{bad}");
    }
}
