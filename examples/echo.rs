//! The reactor alone, no HTTP: an echo server on one screen. `cargo run
//! --example echo`, then `nc 127.0.0.1 PORT` (the port is printed first).
//! tests/reactor.rs runs this very handler, turn by turn.
use std::io::{self, Read, Write};

use eddy::reactor::{reserved, Handler, Reactor, TokenId, TokenTable};
use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};

/// The listener's token; every other token is a client in `clients`.
pub const LISTENER: Token = reserved(0);

/// Echoes each client's bytes back to it.
pub struct Echo {
    pub listener: TcpListener,
    pub clients: TokenTable<TcpStream>,
}

impl Handler for Echo {
    type Timer = (); // no timers here
    type Message = (); // nor messages from other threads

    fn ready(&mut self, reactor: &mut Reactor<Self>, token: Token, _: &Event) {
        if token == LISTENER {
            // Edge-triggered: accept until WouldBlock, or the rest wait unseen.
            while let Ok((client, _)) = self.listener.accept() {
                let id = self.clients.insert(client);
                let client = self.clients.get_mut(id).unwrap();
                let _ = reactor
                    .registry()
                    .register(client, id.token(), Interest::READABLE);
            }
            return;
        }
        let id = TokenId::from_token(token);
        let Some(client) = self.clients.get_mut(id) else {
            return;
        };
        let mut buf = [0; 4096];
        loop {
            // A toy: a real server keeps what the socket would not take and
            // asks for WRITABLE (eddy's connections do), instead of dropping
            // the client.
            match client.read(&mut buf) {
                Ok(n) if n > 0 && client.write_all(&buf[..n]).is_ok() => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                _ => return drop(self.clients.remove(id)), // EOF, error: gone
            }
        }
    }
}

#[allow(dead_code)] // tests/reactor.rs includes this file for `Echo` alone
fn main() -> io::Result<()> {
    let mut reactor = Reactor::new()?;
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    reactor
        .registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    println!("listening on {}", listener.local_addr()?);
    let clients = TokenTable::default();
    reactor.run(&mut Echo { listener, clients })
}
