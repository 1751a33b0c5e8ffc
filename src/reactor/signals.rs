//! SIGINT and SIGTERM (and SIGHUP, on a pipe of its own) as ordinary loop
//! events (the self-pipe trick).
//!
//! A signal handler may run between any two instructions of the loop, so it
//! can do almost nothing safely: no locks, no allocation, certainly not "begin
//! a graceful shutdown". The classic answer is the *self-pipe trick*: at
//! startup, make a connected pair of sockets, register the read end in the
//! `Poll` like any client socket, and have the handler do one thing — write a
//! byte to the write end (`write` is async-signal-safe). To the loop, a
//! signal then looks exactly like a readable socket, and it handles it in the
//! same place and order as everything else.
//!
//! signal-hook's `low_level::pipe::register` installs exactly that handler
//! (it writes one byte, never blocking), so eddy only owns the pair and the
//! reading.

use std::io::{self, Read};
use std::os::unix::net::UnixStream as StdUnixStream;

use mio::net::UnixStream;
use mio::{Interest, Registry, Token};
use signal_hook::low_level::pipe;
use signal_hook::SigId;

/// The read end of the signal pipe, registered in the loop's `Poll`.
pub(super) struct SignalPipe {
    read_end: UnixStream,
    /// The installed handlers, removed again when the pipe is dropped so an
    /// embedding program gets its default signal behaviour back.
    handlers: Vec<SigId>,
}

impl SignalPipe {
    /// Installs handlers for `signals` that write to a fresh pipe, and
    /// registers its read end under `token`.
    pub(super) fn install(
        registry: &Registry,
        token: Token,
        signals: &[i32],
    ) -> io::Result<SignalPipe> {
        let (read_end, write_end) = StdUnixStream::pair()?;
        read_end.set_nonblocking(true)?;
        let mut read_end = UnixStream::from_std(read_end);
        registry.register(&mut read_end, token, Interest::READABLE)?;
        let mut handlers = Vec::new();
        for &signal in signals {
            handlers.push(pipe::register(signal, write_end.try_clone()?)?);
        }
        Ok(SignalPipe { read_end, handlers })
    }

    /// Reads every pending byte (the pipe is edge-triggered like every other
    /// source: read until `WouldBlock`) and returns how many signals arrived.
    pub(super) fn drain(&mut self) -> usize {
        let mut count = 0;
        let mut buf = [0u8; 64];
        loop {
            match self.read_end.read(&mut buf) {
                Ok(0) => return count,
                Ok(n) => count += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return count, // WouldBlock: drained.
            }
        }
    }
}

impl Drop for SignalPipe {
    fn drop(&mut self) {
        for id in self.handlers.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
