//! `LoopHandle`: the one door from other threads into the loop.
//!
//! **This is where a finished job re-enters the event loop.** A worker
//! thread cannot touch the loop's connections — they belong to the loop
//! thread — so it *sends the loop something* instead and rings the loop's
//! doorbell:
//!
//! 1. a message ([`LoopHandle::send`], the handler's own typed
//!    [`Handler::Message`], as mio 0.5's `Handler::notify` took one) or a
//!    closure ([`LoopHandle::add_callback`]) goes into a crossbeam channel;
//! 2. [`mio::Waker::wake`] makes the loop's `poll` return with the `WAKER`
//!    token, even if no socket is ready;
//! 3. at the start of its next turn the loop delivers everything queued
//!    before that turn began, in order: a message to
//!    [`Handler::notify`], a closure run with the handler and the reactor
//!    (`Reactor::turn`, step 1).
//!
//! `add_callback` is Tornado's `IOLoop.add_callback`, the one IOLoop method
//! documented as safe to call from another thread. A message is the same
//! door with data instead of code: the server sends its workers' results as
//! messages, so everything that can enter its loop from outside is one
//! enum, applied in one `match`. The seed question's "watcher" thread
//! polled a queue with `time.sleep(0)` in a loop: it burned a core to notice
//! a result. Here nobody polls: the worker that finishes the job delivers
//! it, and the loop sleeps in `epoll_wait` until the Waker fires.
//!
//! Wakes coalesce: ten jobs finishing at once may produce one Waker event, so
//! the loop drains the channel, never one callback per event.

use std::fmt;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use mio::Waker;

use super::{Handler, Reactor};

/// A closure to run on the loop thread, given the handler and the reactor.
pub(crate) type Callback<H> = Box<dyn FnOnce(&mut H, &mut Reactor<H>) + Send>;

/// What goes through the door: a handler's message, or a closure.
pub(crate) enum Delivery<H: Handler> {
    Message(H::Message),
    Callback(Callback<H>),
}

/// A cloneable, `Send` handle for reaching the loop from any thread.
pub struct LoopHandle<H: Handler> {
    /// Where deliveries wait until the loop takes them. Unbounded on
    /// purpose: a worker must never block (or fail) handing back a finished
    /// job; what bounds the number in flight is the job queue plus the
    /// workers.
    callbacks: Sender<Delivery<H>>,
    /// Rings the loop's `poll`. Shared, because every clone rings the same
    /// eventfd.
    waker: Arc<Waker>,
}

// Not derived: a derive would ask `H: Clone`, and the handle is cloneable
// whatever the handler is.
impl<H: Handler> Clone for LoopHandle<H> {
    fn clone(&self) -> Self {
        LoopHandle {
            callbacks: self.callbacks.clone(),
            waker: Arc::clone(&self.waker),
        }
    }
}

/// The event loop has stopped, so what was sent to it — a callback, a
/// server's shutdown — was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopClosed;

impl fmt::Display for LoopClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the event loop has stopped")
    }
}

impl std::error::Error for LoopClosed {}

impl<H: Handler> LoopHandle<H> {
    /// Makes a handle and the receiving end the loop drains.
    pub(super) fn new(waker: Waker) -> (LoopHandle<H>, Receiver<Delivery<H>>) {
        let (callbacks, receiver) = crossbeam_channel::unbounded();
        let handle = LoopHandle {
            callbacks,
            waker: Arc::new(waker),
        };
        (handle, receiver)
    }

    /// Runs `f` on the loop thread at the start of the loop's next turn.
    /// Callable from any thread; never blocks.
    ///
    /// The order matters: the closure is queued *before* the wake, so when
    /// the loop wakes and looks at the channel, the closure is already there.
    /// (The other way round, the loop could wake, find nothing, and sleep
    /// with the closure stranded until some unrelated event.)
    pub fn add_callback<F>(&self, f: F) -> Result<(), LoopClosed>
    where
        F: FnOnce(&mut H, &mut Reactor<H>) + Send + 'static,
    {
        self.deliver(Delivery::Callback(Box::new(f)))
    }

    /// Sends `message` to the handler's [`notify`](Handler::notify), on the
    /// loop thread at the start of the loop's next turn. Callable from any
    /// thread; never blocks. Same order as `add_callback`: queued first,
    /// then the wake.
    pub fn send(&self, message: H::Message) -> Result<(), LoopClosed> {
        self.deliver(Delivery::Message(message))
    }

    fn deliver(&self, delivery: Delivery<H>) -> Result<(), LoopClosed> {
        self.callbacks.send(delivery).map_err(|_| LoopClosed)?;
        // A failing wake means the poll is gone, which only happens as the
        // loop shuts down; what was sent is then dropped with the channel.
        self.waker.wake().map_err(|_| LoopClosed)
    }
}
