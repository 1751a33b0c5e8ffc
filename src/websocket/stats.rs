//! What every socket adds to `/metrics`: sockets open, messages each way,
//! closes by code. Shared by the server's sockets through one `Arc`, as a
//! streamed body's pipe shares its counters (`stream::StreamStats`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Close codes counted one by one: 1000 to 1015 (RFC 6455 §7.4.1 and
/// IANA's registry); the rest are `application` (3000–4999) or `none`.
const CODES: std::ops::RangeInclusive<u16> = 1000..=1015;

/// The server's WebSocket counters.
#[derive(Debug, Default)]
pub(crate) struct SocketStats {
    open: AtomicUsize,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
    /// One per code in [`CODES`], then 3000–4999, then "no close frame".
    closes: [AtomicU64; 18],
}

/// How a socket ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseKind {
    /// A close frame with this registered code (1000–1015).
    Code(u16),
    /// A close frame with an application's code (3000–4999).
    Application,
    /// The connection ended with no close frame (RFC 6455's 1006).
    None,
}

impl CloseKind {
    /// The label `/metrics` gives it.
    pub(crate) fn label(self) -> String {
        match self {
            CloseKind::Code(code) => code.to_string(),
            CloseKind::Application => "application".into(),
            CloseKind::None => "none".into(),
        }
    }

    fn slot(self) -> usize {
        match self {
            CloseKind::Code(code) => usize::from(code - CODES.start()),
            CloseKind::Application => 16,
            CloseKind::None => 17,
        }
    }

    /// Every kind, in the order `/metrics` lists them.
    fn all() -> impl Iterator<Item = CloseKind> {
        CODES
            .map(CloseKind::Code)
            .chain([CloseKind::Application, CloseKind::None])
    }
}

impl From<Option<u16>> for CloseKind {
    fn from(code: Option<u16>) -> CloseKind {
        match code {
            Some(code) if CODES.contains(&code) => CloseKind::Code(code),
            Some(_) => CloseKind::Application,
            None => CloseKind::None,
        }
    }
}

impl SocketStats {
    pub(crate) fn opened(&self) {
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn closed(&self, how: CloseKind) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        self.closes[how.slot()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn message_in(&self) {
        self.messages_in.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn messages_out(&self, count: u64) {
        self.messages_out.fetch_add(count, Ordering::Relaxed);
    }

    /// Sockets open now.
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Whole messages received, and sent.
    pub(crate) fn messages(&self) -> (u64, u64) {
        (
            self.messages_in.load(Ordering::Relaxed),
            self.messages_out.load(Ordering::Relaxed),
        )
    }

    /// Sockets closed so far, by how, the ones that happened.
    pub(crate) fn closes(&self) -> impl Iterator<Item = (CloseKind, u64)> + '_ {
        CloseKind::all()
            .map(|how| (how, self.closes[how.slot()].load(Ordering::Relaxed)))
            .filter(|&(_, count)| count > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::{CloseKind, SocketStats};

    #[test]
    fn closes_are_counted_by_code_application_or_none() {
        let stats = SocketStats::default();
        for code in [Some(1000), Some(1000), Some(1002), Some(4001), None] {
            stats.opened();
            stats.closed(code.into());
        }
        let closes: Vec<_> = stats.closes().collect();
        assert_eq!(
            closes,
            [
                (CloseKind::Code(1000), 2),
                (CloseKind::Code(1002), 1),
                (CloseKind::Application, 1),
                (CloseKind::None, 1),
            ]
        );
        assert_eq!(stats.open(), 0);
    }
}
