//! The handshake threads: where a TLS handshake's CPU work runs, off the
//! loop (with the `tls` feature).
//!
//! A client's handshake flight costs the server a key exchange and, for the
//! first, a signature: 0.83–1.15 ms of CPU with RSA 2048, measured on the
//! loop before this existed (docs/performance.md, "HTTPS"), and whatever a
//! hardware key takes. Done on the loop, a storm of new connections is the
//! seed's slow request: every fast request waits behind it. So the TLS
//! transport lets its session go with the flight fed to it
//! (`transport/tls.rs`, `HandshakeStep`), the server queues it here, a
//! thread processes it, and it re-enters the loop as
//! `Message::Handshaken` — the way a finished job does.
//!
//! Why threads of their own, not the job pool: the pool runs the app's
//! slow jobs, 5–10 s each in the seed's story, and a handshake queued
//! behind them would keep a client from even connecting for that long.
//! These threads run only handshakes, each well under a few milliseconds,
//! so a queue of them drains fast.
//!
//! Bounded like every queue here: at most [`QUEUE`] flights wait. A
//! connection whose flight finds the queue full is closed (the client may
//! retry) and counted in `eddy_tls_handshakes_shed_total`: the machine is
//! then out of CPU for handshakes, and making the loop do them would only
//! add the fast requests to the casualties.

use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::ConnId;
use crate::panic_report;
use crate::transport::HandshakeStep;

/// Handshake flights waiting for a thread, at most. At 1 ms each (RSA
/// 2048) on two threads, a full queue is half a second of work: longer
/// than that, a client is better told at once.
pub(crate) const QUEUE: usize = 1024;

/// Where a processed flight goes: back to the loop.
pub(crate) type Back = Arc<dyn Fn(ConnId, HandshakeStep) + Send + Sync>;

/// A flight on its way, and whose it is.
type Flight = (ConnId, HandshakeStep);

/// The threads that process handshake flights, and their queue.
pub(crate) struct Handshakes {
    /// `None` once shut down, which tells the threads to exit.
    queue: Option<Sender<Flight>>,
    /// The queue's other end, kept to empty it at shutdown.
    waiting: Receiver<Flight>,
    threads: Vec<JoinHandle<()>>,
}

impl Handshakes {
    /// Starts `threads` threads (at least one) sharing a queue of
    /// [`QUEUE`] flights; each processed flight is handed to `back`.
    ///
    /// At normal priority, not the workers' `SCHED_IDLE`: tried once
    /// (bench/tls.sh, RSA 2048, docs/performance.md "HTTPS"), idle-class
    /// handshake threads kept `/fast`'s p99 within 1.1–1.3× of the control
    /// under a ClientHello flood, but they starved whenever anything else
    /// wanted the cores — one-at-a-time handshakes fell from 390 to 176 a
    /// second and a flood paced at 300/s got 182 through. A starved
    /// handshake is a client that cannot connect at all; a slower `/fast`
    /// is not. The queue's bound, not the scheduler, limits what a storm
    /// costs.
    pub(crate) fn start(threads: usize, back: Back) -> Handshakes {
        let (queue, waiting) = crossbeam_channel::bounded::<Flight>(QUEUE);
        let threads = (0..threads.max(1))
            .map(|n| {
                let (flights, back) = (waiting.clone(), Arc::clone(&back));
                thread::Builder::new()
                    .name(format!("eddy-handshake-{n}"))
                    .spawn(move || {
                        for (conn, mut step) in flights {
                            if panic_report::catch(|| step.run()).is_err() {
                                step.panicked();
                            }
                            back(conn, step);
                        }
                    })
                    .expect("spawning a handshake thread")
            })
            .collect();
        Handshakes {
            queue: Some(queue),
            waiting,
            threads,
        }
    }

    /// Queues connection `conn`'s flight without blocking; gives it back if
    /// the queue is full.
    pub(crate) fn submit(&self, conn: ConnId, step: HandshakeStep) -> Result<(), HandshakeStep> {
        let Some(queue) = &self.queue else {
            return Err(step);
        };
        queue.try_send((conn, step)).map_err(|error| match error {
            TrySendError::Full((_, step)) | TrySendError::Disconnected((_, step)) => step,
        })
    }

    /// Drops every flight still queued (their connections are closed by
    /// now), closes the queue and waits for each thread to finish the
    /// flight in its hands and exit.
    pub(crate) fn join(mut self) {
        self.queue = None;
        while self.waiting.try_recv().is_ok() {}
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
