//! Standard output for every command: one place that knows a closed pipe (`riffle explain |
//! head -1`) is not an error. `println!` panics when the reader has gone away; [`line`] (used
//! through the `out!` macro) returns [`StdoutClosed`] instead, the command stops at its next
//! line, and `main` exits quietly with status 0, as `cat` or `grep` do under `head`.
//!
//! Invariant: no command writes to stdout except through here (`riffle local`'s live table,
//! drawn by indicatif on a terminal, is the one exception).

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// The reader of standard output went away (EPIPE): nothing more can be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// Set once a write found stdout closed; every later write is refused without trying.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` and a newline to stdout. A closed pipe is [`StdoutClosed`]; any other write
/// error is returned as it is.
pub(crate) fn line(text: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    if CLOSED.load(Ordering::Relaxed) {
        return Err(StdoutClosed.into());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_fmt(text)
        .and_then(|()| stdout.write_all(b"\n"))
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Err(StdoutClosed.into())
        }
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
    }
}

/// Whether `error` is (or was caused by) a closed stdout, which `main` treats as a quiet,
/// successful end.
pub(crate) fn is_closed(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<StdoutClosed>())
}

/// `println!` that returns `anyhow::Result<()>` ([`line`]): `out!("{x}")?`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::tools::output::line(format_args!($($arg)*))
    };
}
pub(crate) use out;
