//! The router: which handler answers a request, and where it runs.
//!
//! Every route says up front where its work happens:
//!
//! - **inline** — the handler runs on the loop thread and returns the
//!   response at once. It must not block: while it runs, no other client is
//!   served (the demo's `/slow` shows what happens when it does).
//! - **offloaded** — a cheap *prepare* step runs on the loop (read the
//!   request, validate it, answer 400 right away if it is bad) and returns a
//!   [`Job`]; the job runs on the worker pool and the loop answers when it is
//!   done. This is Tornado's `yield executor.submit(...)` from the seed
//!   answers, spelled as data.
//!
//! Routes are matched on the exact path. A GET route also answers HEAD
//! (the connection drops the body). A known path asked with another method
//! gets 405 with an `Allow` header listing what it does accept, and
//! `OPTIONS` on it gets that list with a 200 (RFC 9110 §9.3.7), as does
//! `OPTIONS *` for the server as a whole, unless a route claims OPTIONS.

use crate::http::{Request, Response, StatusCode};
use crate::job::Job;
use crate::panic_report::{self, PanicReport};
use crate::status::ServerStatus;

/// A handler that answers on the loop thread.
pub type InlineFn = Box<dyn Fn(&Request, &ServerStatus<'_>) -> Response + Send>;

/// The loop-side half of an offloaded route: turns a request into a job for
/// the pool, or into an immediate response (typically a 400).
pub type PrepareFn = Box<dyn Fn(&Request) -> Result<Job, Response> + Send>;

/// How a route produces its response.
pub enum Route {
    /// Runs on the loop thread; must not block.
    Inline(InlineFn),
    /// Prepared on the loop thread, run on the worker pool.
    Offload(PrepareFn),
}

/// A route that runs on the loop thread.
pub fn inline(handler: impl Fn(&Request, &ServerStatus) -> Response + Send + 'static) -> Route {
    Route::Inline(Box::new(handler))
}

/// A route whose work runs on the worker pool.
pub fn offload(prepare: impl Fn(&Request) -> Result<Job, Response> + Send + 'static) -> Route {
    Route::Offload(Box::new(prepare))
}

/// The outcome of looking a request up.
pub enum Resolved<'r> {
    /// This route (of path number `.0`, in registration order) answers it.
    Found(usize, &'r Route),
    /// No route has this path: 404.
    NotFound,
    /// The path (number `.0`) exists but not for this method: 405 with this
    /// `Allow` value.
    MethodNotAllowed(usize, &'r str),
    /// `OPTIONS` on a path (number `.0`, `None` for `*`, the server itself)
    /// no route answers OPTIONS for: 200 with this `Allow` value.
    Options(Option<usize>, &'r str),
}

impl Resolved<'_> {
    /// The number of the matched path, for counting requests per route;
    /// `None` when no path matched.
    pub fn path_index(&self) -> Option<usize> {
        match self {
            Resolved::Found(index, _) | Resolved::MethodNotAllowed(index, _) => Some(*index),
            Resolved::Options(index, _) => *index,
            Resolved::NotFound => None,
        }
    }
}

/// The routes of one path.
struct PathRoutes {
    path: String,
    /// (method, route) pairs, e.g. ("GET", ..).
    methods: Vec<(String, Route)>,
    /// The `Allow` header value for a 405, built once at registration so an
    /// unexpected method costs no allocation.
    allow: String,
}

/// A table of routes, matched on exact path then method.
#[derive(Default)]
pub struct Router {
    /// A short list scanned in order: a demo app has a handful of paths, and
    /// a linear scan over them beats hashing the path.
    paths: Vec<PathRoutes>,
    /// Every method some path accepts, for `OPTIONS *`'s `Allow`; built at
    /// registration, like each path's.
    allow_any: String,
}

impl Router {
    /// An empty router: every request gets 404.
    pub fn new() -> Router {
        Router::default()
    }

    /// Registers `route` for GET (and therefore HEAD) on `path`.
    pub fn get(self, path: &str, route: Route) -> Router {
        self.route("GET", path, route)
    }

    /// Registers `route` for `method` on `path`. Registering the same pair
    /// twice replaces the earlier route.
    pub fn route(mut self, method: &str, path: &str, route: Route) -> Router {
        let index = match self.paths.iter().position(|p| p.path == path) {
            Some(index) => index,
            None => {
                self.paths.push(PathRoutes {
                    path: path.to_string(),
                    methods: Vec::new(),
                    allow: String::new(),
                });
                self.paths.len() - 1
            }
        };
        let entry = &mut self.paths[index];
        entry.methods.retain(|(m, _)| m != method);
        entry.methods.push((method.to_string(), route));
        entry.allow = allow_header(entry.methods.iter().map(|(m, _)| m.as_str()));
        let every = self.paths.iter().flat_map(|p| p.methods.iter());
        let mut seen: Vec<&str> = Vec::new();
        for (method, _) in every {
            if !seen.contains(&method.as_str()) {
                seen.push(method);
            }
        }
        self.allow_any = allow_header(seen.into_iter());
        self
    }

    /// The registered paths, in registration order (their index is what
    /// [`Resolved::path_index`] returns).
    pub fn paths(&self) -> Vec<String> {
        self.paths.iter().map(|p| p.path.clone()).collect()
    }

    /// Finds the route for a request.
    pub fn resolve(&self, request: &Request) -> Resolved<'_> {
        if request.target == "*" {
            // Only OPTIONS may have this target (head.rs refuses the rest).
            return Resolved::Options(None, &self.allow_any);
        }
        let Some((index, entry)) = self
            .paths
            .iter()
            .enumerate()
            .find(|(_, p)| p.path == request.path())
        else {
            return Resolved::NotFound;
        };
        // HEAD is answered by the GET route: same status and headers, and
        // the connection leaves the body out (RFC 9110 §9.3.2).
        let method = match request.method.as_str() {
            "HEAD" => "GET",
            other => other,
        };
        match entry.methods.iter().find(|(m, _)| m == method) {
            Some((_, route)) => Resolved::Found(index, route),
            None if method == "OPTIONS" => Resolved::Options(Some(index), &entry.allow),
            None => Resolved::MethodNotAllowed(index, &entry.allow),
        }
    }
}

/// `GET, HEAD, POST` — the methods a path accepts, HEAD implied by GET.
fn allow_header<'a>(methods: impl Iterator<Item = &'a str>) -> String {
    let mut allowed: Vec<&str> = Vec::new();
    for method in methods {
        allowed.push(method);
        if method == "GET" {
            allowed.push("HEAD");
        }
    }
    allowed.join(", ")
}

/// What a route made of a request.
pub enum Answer {
    /// The response is here already (an inline route, a 4xx, `OPTIONS`).
    Now(Response),
    /// This job will make it, on the pool (the server submits it, and
    /// answers 503 if the queue is full).
    Offload(Job),
    /// The handler (or the prepare step) panicked: the server answers 500
    /// and reports what the panic said.
    Failed(PanicReport),
}

impl Router {
    /// Runs the route `resolved` found for `request`: an inline handler
    /// answers now, an offloaded route's prepare step answers now or
    /// returns its job. A panic in either is caught: a buggy route must not
    /// take the loop (and every other client) down with it.
    pub fn answer(
        &self,
        resolved: Resolved<'_>,
        request: &Request,
        status: &ServerStatus<'_>,
    ) -> Answer {
        let route = match resolved {
            Resolved::Found(_, route) => route,
            Resolved::NotFound => return Answer::Now(Response::error(StatusCode::NOT_FOUND)),
            Resolved::MethodNotAllowed(_, allow) => {
                let response =
                    Response::error(StatusCode::METHOD_NOT_ALLOWED).with_header("Allow", allow);
                return Answer::Now(response);
            }
            // No content: RFC 9110 §9.3.7 asks for `Content-Length: 0`.
            Resolved::Options(_, allow) => {
                let response = Response::text(StatusCode::OK, "").with_header("Allow", allow);
                return Answer::Now(response);
            }
        };
        let prepared = panic_report::catch(|| match route {
            Route::Inline(handler) => Answer::Now(handler(request, status)),
            Route::Offload(prepare) => match prepare(request) {
                Ok(job) => Answer::Offload(job),
                Err(response) => Answer::Now(response),
            },
        });
        prepared.unwrap_or_else(Answer::Failed)
    }
}
