//! Replays the committed fuzz corpus on the stable toolchain, in every
//! `cargo test`.
//!
//! libFuzzer needs nightly flags and a separate crate (`fuzz/`), so the
//! fuzzer itself runs only when someone starts it. What it learned does not
//! have to wait for that: every input under `fuzz/corpus/<target>/` (the
//! minimised corpus the runs grew) and `fuzz/seeds/<target>/` (the seeds,
//! hand-made, or for `websocket` written by a unit test) goes through the
//! same library entry point the target calls:
//! `eddy::fuzzing::check_connection`, `check_decoder` or (with the
//! `websocket` feature, a default) `check_websocket`. A change that breaks
//! an invariant one of those inputs reaches fails here, with the file's
//! name, before anyone fuzzes again.
//!
//! An empty or missing directory fails too: a replay of nothing would pass
//! forever without anyone noticing the corpus was lost.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Every input file of one target in one of `fuzz/`'s input directories
/// (`corpus` or `seeds`), sorted so that failures name files in a stable
/// order.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no inputs", dir.display());
    files
}

/// Runs `check` on every corpus and seed input of `target`; fails naming
/// each input that panicked (all of them, not just the first).
fn replay(target: &str, check: fn(&[u8])) {
    let mut failed = Vec::new();
    let mut count = 0;
    for kind in ["corpus", "seeds"] {
        for path in inputs(kind, target) {
            let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // One panicking input must not hide the others: catch each, and
            // let the default hook print its message next to the file name.
            if panic::catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
                eprintln!("^ panicked on {}", path.display());
                failed.push(path);
            }
            count += 1;
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} of {count} inputs broke an invariant: {failed:#?}",
        failed.len()
    );
    println!("{target}: {count} inputs replayed");
}

#[test]
fn connection_corpus_keeps_the_invariants() {
    replay("connection", eddy::fuzzing::check_connection);
}

#[test]
fn decoder_corpus_keeps_the_invariants() {
    replay("decoder", eddy::fuzzing::check_decoder);
}

#[cfg(feature = "websocket")]
#[test]
fn websocket_corpus_keeps_the_invariants() {
    replay("websocket", eddy::fuzzing::check_websocket);
}
