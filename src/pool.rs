//! The worker pool: where slow jobs run, off the loop thread.
//!
//! This plays the part of the seed answers' `ProcessPoolExecutor`. Rust
//! threads run in parallel (there is no GIL to escape), so threads suffice
//! where Python needed processes — and unlike a process per request, a fixed
//! pool bounds the CPU work in flight.
//!
//! - Jobs wait in a **bounded** crossbeam channel. When it is full,
//!   `WorkerPool::submit` fails at once and the loop answers 503: the loop
//!   never blocks, and queued work cannot grow without limit.
//! - Each job runs under `catch_unwind` (`panic_report::catch`, which also
//!   keeps Rust's panic report off stderr). A panic becomes a 500 naming the
//!   panic message, and the worker goes on to its next job, so the pool
//!   never loses a thread. (Tornado's warning in the seed answers: an exception in
//!   the offloaded function must still finish the request, or it hangs
//!   forever. Here every job, however it ends, produces an answer.)
//! - Every answer goes back through [`LoopHandle::add_callback`], the only
//!   way into the loop.
//! - Each job carries a [`CancelToken`]. The loop trips it when the client
//!   goes away; a job still queued is then skipped, a running job may check
//!   the token and stop early.
//! - Workers run in Linux's `SCHED_IDLE` class: they get a core only when
//!   no ordinary thread wants it, so the loop preempts them the moment it
//!   wakes. With workers = cores, CPU-bound jobs otherwise take the cores the
//!   loop needs. Measured on this repository's 2-core machine (`/fast` p99
//!   under wrk, both workers busy, see docs/performance.md): 9.6 ms at equal
//!   priority, 5.7 ms at nice 10, 1.4–6.4 ms at nice 19, and 1.4–2.2 ms
//!   with `SCHED_IDLE` (1.3–1.5 ms idle). The cost: on a host where *other*
//!   programs keep every core busy, jobs crawl (the job timeout bounds them).
//!   eddy is meant to own its machine or container; the loop's latency is
//!   the thing to protect.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::event_loop::ResponseSlot;
use crate::http::{Response, StatusCode};
use crate::loop_handle::LoopHandle;
use crate::panic_report::{self, PanicReport};

/// A flag a job can poll to learn that nobody wants its answer any more.
///
/// It also remembers *why* it was tripped, for the job counters: a job whose
/// timeout already answered 504 is counted once, as timed out, not again as
/// cancelled when its late answer (or its skip) comes back. The first reason
/// sticks.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicU8>);

/// The token's states. Only ever moves away from `LIVE`, once.
const LIVE: u8 = 0;
const CANCELLED: u8 = 1;
const TIMED_OUT: u8 = 2;

impl CancelToken {
    /// A token that has not been tripped.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Trips the token; every clone sees it.
    pub fn cancel(&self) {
        self.trip(CANCELLED);
    }

    /// Trips the token because the job ran past its timeout.
    pub(crate) fn time_out(&self) {
        self.trip(TIMED_OUT);
    }

    fn trip(&self, why: u8) {
        // Relaxed: the flag carries no data with it, and a job that sees it
        // one factorial late loses nothing. A failed exchange means it was
        // tripped already, and the first reason stays.
        let _ = self
            .0
            .compare_exchange(LIVE, why, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// True once [`cancel`](CancelToken::cancel) was called on any clone
    /// (or the job timed out).
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed) != LIVE
    }

    /// True if the first reason to stop was the job timeout.
    pub(crate) fn timed_out(&self) -> bool {
        self.0.load(Ordering::Relaxed) == TIMED_OUT
    }
}

/// A unit of slow work: runs once, on a worker thread, and produces the
/// response for one request.
pub struct Job(Box<dyn FnOnce(&CancelToken) -> Response + Send>);

impl Job {
    /// Wraps a closure as a job. It receives the request's cancel token.
    pub fn new(work: impl FnOnce(&CancelToken) -> Response + Send + 'static) -> Job {
        Job(Box::new(work))
    }
}

/// A job plus where its answer goes.
pub(crate) struct Task {
    pub job: Job,
    /// The job's number (the loop counts them from 1) and its route's
    /// index, carried back for the panic line.
    pub number: u64,
    pub route: usize,
    pub slot: ResponseSlot,
    pub cancel: CancelToken,
}

/// A fixed set of worker threads fed by a bounded queue.
pub struct WorkerPool {
    /// The sending side of the job queue; `None` once shutdown began, which
    /// is what tells idle workers to exit.
    queue: Option<Sender<Task>>,
    workers: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts `workers` threads sharing a queue of at most `queue_capacity`
    /// jobs. Answers are delivered through `handle`.
    pub fn start(workers: usize, queue_capacity: usize, handle: &LoopHandle) -> WorkerPool {
        let (sender, receiver) = crossbeam_channel::bounded(queue_capacity);
        let workers = (0..workers)
            .map(|n| {
                let receiver = receiver.clone();
                let handle = handle.clone();
                thread::Builder::new()
                    .name(format!("eddy-worker-{n}"))
                    .spawn(move || {
                        yield_to_the_loop();
                        work(receiver, handle)
                    })
                    .expect("spawning a worker thread")
            })
            .collect();
        WorkerPool {
            queue: Some(sender),
            workers,
        }
    }

    /// Queues a task without blocking. Gives the task back if the queue is
    /// full (the caller answers 503) or the pool is shutting down.
    pub(crate) fn submit(&self, task: Task) -> Result<(), Task> {
        let Some(queue) = &self.queue else {
            return Err(task);
        };
        queue.try_send(task).map_err(|error| match error {
            TrySendError::Full(task) | TrySendError::Disconnected(task) => task,
        })
    }

    /// Number of worker threads.
    pub fn size(&self) -> usize {
        self.workers.len()
    }

    /// Jobs waiting in the queue for a worker.
    pub fn queued(&self) -> usize {
        self.queue.as_ref().map_or(0, Sender::len)
    }

    /// Closes the queue and waits for every worker to finish its current job
    /// and exit. The loop calls this only after every in-flight request has
    /// been answered (or cancelled), so the wait is short.
    pub fn join(mut self) {
        self.queue = None;
        for worker in self.workers.drain(..) {
            // A worker cannot panic (jobs run under catch_unwind), and if it
            // somehow did there is nothing left to clean up.
            let _ = worker.join();
        }
    }
}

/// A worker's life: take a task, run it, hand the answer to the loop.
fn work(tasks: Receiver<Task>, handle: LoopHandle) {
    // `iter` ends when every Sender is gone: that is the shutdown signal.
    for task in tasks.iter() {
        let Task {
            job,
            number,
            route,
            slot,
            cancel,
        } = task;
        if cancel.is_cancelled() {
            // The client left while the job was queued; nobody will read
            // the answer, so don't compute it. Tell the loop, for its count.
            if handle
                .add_callback(move |lp| lp.job_skipped(cancel))
                .is_err()
            {
                return;
            }
            continue;
        }
        let (response, panic) = match panic_report::catch(|| (job.0)(&cancel)) {
            Ok(response) => (response, None),
            Err(report) => {
                let body = format!(
                    "500 Internal Server Error: job panicked: {}\n",
                    report.message
                );
                (Response::text(StatusCode(500), body), Some(report))
            }
        };
        let done = JobDone {
            number,
            route,
            slot,
            response,
            cancel,
            panic,
        };
        if handle.add_callback(move |lp| lp.job_done(done)).is_err() {
            return; // The loop is gone: so is everyone we could answer.
        }
    }
}

/// A finished job, on its way back to the loop.
pub(crate) struct JobDone {
    /// The job's number and its route's index.
    pub number: u64,
    pub route: usize,
    /// Where its answer goes.
    pub slot: ResponseSlot,
    /// The answer: the job's, or a 500 if it panicked.
    pub response: Response,
    /// The job's token, which says whether it was cancelled or timed out
    /// meanwhile.
    pub cancel: CancelToken,
    /// What the panic said, if the job panicked.
    pub panic: Option<PanicReport>,
}

/// Moves the calling thread to the `SCHED_IDLE` scheduling class, so that
/// the loop thread wins the CPU whenever both are runnable (see the module
/// doc for the measurements and the trade-off). On Linux the call applies to
/// the calling thread only; elsewhere it would change the whole process, so
/// it is Linux-only. Failure is harmless: the workers then compete with the
/// loop as equals.
fn yield_to_the_loop() {
    #[cfg(target_os = "linux")]
    // SAFETY: a plain system call on the calling thread (pid 0), with a
    // valid pointer to a parameter block that outlives it.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
    }
}
