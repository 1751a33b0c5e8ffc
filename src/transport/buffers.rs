//! A transport's two buffers — input not yet consumed, output not yet
//! written — and the spares idle connections lend each other.
//!
//! This is all a protocol sees of the transport: it decodes from
//! [`Buffers::input`], says how much it used with [`Buffers::consume`],
//! and encodes into [`Buffers::output`]. No socket here, so a protocol
//! driven through `Buffers` alone is sans-IO (its unit tests and the fuzz
//! harness hand it bytes).
//!
//! Cursors instead of draining: pipelined requests are decoded without
//! moving the bytes behind them, and written bytes stay until the whole
//! buffer is out.
//!
//! Spares: a connection needs its buffers only while a request is in
//! flight, and ten thousand idle keep-alive connections holding 16 KiB
//! each would cost megabytes for nothing. So a transport that falls idle
//! *lends* its buffers (emptied, capacity kept) to the server's
//! [`SpareBuffers`] and *takes* a set back when bytes arrive. A busy
//! keep-alive connection lends and takes back once per request, cycling
//! the same buffers, so steady traffic still allocates nothing. nginx does
//! the same with its connection buffers.

/// At most this many buffers of each kind are kept spare; beyond, a lent
/// buffer is freed. Enough for a burst of that many connections turning
/// busy at once without allocating, small enough not to hoard memory.
pub(crate) const KEEP: usize = 256;

/// Input read and not consumed, output encoded and not written.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    /// `input[consumed..]` is what the protocol has not used yet.
    input: Vec<u8>,
    consumed: usize,
    /// `output[sent..]` is not yet written.
    output: Vec<u8>,
    sent: usize,
    /// Bytes written over the transport's life (output offsets count from
    /// its first byte: `unwritten.rs` in the connection uses them).
    written: u64,
    /// The peer's end of input (its FIN, or TLS's close_notify) was read:
    /// no byte will follow those in `input`.
    ended: bool,
}

impl Buffers {
    /// The input the protocol has not consumed.
    pub(crate) fn input(&self) -> &[u8] {
        &self.input[self.consumed..]
    }

    /// The protocol used `n` bytes of [`input`](Self::input).
    pub(crate) fn consume(&mut self, n: usize) {
        self.consumed += n;
        debug_assert!(self.consumed <= self.input.len());
    }

    /// Bytes waiting to be consumed.
    pub(crate) fn unconsumed(&self) -> usize {
        self.input.len() - self.consumed
    }

    /// True once no byte can follow what `input` holds.
    pub(crate) fn input_ended(&self) -> bool {
        self.ended
    }

    /// The output buffer, to append to.
    pub(crate) fn output(&mut self) -> &mut Vec<u8> {
        &mut self.output
    }

    /// Bytes encoded and not yet written.
    pub(crate) fn unwritten(&self) -> usize {
        self.output.len() - self.sent
    }

    /// Bytes written over the transport's life.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// The output offset just past the last byte in the output buffer.
    pub(crate) fn output_end(&self) -> u64 {
        self.written + self.unwritten() as u64
    }

    /// Appends bytes just read (for the transport's `read`). Compacts first:
    /// only unconsumed bytes are kept when the buffer grows.
    pub(crate) fn received(&mut self, bytes: &[u8]) {
        if self.consumed > 0 {
            self.input.drain(..self.consumed);
            self.consumed = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// Empties a fully consumed input buffer, so reads start at its front.
    pub(crate) fn reset_consumed(&mut self) {
        if self.consumed == self.input.len() {
            self.input.clear();
            self.consumed = 0;
        }
    }

    /// The peer's end of input was read.
    pub(crate) fn end_input(&mut self) {
        self.ended = true;
    }

    /// What is left to write (for the transport's `write`).
    pub(crate) fn to_write(&self) -> &[u8] {
        &self.output[self.sent..]
    }

    /// `n` bytes of [`to_write`](Self::to_write) went out.
    pub(crate) fn wrote(&mut self, n: usize) {
        self.sent += n;
        self.written += n as u64;
        if self.sent == self.output.len() {
            self.output.clear();
            self.sent = 0;
        }
    }

    /// Nothing buffered either way.
    pub(crate) fn is_idle(&self) -> bool {
        self.unconsumed() == 0 && self.output.is_empty()
    }

    /// Takes buffers from `spares` if these were lent.
    pub(crate) fn take(&mut self, spares: &mut SpareBuffers) {
        if self.input.capacity() == 0 {
            self.input = spares.inputs.pop().unwrap_or_default();
        }
        if self.output.capacity() == 0 {
            self.output = spares.outputs.pop().unwrap_or_default();
        }
    }

    /// Lends both buffers to `spares` if nothing is buffered.
    pub(crate) fn lend(&mut self, spares: &mut SpareBuffers) {
        if !self.is_idle() {
            return;
        }
        self.consumed = 0;
        keep(&mut spares.inputs, std::mem::take(&mut self.input));
        keep(&mut spares.outputs, std::mem::take(&mut self.output));
    }
}

/// The server's stock of spare buffers. Input and output are kept apart:
/// each settles at the size its role needs, and mixing them would make
/// both regrow.
#[derive(Debug, Default)]
pub(crate) struct SpareBuffers {
    inputs: Vec<Vec<u8>>,
    outputs: Vec<Vec<u8>>,
}

/// Keeps `buffer`, emptied, unless it never grew or enough are kept
/// already (then it is freed).
fn keep(list: &mut Vec<Vec<u8>>, mut buffer: Vec<u8>) {
    buffer.clear();
    if buffer.capacity() > 0 && list.len() < KEEP {
        list.push(buffer);
    }
}
