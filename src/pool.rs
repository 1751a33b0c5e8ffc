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

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::cancel::CancelToken;
use crate::http::Response;
use crate::job::{Head, Job, Paced, Work};
use crate::panic_report::{self, PanicReport};

mod paced;
use paced::{Pacing, Stretch};

/// How a job ended, as its [`Reply`] hears it.
#[derive(Debug)]
pub(crate) enum Outcome {
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
pub(crate) struct Reply {
    /// A streaming job's answer, the moment it answers.
    pub(crate) head: Box<dyn FnOnce(Response) + Send>,
    /// How the job ended.
    pub(crate) end: Box<dyn FnOnce(Outcome) + Send>,
}

/// A job as it waits in the queue: the work, its token, its reply.
struct Task {
    job: Job,
    cancel: CancelToken,
    reply: Reply,
}

/// How worker threads are scheduled against the loop (and everything else
/// on the host).
///
/// Linux only; elsewhere every choice is `Normal`.
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
pub(crate) struct WorkerPool {
    /// The sending side of the job queue; `None` once shutdown began, which
    /// is what tells idle workers to exit.
    queue: Option<Sender<Task>>,
    workers: Vec<JoinHandle<()>>,
    /// Paced bodies queued again for a worker (`paced.rs`), kept here so
    /// the teardown can drain what no worker took.
    resumed: Receiver<Stretch>,
    /// Workers running a job or a paced stretch now.
    running: Arc<AtomicUsize>,
    /// Paced bodies parked until their client makes room: not running.
    parked: Arc<AtomicUsize>,
}

impl WorkerPool {
    /// Starts `workers` threads, scheduled as `priority` says, sharing a
    /// queue of at most `queue_capacity` jobs.
    pub(crate) fn start(
        workers: usize,
        queue_capacity: usize,
        priority: WorkerPriority,
    ) -> WorkerPool {
        let (sender, receiver) = crossbeam_channel::bounded(queue_capacity);
        // Paced bodies coming back for their next pieces (`paced.rs`).
        let (resume_to, resumed) = crossbeam_channel::unbounded();
        let running = Arc::new(AtomicUsize::new(0));
        let parked = Arc::new(AtomicUsize::new(0));
        let pacing = Pacing {
            resume_to,
            parked: Arc::clone(&parked),
        };
        let workers = (0..workers)
            .map(|n| {
                let worker = Worker {
                    tasks: receiver.clone(),
                    resumed: resumed.clone(),
                    pacing: pacing.clone(),
                    running: Arc::clone(&running),
                };
                thread::Builder::new()
                    .name(format!("eddy-worker-{n}"))
                    .spawn(move || {
                        set_priority(priority);
                        worker.work()
                    })
                    .expect("spawning a worker thread")
            })
            .collect();
        WorkerPool {
            queue: Some(sender),
            workers,
            resumed,
            running,
            parked,
        }
    }

    /// Queues `job` without blocking; `reply` will hear how it ended. Gives
    /// the job back if the queue is full (the server answers 503) or the
    /// pool is shutting down.
    pub(crate) fn submit(&self, job: Job, cancel: CancelToken, reply: Reply) -> Result<(), Job> {
        let task = Task { job, cancel, reply };
        let Some(queue) = &self.queue else {
            return Err(task.job);
        };
        queue.try_send(task).map_err(|error| match error {
            TrySendError::Full(task) | TrySendError::Disconnected(task) => task.job,
        })
    }

    /// Number of worker threads.
    pub(crate) fn size(&self) -> usize {
        self.workers.len()
    }

    /// Jobs waiting for a worker: new ones, and paced bodies resumed.
    pub(crate) fn queued(&self) -> usize {
        self.queue.as_ref().map_or(0, Sender::len) + self.resumed.len()
    }

    /// Workers running a job (or a paced body's stretch) now: never more
    /// than [`size`](Self::size).
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// Paced bodies parked until their client reads: jobs in flight that
    /// hold no worker.
    pub(crate) fn parked(&self) -> usize {
        self.parked.load(Ordering::Relaxed)
    }

    /// Closes the queue and waits for every worker to finish its current job
    /// and exit, then abandons every paced body still queued for a worker:
    /// its reply is called, none is dropped unheard. The server calls this
    /// only after every in-flight request has been answered (or cancelled),
    /// so the wait is short.
    pub(crate) fn join(mut self) {
        self.queue = None;
        for worker in self.workers.drain(..) {
            // A worker cannot panic (jobs run under catch_unwind), and if it
            // somehow did there is nothing left to clean up.
            let _ = worker.join();
        }
        // A worker leaves as soon as the job queue closes, and may leave
        // stretches behind; one resumed after this finds the queue gone
        // and is abandoned where it resumes (`paced.rs`).
        for stretch in self.resumed.try_iter() {
            stretch.abandon();
        }
    }
}

/// What one worker thread holds: the queues it takes work from, what paced
/// bodies need, and the gauge of workers busy.
struct Worker {
    tasks: Receiver<Task>,
    resumed: Receiver<Stretch>,
    pacing: Pacing,
    running: Arc<AtomicUsize>,
}

impl Worker {
    /// A worker's life: take a task — a new job, or a paced body resumed
    /// (`paced.rs`) — run it, reply with how it ended.
    fn work(self) {
        loop {
            crossbeam_channel::select! {
                recv(self.resumed) -> stretch => {
                    if let Ok(stretch) = stretch {
                        self.busy(|| stretch.run(&self.pacing));
                    }
                }
                // Disconnected when the pool's Sender is gone: the shutdown.
                recv(self.tasks) -> task => match task {
                    Ok(task) => self.busy(|| run_task(task, &self.pacing)),
                    Err(_) => return,
                },
            }
        }
    }

    /// Runs `work`, counted in the running gauge meanwhile.
    fn busy(&self, work: impl FnOnce()) {
        self.running.fetch_add(1, Ordering::Relaxed);
        work();
        self.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs one job and replies with how it ended. A paced body the job started
/// begins only once the job has returned: a job that panics after
/// `Head::start_paced` then fails its body (the close tells the client) and
/// is reported as panicked, like any job.
fn run_task(task: Task, pacing: &Pacing) {
    let Task { job, cancel, reply } = task;
    // The client left while the job was queued: nobody will read the
    // answer, so don't compute it.
    if cancel.is_cancelled() {
        return (reply.end)(Outcome::Skipped);
    }
    // `Head` is `Send`, so the slot is shared, though the job fills it on
    // this very thread.
    let started: Arc<Mutex<Option<Paced>>> = Arc::default();
    let slot = Arc::clone(&started);
    let pace = Box::new(move |paced| *lock(&slot) = Some(paced));
    let outcome = run(job, &cancel, reply.head, pace);
    let paced = lock(&started).take();
    match (paced, outcome) {
        (Some(paced), Outcome::Streamed) => Stretch::new(paced, reply.end).run(pacing),
        // Dropped, the body ends failed; the panic is the job's outcome.
        (Some(paced), outcome) => {
            drop(paced);
            (reply.end)(outcome)
        }
        (None, outcome) => (reply.end)(outcome),
    }
}

/// Locks `slot`, whatever a panicking job did to it.
fn lock<T>(slot: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
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

#[cfg(test)]
mod tests {
    //! The pool on its own, no loop: replies are channels, and the test
    //! holds each streamed answer's loop end itself.

    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::http::StatusCode;
    use crate::stream::{End, Next};

    const WAIT: Duration = Duration::from_secs(20);

    /// A reply whose head goes to `heads` and whose end goes to `ends`.
    fn reply(heads: &mpsc::Sender<Response>, ends: &mpsc::Sender<Outcome>) -> Reply {
        let (heads, ends) = (heads.clone(), ends.clone());
        Reply {
            head: Box::new(move |response| {
                let _ = heads.send(response);
            }),
            end: Box::new(move |outcome| {
                let _ = ends.send(outcome);
            }),
        }
    }

    /// Waits (bounded) for a gauge the workers move: no event says so.
    fn until(what: &str, cond: impl Fn() -> bool) {
        let start = Instant::now();
        while !cond() {
            assert!(start.elapsed() < WAIT, "never: {what}");
            thread::yield_now();
        }
    }

    /// A paced body that never ends: 64 KiB pieces for ever.
    fn endless() -> Job {
        Job::stream(|_, head| {
            head.start_paced(head_of(), None, |_| Ok(Some(vec![b'x'; 64 * 1024])));
        })
    }

    fn head_of() -> Response {
        Response::new(StatusCode::OK)
    }

    /// Issue 20, point 3: the teardown calls every reply. A body parked
    /// when the pool is joined resumes later, when its pipe goes (the
    /// server drops its connections after the loop stops): no worker is
    /// left to queue it for, and its stretch — with the job's reply in it —
    /// used to be dropped unheard. A body still queued when the workers
    /// leave is drained by `join` the same way.
    #[test]
    fn a_body_parked_through_the_teardown_still_has_its_reply_called() {
        let pool = WorkerPool::start(1, 4, WorkerPriority::Normal);
        let (heads, head) = mpsc::channel();
        let (ends, end) = mpsc::channel();
        pool.submit(endless(), CancelToken::new(), reply(&heads, &ends))
            .unwrap();
        let answer = head.recv_timeout(WAIT).unwrap();
        until("the body parks", || pool.parked() == 1);
        // A parked body holds no worker (the gauge drops just after the
        // body parks).
        until("its worker is free", || pool.running() == 0);
        pool.join();
        assert!(end.try_recv().is_err(), "ended before its pipe went");
        drop(answer);
        match end.recv_timeout(WAIT) {
            Ok(Outcome::Streamed) => {}
            other => panic!("the parked body's reply was never called: {other:?}"),
        }
    }

    /// Issue 20, point 2: a job that panics after `start_paced` is a failed
    /// job (its reply hears the panic), and its body ends failed, not
    /// whole.
    #[test]
    fn a_panic_after_start_paced_fails_the_body_and_is_reported() {
        let pool = WorkerPool::start(1, 4, WorkerPriority::Normal);
        let (heads, head) = mpsc::channel();
        let (ends, end) = mpsc::channel();
        let job = Job::stream(|_, head| {
            let mut once = Some(b"hello".to_vec());
            head.start_paced(head_of(), Some(5), move |_| Ok(once.take()));
            panic!("after start_paced");
        });
        pool.submit(job, CancelToken::new(), reply(&heads, &ends))
            .unwrap();
        let answer = head.recv_timeout(WAIT).unwrap();
        match end.recv_timeout(WAIT).unwrap() {
            Outcome::Panicked(report) => assert_eq!(report.message, "after start_paced"),
            other => panic!("the panic was not reported: {other:?}"),
        }
        let body = answer.body.stream().unwrap();
        loop {
            match body.next() {
                Next::Chunk(_) => {}
                Next::End(End::Failed(_)) => break,
                other => panic!("the body did not end failed: {other:?}"),
            }
        }
        pool.join();
    }

    /// Issue 20, point 4: an empty piece ends the body failed and reports
    /// the producer's bug, and the worker is free again (it used to spin
    /// on it for ever).
    #[test]
    fn an_empty_piece_fails_the_body_and_frees_the_worker() {
        let pool = WorkerPool::start(1, 4, WorkerPriority::Normal);
        let (heads, head) = mpsc::channel();
        let (ends, end) = mpsc::channel();
        let job = Job::stream(|_, head| {
            head.start_paced(head_of(), None, |_| Ok(Some(Vec::new())));
        });
        pool.submit(job, CancelToken::new(), reply(&heads, &ends))
            .unwrap();
        let answer = head.recv_timeout(WAIT).unwrap();
        match end.recv_timeout(WAIT).unwrap() {
            Outcome::Panicked(report) => assert!(report.message.contains("empty"), "{report:?}"),
            other => panic!("the empty piece was not reported: {other:?}"),
        }
        assert!(matches!(
            answer.body.stream().unwrap().next(),
            Next::End(End::Failed(_))
        ));
        let next = Job::new(|_| Response::new(StatusCode::OK));
        pool.submit(next, CancelToken::new(), reply(&heads, &ends))
            .unwrap();
        assert!(matches!(end.recv_timeout(WAIT), Ok(Outcome::Answered(_))));
        pool.join();
    }
}
