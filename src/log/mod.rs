//! What a server reports, and to whom: an access record per answered
//! request, and the events of its life (accept errors, a drain, a panic).
//!
//! eddy prints nothing by itself. A program that wants an access log or the
//! server's events gives [`Config`](crate::Config) a hook for each — a
//! closure, called on the loop thread (so it should be quick: format a line,
//! push it to a channel). The `eddy` binary's hooks write the access log to
//! stdout and the events to stderr, in the formats docs/operations.md shows
//! ([`AccessRecord`]'s `Display` — nginx's combined format — or its
//! [`json`](AccessRecord::json), and [`ServerEvent`]'s `Display`). The
//! access record and its two formats are in `log/access.rs`.

pub(crate) mod access;

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::panic_report::PanicReport;
pub(crate) use access::AccessRecord;

/// The access-log hook: called once per answer, in request order.
pub type AccessLog = Arc<dyn Fn(&AccessRecord<'_>) + Send + Sync>;

/// The events hook: called once per event.
pub type EventLog = Arc<dyn Fn(&ServerEvent<'_>) + Send + Sync>;

/// Something the server has to say about itself.
#[derive(Debug)]
pub enum ServerEvent<'a> {
    /// `accept` failed (EMFILE, ENFILE, ENOBUFS, ...): accepting pauses for
    /// `backoff`.
    AcceptFailed {
        /// What accept said.
        error: &'a io::Error,
        /// How long accepting pauses.
        backoff: Duration,
    },
    /// A drain began, with this many connections open, bounded by this.
    Draining {
        /// Connections open when it began.
        connections: usize,
        /// `Config::shutdown_timeout`.
        timeout: Duration,
    },
    /// A second SIGINT/SIGTERM during the drain: stopping at once.
    SecondSignal,
    /// The drain ran out of time with this many connections still busy.
    ShutdownTimedOut {
        /// Connections abandoned.
        abandoned: usize,
    },
    /// The certificate and key were read again (SIGHUP, or
    /// `ServerHandle::reload_tls`): new handshakes use them.
    TlsReloaded {
        /// The new certificate's expiry, seconds since the Unix epoch.
        not_after: Option<u64>,
    },
    /// A reload failed; the old certificate serves on.
    TlsReloadFailed {
        /// Which file, and why.
        error: &'a dyn std::error::Error,
    },
    /// A job or a handler panicked; its client got a 500.
    Panicked {
        /// `job 3`, or `handler`.
        who: &'a str,
        /// The route's name (`/fail`).
        route: &'a str,
        /// What the panic said, where (and its backtrace, if asked for).
        report: &'a PanicReport,
    },
}

impl fmt::Display for ServerEvent<'_> {
    /// The line the `eddy` binary writes on stderr (a panic's backtrace,
    /// when there is one, follows on the next lines).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerEvent::AcceptFailed { error, backoff } => {
                write!(f, "eddy: accept failed ({error}); pausing for {backoff:?}")
            }
            ServerEvent::Draining {
                connections,
                timeout,
            } => write!(
                f,
                "eddy: draining {connections} connection(s), at most {timeout:?}"
            ),
            ServerEvent::SecondSignal => f.write_str("eddy: second signal, exiting now"),
            ServerEvent::TlsReloaded { not_after } => {
                f.write_str("eddy: TLS certificate reloaded")?;
                match not_after {
                    Some(t) => write!(f, " (it expires at {t}, Unix time)"),
                    None => Ok(()),
                }
            }
            ServerEvent::TlsReloadFailed { error } => write!(
                f,
                "eddy: TLS reload failed, the old certificate serves on: {error}"
            ),
            ServerEvent::ShutdownTimedOut { abandoned } => write!(
                f,
                "eddy: shutdown timeout passed; abandoned {abandoned} connection(s)"
            ),
            ServerEvent::Panicked { who, route, report } => {
                write!(f, "eddy: {who} on {route} panicked: {report}")?;
                if let Some(backtrace) = &report.backtrace {
                    write!(f, "\n{}", backtrace.trim_end())?;
                }
                Ok(())
            }
        }
    }
}
