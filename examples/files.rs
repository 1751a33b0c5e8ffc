//! A directory over HTTP: every file under DIR, streamed from a worker, with
//! `Last-Modified`, `If-Modified-Since` → 304, HEAD and single-range
//! requests. Nothing outside DIR can be named (`..` and symlinks out are 404).
//!
//!     cargo run --release --example files -- --addr 127.0.0.1:8080 DIR
//!     curl -O localhost:8080/big.iso              # streamed, memory bounded
//!     curl -I localhost:8080/big.iso              # the head; the file is not read
//!     curl -r 0-99 localhost:8080/notes.txt       # 206, the first 100 bytes
//!     curl -z notes.txt localhost:8080/notes.txt  # 304 if your copy is as new
//!
//! `--trace` prints the loop's turns on stderr: watch a file's chunks cross
//! from the worker to the socket (docs/architecture.md walks through one).
//!
//! SIGINT or SIGTERM drains: downloads under way get `Config::shutdown_timeout`
//! (30 s) to finish.
use std::io::Write;
use std::sync::Arc;

use eddy::{files, Config, Router, Server};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut addr, mut dir, mut trace) = ("127.0.0.1:8080".to_string(), None, false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().expect("--addr needs HOST:PORT"),
            "--trace" => trace = true,
            _ => dir = Some(arg),
        }
    }
    let dir = dir.expect("usage: files [--addr HOST:PORT] [--trace] DIR");
    let router = Router::new().get("/*path", files::directory(&dir));
    let config = Config {
        addr: addr.parse().expect("--addr must be IP:PORT"),
        access_log: Some(Arc::new(|record| {
            let _ = writeln!(std::io::stdout(), "{record}");
        })),
        // A program of its own, not a library's host: it drains on Ctrl-C.
        handle_signals: true,
        trace,
        ..Config::default()
    };
    let server = Server::bind(config, router)?;
    println!("listening on {} serving {dir}", server.listening());
    server.run().map(|_| ())
}
