//! The reactor: one thread, one `mio::Poll`, and nothing about HTTP.
//!
//! This is Tornado's `IOLoop` (the `PollIOLoop` of Tornado 4.5) and the
//! shape of mio 0.5's `EventLoop<H: Handler>`: the reactor owns the poll,
//! the timers, the Waker and the signal pipe, and calls a [`Handler`] — in
//! eddy, the HTTP server — when something happens. It knows tokens, not
//! sockets: what a token means is the handler's business.
//!
//! One [`turn`](Reactor::turn), in a fixed order:
//!
//! 1. **Callbacks** queued before the turn began: messages other threads
//!    sent with [`LoopHandle::send`] (finished jobs) and closures sent with
//!    [`LoopHandle::add_callback`], in the order sent, then what the
//!    loop itself deferred with [`call_soon`](Reactor::call_soon). Only
//!    those already queued: a callback that queues another must not keep
//!    the loop from polling (Tornado runs "the callbacks of this iteration"
//!    for the same reason).
//! 2. **Timers** that are due, earliest first ([`Handler::timer`]). Each
//!    one's lateness goes into the loop-lag histogram (`Reactor::lag`);
//!    a heartbeat every 250 ms makes sure there is always a timer to be
//!    late for.
//! 3. **Poll**: sleep until a source is ready, the Waker rings, a signal
//!    arrives, or the next timer is due — never longer, never busy. If
//!    callbacks are already waiting, don't sleep at all.
//! 4. **Events**, by token: the Waker's (its callbacks run in step 1 of the
//!    next turn), the signal pipe's ([`Handler::signal`]), and every other
//!    one goes to [`Handler::ready`].
//!
//! [`run`](Reactor::run) is `turn` in a loop until the handler calls
//! [`stop`](Reactor::stop). Everything here is touched only on the loop
//! thread; other threads get in only through a [`LoopHandle`].
//!
//! The parts: `timers.rs` (every deadline in one ordered map),
//! `tokens.rs` (a slab of entries addressed by generation-checked tokens),
//! `handle.rs` (`add_callback`: the door from other threads),
//! `signals.rs` (SIGINT/SIGTERM as a readable pipe).

mod handle;
mod signals;
mod timers;
mod tokens;

pub use handle::{LoopClosed, LoopHandle};
pub use timers::TimerKey;
pub use tokens::{TokenId, TokenTable};

pub(crate) use timers::Timers;

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use mio::event::Event;
use mio::{Events, Poll, Registry, Token, Waker};

use crate::histogram::Histogram;
use handle::Delivery;
use signals::SignalPipe;

/// The reactor's own tokens, at the very top of the `usize` range, where no
/// [`TokenId`] ever reaches.
const WAKER: Token = Token(usize::MAX);
const SIGNALS: Token = Token(usize::MAX - 1);
const HANGUP: Token = Token(usize::MAX - 2);

/// A token a handler may use for a source of its own (a listener, say):
/// `reserved(0)` to `reserved(12)`, below the reactor's three and above
/// every [`TokenId`].
pub const fn reserved(n: usize) -> Token {
    assert!(n < 13, "only 13 reserved tokens");
    Token(usize::MAX - 3 - n)
}

/// How often the heartbeat timer fires. It exists so the loop always has a
/// timer to be late for: its lateness is the loop-lag figure, the number
/// that shows a blocked loop. Four wakes a second cost nothing measurable.
/// It is bookkeeping, not news: `--trace` never shows it.
const HEARTBEAT: Duration = Duration::from_millis(250);

/// Events read per `poll`. More wait for the next turn: epoll hands them
/// out in turns itself.
const EVENTS_PER_POLL: usize = 1024;

/// What the reactor calls when something happens. The server implements it;
/// so does `examples/echo.rs`, in thirty lines.
pub trait Handler: Sized {
    /// What this handler's timers (and `call_soon`s) carry: the reactor
    /// keeps it without knowing what it means, and hands it back.
    type Timer;

    /// What other threads send it through [`LoopHandle::send`] (`()` for a
    /// handler that takes none): data, not code, so a reader can list
    /// everything that can enter the loop from outside.
    type Message: Send + 'static;

    /// A source registered under `token` is ready. Readiness is a hint
    /// (read until `WouldBlock`), and it is edge-triggered: it is not
    /// repeated for bytes left unread.
    fn ready(&mut self, reactor: &mut Reactor<Self>, token: Token, event: &Event);

    /// A timer armed with [`Reactor::call_at`] fired, or a
    /// [`Reactor::call_soon`] came up.
    fn timer(&mut self, reactor: &mut Reactor<Self>, fired: Fired<Self::Timer>) {
        let _ = (reactor, fired);
    }

    /// `count` SIGINT/SIGTERM arrived, when [`Reactor::watch_signals`] is on.
    fn signal(&mut self, reactor: &mut Reactor<Self>, count: usize) {
        let _ = (reactor, count);
    }

    /// SIGHUP arrived (`count` of them at once), when
    /// [`Reactor::watch_signals`] is on: by custom, "re-read your files"
    /// (nginx reloads its configuration; eddy re-reads its certificate).
    fn hangup(&mut self, reactor: &mut Reactor<Self>, count: usize) {
        let _ = (reactor, count);
    }

    /// A message another thread sent with [`LoopHandle::send`] (step 1 of
    /// the turn after it was sent).
    fn notify(&mut self, reactor: &mut Reactor<Self>, message: Self::Message) {
        let _ = (reactor, message);
    }
}

/// A timer that fired, or a `call_soon` whose turn came.
#[derive(Debug)]
pub struct Fired<T> {
    /// What it was armed with.
    pub what: T,
    /// The key `call_at` returned; `None` for a `call_soon`.
    pub key: Option<TimerKey>,
    /// How long after its deadline it ran (zero for a `call_soon`).
    pub late: Duration,
}

/// What one [`Reactor::turn`] did: counts only, so making it costs nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turn {
    /// The turn's number, from 1.
    pub number: u64,
    /// Callbacks from other threads run in step 1.
    pub callbacks: usize,
    /// `call_soon`s run in step 1.
    pub soon: usize,
    /// Timers fired in step 2, the heartbeat included.
    pub timers: usize,
    /// How long step 3 waited in `poll`, counted from the clock reading of
    /// step 2 (one clock read per turn saved; it includes the time the
    /// timers of step 2 took, usually nothing).
    pub slept: Duration,
    /// Events `poll` returned, the Waker's and the signal pipe's included.
    pub events: usize,
    /// Of those, the Waker's: callbacks from other threads are waiting.
    pub wakes: usize,
}

/// What the reactor's timers carry: its own heartbeat, or the handler's.
enum Fire<T> {
    Heartbeat,
    Handler(T),
}

/// The loop. `H` is the handler it calls; see the module doc for a turn.
pub struct Reactor<H: Handler> {
    poll: Poll,
    /// Taken out of `self` while its events are handed to the handler (which
    /// gets `&mut self`), then put back: one buffer for the loop's life.
    events: Events,
    timers: Timers<Fire<H::Timer>>,
    /// What `call_soon` queued for the next turn, and an empty buffer to
    /// swap in while a turn runs the last lot (so a `call_soon` made during
    /// step 1 waits for the turn after, and no turn allocates).
    soon: Vec<H::Timer>,
    soon_spare: Vec<H::Timer>,
    /// The receiving side of [`LoopHandle::add_callback`].
    callbacks: Receiver<Delivery<H>>,
    handle: LoopHandle<H>,
    /// `None` unless [`watch_signals`](Self::watch_signals) was called: a
    /// library does not take a host program's signals unasked.
    signals: Option<SignalPipe>,
    /// SIGHUP's pipe, installed with the other.
    hangups: Option<SignalPipe>,
    /// How late timers ran: the loop-lag histogram.
    lag: Histogram,
    turns: u64,
    stopped: bool,
    /// When the reactor was made: the trace's times count from here.
    born: Instant,
    /// `Some` while tracing: the block of the turn in progress, and where
    /// finished blocks go.
    trace: Option<Trace>,
}

/// A turn's trace: lines collected while it runs, written as one block
/// under a `turn N at T ms` header — or not at all, if the turn did
/// nothing but sleep (see [`Reactor::set_trace`]).
struct Trace {
    /// The turn's lines so far, the header not among them.
    block: String,
    /// When the turn began, counted from the reactor's birth.
    at: Duration,
    /// Whether the handler wrote a line: news, whatever the counts say.
    news: bool,
    out: Box<dyn Write + Send>,
}

impl<H: Handler> Reactor<H> {
    /// A reactor with its poll, its Waker and its heartbeat; no sources yet.
    pub fn new() -> io::Result<Reactor<H>> {
        let poll = Poll::new()?;
        let (handle, callbacks) = LoopHandle::new(Waker::new(poll.registry(), WAKER)?);
        let mut timers = Timers::default();
        timers.insert(Instant::now() + HEARTBEAT, Fire::Heartbeat);
        Ok(Reactor {
            poll,
            events: Events::with_capacity(EVENTS_PER_POLL),
            timers,
            soon: Vec::new(),
            soon_spare: Vec::new(),
            callbacks,
            handle,
            signals: None,
            hangups: None,
            lag: Histogram::default(),
            turns: 0,
            stopped: false,
            born: Instant::now(),
            trace: None,
        })
    }

    /// Where sources are registered (with tokens of the handler's choosing).
    pub fn registry(&self) -> &Registry {
        self.poll.registry()
    }

    /// A handle other threads use to run code on this loop.
    pub fn handle(&self) -> LoopHandle<H> {
        self.handle.clone()
    }

    /// Turns SIGINT and SIGTERM into [`Handler::signal`] calls, and SIGHUP
    /// into [`Handler::hangup`] calls, through self-pipes registered in the
    /// poll (see `signals.rs`). The handlers are removed again when the
    /// reactor is dropped.
    pub fn watch_signals(&mut self) -> io::Result<()> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        if self.signals.is_none() {
            let registry = self.poll.registry();
            self.signals = Some(SignalPipe::install(registry, SIGNALS, &[SIGINT, SIGTERM])?);
            self.hangups = Some(SignalPipe::install(registry, HANGUP, &[SIGHUP])?);
        }
        Ok(())
    }

    /// Arms a timer that fires at `at` with `what` (Tornado's `call_at`).
    pub fn call_at(&mut self, at: Instant, what: H::Timer) -> TimerKey {
        self.timers.insert(at, Fire::Handler(what))
    }

    /// Arms a timer that fires `after` from now (Tornado's `call_later`).
    pub fn call_later(&mut self, after: Duration, what: H::Timer) -> TimerKey {
        self.call_at(Instant::now() + after, what)
    }

    /// Disarms a timer; one that already fired is left alone.
    pub fn cancel(&mut self, key: TimerKey) {
        self.timers.cancel(key);
    }

    /// True while the timer `key` has neither fired nor been cancelled: a
    /// test's way to see that what armed a timer also disarmed it.
    pub fn is_armed(&self, key: TimerKey) -> bool {
        self.timers.is_armed(key)
    }

    /// Runs `what` through [`Handler::timer`] at the start of the next turn,
    /// and makes sure that turn does not sleep first: how the loop puts off
    /// work of its own to let others have their turn (Tornado's
    /// `add_callback` from the loop thread). Not a timer, so not lag.
    pub fn call_soon(&mut self, what: H::Timer) {
        self.soon.push(what);
    }

    /// Ends [`run`](Self::run) after this turn.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// True once [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// How late the loop ran its timers: the loop-lag histogram.
    pub(crate) fn lag(&self) -> &Histogram {
        &self.lag
    }

    /// Writes a block per turn to `out` (`eddy serve --trace` gives it
    /// stderr), or stops tracing with `None`. Off, tracing costs a branch.
    ///
    /// Only a turn that did something writes its block: one that ran a
    /// callback, a `call_soon` or a handler's timer, or whose poll returned
    /// an event, or in which the handler wrote a line — or whose poll was
    /// told not to sleep, so that a loop which spins shows. A turn that only
    /// slept, its heartbeat and its `poll` line aside, writes nothing: an
    /// idle server's trace is silent. The header, `turn N at T ms`, gives
    /// the turn's number (the silent ones counted too) and when it began,
    /// in milliseconds since the reactor was made.
    pub(crate) fn set_trace(&mut self, out: Option<Box<dyn Write + Send>>) {
        self.trace = out.map(|out| Trace {
            block: String::new(),
            at: Duration::ZERO,
            news: false,
            out,
        });
    }

    /// True while tracing.
    pub(crate) fn is_tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// Adds to this turn's trace block, if tracing: `f` writes whole lines.
    /// A turn with a line from here is written, whatever else it did.
    pub(crate) fn trace(&mut self, f: impl FnOnce(&mut String)) {
        if let Some(trace) = &mut self.trace {
            f(&mut trace.block);
            trace.news = true;
        }
    }

    /// The reactor's own bookkeeping lines (what its poll did): written
    /// with a turn's block, but no reason to write it.
    fn note(&mut self, f: impl FnOnce(&mut String)) {
        if let Some(trace) = &mut self.trace {
            f(&mut trace.block);
        }
    }

    /// Turns until [`stop`](Self::stop) is called.
    pub fn run(&mut self, handler: &mut H) -> io::Result<()> {
        while !self.stopped {
            self.turn(handler, None)?;
        }
        Ok(())
    }

    /// Runs exactly one turn (the four steps of the module doc), sleeping in
    /// step 3 at most `max_wait` (`None`: until something happens), and
    /// says what it did. [`run`](Self::run) is this in a loop; tests call it
    /// directly to check the loop's rules one turn at a time.
    pub fn turn(&mut self, handler: &mut H, max_wait: Option<Duration>) -> io::Result<Turn> {
        self.turns += 1;
        let mut turn = Turn {
            number: self.turns,
            callbacks: 0,
            soon: 0,
            timers: 0,
            slept: Duration::ZERO,
            events: 0,
            wakes: 0,
        };
        let number = self.turns;
        if let Some(trace) = &mut self.trace {
            trace.at = self.born.elapsed();
        }

        // 1. Callbacks queued before this turn. Wakes coalesce, so this
        //    counts the channel, never the Waker's events.
        let queued = self.callbacks.len();
        for _ in 0..queued {
            match self.callbacks.try_recv() {
                Ok(Delivery::Message(message)) => handler.notify(self, message),
                Ok(Delivery::Callback(callback)) => callback(handler, self),
                Err(_) => break,
            }
            turn.callbacks += 1;
        }
        let mut batch = std::mem::replace(&mut self.soon, std::mem::take(&mut self.soon_spare));
        for what in batch.drain(..) {
            let late = Duration::ZERO;
            handler.timer(
                self,
                Fired {
                    what,
                    key: None,
                    late,
                },
            );
            turn.soon += 1;
        }
        self.soon_spare = batch;

        // 2. Timers that are due, earliest first.
        let now = Instant::now();
        let mut heartbeats = 0;
        while let Some((key, fire)) = self.timers.pop_due(now) {
            let late = now - key.at();
            self.lag.observe(late);
            turn.timers += 1;
            match fire {
                Fire::Heartbeat => {
                    self.timers.insert(now + HEARTBEAT, Fire::Heartbeat);
                    heartbeats += 1;
                }
                Fire::Handler(what) => {
                    let key = Some(key);
                    handler.timer(self, Fired { what, key, late });
                }
            }
        }
        // Work done so far, for the trace: the heartbeat is not work.
        let worked = turn.callbacks + turn.soon + turn.timers - heartbeats > 0;
        if self.stopped {
            self.flush_trace(number, worked);
            return Ok(turn);
        }

        // 3. Sleep until something happens or the next timer is due.
        // Measured from the clock read of step 2: one read fewer per turn,
        // and a timer is then at worst woken for a hair early, never late.
        let timeout = if !self.callbacks.is_empty() || !self.soon.is_empty() {
            Some(Duration::ZERO)
        } else {
            let until_timer = self
                .timers
                .next_deadline()
                .map(|at| at.saturating_duration_since(now));
            match (until_timer, max_wait) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        let slept_from = now;
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal landed during epoll_wait: a turn with no events (the
            // signal itself arrives through the pipe).
            Err(e) if e.kind() == io::ErrorKind::Interrupted => self.events.clear(),
            Err(e) => return Err(e),
        }
        turn.slept = slept_from.elapsed();
        if self.trace.is_some() {
            let (slept, count) = (turn.slept, self.events.iter().count());
            self.note(|t| {
                let _ = writeln!(t, "  poll: slept {}, {count} event(s)", Span(slept));
            });
        }

        // 4. Events, by token.
        let events = std::mem::replace(&mut self.events, Events::with_capacity(0));
        for event in events.iter() {
            turn.events += 1;
            match event.token() {
                WAKER => {
                    turn.wakes += 1;
                    self.note(|t| {
                        let _ = writeln!(
                            t,
                            "  waker: what other threads sent waits for turn {}",
                            number + 1
                        );
                    });
                }
                SIGNALS => {
                    let count = self.signals.as_mut().map_or(0, SignalPipe::drain);
                    if count > 0 {
                        handler.signal(self, count);
                    }
                }
                HANGUP => {
                    let count = self.hangups.as_mut().map_or(0, SignalPipe::drain);
                    if count > 0 {
                        handler.hangup(self, count);
                    }
                }
                token => handler.ready(self, token, event),
            }
        }
        self.events = events;
        // A poll told not to sleep had work waiting; if none shows, the
        // loop spins, and the trace must say so.
        let busy = worked || turn.events > 0 || timeout == Some(Duration::ZERO);
        self.flush_trace(number, busy);
        Ok(turn)
    }

    /// Ends turn `number`'s trace block, if tracing: writes it under its
    /// header if the turn was `busy` or the handler wrote a line, else drops
    /// it. A failed write is ignored: a closed stderr must not stop the loop.
    fn flush_trace(&mut self, number: u64, busy: bool) {
        if let Some(trace) = &mut self.trace {
            if busy || trace.news {
                let header = format!("turn {number} at {}\n", Millis(trace.at));
                let _ = trace.out.write_all(header.as_bytes());
                let _ = trace.out.write_all(trace.block.as_bytes());
            }
            trace.block.clear();
            trace.news = false;
        }
    }
}

/// A moment for the trace, as the time since the reactor was made, always
/// in milliseconds with three decimals (`1534.201 ms`): turn headers line up
/// and subtract by eye.
struct Millis(Duration);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Integer arithmetic, as in `Span`.
        let micros = self.0.as_micros();
        write!(f, "{}.{:03} ms", micros / 1000, micros % 1000)
    }
}

/// A duration for the trace: milliseconds with three decimals below a
/// second (`0.847 ms`), seconds above (`10.000 s`).
pub(crate) struct Span(pub(crate) Duration);

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Integer arithmetic, not `as_secs_f64`: formatting an f64 links
        // 12 KB of float printing into every binary that embeds eddy.
        let micros = self.0.as_micros();
        if micros < 1_000_000 {
            write!(f, "{}.{:03} ms", micros / 1000, micros % 1000)
        } else {
            let millis = micros / 1000;
            write!(f, "{}.{:03} s", millis / 1000, millis % 1000)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the timers that fired; ignores everything else.
    #[derive(Default)]
    struct Timed {
        fired: usize,
    }

    impl Handler for Timed {
        type Timer = ();
        type Message = ();
        fn ready(&mut self, _: &mut Reactor<Self>, _: Token, _: &Event) {}
        fn timer(&mut self, _: &mut Reactor<Self>, _: Fired<()>) {
            self.fired += 1;
        }
    }

    /// The loop-lag histogram is the crate's (`/metrics` renders it), so
    /// this rule is checked here rather than in tests/reactor.rs.
    #[test]
    fn every_fired_timers_lateness_is_kept() {
        let mut reactor = Reactor::new().unwrap();
        let mut timed = Timed::default();
        let started = Instant::now();
        reactor.call_later(Duration::from_millis(10), ());
        while timed.fired == 0 {
            reactor
                .turn(&mut timed, Some(Duration::from_secs(5)))
                .unwrap();
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the timer never fired"
            );
        }
        assert!(
            reactor.lag().count() >= 1,
            "every fired timer's lateness is kept"
        );
    }
}
