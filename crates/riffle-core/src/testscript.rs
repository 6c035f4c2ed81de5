//! What every scenario script shares (goldenscript, in the spirit of toydb's test scripts):
//! the function's scripted answers, how outcomes and ranges print, and running a script. Each
//! machine, and each runtime mapping, has its own runner and its scripts next to it
//! (`testscripts/`): here `kinesis/shard/tests/scripts.rs` and `sqs/poller/tests/scripts.rs`; in
//! riffle-runtime the Kinesis and SQS mappings' `tests/scripts.rs`; in riffle-testkit the
//! simulations'. Every effect prints as `+MS effect`, milliseconds since T0, so a semantics
//! change is a text diff. `UPDATE_GOLDENFILES=1 cargo test -p <crate>` rewrites the transcripts
//! for review; a script added needs its runner's file touched (the test per file is generated
//! when the runner compiles).
//!
//! Test support only: compiled for riffle-core's tests and, with the `testscript` feature, for
//! the dev-dependents that drive the machines.

use std::error::Error;

use crate::invocation::Outcome;

/// The outcome a script names: `ok`, `error`, `throttle`, `service_error`, or `fail` with the
/// items (sequence numbers or message ids) reported in `batchItemFailures`.
pub fn outcome(kind: &str, items: &[String]) -> Result<Outcome, Box<dyn Error>> {
    Ok(match kind {
        "ok" => Outcome::Success(Vec::new()),
        "error" => Outcome::function_error("Error", "scripted"),
        "throttle" => Outcome::Throttled,
        "service_error" => Outcome::ServiceError("scripted".into()),
        "fail" if !items.is_empty() => {
            let items: Vec<String> = items
                .iter()
                .map(|item| format!(r#"{{"itemIdentifier":"{item}"}}"#))
                .collect();
            let body = format!(r#"{{"batchItemFailures":[{}]}}"#, items.join(","));
            Outcome::Success(body.into_bytes())
        }
        "fail" => return Err("fail needs the failed items".into()),
        other => return Err(format!("unknown answer {other}").into()),
    })
}

/// An outcome as a transcript shows it.
pub fn show_outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Success(body) if body.is_empty() => "ok".to_owned(),
        Outcome::Success(body) => format!("ok {}", String::from_utf8_lossy(body)),
        Outcome::FunctionError { error_type, .. } => format!("function error {error_type}"),
        Outcome::Throttled => "throttled".to_owned(),
        Outcome::ServiceError(text) => format!("service error {text}"),
    }
}

/// `"3"` → [3], `"1..4"` → [1, 2, 3, 4].
pub fn parse_range(text: &str) -> Result<Vec<u64>, Box<dyn Error>> {
    Ok(match text.split_once("..") {
        Some((first, last)) => (first.parse()?..=last.parse()?).collect(),
        None => vec![text.parse()?],
    })
}

/// `[1, 2, 3]` → `1..3` (with `prefix` before each number); anything else as a list.
pub fn show_range(numbers: &[u64], prefix: &str) -> String {
    match (numbers.first(), numbers.last()) {
        (Some(first), Some(last)) if numbers.windows(2).all(|w| w[1] == w[0] + 1) => {
            if first == last {
                format!("{prefix}{first}")
            } else {
                format!("{prefix}{first}..{prefix}{last}")
            }
        }
        _ => numbers
            .iter()
            .map(|n| format!("{prefix}{n}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// A scenario runner: performs one command of a script, writing what it prints to `out`.
pub trait Script {
    /// The commands its scripts use (derive `goldenscript::Command`).
    type Command: for<'a> TryFrom<&'a goldenscript::Command, Error = Box<dyn Error>>;

    /// Performs `command`; an error fails the script (or is the output of a `!` command).
    fn perform(&mut self, command: &Self::Command, out: &mut String) -> Result<(), Box<dyn Error>>;
}

/// A [`Script`] as goldenscript runs it.
struct Scripted<S>(S);

impl<S: Script> goldenscript::Runner for Scripted<S> {
    type Command = S::Command;

    fn run(
        &mut self,
        command: &S::Command,
        _context: &goldenscript::Context,
    ) -> Result<String, Box<dyn Error>> {
        let mut out = String::new();
        self.0.perform(command, &mut out)?;
        Ok(out)
    }
}

/// Runs the script at `path` with `script`, failing the test on a parse error or a mismatch.
pub fn run(script: impl Script, path: &std::path::Path) {
    goldenscript::run(&mut Scripted(script), path)
        .expect("the script runs and its transcript matches")
}
