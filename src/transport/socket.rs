//! The two kinds of socket a transport carries bytes over: TCP, and Unix
//! domain sockets (`--addr unix:/run/eddy.sock`, for a proxy on the same
//! host).
//!
//! Everything above this file sees one stream type, [`Socket`], an enum
//! that forwards to mio's socket of that kind. A transport needs only
//! `Read + Write + Source` and a half-close ([`Stream`]), which both kinds
//! have — and so does the fuzz harness's scripted stream.

use std::io::{self, Read, Write};

use mio::event::Source;
use mio::net::{TcpStream, UnixStream};
use mio::{Interest, Registry, Token};

/// What a transport runs over: a mio socket in the server, a scripted
/// stream in the fuzzer. `Source`, so the server can register it.
pub(crate) trait Stream: Read + Write + Source {
    /// Sends our FIN (`shutdown(SHUT_WR)`), keeping the read side open.
    fn shutdown_write(&self) -> io::Result<()>;
}

/// An accepted socket of either kind.
pub(crate) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

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

impl Source for Socket {
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

impl Stream for Socket {
    fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Socket::Tcp(socket) => socket.shutdown(std::net::Shutdown::Write),
            Socket::Unix(socket) => socket.shutdown(std::net::Shutdown::Write),
        }
    }
}

impl Stream for TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}
