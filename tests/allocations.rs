//! The `/fast` path allocates nothing per request once warm.
//!
//! This test binary installs a counting global allocator, runs the demo app
//! in-process on an ephemeral port (a thread running `Server::run`), and
//! sends `/fast` requests over one keep-alive connection from a client that
//! itself never allocates (fixed buffers only). After a warm-up — buffers
//! grown to size, the Date header formatted — the heap-allocation count must
//! not move while a thousand more requests are answered, one at a time and
//! pipelined.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};

use eddy::{demo, Config, Exit, Server};

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

const REQUEST: &[u8] = b"GET /fast?id=42 HTTP/1.1\r\nHost: eddy\r\nUser-Agent: alloc-test\r\n\r\n";
const BODY: &[u8] = b"fast result 42";

/// Sends `batch` pipelined requests and reads their `batch` answers, using
/// only the buffers passed in.
fn round_trip(client: &mut TcpStream, batch: usize, out: &mut [u8], inbuf: &mut [u8]) {
    let len = REQUEST.len() * batch;
    for i in 0..batch {
        out[i * REQUEST.len()..(i + 1) * REQUEST.len()].copy_from_slice(REQUEST);
    }
    client.write_all(&out[..len]).unwrap();
    let mut answered = 0;
    let mut filled = 0;
    while answered < batch {
        let n = client.read(&mut inbuf[filled..]).unwrap();
        assert!(n > 0, "server closed the connection");
        filled += n;
        // Each answer ends with the body; count complete ones, keep the rest.
        while let Some(end) = find(&inbuf[..filled], BODY) {
            let head = &inbuf[..end];
            assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"), "not a 200");
            inbuf.copy_within(end + BODY.len()..filled, 0);
            filled -= end + BODY.len();
            answered += 1;
        }
    }
    assert_eq!(filled, 0, "more bytes than answers");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn fast_requests_allocate_nothing_in_steady_state() {
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        workers: 1,
        ..Config::default()
    };
    let server = Server::bind(config, demo::router()).unwrap();
    let addr = server.local_addr().unwrap();
    let handle = server.handle();
    let serving = std::thread::spawn(move || server.run());

    let mut client = TcpStream::connect(addr).unwrap();
    client.set_nodelay(true).unwrap();
    let mut out = vec![0u8; REQUEST.len() * 16];
    let mut inbuf = vec![0u8; 64 * 1024];

    // Warm up: grow every buffer to its working size.
    for _ in 0..200 {
        round_trip(&mut client, 1, &mut out, &mut inbuf);
        round_trip(&mut client, 16, &mut out, &mut inbuf);
    }

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..500 {
        round_trip(&mut client, 1, &mut out, &mut inbuf);
    }
    for _ in 0..32 {
        round_trip(&mut client, 16, &mut out, &mut inbuf);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;

    drop(client);
    handle.shutdown().unwrap();
    assert_eq!(serving.join().unwrap().unwrap(), Exit::Drained);

    // 1012 requests. A per-request allocation anywhere on the path would
    // show as at least 1012 here.
    assert_eq!(
        allocations, 0,
        "allocations during 1012 warm /fast requests"
    );
}
