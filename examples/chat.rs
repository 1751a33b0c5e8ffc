//! A chat room over WebSocket — Tornado's `demos/websocket/chatdemo.py` on
//! eddy: a page at `/`, a socket at `/chatsocket`, every message sent to
//! every member (its author too), and the last few kept for whoever joins
//! next.
//!
//!     cargo run --example chat                  # listening on http://127.0.0.1:8080
//!     open http://127.0.0.1:8080/               # in two windows, and talk
//!     cargo run --example chat -- --addr 127.0.0.1:0 --idle-timeout 5
//!
//! Everything here runs on the loop thread: a [`Handler`]'s callbacks are
//! called there, so the room is a plain map behind a mutex that is never
//! waited for, and a message is broadcast with [`Sender::try_send`] to each
//! member — never [`Sender::send`], which waits while a member's pipe is
//! full: on the loop it would wait for ever, since only the loop empties
//! that pipe.
//!
//! **A member that stops reading** (a lid shut, a stalled network, a
//! client that is simply slow) must not slow the others. Tornado's demo
//! would buffer for it without limit; here its bounds say when it is
//! behind: once its connection's output holds [`OUTPUT_BOUND`] unsent bytes
//! and its pipe 256 KiB more (its kernel buffers full before them),
//! `try_send` answers `Full` at once, and the room moves on. The policy:
//!
//! - its messages are **dropped and counted** while it is behind, and the
//!   first thing it gets when it takes messages again is how many it
//!   missed (`* you missed 37 messages: you were not reading`), so its
//!   log has a gap it can see, never one it cannot;
//! - a member that takes **nothing at all** for `--idle-timeout` (30 s) is
//!   disconnected by the server's write-stall bound, `Config::idle_timeout`,
//!   and leaves the room.
//!
//! Why drop before closing: a burst can put a good reader briefly behind,
//! and a few missed lines (said so) cost it less than a reconnect; a reader
//! that is really gone is closed by its own bound anyway. Either way it
//! costs the server its bounds — its socket buffers, `OUTPUT_BOUND`, the
//! pipe — and the others nothing. The notice rides with the next message
//! it can take: nothing calls a handler when a member catches up.
//!
//! The room's events are printed on stdout (`guest 3 joined`, `guest 3 is
//! not reading: its messages are dropped`, ...). SIGINT or SIGTERM drains:
//! every socket gets a 1001 close.
use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use eddy::websocket::{Handler, Message, SendError, Sender, Socket, OUTPUT_BOUND};
use eddy::{inline, websocket, Config, Response, Router, Server, StatusCode};

/// Messages kept for whoever joins next (Tornado's `cache_size`)...
const HISTORY: usize = 100;

/// ...and at most this many bytes of them, so a newcomer's history always
/// fits in its own output: `Socket::send` refuses past `OUTPUT_BOUND`.
const HISTORY_BYTES: usize = OUTPUT_BOUND / 2;

/// The longest message a member may send; longer closes its socket with
/// 1009. A paste, not a file.
const MAX_MESSAGE: usize = 64 * 1024;

/// The page: a log and a box to type in. `textContent`, not `innerHTML`:
/// a message is shown, never run (Tornado escapes it in a template).
const PAGE: &str = r#"<!doctype html><meta charset=utf-8><title>eddy chat</title>
<pre id=log></pre>
<form id=say><input id=text autocomplete=off autofocus size=60> <button>send</button></form>
<script>
const log = document.getElementById('log'), text = document.getElementById('text');
const show = line => { log.textContent += line + '\n'; };
const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
const socket = new WebSocket(scheme + location.host + '/chatsocket');
socket.onmessage = e => show(e.data);
socket.onclose = e => show('* closed (' + e.code + (e.reason ? ': ' + e.reason : '') + ')');
document.getElementById('say').onsubmit = e => {
  e.preventDefault();
  if (text.value) socket.send(text.value);
  text.value = '';
};
</script>"#;

/// The room, shared by every member's handler. Only the loop thread locks
/// it (every callback runs there), so the mutex is for the type system —
/// a `Handler` is `Send` — not for contention.
#[derive(Default)]
struct Room {
    /// The last guest number given out.
    last_guest: u64,
    /// Who is in, by guest number: a broadcast goes in joining order.
    members: BTreeMap<u64, Member>,
    /// The latest messages, oldest first, for newcomers.
    history: VecDeque<String>,
    /// Bytes of `history`, held under `HISTORY_BYTES`.
    history_bytes: usize,
}

/// One member, as the room sees it.
struct Member {
    /// Its socket, for a broadcast from another member's callback.
    sender: Sender,
    /// Messages dropped since it last took one: it is told before the next.
    missed: u64,
}

impl Room {
    fn lock(room: &Mutex<Room>) -> MutexGuard<'_, Room> {
        room.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `line` to every member — its author too, by the same road —
    /// and keeps it for newcomers.
    fn broadcast(&mut self, line: &str) {
        let mut gone = Vec::new();
        for (&guest, member) in &mut self.members {
            if member.offer(guest, line).is_err() {
                gone.push(guest); // closing: its `closed` is on its way
            }
        }
        for guest in gone {
            self.members.remove(&guest);
        }
        self.history.push_back(line.to_string());
        self.history_bytes += line.len();
        while self.history.len() > HISTORY || self.history_bytes > HISTORY_BYTES {
            let old = self
                .history
                .pop_front()
                .expect("not empty while over a bound");
            self.history_bytes -= old.len();
        }
    }
}

impl Member {
    /// Queues `line` for this member without waiting: first the count of
    /// what it missed, if anything; then the line — or, when its pipe is
    /// full, one more missed. `Err` only once its socket is closing.
    fn offer(&mut self, guest: u64, line: &str) -> Result<(), SendError> {
        if self.missed > 0 {
            let plural = if self.missed == 1 { "" } else { "s" };
            let notice = format!(
                "* you missed {} message{plural}: you were not reading",
                self.missed
            );
            match self.sender.try_send(notice) {
                Ok(()) => {
                    say(&format!(
                        "guest {guest} caught up, having missed {}",
                        self.missed
                    ));
                    self.missed = 0;
                }
                Err(SendError::Full) => {
                    self.missed += 1;
                    return Ok(());
                }
                Err(closed) => return Err(closed),
            }
        }
        match self.sender.try_send(line) {
            Ok(()) => Ok(()),
            Err(SendError::Full) => {
                if self.missed == 0 {
                    say(&format!(
                        "guest {guest} is not reading: its messages are dropped"
                    ));
                }
                self.missed += 1;
                Ok(())
            }
            Err(closed) => Err(closed),
        }
    }
}

/// One member's socket: its guest number and the room.
struct Guest {
    guest: u64,
    room: Arc<Mutex<Room>>,
}

impl Handler for Guest {
    fn open(&mut self, socket: &mut Socket<'_>) {
        let mut room = Room::lock(&self.room);
        // Straight into its own output (under OUTPUT_BOUND: HISTORY_BYTES
        // sees to it), ahead of any broadcast, which comes by its pipe.
        let _ = socket.send(format!("* you are guest {}", self.guest));
        for line in &room.history {
            let _ = socket.send(line.as_str());
        }
        let member = Member {
            sender: socket.sender(),
            missed: 0,
        };
        room.members.insert(self.guest, member);
        say(&format!("guest {} joined", self.guest));
    }

    fn message(&mut self, message: Message, socket: &mut Socket<'_>) {
        match message {
            Message::Text(text) => {
                Room::lock(&self.room).broadcast(&format!("guest {}: {text}", self.guest))
            }
            // RFC 6455 §7.4.1: 1003, a kind of data this end does not take.
            Message::Binary(_) => socket.close(1003, "text messages only"),
        }
    }

    fn closed(&mut self, code: Option<u16>) {
        Room::lock(&self.room).members.remove(&self.guest);
        let code = code.map_or("no close frame".to_string(), |c| c.to_string());
        say(&format!("guest {} left ({code})", self.guest));
    }
}

/// A line on stdout; a closed stdout is not the room's problem.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:8080".to_string();
    let mut idle = Duration::from_secs(30);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().expect("--addr needs HOST:PORT"),
            "--idle-timeout" => {
                let secs = args.next().and_then(|s| s.parse().ok());
                idle = Duration::from_secs(secs.expect("--idle-timeout needs whole seconds"));
            }
            _ => {
                eprintln!("usage: chat [--addr HOST:PORT] [--idle-timeout SECS]");
                std::process::exit(2);
            }
        }
    }
    let room = Arc::new(Mutex::new(Room::default()));
    let chat = websocket(move |_request| {
        let mut shared = Room::lock(&room);
        shared.last_guest += 1;
        Ok(Guest {
            guest: shared.last_guest,
            room: Arc::clone(&room),
        })
    })
    .max_message(MAX_MESSAGE);
    let page = inline(|_, _| {
        Response::text(StatusCode::OK, PAGE).with_content_type("text/html; charset=utf-8")
    });
    let router = Router::new().get("/", page).get("/chatsocket", chat);
    let config = Config {
        addr: addr.parse().expect("--addr must be IP:PORT"),
        // For a member: no byte of its output taken for this long, and it
        // is disconnected (and a page's idle keep-alive connection closed).
        idle_timeout: idle,
        handle_signals: true,
        ..Config::default()
    };
    let server = Server::bind(config, router)?;
    println!("listening on {}", server.listening());
    server.run().map(|_| ())
}
