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
//!   keeps Rust's panic report off stderr), and the worker goes on to its
//!   next job, so the pool never loses a thread. (Tornado's warning in the
//!   seed answers: an exception in the offloaded function must still finish
//!   the request, or it hangs forever. Here every job, however it ends,
//!   produces an [`Outcome`].)
//! - The pool knows no loop. Each job comes with a [`Reply`], a closure the
//!   worker calls with the outcome; the server's reply hands it to the loop
//!   with `LoopHandle::add_callback` (see `server/jobs.rs`).
//! - Each job carries a [`CancelToken`]. The server trips it when the client
//!   goes away; a job still queued is then skipped (its reply says so), a
//!   running job may check the token and stop early.
//! - How the workers are scheduled is a setting, [`WorkerPriority`]. In
//!   Linux's `SCHED_IDLE` class they get a core only when no ordinary thread
//!   wants it, so the loop preempts them the moment it wakes: with workers =
//!   cores, CPU-bound jobs otherwise take the cores the loop needs. Both
//!   sides, measured with `bench/priority.sh` on this repository's 2-core
//!   machine (docs/performance.md, "Worker scheduling"): with both workers
//!   busy, `/fast` p99 was 2.1–2.8 ms idle-class against 3.7–4.6 ms at
//!   equal priority, at 52k against 35k req/s; but idle-class workers
//!   finished about a third of the jobs, and with another program keeping
//!   both cores busy a 0.05 s job took 15–17 s (0.1 s at equal priority,
//!   0.4 s at nice 10). The library's default is `Normal` — it does not
//!   know its host — and the `eddy` binary's is `Idle`, since a server that
//!   owns its machine should protect its loop's latency.

use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::http::Response;
use crate::job::{CancelToken, Head, Job, Paced, Work};
use crate::panic_report::{self, PanicReport};

mod paced;
use paced::Resumed;

/// How a job ended, as its [`Reply`] hears it.
#[derive(Debug)]
pub enum Outcome {
    /// It ran and returned this response.
    Answered(Response),
    /// A streaming job answered through its head (`Reply::head` heard the
    /// answer) and returned: any body it wrote is complete or failed, as
    /// its sender said.
    Streamed,
    /// A streaming job returned without answering.
    Unanswered,
    /// It panicked; this is what the panic said. A streaming job may have
    /// answered first: its body then ends failed.
    Panicked(PanicReport),
    /// Its token was tripped before a worker took it: it never ran.
    Skipped,
}

/// What a worker calls, on the worker's thread: `head` with a streaming
/// job's answer as soon as it gives one (before its body is written), and
/// `end` once with how the job ended.
pub struct Reply {
    /// A streaming job's answer, the moment it answers.
    pub head: Box<dyn FnOnce(Response) + Send>,
    /// How the job ended.
    pub end: Box<dyn FnOnce(Outcome) + Send>,
}

/// A job as it waits in the queue: the work, its token, its reply.
struct Task {
    job: Job,
    cancel: CancelToken,
    reply: Reply,
}

/// How worker threads are scheduled against the loop (and everything else
/// on the host). Linux only; elsewhere every choice is `Normal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkerPriority {
    /// Like any thread: jobs and the loop compete as equals.
    #[default]
    Normal,
    /// `nice` this much (1 to 19): lower priority, but still a share.
    Nice(i32),
    /// `SCHED_IDLE`: a core only when no other thread wants it. The loop
    /// always wins; jobs starve if the host's other programs are busy.
    Idle,
}

/// A fixed set of worker threads fed by a bounded queue.
pub struct WorkerPool {
    /// The sending side of the job queue; `None` once shutdown began, which
    /// is what tells idle workers to exit.
    queue: Option<Sender<Task>>,
    workers: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts `workers` threads, scheduled as `priority` says, sharing a
    /// queue of at most `queue_capacity` jobs.
    pub fn start(workers: usize, queue_capacity: usize, priority: WorkerPriority) -> WorkerPool {
        let (sender, receiver) = crossbeam_channel::bounded(queue_capacity);
        // Paced bodies coming back for their next pieces (`paced.rs`).
        let resumed = crossbeam_channel::unbounded();
        let workers = (0..workers)
            .map(|n| {
                let receiver = receiver.clone();
                let resumed = resumed.clone();
                thread::Builder::new()
                    .name(format!("eddy-worker-{n}"))
                    .spawn(move || {
                        set_priority(priority);
                        work(receiver, resumed)
                    })
                    .expect("spawning a worker thread")
            })
            .collect();
        WorkerPool {
            queue: Some(sender),
            workers,
        }
    }

    /// Queues `job` without blocking; `reply` will hear how it ended. Gives
    /// the job back if the queue is full (the server answers 503) or the
    /// pool is shutting down.
    pub fn submit(&self, job: Job, cancel: CancelToken, reply: Reply) -> Result<(), Job> {
        let task = Task { job, cancel, reply };
        let Some(queue) = &self.queue else {
            return Err(task.job);
        };
        queue.try_send(task).map_err(|error| match error {
            TrySendError::Full(task) | TrySendError::Disconnected(task) => task.job,
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
    /// and exit. The server calls this only after every in-flight request has
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

/// A worker's life: take a task — a new job, or a paced body resumed
/// (`paced.rs`) — run it, reply with how it ended.
fn work(tasks: Receiver<Task>, resumed: (Sender<Resumed>, Receiver<Resumed>)) {
    let (resume_to, resumed) = resumed;
    loop {
        crossbeam_channel::select! {
            recv(resumed) -> stretch => {
                if let Ok(stretch) = stretch {
                    stretch();
                }
            }
            // Disconnected when the pool's Sender is gone: the shutdown.
            recv(tasks) -> task => match task {
                Ok(task) => run_task(task, &resume_to),
                Err(_) => return,
            },
        }
    }
}

/// Runs one job and replies with how it ended — or, for a paced body,
/// leaves the reply to the body's last piece.
fn run_task(task: Task, resume_to: &Sender<Resumed>) {
    let Task { job, cancel, reply } = task;
    // The client left while the job was queued: nobody will read the
    // answer, so don't compute it.
    if cancel.is_cancelled() {
        return (reply.end)(Outcome::Skipped);
    }
    // Shared with a paced body, which takes it if the job starts one.
    let end = Arc::new(Mutex::new(Some(reply.end)));
    let outcome = run(job, &cancel, reply.head, paced_end(&end, resume_to));
    let end = end.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(end) = end {
        end(outcome);
    }
}

/// What `Head::start_paced` calls: the job's reply goes with the body.
fn paced_end(
    end: &Arc<Mutex<Option<paced::End>>>,
    resume_to: &Sender<Resumed>,
) -> Box<dyn FnOnce(Paced) + Send> {
    let end = Arc::clone(end);
    let resume_to = resume_to.clone();
    Box::new(move |body| {
        let end = end.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(end) = end {
            paced::pace(body, end, resume_to);
        }
    })
}

/// Runs one job under `catch_unwind`; a streaming one answers through
/// `head`, and may hand a paced body to `pace`.
fn run(
    job: Job,
    cancel: &CancelToken,
    head: Box<dyn FnOnce(Response) + Send>,
    pace: Box<dyn FnOnce(Paced) + Send>,
) -> Outcome {
    match job.0 {
        Work::Whole(work) => match panic_report::catch(|| work(cancel)) {
            Ok(response) => Outcome::Answered(response),
            Err(report) => Outcome::Panicked(report),
        },
        Work::Stream(work) => {
            let answered = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&answered);
            let send = Box::new(move |response| {
                flag.store(true, Ordering::Relaxed);
                head(response);
            });
            let head = Head::new(cancel.clone(), send, pace);
            match panic_report::catch(|| work(cancel, head)) {
                Ok(()) if answered.load(Ordering::Relaxed) => Outcome::Streamed,
                Ok(()) => Outcome::Unanswered,
                Err(report) => Outcome::Panicked(report),
            }
        }
    }
}

/// Schedules the calling thread as `priority` says (see the module doc for
/// the measurements and the trade-off). On Linux these calls apply to the
/// calling thread only; elsewhere they would change the whole process, so
/// they are Linux-only. Failure is harmless: the worker then competes with
/// the loop as an equal.
fn set_priority(priority: WorkerPriority) {
    #[cfg(target_os = "linux")]
    match priority {
        WorkerPriority::Normal => {}
        // SAFETY: a plain system call on the calling thread (0: this one).
        WorkerPriority::Nice(nice) => unsafe {
            libc::setpriority(libc::PRIO_PROCESS, 0, nice.clamp(-20, 19));
        },
        // SAFETY: a plain system call on the calling thread (pid 0), with a
        // valid pointer to a parameter block that outlives it.
        WorkerPriority::Idle => unsafe {
            let param = libc::sched_param { sched_priority: 0 };
            libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
        },
    }
    #[cfg(not(target_os = "linux"))]
    let _ = priority;
}
