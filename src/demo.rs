//! The seed's demo app, built only from eddy's public API.
//!
//! Public for the `eddy` binary and the tests ([`router`], [`MAX_N`]), and
//! hidden from the docs: an embedder does not serve it.
//!
//! | route              | where it runs                  | answer                         |
//! |--------------------|--------------------------------|--------------------------------|
//! | `/fast`            | inline, on the loop            | `fast result ID`               |
//! | `/slow`            | inline — *blocks the loop*     | `slow result ID <--- 1.234 s`  |
//! | `/slow_threaded`   | offloaded to the worker pool   | same                           |
//! | `/fail`            | offloaded; the job panics      | 500 naming the panic           |
//! | `/healthz`         | inline                         | `ok`, or 503 `draining`        |
//! | `/metrics`         | inline                         | Prometheus text format         |
//! | `/`, `/index.html` | inline                         | the live page (`page.rs`)      |
//! | `/ws`              | a WebSocket: echo on the loop, `heavy N` on the pool | (`ws.rs`) |
//!
//! `/slow` is wrong on purpose: it is the seed question's baseline, where a
//! CPU-heavy handler holds every other client up. `/slow_threaded` is the
//! same work done right. The page at `/` runs both in a browser and plots
//! what they do to `/fast`.

use std::borrow::Cow;
use std::hint::black_box;
use std::time::{Duration, Instant};

use num_bigint::BigUint;

use crate::cancel::CancelToken;
use crate::http::{Request, Response, StatusCode};
use crate::job::Job;
use crate::router::{inline, offload, Router};
use crate::status::ServerStatus;

mod page;
#[cfg(feature = "websocket")]
mod ws;

/// `n` when the request gives none: the seed's `range(2000)`.
pub(crate) const DEFAULT_N: u32 = 2000;
/// The largest `n` accepted; about a second or more of CPU per job.
pub const MAX_N: u32 = 20_000;

/// The demo app's routes.
pub fn router() -> Router {
    let router = Router::new()
        .get("/fast", inline(fast))
        .get("/slow", inline(slow))
        .get("/slow_threaded", offload(slow_threaded))
        .get("/fail", offload(fail))
        .get("/healthz", inline(healthz))
        .get("/metrics", inline(metrics))
        .get("/", inline(page::page))
        .get("/index.html", inline(page::page));
    #[cfg(feature = "websocket")]
    let router = router.get("/ws", crate::router::websocket(|_| Ok(ws::Echo)));
    router
}

/// Prometheus text format, version 0.0.4 (the content type says so).
fn metrics(_: &Request, status: &ServerStatus) -> Response {
    Response::text(StatusCode::OK, status.prometheus())
        .with_content_type("text/plain; version=0.0.4; charset=utf-8")
        .with_header("Cache-Control", NOW_ONLY)
}

/// `/metrics` and `/healthz` say how the server is *now*: a cache between
/// it and the asker (redbot points out one may keep either, as neither
/// says otherwise) would answer a probe with a stale health.
const NOW_ONLY: &str = "no-store";

fn fast(request: &Request, _: &ServerStatus) -> Response {
    // format_args! into the response's inline body: no allocation.
    match id(request) {
        Ok(id) => Response::format(StatusCode::OK, format_args!("fast result {id}")),
        Err(bad) => bad,
    }
}

/// The blocking baseline: heavy work right on the loop thread.
fn slow(request: &Request, _: &ServerStatus) -> Response {
    match (id(request), n(request)) {
        (Ok(id), Ok(n)) => slow_answer(&id, n, &CancelToken::new()),
        (Err(bad), _) | (_, Err(bad)) => bad,
    }
}

/// The same work, prepared on the loop and run on a worker.
fn slow_threaded(request: &Request, _: &ServerStatus) -> Result<Job, Response> {
    let id = id(request)?.into_owned(); // the job outlives the request
    let n = n(request)?;
    Ok(Job::new(move |cancel| slow_answer(&id, n, cancel)))
}

/// A job that panics, to show that a panic costs one 500 and nothing else.
fn fail(request: &Request, _: &ServerStatus) -> Result<Job, Response> {
    let id = id(request)?.into_owned();
    Ok(Job::new(move |_| panic!("job {id} failed on purpose")))
}

fn healthz(_: &Request, status: &ServerStatus) -> Response {
    let answer = if status.draining() {
        Response::text(StatusCode(503), "draining")
    } else {
        Response::text(StatusCode(200), "ok")
    };
    answer.with_header("Cache-Control", NOW_ONLY)
}

fn slow_answer(id: &str, n: u32, cancel: &CancelToken) -> Response {
    match heavy_lifting(n, cancel) {
        Some(took) => Response::text(
            StatusCode(200),
            format!("slow result {id} <--- {:.3} s", took.as_secs_f64()),
        ),
        // Nobody is waiting for this answer any more.
        None => Response::text(StatusCode(503), "cancelled"),
    }
}

/// The `id` query parameter; missing or empty is a 400.
fn id(request: &Request) -> Result<Cow<'_, str>, Response> {
    match request.query_param("id") {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(Response::text(StatusCode(400), "missing id\n")),
    }
}

/// The `n` query parameter: absent means [`DEFAULT_N`]; not a number in
/// `0..=MAX_N` is a 400.
fn n(request: &Request) -> Result<u32, Response> {
    let Some(text) = request.query_param("n") else {
        return Ok(DEFAULT_N);
    };
    match text.parse::<u32>() {
        Ok(n) if n <= MAX_N => Ok(n),
        _ => Err(Response::text(
            StatusCode(400),
            format!("n must be a whole number from 0 to {MAX_N}\n"),
        )),
    }
}

/// The seed's "heavy lifting": `k!` for every `k` in `0..n`, each computed
/// on its own (as `for k in range(2000): math.factorial(k)`), checking
/// `cancel` between factorials. Returns the time it took, or `None` if it
/// was cancelled.
pub(crate) fn heavy_lifting(n: u32, cancel: &CancelToken) -> Option<Duration> {
    let started = Instant::now();
    for k in 0..n {
        if cancel.is_cancelled() {
            return None;
        }
        // black_box: the result is unused, and the optimiser must not know.
        black_box(factorial(k));
    }
    Some(started.elapsed())
}

/// `k!` by binary splitting, the way CPython's `math.factorial` works.
///
/// 1. Pack the factors into machine words: consecutive factors are
///    multiplied in a `u64` until the next one would overflow it, so the
///    big-number arithmetic sees ~5 times fewer, fuller operands.
/// 2. Take the factors of two out first (each `x` becomes `x >> tz`) and put
///    them back at the end as one shift: the products stay smaller, and a
///    shift is nearly free.
/// 3. Multiply the words as a balanced tree, so the big multiplications are
///    between numbers of similar size, where num-bigint's Karatsuba and
///    Toom-3 pay off (a left-to-right loop multiplies an ever larger number
///    by a small one `k` times: quadratic).
pub(crate) fn factorial(k: u32) -> BigUint {
    let mut words = Vec::new();
    let mut word: u64 = 1;
    let mut twos: u64 = 0;
    for x in 2..=u64::from(k) {
        let zeros = x.trailing_zeros();
        twos += u64::from(zeros);
        let odd = x >> zeros;
        match word.checked_mul(odd) {
            Some(product) => word = product,
            None => {
                words.push(word);
                word = odd;
            }
        }
    }
    words.push(word);
    product(&words) << twos
}

/// Below this many words, multiplying one after another (in place, by a
/// machine word each time) beats splitting further: the operands are still
/// small, and every tree node would cost an allocation. Measured on this
/// repository's 2-core machine: 32 words made `heavy_lifting(2000)` about a
/// third faster than splitting down to pairs.
const LEAF_WORDS: usize = 32;

/// The product of `words` (1 for none).
fn product(words: &[u64]) -> BigUint {
    if words.len() <= LEAF_WORDS {
        let mut acc = BigUint::from(1u32);
        for &word in words {
            acc *= word;
        }
        return acc;
    }
    let (low, high) = words.split_at(words.len() / 2);
    product(low) * product(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factorials_are_right() {
        assert_eq!(factorial(0), BigUint::from(1u32));
        assert_eq!(factorial(1), BigUint::from(1u32));
        assert_eq!(factorial(5), BigUint::from(120u32));
        assert_eq!(factorial(20), BigUint::from(2_432_902_008_176_640_000u64));
        // Compare with the plain loop, at sizes where the tree has depth.
        for k in [21, 33, 100, 257, 2000, 5000] {
            let mut plain = BigUint::from(1u32);
            for x in 1..=k {
                plain *= x;
            }
            assert_eq!(factorial(k), plain, "{k}!");
        }
    }

    #[test]
    fn heavy_lifting_stops_when_cancelled() {
        let cancel = CancelToken::new();
        assert!(heavy_lifting(50, &cancel).is_some());
        cancel.cancel();
        assert_eq!(heavy_lifting(MAX_N, &cancel), None);
    }
}
