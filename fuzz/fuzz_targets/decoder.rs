//! Fuzz target: the request decoder, fed one stream in pieces, driven by
//! `eddy::fuzzing::check_decoder` (input layout and checks in its module
//! doc, `src/fuzzing/decoder.rs`). The logic lives in the library so that
//! `tests/fuzz_corpus.rs` replays the corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    eddy::fuzzing::check_decoder(data);
});
