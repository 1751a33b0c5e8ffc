//! A streamed body: the pipe between the thread that produces a body and
//! the connection that writes it.
//!
//! A response whose body is not in memory up front (a file, a long
//! computation's output, server-sent events) travels as a pipe with two
//! ends:
//!
//! - [`BodySender`], held by the producer — a job on a worker, or any
//!   thread an inline handler gave it to. `send` copies bytes in, and
//!   **blocks while the pipe holds [`HIGH_WATER`] bytes or more**, until the
//!   loop has taken it below [`LOW_WATER`]: a client that reads slowly
//!   slows its producer down instead of growing the server's memory.
//! - [`StreamBody`], inside the [`Response`](crate::Response)'s body, held
//!   by the loop. The connection takes chunks out when its output buffer
//!   has room, and writes them (chunked on HTTP/1.1, raw with a known
//!   length or on HTTP/1.0).
//!
//! The loop never waits on the pipe. When it finds the pipe empty it arms
//! a *waker* — a closure the server made, which queues a callback on the
//! loop with `LoopHandle::add_callback` — and the next `send` (or the end)
//! fires it once: the same road a finished job takes back into the loop.
//! Flow control runs both ways through one mutex: bytes in the pipe hold
//! the producer back, and the pipe's emptiness wakes the loop.
//!
//! How a stream ends is in the pipe too: `finish` ends it well; a sender
//! dropped without `finish` (an error, a panic) ends it **failed**, and the
//! connection then closes without the body's last chunk (or short of its
//! `Content-Length`), so the client sees an incomplete answer, never a
//! well-formed truncated one. The one exception is the protocol's: an
//! HTTP/1.0 body of unknown length ends at the close however it ended, and
//! such a client cannot tell. When the
//! loop's end is dropped (the client left, the drain ran out of time),
//! every `send` after that fails with [`Gone`] and a blocked one wakes.
//!
//! This module imports nothing of the crate: the HTTP layer carries a
//! `StreamBody` without knowing what is behind it.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A producer's `send` blocks while the pipe holds this many bytes or
/// more. With [`LOW_WATER`] and the connection's own output bound, this is
/// what a slow reader costs: a few hundred KiB, whatever the body's size.
pub(crate) const HIGH_WATER: usize = 256 * 1024;

/// A blocked producer resumes once the loop has taken the pipe below this.
/// The gap to [`HIGH_WATER`] keeps it from waking for every chunk.
pub(crate) const LOW_WATER: usize = 64 * 1024;

/// The send failed: nobody will read the body any more (the client left,
/// or the server gave up on the connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

impl fmt::Display for Gone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the client is gone")
    }
}

impl std::error::Error for Gone {}

impl From<Gone> for io::Error {
    fn from(_: Gone) -> io::Error {
        io::Error::new(io::ErrorKind::BrokenPipe, Gone)
    }
}

/// How the producer ended the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// `finish`: the body is complete.
    Finished,
    /// Dropped without `finish`: the body is incomplete, and the client
    /// must be able to tell. The text says why, if anyone said.
    Failed(String),
}

/// Counters every stream of a server adds to (the `/metrics` series).
/// Shared with producer threads, hence atomics (and one lock, for the
/// waits).
#[derive(Debug)]
pub(crate) struct StreamStats {
    /// Streams whose loop end is alive.
    pub(crate) open: AtomicUsize,
    /// Body bytes the loop took out of pipes.
    pub(crate) bytes: AtomicU64,
    /// Time producers spent blocked on [`HIGH_WATER`]: the waits that
    /// ended, and those going on. Under one lock, taken only when a
    /// producer begins or ends a wait and at a scrape, so that a reading
    /// is whole and never goes back. (Counted only as each wait ended, a
    /// producer stuck behind a client that never reads again showed no
    /// wait at all until it gave up.)
    waits: Mutex<Waits>,
    /// What the waits' times are counted from.
    epoch: Instant,
}

/// Producers' waits, in microseconds since [`StreamStats::epoch`].
#[derive(Debug, Default)]
struct Waits {
    /// The waits that ended, summed.
    ended: u64,
    /// Waits going on, and the sum of their starts.
    going: u64,
    starts: u64,
}

impl Default for StreamStats {
    fn default() -> StreamStats {
        StreamStats {
            open: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            waits: Mutex::default(),
            epoch: Instant::now(),
        }
    }
}

impl StreamStats {
    /// Microseconds since the epoch.
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    fn waits(&self) -> MutexGuard<'_, Waits> {
        self.waits.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A producer begins to wait; its start, for [`end_wait`](Self::end_wait).
    fn begin_wait(&self) -> u64 {
        let mut waits = self.waits();
        let start = self.now();
        waits.going += 1;
        waits.starts += start;
        start
    }

    /// The wait begun at `start` is over.
    fn end_wait(&self, start: u64) {
        let mut waits = self.waits();
        let end = self.now();
        waits.going -= 1;
        waits.starts -= start;
        waits.ended += end.saturating_sub(start);
    }

    /// Microseconds producers have spent blocked, those still blocked
    /// included (their time so far).
    pub(crate) fn waited_micros(&self) -> u64 {
        let waits = self.waits();
        let now = self.now();
        waits.ended + (waits.going * now).saturating_sub(waits.starts)
    }
}

/// What the loop found in the pipe.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A chunk to write.
    Chunk(Vec<u8>),
    /// Nothing yet; the waker is armed and will fire when there is.
    Wait,
    /// The producer ended the body, and every chunk has been taken.
    End(End),
}

/// What [`BodySender::push`] does when the pipe is at [`HIGH_WATER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenFull {
    /// Block until the loop takes it below [`LOW_WATER`]: a producer on its
    /// own thread.
    Wait,
    /// Put nothing in, and say so: the loop thread, which must not wait.
    #[cfg_attr(not(feature = "websocket"), allow(dead_code))] // a WebSocket `Sender`'s
    Refuse,
    /// Put it in anyway: a sender whose overshoot is bounded elsewhere (a
    /// WebSocket's offloaded replies, counted per socket).
    #[cfg_attr(not(feature = "websocket"), allow(dead_code))]
    Exceed,
}

/// What [`BodySender::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    Sent,
    /// The pipe was full and the caller asked to be refused.
    #[cfg_attr(not(feature = "websocket"), allow(dead_code))]
    Refused,
}

/// Makes a pipe for a body of `length` bytes (`None`: not known up front).
pub(crate) fn pipe(length: Option<u64>) -> (BodySender, StreamBody) {
    let pipe = Arc::new(Pipe {
        state: Mutex::new(State {
            chunks: VecDeque::new(),
            buffered: 0,
            end: None,
            gone: false,
            draining: false,
            long_lived: false,
            waker: None,
            armed: true,
            stats: None,
            on_gone: None,
            parked: None,
            declined: false,
        }),
        space: Condvar::new(),
    });
    let body = StreamBody {
        pipe: Arc::clone(&pipe),
        length,
        _reader: Arc::new(Reader(Arc::clone(&pipe))),
    };
    (BodySender { pipe, done: false }, body)
}

/// The shared middle of a pipe.
struct Pipe {
    state: Mutex<State>,
    /// Signalled when the pipe drops below [`LOW_WATER`], is gone, or the
    /// server begins draining.
    space: Condvar,
}

struct State {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes in `chunks`.
    buffered: usize,
    /// Set once, by the producer.
    end: Option<End>,
    /// The loop's end was dropped: nobody reads any more.
    gone: bool,
    /// The server is draining: a long-lived stream should wind up.
    draining: bool,
    /// The body may be silent for as long as its producer lives (events):
    /// the connection's idle timeout does not cut it.
    long_lived: bool,
    /// Wakes the loop; called (outside the lock) when armed and something
    /// arrives.
    waker: Option<Arc<dyn Fn() + Send + Sync>>,
    /// The loop found the pipe empty and waits to be woken.
    armed: bool,
    stats: Option<Arc<StreamStats>>,
    /// Called once when the pipe goes while the producer is still at it: a
    /// job's cancel token, say.
    on_gone: Option<Box<dyn FnOnce() + Send>>,
    /// A producer that gave its thread back until there is room
    /// ([`BodySender::when_room`]): its sender, and how to resume it.
    parked: Option<(BodySender, Resume)>,
    /// The loop never wanted the body (a HEAD, a 304): its going is no
    /// sign that a client left.
    declined: bool,
}

/// How a parked producer is resumed: given its sender back.
pub(crate) type Resume = Box<dyn FnOnce(BodySender) + Send>;

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock can only come from a bug in this
        // file; the state is still consistent enough to end the stream.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The producer's end of a streamed body's pipe, for any thread.
///
/// `send` blocks on backpressure; `finish` ends the body well; dropping it
/// unfinished ends the body failed.
pub struct BodySender {
    pipe: Arc<Pipe>,
    /// `finish` or `fail` was called: the drop says nothing more.
    done: bool,
}

impl BodySender {
    /// Sends `bytes` (copied), blocking while the pipe holds 256 KiB or
    /// more (`HIGH_WATER`). Fails once nobody will read them.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Gone> {
        if bytes.is_empty() {
            return self.check();
        }
        self.send_vec(bytes.to_vec())
    }

    /// [`send`](Self::send), giving the buffer instead of copying it.
    pub fn send_vec(&mut self, bytes: Vec<u8>) -> Result<(), Gone> {
        self.push(bytes, WhenFull::Wait).map(|_| ())
    }

    /// Puts `bytes` in the pipe, doing `when_full` if it holds
    /// [`HIGH_WATER`] or more — decided under the one lock, so a loop that
    /// asked to be refused is never made to wait by a race. Takes `&self`:
    /// a shared sender (a WebSocket's) needs no lock of its own, and so
    /// holds none while it waits.
    pub(crate) fn push(&self, bytes: Vec<u8>, when_full: WhenFull) -> Result<Pushed, Gone> {
        let mut state = self.pipe.lock();
        if state.buffered >= HIGH_WATER && !state.gone {
            match when_full {
                WhenFull::Refuse => return Ok(Pushed::Refused),
                WhenFull::Exceed => {}
                WhenFull::Wait => {
                    // The counters of the pipe's server, if it has one yet.
                    let counted = state.stats.clone().map(|stats| {
                        let start = stats.begin_wait();
                        (stats, start)
                    });
                    while state.buffered >= LOW_WATER && !state.gone {
                        state = self
                            .pipe
                            .space
                            .wait(state)
                            .unwrap_or_else(|e| e.into_inner());
                    }
                    if let Some((stats, start)) = counted {
                        stats.end_wait(start);
                    }
                }
            }
        }
        if state.gone {
            return Err(Gone);
        }
        if bytes.is_empty() {
            return Ok(Pushed::Sent);
        }
        state.buffered += bytes.len();
        state.chunks.push_back(bytes);
        let wake = take_waker(&mut state);
        drop(state);
        if let Some(wake) = wake {
            wake();
        }
        Ok(Pushed::Sent)
    }

    /// Ends the body: it is complete. Fails if nobody reads it any more.
    pub fn finish(mut self) -> Result<(), Gone> {
        self.done = true;
        self.end(End::Finished)
    }

    /// Ends the body as failed, saying why: the client gets an incomplete
    /// answer (and the server's events a line). Dropping the sender does
    /// the same, without the reason.
    pub fn fail(mut self, why: impl Into<String>) {
        self.done = true;
        let _ = self.end(End::Failed(why.into()));
    }

    /// True once nobody will read the body: a producer that checks it can
    /// stop before its next `send`.
    pub fn is_gone(&self) -> bool {
        self.pipe.lock().gone
    }

    /// True once the server has begun a graceful drain: a long-lived
    /// stream (server-sent events) should send its last words and finish.
    pub fn is_draining(&self) -> bool {
        self.pipe.lock().draining
    }

    /// Marks the body long-lived: it may stay silent for as long as this
    /// sender lives — server-sent events that come when something happens —
    /// so the connection's idle timeout does not cut it while it waits. The
    /// write-stall bound still does (a client that stops reading), and so
    /// does the drain's `shutdown_timeout`. Call it before the first send.
    pub fn long_lived(&mut self) {
        self.pipe.lock().long_lived = true;
    }

    /// Waits up to `timeout`, and less if the server begins draining
    /// (`Ok(true)`) or the client goes (`Err(Gone)`); `Ok(false)` when the
    /// time is up. A producer that ticks sleeps here, so it says its last
    /// words the moment a drain begins, not a tick later.
    pub fn wait_drain(&self, timeout: Duration) -> Result<bool, Gone> {
        let state = self.pipe.lock();
        let (state, _) = self
            .pipe
            .space
            .wait_timeout_while(state, timeout, |s| !s.draining && !s.gone)
            .unwrap_or_else(|e| e.into_inner());
        if state.gone {
            Err(Gone)
        } else {
            Ok(state.draining)
        }
    }

    /// True if a `send` now would not block: the pipe is under its
    /// high-water mark. `Err(Gone)` once nobody reads.
    pub(crate) fn has_room(&self) -> Result<bool, Gone> {
        let state = self.pipe.lock();
        if state.gone {
            Err(Gone)
        } else {
            Ok(state.buffered < HIGH_WATER)
        }
    }

    /// Parks the producer instead of blocking its thread: `resume` gets
    /// this sender back once the loop has taken the pipe below
    /// [`LOW_WATER`] (or at once, if it is there already), or when the pipe
    /// goes — then its next send fails with [`Gone`]. `resume` runs on
    /// whichever thread made the room, often the loop's: it must only hand
    /// the work on (the pool's paced streams queue it for a worker).
    pub(crate) fn when_room(self, resume: Resume) {
        let pipe = Arc::clone(&self.pipe);
        let mut state = pipe.lock();
        if state.buffered < LOW_WATER || state.gone {
            drop(state);
            return resume(self);
        }
        state.parked = Some((self, resume));
    }

    fn check(&self) -> Result<(), Gone> {
        if self.is_gone() {
            Err(Gone)
        } else {
            Ok(())
        }
    }

    fn end(&mut self, end: End) -> Result<(), Gone> {
        let mut state = self.pipe.lock();
        if state.end.is_none() {
            state.end = Some(end);
        }
        let gone = state.gone;
        let wake = take_waker(&mut state);
        drop(state);
        if let Some(wake) = wake {
            wake();
        }
        if gone {
            Err(Gone)
        } else {
            Ok(())
        }
    }
}

impl io::Write for BodySender {
    /// For `io::copy` from a file: a [`Gone`] pipe is `BrokenPipe`.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for BodySender {
    fn drop(&mut self) {
        if !self.done {
            let why = if std::thread::panicking() {
                "its producer panicked"
            } else {
                "its producer stopped before finishing"
            };
            let _ = self.end(End::Failed(why.into()));
        }
    }
}

impl fmt::Debug for BodySender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodySender").finish_non_exhaustive()
    }
}

/// The waker, if armed: disarmed as it is taken, so it fires once per wait.
fn take_waker(state: &mut State) -> Option<Arc<dyn Fn() + Send + Sync>> {
    if state.armed {
        if let Some(waker) = &state.waker {
            state.armed = false;
            return Some(Arc::clone(waker));
        }
    }
    None
}

/// The loop's end of a pipe, carried in a response's body.
///
/// Clones share the pipe (a `Response` is `Clone`); the pipe counts as
/// gone when the last of them is dropped.
#[derive(Clone)]
pub(crate) struct StreamBody {
    pipe: Arc<Pipe>,
    length: Option<u64>,
    /// Dropped with the last clone: marks the pipe gone.
    _reader: Arc<Reader>,
}

/// Marks its pipe gone when dropped (the last `StreamBody` clone went).
struct Reader(Arc<Pipe>);

impl Drop for Reader {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.gone = true;
        if state.waker.take().is_some() {
            if let Some(stats) = &state.stats {
                stats.open.fetch_sub(1, Ordering::Relaxed);
            }
        }
        // A producer that has ended is not stopped: its job finished (and is
        // counted so), even if its client left before the last bytes did.
        let on_gone = (state.on_gone.take()).filter(|_| state.end.is_none() && !state.declined);
        let parked = state.parked.take();
        drop(state);
        self.0.space.notify_all();
        if let Some(on_gone) = on_gone {
            on_gone();
        }
        // A parked producer learns it is gone by resuming: its next send
        // fails, and it ends.
        if let Some((sender, resume)) = parked {
            resume(sender);
        }
    }
}

impl StreamBody {
    /// The body's length, if the producer said it up front.
    pub(crate) fn length(&self) -> Option<u64> {
        self.length
    }

    /// Called when data arrives while the loop waits for it; and the
    /// counters to add to. The server calls this once, when the response
    /// is placed on its connection.
    pub(crate) fn attach(&self, waker: Arc<dyn Fn() + Send + Sync>, stats: Arc<StreamStats>) {
        let mut state = self.pipe.lock();
        if state.waker.is_none() {
            stats.open.fetch_add(1, Ordering::Relaxed);
        }
        state.waker = Some(waker);
        state.stats = Some(stats);
        // Anything sent before now has no wake-up coming: fire one.
        let pending = !state.chunks.is_empty() || state.end.is_some();
        let wake = if pending {
            take_waker(&mut state)
        } else {
            None
        };
        drop(state);
        if let Some(wake) = wake {
            wake();
        }
    }

    /// What to do when the pipe goes (the client left) before its producer
    /// ended the body: trip a job's cancel token, say. Runs at once if it
    /// is gone already.
    pub(crate) fn on_gone(&self, hook: Box<dyn FnOnce() + Send>) {
        let mut state = self.pipe.lock();
        if state.gone {
            drop(state);
            hook();
        } else {
            state.on_gone = Some(hook);
        }
    }

    /// The next chunk, if there is one; else the end, if the producer
    /// ended; else [`Next::Wait`], with the waker armed.
    pub(crate) fn next(&self) -> Next {
        let mut state = self.pipe.lock();
        if let Some(chunk) = state.chunks.pop_front() {
            let was_over = state.buffered >= LOW_WATER;
            state.buffered -= chunk.len();
            if let Some(stats) = &state.stats {
                stats.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
            let wake_producer = was_over && state.buffered < LOW_WATER;
            let parked = wake_producer.then(|| state.parked.take()).flatten();
            drop(state);
            if wake_producer {
                self.pipe.space.notify_all();
            }
            if let Some((sender, resume)) = parked {
                resume(sender);
            }
            return Next::Chunk(chunk);
        }
        match &state.end {
            Some(end) => Next::End(end.clone()),
            None => {
                state.armed = true;
                Next::Wait
            }
        }
    }

    /// Tells the producer the server is draining (see
    /// [`BodySender::is_draining`]), waking it if it waits in
    /// [`BodySender::wait_drain`].
    pub(crate) fn drain(&self) {
        self.pipe.lock().draining = true;
        self.pipe.space.notify_all();
    }

    /// The body will not be sent (the request was HEAD, or the status has
    /// no content): when this end goes, the producer's sends fail as
    /// always, but its job is not told its client left — it did not.
    pub(crate) fn decline(&self) {
        self.pipe.lock().declined = true;
    }

    /// True if the producer said the body may stay silent for long
    /// ([`BodySender::long_lived`]).
    pub(crate) fn is_long_lived(&self) -> bool {
        self.pipe.lock().long_lived
    }
}

impl PartialEq for StreamBody {
    /// The same pipe.
    fn eq(&self, other: &StreamBody) -> bool {
        Arc::ptr_eq(&self.pipe, &other.pipe)
    }
}

impl Eq for StreamBody {}

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBody")
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// How long a test waits for a thread to block or wake.
    const PATIENCE: Duration = Duration::from_secs(10);

    #[test]
    fn chunks_arrive_in_order_then_the_end() {
        let (mut tx, rx) = pipe(None);
        tx.send(b"ab").unwrap();
        tx.send(b"").unwrap();
        tx.send(b"c").unwrap();
        tx.finish().unwrap();
        assert_eq!(rx.next(), Next::Chunk(b"ab".to_vec()));
        assert_eq!(rx.next(), Next::Chunk(b"c".to_vec()));
        assert_eq!(rx.next(), Next::End(End::Finished));
    }

    #[test]
    fn a_dropped_sender_fails_the_body() {
        let (mut tx, rx) = pipe(Some(10));
        tx.send(b"part").unwrap();
        drop(tx);
        assert_eq!(rx.next(), Next::Chunk(b"part".to_vec()));
        assert!(matches!(rx.next(), Next::End(End::Failed(_))));
    }

    #[test]
    fn the_waker_fires_once_per_wait() {
        let (mut tx, rx) = pipe(None);
        let (woke, wakes) = mpsc::channel();
        let woke = Mutex::new(woke);
        rx.attach(
            Arc::new(move || woke.lock().unwrap().send(()).unwrap()),
            Arc::default(),
        );
        assert_eq!(rx.next(), Next::Wait);
        tx.send(b"1").unwrap();
        tx.send(b"2").unwrap(); // no second wake: nobody re-armed
        assert_eq!(wakes.try_iter().count(), 1);
        assert_eq!(rx.next(), Next::Chunk(b"1".to_vec()));
        assert_eq!(rx.next(), Next::Chunk(b"2".to_vec()));
        assert_eq!(rx.next(), Next::Wait); // armed again
        tx.finish().unwrap();
        assert_eq!(wakes.try_iter().count(), 1);
    }

    #[test]
    fn a_full_pipe_holds_the_producer_until_the_loop_takes_it_below_low_water() {
        let (mut tx, rx) = pipe(None);
        let stats = Arc::new(StreamStats::default());
        rx.attach(Arc::new(|| {}), Arc::clone(&stats));
        let (sent, progress) = mpsc::channel();
        let producer = std::thread::spawn(move || {
            let chunk = vec![b'x'; 16 * 1024];
            for _ in 0..(HIGH_WATER / chunk.len() + 8) {
                tx.send(&chunk).unwrap();
                sent.send(()).unwrap();
            }
            tx.finish().unwrap();
        });
        // It fills the pipe to HIGH_WATER, then blocks.
        for _ in 0..HIGH_WATER / (16 * 1024) {
            progress.recv_timeout(PATIENCE).unwrap();
        }
        assert!(progress.recv_timeout(Duration::from_millis(200)).is_err());
        // Taking it down to just above LOW_WATER is not enough...
        let mut taken = 0;
        while HIGH_WATER - taken - 16 * 1024 >= LOW_WATER {
            assert!(matches!(rx.next(), Next::Chunk(_)));
            taken += 16 * 1024;
        }
        assert!(progress.recv_timeout(Duration::from_millis(200)).is_err());
        // ...one more chunk is.
        assert!(matches!(rx.next(), Next::Chunk(_)));
        progress.recv_timeout(PATIENCE).unwrap();
        while !matches!(rx.next(), Next::End(_)) {}
        producer.join().unwrap();
        assert!(stats.waited_micros() > 0);
    }

    /// A producer's wait counts while it lasts, not only once it ends: a
    /// producer stuck behind a client that never reads again shows on
    /// `/metrics`, and its time grows.
    #[test]
    fn a_wait_is_counted_while_it_lasts_and_never_goes_back() {
        let (mut tx, rx) = pipe(None);
        let stats = Arc::new(StreamStats::default());
        rx.attach(Arc::new(|| {}), Arc::clone(&stats));
        let producer = std::thread::spawn(move || {
            let chunk = vec![0u8; HIGH_WATER];
            tx.send(&chunk).unwrap();
            tx.send(&chunk) // blocks: nobody takes the first
        });
        let deadline = Instant::now() + PATIENCE;
        while stats.waited_micros() == 0 {
            assert!(Instant::now() < deadline, "the wait never showed");
            std::thread::yield_now();
        }
        let early = stats.waited_micros();
        std::thread::sleep(Duration::from_millis(20)); // the time measured
        let later = stats.waited_micros();
        assert!(later >= early + 10_000, "{early} µs, then {later} µs");
        drop(rx); // the wait ends: counted whole, no less than it showed
        assert_eq!(producer.join().unwrap(), Err(Gone));
        assert!(stats.waited_micros() >= later);
    }

    #[test]
    fn dropping_the_loop_end_fails_and_wakes_a_blocked_producer() {
        let (mut tx, rx) = pipe(None);
        let (tripped, gone) = mpsc::channel();
        rx.on_gone(Box::new(move || tripped.send(()).unwrap()));
        let producer = std::thread::spawn(move || {
            let chunk = vec![0u8; HIGH_WATER];
            tx.send(&chunk).unwrap();
            tx.send(&chunk) // blocks: the pipe is full
        });
        std::thread::sleep(Duration::from_millis(50)); // let it block (or not: both end the same)
        drop(rx);
        assert_eq!(producer.join().unwrap(), Err(Gone));
        gone.recv_timeout(PATIENCE).unwrap();
    }

    #[test]
    fn a_drain_wakes_a_producer_that_waits_for_it() {
        let (tx, rx) = pipe(None);
        let (waiting, started) = mpsc::channel();
        let (woke, result) = mpsc::channel();
        std::thread::spawn(move || {
            waiting.send(()).unwrap();
            // Far longer than the test waits: only the drain can end it.
            woke.send(tx.wait_drain(10 * PATIENCE)).unwrap();
        });
        started.recv_timeout(PATIENCE).unwrap();
        rx.drain();
        assert_eq!(result.recv_timeout(PATIENCE), Ok(Ok(true)));
    }

    #[test]
    fn a_parked_producer_resumes_below_low_water_or_when_the_pipe_goes() {
        let (mut tx, rx) = pipe(None);
        let chunk = vec![0u8; 64 * 1024];
        while tx.has_room() == Ok(true) {
            tx.send(&chunk).unwrap();
        }
        let (resumed, back) = mpsc::channel();
        let again = resumed.clone();
        tx.when_room(Box::new(move |tx| resumed.send(tx).unwrap()));
        assert!(back.try_recv().is_err(), "resumed while the pipe was full");
        // The loop takes chunks; the resume comes as it crosses LOW_WATER.
        let mut taken = 0;
        while back.try_recv().is_err() {
            assert!(matches!(rx.next(), Next::Chunk(_)));
            taken += 1;
            assert!(taken <= HIGH_WATER / chunk.len() + 1, "never resumed");
        }
        // Parked again, then the loop's end goes: resumed, to find it gone.
        let (mut tx, rx) = pipe(None);
        while tx.has_room() == Ok(true) {
            tx.send(&chunk).unwrap();
        }
        tx.when_room(Box::new(move |tx| again.send(tx).unwrap()));
        drop(rx);
        let mut tx = back.recv_timeout(PATIENCE).unwrap();
        assert_eq!(tx.send(b"late"), Err(Gone));
    }
}
