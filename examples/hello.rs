//! A user's own app on eddy: one inline route, one offloaded route. `cargo run --example
//! hello`, then `curl 'localhost:8080/hello?name=you'` or `.../sum?to=100000000`.
use eddy::StatusCode as S;
use eddy::{inline, offload, Config, Job, Request, Response, Router, Server, ServerStatus};

/// Inline: runs on the loop thread, so it must be quick.
fn hello(req: &Request, _: &ServerStatus) -> Response {
    let name = req.query_param("name").unwrap_or_else(|| "world".into());
    Response::text(S::OK, format!("hello, {name}\n"))
}

/// Offloaded: checked on the loop; the job runs on a worker thread.
fn sum(req: &Request, _: &ServerStatus) -> Result<Job, Response> {
    let Some(Ok(to)) = req.query_param("to").map(|t| t.parse::<u64>()) else {
        return Err(Response::text(S::BAD_REQUEST, "need ?to=N\n"));
    };
    Ok(Job::new(move |cancel| {
        let mut sum = 0u64;
        for i in 0..=to {
            if i % (1 << 20) == 0 && cancel.is_cancelled() {
                break; // the client left: stop early
            }
            sum = sum.wrapping_add(i);
        }
        Response::text(S::OK, format!("{sum}\n"))
    }))
}

#[allow(clippy::field_reassign_with_default)] // reads better than ..Default
fn main() -> std::io::Result<()> {
    let router = Router::new()
        .get("/hello", inline(hello))
        .get("/sum", offload(sum));
    let mut config = Config::default();
    config.addr = "127.0.0.1:8080".parse().unwrap();
    let server = Server::bind(config, router)?;
    println!("listening on http://{}", server.local_addr().unwrap());
    server.run().map(|_| ())
}
