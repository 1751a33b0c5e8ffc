//! A job: the unit of work offloaded to the pool.
//!
//! What the router, the pool and the server all share: an offloaded route
//! makes a [`Job`], the pool runs it, the server holds its [`CancelToken`]
//! (`cancel.rs`) and trips it when nobody wants the answer any more. It
//! imports nothing but the token, the [`Response`] a job produces and the
//! stream a streaming job writes its body into.
//!
//! A job answers in one of two ways:
//!
//! - [`Job::new`]: it returns the whole response.
//! - [`Job::stream`]: it is given a [`Head`], answers through it once —
//!   with a whole response (a 404, a 304), or with a head whose body it
//!   then writes, chunk by chunk, into the [`BodySender`] `Head::start`
//!   returns. The head reaches the client while the job goes on writing,
//!   and the job ends when it returns (`stream.rs` has the flow control).

use std::io;

// `pub`: `eddy::job::CancelToken` named it before it had a file of its own.
pub use crate::cancel::CancelToken;
use crate::http::Response;
use crate::stream::BodySender;

/// A unit of slow work: runs once, on a worker thread, and produces the
/// response for one request.
///
/// An [`offload`](crate::offload) route's prepare step makes it on the
/// loop (and may answer at once instead, a 400 say); the job then runs on
/// a worker, and its [`CancelToken`] trips if the client leaves or the job
/// outlives `Config::job_timeout`.
///
/// ```
/// use eddy::{offload, CancelToken, Job, Response, StatusCode};
///
/// let sum = offload(|req, _status| {
///     let n: u64 = req
///         .query_param("n")
///         .and_then(|n| n.parse().ok())
///         .ok_or_else(|| Response::error(StatusCode::BAD_REQUEST))?; // on the loop
///     Ok(Job::new(move |cancel| {
///         let mut total = 0u64;
///         for i in 0..n {
///             if i % 1024 == 0 && cancel.is_cancelled() {
///                 break; // nobody wants the answer any more
///             }
///             total = total.wrapping_add(i);
///         }
///         Response::text(StatusCode::OK, format!("{total}\n"))
///     }))
/// });
/// # let _ = sum;
///
/// // A whole job also runs on the calling thread, as a test would run it:
/// let job = Job::new(|_cancel| Response::text(StatusCode::OK, "done"));
/// let answer = job.run(&CancelToken::new()).unwrap();
/// assert_eq!(answer.body.as_bytes(), b"done");
/// ```
pub struct Job(pub(crate) Work);

/// What a job does, as the pool sees it.
pub(crate) enum Work {
    /// Returns the whole response.
    Whole(Box<dyn FnOnce(&CancelToken) -> Response + Send>),
    /// Answers through its head, and may then write a body.
    Stream(Box<StreamWork>),
}

/// The closure behind [`Job::stream`].
type StreamWork = dyn FnOnce(&CancelToken, Head) + Send;

impl Job {
    /// Wraps a closure as a job. It receives the request's cancel token.
    pub fn new(work: impl FnOnce(&CancelToken) -> Response + Send + 'static) -> Job {
        Job(Work::Whole(Box::new(work)))
    }

    /// A job that answers through a [`Head`]: once, with a whole response
    /// or with a head and then a body it writes as it goes (a file, a long
    /// output). Returning without answering costs the client a 500.
    pub fn stream(work: impl FnOnce(&CancelToken, Head) + Send + 'static) -> Job {
        Job(Work::Stream(Box::new(work)))
    }

    /// Runs a whole job (on the calling thread) with its token; `None` for a
    /// streaming one, which needs the pool's [`Head`].
    pub fn run(self, cancel: &CancelToken) -> Option<Response> {
        match self.0 {
            Work::Whole(work) => Some(work(cancel)),
            Work::Stream(_) => None,
        }
    }
}

/// How a streaming job answers, once. Made by the pool: `send` takes the
/// answer to the loop, `pace` takes a paced body back to the pool.
pub struct Head {
    send: Box<dyn FnOnce(Response) + Send>,
    cancel: CancelToken,
    pace: Box<dyn FnOnce(Paced) + Send>,
}

/// The next piece of a paced body ([`Head::start_paced`]): `Ok(Some(bytes))`,
/// `Ok(None)` at the end, `Err` to end it failed.
pub(crate) type NextPiece = Box<dyn FnMut(&CancelToken) -> io::Result<Option<Vec<u8>>> + Send>;

/// A body made a piece at a time on the pool: its sender, how to make the
/// next piece, and the job's token.
pub(crate) struct Paced {
    pub(crate) body: BodySender,
    pub(crate) next: NextPiece,
    pub(crate) cancel: CancelToken,
}

impl Head {
    pub(crate) fn new(
        cancel: CancelToken,
        send: Box<dyn FnOnce(Response) + Send>,
        pace: Box<dyn FnOnce(Paced) + Send>,
    ) -> Head {
        Head { send, cancel, pace }
    }

    /// Answers with a whole response (its body in memory, or none).
    pub fn answer(self, response: Response) {
        (self.send)(response);
    }

    /// Answers with `head`, whose body of `length` bytes (`None`: not known
    /// up front) the job then writes into the returned sender; `finish`
    /// ends it. If the client goes, every send fails with `Gone` and the
    /// job's cancel token trips.
    ///
    /// The job keeps its worker until it returns, and `send` blocks it
    /// while the client reads slowly: a few slow clients can hold every
    /// worker. A body that can be made in pieces — a file — should use
    /// [`start_paced`](Self::start_paced), which gives the worker back.
    pub fn start(self, head: Response, length: Option<u64>) -> BodySender {
        start(self.send, &self.cancel, head, length)
    }

    /// Answers with `head`, then makes its body a piece at a time on the
    /// pool: `next` runs on a worker for each piece while the pipe has
    /// room, and when it fills — the client reads slowly — the job **gives
    /// its worker back** and is queued again once the loop has taken the
    /// pipe below its low-water mark. A slow client then costs a pipe, not
    /// a thread. The pieces begin once the job's closure returns — so a
    /// job that panics after this call fails its body and is reported as
    /// panicked — and the job ends when `next` says so (or fails, or
    /// panics, or the client goes). `next` must not return an empty piece
    /// (`Ok(None)` ends the body): that fails the body as a producer bug.
    /// Call it from the job's own thread: a body handed over after the
    /// closure returned is dropped, and fails.
    pub fn start_paced(
        self,
        head: Response,
        length: Option<u64>,
        next: impl FnMut(&CancelToken) -> io::Result<Option<Vec<u8>>> + Send + 'static,
    ) {
        let Head { send, cancel, pace } = self;
        let body = start(send, &cancel, head, length);
        pace(Paced {
            body,
            next: Box::new(next),
            cancel,
        });
    }
}

/// Sends a streamed head to the loop and returns its body's sender, the
/// job's token tripped if the client goes before the body ends.
fn start(
    send: Box<dyn FnOnce(Response) + Send>,
    cancel: &CancelToken,
    head: Response,
    length: Option<u64>,
) -> BodySender {
    let (response, sender) = head.streamed(length);
    if let Some(body) = response.body.stream() {
        let cancel = cancel.clone();
        body.on_gone(Box::new(move || cancel.cancel()));
    }
    send(response);
    sender
}

impl Job {
    /// True for a [`Job::stream`] job, whose producer the server starts
    /// only once its answer can be written.
    pub(crate) fn streams(&self) -> bool {
        matches!(self.0, Work::Stream(_))
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("streams", &self.streams())
            .finish()
    }
}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head").finish_non_exhaustive()
    }
}
