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

/// Implements `Source` for an enum of mio sockets by forwarding each call
/// to the variant's own (through the enum's `source()`): the socket here,
/// and the server's listener (`server/listening.rs`).
macro_rules! source_by_variant {
    ($enum:ty) => {
        impl mio::event::Source for $enum {
            fn register(
                &mut self,
                registry: &mio::Registry,
                token: mio::Token,
                interest: mio::Interest,
            ) -> std::io::Result<()> {
                self.source().register(registry, token, interest)
            }

            fn reregister(
                &mut self,
                registry: &mio::Registry,
                token: mio::Token,
                interest: mio::Interest,
            ) -> std::io::Result<()> {
                self.source().reregister(registry, token, interest)
            }

            fn deregister(&mut self, registry: &mio::Registry) -> std::io::Result<()> {
                self.source().deregister(registry)
            }
        }
    };
}
pub(crate) use source_by_variant;

source_by_variant!(Socket);

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
