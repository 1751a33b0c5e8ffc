//! Fuzz target: the WebSocket frame decoder, fed one stream whole, in
//! pieces and byte by byte, driven by `eddy::fuzzing::check_websocket`
//! (input layout and checks in its module doc, `src/fuzzing/websocket.rs`).
//! The logic lives in the library so that `tests/fuzz_corpus.rs` replays
//! the corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    eddy::fuzzing::check_websocket(data);
});
