//! Server-sent events: every client of `/events` gets a tick a second from
//! a thread of its own, and a last event when the server drains.
//!
//!     cargo run --release --example sse -- --addr 127.0.0.1:8080
//!     curl -N localhost:8080/events     # data: tick 1, tick 2, ... (Ctrl-C the server: "bye")
//!     open http://localhost:8080/       # the same, in a browser's EventSource
//!
//! The idle timeout does not cut a stream that waits for its next event;
//! SIGINT or SIGTERM begins the drain, which each ticker hears at once.
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use eddy::sse::{event_stream, Event, EventSender};
use eddy::{inline, Config, Response, Router, Server, StatusCode};

const PAGE: &str = "<!doctype html><title>eddy ticks</title><pre id=log></pre><script>\
const log = document.getElementById('log');\
const events = new EventSource('/events');\
events.onmessage = e => log.textContent += e.data + '\\n';\
events.addEventListener('bye', e => { log.textContent += e.data + '\\n'; events.close(); });\
</script>";

/// One client's ticker: a tick a second until the client leaves or the
/// server drains.
fn tick(mut events: EventSender) {
    for n in 1.. {
        match events.wait_drain(Duration::from_secs(1)) {
            Ok(false) => {
                let tick = Event::new(format!("tick {n}")).id(n.to_string());
                if events.send(&tick).is_err() {
                    return; // the client left
                }
            }
            Ok(true) => {
                let bye = Event::new("the server is shutting down").named("bye");
                if events.send(&bye).is_ok() {
                    let _ = events.close();
                }
                return;
            }
            Err(_) => return,
        }
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let addr = match args.iter().position(|a| a == "--addr") {
        Some(i) => args.get(i + 1).expect("--addr needs HOST:PORT").clone(),
        None => "127.0.0.1:8080".to_string(),
    };
    let router = Router::new()
        .get(
            "/",
            inline(|_, _| {
                Response::text(StatusCode::OK, PAGE).with_content_type("text/html; charset=utf-8")
            }),
        )
        .get(
            "/events",
            inline(|_, _| {
                let (answer, events) = event_stream();
                std::thread::spawn(move || tick(events));
                answer
            }),
        );
    let config = Config {
        addr: addr.parse().expect("--addr must be IP:PORT"),
        access_log: Some(Arc::new(|record| {
            let _ = writeln!(std::io::stdout(), "{record}");
        })),
        handle_signals: true,
        ..Config::default()
    };
    let server = Server::bind(config, router)?;
    println!("listening on {}", server.listening());
    server.run().map(|_| ())
}
