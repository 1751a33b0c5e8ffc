//! `eddy`'s command line: flags in, a [`Config`] (for `serve`) or a
//! [`CallOptions`] (for `call`) out, the exit code back.
//!
//! Hand-written on purpose (the crate's five dependencies include no CLI
//! parser): the grammar is small — a subcommand, `--flag value` or
//! `--flag=value`, and switches — and the usage text below is the reference.

mod listen;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use eddy::call::{self, CallOptions, Mode};

use eddy::{demo, AccessLog, AccessRecord, Config, EventLog, Exit, ServerEvent, WorkerPriority};
use listen::{Listen, ListenError};

/// Printed by `--help`, and on stderr after a usage error.
const USAGE: &str = "\
eddy — an HTTP/1.1 server on one hand-rolled event loop, slow work on a worker pool

USAGE:
    eddy [serve] [OPTIONS]       serve the demo app (the default command)
    eddy call <slow|slow_threaded> [CALL OPTIONS]
                                 the seed's call_multi.py: slow requests, then fast ones, all at once
    eddy --help | --version

SERVE OPTIONS:
    --addr HOST:PORT          listen address [default: 127.0.0.1:8888]; port 0 picks one
    --addr unix:PATH          listen on a Unix socket instead (without --addr, a socket
                              systemd passes in LISTEN_FDS is used)
    --workers N               worker threads for offloaded jobs [default: CPU count]
    --queue N                 jobs that may wait for a worker; more get 503 [default: 1024]
    --max-conns N             open connections before accepting pauses [default: 10000]
    --header-timeout SECS     a started request must arrive within this, else 408 [default: 10]
    --idle-timeout SECS       close keep-alive connections idle this long [default: 60]
    --job-timeout SECS        offloaded job time limit, then 504 and the job is told to stop [default: 30]
    --max-body BYTES          largest request body, else 413 [default: 1048576]
    --shutdown-timeout SECS   longest graceful drain after SIGINT/SIGTERM [default: 30]
    --drain-grace SECS        in a drain, how long an idle keep-alive connection may still
                              send one last request (answered with Connection: close) [default: 1]
    --reuse-port              bind with SO_REUSEPORT: several processes share the port
    --quiet                   no access log on stdout
    --log-format F            the access log's lines: combined (nginx's) or json [default: combined]
    --worker-priority P       idle (SCHED_IDLE: the loop always wins a core), normal, or nice:N
                              [default: idle]
    --backtraces              print a backtrace under each job or handler panic (costs memory)
    --trace                   print what each turn of the event loop did, on stderr
    --tls-cert PEM            serve HTTPS: the certificate chain (with --tls-key)
    --tls-key PEM             serve HTTPS: the certificate's private key (with --tls-cert)

CALL OPTIONS:
    --addr HOST:PORT          the server [default: 127.0.0.1:8888]
    --slow N                  slow requests, sent first [default: 3; at most 500]
    --fast N                  fast requests, sent right after [default: 20; at most 500]
    --n N                     each slow job's size, heavy_lifting(N) [default: 2000; 0 to 20000]
    --svg FILE                also draw the timeline: one bar per request, as SVG
  Prints each answer as it arrives, then a summary; exit 1 if any request failed.

ROUTES (the seed's demo):
    GET /fast?id=ID                   answered on the loop
    GET /slow?id=ID[&n=N]             heavy_lifting(N) ON the loop: blocks everyone (the baseline)
    GET /slow_threaded?id=ID[&n=N]    heavy_lifting(N) on the worker pool
    GET /fail?id=ID                   a pool job that panics: 500
    GET /healthz                      ok, or 503 draining during shutdown
    GET /metrics                      counters and histograms, Prometheus text format
    GET /                             the live page: the seed's experiment in a browser
    GET /ws                           a WebSocket: messages echoed on the loop, `heavy N` on the pool

SIGNALS:
    SIGINT/SIGTERM drain gracefully (exit 0); a second signal exits at once (exit 1).
    SIGHUP reads --tls-cert and --tls-key again (the old pair serves on if the new one is bad).
";

/// Runs the command line `args` (without the program name) and returns the
/// process exit code.
pub(crate) fn main(args: Vec<String>) -> i32 {
    let mut args = args.as_slice();
    match args.first().map(String::as_str) {
        Some("--help" | "-h" | "help") => {
            print!("{USAGE}");
            return 0;
        }
        Some("--version" | "-V") => {
            println!("eddy {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        // `eddy serve --help` and `eddy call --help` answer like `eddy --help`.
        Some("serve" | "call")
            if matches!(args.get(1).map(String::as_str), Some("--help" | "-h")) =>
        {
            print!("{USAGE}");
            return 0;
        }
        Some("serve") => args = &args[1..],
        Some("call") => {
            return match parse_call(&args[1..]) {
                Ok(mut options) => match listen::resolve(&options.host) {
                    Ok(addr) => {
                        options.addr = addr;
                        call::command(&options)
                    }
                    Err(ListenError::Resolve(message) | ListenError::Bind(message)) => {
                        let _ = writeln!(io::stderr(), "eddy call: {message}");
                        3
                    }
                },
                Err(message) => usage_error(&message),
            }
        }
        _ => {}
    }
    match parse_serve(args) {
        Ok((config, listen)) => serve(config, &listen),
        Err(message) => usage_error(&message),
    }
}

/// A usage error: one line saying what is wrong, and where the rest is.
fn usage_error(message: &str) -> i32 {
    let _ = writeln!(
        io::stderr(),
        "eddy: {message}\nTry 'eddy --help' for the options."
    );
    2
}

/// Binds, prints the `listening on` line (tests and scripts read the port
/// from it), and runs the loop until shutdown.
fn serve(config: Config, listen: &Listen) -> i32 {
    let server = match listen.bind(config, demo::router()) {
        Ok(server) => server,
        Err(ListenError::Resolve(message)) => {
            let _ = writeln!(io::stderr(), "eddy: {message}");
            return 3;
        }
        Err(ListenError::Bind(message)) => {
            let _ = writeln!(io::stderr(), "eddy: {message}");
            return 1;
        }
    };
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "listening on {}", server.listening());
    let _ = stdout.flush();
    drop(stdout);
    match server.run() {
        Ok(Exit::Drained) => 0,
        // The server's event said so on stderr already.
        Ok(Exit::ShutdownTimedOut { .. }) => 0,
        Ok(Exit::SecondSignal) => 1,
        Err(e) => {
            let _ = writeln!(io::stderr(), "eddy: event loop failed: {e}");
            1
        }
    }
}

/// Walks options written `--flag value`, `--flag=value` or `--switch`: the
/// grammar of both `eddy serve` and `eddy call`.
struct Flags<'a> {
    rest: &'a [String],
}

/// One option: the argument as written, its flag, and its `=value` if any.
struct Flag<'a> {
    arg: &'a str,
    name: &'a str,
    inline: Option<&'a str>,
}

impl<'a> Flags<'a> {
    /// The next option, if any.
    fn next(&mut self) -> Option<Flag<'a>> {
        let (arg, rest) = self.rest.split_first()?;
        self.rest = rest;
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg.as_str(), None),
        };
        Some(Flag { arg, name, inline })
    }

    /// The value of `flag`: its `=value`, else the next argument.
    fn value(&mut self, flag: &Flag<'a>) -> Result<&'a str, String> {
        if let Some(value) = flag.inline {
            return Ok(value);
        }
        let (value, rest) = self
            .rest
            .split_first()
            .ok_or_else(|| format!("{} needs a value", flag.name))?;
        self.rest = rest;
        Ok(value)
    }
}

impl Flag<'_> {
    /// The error for an option the command does not know, or a switch
    /// given a value.
    fn unknown(&self) -> String {
        const SWITCHES: [&str; 4] = ["--reuse-port", "--quiet", "--backtraces", "--trace"];
        if self.inline.is_some() && SWITCHES.contains(&self.name) {
            return format!("{} takes no value (got {:?})", self.name, self.arg);
        }
        format!("unknown argument {:?}", self.arg)
    }
}

/// The binary's access log: one line per answer on stdout, nginx's
/// combined format or a JSON object (write errors ignored: a closed pipe
/// must not stop the server).
fn access_log(json: bool) -> AccessLog {
    if json {
        Arc::new(|record: &AccessRecord<'_>| {
            let _ = writeln!(io::stdout().lock(), "{}", record.json());
        })
    } else {
        Arc::new(|record: &AccessRecord<'_>| {
            let _ = writeln!(io::stdout().lock(), "{record}");
        })
    }
}

/// What the `eddy` binary sets where the library's defaults suit a library:
/// SIGINT/SIGTERM drain the server, the access log goes to stdout and the
/// server's events to stderr (write errors ignored, as above), and workers
/// yield the CPU to the loop.
fn binary_defaults() -> Config {
    let events: EventLog = Arc::new(|event: &ServerEvent<'_>| {
        let _ = writeln!(io::stderr().lock(), "{event}");
    });
    Config {
        handle_signals: true,
        access_log: Some(access_log(false)),
        events: Some(events),
        worker_priority: WorkerPriority::Idle,
        ..Config::default()
    }
}

/// Parses `eddy serve`'s options: the config, and where to listen.
fn parse_serve(args: &[String]) -> Result<(Config, Listen), String> {
    let mut config = binary_defaults();
    let mut listen = None;
    let (mut quiet, mut json) = (false, false);
    let mut tls: (Option<PathBuf>, Option<PathBuf>) = (None, None);
    let mut flags = Flags { rest: args };
    while let Some(flag) = flags.next() {
        let name = flag.name;
        match name {
            "--addr" => listen = Some(Listen::parse(flags.value(&flag)?)?),
            "--workers" => config.workers = parse_count(name, flags.value(&flag)?)?,
            "--queue" => config.queue = parse_count(name, flags.value(&flag)?)?,
            "--max-conns" => config.max_conns = parse_count(name, flags.value(&flag)?)?,
            "--header-timeout" => config.header_timeout = parse_secs(name, flags.value(&flag)?)?,
            "--idle-timeout" => config.idle_timeout = parse_secs(name, flags.value(&flag)?)?,
            "--job-timeout" => config.job_timeout = parse_secs(name, flags.value(&flag)?)?,
            "--shutdown-timeout" => {
                config.shutdown_timeout = parse_secs(name, flags.value(&flag)?)?
            }
            "--drain-grace" => config.drain_grace = parse_secs(name, flags.value(&flag)?)?,
            "--max-body" => config.max_body = parse_count(name, flags.value(&flag)?)?,
            "--reuse-port" if flag.inline.is_none() => config.reuse_port = true,
            "--quiet" if flag.inline.is_none() => quiet = true,
            "--log-format" => json = parse_log_format(flags.value(&flag)?)?,
            "--worker-priority" => config.worker_priority = parse_priority(flags.value(&flag)?)?,
            "--backtraces" if flag.inline.is_none() => config.backtraces = true,
            "--trace" if flag.inline.is_none() => config.trace = true,
            "--tls-cert" => tls.0 = Some(PathBuf::from(flags.value(&flag)?)),
            "--tls-key" => tls.1 = Some(PathBuf::from(flags.value(&flag)?)),
            _ => return Err(flag.unknown()),
        }
    }
    match tls {
        (None, None) => {}
        (Some(cert), Some(key)) => config_tls(&mut config, &cert, &key)?,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    }
    config.access_log = (!quiet).then(|| access_log(json));
    let default = Listen::Tcp("127.0.0.1:8888".into());
    let listen = listen.unwrap_or_else(|| Listen::or_systemd(default));
    Ok((config, listen))
}

/// Reads the certificate and key into `config` — before anything binds. A
/// file that cannot be used is named with the reason, as a usage error
/// (exit 2).
#[cfg(feature = "tls")]
fn config_tls(config: &mut Config, cert: &Path, key: &Path) -> Result<(), String> {
    let tls = eddy::TlsConfig::from_pem_files(cert, key).map_err(|e| format!("TLS: {e}"))?;
    config.tls = Some(tls);
    Ok(())
}

/// Without the `tls` feature there is no HTTPS to configure.
#[cfg(not(feature = "tls"))]
fn config_tls(_: &mut Config, _: &Path, _: &Path) -> Result<(), String> {
    Err("--tls-cert: this eddy was built without the `tls` feature".into())
}

/// `combined` or `json`: true for JSON.
fn parse_log_format(text: &str) -> Result<bool, String> {
    match text {
        "combined" => Ok(false),
        "json" => Ok(true),
        _ => Err(format!("--log-format: {text:?} is not combined or json")),
    }
}

/// `idle`, `normal` or `nice:N` (1 to 19).
fn parse_priority(text: &str) -> Result<WorkerPriority, String> {
    match text {
        "idle" => Ok(WorkerPriority::Idle),
        "normal" => Ok(WorkerPriority::Normal),
        _ => match text.strip_prefix("nice:").map(str::parse::<i32>) {
            Some(Ok(n)) if (1..=19).contains(&n) => Ok(WorkerPriority::Nice(n)),
            _ => Err(format!(
                "--worker-priority: {text:?} is not idle, normal or nice:1 to nice:19"
            )),
        },
    }
}

/// A positive whole number.
fn parse_count(flag: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{flag}: {text:?} is not a positive whole number")),
    }
}

/// A positive number of seconds; fractions allowed (`0.5`), which tests use.
fn parse_secs(flag: &str, text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs <= 1e9 => Ok(Duration::from_secs_f64(secs)),
        _ => Err(format!(
            "{flag}: {text:?} is not a positive number of seconds"
        )),
    }
}

// ---- `eddy call` ---------------------------------------------------------

/// Parses `eddy call`'s mode and options (the same `--flag value` /
/// `--flag=value` grammar as [`parse_serve`]).
fn parse_call(args: &[String]) -> Result<CallOptions, String> {
    let (mode, rest) = args
        .split_first()
        .ok_or("call needs a mode: slow or slow_threaded")?;
    let mode = Mode::parse(mode)
        .ok_or_else(|| format!("call: {mode:?} is not a mode (slow or slow_threaded)"))?;
    let mut options = CallOptions::new(mode);
    let mut flags = Flags { rest };
    while let Some(flag) = flags.next() {
        let name = flag.name;
        match name {
            "--addr" => {
                let text = flags.value(&flag)?;
                match Listen::parse(text)? {
                    Listen::Tcp(host) => options.host = host,
                    _ => return Err(format!("--addr: call needs HOST:PORT, not {text:?}")),
                }
            }
            "--slow" => options.slow = parse_requests(name, flags.value(&flag)?)?,
            "--fast" => options.fast = parse_requests(name, flags.value(&flag)?)?,
            "--n" => {
                let text = flags.value(&flag)?;
                options.n = match text.parse::<u32>() {
                    Ok(n) if n <= demo::MAX_N => n,
                    _ => {
                        let max = demo::MAX_N;
                        return Err(format!(
                            "--n: {text:?} is not a whole number from 0 to {max}"
                        ));
                    }
                };
            }
            "--svg" => options.svg = Some(flags.value(&flag)?.into()),
            _ => return Err(flag.unknown()),
        }
    }
    Ok(options)
}

/// A request count for `--slow` / `--fast`: 1 to `call::MAX_PER_KIND`.
fn parse_requests(flag: &str, text: &str) -> Result<usize, String> {
    match parse_count(flag, text)? {
        n if n <= call::MAX_PER_KIND => Ok(n),
        _ => Err(format!("{flag}: at most {} requests", call::MAX_PER_KIND)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn flags_take_both_spellings() {
        let (config, listen) = parse_serve(&args(
            "--workers 3 --queue=7 --header-timeout 0.5 --quiet --addr unix:/tmp/e.sock",
        ))
        .unwrap();
        assert_eq!(listen, Listen::Unix("/tmp/e.sock".into()));
        assert_eq!(config.workers, 3);
        assert_eq!(config.queue, 7);
        assert_eq!(config.header_timeout, Duration::from_millis(500));
        assert!(config.access_log.is_none());
    }

    #[test]
    fn bad_flags_are_refused() {
        for bad in [
            "--workers 0",
            "--workers x",
            "--bogus",
            "--addr",
            "--addr nowhere",
            "--addr unix:",
            "--quiet=1",
            "--idle-timeout -1",
            "--worker-priority nice:30",
        ] {
            assert!(parse_serve(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn call_takes_a_mode_and_its_options() {
        let options = parse_call(&args(
            "slow --addr=localhost:9 --slow 1 --fast 2 --n 0 --svg t.svg",
        ))
        .unwrap();
        assert_eq!(options.mode, Mode::Slow);
        assert_eq!(options.host, "localhost:9");
        assert_eq!((options.slow, options.fast, options.n), (1, 2, 0));
        assert_eq!(options.svg.as_deref(), Some(std::path::Path::new("t.svg")));
        let defaults = parse_call(&args("slow_threaded")).unwrap();
        assert_eq!((defaults.slow, defaults.fast, defaults.n), (3, 20, 2000));
        assert_eq!(defaults.host, "127.0.0.1:8888");
        for bad in [
            "",
            "fast",
            "slow --n 20001",
            "slow --n x",
            "slow --slow 0",
            "slow --fast 501",
            "slow --svg",
            "slow --quiet",
        ] {
            assert!(parse_call(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
