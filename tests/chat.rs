//! `examples/chat.rs`, run as a user would run it, with several members
//! over real sockets (the WebSocket client written byte by byte in
//! tests/common/websocket.rs): everyone hears everyone in order, newcomers get the
//! history — and a member that stops reading slows no one. The others
//! keep getting every message, each before the next is sent, while its
//! buffers fill; then its messages are dropped and counted (if it reads
//! again it is told how many it missed, and every message is accounted
//! for), or, if it never reads again, its write-stall bound disconnects it.
#![cfg(feature = "websocket")]

mod common;

use std::io::{self, Read};
use std::net::SocketAddr;
use std::time::Instant;

use common::websocket::{masked, upgrade_to, Ws, BINARY, CLOSE, PING, PONG, TEXT};
use common::{Example, Wire, IO_TIMEOUT};
use eddy::websocket::OUTPUT_BOUND;

/// A broadcast message's body in the slow-reader tests: big, so a member
/// that stops reading fills its kernel buffers, its output and its pipe in
/// about a hundred messages on loopback (the example takes up to 64 KiB).
const BIG: usize = 60_000;

/// The most messages sent before a member that stops reading must be found
/// behind: far more than loopback's buffers (a few MiB) and the server's
/// bounds (`OUTPUT_BOUND` and the pipe's 256 KiB) hold.
const FILL_MAX: usize = 2_000;

/// The pipe a `Sender` writes into holds this much before `try_send`
/// refuses (`src/stream.rs`'s `HIGH_WATER`).
const PIPE_BOUND: usize = 256 * 1024;

/// One member of the room: its socket and its guest number.
struct Member {
    ws: Ws,
    guest: u64,
}

impl Member {
    /// Opens `/chatsocket` and reads the welcome, which names the guest.
    fn join(addr: SocketAddr) -> Member {
        // The example serves plain HTTP only.
        let ws = Ws::connect_with(Wire::Plain, addr, &upgrade_to("/chatsocket", ""), b"");
        assert_eq!(ws.status(), 101, "{:?}", ws.head);
        let mut member = Member { ws, guest: 0 };
        let welcome = member.next();
        member.guest = welcome
            .strip_prefix("* you are guest ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a welcome naming the guest, not {welcome:?}"));
        member
    }

    /// Sends a text message.
    fn say(&mut self, text: &str) {
        self.ws.send(&masked(TEXT, text.as_bytes()));
    }

    /// The next text message (a ping on the way is answered).
    fn try_next(&mut self) -> io::Result<String> {
        loop {
            let frame = self.ws.try_frame()?;
            match frame.opcode {
                TEXT => return Ok(String::from_utf8(frame.payload).unwrap()),
                PING => self.ws.client.try_send(&masked(PONG, &frame.payload))?,
                opcode => panic!("a text message, not {opcode:#x} {:?}", frame.payload),
            }
        }
    }

    /// The next text message, within `IO_TIMEOUT`.
    fn next(&mut self) -> String {
        self.try_next()
            .unwrap_or_else(|e| panic!("guest {} heard nothing in {IO_TIMEOUT:?}: {e}", self.guest))
    }

    /// What the server sends after `self` said something.
    fn line(&self, body: &str) -> String {
        format!("guest {}: {body}", self.guest)
    }
}

/// Message `n` of a slow-reader test: `#n `, then padding to `BIG` bytes.
fn big(n: usize) -> String {
    let mut text = format!("#{n} ");
    text.extend(std::iter::repeat_n('x', BIG - text.len()));
    text
}

/// The number of a message from guest `speaker` (`guest S: #n ...`).
fn number(speaker: u64, line: &str) -> usize {
    line.strip_prefix(&format!("guest {speaker}: #"))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a numbered message, not {:?}", &line[..line.len().min(80)]))
}

/// `* you missed M messages: ...` → `Some(M)`.
fn missed(line: &str) -> Option<usize> {
    line.strip_prefix("* you missed ")?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// One round: `speaker` says `text` (message `n`), and it and every one
/// of `readers` get it, in order, within `IO_TIMEOUT`, before anything
/// else is said.
fn round(speaker: &mut Member, readers: &mut [&mut Member], n: usize, text: &str) {
    speaker.say(text);
    let guest = speaker.guest;
    for reader in std::iter::once(speaker).chain(readers.iter_mut().map(|r| &mut **r)) {
        let line = reader.try_next().unwrap_or_else(|e| {
            panic!(
                "guest {} did not hear message #{n} within {IO_TIMEOUT:?} \
                 (is the room waiting for a member that does not read?): {e}",
                reader.guest
            )
        });
        assert_eq!(
            number(guest, &line),
            n,
            "guest {}: out of order",
            reader.guest
        );
    }
}

/// The slow-reader tests' first act: `speaker` says numbered big messages,
/// each heard by it and by `readers` before the next is said, while guest
/// `slow` reads nothing — until the example says `slow` is behind. Returns
/// how many were said.
fn fill_until_behind(
    app: &Example,
    speaker: &mut Member,
    readers: &mut [&mut Member],
    slow: u64,
) -> usize {
    let behind = format!("guest {slow} is not reading: its messages are dropped");
    let left = format!("guest {slow} left (");
    let started = Instant::now();
    for n in 0..FILL_MAX {
        round(speaker, readers, n, &big(n));
        let gone = app.stdout.find_last(|l| l.starts_with(&left).then_some(()));
        assert!(gone.is_none(), "guest {slow} left before it was behind");
        if app
            .stdout
            .find_last(|l| (l == behind).then_some(()))
            .is_some()
        {
            common::say(&format!(
                "chat: guest {slow} behind after {} messages of {BIG} bytes, {:?}",
                n + 1,
                started.elapsed()
            ));
            return n + 1;
        }
    }
    panic!(
        "{FILL_MAX} messages of {BIG} bytes, and guest {slow} never behind: {:?}",
        app.stdout.snapshot()
    );
}

#[test]
fn the_chat_page_and_a_room_where_everyone_hears_everyone_in_order() {
    let app = Example::start("chat", &["--addr", "127.0.0.1:0"]);
    let page = common::get(app.addr, "/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.text().contains("/chatsocket"), "{}", page.text());

    let mut a = Member::join(app.addr);
    let mut b = Member::join(app.addr);
    assert_ne!(a.guest, b.guest);
    a.say("hello");
    let hello = a.line("hello");
    assert_eq!(a.next(), hello);
    assert_eq!(b.next(), hello);
    b.say("hi");
    let hi = b.line("hi");
    assert_eq!(a.next(), hi);
    assert_eq!(b.next(), hi);
    // A newcomer gets the history first, then the room as it goes on.
    let mut c = Member::join(app.addr);
    assert_eq!(c.next(), hello);
    assert_eq!(c.next(), hi);
    c.say("late");
    let late = c.line("late");
    for m in [&mut a, &mut b, &mut c] {
        assert_eq!(m.next(), late);
    }
    // A binary message is refused with 1003, and its sender leaves.
    c.ws.send(&masked(BINARY, b"\x00\x01"));
    let frame = c.ws.frame();
    assert_eq!((frame.opcode, frame.code()), (CLOSE, Some(1003)));
    c.ws.send(&masked(CLOSE, &1003u16.to_be_bytes()));
    let left = format!("guest {} left (1003)", c.guest);
    assert!(
        app.stdout.wait_for(IO_TIMEOUT, |l| l == left).is_some(),
        "{:?}",
        app.stdout.snapshot()
    );
    a.say("after");
    assert_eq!(a.next(), a.line("after"));
    assert_eq!(b.next(), a.line("after"));
    for guest in [a.guest, b.guest, c.guest] {
        let joined = format!("guest {guest} joined");
        assert!(app.stdout.snapshot().contains(&joined), "{joined}");
    }
    assert!(
        app.stderr.snapshot().is_empty(),
        "{:?}",
        app.stderr.snapshot()
    );
}

/// A member stops reading. The others get every message, each before the
/// next is said, while its kernel buffers, its output (`OUTPUT_BOUND`) and
/// its pipe fill — the broadcast never waits for it — and then its
/// messages are dropped. When it reads again it finds every message up to
/// the drop, in order, then how many it missed, then the room again: each
/// message said is either received or counted.
#[test]
fn a_member_that_stops_reading_slows_no_one_and_is_told_what_it_missed() {
    // The write-stall bound out of the way: this test is about the drop.
    let app = Example::start("chat", &["--addr", "127.0.0.1:0", "--idle-timeout", "600"]);
    let mut a = Member::join(app.addr);
    let mut b = Member::join(app.addr);
    let mut slow = Member::join(app.addr);
    let mut said = fill_until_behind(&app, &mut a, &mut [&mut b], slow.guest);
    // More while it is behind: dropped for it, heard by the others.
    const MORE: usize = 3;
    for _ in 0..MORE {
        round(&mut a, &mut [&mut b], said, &big(said));
        said += 1;
    }
    // It reads again, a message per round of the room's, which goes on in
    // small messages. Each round's message reaches its pipe before it reads
    // (the speaker heard it, so the broadcast is done), either queued or
    // counted as missed: what it reads is never waited for in vain.
    // Nothing but its reading brings the server back to its socket: the
    // frames left in its pipe when its output drained go out because the
    // protocol says it was held back (`Upgraded::held_back`). Before that
    // existed they waited for the server's next ping, up to 30 s.
    let mut expected = 0;
    let mut received_before_drop = None;
    let mut notices = Vec::new();
    loop {
        assert!(said < 4 * FILL_MAX, "guest {} never caught up", slow.guest);
        round(&mut a, &mut [&mut b], said, &format!("#{said} small"));
        said += 1;
        let line = slow.next();
        if let Some(count) = missed(&line) {
            received_before_drop.get_or_insert(expected);
            notices.push(count);
            expected += count;
        } else {
            assert_eq!(number(a.guest, &line), expected, "notices {notices:?}");
            expected += 1;
            if !notices.is_empty() {
                break;
            }
        }
    }
    let received = received_before_drop.expect("a notice");
    common::say(&format!(
        "chat: the slow member got {received} messages, then missed {notices:?}"
    ));
    // Dropped only once its bounds were full: its output and its pipe held
    // their bound's worth (its kernel buffers, more).
    assert!(
        received * BIG >= OUTPUT_BOUND + PIPE_BOUND,
        "dropped after {received} messages of {BIG} bytes"
    );
    // The message that found it behind, and the ones said after it.
    assert!(notices[0] > MORE, "{notices:?}");
    let caught_up = format!(
        "guest {} caught up, having missed {}",
        slow.guest, notices[0]
    );
    assert!(
        app.stdout
            .wait_for(IO_TIMEOUT, |l| l == caught_up)
            .is_some(),
        "{:?}",
        app.stdout.snapshot()
    );
    assert!(
        app.stderr.snapshot().is_empty(),
        "{:?}",
        app.stderr.snapshot()
    );
}

/// A member stops reading and never reads again: the others are not
/// slowed, and once no byte of its output has been taken for
/// `--idle-timeout`, the server's write-stall bound disconnects it and it
/// leaves the room. The room goes on; its socket ends (EOF or a reset).
#[test]
fn a_member_that_never_reads_again_is_disconnected_by_its_write_bound() {
    // Long enough for its output and pipe to fill after its kernel buffers
    // did (a dozen rounds) on a busy machine; short for a test.
    let app = Example::start("chat", &["--addr", "127.0.0.1:0", "--idle-timeout", "5"]);
    let mut a = Member::join(app.addr);
    let mut b = Member::join(app.addr);
    let mut slow = Member::join(app.addr);
    let said = fill_until_behind(&app, &mut a, &mut [&mut b], slow.guest);
    let left = format!("guest {} left (no close frame)", slow.guest);
    assert!(
        app.stdout.wait_for(IO_TIMEOUT, |l| l == left).is_some(),
        "{:?}",
        app.stdout.snapshot()
    );
    round(&mut a, &mut [&mut b], said, &format!("#{said} still here"));
    let mut rest = Vec::new();
    match slow.ws.client.reader.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) => assert!(common::is_reset(&e), "its socket did not end: {e}"),
    }
    assert!(
        app.stderr.snapshot().is_empty(),
        "{:?}",
        app.stderr.snapshot()
    );
}
