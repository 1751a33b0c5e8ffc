//! `eddy`'s command line: flags in, a [`Config`] out, the exit code back.
//!
//! Hand-written on purpose (the crate's five dependencies include no CLI
//! parser): the grammar is small — a subcommand, `--flag value` or
//! `--flag=value`, and switches — and the usage text below is the reference.

use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use eddy::{demo, Config, EventLoop, Exit};

/// Printed by `--help`, and on stderr after a usage error.
const USAGE: &str = "\
eddy — an HTTP/1.1 server on one hand-rolled event loop, slow work on a worker pool

USAGE:
    eddy [serve] [OPTIONS]       serve the demo app (the default command)
    eddy --help | --version

SERVE OPTIONS:
    --addr HOST:PORT          listen address [default: 127.0.0.1:8888]; port 0 picks one
    --workers N               worker threads for offloaded jobs [default: CPU count]
    --queue N                 jobs that may wait for a worker; more get 503 [default: 1024]
    --max-conns N             open connections before accepting pauses [default: 10000]
    --header-timeout SECS     a started request must arrive within this, else 408 [default: 10]
    --idle-timeout SECS       close keep-alive connections idle this long [default: 60]
    --job-timeout SECS        offloaded job time limit, 504 [default: 30] (coming: accepted, not yet enforced)
    --max-body BYTES          largest request body, else 413 [default: 1048576]
    --shutdown-timeout SECS   longest graceful drain after SIGINT/SIGTERM [default: 30]
    --reuse-port              bind with SO_REUSEPORT (coming: accepted, not yet applied)
    --quiet                   no access log on stdout

ROUTES (the seed's demo):
    GET /fast?id=ID                   answered on the loop
    GET /slow?id=ID[&n=N]             heavy_lifting(N) ON the loop: blocks everyone (the baseline)
    GET /slow_threaded?id=ID[&n=N]    heavy_lifting(N) on the worker pool
    GET /fail?id=ID                   a pool job that panics: 500
    GET /healthz                      ok, or 503 draining during shutdown

SIGNALS:
    SIGINT/SIGTERM drain gracefully (exit 0); a second signal exits at once (exit 1).
";

/// Runs the command line `args` (without the program name) and returns the
/// process exit code.
pub fn main(args: Vec<String>) -> i32 {
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
        Some("serve") => args = &args[1..],
        Some("call") => {
            return usage_error("`eddy call` is not built yet (see the issue for `eddy call`)")
        }
        _ => {}
    }
    match parse_serve(args) {
        Ok(config) => serve(config),
        Err(message) => usage_error(&message),
    }
}

fn usage_error(message: &str) -> i32 {
    let _ = write!(io::stderr(), "eddy: {message}\n\n{USAGE}");
    2
}

/// Binds, prints the `listening on` line (tests and scripts read the port
/// from it), and runs the loop until shutdown.
fn serve(config: Config) -> i32 {
    let server = match EventLoop::bind(config.clone(), demo::router()) {
        Ok(server) => server,
        Err(e) => {
            let _ = writeln!(io::stderr(), "eddy: cannot listen on {}: {e}", config.addr);
            return 1;
        }
    };
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "listening on http://{}", server.local_addr());
    let _ = stdout.flush();
    drop(stdout);
    match server.run() {
        Ok(Exit::Drained) => 0,
        Ok(Exit::ShutdownTimedOut { abandoned }) => {
            let _ = writeln!(
                io::stderr(),
                "eddy: shutdown timeout passed; abandoned {abandoned} connection(s)"
            );
            0
        }
        Ok(Exit::SecondSignal) => 1,
        Err(e) => {
            let _ = writeln!(io::stderr(), "eddy: event loop failed: {e}");
            1
        }
    }
}

/// Parses `eddy serve`'s options.
fn parse_serve(mut args: &[String]) -> Result<Config, String> {
    let mut config = Config::default();
    while let Some((arg, rest)) = args.split_first() {
        args = rest;
        // `--flag=value` and `--flag value` both work.
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            if let Some(value) = inline_value.clone() {
                return Ok(value);
            }
            let (value, rest) = args
                .split_first()
                .ok_or_else(|| format!("{name} needs a value"))?;
            args = rest;
            Ok(value.clone())
        };
        match flag {
            "--addr" => config.addr = parse_addr(&value(flag)?)?,
            "--workers" => config.workers = parse_count(flag, &value(flag)?)?,
            "--queue" => config.queue = parse_count(flag, &value(flag)?)?,
            "--max-conns" => config.max_conns = parse_count(flag, &value(flag)?)?,
            "--header-timeout" => config.header_timeout = parse_secs(flag, &value(flag)?)?,
            "--idle-timeout" => config.idle_timeout = parse_secs(flag, &value(flag)?)?,
            "--job-timeout" => config.job_timeout = parse_secs(flag, &value(flag)?)?,
            "--shutdown-timeout" => config.shutdown_timeout = parse_secs(flag, &value(flag)?)?,
            "--max-body" => config.max_body = parse_count(flag, &value(flag)?)?,
            "--reuse-port" if inline_value.is_none() => config.reuse_port = true,
            "--quiet" if inline_value.is_none() => config.access_log = false,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(config)
}

fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    text.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| format!("--addr: {text:?} is not a HOST:PORT address"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn flags_take_both_spellings() {
        let config =
            parse_serve(&args("--workers 3 --queue=7 --header-timeout 0.5 --quiet")).unwrap();
        assert_eq!(config.workers, 3);
        assert_eq!(config.queue, 7);
        assert_eq!(config.header_timeout, Duration::from_millis(500));
        assert!(!config.access_log);
    }

    #[test]
    fn bad_flags_are_refused() {
        for bad in [
            "--workers 0",
            "--workers x",
            "--bogus",
            "--addr",
            "--quiet=1",
            "--idle-timeout -1",
        ] {
            assert!(parse_serve(&args(bad)).is_err(), "{bad}");
        }
    }
}
