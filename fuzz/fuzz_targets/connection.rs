//! Fuzz target: one connection's read side (decoder + response-slot queue),
//! driven by `eddy::fuzzing::check_connection`, which splits `data` into
//! reads (the first byte picks the split points) and panics if an invariant
//! breaks: never more responses than requests, responses in request order,
//! nothing read, decoded or written after a framing error, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    eddy::fuzzing::check_connection(data);
});
