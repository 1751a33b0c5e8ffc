//! A panic in a job or a handler, caught and kept as data instead of
//! printed.
//!
//! `catch_unwind` stops a panic from killing the worker (or the loop), but
//! Rust's panic hook has already run by then: it writes a report to stderr
//! — `thread 'eddy-worker-0' panicked at src/demo.rs:83:34:` and the
//! message, plus a note on `RUST_BACKTRACE` — for every panic. Any client
//! that can reach `/fail` could flood stderr that way, and with
//! `RUST_BACKTRACE=1` the hook also resolves a backtrace, which loads the
//! binary's debug information into memory for good (~36 MB measured, see
//! docs/operations.md). So [`catch`] installs, once per process, a hook
//! that *chains*: on a thread inside `catch`, it records the message, the
//! place and (only if [`set_backtraces`] asked) a backtrace into a
//! [`PanicReport`]; everywhere else it calls the hook that was there before,
//! so the host program's own panics are reported exactly as they were.
//!
//! The hook is process-wide because Rust's is: a program that sets its own
//! hook *after* eddy started replaces this one, and job panics are then
//! reported by that hook instead (still caught; nothing else changes).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

/// What a caught panic said, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanicReport {
    /// The text it was raised with (`panic!("...")`).
    pub message: String,
    /// `file:line:column` of the `panic!`, when the hook saw it.
    pub location: Option<String>,
    /// The backtrace, only when asked for ([`Config::backtraces`](crate::Config::backtraces)).
    pub backtrace: Option<String>,
}

impl fmt::Display for PanicReport {
    /// `message (at src/demo.rs:83:34)`: one line; the backtrace, if any,
    /// is not part of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(location) = &self.location {
            write!(f, " (at {location})")?;
        }
        Ok(())
    }
}

/// Whether the hook captures backtraces. Off by default: capturing is
/// cheap, but resolving one to text loads the debug information (see the
/// module doc).
static BACKTRACES: AtomicBool = AtomicBool::new(false);

static INSTALL: Once = Once::new();

thread_local! {
    /// True while this thread runs code under [`catch`].
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// What the hook recorded for the panic now unwinding on this thread.
    static CAUGHT: RefCell<Option<PanicReport>> = const { RefCell::new(None) };
}

/// Turns backtraces in [`PanicReport`]s on or off, for the whole process.
pub(crate) fn set_backtraces(on: bool) {
    BACKTRACES.store(on, Ordering::Relaxed);
}

/// Runs `f`, and turns a panic in it into a [`PanicReport`] without
/// anything being printed.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, PanicReport> {
    INSTALL.call_once(install_hook);
    let outer = CATCHING.with(|catching| catching.replace(true));
    // AssertUnwindSafe: what `f` touches is either dropped with the panic
    // (a job owns its data) or only read afterwards (a handler's request).
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|catching| catching.set(outer));
    result.map_err(|payload| {
        CAUGHT
            .with(|caught| caught.borrow_mut().take())
            // No record: another hook replaced ours; the payload still has
            // the message.
            .unwrap_or_else(|| PanicReport {
                message: payload_text(&*payload).to_string(),
                location: None,
                backtrace: None,
            })
    })
}

/// Puts the chaining hook in place (see the module doc).
fn install_hook() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !CATCHING.with(Cell::get) {
            return previous(info);
        }
        let backtrace = BACKTRACES
            .load(Ordering::Relaxed)
            .then(|| std::backtrace::Backtrace::force_capture().to_string());
        let report = PanicReport {
            message: payload_text(info.payload()).to_string(),
            location: info.location().map(ToString::to_string),
            backtrace,
        };
        CAUGHT.with(|caught| *caught.borrow_mut() = Some(report));
    }));
}

/// The text a panic was raised with (`panic!("...")` carries a `&str` or a
/// `String`; anything else is unusual enough to just say so).
fn payload_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(a panic payload that is not text)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_becomes_a_report_with_its_place() {
        let report = catch(|| -> u32 { panic!("job {} failed", 7) }).unwrap_err();
        assert_eq!(report.message, "job 7 failed");
        let location = report.location.as_deref().unwrap();
        assert!(location.starts_with("src/panic_report.rs:"), "{location}");
        assert_eq!(report.backtrace, None);
        assert!(report
            .to_string()
            .starts_with("job 7 failed (at src/panic_report.rs:"));
        assert_eq!(catch(|| 5), Ok(5));
    }
}
