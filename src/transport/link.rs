//! The transport a server's connection runs over: plain, or TLS (with the
//! `tls` feature). One `match` per method, here and nowhere else; each arm
//! is the whole of that transport's behaviour, in its own file.

use std::time::Instant;

use mio::event::Source;

use super::{Buffers, Life, Plain, Security, Socket, TlsNews, Transport};
#[cfg(feature = "tls")]
use super::{HandshakeStep, Tls};

/// A plain or a TLS transport over an accepted socket.
pub(crate) enum Link {
    Plain(Plain<Socket>),
    #[cfg(feature = "tls")]
    Tls(Box<Tls<Socket>>),
}

/// Forwards a call to whichever transport the link is.
macro_rules! each {
    ($link:expr, $t:ident => $call:expr) => {
        match $link {
            Link::Plain($t) => $call,
            #[cfg(feature = "tls")]
            Link::Tls($t) => $call,
        }
    };
}

impl Link {
    /// What a TLS link has to tell the counters since the last look
    /// (nothing, for a plain one).
    pub(crate) fn take_news(&mut self) -> TlsNews {
        match self {
            Link::Plain(_) => TlsNews::default(),
            #[cfg(feature = "tls")]
            Link::Tls(tls) => tls.take_news(),
        }
    }

    /// A handshake flight to process off the loop, if a TLS link let its
    /// session go since the last look (`tls.rs`, [`HandshakeStep`]).
    #[cfg(feature = "tls")]
    pub(crate) fn take_handshake_step(&mut self) -> Option<HandshakeStep> {
        match self {
            Link::Plain(_) => None,
            Link::Tls(tls) => tls.take_handshake_step(),
        }
    }

    /// A processed flight back from its handshake thread.
    #[cfg(feature = "tls")]
    pub(crate) fn resume(&mut self, step: HandshakeStep) {
        if let Link::Tls(tls) = self {
            tls.resume(step);
        }
    }
}

impl Transport for Link {
    fn source(&mut self) -> &mut dyn Source {
        each!(self, t => t.source())
    }

    fn note_readiness(&mut self, readable: bool, writable: bool, closed: bool) {
        each!(self, t => t.note_readiness(readable, writable, closed))
    }

    fn read(&mut self, scratch: &mut [u8], limit: usize) -> usize {
        each!(self, t => t.read(scratch, limit))
    }

    fn write(&mut self) -> usize {
        each!(self, t => t.write())
    }

    fn finish(&mut self, scratch: &mut [u8], ends: Instant) {
        each!(self, t => t.finish(scratch, ends))
    }

    fn discard(&mut self, scratch: &mut [u8]) {
        each!(self, t => t.discard(scratch))
    }

    fn close(&mut self) {
        each!(self, t => t.close())
    }

    fn life(&self) -> Life {
        each!(self, t => t.life())
    }

    fn buffers(&mut self) -> &mut Buffers {
        each!(self, t => t.buffers())
    }

    fn buffers_ref(&self) -> &Buffers {
        each!(self, t => t.buffers_ref())
    }

    fn may_read(&self) -> bool {
        each!(self, t => t.may_read())
    }

    fn may_write(&self) -> bool {
        each!(self, t => t.may_write())
    }

    fn wants_write(&self) -> bool {
        each!(self, t => t.wants_write())
    }

    fn security(&self) -> Security {
        each!(self, t => t.security())
    }
}
