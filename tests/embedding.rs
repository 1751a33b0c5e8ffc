//! eddy as a library, in-process, over real sockets: routes with
//! parameters, rests, methods, a fallback and an error page; what a handler
//! sees of the request (its peer, its fields); per-route body limits; the
//! response's fields; stopping the server from a handler and from a job;
//! and `Expect: 100-continue` answered at once when no route would serve.

mod common;

use common::Client;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use eddy::{inline, offload, Config, Exit, Job, Response, Router, StatusCode};

/// Serves `router` on an ephemeral port, on a thread.
fn serve(router: Router) -> (SocketAddr, JoinHandle<std::io::Result<Exit>>) {
    serve_with(router, Config::default())
}

fn serve_with(router: Router, config: Config) -> (SocketAddr, JoinHandle<std::io::Result<Exit>>) {
    let served = common::serve_in_process(
        router,
        Config {
            workers: 1,
            ..config
        },
    );
    (served.addr, served.serving)
}

fn text(status: u16, body: &str) -> Response {
    Response::text(StatusCode(status), body.to_string())
}

#[test]
fn parameters_rests_methods_fallback_and_error_page() {
    let router = Router::new()
        .get("/items/new", inline(|_, _| text(200, "the form")))
        .get(
            "/items/:id",
            inline(|req, _| text(200, &format!("item {}", req.param("id").unwrap()))),
        )
        .put("/items/:id", inline(|_, _| text(200, "put")))
        .get(
            "/static/*path",
            inline(|req, _| text(200, &format!("file {}", req.param("path").unwrap()))),
        )
        .route("PURGE", "/cache", inline(|_, _| text(200, "purged")))
        .fallback(inline(|req, _| {
            text(404, &format!("nothing at {}", req.path()))
        }))
        .error_page(|status| text(status.0, &format!("[{}]", status.0)));
    let (addr, _) = serve(router);
    let mut c = Client::connect(addr);
    // A literal path wins over a pattern, whatever the order.
    assert_eq!(c.get("/items/new").text(), "the form");
    assert_eq!(c.get("/items/42").text(), "item 42");
    assert_eq!(
        c.get("/items/caf%C3%A9").text(),
        "item café",
        "parameters are decoded"
    );
    assert_eq!(c.get("/static/css/site.css").text(), "file css/site.css");
    c.send(b"HEAD /items/7 HTTP/1.1\r\nHost: a\r\n\r\n");
    let head = c.head_response();
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("6"))
    );
    c.send(b"PURGE /cache HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(c.response().text(), "purged");
    let r = c.get("/nowhere/at/all");
    assert_eq!(
        (r.status, r.text().as_str()),
        (404, "nothing at /nowhere/at/all")
    );
    // The server's own errors use the page, and keep what they must carry.
    c.send(b"DELETE /items/7 HTTP/1.1\r\nHost: a\r\n\r\n");
    let r = c.response();
    assert_eq!((r.status, r.text().as_str()), (405, "[405]"));
    assert_eq!(r.header("allow"), Some("GET, HEAD, PUT, OPTIONS"));
    let mut bad = Client::connect(addr);
    bad.send(b"asdf\r\n\r\n");
    assert_eq!(bad.assert_error(400).text(), "[400]");
}

#[test]
fn a_handler_sees_the_peer_the_fields_and_the_body() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = Arc::clone(&seen);
    let router = Router::new().post(
        "/echo",
        inline(move |req, _| {
            let fields: Vec<String> = req
                .headers()
                .map(|(name, value)| format!("{name}={}", String::from_utf8_lossy(value)))
                .collect();
            keep.lock()
                .unwrap()
                .push(format!("{:?} {}", req.peer, fields.join(";")));
            Response::text(StatusCode::OK, req.body.clone())
        }),
    );
    let (addr, _) = serve(router);
    let mut c = Client::connect(addr);
    c.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nX-One: 1\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(c.response().text(), "abc");
    let me = c.stream.local_addr().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0],
        format!("Some({me}) Host=a;X-One=1;Content-Length=3")
    );
}

#[test]
fn a_route_may_lower_or_raise_the_body_limit() {
    let len = |req: &eddy::Request, _: &eddy::ServerStatus| text(200, &req.body.len().to_string());
    let router = Router::new()
        .post("/small", inline(len).max_body(10))
        .post("/upload", inline(len).max_body(3 << 20))
        .post("/default", inline(len));
    let config = Config {
        max_body: 1 << 20,
        ..Config::default()
    };
    let (addr, _) = serve_with(router, config);
    let post = |path: &str, n: usize| {
        let mut c = Client::connect(addr);
        let head = format!("POST {path} HTTP/1.1\r\nHost: a\r\nContent-Length: {n}\r\n\r\n");
        c.send(head.as_bytes());
        let _ = c.stream.write_all(&vec![b'x'; n]);
        c.response()
    };
    assert_eq!(post("/small", 10).text(), "10");
    assert_eq!(post("/small", 11).status, 413);
    assert_eq!(post("/default", (1 << 20) + 1).status, 413);
    assert_eq!(post("/upload", 2 << 20).text(), (2 << 20).to_string());
}

#[test]
fn response_fields_replace_and_the_server_field_can_go() {
    let router = Router::new()
        .get(
            "/json",
            inline(|_, _| {
                text(200, "{}")
                    .with_content_type("application/json")
                    .with_header("X-Twice", "first")
                    .with_header("x-twice", String::from("second"))
                    .with_header("Server", "mine/2")
            }),
        )
        .get(
            "/bare",
            inline(|_, _| text(200, "bare").without_header("Server")),
        );
    let (addr, _) = serve(router);
    let mut c = Client::connect(addr);
    let r = c.get("/json");
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.eq_ignore_ascii_case("content-type"))
            .count(),
        1
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-twice"), Some("second"));
    assert_eq!(
        names
            .iter()
            .filter(|n| n.eq_ignore_ascii_case("x-twice"))
            .count(),
        1
    );
    assert_eq!(r.header("server"), Some("mine/2"));
    assert_eq!(c.get("/bare").header("server"), None);
}

#[test]
fn a_handler_can_stop_the_server() {
    let router = Router::new().post(
        "/admin/stop",
        inline(|_, status| {
            status.handle().shutdown().unwrap();
            text(202, "stopping")
        }),
    );
    let (addr, serving) = serve(router);
    let mut c = Client::connect(addr);
    c.send(b"POST /admin/stop HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    let r = c.response();
    assert_eq!((r.status, r.text().as_str()), (202, "stopping"));
    drop(c);
    assert_eq!(serving.join().unwrap().unwrap(), Exit::Drained);
}

#[test]
fn a_job_can_stop_the_server() {
    let router = Router::new().post(
        "/admin/stop-later",
        offload(|_, status| {
            let handle = status.handle(); // a clone the job takes along
            Ok(Job::new(move |_| {
                handle.shutdown().unwrap();
                text(202, "stopping from a worker")
            }))
        }),
    );
    let (addr, serving) = serve(router);
    let mut c = Client::connect(addr);
    c.send(b"POST /admin/stop-later HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    let r = c.response();
    assert_eq!(r.text(), "stopping from a worker");
    assert!(r.closes(), "answered during the drain: {r:?}");
    drop(c);
    assert_eq!(serving.join().unwrap().unwrap(), Exit::Drained);
}

#[test]
fn expect_100_continue_gets_the_final_answer_when_no_route_serves() {
    let router = Router::new().post("/upload", inline(|_, _| text(200, "stored")));
    let (addr, _) = serve(router);
    for (target, method, status) in [("/nowhere", "POST", 404), ("/upload", "PUT", 405)] {
        let mut c = Client::connect(addr);
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1048576\r\n\r\n"
        );
        c.send(head.as_bytes());
        // No `100 Continue`: the final answer, at once, and the close (the
        // body is never wanted).
        let r = c.assert_error(status);
        assert_ne!(r.status, 100);
    }
    // A request the route serves still gets its 100 first.
    let mut c = Client::connect(addr);
    c.send(
        b"POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
    );
    let interim = common::read_response(&mut c.reader, true).unwrap();
    assert_eq!(interim.status, 100);
    c.send(b"ok");
    assert_eq!(c.response().text(), "stored");
}
