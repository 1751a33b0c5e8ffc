//! A small HTTP API on eddy: path parameters, methods, a body, a custom 404,
//! an access log with each client's address.
//!
//! ```text
//! cargo run --release --example api -- --addr 127.0.0.1:8080
//! curl localhost:8080/items/42                 # 200 item 42
//! curl -d 'hello' localhost:8080/items         # 201 got 5 bytes
//! curl -X DELETE localhost:8080/items/42       # 204
//! curl localhost:8080/nowhere                  # 404 no such page
//! ```
use std::io::Write;
use std::sync::Arc;

use eddy::{inline, Config, Request, Response, Router, Server, ServerStatus, StatusCode};

/// `GET /items/:id`: the parameter, as the router captured it.
fn item(req: &Request, _: &ServerStatus) -> Response {
    let id = req.param("id").unwrap_or_default();
    Response::text(StatusCode::OK, format!("item {id}"))
}

/// `POST /items`: the body is read whole (up to `Config::max_body`).
fn create(req: &Request, _: &ServerStatus) -> Response {
    Response::text(StatusCode::CREATED, format!("got {} bytes", req.body.len()))
        .with_header("Location", "/items/1")
}

/// `DELETE /items/:id`: no content, so no body and no Content-Length.
fn delete(_: &Request, _: &ServerStatus) -> Response {
    Response::new(StatusCode::NO_CONTENT)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let addr = match args.iter().position(|a| a == "--addr") {
        Some(i) => args.get(i + 1).expect("--addr needs HOST:PORT").clone(),
        None => "127.0.0.1:8080".to_string(),
    };
    let router = Router::new()
        .get("/items/:id", inline(item))
        .post("/items", inline(create))
        .delete("/items/:id", inline(delete))
        // Every other path, and every error the server makes itself.
        .fallback(inline(|_, _| {
            Response::text(StatusCode::NOT_FOUND, "no such page")
        }))
        .error_page(|status| Response::text(status, format!("{}: no such page", status.0)));
    let config = Config {
        addr: addr.parse().expect("--addr must be IP:PORT"),
        // One line per request, nginx's combined format:
        // `127.0.0.1 - - [02/Dec/2026:03:23:39 +0000] "GET /items/42 HTTP/1.1" 200 7 "-" "curl/8.5.0" 0.000050`.
        access_log: Some(Arc::new(|record| {
            let _ = writeln!(std::io::stdout(), "{record}");
        })),
        ..Config::default() // no signals taken: Ctrl-C ends the program
    };
    let server = Server::bind(config, router)?;
    println!("listening on {}", server.listening());
    server.run().map(|_| ())
}
