//! The listening socket, of either kind: TCP, or a Unix domain socket.
//!
//! Accepting a TCP connection also sets `TCP_NODELAY` on it: answers are
//! written whole, one write per round, so Nagle's algorithm has nothing to
//! gain, and a small answer must not wait for an ACK.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use mio::event::Source;
use mio::net::{TcpListener, UnixListener};

use crate::transport::{source_by_variant, Socket};

/// A listener of either kind.
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// Where a server listens, printable as `http://IP:PORT` or `unix:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listening {
    /// A TCP address, serving HTTP.
    Tcp(SocketAddr),
    /// A TCP address, serving HTTPS.
    Https(SocketAddr),
    /// A Unix socket's path (`None` if unnamed).
    Unix(Option<PathBuf>),
}

impl fmt::Display for Listening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listening::Tcp(addr) => write!(f, "http://{addr}"),
            Listening::Https(addr) => write!(f, "https://{addr}"),
            Listening::Unix(Some(path)) => write!(f, "unix:{}", path.display()),
            Listening::Unix(None) => f.write_str("unix:(unnamed)"),
        }
    }
}

impl Listener {
    /// Where it listens.
    pub(crate) fn listening(&self) -> io::Result<Listening> {
        Ok(match self {
            Listener::Tcp(listener) => Listening::Tcp(listener.local_addr()?),
            Listener::Unix(listener) => {
                Listening::Unix(listener.local_addr()?.as_pathname().map(Into::into))
            }
        })
    }

    /// Accepts one connection: the socket and its peer (`None` over a Unix
    /// socket).
    pub(crate) fn accept(&self) -> io::Result<(Socket, Option<SocketAddr>)> {
        match self {
            Listener::Tcp(listener) => {
                let (socket, peer) = listener.accept()?;
                let _ = socket.set_nodelay(true);
                Ok((Socket::Tcp(socket), Some(peer)))
            }
            Listener::Unix(listener) => {
                let (socket, _) = listener.accept()?;
                Ok((Socket::Unix(socket), None))
            }
        }
    }

    fn source(&mut self) -> &mut dyn Source {
        match self {
            Listener::Tcp(listener) => listener,
            Listener::Unix(listener) => listener,
        }
    }
}

source_by_variant!(Listener);
