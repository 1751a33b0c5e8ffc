//! The `/fast` path allocates nothing per request once warm, and neither
//! does routing by a pattern (`/items/:id`).
//!
//! This test binary installs a counting global allocator, runs an app
//! in-process on an ephemeral port (a thread running `Server::run`), and
//! sends requests over one keep-alive connection from a client that itself
//! never allocates (fixed buffers only). After a warm-up — buffers grown to
//! size, the Date header formatted — the heap-allocation count must not move
//! while a thousand more requests are answered, one at a time and pipelined.
//! (The two tests share one counter, so they take turns: `SERIAL`.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use eddy::{demo, inline, Config, Exit, Response, Router, Server, StatusCode};

/// One test at a time: the counter sees every thread's allocations.
static SERIAL: Mutex<()> = Mutex::new(());

/// Counts every allocation (and reallocation) made by any thread.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A request to send over and over, and the body that ends its answer.
#[derive(Clone, Copy)]
struct Exchange {
    request: &'static [u8],
    body: &'static [u8],
}

const FAST: Exchange = Exchange {
    request: b"GET /fast?id=42 HTTP/1.1\r\nHost: eddy\r\nUser-Agent: alloc-test\r\n\r\n",
    body: b"fast result 42",
};

const ITEM: Exchange = Exchange {
    request: b"GET /items/42 HTTP/1.1\r\nHost: eddy\r\nUser-Agent: alloc-test\r\n\r\n",
    body: b"an item",
};

/// Sends `batch` pipelined requests and reads their `batch` answers, using
/// only the buffers passed in.
fn round_trip(
    client: &mut TcpStream,
    ex: Exchange,
    batch: usize,
    out: &mut [u8],
    inbuf: &mut [u8],
) {
    let (request, body) = (ex.request, ex.body);
    let len = request.len() * batch;
    for i in 0..batch {
        out[i * request.len()..(i + 1) * request.len()].copy_from_slice(request);
    }
    client.write_all(&out[..len]).unwrap();
    let mut answered = 0;
    let mut filled = 0;
    while answered < batch {
        let n = client.read(&mut inbuf[filled..]).unwrap();
        assert!(n > 0, "server closed the connection");
        filled += n;
        // Each answer ends with the body; count complete ones, keep the rest.
        while let Some(end) = find(&inbuf[..filled], body) {
            let head = &inbuf[..end];
            assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "not a 200");
            inbuf.copy_within(end + body.len()..filled, 0);
            filled -= end + body.len();
            answered += 1;
        }
    }
    assert_eq!(filled, 0, "more bytes than answers");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Serves `router`, warms the connection up with `ex`, and returns the
/// allocations made while 1012 more are answered.
fn warm_allocations(router: Router, ex: Exchange) -> usize {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        workers: 1,
        ..Config::default()
    };
    let server = Server::bind(config, router).unwrap();
    let addr = server.local_addr().unwrap();
    let handle = server.handle();
    let serving = std::thread::spawn(move || server.run());

    let mut client = TcpStream::connect(addr).unwrap();
    client.set_nodelay(true).unwrap();
    let mut out = vec![0u8; ex.request.len() * 16];
    let mut inbuf = vec![0u8; 64 * 1024];

    // Warm up: grow every buffer to its working size.
    for _ in 0..200 {
        round_trip(&mut client, ex, 1, &mut out, &mut inbuf);
        round_trip(&mut client, ex, 16, &mut out, &mut inbuf);
    }

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..500 {
        round_trip(&mut client, ex, 1, &mut out, &mut inbuf);
    }
    for _ in 0..32 {
        round_trip(&mut client, ex, 16, &mut out, &mut inbuf);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;

    drop(client);
    handle.shutdown().unwrap();
    assert_eq!(serving.join().unwrap().unwrap(), Exit::Drained);
    allocations
}

#[test]
fn fast_requests_allocate_nothing_in_steady_state() {
    // 1012 requests. A per-request allocation anywhere on the path would
    // show as at least 1012 here.
    let allocations = warm_allocations(demo::router(), FAST);
    assert_eq!(
        allocations, 0,
        "allocations during 1012 warm /fast requests"
    );
}

#[test]
fn routing_by_a_pattern_allocates_nothing() {
    // A literal route first, so the pattern is reached by falling through;
    // the handler reads its parameter (a borrow: `42` needs no decoding).
    let router = Router::new()
        .get(
            "/items",
            inline(|_, _| Response::text(StatusCode::OK, "list")),
        )
        .get(
            "/items/:id",
            inline(|req, _| {
                assert_eq!(req.param("id").as_deref(), Some("42"));
                Response::text(StatusCode::OK, "an item")
            }),
        );
    let allocations = warm_allocations(router, ITEM);
    assert_eq!(
        allocations, 0,
        "allocations during 1012 warm /items/42 requests"
    );
}
