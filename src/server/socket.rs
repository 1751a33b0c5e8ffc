//! The two kinds of socket the server speaks HTTP over: TCP, and Unix
//! domain sockets (`--addr unix:/run/eddy.sock`, for a proxy on the same
//! host).
//!
//! Everything above this file sees one listener type and one stream type;
//! each is an enum that forwards to mio's socket of that kind. The
//! connection layer needs only `Read + Write + Source` and a half-close
//! (`connection::Stream`), which both kinds have.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};

use crate::connection::Stream;

/// A listening socket.
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// An accepted connection's socket.
pub(crate) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// Where a server listens, as its `listening on` line says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listening {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix domain socket's path (`None` for an unnamed one).
    Unix(Option<PathBuf>),
}

impl fmt::Display for Listening {
    /// `http://127.0.0.1:8888`, or `unix:/run/eddy.sock`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listening::Tcp(addr) => write!(f, "http://{addr}"),
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

    /// Accepts one connection, with the client's address if it has one.
    pub(crate) fn accept(&self) -> io::Result<(Socket, Option<SocketAddr>)> {
        match self {
            Listener::Tcp(listener) => {
                let (socket, peer) = listener.accept()?;
                // Responses are written whole, one write per batch: nothing
                // to gain from Nagle's algorithm, and a small answer must
                // not wait for an ACK.
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

/// `Source` for an enum over mio's TCP and Unix types: each call goes to
/// the variant's own `Source`, which its `source()` method picks.
macro_rules! source_by_variant {
    ($enum:ty) => {
        impl Source for $enum {
            fn register(
                &mut self,
                registry: &Registry,
                token: Token,
                interest: Interest,
            ) -> io::Result<()> {
                self.source().register(registry, token, interest)
            }

            fn reregister(
                &mut self,
                registry: &Registry,
                token: Token,
                interest: Interest,
            ) -> io::Result<()> {
                self.source().reregister(registry, token, interest)
            }

            fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
                self.source().deregister(registry)
            }
        }
    };
}

source_by_variant!(Listener);

impl Socket {
    fn source(&mut self) -> &mut dyn Source {
        match self {
            Socket::Tcp(socket) => socket,
            Socket::Unix(socket) => socket,
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(socket) => socket.read(buf),
            Socket::Unix(socket) => socket.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(socket) => socket.write(buf),
            Socket::Unix(socket) => socket.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(()) // nothing is buffered here
    }
}

source_by_variant!(Socket);

impl Stream for Socket {
    fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Socket::Tcp(socket) => socket.shutdown(std::net::Shutdown::Write),
            Socket::Unix(socket) => socket.shutdown(std::net::Shutdown::Write),
        }
    }
}
