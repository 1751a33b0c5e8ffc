//! An app served over HTTPS, its certificate read from PEM files — or, for
//! a certificate of your own making (client certificates, a resolver), a
//! `rustls::ServerConfig` through `TlsConfig::from_rustls`.
//!
//!     cargo run --example https -- --addr 127.0.0.1:8443 CERT.pem KEY.pem
//!     curl --cacert CA.pem https://localhost:8443/hello
//!
//! A certificate or key that cannot be used is named, with the reason,
//! before anything binds (exit 2).
use eddy::{inline, Config, Response, Router, Server, StatusCode, TlsConfig};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:8443".to_string();
    let mut files = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().expect("--addr needs HOST:PORT"),
            _ => files.push(arg),
        }
    }
    let [cert, key] = &files[..] else {
        eprintln!("usage: https [--addr HOST:PORT] CERT.pem KEY.pem");
        std::process::exit(2);
    };
    let tls = TlsConfig::from_pem_files(cert, key).unwrap_or_else(|e| {
        eprintln!("https: {e}");
        std::process::exit(2);
    });
    let router = Router::new().get(
        "/hello",
        inline(|_req, _status| Response::text(StatusCode::OK, "hello over TLS\n")),
    );
    let config = Config {
        addr: addr.parse().expect("--addr must be IP:PORT"),
        tls: Some(tls),
        ..Config::default()
    };
    let server = Server::bind(config, router)?;
    println!("listening on {}", server.listening()); // https://IP:PORT
    server.run().map(|_| ())
}
