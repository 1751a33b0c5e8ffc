//! The bounds a connection's decoder holds a client to: a leaf of its own,
//! so the decoder and the head parser both read it and neither imports the
//! other for it (every one of them is in docs/limits.md).

/// Bounds on what a client may make the server hold. Each exists because
/// without it a client could make us buffer or scan without end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Largest head (request line, fields, empty line) in bytes (431 beyond).
    /// Also bounds a chunked body's trailer section.
    pub(crate) max_head: usize,
    /// Most header fields in one head (431 beyond).
    pub(crate) max_headers: usize,
    /// Longest request-target in bytes (414 beyond).
    pub(crate) max_target: usize,
    /// Largest body in bytes, after de-chunking (413 beyond).
    pub(crate) max_body: usize,
}

impl Default for Limits {
    /// 8 KiB heads and targets, 64 fields, 1 MiB bodies.
    fn default() -> Self {
        Limits {
            max_head: 8192,
            max_headers: 64,
            max_target: 8192,
            max_body: 1 << 20,
        }
    }
}
