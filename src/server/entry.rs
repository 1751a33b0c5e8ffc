//! A connection as the server holds it: the connection, and what the loop
//! has of it — the interest registered for its socket, and the timer that
//! stands for its deadline.
//!
//! The connection never touches the loop; after each drive the server calls
//! [`Entry::sync`], which re-registers the socket if the interest changed
//! (a syscall saved per wake when it did not) and arms the deadline's timer.
//!
//! Lazy re-arming: a keep-alive connection pushes its idle deadline back
//! after every request, and moving its timer in the tree each time would
//! cost a removal, an insertion and often an allocation per request. So the
//! armed timer is kept as long as it fires no *later* than the deadline;
//! when it fires early, the connection finds its deadline not yet due
//! (`Expiry::NotYet`) and `sync` arms a timer for the real one. Only a
//! deadline *earlier* than the armed timer replaces it. With no deadline,
//! an armed timer is left to fire into nothing: cheaper than cancelling it
//! now and arming again soon.

use std::io;

use mio::Interest;

use super::ConnId;
use crate::connection::Connection;
use crate::reactor::{Handler, Reactor, TimerKey};
use crate::transport::Link;

/// The transport the server's connections run over: plain or TLS.
pub(crate) type ServerConnection = Connection<Link>;

/// What a connection's deadline timer carries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeadlineOf(pub(crate) ConnId);

/// One connection in the server's table.
pub(crate) struct Entry {
    conn: ServerConnection,
    /// The interest registered with the poll.
    registered: Interest,
    /// The timer armed for the connection's deadline (it may fire earlier
    /// than the deadline; see the module doc).
    timer: Option<TimerKey>,
}

impl Entry {
    /// A freshly accepted connection, not registered yet.
    pub(crate) fn new(conn: ServerConnection) -> Entry {
        Entry {
            conn,
            registered: Interest::READABLE,
            timer: None,
        }
    }

    /// Registers its socket for `READABLE` under `id`, its place in the
    /// table.
    pub(crate) fn register<H: Handler>(
        &mut self,
        reactor: &mut Reactor<H>,
        id: ConnId,
    ) -> io::Result<()> {
        reactor
            .registry()
            .register(self.conn.source(), id.token(), Interest::READABLE)
    }

    /// The connection.
    pub(crate) fn conn(&mut self) -> &mut ServerConnection {
        &mut self.conn
    }

    /// The connection, to look at.
    pub(crate) fn conn_ref(&self) -> &ServerConnection {
        &self.conn
    }

    /// After a drive: the interest and the deadline's timer the connection
    /// now calls for. An error registering means the socket is unusable:
    /// the caller closes it.
    pub(crate) fn sync<H>(&mut self, reactor: &mut Reactor<H>, id: ConnId) -> io::Result<()>
    where
        H: Handler,
        H::Timer: From<DeadlineOf>,
    {
        let wanted = self.conn.interest();
        if wanted != self.registered {
            reactor
                .registry()
                .reregister(self.conn.source(), id.token(), wanted)?;
            self.registered = wanted;
        }
        let Some((_, at)) = self.conn.deadline() else {
            return Ok(());
        };
        if self.timer.is_some_and(|timer| timer.at() <= at) {
            return Ok(());
        }
        if let Some(timer) = self.timer.take() {
            reactor.cancel(timer);
        }
        self.timer = Some(reactor.call_at(at, DeadlineOf(id).into()));
        Ok(())
    }

    /// A deadline timer `key` fired: true if it is this connection's
    /// current one (not one replaced since).
    pub(crate) fn timer_fired(&mut self, key: TimerKey) -> bool {
        if self.timer == Some(key) {
            self.timer = None;
            return true;
        }
        false
    }

    /// The connection is going away: its timer is disarmed. (Dropping the
    /// socket closes it, and closing removes it from the epoll set, so no
    /// explicit deregister is needed.)
    pub(crate) fn disarm<H: Handler>(&mut self, reactor: &mut Reactor<H>) {
        if let Some(timer) = self.timer.take() {
            reactor.cancel(timer);
        }
    }
}
