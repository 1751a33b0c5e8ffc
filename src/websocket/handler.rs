//! What an application writes to speak WebSocket: Tornado's
//! `WebSocketHandler`, in Rust.
//!
//! A WebSocket route (`eddy::websocket_route`) makes a [`Handler`] for
//! each socket it accepts. The protocol (`connection/websocket.rs`) calls
//! it **on the loop thread** — `open`, then `message` for each message,
//! then `closed` — so, like an inline route, it must not block: heavy work
//! goes to a thread (or the pool) with a [`Sender`], and its answer comes
//! back through the loop's Waker.
//!
//! Two ways to send, one for each side of the loop:
//!
//! - [`Socket`], inside a callback: frames go straight into the
//!   connection's output. Never blocks: past [`OUTPUT_BOUND`] unsent bytes
//!   a send is refused ([`SendError::Full`]) — the client is not reading,
//!   and the handler decides (drop the message, close the socket).
//! - [`Sender`], `Clone + Send`, for any thread — the `add_callback` of
//!   WebSocket. Its frames cross the same bounded pipe a streamed body
//!   does (`src/stream.rs`): [`Sender::send`] **waits** while 256 KiB are
//!   unsent (a slow reader slows its producer, never grows the server's
//!   memory), [`Sender::try_send`] refuses instead. On the loop thread —
//!   broadcasting to other sockets from a callback — only `try_send`: a
//!   loop that waited for a pipe only the loop can empty would wait for
//!   ever. A `Sender` holds no lock of its own while it waits, so a
//!   producer stuck on a slow reader never stalls the loop's `try_send`.
//!   [`Sender::close`] ends the socket from any thread, after what it
//!   sent: its Close crosses the same pipe, and the protocol starts the
//!   close handshake when it takes it out.
//!
//! And one way to compute: [`Socket::offload`], at most
//! [`OFFLOADS_IN_FLIGHT`] per socket, whose replies never make a worker
//! wait on a slow reader.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::frame::{encode, encode_close, Opcode};
use crate::cancel::CancelToken;
use crate::stream::{BodySender, Gone, Pushed, WhenFull};

/// Unsent bytes a socket's output may hold before a [`Socket`] send is
/// refused: a few messages' worth, so a client that stops reading costs
/// the server this much plus the sender pipe's bound, not more.
pub const OUTPUT_BOUND: usize = 256 * 1024;

/// Offloaded messages of one socket that may be queued or running at
/// once; one more is refused with [`SendError::Busy`]. Their replies skip
/// the sender pipe's wait (a worker must never be held by a client that
/// is not reading, or a few such clients would stop every `/slow_threaded`
/// of the server), so this count — with no offload begun while the pipe
/// is full — is also what bounds their overshoot of the pipe's 256 KiB: a
/// reply each.
pub const OFFLOADS_IN_FLIGHT: usize = 4;

/// Messages a socket accepts, by default, whole: 1 MiB. Longer is closed
/// with 1009 as soon as a frame's header says so, before it is buffered
/// (`WebSocketRoute::max_message` changes it).
pub const MAX_MESSAGE: usize = 1 << 20;

/// A quiet socket is pinged after this long, by default.
pub const PING_INTERVAL: Duration = Duration::from_secs(30);

/// A ping unanswered — nothing at all heard — for this long ends the
/// socket, by default.
pub const PING_TIMEOUT: Duration = Duration::from_secs(30);

/// A whole message, as received or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message: valid UTF-8 (checked as it arrived).
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

impl Message {
    /// The frame's opcode and payload.
    fn parts(&self) -> (Opcode, &[u8]) {
        match self {
            Message::Text(text) => (Opcode::Text, text.as_bytes()),
            Message::Binary(bytes) => (Opcode::Binary, bytes),
        }
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::Text(text.to_string())
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::Text(text)
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Message {
        Message::Binary(bytes)
    }
}

/// Why a send did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The client is not taking what was sent already: the bound is
    /// reached. Nothing was queued.
    Full,
    /// The socket is closed (or closing): nobody will read it.
    Closed,
    /// The work was not queued: the worker pool's queue is full, or the
    /// socket has [`OFFLOADS_IN_FLIGHT`] offloads queued or running.
    Busy,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::Full => "the client is not reading: its bound is full",
            SendError::Closed => "the socket is closed",
            SendError::Busy => "the worker pool's queue, or the socket's offloads, are full",
        })
    }
}

impl std::error::Error for SendError {}

/// A WebSocket route's handler, one per socket; called on the loop thread.
pub trait Handler: Send + 'static {
    /// The `101` is out: the socket is open.
    fn open(&mut self, socket: &mut Socket<'_>) {
        let _ = socket;
    }

    /// A whole message arrived (text already checked as UTF-8).
    fn message(&mut self, message: Message, socket: &mut Socket<'_>);

    /// The socket closed: `Some(code)` with the close code the client sent
    /// (or the server did, for a protocol error), `None` for a connection
    /// that ended with no close frame (RFC 6455's 1006).
    fn closed(&mut self, code: Option<u16>) {
        let _ = code;
    }
}

/// Work for the worker pool: the server runs it there.
pub(crate) type Work = Box<dyn FnOnce() + Send>;

/// The socket, during a [`Handler`] callback.
pub struct Socket<'a> {
    output: &'a mut Vec<u8>,
    /// Bytes of `output` not yet written to the socket.
    unwritten: usize,
    sender: &'a Sender,
    /// Set by `close`: the protocol sends it after the callback.
    close: &'a mut Option<(u16, String)>,
    /// Queues work on the pool; false when its queue is full.
    off_loop: &'a mut dyn FnMut(Work) -> bool,
    /// Messages sent through it (for `/metrics`).
    sent: u64,
}

impl<'a> Socket<'a> {
    /// The protocol's view for one callback.
    pub(crate) fn new(
        output: &'a mut Vec<u8>,
        unwritten: usize,
        sender: &'a Sender,
        close: &'a mut Option<(u16, String)>,
        off_loop: &'a mut dyn FnMut(Work) -> bool,
    ) -> Socket<'a> {
        Socket {
            output,
            unwritten,
            sender,
            close,
            off_loop,
            sent: 0,
        }
    }

    /// Messages sent through it, once the callback is over.
    pub(crate) fn sent(&self) -> u64 {
        self.sent
    }

    /// Sends `message` now (into the connection's output); refused with
    /// `Full` while [`OUTPUT_BOUND`] bytes wait unsent, `Closed` once the
    /// socket is closing.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), SendError> {
        if self.is_closing() {
            return Err(SendError::Closed);
        }
        if self.unwritten >= OUTPUT_BOUND {
            return Err(SendError::Full);
        }
        let message = message.into();
        let (opcode, payload) = message.parts();
        let before = self.output.len();
        encode(self.output, opcode, payload);
        self.unwritten += self.output.len() - before;
        self.sent += 1;
        Ok(())
    }

    /// Starts the close handshake with `code` (1000 for a normal close;
    /// 3000–4999 for the application's own) and `reason` (at most 123
    /// bytes are sent). Nothing is sent after it. A code no endpoint may
    /// send (1005, 1006, 1015, unassigned ones) goes out as 1011, "an
    /// unexpected condition": the handler's mistake is the server's.
    pub fn close(&mut self, code: u16, reason: &str) {
        if self.close.is_none() {
            *self.close = Some((sendable(code), reason.to_string()));
        }
    }

    /// Closing: by [`close`](Self::close) in this callback, or by a
    /// [`Sender::close`].
    fn is_closing(&self) -> bool {
        self.close.is_some() || self.sender.is_closing()
    }

    /// A handle to send on this socket from any thread.
    pub fn sender(&self) -> Sender {
        self.sender.clone()
    }

    /// Runs `work` on the worker pool — the seed's way, for a message
    /// whose answer takes real CPU — and sends what it returns (if
    /// anything) on this socket when it is done, back into the loop by the
    /// Waker, while the loop goes on reading and answering this socket's
    /// later messages. `work` is handed the socket's [`CancelToken`],
    /// tripped when the socket closes: long work checks it and stops, as
    /// an offloaded HTTP job does when its client leaves (work still
    /// queued then is not run at all). Answers leave in the order their
    /// work finishes; a handler that needs another order keeps it itself.
    ///
    /// `Busy` if the pool's queue is full or [`OFFLOADS_IN_FLIGHT`] of this
    /// socket's are queued or running; `Full` while the socket's
    /// [`Sender`] pipe is at its bound even after the loop took what the
    /// output had room for (the client is behind). The reply never waits
    /// on a slow reader: the worker moves on at once, and the replies pass
    /// the pipe's bound by [`OFFLOADS_IN_FLIGHT`] at most.
    pub fn offload(
        &mut self,
        work: impl FnOnce(&CancelToken) -> Option<Message> + Send + 'static,
    ) -> Result<(), SendError> {
        if self.is_closing() {
            return Err(SendError::Closed);
        }
        let place = Offload::take(&self.sender.shared)?;
        let queued = (self.off_loop)(Box::new(move || {
            // The place is held until the reply is in the pipe; dropped on
            // a panic in `work`, or with a job that never ran, all the same.
            let place = place;
            if place.gone().is_cancelled() {
                return; // closed while it waited for a worker
            }
            if let Some(message) = work(place.gone()) {
                place.reply(message);
            }
        }));
        if queued {
            Ok(())
        } else {
            Err(SendError::Busy)
        }
    }
}

/// Sends on one socket from any thread; `Clone + Send`.
///
/// It holds no lock of its own: every send is decided under the pipe's
/// one lock, and a send that waits waits on the pipe's condition — so a
/// thread waiting on a slow reader holds nothing the loop thread needs
/// (`tests/websocket.rs`, `a_sender_waiting_on_a_slow_reader_never_blocks_the_loop`).
#[derive(Clone)]
pub struct Sender {
    shared: Arc<Shared>,
}

/// What every clone of a socket's [`Sender`] shares.
struct Shared {
    pipe: BodySender,
    /// [`Socket::offload`]s queued or running.
    offloads: AtomicUsize,
    /// Tripped when the socket closes (its pipe goes): the offloads' work
    /// can stop.
    gone: CancelToken,
    /// [`Sender::close`] was called: nothing more is sent.
    closing: AtomicBool,
}

/// One of a socket's [`OFFLOADS_IN_FLIGHT`]: given back when dropped.
struct Offload(Arc<Shared>);

impl Offload {
    /// A place among the socket's offloads: `Full` while its pipe is at
    /// its bound, `Busy` if none is free.
    fn take(shared: &Arc<Shared>) -> Result<Offload, SendError> {
        // While the pipe is at its bound the client is behind: no new work
        // whose reply would pass it. With the in-flight count, this is
        // what bounds the replies' overshoot — without it, a client that
        // sends many small messages and reads a byte now and then would
        // grow the pipe by a reply per message.
        match shared.pipe.has_room() {
            Ok(true) => {}
            Ok(false) => return Err(SendError::Full),
            Err(Gone) => return Err(SendError::Closed),
        }
        let taken = shared
            .offloads
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < OFFLOADS_IN_FLIGHT).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(Offload(Arc::clone(shared))),
            Err(_) => Err(SendError::Busy),
        }
    }

    /// The socket's token: tripped when it closes.
    fn gone(&self) -> &CancelToken {
        &self.0.gone
    }

    /// Puts the work's answer in the pipe, past its bound if need be: a
    /// worker never waits for a reader (the in-flight count bounds the
    /// overshoot). A socket closed meanwhile: nobody to tell.
    fn reply(&self, message: Message) {
        let _ = self.0.pipe.push(frame_of(message), WhenFull::Exceed);
    }
}

impl Drop for Offload {
    fn drop(&mut self) {
        self.0.offloads.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Sender {
    /// A sender over the producer's end of a socket's pipe.
    pub(crate) fn new(pipe: BodySender) -> Sender {
        let shared = Shared {
            pipe,
            offloads: AtomicUsize::new(0),
            gone: CancelToken::new(),
            closing: AtomicBool::new(false),
        };
        Sender {
            shared: Arc::new(shared),
        }
    }

    /// Sends `message`, **waiting** while 256 KiB sent this way are not yet
    /// written (a slow reader holds its producer back). Not on the loop
    /// thread: use [`try_send`](Self::try_send) there.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.push(message.into(), WhenFull::Wait)
    }

    /// Sends `message` unless the pipe is at its bound (`Full`: nothing
    /// queued); never waits. The way to send from the loop thread.
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.push(message.into(), WhenFull::Refuse)
    }

    /// Starts the close handshake from any thread, after what was sent
    /// before it: `code` and `reason` as for [`Socket::close`] (a code no
    /// endpoint may send goes out as 1011). Every send after it, from any
    /// thread or callback, is refused with `Closed`; so is a second close.
    /// The close never waits: it may pass the pipe's bound by its few
    /// bytes.
    pub fn close(&self, code: u16, reason: &str) -> Result<(), SendError> {
        if self.shared.closing.swap(true, Ordering::AcqRel) {
            return Err(SendError::Closed);
        }
        let mut frame = Vec::new();
        encode_close(&mut frame, sendable(code), reason);
        match self.shared.pipe.push(frame, WhenFull::Exceed) {
            Ok(_) => Ok(()),
            Err(Gone) => Err(SendError::Closed),
        }
    }

    /// True once [`close`](Self::close) was called on any clone.
    pub(crate) fn is_closing(&self) -> bool {
        self.shared.closing.load(Ordering::Acquire)
    }

    fn push(&self, message: Message, when_full: WhenFull) -> Result<(), SendError> {
        if self.is_closing() {
            return Err(SendError::Closed);
        }
        match self.shared.pipe.push(frame_of(message), when_full) {
            Ok(Pushed::Sent) => Ok(()),
            Ok(Pushed::Refused) => Err(SendError::Full),
            Err(Gone) => Err(SendError::Closed),
        }
    }

    /// The token the socket's offloads are handed; the protocol trips it
    /// when the socket's pipe goes.
    pub(crate) fn gone(&self) -> CancelToken {
        self.shared.gone.clone()
    }

    /// True once the socket is closed, or closing by [`close`](Self::close):
    /// a producer can stop.
    pub fn is_closed(&self) -> bool {
        self.is_closing() || self.shared.pipe.is_gone()
    }

    /// True once the server began a graceful drain (the socket gets a
    /// 1001 close): a producer should stop sending.
    pub fn is_draining(&self) -> bool {
        self.shared.pipe.is_draining()
    }
}

/// `code` if an endpoint may send it in a Close (RFC 6455 §7.4), else
/// 1011, "an unexpected condition": the handler's mistake is the server's.
fn sendable(code: u16) -> u16 {
    if matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999) {
        code
    } else {
        1011
    }
}

/// One unmasked, final frame for `message`.
fn frame_of(message: Message) -> Vec<u8> {
    let (opcode, payload) = message.parts();
    let mut frame = Vec::with_capacity(payload.len() + 10);
    encode(&mut frame, opcode, payload);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket's view over `output`, with `sender` and a pool that takes
    /// every job (counted in `queued`).
    fn offload_on(sender: &Sender, queued: &mut Vec<Work>) -> Result<(), SendError> {
        let (mut output, mut close) = (Vec::new(), None);
        let mut pool = |work: Work| {
            queued.push(work);
            true
        };
        let mut socket = Socket::new(&mut output, 0, sender, &mut close, &mut pool);
        socket.offload(|_| Some(Message::from("a reply")))
    }

    /// No offload begins while the pipe is at its bound (the client is not
    /// reading), and at most `OFFLOADS_IN_FLIGHT` are out at once; a
    /// place comes back when a job ends — run, or dropped unrun. With the
    /// replies sent past the bound (`WhenFull::Exceed`), these two are what
    /// bound their overshoot: else a client sending small messages and
    /// reading a byte now and then would grow the pipe by a reply each.
    #[test]
    fn offloads_are_bounded_in_flight_and_refused_while_the_pipe_is_full() {
        let (producer, _outbox) = crate::stream::pipe(None);
        let sender = Sender::new(producer);
        let mut queued = Vec::new();
        for _ in 0..OFFLOADS_IN_FLIGHT {
            assert_eq!(offload_on(&sender, &mut queued), Ok(()));
        }
        assert_eq!(offload_on(&sender, &mut queued), Err(SendError::Busy));
        (queued.pop().unwrap())(); // ran: its reply is in the pipe
        drop(queued.pop()); // dropped unrun (a pool shutting down)
        assert_eq!(offload_on(&sender, &mut queued), Ok(()));
        assert_eq!(offload_on(&sender, &mut queued), Ok(()));
        assert_eq!(offload_on(&sender, &mut queued), Err(SendError::Busy));
        queued.clear();
        // One offload out, then the pipe fills: no more begin, however many
        // places are free...
        assert_eq!(offload_on(&sender, &mut queued), Ok(()));
        while sender.try_send(vec![0u8; 64 * 1024]).is_ok() {}
        assert_eq!(offload_on(&sender, &mut queued), Err(SendError::Full));
        // ...and the one out puts its reply in past the bound: its worker
        // does not wait for a reader.
        let job = queued.pop().unwrap();
        let (done, ran) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            job();
            done.send(()).unwrap();
        });
        let patience = Duration::from_secs(10);
        assert_eq!(ran.recv_timeout(patience), Ok(()), "the worker waited");
        assert_eq!(offload_on(&sender, &mut queued), Err(SendError::Full));
    }
}
