//! The router: which handler answers a request, and where it runs.
//!
//! Every route says up front where its work happens:
//!
//! - **inline** — the handler runs on the loop thread and returns the
//!   response at once. It must not block: while it runs, no other client is
//!   served (the demo's `/slow` shows what happens when it does).
//! - **offloaded** — a cheap *prepare* step runs on the loop (read the
//!   request, validate it, answer 400 right away if it is bad) and returns a
//!   [`Job`]; the job runs on the worker pool and the server answers when it
//!   is done. This is Tornado's `yield executor.submit(...)` from the seed
//!   answers, spelled as data.
//!
//! Paths are patterns (`router/pattern.rs`): literal (`/fast`), with
//! parameters (`/items/:id`, read with `Request::param`), or with a rest
//! (`/static/*path`). Literal paths are tried first, then patterns in the
//! order they were registered, then the fallback route, if there is one. A
//! GET route also answers HEAD (the connection drops the body). A known path
//! asked with another method gets 405 with an `Allow` field listing what it
//! does accept, and `OPTIONS` on it gets that list with a 200 (RFC 9110
//! §9.3.7), as does `OPTIONS *` for the server as a whole, unless a route
//! claims OPTIONS. The OPTIONS answer names `OPTIONS` too, because the path
//! does answer it (`with_options` says why). The server's own
//! error answers (404, 405, 408, 413, ...) are made by [`Router::error`],
//! and its answers to refused bytes by [`Router::refusal`], both of which
//! [`Router::error_page`] can replace.

mod pattern;
#[cfg(feature = "websocket")]
mod websocket;

use std::sync::Arc;

use crate::http::{Refusal, Request, Response, StatusCode};
use crate::job::Job;
use crate::panic_report::{self, PanicReport};
use crate::status::ServerStatus;
use pattern::{Captures, Pattern};
#[cfg(feature = "websocket")]
pub(crate) use websocket::Upgrade;
#[cfg(feature = "websocket")]
pub use websocket::{websocket, WebSocketRoute};

/// A handler that answers on the loop thread.
pub(crate) type InlineFn = Box<dyn Fn(&Request, &ServerStatus<'_>) -> Response + Send>;

/// The loop-side half of an offloaded route: turns a request into a job for
/// the pool, or into an immediate response (typically a 400).
pub(crate) type PrepareFn =
    Box<dyn Fn(&Request, &ServerStatus<'_>) -> Result<Job, Response> + Send>;

/// Renders the server's own error answers.
pub(crate) type ErrorPageFn = Box<dyn Fn(StatusCode) -> Response + Send>;

/// How a route produces its response.
enum Work {
    /// Runs on the loop thread; must not block.
    Inline(InlineFn),
    /// Prepared on the loop thread, run on the worker pool.
    Offload(PrepareFn),
    /// Upgrades to WebSocket (`router/websocket.rs`).
    #[cfg(feature = "websocket")]
    WebSocket(Box<WebSocketRoute>),
}

/// A route: its handler, where it runs, and its body limit.
pub struct Route {
    work: Work,
    /// Overrides `Config::max_body` for this route, up or down.
    max_body: Option<usize>,
}

impl Route {
    /// Accepts request bodies up to `bytes` on this route (413 beyond),
    /// instead of `Config::max_body`: lower for a route that takes none,
    /// higher for an upload.
    pub fn max_body(mut self, bytes: usize) -> Route {
        self.max_body = Some(bytes);
        self
    }

    /// True if the route's work may run on the pool (a WebSocket's
    /// handler may hand work off too).
    pub(crate) fn is_offloaded(&self) -> bool {
        match self.work {
            Work::Inline(_) => false,
            Work::Offload(_) => true,
            #[cfg(feature = "websocket")]
            Work::WebSocket(_) => true,
        }
    }
}

#[cfg(feature = "websocket")]
impl From<WebSocketRoute> for Route {
    fn from(route: WebSocketRoute) -> Route {
        Route {
            work: Work::WebSocket(Box::new(route)),
            max_body: None,
        }
    }
}

/// A route that runs on the loop thread.
pub fn inline(handler: impl Fn(&Request, &ServerStatus) -> Response + Send + 'static) -> Route {
    Route {
        work: Work::Inline(Box::new(handler)),
        max_body: None,
    }
}

/// A route whose work runs on the worker pool: `prepare` runs on the loop
/// and returns the job (or an answer now).
pub fn offload(
    prepare: impl Fn(&Request, &ServerStatus) -> Result<Job, Response> + Send + 'static,
) -> Route {
    Route {
        work: Work::Offload(Box::new(prepare)),
        max_body: None,
    }
}

/// The outcome of looking a request up. The route index is the route's
/// place in [`Router::names`], for counting per route.
pub(crate) enum Resolved<'r> {
    /// This route (of index `.0`) answers it; `.2` is what its path's
    /// parameters captured.
    Found(usize, &'r Route, Captures<'r>),
    /// No route has this path: 404.
    NotFound,
    /// The path (index `.0`) exists but not for this method: 405 with this
    /// `Allow` value.
    MethodNotAllowed(usize, &'r str),
    /// `OPTIONS` on a path (index `.0`, `None` for `*`, the server itself)
    /// no route answers OPTIONS for: 200 with this `Allow` value.
    Options(Option<usize>, &'r str),
}

impl Resolved<'_> {
    /// The index of the matched route, for counting requests per route;
    /// `None` when no path matched.
    pub(crate) fn route_index(&self) -> Option<usize> {
        match self {
            Resolved::Found(index, ..) | Resolved::MethodNotAllowed(index, _) => Some(*index),
            Resolved::Options(index, _) => *index,
            Resolved::NotFound => None,
        }
    }
}

/// The routes of one path pattern.
struct PathRoutes {
    pattern: Pattern,
    /// (method, route) pairs, e.g. ("GET", ..).
    methods: Vec<(String, Route)>,
    /// The `Allow` value for a 405, built once at registration.
    allow: String,
}

/// What a route made of a request.
pub(crate) enum Answer {
    /// The response is here already (an inline route, a 4xx, `OPTIONS`).
    Now(Response),
    /// This job will make it, on the pool (the server submits it, and
    /// answers 503 if the queue is full).
    Offload(Job),
    /// The handler (or the prepare step) panicked: the server answers 500
    /// and reports what the panic said.
    Failed(PanicReport),
    /// A WebSocket route accepted the upgrade: the `101`, then the socket.
    #[cfg(feature = "websocket")]
    // Boxed: every answer is moved by value on the hot path, and an
    // upgrade's payload would make each move copy it (callgrind: +31
    // instructions a `/fast` request while it was inline).
    Upgrade(Box<Upgrade>),
}

/// A table of routes: which [`Route`] answers a method on a path.
///
/// Paths are literal (`/fast`), with parameters (`/items/:id`, one segment
/// each, read with [`Request::param`]) or with a rest (`/static/*path`);
/// literal paths are tried first, then patterns in registration order,
/// then the [`fallback`](Router::fallback). A known path asked with another
/// method gets 405 with `Allow`, and `OPTIONS` gets that list.
///
/// ```
/// use eddy::{inline, offload, Job, Response, Router, StatusCode};
///
/// let router = Router::new()
///     .get("/items/:id", inline(|req, _status| {
///         Response::text(StatusCode::OK, format!("item {}", req.param("id").unwrap()))
///     }))
///     .post("/upload", inline(|req, _| {
///         Response::text(StatusCode::CREATED, format!("{} bytes", req.body.len()))
///     }).max_body(16 << 20))
///     .get("/report", offload(|_req, _status| {
///         Ok(Job::new(|_cancel| Response::text(StatusCode::OK, "a slow report")))
///     }))
///     .fallback(inline(|_, _| Response::text(StatusCode::NOT_FOUND, "no such page")))
///     .error_page(|status| Response::text(status, format!("error {}", status.0)));
/// assert!(router.offloads()); // so the server starts its workers
/// ```
pub struct Router {
    /// Scanned in order, literal paths first (see [`Router::resolve`]): a
    /// small app has a handful, and a scan over them beats hashing.
    paths: Vec<PathRoutes>,
    /// Answers every request no path matches, whatever its method.
    fallback: Option<Route>,
    /// Every method some path accepts, for `OPTIONS *`'s `Allow`.
    allow_any: String,
    /// Replaces [`Response::error`] for the server's own error answers.
    error_page: Option<ErrorPageFn>,
}

impl Default for Router {
    fn default() -> Router {
        Router {
            paths: Vec::new(),
            fallback: None,
            // Even a server with no route answers `OPTIONS *`.
            allow_any: allow_header(std::iter::empty()),
            error_page: None,
        }
    }
}

impl Router {
    /// An empty router: every request gets 404 (and `OPTIONS *` a 200
    /// with `Allow: OPTIONS`).
    pub fn new() -> Router {
        Router::default()
    }

    /// Registers `route` for GET (and therefore HEAD) on `path`.
    pub fn get(self, path: &str, route: impl Into<Route>) -> Router {
        self.route("GET", path, route)
    }

    /// Registers `route` for POST on `path`.
    pub fn post(self, path: &str, route: impl Into<Route>) -> Router {
        self.route("POST", path, route)
    }

    /// Registers `route` for PUT on `path`.
    pub fn put(self, path: &str, route: impl Into<Route>) -> Router {
        self.route("PUT", path, route)
    }

    /// Registers `route` for DELETE on `path`.
    pub fn delete(self, path: &str, route: impl Into<Route>) -> Router {
        self.route("DELETE", path, route)
    }

    /// Registers `route` for PATCH on `path`.
    pub fn patch(self, path: &str, route: impl Into<Route>) -> Router {
        self.route("PATCH", path, route)
    }

    /// Registers `route` for `method` (any token: methods are
    /// case-sensitive) on `path`, a pattern: `/items/:id` captures one
    /// segment, `/static/*path` the rest. Registering the same pair twice
    /// replaces the earlier route. Panics on a malformed pattern.
    pub fn route(mut self, method: &str, path: &str, route: impl Into<Route>) -> Router {
        let route = route.into();
        let index = match self.paths.iter().position(|p| p.pattern.text() == path) {
            Some(index) => index,
            None => {
                self.paths.push(PathRoutes {
                    pattern: Pattern::parse(path),
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
        let mut seen: Vec<&str> = Vec::new();
        for (method, _) in self.paths.iter().flat_map(|p| p.methods.iter()) {
            if !seen.contains(&method.as_str()) {
                seen.push(method);
            }
        }
        self.allow_any = allow_header(seen.into_iter());
        self
    }

    /// Answers every request whose path no route matches, with any method
    /// (instead of 404).
    pub fn fallback(mut self, route: Route) -> Router {
        self.fallback = Some(route);
        self
    }

    /// Renders the server's own error answers — 400, 404, 405, 408, 413,
    /// 414, 417, 431, 500, 501, 503, 504, 505 — with `page` instead of the
    /// plain `"404 Not Found\n"` (or `"400 Bad Request: missing Host
    /// header\n"`: a page sees the status, not the refusal's reason). The server still adds what the status
    /// requires (`Allow` on a 405, `Retry-After` on a 503).
    pub fn error_page(mut self, page: impl Fn(StatusCode) -> Response + Send + 'static) -> Router {
        self.error_page = Some(Box::new(page));
        self
    }

    /// The error answer for `status`: the error page's, or
    /// [`Response::error`].
    pub(crate) fn error(&self, status: StatusCode) -> Response {
        match &self.error_page {
            Some(page) => page(status),
            None => Response::error(status),
        }
    }

    /// The answer to bytes the decoder refused: the error page's for its
    /// status (a page sees the status only), or [`Response::refusal`],
    /// which names the reason.
    pub(crate) fn refusal(&self, refusal: Refusal) -> Response {
        match &self.error_page {
            Some(page) => page(refusal.status),
            None => Response::refusal(refusal),
        }
    }

    /// The routes' names (their patterns), in index order, the fallback's
    /// last (`(fallback)`).
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .paths
            .iter()
            .map(|p| p.pattern.text().to_string())
            .collect();
        if self.fallback.is_some() {
            names.push("(fallback)".to_string());
        }
        names
    }

    /// True if any route runs on the pool (so the server starts workers).
    pub fn offloads(&self) -> bool {
        let mut routes = self
            .paths
            .iter()
            .flat_map(|p| p.methods.iter().map(|(_, r)| r));
        routes.any(Route::is_offloaded) || self.fallback.as_ref().is_some_and(Route::is_offloaded)
    }

    /// Finds the route for `method` on `path` (and `target`, for `*`).
    /// Literal paths first, then patterns in registration order, then the
    /// fallback.
    pub(crate) fn resolve<'r>(&'r self, method: &str, target: &str, path: &str) -> Resolved<'r> {
        if target == "*" {
            // Only OPTIONS may have this target (http/head.rs refuses the rest).
            return Resolved::Options(None, &self.allow_any);
        }
        let literal = self
            .paths
            .iter()
            .enumerate()
            .filter(|(_, p)| p.pattern.is_literal());
        let patterns = self
            .paths
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.pattern.is_literal());
        let found = literal
            .chain(patterns)
            .find_map(|(index, p)| Some((index, p, p.pattern.matches(path)?)));
        let Some((index, entry, captures)) = found else {
            return match &self.fallback {
                Some(route) => Resolved::Found(self.paths.len(), route, Captures::none()),
                None => Resolved::NotFound,
            };
        };
        // HEAD is answered by the GET route: same status and fields, and
        // the connection leaves the body out (RFC 9110 §9.3.2).
        let method = match method {
            "HEAD" => "GET",
            other => other,
        };
        match entry.methods.iter().find(|(m, _)| m == method) {
            Some((_, route)) => Resolved::Found(index, route, captures),
            None if method == "OPTIONS" => Resolved::Options(Some(index), &entry.allow),
            None => Resolved::MethodNotAllowed(index, &entry.allow),
        }
    }

    /// The body limit for `request`'s route (`default` unless the route
    /// sets one), or the error answer to give instead of reading its body
    /// at all when no route would take it. Asked when a head announces a
    /// body, before any of it is read.
    pub(crate) fn body_limit(
        &self,
        request: &Request,
        default: usize,
    ) -> Result<usize, StatusCode> {
        match self.resolve(&request.method, &request.target, request.path()) {
            Resolved::Found(_, route, _) => Ok(route.max_body.unwrap_or(default)),
            Resolved::NotFound => Err(StatusCode::NOT_FOUND),
            Resolved::MethodNotAllowed(..) => Err(StatusCode::METHOD_NOT_ALLOWED),
            Resolved::Options(..) => Ok(default),
        }
    }

    /// Runs the route `resolved` found for `request`: an inline handler
    /// answers now, an offloaded route's prepare step answers now or
    /// returns its job. A panic in either is caught: a buggy route must not
    /// take the loop (and every other client) down with it.
    pub(crate) fn answer(
        &self,
        resolved: Resolved<'_>,
        request: &Request,
        status: &ServerStatus<'_>,
    ) -> Answer {
        let route = match resolved {
            Resolved::Found(_, route, _) => route,
            Resolved::NotFound => return Answer::Now(self.error(StatusCode::NOT_FOUND)),
            Resolved::MethodNotAllowed(_, allow) => {
                let response = self
                    .error(StatusCode::METHOD_NOT_ALLOWED)
                    .with_header("Allow", allow.to_string());
                return Answer::Now(response);
            }
            // No content: RFC 9110 §9.3.7 asks for `Content-Length: 0`.
            Resolved::Options(_, allow) => {
                let response =
                    Response::new(StatusCode::OK).with_header("Allow", with_options(allow));
                return Answer::Now(response);
            }
        };
        let prepared = panic_report::catch(|| match &route.work {
            Work::Inline(handler) => Answer::Now(handler(request, status)),
            Work::Offload(prepare) => match prepare(request, status) {
                Ok(job) => Answer::Offload(job),
                Err(response) => Answer::Now(response),
            },
            #[cfg(feature = "websocket")]
            Work::WebSocket(route) => match route.answer(request) {
                Ok(upgrade) => Answer::Upgrade(Box::new(upgrade)),
                Err(response) => Answer::Now(response),
            },
        });
        prepared.unwrap_or_else(Answer::Failed)
    }
}

/// Copies what a match captured into the request, for `Request::param`.
pub(crate) fn keep_captures(request: &mut Request, captures: &Captures<'_>) {
    request.params.clear();
    for (name, range) in captures.iter() {
        request.params.push((Arc::clone(name), range));
    }
}

/// `GET, HEAD, POST` — the methods a path's routes accept, in registration
/// order, each once, HEAD implied by GET: the `Allow` of its 405, which
/// the contract fixes at `GET, HEAD` for the demo's paths.
fn allow_header<'a>(methods: impl Iterator<Item = &'a str>) -> String {
    let mut allowed: Vec<&str> = Vec::new();
    let implied = |method| match method {
        "GET" => Some("HEAD"),
        _ => None,
    };
    for method in methods.flat_map(|m| std::iter::once(m).chain(implied(m))) {
        if !allowed.contains(&method) {
            allowed.push(method);
        }
    }
    allowed.join(", ")
}

/// The `Allow` of an OPTIONS answer: the path's list and `OPTIONS` itself.
/// `Allow` "lists the set of methods advertised as supported by the target
/// resource" (RFC 9110 §10.2.1), and the path has just answered OPTIONS: a
/// list that left it out (`GET, HEAD` for `OPTIONS /fast`) told a newcomer
/// something the answer itself contradicted. Off the hot path: an OPTIONS
/// request allocates its answer anyway.
fn with_options(allow: &str) -> String {
    if allow.split(", ").any(|method| method == "OPTIONS") {
        allow.to_string()
    } else if allow.is_empty() {
        "OPTIONS".to_string()
    } else {
        format!("{allow}, OPTIONS")
    }
}

#[cfg(test)]
mod tests {
    use super::{allow_header, with_options};

    #[test]
    fn allow_lists_each_method_once_head_with_get_and_options_answers_add_options() {
        let allow = |methods: &[&str]| allow_header(methods.iter().copied());
        let options = |methods: &[&str]| with_options(&allow(methods));
        assert_eq!(allow(&[]), "");
        assert_eq!(allow(&["GET"]), "GET, HEAD");
        assert_eq!(allow(&["GET", "PUT"]), "GET, HEAD, PUT");
        assert_eq!(allow(&["HEAD", "GET"]), "HEAD, GET");
        assert_eq!(options(&[]), "OPTIONS");
        assert_eq!(options(&["GET"]), "GET, HEAD, OPTIONS");
        // A route that claims OPTIONS is not listed twice.
        assert_eq!(options(&["OPTIONS", "POST"]), "OPTIONS, POST");
    }
}
