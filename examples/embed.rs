//! eddy inside a program that has its own life: the server runs on a
//! thread, reports through the host's logging (here, a list it prints at
//! the end), takes no signal, and is stopped from code. `cargo run
//! --example embed`.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};

use eddy::{inline, Config, Response, Router, Server, StatusCode};

fn main() -> std::io::Result<()> {
    // The host's own log: eddy's access records and events land here.
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let (access, events) = (Arc::clone(&log), Arc::clone(&log));
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        access_log: Some(Arc::new(move |r| {
            access.lock().unwrap().push(format!("access {r}"))
        })),
        events: Some(Arc::new(move |e| {
            events.lock().unwrap().push(format!("event {e}"))
        })),
        workers: 1,
        ..Config::default() // and by default: no signals, nothing printed
    };
    let router = Router::new().get(
        "/status",
        inline(|_, status| {
            let open = status.open_connections();
            Response::text(StatusCode::OK, format!("{open} connection(s) open"))
        }),
    );
    let server = Server::bind(config, router)?;
    let addr = server.local_addr().expect("a TCP address");
    let handle = server.handle();
    let serving = std::thread::spawn(move || server.run());

    // The host goes about its business; here, it asks its server once.
    let mut client = TcpStream::connect(addr)?;
    client.write_all(b"GET /status HTTP/1.1\r\nHost: host\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    client.read_to_string(&mut answer)?;
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    println!("host: /status says {body:?}");
    drop(client);

    // Then it stops it, from code, and waits for the drain.
    handle.shutdown().expect("the server is running");
    let exit = serving.join().expect("the server thread")?;
    println!("host: server stopped ({exit:?})");
    for line in log.lock().unwrap().iter() {
        println!("host log: {line}");
    }
    Ok(())
}
