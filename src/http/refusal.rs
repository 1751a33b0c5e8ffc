//! Why the codec refused a request: the status to answer with, and one
//! short line a person can act on (`missing Host header`).
//!
//! A bare `400 Bad Request` leaves whoever sent the bytes to guess which of
//! some thirty rules they broke (a newcomer did, issue 20). The decoder
//! already tells the cases apart where it refuses them; a [`Refusal`] keeps
//! that knowledge with the status as far as the answer's body, `--trace`
//! and the access log. The reason is a `&'static str`: a refusal costs no
//! allocation to make or to carry, and the happy path never makes one.
//!
//! Reasons are lowercase phrases without a final period, naming the field
//! or the part of the message at fault, like nginx's error-log lines
//! ("client sent invalid header line"). They say what was wrong, never echo
//! the client's bytes: an answer or a log line must not carry what a client
//! chose to put there (see `log/access.rs`).

use super::status::StatusCode;

/// A refusal of the bytes on a connection: answer `status`, then close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The status to answer with (400, 413, 414, 417, 431, 501, 505).
    pub(crate) status: StatusCode,
    /// What was wrong, in a few words: `missing Host header`.
    pub(crate) reason: &'static str,
}

impl Refusal {
    /// A refusal with `status` because of `reason`.
    pub(crate) const fn new(status: StatusCode, reason: &'static str) -> Refusal {
        Refusal { status, reason }
    }

    /// A `400 Bad Request` because of `reason`: by far the most common.
    pub(crate) const fn bad(reason: &'static str) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, reason)
    }
}
